//! Sans-I/O HTTP/1.1 client connection: request heads out, response events in.
//!
//! # States (all transitions live in this file)
//!
//! ```text
//!  Idle --send_request--> AwaitingHead --head--> Body --last byte--> Idle (keep-alive)
//!                              |  ^                |                 Closed (otherwise)
//!                              |  +-- 1xx ---------+
//!                              +--101 / CONNECT 2xx--> Upgraded (raw byte pipe)
//!  any --protocol error--> Failed (nothing more is parsed)
//! ```
//!
//! One request is in flight at a time (no pipelining). The body of a response is framed
//! by [`Connection::frame`], which walks RFC 9112 §6.3 in order. Bytes that arrive when no
//! response is expected never start a response: they only make the connection
//! unusable (a desynchronised keep-alive connection is how responses get mixed up).

use std::fmt;

use crate::decode::{DecodeError, Decoder};

/// Raw header pairs, in the order received.
pub type Headers = Vec<(Vec<u8>, Vec<u8>)>;

/// Decoded output per Data event.
const MAX_DATA_EVENT: usize = 256 * 1024;
/// Decoded output per `receive` call; the rest waits for the next call.
const MAX_DECODED_PER_CALL: usize = 4 * 1024 * 1024;
/// Header slots on the stack for parsing a head (more come from the heap if allowed).
const INLINE_HEADER_SLOTS: usize = 32;

/// Size limits for response heads and trailers.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest status line (and chunk-size line).
    pub max_line_size: usize,
    /// Longest header line, name and value together.
    pub max_field_size: usize,
    /// Most header (or trailer) fields.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_size: 8190,
            max_field_size: 8190,
            max_headers: 128,
        }
    }
}

/// Per-request choices that change how the response is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    /// The request was HEAD: the response has no body whatever its headers say.
    pub head: bool,
    /// The request was CONNECT: a 2xx answer turns the connection into a tunnel.
    pub connect: bool,
    /// The request asked to switch protocols (it carried `Upgrade`): a 101 answer turns
    /// the connection into that protocol's pipe. A 101 nobody asked for ends the
    /// response at its head, and the connection is not reused.
    pub upgrade: bool,
    /// Decode the body per Content-Encoding.
    pub decompress: bool,
    /// Fail once the decoded body passes this many bytes.
    pub max_decompressed_size: Option<u64>,
    /// aiohttp's `read_until_eof=False`: a response framed by neither Content-Length nor
    /// chunked coding ends at its head (and the connection is not reused).
    pub body_needs_framing: bool,
}

/// The head of a final response and the framing facts the caller needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: Vec<u8>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u8,
    /// Header fields as received.
    pub headers: Headers,
    /// Content-Length, when it frames the body.
    pub content_length: Option<u64>,
    /// True when the body is chunked.
    pub chunked: bool,
    /// True when the connection may be kept for another request.
    pub keep_alive: bool,
    /// Content-Type value.
    pub content_type: Option<Vec<u8>>,
    /// Content-Encoding value.
    pub content_encoding: Option<Vec<u8>>,
    /// Location value.
    pub location: Option<Vec<u8>>,
    /// True when a Set-Cookie header is present.
    pub has_set_cookie: bool,
}

/// A 1xx response other than 101.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Informational {
    /// Status code (100, 102, 103, ...).
    pub status: u16,
    /// Its header fields.
    pub headers: Headers,
}

/// What the engine saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A 1xx response before the final one.
    Informational(Informational),
    /// The final response head.
    Head(ResponseHead),
    /// Body bytes (decoded if asked), or raw bytes on an upgraded connection.
    Data(Vec<u8>),
    /// The end of an HTTP chunk of a chunked body, after its `Data` (only for a chunk
    /// that brought body bytes: one that the decoder turned into nothing yet has none).
    ChunkEnd,
    /// The end of the body, with trailers.
    End(Headers),
    /// A protocol failure: always the last event.
    Error(ProtocolError),
}

/// A response that breaks RFC 9112 (or the configured limits), or a body cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The status line (or a chunk-size line) is longer than `max_line_size`.
    LineTooLong(usize),
    /// A header or trailer line is longer than `max_field_size`.
    FieldTooLong(usize),
    /// More header or trailer fields than `max_headers`.
    TooManyHeaders(usize),
    /// The status line is malformed.
    InvalidStatusLine(String),
    /// A header line is malformed (obs-fold, space before the colon, bad bytes).
    InvalidHeader(String),
    /// Content-Length is not a number, overflows, or has conflicting values.
    InvalidContentLength,
    /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.3 rule 3).
    ConflictingFraming,
    /// A malformed chunk size, extension or chunk terminator.
    InvalidChunk(String),
    /// The peer closed before the body was complete.
    IncompleteBody {
        /// Bytes promised by Content-Length, if known.
        expected: Option<u64>,
        /// Bytes received.
        received: u64,
    },
    /// The peer closed before any response.
    ClosedBeforeResponse,
    /// Bytes arrived where no response was expected.
    UnexpectedData,
    /// The body could not be decoded.
    Decode(String),
    /// The decoded body passed `max_decompressed_size`.
    DecompressedTooLarge(u64),
    /// More stacked encodings than allowed.
    TooManyEncodings,
}

