//! Streaming content decoders: gzip, deflate (zlib and raw), br, zstd, stacked.
//!
//! Output comes in bounded steps: compressed input is held in `pending` and fed to the
//! decoders a small slice at a time, so one call never expands more than about
//! `limit + SLICE * 1032` bytes (deflate's worst ratio) however large the input is. br
//! and zstd can expand one slice a million-fold, so they decode into bounded output
//! ([`STEP_OUT`] per step) and keep the input they have not reached yet ("held") for the
//! next call. A decompression bomb streamed through `decode` therefore keeps memory flat.

use std::fmt;
use std::io::Write;

/// Stacked encodings allowed in one Content-Encoding (more is an error, not a raw body).
pub const MAX_LAYERS: usize = 5;
/// Compressed bytes fed to the first layer per step.
const SLICE: usize = 1024;
/// The most a br or zstd layer produces per step.
const STEP_OUT: usize = 64 * 1024;

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// More than [`MAX_LAYERS`] encodings were stacked.
    TooManyEncodings,
    /// The compressed data is corrupt or truncated.
    Corrupt(String),
    /// The decoded body passed the configured maximum.
    TooLarge(u64),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooManyEncodings => {
                write!(f, "more than {MAX_LAYERS} content encodings")
            }
            DecodeError::Corrupt(why) => write!(f, "cannot decode body: {why}"),
            DecodeError::TooLarge(max) => write!(f, "decoded body exceeds {max} bytes"),
        }
    }
}

impl std::error::Error for DecodeError {}

enum Layer {
    Gzip(flate2::write::MultiGzDecoder<Vec<u8>>),
    /// Deflate: zlib-wrapped or raw, decided by the first two bytes (as aiohttp does).
    Deflate(Option<DeflateKind>, Vec<u8>),
    Brotli(Box<Bounded<BrotliStream>>),
    Zstd(Box<Bounded<zstd::stream::raw::Decoder<'static>>>),
}

type BrotliState = brotli::BrotliState<
    brotli::HeapAlloc<u8>,
    brotli::HeapAlloc<u32>,
    brotli::HeapAlloc<brotli::HuffmanCode>,
>;

/// brotli's streaming state and whether its stream has ended.
struct BrotliStream {
    state: BrotliState,
    ended: bool,
}

/// A decoder that produces at most [`STEP_OUT`] bytes per step: the input it has not
/// consumed yet is `held` for the next step.
struct Bounded<D> {
    decoder: D,
    held: Vec<u8>,
    /// Where a step decodes to (allocated on first use, kept for the body).
    scratch: Vec<u8>,
    /// The decoder may have more output for the input already consumed.
    more_out: bool,
    /// A zstd frame was started and not finished.
    in_frame: bool,
}

impl<D> Bounded<D> {
    fn new(decoder: D) -> Self {
        Bounded {
            decoder,
            held: Vec::new(),
            scratch: Vec::new(),
            more_out: false,
            in_frame: false,
        }
    }

    fn is_holding(&self) -> bool {
        !self.held.is_empty() || self.more_out
    }

    fn scratch(&mut self) -> &mut [u8] {
        if self.scratch.is_empty() {
            self.scratch = vec![0; STEP_OUT];
        }
        &mut self.scratch
    }
}

impl Bounded<BrotliStream> {
    /// One step over `held` (after appending `input`).
    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        self.held.extend_from_slice(input);
        if self.decoder.ended {
            if self.held.is_empty() {
                return Ok(());
            }
            return Err(DecodeError::Corrupt(
                "data after the end of the br stream".into(),
            ));
        }
        self.scratch();
        let (mut avail_in, mut in_offset) = (self.held.len(), 0);
        let (mut avail_out, mut out_offset, mut total) = (STEP_OUT, 0, 0);
        let stream = &mut self.decoder;
        let result = brotli::BrotliDecompressStream(
            &mut avail_in,
            &mut in_offset,
            &self.held,
            &mut avail_out,
            &mut out_offset,
            &mut self.scratch,
            &mut total,
            &mut stream.state,
        );
        out.extend_from_slice(&self.scratch[..out_offset]);
        self.held.drain(..in_offset);
        self.more_out = false;
        match result {
            brotli::BrotliResult::ResultSuccess => {
                stream.ended = true;
                if !self.held.is_empty() {
                    return Err(DecodeError::Corrupt(
                        "data after the end of the br stream".into(),
                    ));
                }
            }
            brotli::BrotliResult::NeedsMoreInput => {}
            brotli::BrotliResult::NeedsMoreOutput => self.more_out = true,
            brotli::BrotliResult::ResultFailure => {
                return Err(DecodeError::Corrupt("invalid br data".into()))
            }
        }
        Ok(())
    }
}

