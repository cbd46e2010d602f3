//! Sans-I/O WebSocket client codec (RFC 6455) with permessage-deflate (RFC 7692).
//!
//! Client frames are always masked with a fresh key from the system's secure random
//! source; server frames must not be masked. Messages are reassembled from fragments,
//! control frames are delivered as they come (also between fragments), text is checked
//! to be UTF-8, and `max_msg_size` is enforced from frame headers before any payload is
//! buffered, and again on decompressed output.

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use ring::rand::{SecureRandom, SystemRandom};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const DEFLATE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// Continuation of a fragmented message.
    Continuation,
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
    /// Close.
    Close,
    /// Ping.
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }
}

/// A complete message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A text message as received, its UTF-8 unchecked (`decode_text` off).
    TextBytes(Vec<u8>),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping with its payload.
    Ping(Vec<u8>),
    /// A pong with its payload.
    Pong(Vec<u8>),
    /// A close frame: code (if any) and reason.
    Close(Option<u16>, String),
}

/// A protocol violation by the server, with the close code to answer it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsError {
    /// Malformed or forbidden framing (1002).
    Protocol(String),
    /// Text that is not UTF-8 (1007).
    InvalidUtf8,
    /// A message larger than `max_msg_size` (1009).
    MessageTooBig {
        /// Size seen so far.
        size: u64,
        /// The limit.
        limit: usize,
    },
    /// Bad permessage-deflate data or negotiation (1002 / handshake error).
    Deflate(String),
}

impl WsError {
    /// The close code to send for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::Protocol(_) | WsError::Deflate(_) => 1002,
            WsError::InvalidUtf8 => 1007,
            WsError::MessageTooBig { .. } => 1009,
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Protocol(why) => write!(f, "{why}"),
            WsError::InvalidUtf8 => write!(f, "invalid UTF-8 text message"),
            WsError::MessageTooBig { size, limit } => {
                write!(f, "Message size {size} exceeds limit {limit}")
            }
            WsError::Deflate(why) => write!(f, "permessage-deflate: {why}"),
        }
    }
}

impl std::error::Error for WsError {}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("system random source");
    buf
}

/// A fresh Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 §4.1).
pub fn handshake_key() -> String {
    base64(&random_bytes::<16>())
}

/// The Sec-WebSocket-Accept a server must send for `key` (RFC 6455 §4.2.2).
///
/// ```
/// assert_eq!(aioclient_core::ws::accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_for(key: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{GUID}").as_bytes(),
    );
    base64(digest.as_ref())
}

/// Negotiated permessage-deflate parameters (RFC 7692 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deflate {
    /// We reset our compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// Our window. The deflate backend compresses with a 32 KiB window only, so a
    /// server that asks for a smaller client window gets uncompressed frames from us
    /// (allowed: compression is per message).
    pub client_max_window_bits: u8,
    /// The server's window.
    pub server_max_window_bits: u8,
}

impl Deflate {
    /// Parse the server's answer; `Ok(None)` when it did not accept the extension.
    pub fn from_response(header: &[u8]) -> Result<Option<Deflate>, WsError> {
        let text = std::str::from_utf8(header)
            .map_err(|_| WsError::Deflate("extension header is not UTF-8".into()))?;
        for extension in text.split(',') {
            let mut params = extension.split(';').map(str::trim);
            if params.next() != Some("permessage-deflate") {
                continue;
            }
            let mut d = Deflate {
                client_no_context_takeover: false,
                server_no_context_takeover: false,
                client_max_window_bits: 15,
                server_max_window_bits: 15,
            };
            for param in params {
                let (name, value) = match param.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                    None => (param, None),
                };
                let bits = |v: Option<&str>| -> Result<u8, WsError> {
                    let n: u8 = v
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| WsError::Deflate(format!("bad {name}")))?;
                    if (8..=15).contains(&n) {
                        Ok(n.max(9))
                    } else {
                        Err(WsError::Deflate(format!("bad {name}={n}")))
                    }
                };
                match name {
                    "client_no_context_takeover" => d.client_no_context_takeover = true,
                    "server_no_context_takeover" => d.server_no_context_takeover = true,
                    "client_max_window_bits" => d.client_max_window_bits = bits(value)?,
                    "server_max_window_bits" => d.server_max_window_bits = bits(value)?,
                    "" => {}
                    other => return Err(WsError::Deflate(format!("unknown parameter {other}"))),
                }
            }
            return Ok(Some(d));
        }
        Ok(None)
    }
}