impl ProtocolError {
    /// A stable snake_case name for the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolError::LineTooLong(_) => "line_too_long",
            ProtocolError::FieldTooLong(_) => "field_too_long",
            ProtocolError::TooManyHeaders(_) => "too_many_headers",
            ProtocolError::InvalidStatusLine(_) => "invalid_status_line",
            ProtocolError::InvalidHeader(_) => "invalid_header",
            ProtocolError::InvalidContentLength => "invalid_content_length",
            ProtocolError::ConflictingFraming => "conflicting_framing",
            ProtocolError::InvalidChunk(_) => "invalid_chunk",
            ProtocolError::IncompleteBody { expected: None, .. } => "incomplete_chunked_body",
            ProtocolError::IncompleteBody { .. } => "incomplete_body",
            ProtocolError::ClosedBeforeResponse => "closed_before_response",
            ProtocolError::UnexpectedData => "unexpected_data",
            ProtocolError::Decode(_) => "decode_error",
            ProtocolError::DecompressedTooLarge(_) => "decompressed_too_large",
            ProtocolError::TooManyEncodings => "too_many_encodings",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::LineTooLong(max) => {
                write!(f, "Got more than {max} bytes when reading status line")
            }
            ProtocolError::FieldTooLong(max) => {
                write!(
                    f,
                    "Got more than {max} bytes when reading header line: header value is too long"
                )
            }
            ProtocolError::TooManyHeaders(max) => write!(f, "Too many headers (more than {max})"),
            ProtocolError::InvalidStatusLine(why) => write!(f, "Invalid status line: {why}"),
            ProtocolError::InvalidHeader(why) => write!(f, "Invalid header: {why}"),
            ProtocolError::InvalidContentLength => {
                write!(f, "Invalid or conflicting Content-Length")
            }
            ProtocolError::ConflictingFraming => {
                write!(f, "Content-Length together with Transfer-Encoding")
            }
            ProtocolError::InvalidChunk(why) => write!(f, "Invalid chunked encoding: {why}"),
            ProtocolError::IncompleteBody {
                expected: Some(n),
                received,
            } => {
                // aiohttp's wording
                write!(
                    f,
                    "Not enough data to satisfy content length header (received {received} of {n} bytes)."
                )
            }
            ProtocolError::IncompleteBody { expected: None, .. } => {
                write!(f, "Not enough data to satisfy transfer length header.")
            }
            ProtocolError::ClosedBeforeResponse => write!(f, "Server disconnected"),
            ProtocolError::UnexpectedData => {
                write!(f, "Data received when no response was expected")
            }
            ProtocolError::Decode(why) => write!(f, "Can not decode content-encoding: {why}"),
            ProtocolError::DecompressedTooLarge(max) => {
                write!(f, "Decompressed body exceeds {max} bytes")
            }
            ProtocolError::TooManyEncodings => write!(f, "Too many content encodings"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A request the engine refuses to write; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The method is empty or not an RFC 9110 token.
    InvalidMethod,
    /// The target contains CR, LF, NUL, space or another control byte.
    InvalidTarget,
    /// A header name that is not a token.
    InvalidHeaderName(String),
    /// A header value with a control character (CR, LF, NUL, DEL, ...; HTAB is allowed).
    InvalidHeaderValue(String),
    /// A request is already in flight, or the connection cannot be reused.
    Busy,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidMethod => {
                write!(f, "Invalid method: it must be a non-empty token")
            }
            RequestError::InvalidTarget => {
                write!(f, "Invalid request target: control characters or spaces")
            }
            RequestError::InvalidHeaderName(n) => {
                write!(f, "Invalid header name {n:?}: it must be a token")
            }
            RequestError::InvalidHeaderValue(n) => {
                write!(
                    f,
                    "Forbidden control character in the value of header {n:?} \
                     (potential header injection)"
                )
            }
            RequestError::Busy => write!(f, "The connection is busy or closed"),
        }
    }
}

impl std::error::Error for RequestError {}

