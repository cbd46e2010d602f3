//! PyO3 bindings of the aioclient engine: the module `aioclient._core`.
//!
//! This crate translates bytes and events between Python and `aioclient_core`; one
//! module (`handler`) also runs the per-read half of the asyncio protocol, where
//! profiles showed Python frames per read to matter. Decisions about HTTP, TLS and
//! WebSocket live in the core crate. All engine errors become Python objects here and
//! nowhere else.

mod handler;

use aioclient_core::h1::{self, Event, Limits, RequestOptions};
use aioclient_core::tls::{TlsConfig as CoreTlsConfig, TlsError, TlsSession, Verify};
use aioclient_core::ws;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString, PyTuple};

/// The parsed head of a final response, with the framing facts the Python layer needs.
#[pyclass(frozen, module = "aioclient._core")]
struct ResponseHead {
    #[pyo3(get)]
    status: u16,
    #[pyo3(get)]
    reason: Py<PyBytes>,
    #[pyo3(get)]
    version_minor: u8,
    /// Kept in Rust: Python objects for the headers are made only when asked for.
    raw_headers: Vec<(Vec<u8>, Vec<u8>)>,
    #[pyo3(get)]
    content_length: Option<u64>,
    #[pyo3(get)]
    chunked: bool,
    #[pyo3(get)]
    keep_alive: bool,
    #[pyo3(get)]
    content_type: Option<Py<PyBytes>>,
    #[pyo3(get)]
    content_encoding: Option<Py<PyBytes>>,
    #[pyo3(get)]
    location: Option<Py<PyBytes>>,
    #[pyo3(get)]
    has_set_cookie: bool,
}

/// A 1xx response (100 Continue, 103 Early Hints) seen before the final one.
#[pyclass(frozen, module = "aioclient._core")]
struct Informational {
    #[pyo3(get)]
    status: u16,
    #[pyo3(get)]
    headers: Py<PyList>,
}

#[pymethods]
impl ResponseHead {
    /// The headers as received: a list of `(name, value)` bytes pairs.
    #[getter]
    fn headers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        header_list(py, &self.raw_headers)
    }

    /// The headers as `(name, value)` str pairs, decoded as UTF-8 with surrogateescape
    /// (what `ClientResponse.headers` holds).
    fn decoded_headers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let items = self
            .raw_headers
            .iter()
            .map(|(k, v)| PyTuple::new(py, [decode_header(py, k)?, decode_header(py, v)?]))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.unbind())
    }
}

/// UTF-8 to str; bytes that are not UTF-8 become lone surrogates, as Python's
/// `bytes.decode("utf-8", "surrogateescape")` makes them.
fn decode_header<'py>(py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    match std::str::from_utf8(raw) {
        Ok(text) => Ok(PyString::new(py, text).into_any()),
        Err(_) => PyBytes::new(py, raw).call_method1("decode", ("utf-8", "surrogateescape")),
    }
}

/// The end of a response body, with its trailers.
#[pyclass(frozen, module = "aioclient._core")]
struct EndOfMessage {
    raw_trailers: Vec<(Vec<u8>, Vec<u8>)>,
}

#[pymethods]
impl EndOfMessage {
    /// Trailer fields of a chunked body: a list of `(name, value)` bytes pairs.
    #[getter]
    fn trailers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        header_list(py, &self.raw_trailers)
    }
}

/// The end of an HTTP chunk of a chunked body (what `StreamReader.readchunk()`
/// reports); one shared instance, `CHUNK_END`.
#[pyclass(frozen, module = "aioclient._core")]
pub(crate) struct ChunkEnd;

static CHUNK_END: pyo3::sync::GILOnceCell<Py<ChunkEnd>> = pyo3::sync::GILOnceCell::new();

fn chunk_end(py: Python<'_>) -> PyResult<PyObject> {
    Ok(CHUNK_END
        .get_or_try_init(py, || Py::new(py, ChunkEnd))?
        .clone_ref(py)
        .into_any())
}