impl Bounded<zstd::stream::raw::Decoder<'static>> {
    /// One step over `held` (after appending `input`).
    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        self.held.extend_from_slice(input);
        self.scratch();
        let mut src = InBuffer::around(&self.held);
        let mut dst = OutBuffer::around(&mut self.scratch[..]);
        let hint = self.decoder.run(&mut src, &mut dst).map_err(corrupt);
        let (consumed, produced) = (src.pos(), dst.pos());
        out.extend_from_slice(&self.scratch[..produced]);
        self.held.drain(..consumed);
        let hint = hint?;
        // A full output may leave more for the input already taken.
        self.more_out = produced == STEP_OUT;
        if consumed > 0 || produced > 0 {
            // 0: the frame is complete. (A call that moved nothing reports the size of
            // a next frame's header even between frames: it says nothing.)
            self.in_frame = hint != 0;
        }
        Ok(())
    }
}

enum DeflateKind {
    Zlib(flate2::write::ZlibDecoder<Vec<u8>>),
    Raw(flate2::write::DeflateDecoder<Vec<u8>>),
}

fn corrupt(e: std::io::Error) -> DecodeError {
    DecodeError::Corrupt(e.to_string())
}

impl Layer {
    fn new(name: &str) -> Option<Result<Layer, DecodeError>> {
        Some(Ok(match name {
            "gzip" | "x-gzip" => Layer::Gzip(flate2::write::MultiGzDecoder::new(Vec::new())),
            "deflate" => Layer::Deflate(None, Vec::new()),
            "br" => Layer::Brotli(Box::new(Bounded::new(BrotliStream {
                state: BrotliState::new(
                    brotli::HeapAlloc::default(),
                    brotli::HeapAlloc::default(),
                    brotli::HeapAlloc::default(),
                ),
                ended: false,
            }))),
            "zstd" => match zstd::stream::raw::Decoder::new() {
                Ok(d) => Layer::Zstd(Box::new(Bounded::new(d))),
                Err(e) => return Some(Err(corrupt(e))),
            },
            _ => return None,
        }))
    }

    /// True when a bounded layer still holds input (or output) for another step.
    fn is_holding(&self) -> bool {
        match self {
            Layer::Brotli(b) => b.is_holding(),
            Layer::Zstd(b) => b.is_holding(),
            Layer::Gzip(_) | Layer::Deflate(..) => false,
        }
    }

    /// Feed `input`, appending what it decodes to `out` (a bounded layer: one step's
    /// worth, holding the rest).
    fn write(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        match self {
            Layer::Gzip(d) => {
                d.write_all(input).map_err(corrupt)?;
                out.append(d.get_mut());
            }
            Layer::Deflate(kind, head) => {
                if kind.is_none() {
                    head.extend_from_slice(input);
                    if head.len() < 2 {
                        return Ok(());
                    }
                    // RFC 1950 §2.2: CM = 8 and the 16-bit header is a multiple of 31.
                    let zlib = head[0] & 0x0f == 8
                        && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
                    *kind = Some(if zlib {
                        DeflateKind::Zlib(flate2::write::ZlibDecoder::new(Vec::new()))
                    } else {
                        DeflateKind::Raw(flate2::write::DeflateDecoder::new(Vec::new()))
                    });
                    let buffered = std::mem::take(head);
                    return self.write(&buffered, out);
                }
                match kind.as_mut().expect("set above") {
                    DeflateKind::Zlib(d) => {
                        d.write_all(input).map_err(corrupt)?;
                        out.append(d.get_mut());
                    }
                    DeflateKind::Raw(d) => {
                        d.write_all(input).map_err(corrupt)?;
                        out.append(d.get_mut());
                    }
                }
            }
            Layer::Brotli(b) => b.step(input, out)?,
            Layer::Zstd(b) => b.step(input, out)?,
        }
        Ok(())
    }

    /// Hand over everything decodable from the input so far: the decoders keep up to
    /// a buffer of output until more input comes, which would hold back the last
    /// message of a stream whose server flushed after it.
    fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        match self {
            Layer::Gzip(d) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
            }
            Layer::Deflate(None, _) => {}
            Layer::Deflate(Some(DeflateKind::Zlib(d)), _) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
            }
            Layer::Deflate(Some(DeflateKind::Raw(d)), _) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
            }
            // Nothing buffered: what they hold is input, taken by the next steps.
            Layer::Brotli(_) | Layer::Zstd(_) => {}
        }
        Ok(())
    }

    /// End of input: flush, and fail if the compressed stream was not complete.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        let truncated = || DecodeError::Corrupt("compressed body is truncated".into());
        match self {
            Layer::Gzip(d) => {
                d.try_finish().map_err(corrupt)?;
                out.append(d.get_mut());
            }
            Layer::Deflate(None, head) => {
                if !head.is_empty() {
                    return Err(truncated());
                }
            }
            Layer::Deflate(Some(DeflateKind::Zlib(d)), _) => {
                d.try_finish().map_err(corrupt)?;
                out.append(d.get_mut());
                if d.total_in() == 0 {
                    return Err(truncated());
                }
            }
            Layer::Deflate(Some(DeflateKind::Raw(d)), _) => {
                d.try_finish().map_err(corrupt)?;
                out.append(d.get_mut());
            }
            // Called once nothing is held (see Decoder::finish): the stream must be whole.
            Layer::Brotli(b) => {
                if !b.decoder.ended {
                    return Err(truncated());
                }
            }
            Layer::Zstd(b) => {
                if b.in_frame {
                    return Err(truncated());
                }
            }
        }
        Ok(())
    }
}