struct Fragmented {
    opcode: Opcode,
    compressed: bool,
    data: Vec<u8>,
}

/// A WebSocket client codec: frames out, messages in.
pub struct Codec {
    max_msg_size: usize,
    deflate: Option<Deflate>,
    compressor: Option<Compress>,
    decompressor: Option<Decompress>,
    buf: Vec<u8>,
    fragmented: Option<Fragmented>,
    failed: bool,
    decode_text: bool,
}

impl Codec {
    /// A codec with a message size limit (0: none) and negotiated deflate, if any.
    pub fn new(max_msg_size: usize, deflate: Option<Deflate>) -> Codec {
        Codec {
            max_msg_size,
            deflate,
            compressor: deflate.map(|_| Compress::new(Compression::default(), false)),
            decompressor: deflate.map(|_| Decompress::new(false)),
            buf: Vec::new(),
            fragmented: None,
            failed: false,
            decode_text: true,
        }
    }

    /// `false`: text messages come as [`Message::TextBytes`], their UTF-8 unchecked
    /// (aiohttp's `decode_text=False`). On by default.
    pub fn with_decode_text(mut self, decode_text: bool) -> Codec {
        self.decode_text = decode_text;
        self
    }

    /// Append a masked frame; data frames are compressed when deflate was negotiated,
    /// `compress` is true and our window may be 15 bits.
    pub fn encode(
        &mut self,
        opcode: Opcode,
        payload: &[u8],
        fin: bool,
        compress: bool,
        out: &mut Vec<u8>,
    ) {
        let is_data = matches!(opcode, Opcode::Text | Opcode::Binary);
        let can_compress = self.deflate.is_some_and(|d| d.client_max_window_bits == 15);
        if is_data && compress && fin && can_compress {
            let compressed = self.deflate_message(payload);
            write_frame(opcode.bits(), true, true, &compressed, out);
        } else {
            write_frame(opcode.bits(), fin, false, payload, out);
        }
    }

    fn deflate_message(&mut self, payload: &[u8]) -> Vec<u8> {
        let compressor = self.compressor.as_mut().expect("deflate negotiated");
        // Room for the worst case (stored blocks: zlib's compressBound plus the flush),
        // so the usual message takes one call of each kind below.
        let n = payload.len();
        let mut out = Vec::with_capacity(n + (n >> 12) + (n >> 14) + (n >> 25) + 64);
        let mut input = payload;
        // All the input first, without flushing...
        while !input.is_empty() {
            if out.len() == out.capacity() {
                out.reserve(input.len() / 2 + 1024);
            }
            let before_in = compressor.total_in();
            compressor
                .compress_vec(input, &mut out, FlushCompress::None)
                .expect("deflate cannot fail");
            input = &input[(compressor.total_in() - before_in) as usize..];
        }
        // ...then one sync flush, called again only while it fills the output (a flush
        // that stops for room must be resumed, not started over with more input).
        loop {
            out.reserve(1024);
            compressor
                .compress_vec(&[], &mut out, FlushCompress::Sync)
                .expect("deflate cannot fail");
            if out.len() < out.capacity() {
                break;
            }
        }
        // RFC 7692 §7.2.1: drop the 00 00 ff ff that the sync flush ends with.
        if out.ends_with(&DEFLATE_TAIL) {
            out.truncate(out.len() - 4);
        }
        if out.is_empty() {
            out.push(0x00);
        }
        if self.deflate.is_some_and(|d| d.client_no_context_takeover) {
            compressor.reset();
        }
        out
    }

    /// A Close frame with an optional code and a reason (RFC 6455 §5.5.1).
    ///
    /// The reason is sent as given (aiohttp does not check it is UTF-8), cut to the
    /// 123 bytes a control frame has room for, never inside a UTF-8 character.
    pub fn encode_close(&mut self, code: Option<u16>, reason: &[u8], out: &mut Vec<u8>) {
        let mut payload = Vec::new();
        if let Some(code) = code {
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(truncate_reason(reason));
        }
        write_frame(8, true, false, &payload, out);
    }