/// The TLS handshake of the innermost layer completed, with what it negotiated (made
/// once per connection: what `ssl_object`, `peercert` and `cipher` report).
#[pyclass(frozen, module = "aioclient._core")]
struct HandshakeDone {
    #[pyo3(get)]
    alpn: Option<Py<PyBytes>>,
    #[pyo3(get)]
    version: Option<&'static str>,
    #[pyo3(get)]
    peer_sha256: Option<Py<PyBytes>>,
    /// `(name, protocol, bits)` as OpenSSL names the suite.
    #[pyo3(get)]
    cipher: Option<Py<PyTuple>>,
    /// The server's chain as sent, DER, end-entity first.
    #[pyo3(get)]
    peer_chain: Py<PyList>,
}

fn handshake_done(py: Python<'_>, session: &TlsSession) -> PyResult<PyObject> {
    let cipher = match session.cipher() {
        Some(c) => Some(
            PyTuple::new(
                py,
                [
                    PyString::new(py, c.name).into_any(),
                    PyString::new(py, c.protocol).into_any(),
                    c.bits.into_pyobject(py)?.into_any(),
                ],
            )?
            .unbind(),
        ),
        None => None,
    };
    let chain = session
        .peer_chain()
        .iter()
        .map(|der| PyBytes::new(py, der))
        .collect::<Vec<_>>();
    Ok(Py::new(
        py,
        HandshakeDone {
            alpn: opt_bytes(py, &session.alpn()),
            version: session.tls_version(),
            peer_sha256: session
                .peer_cert_sha256()
                .map(|d| PyBytes::new(py, &d).unbind()),
            cipher,
            peer_chain: PyList::new(py, chain)?.unbind(),
        },
    )?
    .into_any())
}

/// A protocol or TLS failure: always the last event of its batch.
#[pyclass(frozen, module = "aioclient._core")]
struct ProtocolError {
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    message: String,
    #[pyo3(get)]
    expected: Option<Py<PyBytes>>,
    #[pyo3(get)]
    got: Option<Py<PyBytes>>,
    /// A refused certificate: OpenSSL's verify code and message for it.
    #[pyo3(get)]
    verify_code: Option<u32>,
    #[pyo3(get)]
    verify_message: Option<String>,
}

fn header_list<'py>(py: Python<'py>, headers: &[(Vec<u8>, Vec<u8>)]) -> PyResult<Py<PyList>> {
    let items = headers
        .iter()
        .map(|(k, v)| PyTuple::new(py, [PyBytes::new(py, k), PyBytes::new(py, v)]))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.unbind())
}

fn opt_bytes(py: Python<'_>, value: &Option<Vec<u8>>) -> Option<Py<PyBytes>> {
    value.as_ref().map(|v| PyBytes::new(py, v).unbind())
}

fn protocol_error_event(py: Python<'_>, kind: &'static str, message: String) -> PyResult<PyObject> {
    Ok(Py::new(
        py,
        ProtocolError {
            kind,
            message,
            expected: None,
            got: None,
            verify_code: None,
            verify_message: None,
        },
    )?
    .into_any())
}

fn tls_error_event(py: Python<'_>, err: &TlsError) -> PyResult<PyObject> {
    let (expected, got) = match err {
        TlsError::FingerprintMismatch { expected, got } => (
            Some(PyBytes::new(py, expected).unbind()),
            Some(PyBytes::new(py, got).unbind()),
        ),
        _ => (None, None),
    };
    let (verify_code, verify_message) = match err {
        TlsError::Certificate { code, reason } => (Some(*code), Some(reason.clone())),
        _ => (None, None),
    };
    Ok(Py::new(
        py,
        ProtocolError {
            kind: err.kind(),
            message: err.to_string(),
            expected,
            got,
            verify_code,
            verify_message,
        },
    )?
    .into_any())
}

