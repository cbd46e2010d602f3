//! `HandlerBase`: the per-read half of `aioclient.protocol.ResponseHandler`, in Rust.
//!
//! The Python frames around each read (`data_received`, the whole-response case, the
//! pool's `reusable` check, `send_plain`) ran on every request; here they cost about 3k
//! fewer instructions per sequential request (callgrind), and reads go into a buffer
//! instead of a fresh 256 KiB `bytes`. This class holds the state those paths touch and
//! runs them without Python frames; everything else (streamed bodies, errors, timers,
//! TLS, flow control) stays in the Python subclass, which this code calls by method
//! name when it needs it. Decisions about HTTP stay in the core crate: this only moves
//! events to futures and callbacks.

use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PySlice, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::{page_start, ChunkEnd, Connection, EndOfMessage, ResponseHead};

/// The smallest and the largest read offered to the transport, whatever the
/// `read_bufsize`. 128 KiB is the read the benchmarks were tuned with; a larger one
/// would also hold more objects at once when a body comes in tiny HTTP chunks (a
/// `bytes` per chunk).
const MIN_READ: usize = 64 * 1024;
const MAX_READ: usize = 128 * 1024;
/// The body of a read is handed to the stream in pieces of this size, whatever the
/// `read_bufsize` (aiohttp's default is 256 KiB): what `iter_chunked(65536)` takes
/// whole, without a copy, and never a `bytes` object per few bytes.
const PIECE: usize = 64 * 1024;

/// Base class of `ResponseHandler`: its hot state and its hot methods.
#[pyclass(subclass, module = "aioclient._core")]
#[derive(Default)]
pub(crate) struct HandlerBase {
    #[pyo3(get, set, name = "_loop")]
    event_loop: Option<PyObject>,
    #[pyo3(get, set, name = "_conn")]
    conn: Option<Py<Connection>>,
    #[pyo3(get, set)]
    transport: Option<PyObject>,
    #[pyo3(get, set)]
    head_waiter: Option<PyObject>,
    #[pyo3(get, set)]
    continue_waiter: Option<PyObject>,
    #[pyo3(get, set)]
    payload: Option<PyObject>,
    #[pyo3(get, set)]
    on_message_complete: Option<PyObject>,
    #[pyo3(get, set, name = "_exception")]
    exception: Option<PyObject>,
    /// Set through `prepare` / `set_read_timeout` (0 means none).
    #[pyo3(get, name = "_read_timeout")]
    read_timeout: Option<f64>,
    #[pyo3(get, set, name = "_read_timer")]
    read_timer: Option<PyObject>,
    #[pyo3(get, set, name = "_read_bufsize")]
    read_bufsize: usize,
    #[pyo3(get, set, name = "_head_limits")]
    head_limits: (usize, usize, usize),
    #[pyo3(get, set, name = "_request_chunked")]
    request_chunked: bool,
    #[pyo3(get, set, name = "_pending_hold")]
    pending_hold: bool,
    #[pyo3(get, set, name = "_raw_pipe")]
    raw_pipe: bool,
    #[pyo3(get, set, name = "_body_withheld")]
    body_withheld: bool,
    /// Where the transport reads into (shared by the event loop's connections: a loop
    /// handles a read before the next one starts, in one thread at a time).
    #[pyo3(get, set, name = "_read_buffer")]
    read_buffer: Option<Py<PyByteArray>>,
    /// The part of `read_buffer` a read may fill, and its length.
    read_view: Option<PyObject>,
    read_view_len: usize,
}

/// What a read brought: a `bytes` object, or the first bytes of the read buffer.
enum Input<'a, 'py> {
    Bytes(&'a Bound<'py, PyBytes>),
    Buffer(usize),
}

fn clone_opt(py: Python<'_>, value: &Option<PyObject>) -> Option<PyObject> {
    value.as_ref().map(|v| v.clone_ref(py))
}

impl HandlerBase {
    fn conn<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, Connection>> {
        self.conn
            .as_ref()
            .map(|c| c.bind(py).clone())
            .ok_or_else(|| PyRuntimeError::new_err("handler without a connection"))
    }