/// A stack of content decoders for one response body.
pub struct Decoder {
    /// In decoding order: the last encoding applied comes first.
    layers: Vec<Layer>,
    pending: Vec<u8>,
    consumed: usize,
    produced: u64,
    max: Option<u64>,
    /// True once any compressed byte arrived: an empty body is empty whatever its
    /// Content-Encoding says (servers send `Content-Encoding: gzip` on empty 2xx).
    fed_any: bool,
}

impl Decoder {
    /// Decoders for a Content-Encoding value; `Ok(None)` when there is nothing to do
    /// (identity) or an encoding is unknown (the body is then passed through, as aiohttp).
    ///
    /// ```
    /// use aioclient_core::decode::Decoder;
    /// assert!(Decoder::new(b"gzip", None).unwrap().is_some());
    /// assert!(Decoder::new(b"identity", None).unwrap().is_none());
    /// assert!(Decoder::new(b"gzip, gzip, gzip, gzip, gzip, gzip", None).is_err());
    /// ```
    pub fn new(content_encoding: &[u8], max: Option<u64>) -> Result<Option<Decoder>, DecodeError> {
        let text = String::from_utf8_lossy(content_encoding).to_ascii_lowercase();
        let names: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty() && *n != "identity")
            .collect();
        if names.len() > MAX_LAYERS {
            return Err(DecodeError::TooManyEncodings);
        }
        let mut layers = Vec::with_capacity(names.len());
        for name in names.iter().rev() {
            match Layer::new(name) {
                Some(layer) => layers.push(layer?),
                None => return Ok(None),
            }
        }
        if layers.is_empty() {
            return Ok(None);
        }
        Ok(Some(Decoder {
            layers,
            pending: Vec::new(),
            consumed: 0,
            produced: 0,
            max,
            fed_any: false,
        }))
    }

    /// Queue compressed bytes; they are decoded by [`Decoder::decode`].
    pub fn feed(&mut self, input: &[u8]) {
        self.fed_any |= !input.is_empty();
        if self.consumed == self.pending.len() {
            self.pending.clear();
            self.consumed = 0;
        }
        self.pending.extend_from_slice(input);
    }

    /// True while queued input has not been decoded yet.
    pub fn has_pending(&self) -> bool {
        self.consumed < self.pending.len() || self.layers.iter().any(Layer::is_holding)
    }

    /// Decode queued input until it is used up or about `limit` bytes were produced.
    /// Once it is used up, all it decodes to has been handed over.
    pub fn decode(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), DecodeError> {
        let start = out.len();
        let mut ran = false;
        while self.has_pending() && out.len() - start < limit {
            if self.layers.iter().any(Layer::is_holding) {
                self.run(&[], out)?; // what a bounded layer holds goes first
            } else {
                let end = (self.consumed + SLICE).min(self.pending.len());
                let slice = self.pending[self.consumed..end].to_vec();
                self.consumed = end;
                self.run(&slice, out)?;
            }
            ran = true;
        }
        if !self.has_pending() {
            self.pending.clear();
            self.consumed = 0;
            if ran {
                self.flush(out)?;
            }
        }
        Ok(())
    }

    /// Flush every layer; what a layer flushes goes through the layers after it.
    fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        let count = self.layers.len();
        for i in 0..count {
            let mut data = Vec::new();
            self.layers[i].flush(&mut data)?;
            for j in i + 1..count {
                let mut next = Vec::new();
                self.layers[j].write(&data, &mut next)?;
                data = next;
            }
            out.extend_from_slice(&data);
        }
        Ok(())
    }

    fn run(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        let mut data = input.to_vec();
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let mut next = Vec::new();
            layer.write(&data, if i == last { out } else { &mut next })?;
            if i != last {
                data = next;
            }
        }
        Ok(())
    }

    /// All input was fed and decoded: flush every layer; a truncated stream is an error.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        if !self.fed_any {
            return Ok(());
        }
        self.decode(out, usize::MAX)?;
        let count = self.layers.len();
        for i in 0..count {
            self.decode(out, usize::MAX)?; // what the layers before passed on and is held
            let mut flushed = Vec::new();
            self.layers[i].finish(&mut flushed)?;
            // Whatever a layer flushes goes through the layers after it.
            let mut data = flushed;
            for j in i + 1..count {
                let mut next = Vec::new();
                self.layers[j].write(&data, &mut next)?;
                data = next;
            }
            out.extend_from_slice(&data);
        }
        Ok(())
    }

    /// Count produced bytes against the cap; called by the HTTP engine per piece.
    pub fn account(&mut self, produced: usize) -> Result<(), DecodeError> {
        self.produced += produced as u64;
        match self.max {
            Some(max) if self.produced > max => Err(DecodeError::TooLarge(max)),
            _ => Ok(()),
        }
    }
}