fn event_to_py(py: Python<'_>, event: Event) -> PyResult<PyObject> {
    Ok(match event {
        Event::Data(data) => PyBytes::new(py, &data).into_any().unbind(),
        Event::ChunkEnd => chunk_end(py)?,
        Event::Head(head) => Py::new(
            py,
            ResponseHead {
                status: head.status,
                reason: PyBytes::new(py, &head.reason).unbind(),
                version_minor: head.version_minor,
                raw_headers: head.headers,
                content_length: head.content_length,
                chunked: head.chunked,
                keep_alive: head.keep_alive,
                content_type: opt_bytes(py, &head.content_type),
                content_encoding: opt_bytes(py, &head.content_encoding),
                location: opt_bytes(py, &head.location),
                has_set_cookie: head.has_set_cookie,
            },
        )?
        .into_any(),
        Event::End(trailers) => Py::new(
            py,
            EndOfMessage {
                raw_trailers: trailers,
            },
        )?
        .into_any(),
        Event::Informational(info) => Py::new(
            py,
            Informational {
                status: info.status,
                headers: header_list(py, &info.headers)?,
            },
        )?
        .into_any(),
        Event::Error(err) => protocol_error_event(py, err.kind(), err.to_string())?,
    })
}

/// TLS settings built once and shared by every connection that uses them.
#[pyclass(frozen, module = "aioclient._core")]
struct TlsConfig {
    inner: CoreTlsConfig,
}

#[pymethods]
impl TlsConfig {
    /// `verify` is "platform", "none", "fingerprint" (with `fingerprint=`) or "ca" (with `ca_pem=`).
    #[new]
    #[pyo3(signature = (verify, *, fingerprint=None, ca_pem=None))]
    fn new(verify: &str, fingerprint: Option<&[u8]>, ca_pem: Option<&[u8]>) -> PyResult<Self> {
        let verify = match verify {
            "platform" => Verify::Platform,
            "none" => Verify::NoVerify,
            "ca" => Verify::CaPem(
                ca_pem
                    .ok_or_else(|| PyValueError::new_err("ca_pem is required"))?
                    .to_vec(),
            ),
            "fingerprint" => {
                let digest =
                    fingerprint.ok_or_else(|| PyValueError::new_err("fingerprint is required"))?;
                let digest: [u8; 32] = digest
                    .try_into()
                    .map_err(|_| PyValueError::new_err("fingerprint must be 32 bytes"))?;
                Verify::Fingerprint(digest)
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown verify mode {other:?}"
                )))
            }
        };
        let inner = CoreTlsConfig::new(verify).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(TlsConfig { inner })
    }
}

/// Validate and encode a request head; `ValueError` for CR/LF/NUL, bad method or names.
#[pyfunction]
fn encode_head<'py>(
    py: Python<'py>,
    method: &[u8],
    target: &[u8],
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    version_minor: u8,
) -> PyResult<Bound<'py, PyBytes>> {
    let pairs: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    let mut out = Vec::with_capacity(256);
    h1::encode_head(method, target, &pairs, version_minor, &mut out)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &out))
}

/// One connection: an HTTP/1.1 engine under zero, one or two TLS layers.
#[pyclass(module = "aioclient._core")]
struct Connection {
    http: h1::Connection,
    limits: (usize, usize, usize),
    /// Outermost first: [proxy TLS, origin TLS] for HTTPS through an HTTPS proxy.
    tls: Vec<TlsSession>,
    handshaking: bool,
    failed: bool,
    /// The peer's close_notify was seen (and answered).
    tls_closed: bool,
}

impl Connection {
    /// Encrypt `data` with the layers below `depth` (innermost first), returning the wire bytes.
    fn wrap(&mut self, depth: usize, data: Vec<u8>) -> Result<Vec<u8>, TlsError> {
        let mut data = data;
        for layer in self.tls[..depth].iter_mut().rev() {
            let mut out = Vec::with_capacity(data.len() + 64);
            layer.send(&data, &mut out)?;
            data = out;
        }
        Ok(data)
    }