    /// A whole response (head, body, end) arrived in one read while no stream was
    /// open: the head waiter gets `(head, body)` with the body as `bytes`, and the
    /// connection is handed back (`on_message_complete`) at once.
    fn on_whole_response(
        slf: &Bound<'_, Self>,
        head: Bound<'_, PyAny>,
        body: Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let py = slf.py();
        let (waiter, waits_for_continue) = {
            let mut this = slf.borrow_mut();
            (this.head_waiter.take(), this.continue_waiter.is_some())
        };
        if waits_for_continue {
            slf.call_method0(intern!(py, "_final_answer_came"))?;
        }
        if let Some(waiter) = waiter {
            let waiter = waiter.bind(py);
            if !waiter.call_method0(intern!(py, "done"))?.is_truthy()? {
                waiter.call_method1(
                    intern!(py, "set_result"),
                    (PyTuple::new(py, [head, body])?,),
                )?;
            }
        }
        if slf.borrow().read_timer.is_some() {
            slf.call_method0(intern!(py, "_cancel_read_timer"))?;
        }
        let callback = slf.borrow_mut().on_message_complete.take();
        if let Some(callback) = callback {
            callback.call1(py, (slf,))?;
        }
        Ok(())
    }
    /// The stream to feed, the bytes to feed it and whether HTTP chunks ended among
    /// them, when `events` are all non-empty body pieces (and chunk ends) and a stream
    /// takes them.
    fn body_only_payload<'py>(
        slf: &Bound<'py, Self>,
        events: &Bound<'py, PyList>,
    ) -> PyResult<Option<(Bound<'py, PyAny>, usize, bool)>> {
        let py = slf.py();
        let payload = match &slf.borrow().payload {
            Some(payload) => payload.bind(py).clone(),
            None => return Ok(None),
        };
        let mut size = 0;
        let mut chunk_ends = false;
        for event in events.iter() {
            match event.downcast_exact::<PyBytes>() {
                Ok(piece) if !piece.as_bytes().is_empty() => size += piece.as_bytes().len(),
                Err(_) if event.is_exact_instance_of::<ChunkEnd>() => chunk_ends = true,
                _ => return Ok(None),
            }
        }
        Ok(Some((payload, size, chunk_ends)))
    }
    /// One call into the engine per read. A whole response is delivered here; other
    /// events go to the subclass's `_dispatch`.
    fn feed(slf: &Bound<'_, Self>, input: Input<'_, '_>) -> PyResult<()> {
        let py = slf.py();
        let (conn, raw_pipe, buffer) = {
            let this = slf.borrow();
            let buffer = match input {
                Input::Buffer(_) => Some(
                    this.read_buffer
                        .as_ref()
                        .map(|b| b.clone_ref(py))
                        .ok_or_else(|| PyRuntimeError::new_err("handler without a read buffer"))?,
                ),
                Input::Bytes(_) => None,
            };
            (this.conn(py)?, this.raw_pipe, buffer)
        };
        if raw_pipe {
            // An upgraded plain connection (WebSocket): bytes go straight to the reader.
            let data = match (&input, &buffer) {
                (Input::Bytes(data), _) => (*data).clone(),
                (Input::Buffer(n), Some(buffer)) => {
                    // SAFETY: see `received` below; PyBytes::new copies before any
                    // Python code runs.
                    let buffer = buffer.bind(py);
                    let start = page_start(buffer);
                    PyBytes::new(py, unsafe { &buffer.as_bytes()[start..start + *n] })
                }
                (Input::Buffer(_), None) => unreachable!("a buffer read has a buffer"),
            };
            let payload = clone_opt(py, &slf.borrow().payload);
            if let Some(payload) = payload {
                payload.call_method1(py, intern!(py, "feed_data"), (data,))?;
            }
            return Ok(());
        }
        let received = match (&input, &buffer) {
            (Input::Bytes(data), _) => conn.borrow_mut().receive(py, data),
            (Input::Buffer(n), Some(buffer)) => {
                // SAFETY: `as_bytes` needs the bytearray unchanged (and unresized) while
                // the slice lives. It is private to the handlers of one event loop, which
                // runs in one thread at a time; a memoryview export keeps it from being
                // resized; the slice is only read by the engine, which runs no Python
                // code (its allocations may run the cycle collector, whose finalizers
                // have no reference to this buffer); the slice is gone before any
                // callback below runs.
                // Measured reason (benches, callgrind): reading into one reused buffer
                // saves asyncio's 256 KiB allocation per read, which in some heap
                // layouts was an mmap, munmap and two page faults per request.
                let buffer = buffer.bind(py);
                let start = page_start(buffer); // where get_buffer's view starts
                let data = unsafe { &buffer.as_bytes()[start..start + *n] };
                conn.borrow_mut().receive_slice(py, data, None, PIECE)
            }
            (Input::Buffer(_), None) => unreachable!("a buffer read has a buffer"),
        };
        let (events, out) = match received {
            Ok(pair) => pair,
            Err(err) => {
                // Engine misuse: never expected.
                slf.call_method1(intern!(py, "_engine_failed"), (err.value(py),))?;
                return Ok(());
            }
        };
        if !out.as_bytes().is_empty() {
            let transport = clone_opt(py, &slf.borrow().transport);
            if let Some(transport) = transport {
                transport.call_method1(py, intern!(py, "write"), (out,))?;
            }
        }
        let count = events.len();
        if count > 0 {
            if count <= 4 && slf.borrow().payload.is_none() && is_whole_response(&events)? {
                let head = events.get_item(0)?;
                let body = if count > 2 {
                    events.get_item(1)?
                } else {
                    PyBytes::new(py, b"").into_any()
                };
                Self::on_whole_response(slf, head, body)?;
            } else if let Some((payload, size, chunk_ends)) = Self::body_only_payload(slf, &events)?
            {
                // Body bytes of a streamed response (the usual read of a download):
                // straight to its reader.
                let method = if chunk_ends {
                    intern!(py, "_feed_http_chunks")
                } else {
                    intern!(py, "_feed_pieces")
                };
                payload.call_method1(method, (events, size))?;
            } else {
                slf.call_method1(intern!(py, "_dispatch"), (events,))?;
            }
        }
        let (has_timer, pending_hold) = {
            let this = slf.borrow();
            (this.read_timer.is_some(), this.pending_hold)
        };
        if has_timer {
            slf.call_method0(intern!(py, "_reschedule_read_timer"))?;
        }
        if conn.borrow().has_pending() {
            slf.call_method0(intern!(py, "_hold_for_pending"))?;
        } else if pending_hold {
            slf.call_method0(intern!(py, "_release_pending_hold"))?;
        }
        Ok(())
    }
}