/// RFC 9110 §5.6.2 tchar.
fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Validate and serialise a request head into `out` (nothing is written on error).
///
/// ```
/// use aioclient_core::h1::encode_head;
/// let mut out = Vec::new();
/// encode_head(b"GET", b"/", &[(b"Host", b"example.com")], 1, &mut out).unwrap();
/// assert_eq!(out, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
/// assert!(encode_head(b"GET", b"/", &[(b"X", b"a\r\nb")], 1, &mut Vec::new()).is_err());
/// ```
pub fn encode_head(
    method: &[u8],
    target: &[u8],
    headers: &[(&[u8], &[u8])],
    version_minor: u8,
    out: &mut Vec<u8>,
) -> Result<(), RequestError> {
    if !is_token(method) {
        return Err(RequestError::InvalidMethod);
    }
    if target.is_empty() || target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(RequestError::InvalidTarget);
    }
    let mut size = method.len() + target.len() + 14;
    for (name, value) in headers {
        if !is_token(name) {
            return Err(RequestError::InvalidHeaderName(
                String::from_utf8_lossy(name).into_owned(),
            ));
        }
        // Control characters other than HTAB (RFC 9110 §5.5): CR/LF would split the
        // head, and the others have no business in a field value (aiohttp refuses them).
        if value.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(RequestError::InvalidHeaderValue(
                String::from_utf8_lossy(name).into_owned(),
            ));
        }
        size += name.len() + value.len() + 4;
    }
    out.reserve(size);
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(if version_minor == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk-size line.
    Size,
    /// Inside chunk data, with this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer fields after the last chunk.
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    AwaitingHead,
    Body(Framing),
    /// The body ended but decoded output is still pending.
    Draining,
    Upgraded,
    Closed,
    Failed,
}

/// One HTTP/1.1 client connection's protocol state.
pub struct Connection {
    limits: Limits,
    state: State,
    opts: RequestOptions,
    request_chunked: bool,
    buf: Vec<u8>,
    keep_alive: bool,
    /// Bytes came that no response accounts for: never reuse.
    poisoned: bool,
    received: u64,
    expected: Option<u64>,
    decoder: Option<Decoder>,
    trailers: Headers,
    /// Body bytes were delivered since the last `ChunkEnd` (or the head).
    chunk_has_data: bool,
}

enum Step {
    /// Need more bytes.
    More,
    /// Keep going with the buffer.
    Continue,
    /// Stop: failed or drained output.
    Stop,
}

impl Connection {
    /// A new idle connection with these limits.
    pub fn new(limits: Limits) -> Self {
        Connection {
            limits,
            state: State::Idle,
            opts: RequestOptions::default(),
            request_chunked: false,
            buf: Vec::new(),
            keep_alive: false,
            poisoned: false,
            received: 0,
            expected: None,
            decoder: None,
            trailers: Vec::new(),
            chunk_has_data: false,
        }
    }