    fn wrap_all(&mut self, data: Vec<u8>) -> PyResult<Vec<u8>> {
        let depth = self.tls.len();
        self.wrap(depth, data)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// `receive` for bytes that may not be a `bytes` object (a read buffer's filled
    /// part). `data_obj`, when given, is `data` as a `bytes` object: a read that is all
    /// body hands it over as it is, without a copy. Otherwise such a read is copied out
    /// in pieces of `piece` bytes (the body stream's chunk size, which a reader asking
    /// for that much then takes whole: one copy, as with the bytes object).
    pub(crate) fn receive_slice<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        data_obj: Option<&Bound<'py, PyBytes>>,
        piece: usize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyBytes>)> {
        let mut py_events: Vec<PyObject> = Vec::new();
        let mut wire = Vec::new();
        if self.failed {
            return Ok((PyList::new(py, py_events)?, PyBytes::new(py, &wire)));
        }
        let mut events = Vec::new();
        if self.tls.is_empty() {
            match self.http.passthrough_len() {
                // Pure body bytes.
                Some(n) if !data.is_empty() && data.len() as u64 <= n => {
                    match data_obj {
                        Some(obj) => py_events.push(obj.clone().into_any().unbind()),
                        None => {
                            for chunk in data.chunks(piece.max(1)) {
                                py_events.push(PyBytes::new(py, chunk).into_any().unbind());
                            }
                        }
                    }
                    self.http.consume_passthrough(data.len(), &mut events);
                }
                _ => self.http.receive(data, &mut events),
            }
        } else {
            let mut buf = data.to_vec();
            for depth in 0..self.tls.len() {
                let mut plaintext = Vec::new();
                let mut out = Vec::new();
                let result = self.tls[depth].receive(&buf, &mut plaintext, &mut out);
                if !out.is_empty() {
                    match self.wrap(depth, out) {
                        Ok(bytes) => wire.extend(bytes),
                        Err(err) => {
                            self.failed = true;
                            py_events.push(tls_error_event(py, &err)?);
                            return Ok((PyList::new(py, py_events)?, PyBytes::new(py, &wire)));
                        }
                    }
                }
                if let Err(err) = result {
                    self.failed = true;
                    py_events.push(tls_error_event(py, &err)?);
                    return Ok((PyList::new(py, py_events)?, PyBytes::new(py, &wire)));
                }
                buf = plaintext;
            }
            let inner = self.tls.last().expect("at least one layer");
            if self.handshaking && !inner.is_handshaking() {
                self.handshaking = false;
                py_events.push(handshake_done(py, inner)?);
            }
            if !buf.is_empty() {
                self.http.receive(&buf, &mut events);
            }
            if !self.tls_closed && self.tls.iter().any(TlsSession::peer_closed) {
                // close_notify is the end of the stream (RFC 8446 §6.1): it ends a
                // close-delimited body, and we answer with ours so the peer can close.
                self.tls_closed = true;
                self.http.receive_eof(&mut events);
                for depth in (0..self.tls.len()).rev() {
                    let mut out = Vec::new();
                    self.tls[depth].close(&mut out);
                    if !out.is_empty() {
                        wire.extend(self.wrap(depth, out).unwrap_or_default());
                    }
                }
            }
        }
        for event in events {
            py_events.push(event_to_py(py, event)?);
        }
        Ok((PyList::new(py, py_events)?, PyBytes::new(py, &wire)))
    }

    /// A new HTTP/1.1 exchange with the same limits (inside a freshly opened tunnel).
    fn restart_http(&mut self) {
        let (max_line_size, max_field_size, max_headers) = self.limits;
        self.http = h1::Connection::new(Limits {
            max_line_size,
            max_field_size,
            max_headers,
        });
    }
}

#[pymethods]
impl Connection {
    #[new]
    #[pyo3(signature = (max_line_size=8190, max_field_size=8190, max_headers=128))]
    fn new(max_line_size: usize, max_field_size: usize, max_headers: usize) -> Self {
        Connection {
            http: h1::Connection::new(Limits {
                max_line_size,
                max_field_size,
                max_headers,
            }),
            limits: (max_line_size, max_field_size, max_headers),
            tls: Vec::new(),
            handshaking: false,
            failed: false,
            tls_closed: false,
        }
    }

    /// Head size limits for the next response.
    fn set_limits(&mut self, max_line_size: usize, max_field_size: usize, max_headers: usize) {
        self.limits = (max_line_size, max_field_size, max_headers);
        self.http.set_limits(Limits {
            max_line_size,
            max_field_size,
            max_headers,
        });
    }