#[pymethods]
impl HandlerBase {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        HandlerBase {
            read_bufsize: 1 << 18,
            head_limits: (8190, 8190, 128),
            ..Default::default()
        }
    }

    /// The Python objects held here, for the cycle collector: a handler sits in cycles
    /// (transport <-> protocol, waiter callbacks) that an unclosed session leaves.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for object in [
            &self.event_loop,
            &self.transport,
            &self.head_waiter,
            &self.continue_waiter,
            &self.payload,
            &self.on_message_complete,
            &self.exception,
            &self.read_timer,
            &self.read_view,
        ]
        .into_iter()
        .flatten()
        {
            visit.call(object)?;
        }
        if let Some(conn) = &self.conn {
            visit.call(conn)?;
        }
        if let Some(buffer) = &self.read_buffer {
            visit.call(buffer)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.event_loop = None;
        self.transport = None;
        self.head_waiter = None;
        self.continue_waiter = None;
        self.payload = None;
        self.on_message_complete = None;
        self.exception = None;
        self.read_timer = None;
        self.read_view = None;
        self.conn = None;
        self.read_buffer = None;
    }

    /// True when the connection may carry another request.
    #[getter]
    fn reusable(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.transport.is_some()
            && self.exception.is_none()
            && !self.body_withheld
            && self.conn(py)?.borrow().reusable())
    }

    /// asyncio.BufferedProtocol: the transport reads into the shared read buffer, from
    /// its first page boundary (`page_start`), twice the response's `read_bufsize` at a
    /// time (64 to 128 KiB). A stream pauses
    /// reading above twice its `read_bufsize`, so one read does not pause it by itself
    /// (each pause and resume is two epoll_ctl calls and a trip through the selector).
    fn get_buffer(slf: &Bound<'_, Self>, _sizehint: isize) -> PyResult<PyObject> {
        let py = slf.py();
        let mut this = slf.borrow_mut();
        let buffer = this
            .read_buffer
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("handler without a read buffer"))?
            .bind(py)
            .clone();
        let start = page_start(&buffer);
        let size = this
            .read_bufsize
            .saturating_mul(2)
            .clamp(MIN_READ, MAX_READ)
            .min(buffer.len() - start);
        if this.read_view.is_none() || this.read_view_len != size {
            let view = PyMemoryView::from(&buffer)?
                .get_item(PySlice::new(py, start as isize, (start + size) as isize, 1))?
                .unbind();
            this.read_view = Some(view);
            this.read_view_len = size;
        }
        Ok(clone_opt(py, &this.read_view).expect("set above"))
    }

    /// asyncio.BufferedProtocol: `nbytes` were read into the buffer.
    fn buffer_updated(slf: &Bound<'_, Self>, nbytes: usize) -> PyResult<()> {
        Self::feed(slf, Input::Buffer(nbytes))
    }

    /// asyncio.Protocol: bytes from a transport that does not read into our buffer
    /// (and the handler's own re-feeds).
    fn data_received(slf: &Bound<'_, Self>, data: &Bound<'_, PyBytes>) -> PyResult<()> {
        Self::feed(slf, Input::Bytes(data))
    }

    /// Settings for the next response: `sock_read` (the longest gap allowed between two
    /// reads), the body stream's buffer size, and the head size limits
    /// `(max_line_size, max_field_size, max_headers)`.
    #[pyo3(signature = (read_timeout, read_bufsize, head_limits))]
    fn prepare(
        &mut self,
        py: Python<'_>,
        read_timeout: Option<f64>,
        read_bufsize: usize,
        head_limits: (usize, usize, usize),
    ) -> PyResult<()> {
        self.set_read_timeout(read_timeout);
        self.read_bufsize = read_bufsize;
        if head_limits != self.head_limits {
            self.head_limits = head_limits;
            self.conn(py)?
                .borrow_mut()
                .set_limits(head_limits.0, head_limits.1, head_limits.2);
        }
        Ok(())
    }

    /// `sock_read`: the longest gap allowed between two reads (0 or None: no limit, as
    /// in aiohttp).
    #[pyo3(signature = (timeout))]
    fn set_read_timeout(&mut self, timeout: Option<f64>) {
        self.read_timeout = timeout.filter(|&t| t != 0.0);
    }

    /// `prepare`, then send a request without a body (the session's fast path);
    /// returns the future of `(head, body)`. `on_message_complete` runs when the
    /// response ends.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (head, no_body, decompress, max_decompressed_size, read_timeout, read_bufsize, head_limits, on_message_complete))]
    fn send_plain<'py>(
        slf: &Bound<'py, Self>,
        head: &[u8],
        no_body: bool,
        decompress: bool,
        max_decompressed_size: Option<u64>,
        read_timeout: Option<f64>,
        read_bufsize: usize,
        head_limits: (usize, usize, usize),
        on_message_complete: PyObject,
    ) -> PyResult<PyObject> {
        let py = slf.py();
        let (event_loop, transport, conn) = {
            let mut this = slf.borrow_mut();
            if let Some(exc) = &this.exception {
                return Err(PyErr::from_value(exc.bind(py).clone()));
            }
            this.prepare(py, read_timeout, read_bufsize, head_limits)?;
            this.on_message_complete = Some(on_message_complete);
            this.request_chunked = false;
            let event_loop = clone_opt(py, &this.event_loop)
                .ok_or_else(|| PyRuntimeError::new_err("handler without a loop"))?;
            let transport = clone_opt(py, &this.transport)
                .ok_or_else(|| PyRuntimeError::new_err("handler without a transport"))?;
            (event_loop, transport, this.conn(py)?)
        };
        let waiter = event_loop.call_method0(py, intern!(py, "create_future"))?;
        slf.borrow_mut().head_waiter = Some(waiter.clone_ref(py));
        let wire = conn.borrow_mut().send_request(
            py,
            head,
            None,
            no_body,
            false,
            false,
            decompress,
            max_decompressed_size,
            true,
            false, // a plain request: no upgrade asked
        )?;
        transport.call_method1(py, intern!(py, "write"), (wire,))?;
        if slf.borrow().read_timeout.is_some() {
            slf.call_method0(intern!(py, "_reschedule_read_timer"))?;
        }
        Ok(waiter)
    }
}

/// `[ResponseHead, EndOfMessage]`, `[ResponseHead, bytes, EndOfMessage]`, or a body of
/// one HTTP chunk: `[ResponseHead, bytes, ChunkEnd, EndOfMessage]`.
fn is_whole_response(events: &Bound<'_, PyList>) -> PyResult<bool> {
    let count = events.len();
    if !events.get_item(0)?.is_exact_instance_of::<ResponseHead>()
        || !events
            .get_item(count - 1)?
            .is_exact_instance_of::<EndOfMessage>()
    {
        return Ok(false);
    }
    Ok(count == 2
        || (events.get_item(1)?.is_exact_instance_of::<PyBytes>()
            && (count == 3 || events.get_item(2)?.is_exact_instance_of::<ChunkEnd>())))
}