    /// Change the limits for the next response.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Validate, serialise and start a request (head + optional body) into `out`.
    pub fn send_request(
        &mut self,
        method: &[u8],
        target: &[u8],
        headers: &[(&[u8], &[u8])],
        body: Option<&[u8]>,
        opts: RequestOptions,
        out: &mut Vec<u8>,
    ) -> Result<(), RequestError> {
        let chunked = headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case(b"transfer-encoding")
                && v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked")
        });
        let mut head = Vec::new();
        encode_head(method, target, headers, 1, &mut head)?;
        self.send_encoded(&head, body, chunked, opts, out)
    }

    /// Start a request whose head was made by [`encode_head`].
    pub fn send_encoded(
        &mut self,
        head: &[u8],
        body: Option<&[u8]>,
        chunked: bool,
        opts: RequestOptions,
        out: &mut Vec<u8>,
    ) -> Result<(), RequestError> {
        if self.state != State::Idle || self.poisoned {
            return Err(RequestError::Busy);
        }
        self.state = State::AwaitingHead;
        self.opts = opts;
        self.request_chunked = chunked;
        self.buf.clear();
        self.trailers.clear();
        out.extend_from_slice(head);
        if let Some(body) = body {
            self.send_body(body, true, out);
        }
        Ok(())
    }

    /// Append a piece of the request body (chunk-framed for chunked requests).
    pub fn send_body(&mut self, data: &[u8], last: bool, out: &mut Vec<u8>) {
        if self.request_chunked {
            if !data.is_empty() {
                out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
            if last {
                out.extend_from_slice(b"0\r\n\r\n");
            }
        } else {
            out.extend_from_slice(data);
        }
    }

    /// True only when idle after a complete keep-alive response, with no stray bytes.
    pub fn reusable(&self) -> bool {
        self.state == State::Idle && !self.poisoned
    }

    /// True when decoded output waits for another `receive(&[])`.
    pub fn has_pending(&self) -> bool {
        self.decoder.as_ref().is_some_and(Decoder::has_pending) || self.state == State::Draining
    }

    /// How many of the next bytes are plain body that can be handed over as they are
    /// (no decoding, no chunk framing, nothing buffered): the zero-copy path.
    pub fn passthrough_len(&self) -> Option<u64> {
        if self.decoder.is_some() || !self.buf.is_empty() || self.has_pending() {
            return None;
        }
        match self.state {
            State::Body(Framing::Length(n)) if n > 0 => Some(n),
            State::Body(Framing::Close) => Some(u64::MAX),
            _ => None,
        }
    }

    /// Account for `len` body bytes taken by the caller directly (see
    /// [`Connection::passthrough_len`]); pushes End if they complete the body.
    pub fn consume_passthrough(&mut self, len: usize, events: &mut Vec<Event>) {
        self.received += len as u64;
        if let State::Body(Framing::Length(n)) = self.state {
            let left = n - (len as u64).min(n);
            self.state = State::Body(Framing::Length(left));
            if left == 0 {
                let mut budget = MAX_DECODED_PER_CALL;
                self.finish_body(events, &mut budget);
            }
        }
    }

    /// True after a 101 response or a 2xx answer to CONNECT.
    pub fn is_upgraded(&self) -> bool {
        self.state == State::Upgraded
    }

    fn fail(&mut self, error: ProtocolError, events: &mut Vec<Event>) {
        self.state = State::Failed;
        self.buf.clear();
        self.decoder = None;
        events.push(Event::Error(error));
    }

    /// Feed bytes read from the network.
    pub fn receive(&mut self, data: &[u8], events: &mut Vec<Event>) {
        match self.state {
            State::Failed | State::Closed => return,
            State::Upgraded => {
                if !data.is_empty() {
                    events.push(Event::Data(data.to_vec()));
                }
                return;
            }
            State::Idle => {
                if !data.is_empty() {
                    // Never the start of a next response (RFC 9112 §9.3: no pipelining here).
                    self.poisoned = true;
                }
                return;
            }
            _ => {}
        }
        let mut decoded_budget = MAX_DECODED_PER_CALL;
        if self.has_pending() && !self.drain_decoder(events, &mut decoded_budget) {
            // Still pending: keep the new bytes behind the pending output.
            self.buf.extend_from_slice(data);
            return;
        }
        let mut input: &[u8] = data;
        let owned;
        if !self.buf.is_empty()
            && !matches!(
                self.state,
                State::AwaitingHead | State::Body(Framing::Chunked(_))
            )
        {
            owned = std::mem::take(&mut self.buf)
                .into_iter()
                .chain(data.iter().copied())
                .collect::<Vec<u8>>();
            input = &owned;
        }
        self.process(input, events, &mut decoded_budget);
    }

    fn process(&mut self, input: &[u8], events: &mut Vec<Event>, budget: &mut usize) {
        match self.state {
            State::AwaitingHead => {
                self.buf.extend_from_slice(input);
                if let Step::Continue = self.parse_head(events) {
                    // The head is done: what followed it belongs to the body.
                    let rest = std::mem::take(&mut self.buf);
                    self.process(&rest, events, budget);
                }
            }
            State::Body(Framing::Length(remaining)) => {
                let take = (remaining.min(input.len() as u64)) as usize;
                let (body, rest) = input.split_at(take);
                self.received += take as u64;
                self.state = State::Body(Framing::Length(remaining - take as u64));
                if !self.emit_body(body, events, budget) {
                    self.buf.extend_from_slice(rest);
                    return;
                }
                if remaining == take as u64 {
                    self.finish_body(events, budget);
                    if !rest.is_empty() {
                        self.poisoned = true; // bytes after a complete response
                    }
                }
            }
            State::Body(Framing::Close) => {
                self.received += input.len() as u64;
                self.emit_body(input, events, budget);
            }
            State::Body(Framing::Chunked(_)) => {
                let mut buffered = std::mem::take(&mut self.buf);
                buffered.extend_from_slice(input);
                self.process_chunked(buffered, events, budget);
            }
            State::Upgraded => {
                if !input.is_empty() {
                    events.push(Event::Data(input.to_vec()));
                }
            }
            State::Idle | State::Closed => {
                if !input.is_empty() {
                    self.poisoned = true;
                }
            }
            State::Draining => self.buf.extend_from_slice(input),
            State::Failed => {}
        }
    }

    /// Parse a response head from `self.buf`; leaves what follows it in `self.buf`.
    fn parse_head(&mut self, events: &mut Vec<Event>) -> Step {
        let limits = self.limits;
        // Most heads fit the slots on the stack; a larger limit gets its slots on the
        // heap only when a head needs them.
        let mut inline = [httparse::EMPTY_HEADER; INLINE_HEADER_SLOTS];
        let mut heap;
        let mut response =
            httparse::Response::new(&mut inline[..limits.max_headers.min(INLINE_HEADER_SLOTS)]);
        // A user agent accepts obs-fold in a response and reads each fold as
        // whitespace (RFC 9112 §5.2), as aiohttp does; `unfold` below.
        let mut config = httparse::ParserConfig::default();
        config.allow_obsolete_multiline_headers_in_responses(true);
        let mut parsed = config.parse_response(&mut response, &self.buf);
        if matches!(parsed, Err(httparse::Error::TooManyHeaders))
            && limits.max_headers > INLINE_HEADER_SLOTS
        {
            heap = vec![httparse::EMPTY_HEADER; limits.max_headers];
            response = httparse::Response::new(&mut heap);
            parsed = config.parse_response(&mut response, &self.buf);
        }
        let consumed = match parsed {
            Ok(httparse::Status::Partial) => {
                return match self.check_partial_head() {
                    Some(err) => {
                        self.fail(err, events);
                        Step::Stop
                    }
                    None => Step::More,
                };
            }
            Ok(httparse::Status::Complete(n)) => n,
            Err(httparse::Error::TooManyHeaders) => {
                self.fail(ProtocolError::TooManyHeaders(limits.max_headers), events);
                return Step::Stop;
            }
            Err(
                e @ (httparse::Error::Status | httparse::Error::Version | httparse::Error::NewLine),
            ) => {
                let err = if self.first_line_len() > limits.max_line_size {
                    ProtocolError::LineTooLong(limits.max_line_size)
                } else {
                    ProtocolError::InvalidStatusLine(e.to_string())
                };
                self.fail(err, events);
                return Step::Stop;
            }
            Err(e) => {
                self.fail(ProtocolError::InvalidHeader(e.to_string()), events);
                return Step::Stop;
            }
        };
        if self.first_line_len() > limits.max_line_size {
            self.fail(ProtocolError::LineTooLong(limits.max_line_size), events);
            return Step::Stop;
        }
        let status = response.code.unwrap_or(0);
        let version_minor = response.version.unwrap_or(1);
        // The reason phrase as sent: httparse gives "" for one with obs-text (bytes
        // above 0x7f, e.g. UTF-8), which aiohttp decodes and keeps.
        let reason = raw_reason(&self.buf[..consumed]).to_vec();
        let mut headers: Headers = Vec::with_capacity(response.headers.len());
        for h in response.headers.iter() {
            if h.name.len() + h.value.len() + 2 > limits.max_field_size {
                self.fail(ProtocolError::FieldTooLong(limits.max_field_size), events);
                return Step::Stop;
            }
            headers.push((h.name.as_bytes().to_vec(), unfold(h.value)));
        }
        self.buf.drain(..consumed);
        if (100..200).contains(&status) && status != 101 {
            // RFC 9110 §15.2: informational, the final response follows.
            events.push(Event::Informational(Informational { status, headers }));
            return Step::Continue;
        }
        match self.frame(status, version_minor, reason, headers, events) {
            Ok(()) => Step::Continue,
            Err(err) => {
                self.fail(err, events);
                Step::Stop
            }
        }
    }

    fn first_line_len(&self) -> usize {
        self.buf
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(self.buf.len())
    }

    /// Limits on a head that is still arriving, so a peer cannot make us buffer forever.
    fn check_partial_head(&self) -> Option<ProtocolError> {
        let limits = self.limits;
        let Some(first_end) = self.buf.iter().position(|&b| b == b'\n') else {
            return (self.buf.len() > limits.max_line_size)
                .then_some(ProtocolError::LineTooLong(limits.max_line_size));
        };
        if first_end > limits.max_line_size {
            return Some(ProtocolError::LineTooLong(limits.max_line_size));
        }
        let mut lines = 0;
        for line in self.buf[first_end + 1..].split(|&b| b == b'\n') {
            if line.len() > limits.max_field_size + 1 {
                return Some(ProtocolError::FieldTooLong(limits.max_field_size));
            }
            lines += 1;
        }
        (lines > limits.max_headers + 1)
            .then_some(ProtocolError::TooManyHeaders(limits.max_headers))
    }

    /// RFC 9112 §6.3, step by step: how the body of this response is delimited.
    fn frame(
        &mut self,
        status: u16,
        version_minor: u8,
        reason: Vec<u8>,
        headers: Headers,
        events: &mut Vec<Event>,
    ) -> Result<(), ProtocolError> {
        let mut content_length: Option<u64> = None;
        let mut transfer_encoding: Option<Vec<u8>> = None;
        let mut connection_close = false;
        let mut connection_keep_alive = false;
        let mut content_type = None;
        let mut content_encoding = None;
        let mut location = None;
        let mut has_set_cookie = false;
        for (name, value) in &headers {
            // By length first: most headers are none of these and cost one comparison.
            match name.len() {
                14 if name.eq_ignore_ascii_case(b"content-length") => {
                    // Repeated or comma-listed values must all agree (§6.3 rule 5).
                    for part in value.split(|&b| b == b',') {
                        let part = trim(part);
                        if part.is_empty()
                            || !part.iter().all(u8::is_ascii_digit)
                            || part.len() > 19
                        {
                            return Err(ProtocolError::InvalidContentLength);
                        }
                        let n: u64 = std::str::from_utf8(part)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or(ProtocolError::InvalidContentLength)?;
                        if content_length.is_some_and(|c| c != n) {
                            return Err(ProtocolError::InvalidContentLength);
                        }
                        content_length = Some(n);
                    }
                }
                17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                    let te = transfer_encoding.get_or_insert_with(Vec::new);
                    if !te.is_empty() {
                        te.push(b',');
                    }
                    te.extend_from_slice(value);
                }
                10 if name.eq_ignore_ascii_case(b"connection") => {
                    for token in value.split(|&b| b == b',') {
                        let token = trim(token);
                        connection_close |= token.eq_ignore_ascii_case(b"close");
                        connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                    }
                }
                10 if name.eq_ignore_ascii_case(b"set-cookie") => has_set_cookie = true,
                12 if name.eq_ignore_ascii_case(b"content-type") => {
                    // The first field, as aiohttp's `headers.get()` reads it.
                    content_type.get_or_insert_with(|| value.clone());
                }
                16 if name.eq_ignore_ascii_case(b"content-encoding") => {
                    // The first field, as aiohttp's `headers.get()` reads it.
                    content_encoding.get_or_insert_with(|| value.clone());
                }
                8 if name.eq_ignore_ascii_case(b"location") => {
                    location.get_or_insert_with(|| value.clone());
                }
                _ => {}
            }
        }
        let mut keep_alive = if version_minor >= 1 {
            !connection_close
        } else {
            connection_keep_alive && !connection_close
        };

        // Rule 1: HEAD, 1xx, 204 and 304 responses end at the head.
        let no_body =
            self.opts.head || status == 204 || status == 304 || (100..200).contains(&status);
        // Rule 2: a 2xx to CONNECT, and a 101 to a request that asked for it, switch to a
        // tunnel / another protocol.
        let upgrade = (status == 101 && self.opts.upgrade)
            || (self.opts.connect && (200..300).contains(&status));
        if status == 101 && !upgrade {
            keep_alive = false; // switched to a protocol nobody asked for: not HTTP after it
        }
        let mut framing = None;
        let mut chunked = false;
        if !no_body && !upgrade {
            if let Some(te) = &transfer_encoding {
                // Rule 3: Transfer-Encoding with Content-Length is a smuggling risk: reject.
                if content_length.is_some() {
                    return Err(ProtocolError::ConflictingFraming);
                }
                let last = te.rsplit(|&b| b == b',').next().map(trim).unwrap_or(b"");
                if last.eq_ignore_ascii_case(b"chunked") {
                    chunked = true;
                    framing = Some(Framing::Chunked(Chunk::Size));
                } else {
                    // Rule 4 (response side): read until the connection closes.
                    framing = Some(Framing::Close);
                }
            } else if let Some(n) = content_length {
                // Rule 6.
                framing = Some(Framing::Length(n));
            } else {
                // Rule 8: close-delimited.
                framing = Some(Framing::Close);
            }
        }
        if matches!(framing, Some(Framing::Close)) || upgrade {
            keep_alive = false;
            if self.opts.body_needs_framing {
                framing = None;
            }
        }
        self.keep_alive = keep_alive;
        self.received = 0;
        self.chunk_has_data = false;
        self.expected = if chunked { None } else { content_length };
        self.decoder = None;
        if self.opts.decompress && framing.is_some() {
            if let Some(encoding) = &content_encoding {
                self.decoder = Decoder::new(encoding, self.opts.max_decompressed_size)
                    .map_err(decode_error)?;
            }
        }
        events.push(Event::Head(ResponseHead {
            status,
            reason,
            version_minor,
            headers,
            content_length: if chunked { None } else { content_length },
            chunked,
            keep_alive,
            content_type,
            content_encoding,
            location,
            has_set_cookie,
        }));
        if upgrade {
            self.state = State::Upgraded;
            self.keep_alive = false;
            let rest = std::mem::take(&mut self.buf);
            if !rest.is_empty() {
                events.push(Event::Data(rest));
            }
            return Ok(());
        }
        match framing {
            None | Some(Framing::Length(0)) => {
                self.state = State::Body(Framing::Length(0));
                let mut budget = MAX_DECODED_PER_CALL;
                self.finish_body(events, &mut budget);
            }
            Some(f) => self.state = State::Body(f),
        }
        Ok(())
    }

    fn process_chunked(&mut self, data: Vec<u8>, events: &mut Vec<Event>, budget: &mut usize) {
        let mut pos = 0;
        loop {
            let State::Body(Framing::Chunked(chunk)) = self.state else {
                if pos < data.len() {
                    if matches!(self.state, State::Idle | State::Closed) {
                        self.poisoned = true;
                    } else if self.state == State::Draining {
                        self.buf.extend_from_slice(&data[pos..]);
                    }
                }
                return;
            };
            let rest = &data[pos..];
            match chunk {
                Chunk::Size => {
                    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > self.limits.max_line_size {
                            return self.fail(
                                ProtocolError::LineTooLong(self.limits.max_line_size),
                                events,
                            );
                        }
                        self.buf.extend_from_slice(rest);
                        return;
                    };
                    if end > self.limits.max_line_size {
                        return self.fail(
                            ProtocolError::LineTooLong(self.limits.max_line_size),
                            events,
                        );
                    }
                    let line = &rest[..end];
                    let Some(line) = line.strip_suffix(b"\r") else {
                        return self.fail(
                            ProtocolError::InvalidChunk(
                                "chunk size line must end with CRLF".into(),
                            ),
                            events,
                        );
                    };
                    // Chunk extensions (RFC 9112 §7.1.1) are ignored.
                    let size_part = line.split(|&b| b == b';').next().unwrap_or(b"");
                    let size_part = trim_end(size_part);
                    let size = match parse_hex(size_part) {
                        Some(n) => n,
                        None => {
                            return self.fail(
                                ProtocolError::InvalidChunk(format!(
                                    "invalid chunk size {:?}",
                                    String::from_utf8_lossy(size_part)
                                )),
                                events,
                            )
                        }
                    };
                    pos += end + 1;
                    self.state = State::Body(Framing::Chunked(if size == 0 {
                        Chunk::Trailers
                    } else {
                        Chunk::Data(size)
                    }));
                }
                Chunk::Data(remaining) => {
                    if rest.is_empty() {
                        return;
                    }
                    let take = (remaining.min(rest.len() as u64)) as usize;
                    self.received += take as u64;
                    self.state = State::Body(Framing::Chunked(if remaining == take as u64 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(remaining - take as u64)
                    }));
                    pos += take;
                    if !self.emit_body(&rest[..take], events, budget) {
                        // (A chunk whose decoded output outruns the budget gets no
                        // ChunkEnd: its bytes arrive over the next calls.)
                        self.buf.extend_from_slice(&data[pos..]);
                        return;
                    }
                    if remaining == take as u64 && self.chunk_has_data {
                        self.chunk_has_data = false;
                        events.push(Event::ChunkEnd);
                    }
                }
                Chunk::DataEnd => {
                    if rest.is_empty() || rest == b"\r" {
                        self.buf.extend_from_slice(rest);
                        return;
                    }
                    if !rest.starts_with(b"\r\n") {
                        return self.fail(
                            ProtocolError::InvalidChunk("missing CRLF after chunk data".into()),
                            events,
                        );
                    }
                    pos += 2;
                    self.state = State::Body(Framing::Chunked(Chunk::Size));
                }
                Chunk::Trailers => {
                    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > self.limits.max_field_size {
                            return self.fail(
                                ProtocolError::FieldTooLong(self.limits.max_field_size),
                                events,
                            );
                        }
                        self.buf.extend_from_slice(rest);
                        return;
                    };
                    let line = &rest[..end];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    pos += end + 1;
                    if line.is_empty() {
                        self.finish_body(events, budget);
                        continue;
                    }
                    if line.len() > self.limits.max_field_size {
                        return self.fail(
                            ProtocolError::FieldTooLong(self.limits.max_field_size),
                            events,
                        );
                    }
                    if self.trailers.len() >= self.limits.max_headers {
                        return self.fail(
                            ProtocolError::TooManyHeaders(self.limits.max_headers),
                            events,
                        );
                    }
                    match parse_field(line) {
                        Some(field) => self.trailers.push(field),
                        None => {
                            return self.fail(
                                ProtocolError::InvalidHeader(format!(
                                    "bad trailer {:?}",
                                    String::from_utf8_lossy(line)
                                )),
                                events,
                            )
                        }
                    }
                }
            }
        }
    }

    /// Deliver body bytes (through the decoder); false when the per-call budget is spent.
    fn emit_body(&mut self, body: &[u8], events: &mut Vec<Event>, budget: &mut usize) -> bool {
        if body.is_empty() {
            return true;
        }
        if self.decoder.is_none() {
            self.chunk_has_data = true;
            events.push(Event::Data(body.to_vec()));
            return true;
        }
        self.decoder.as_mut().expect("checked").feed(body);
        self.drain_decoder(events, budget)
    }

    /// Pull decoded output within the budget; true when nothing is left pending.
    fn drain_decoder(&mut self, events: &mut Vec<Event>, budget: &mut usize) -> bool {
        let Some(decoder) = self.decoder.as_mut() else {
            return true;
        };
        while decoder.has_pending() && *budget > 0 {
            let mut out = Vec::new();
            let step = MAX_DATA_EVENT.min(*budget);
            if let Err(e) = decoder.decode(&mut out, step) {
                self.fail(decode_error(e), events);
                return false;
            }
            if let Err(e) = decoder.account(out.len()) {
                self.fail(decode_error(e), events);
                return false;
            }
            *budget = budget.saturating_sub(out.len().max(1));
            self.chunk_has_data |= !out.is_empty();
            push_pieces(out, events);
        }
        if decoder.has_pending() {
            return false;
        }
        if self.state == State::Draining {
            self.complete(events, &mut 0);
        }
        true
    }

    fn finish_body(&mut self, events: &mut Vec<Event>, budget: &mut usize) {
        if self.decoder.as_ref().is_some_and(Decoder::has_pending) {
            self.state = State::Draining;
            if !self.drain_decoder(events, budget) {
                return;
            }
            if self.state != State::Draining {
                return;
            }
        }
        self.complete(events, budget);
    }

    fn complete(&mut self, events: &mut Vec<Event>, _budget: &mut usize) {
        if let Some(mut decoder) = self.decoder.take() {
            let mut out = Vec::new();
            let result = decoder
                .finish(&mut out)
                .and_then(|()| decoder.account(out.len()));
            if let Err(e) = result {
                return self.fail(decode_error(e), events);
            }
            push_pieces(out, events);
        }
        events.push(Event::End(std::mem::take(&mut self.trailers)));
        self.state = if self.keep_alive {
            State::Idle
        } else {
            State::Closed
        };
        if !self.buf.is_empty() {
            self.buf.clear();
            self.poisoned = true;
        }
    }

    /// The peer closed the connection.
    pub fn receive_eof(&mut self, events: &mut Vec<Event>) {
        match self.state {
            State::AwaitingHead => self.fail(ProtocolError::ClosedBeforeResponse, events),
            State::Body(Framing::Close) | State::Draining => {
                let mut budget = usize::MAX;
                if let Some(decoder) = self.decoder.as_mut() {
                    let mut out = Vec::new();
                    if let Err(e) = decoder.decode(&mut out, usize::MAX) {
                        return self.fail(decode_error(e), events);
                    }
                    push_pieces(out, events);
                }
                self.keep_alive = false;
                self.complete(events, &mut budget);
                if self.state != State::Failed {
                    self.state = State::Closed;
                }
            }
            State::Body(_) => {
                let error = ProtocolError::IncompleteBody {
                    expected: self.expected,
                    received: self.received,
                };
                self.fail(error, events);
            }
            State::Idle | State::Upgraded => self.state = State::Closed,
            State::Closed | State::Failed => {}
        }
    }
}