    /// Start a TLS layer; with `tunnel`, inside the existing ones and on a fresh HTTP engine
    /// (after a CONNECT). Returns the bytes to write (the ClientHello, wrapped), or the
    /// failure event when the server name can match no certificate.
    #[pyo3(signature = (config, server_name, tunnel=false))]
    fn start_tls<'py>(
        &mut self,
        py: Python<'py>,
        config: &TlsConfig,
        server_name: &str,
        tunnel: bool,
    ) -> PyResult<PyObject> {
        let (session, hello) = match TlsSession::new(&config.inner, server_name) {
            Ok(started) => started,
            // Refused before a byte is sent: reported as the handshake's failure event.
            Err(err @ TlsError::Certificate { .. }) => return tls_error_event(py, &err),
            Err(err) => return Err(PyValueError::new_err(err.to_string())),
        };
        if tunnel {
            self.restart_http();
        }
        self.tls.push(session);
        self.handshaking = true;
        let depth = self.tls.len() - 1;
        let wire = self
            .wrap(depth, hello)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &wire).into_any().unbind())
    }

    /// A CONNECT tunnel carrying plain HTTP (a ws:// target) is open: the next request
    /// is a fresh HTTP/1.1 exchange inside it.
    fn enter_plain_tunnel(&mut self) -> PyResult<()> {
        if !self.http.is_upgraded() {
            return Err(PyValueError::new_err("no CONNECT tunnel is open"));
        }
        self.restart_http();
        Ok(())
    }

    /// Write a request: a head from `encode_head` plus an optional small body.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (head, body, no_body, connect, chunked, decompress, max_decompressed_size, read_until_eof=true, upgrade=false))]
    fn send_request<'py>(
        &mut self,
        py: Python<'py>,
        head: &[u8],
        body: Option<&[u8]>,
        no_body: bool,
        connect: bool,
        chunked: bool,
        decompress: bool,
        max_decompressed_size: Option<u64>,
        read_until_eof: bool,
        upgrade: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let opts = RequestOptions {
            head: no_body,
            connect,
            upgrade,
            decompress,
            max_decompressed_size,
            body_needs_framing: !read_until_eof,
        };
        let mut out = Vec::with_capacity(head.len() + body.map_or(0, |b| b.len()) + 16);
        self.http
            .send_encoded(head, body, chunked, opts, &mut out)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let wire = if self.tls.is_empty() {
            out
        } else {
            self.wrap_all(out)?
        };
        Ok(PyBytes::new(py, &wire))
    }

    /// Write a piece of a streamed body (chunk-framed if the request is chunked).
    #[pyo3(signature = (data, last=false))]
    fn send_body<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        last: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::with_capacity(data.len() + 16);
        self.http.send_body(data, last, &mut out);
        let wire = if self.tls.is_empty() {
            out
        } else {
            self.wrap_all(out)?
        };
        Ok(PyBytes::new(py, &wire))
    }

    /// Bytes for an upgraded connection (WebSocket frames), through the TLS layers.
    fn send_raw<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let wire = if self.tls.is_empty() {
            data.to_vec()
        } else {
            self.wrap_all(data.to_vec())?
        };
        Ok(PyBytes::new(py, &wire))
    }

    /// Send TLS close_notify on every layer (innermost first); returns the bytes to write.
    fn close_tls<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let mut wire = Vec::new();
        for depth in (0..self.tls.len()).rev() {
            let mut out = Vec::new();
            self.tls[depth].close(&mut out);
            if !out.is_empty() {
                wire.extend(self.wrap(depth, out).unwrap_or_default());
            }
        }
        Ok(PyBytes::new(py, &wire))
    }

    /// Feed bytes read from the socket: returns (events, bytes to write back).
    #[pyo3(signature = (data, /))]
    fn receive<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyBytes>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyBytes>)> {
        self.receive_slice(py, data.as_bytes(), Some(data), usize::MAX)
    }
    /// The peer closed the stream: ends a close-delimited body or reports what was cut.
    fn receive_eof<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut py_events: Vec<PyObject> = Vec::new();
        if self.failed {
            return PyList::new(py, py_events);
        }
        // A TLS stream that ends without close_notify may have been cut by an attacker:
        // a close-delimited body ending there is not a complete body (RFC 8446 §6.1).
        if self.tls_closed {
            return PyList::new(py, py_events); // already ended by close_notify
        }
        let truncated = self
            .tls
            .iter_mut()
            .any(|layer| layer.receive_eof().is_err());
        let mut events = Vec::new();
        self.http.receive_eof(&mut events);
        for event in events {
            if truncated && matches!(event, Event::End(_)) {
                py_events.push(protocol_error_event(
                    py,
                    "truncated",
                    "TLS stream ended without close_notify: the body may be truncated".to_string(),
                )?);
                break;
            }
            py_events.push(event_to_py(py, event)?);
        }
        PyList::new(py, py_events)
    }

    /// True when the connection may carry another request.
    #[getter]
    fn reusable(&self) -> bool {
        !self.failed && self.http.reusable() && self.tls.iter().all(|l| !l.peer_closed())
    }

    /// Bytes left of a plain Content-Length body that the caller may read straight into
    /// its own buffer (no TLS, no decoding, nothing buffered here); `None` otherwise.
    #[getter]
    fn body_remaining(&self) -> Option<u64> {
        if !self.tls.is_empty() || self.failed {
            return None;
        }
        self.http.passthrough_len().filter(|&n| n != u64::MAX)
    }

    /// Account for `n` body bytes the caller read itself (see `body_remaining`);
    /// returns the events this completes (the end of the message).
    fn consume_body<'py>(&mut self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyList>> {
        let mut events = Vec::new();
        self.http.consume_passthrough(n, &mut events);
        let py_events = events
            .into_iter()
            .map(|event| event_to_py(py, event))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, py_events)
    }

    /// True when decoded output is waiting for `receive(b"")`.
    #[getter]
    fn has_pending(&self) -> bool {
        self.http.has_pending()
    }

    /// True after a 101 or a 2xx answer to CONNECT.
    #[getter]
    fn is_upgraded(&self) -> bool {
        self.http.is_upgraded()
    }

    /// True while the innermost TLS handshake is in progress.
    #[getter]
    fn handshaking(&self) -> bool {
        self.handshaking
    }
}

