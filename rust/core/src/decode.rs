//! Streaming content decoders: gzip, deflate (zlib and raw), br, zstd, stacked.
//!
//! Output comes in bounded steps: compressed input is held in `pending` and fed to the
//! decoders a small slice at a time, so one call never expands more than about
//! `limit + SLICE * 1032` bytes (deflate's worst ratio) however large the input is. A
//! decompression bomb streamed through `decode` therefore keeps memory flat.

use std::fmt;
use std::io::Write;

/// Stacked encodings allowed in one Content-Encoding (more is an error, not a raw body).
pub const MAX_LAYERS: usize = 5;
/// Compressed bytes fed to the first layer per step.
const SLICE: usize = 1024;

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
    Brotli(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
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
            "br" => Layer::Brotli(Box::new(brotli::DecompressorWriter::new(Vec::new(), 4096))),
            "zstd" => match zstd::stream::write::Decoder::new(Vec::new()) {
                Ok(d) => Layer::Zstd(Box::new(d)),
                Err(e) => return Some(Err(corrupt(e))),
            },
            _ => return None,
        }))
    }

    /// Feed `input`, appending whatever it decodes to `out`.
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
            Layer::Brotli(d) => {
                d.write_all(input).map_err(corrupt)?;
                out.append(d.get_mut());
            }
            Layer::Zstd(d) => {
                d.write_all(input).map_err(corrupt)?;
                out.append(d.get_mut());
            }
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
            Layer::Brotli(d) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
            }
            Layer::Zstd(d) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
            }
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
            Layer::Brotli(d) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
                // DecompressorWriter::close reports an incomplete stream.
                d.close().map_err(|_| truncated())?;
                out.append(d.get_mut());
            }
            Layer::Zstd(d) => {
                d.flush().map_err(corrupt)?;
                out.append(d.get_mut());
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
        self.consumed < self.pending.len()
    }

    /// Decode queued input until it is used up or about `limit` bytes were produced.
    /// Once it is used up, all it decodes to has been handed over.
    pub fn decode(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), DecodeError> {
        let start = out.len();
        let mut ran = false;
        while self.has_pending() && out.len() - start < limit {
            let end = (self.consumed + SLICE).min(self.pending.len());
            let slice = self.pending[self.consumed..end].to_vec();
            self.consumed = end;
            self.run(&slice, out)?;
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
