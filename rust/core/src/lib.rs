//! Sans-I/O engine of aioclient: bytes in, events out. No sockets, clocks or Python.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decode;
pub mod h1;
pub mod tls;
pub mod ws;