/// A WebSocket client codec (RFC 6455 with permessage-deflate, RFC 7692).
#[pyclass(module = "aioclient._core")]
struct WebSocketCodec {
    inner: ws::Codec,
}

fn ws_opcode(opcode: u8) -> PyResult<ws::Opcode> {
    Ok(match opcode {
        0 => ws::Opcode::Continuation,
        1 => ws::Opcode::Text,
        2 => ws::Opcode::Binary,
        8 => ws::Opcode::Close,
        9 => ws::Opcode::Ping,
        10 => ws::Opcode::Pong,
        other => return Err(PyValueError::new_err(format!("invalid opcode {other}"))),
    })
}

#[pymethods]
impl WebSocketCodec {
    /// `deflate_header` is the server's Sec-WebSocket-Extensions value, if any;
    /// `decode_text=False` hands text messages over as bytes, their UTF-8 unchecked.
    #[new]
    #[pyo3(signature = (max_msg_size, deflate_header=None, decode_text=true))]
    fn new(
        max_msg_size: usize,
        deflate_header: Option<&[u8]>,
        decode_text: bool,
    ) -> PyResult<Self> {
        let deflate = match deflate_header {
            Some(h) => {
                ws::Deflate::from_response(h).map_err(|e| PyValueError::new_err(e.to_string()))?
            }
            None => None,
        };
        Ok(WebSocketCodec {
            inner: ws::Codec::new(max_msg_size, deflate).with_decode_text(decode_text),
        })
    }