fn push_pieces(out: Vec<u8>, events: &mut Vec<Event>) {
    if out.is_empty() {
        return;
    }
    if out.len() <= MAX_DATA_EVENT {
        events.push(Event::Data(out));
    } else {
        for piece in out.chunks(MAX_DATA_EVENT) {
            events.push(Event::Data(piece.to_vec()));
        }
    }
}

fn decode_error(e: DecodeError) -> ProtocolError {
    match e {
        DecodeError::TooManyEncodings => ProtocolError::TooManyEncodings,
        DecodeError::Corrupt(why) => ProtocolError::Decode(why),
        DecodeError::TooLarge(max) => ProtocolError::DecompressedTooLarge(max),
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    trim_end(&s[start..])
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &s[..end]
}

/// A chunk size: 1 to 16 hex digits (larger overflows u64).
fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        let d = (b as char).to_digit(16)? as u64;
        n = n.checked_mul(16)?.checked_add(d)?;
    }
    Some(n)
}

/// One `name: value` field (trailers), strict like the head parser.
fn parse_field(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    if !is_token(name) {
        return None;
    }
    let value = trim(&line[colon + 1..]);
    if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
        return None;
    }
    Some((name.to_vec(), value.to_vec()))
}

/// The reason phrase of a parsed status line `HTTP/1.x SP 3DIGIT [SP reason]`.
fn raw_reason(head: &[u8]) -> &[u8] {
    // Empty lines before the status line are skipped, as httparse skips them.
    let start = head
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(head.len());
    let line = head[start..].split(|&b| b == b'\n').next().unwrap_or(b"");
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.get(13..).unwrap_or(b"")
}

/// A header value with each obs-fold's line break removed (the whitespace after it stays,
/// as aiohttp keeps it) and surrounding whitespace trimmed. The parser let CR and LF into
/// a value only as part of an obs-fold.
fn unfold(value: &[u8]) -> Vec<u8> {
    if !value.iter().any(|&b| b == b'\r' || b == b'\n') {
        return value.to_vec();
    }
    let joined: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = joined
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(joined.len());
    let end = joined
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    joined[start..end].to_vec()
}