    /// Feed bytes from the server; complete messages are pushed, an error last.
    pub fn receive(&mut self, data: &[u8], messages: &mut Vec<Result<Message, WsError>>) {
        if self.failed {
            return;
        }
        self.buf.extend_from_slice(data);
        let mut pos = 0;
        loop {
            match self.parse_frame(pos, messages) {
                Ok(Some(next)) => pos = next,
                Ok(None) => break,
                Err(e) => {
                    self.failed = true;
                    self.buf.clear();
                    messages.push(Err(e));
                    return;
                }
            }
        }
        self.buf.drain(..pos);
    }

    /// Parse one frame at `pos`; `Ok(None)` when more bytes are needed.
    fn parse_frame(
        &mut self,
        pos: usize,
        messages: &mut Vec<Result<Message, WsError>>,
    ) -> Result<Option<usize>, WsError> {
        let buf = &self.buf[pos..];
        if buf.len() < 2 {
            return Ok(None);
        }
        let fin = buf[0] & 0x80 != 0;
        let rsv1 = buf[0] & 0x40 != 0;
        if buf[0] & 0x30 != 0 {
            return Err(WsError::Protocol("reserved bits RSV2/RSV3 set".into()));
        }
        let opcode = match buf[0] & 0x0f {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            other => return Err(WsError::Protocol(format!("reserved opcode {other}"))),
        };
        if buf[1] & 0x80 != 0 {
            return Err(WsError::Protocol("masked frame from server".into()));
        }
        let (len, header) = match buf[1] & 0x7f {
            126 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let n = u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes"));
                if n >> 63 != 0 {
                    return Err(WsError::Protocol(
                        "64-bit length with the high bit set".into(),
                    ));
                }
                (n, 10)
            }
            n => (u64::from(n), 2),
        };
        let control = matches!(opcode, Opcode::Close | Opcode::Ping | Opcode::Pong);
        if control && (len > 125 || !fin) {
            return Err(WsError::Protocol(
                "control frame too long or fragmented".into(),
            ));
        }
        if rsv1 && (self.deflate.is_none() || control || opcode == Opcode::Continuation) {
            return Err(WsError::Protocol(
                "RSV1 set without permessage-deflate on this frame".into(),
            ));
        }
        // Enforce the limit from the header, before buffering the payload.
        if !control && self.max_msg_size > 0 {
            let so_far = self.fragmented.as_ref().map_or(0, |f| f.data.len() as u64);
            if so_far + len > self.max_msg_size as u64 {
                return Err(WsError::MessageTooBig {
                    size: so_far + len,
                    limit: self.max_msg_size,
                });
            }
        }
        if (buf.len() as u64) < header as u64 + len {
            return Ok(None);
        }
        let payload = buf[header..header + len as usize].to_vec();
        let next = pos + header + len as usize;
        match opcode {
            Opcode::Ping => messages.push(Ok(Message::Ping(payload))),
            Opcode::Pong => messages.push(Ok(Message::Pong(payload))),
            Opcode::Close => messages.push(Ok(parse_close(&payload)?)),
            Opcode::Text | Opcode::Binary => {
                if self.fragmented.is_some() {
                    return Err(WsError::Protocol(
                        "new data frame inside a fragmented message".into(),
                    ));
                }
                if fin {
                    let message = self.finish_message(opcode, rsv1, payload)?;
                    messages.push(Ok(message));
                } else {
                    self.fragmented = Some(Fragmented {
                        opcode,
                        compressed: rsv1,
                        data: payload,
                    });
                }
            }
            Opcode::Continuation => {
                let Some(frag) = self.fragmented.as_mut() else {
                    return Err(WsError::Protocol(
                        "continuation frame without a message".into(),
                    ));
                };
                frag.data.extend_from_slice(&payload);
                if fin {
                    let frag = self.fragmented.take().expect("checked");
                    let message = self.finish_message(frag.opcode, frag.compressed, frag.data)?;
                    messages.push(Ok(message));
                }
            }
        }
        Ok(Some(next))
    }

    fn finish_message(
        &mut self,
        opcode: Opcode,
        compressed: bool,
        data: Vec<u8>,
    ) -> Result<Message, WsError> {
        let data = if compressed {
            self.inflate(&data)?
        } else {
            data
        };
        Ok(match opcode {
            Opcode::Text if self.decode_text => {
                Message::Text(String::from_utf8(data).map_err(|_| WsError::InvalidUtf8)?)
            }
            Opcode::Text => Message::TextBytes(data),
            _ => Message::Binary(data),
        })
    }

    /// Inflate one message in bounded steps: a bomb stops at `max_msg_size`.
    ///
    /// A server may end a message with a final (BFINAL) block (RFC 7692 §7.2.3.4):
    /// the stream ends there, so the inflater starts afresh for what follows (the next
    /// message). Input that makes no progress is an error, never an empty message.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, WsError> {
        let limit = if self.max_msg_size > 0 {
            self.max_msg_size
        } else {
            usize::MAX
        };
        let reset = self.deflate.is_some_and(|d| d.server_no_context_takeover);
        let inflater = self.decompressor.as_mut().expect("deflate negotiated");
        let mut input = data.to_vec();
        input.extend_from_slice(&DEFLATE_TAIL);
        let mut out: Vec<u8> =
            Vec::with_capacity((data.len() * 4).min(limit.saturating_add(1)).min(1 << 20));
        let mut rest = &input[..];
        loop {
            if out.len() > limit {
                return Err(WsError::MessageTooBig {
                    size: out.len() as u64,
                    limit,
                });
            }
            if out.capacity() == out.len() {
                out.reserve(64 * 1024);
            }
            let before_in = inflater.total_in();
            let before_out = inflater.total_out();
            let status = inflater
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .map_err(|e| WsError::Deflate(e.to_string()))?;
            let used = (inflater.total_in() - before_in) as usize;
            rest = &rest[used..];
            let produced = inflater.total_out() - before_out;
            // Input of the message's own still to inflate (not just the tail we added).
            let real_input_left = rest.len() > DEFLATE_TAIL.len();
            if status == Status::StreamEnd {
                // A final block ended the stream. The tail we added is not deflate data
                // on its own (it completes a sync flush's block header): dropped. More
                // of the message's bytes start a new stream, as the next message does.
                inflater.reset(false);
                if !real_input_left {
                    break;
                }
                continue;
            }
            if rest.is_empty() && out.len() < out.capacity() {
                break;
            }
            if used == 0 && produced == 0 {
                if real_input_left {
                    return Err(WsError::Deflate(format!(
                        "inflate stalled with {} bytes of input left",
                        rest.len()
                    )));
                }
                break;
            }
        }
        if out.len() > limit {
            return Err(WsError::MessageTooBig {
                size: out.len() as u64,
                limit,
            });
        }
        if reset {
            inflater.reset(false);
        }
        Ok(out)
    }
}