    /// One masked frame (or message) for `opcode`, as bytes to write.
    #[pyo3(signature = (opcode, payload, fin=true, compress=true))]
    fn encode<'py>(
        &mut self,
        py: Python<'py>,
        opcode: u8,
        payload: &[u8],
        fin: bool,
        compress: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = Vec::with_capacity(payload.len() + 14);
        self.inner
            .encode(ws_opcode(opcode)?, payload, fin, compress, &mut out);
        Ok(PyBytes::new(py, &out))
    }

    /// A Close frame with an optional code and reason (bytes, sent as given).
    #[pyo3(signature = (code=None, reason=None))]
    fn encode_close<'py>(
        &mut self,
        py: Python<'py>,
        code: Option<u16>,
        reason: Option<&[u8]>,
    ) -> Bound<'py, PyBytes> {
        let mut out = Vec::new();
        self.inner
            .encode_close(code, reason.unwrap_or_default(), &mut out);
        PyBytes::new(py, &out)
    }

    /// Feed bytes: returns a list of (opcode, data, extra) tuples; an error is
    /// (-1, message, close_code) and is the last item.
    fn receive<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        let mut messages = Vec::new();
        self.inner.receive(data, &mut messages);
        let mut items: Vec<Bound<'py, PyTuple>> = Vec::with_capacity(messages.len());
        for message in messages {
            let item = match message {
                Ok(ws::Message::Text(text)) => (
                    1u8.into_pyobject(py)?.into_any(),
                    text.into_pyobject(py)?.into_any(),
                    py.None().into_bound(py),
                ),
                Ok(ws::Message::TextBytes(bytes)) => (
                    1u8.into_pyobject(py)?.into_any(),
                    PyBytes::new(py, &bytes).into_any(),
                    py.None().into_bound(py),
                ),
                Ok(ws::Message::Binary(bytes)) => (
                    2u8.into_pyobject(py)?.into_any(),
                    PyBytes::new(py, &bytes).into_any(),
                    py.None().into_bound(py),
                ),
                Ok(ws::Message::Ping(bytes)) => (
                    9u8.into_pyobject(py)?.into_any(),
                    PyBytes::new(py, &bytes).into_any(),
                    py.None().into_bound(py),
                ),
                Ok(ws::Message::Pong(bytes)) => (
                    10u8.into_pyobject(py)?.into_any(),
                    PyBytes::new(py, &bytes).into_any(),
                    py.None().into_bound(py),
                ),
                Ok(ws::Message::Close(code, reason)) => (
                    8u8.into_pyobject(py)?.into_any(),
                    reason.into_pyobject(py)?.into_any(),
                    code.into_pyobject(py)?.into_any(),
                ),
                Err(err) => (
                    (-1i32).into_pyobject(py)?.into_any(),
                    err.to_string().into_pyobject(py)?.into_any(),
                    err.close_code().into_pyobject(py)?.into_any(),
                ),
            };
            items.push(PyTuple::new(py, [item.0, item.1, item.2])?);
        }
        PyList::new(py, items)
    }
}

/// How many bytes of `buffer` to skip for reads to start on a page boundary.
///
/// Measured reason (benches, `perf`): a read buffer that starts 16 bytes into a page (a
/// large bytearray is an mmap with a 16-byte header) made the kernel's copy from a
/// page-aligned socket buffer (`_copy_to_iter`) several times slower: 100 MB streamed
/// took 80-110 ms of CPU instead of 40-46, and which of the two a process got depended
/// on its heap layout. Read buffers are allocated a page larger for this.
#[pyfunction]
pub(crate) fn page_start(buffer: &Bound<'_, PyByteArray>) -> usize {
    const PAGE: usize = 4096;
    let start = (PAGE - buffer.data() as usize % PAGE) % PAGE;
    if start < buffer.len() {
        start
    } else {
        0
    }
}

/// The Sec-WebSocket-Key for a handshake (16 random bytes, base64).
#[pyfunction]
fn ws_handshake_key() -> String {
    ws::handshake_key()
}

/// The Sec-WebSocket-Accept a server must answer for `key`.
#[pyfunction]
fn ws_accept_for(key: &str) -> String {
    ws::accept_for(key)
}

/// A `bytes` object of a known length, filled by copies and handed over only when full:
/// a whole response body with no join and no per-read objects.
///
/// The object starts uninitialised (no zero-filling) and no Python code can reach it
/// until `finish()`, which succeeds only once every byte has been written. Writes are
/// copies from Python memory (`write`, `write_from`); no view of the storage is ever
/// given out, so nothing can alias it after the handover.
#[pyclass(module = "aioclient._core")]
struct BodyBuffer {
    bytes: Option<Py<PyBytes>>,
    len: usize,
    filled: usize,
}

impl BodyBuffer {
    /// Copy `data` in after what is filled (the caller checked that it fits).
    fn append(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        if data.len() > self.len - self.filled {
            return Err(PyValueError::new_err(
                "more bytes than the body buffer holds",
            ));
        }
        let bytes = self
            .bytes
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the body buffer was handed over"))?;
        // SAFETY: `bytes` is a live bytes object of `len` bytes that only this buffer
        // references (see `new`); PyBytes_AsString returns its storage. The destination
        // range `filled .. filled + data.len()` lies inside it (checked above), and
        // `data` is another object's memory, so the ranges do not overlap.
        unsafe {
            let base = pyo3::ffi::PyBytes_AsString(bytes.bind(py).as_ptr()) as *mut u8;
            std::ptr::copy_nonoverlapping(data.as_ptr(), base.add(self.filled), data.len());
        }
        self.filled += data.len();
        Ok(())
    }
}

#[pymethods]
impl BodyBuffer {
    #[new]
    fn new(py: Python<'_>, len: usize) -> PyResult<Self> {
        let size = pyo3::ffi::Py_ssize_t::try_from(len)
            .map_err(|_| PyValueError::new_err("body buffer too large"))?;
        // SAFETY: with a null source pointer CPython allocates a new bytes object of
        // `size` uninitialised bytes. It is referenced only by this BodyBuffer, which
        // hands it out (`finish`) only after all `len` bytes have been written.
        let ptr = unsafe { pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size) };
        // SAFETY: `ptr` is a new (owned) reference, or null with an exception set.
        let bytes = unsafe { Bound::from_owned_ptr_or_err(py, ptr)? }.downcast_into::<PyBytes>()?;
        Ok(Self {
            bytes: Some(bytes.unbind()),
            len,
            filled: 0,
        })
    }

    /// Bytes written so far.
    #[getter]
    fn filled(&self) -> usize {
        self.filled
    }

    /// Bytes still to write.
    #[getter]
    fn remaining(&self) -> usize {
        self.len - self.filled
    }

    /// Copy `data` in after what is already filled.
    fn write(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        self.append(py, data)
    }

    /// Copy the first `n` bytes read into `source` (a read buffer, whose reads start
    /// at `page_start`) in after what is filled.
    fn write_from(
        &mut self,
        py: Python<'_>,
        source: &Bound<'_, PyByteArray>,
        n: usize,
    ) -> PyResult<()> {
        let start = page_start(source);
        if start + n > source.len() {
            return Err(PyValueError::new_err("n is larger than the source"));
        }
        // SAFETY: no Python code runs while the slice is alive (`append` only copies), so
        // the bytearray cannot be resized or freed under it.
        let data = unsafe { &source.as_bytes()[start..start + n] };
        self.append(py, data)
    }

    /// The body, once every byte is written; the buffer is empty afterwards.
    fn finish(&mut self) -> PyResult<Py<PyBytes>> {
        if self.filled != self.len {
            return Err(PyValueError::new_err("the body buffer is not full"));
        }
        self.bytes
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("the body buffer was handed over"))
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Connection>()?;
    m.add_class::<handler::HandlerBase>()?;
    m.add_class::<TlsConfig>()?;
    m.add_class::<ResponseHead>()?;
    m.add_class::<Informational>()?;
    m.add_class::<EndOfMessage>()?;
    m.add_class::<ChunkEnd>()?;
    m.add_class::<HandshakeDone>()?;
    m.add_class::<ProtocolError>()?;
    m.add_class::<WebSocketCodec>()?;
    m.add_class::<BodyBuffer>()?;
    m.add_function(wrap_pyfunction!(encode_head, m)?)?;
    m.add_function(wrap_pyfunction!(ws_handshake_key, m)?)?;
    m.add_function(wrap_pyfunction!(page_start, m)?)?;
    m.add_function(wrap_pyfunction!(ws_accept_for, m)?)?;
    Ok(())
}