/// A close reason cut to 123 bytes, back to the start of a UTF-8 character.
fn truncate_reason(reason: &[u8]) -> &[u8] {
    const ROOM: usize = 123;
    if reason.len() <= ROOM {
        return reason;
    }
    let mut end = ROOM;
    // A continuation byte (10xxxxxx) at the cut means a character straddles it.
    while end > ROOM - 3 && reason[end] & 0xc0 == 0x80 {
        end -= 1;
    }
    if reason[end] & 0xc0 == 0x80 {
        end = ROOM; // not UTF-8 here: cut where the room ends
    }
    &reason[..end]
}

fn parse_close(payload: &[u8]) -> Result<Message, WsError> {
    match payload.len() {
        0 => Ok(Message::Close(None, String::new())),
        1 => Err(WsError::Protocol(
            "close frame with a 1-byte payload".into(),
        )),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            // aiohttp's rule: any code from 3000 up, or one of its WSCloseCode values
            // (1000-1003, 1006-1014; it accepts 1006 and codes past 4999 too).
            let valid = matches!(code, 1000..=1003 | 1006..=1014 | 3000..);
            if !valid {
                return Err(WsError::Protocol(format!("invalid close code {code}")));
            }
            let reason = std::str::from_utf8(&payload[2..]).map_err(|_| WsError::InvalidUtf8)?;
            Ok(Message::Close(Some(code), reason.to_string()))
        }
    }
}

/// Write one masked client frame (RFC 6455 §5.2-5.3).
fn write_frame(opcode: u8, fin: bool, rsv1: bool, payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(payload.len() + 14);
    out.push((u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mask = random_bytes::<4>();
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask);
}

/// XOR with the mask, 8 bytes at a time.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes(chunk.try_into().expect("8 bytes")) ^ wide;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}
