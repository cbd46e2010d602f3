//! HTTP/1.1 engine: framing, limits, rejections, split invariance, decoding.

use std::io::Write;

use aioclient_core::h1::{
    encode_head, Connection, Event, Limits, ProtocolError, RequestError, RequestOptions,
};
use proptest::prelude::*;

fn conn(opts: RequestOptions) -> Connection {
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    c.send_request(b"GET", b"/", &[(b"Host", b"x")], None, opts, &mut out)
        .unwrap();
    c
}

fn plain() -> RequestOptions {
    RequestOptions {
        decompress: true,
        ..RequestOptions::default()
    }
}

/// Feed `chunks`, then EOF if asked; coalesce adjacent Data events.
fn run(opts: RequestOptions, chunks: &[&[u8]], eof: bool) -> (Vec<Event>, bool) {
    let mut c = conn(opts);
    let mut events = Vec::new();
    for chunk in chunks {
        c.receive(chunk, &mut events);
        while c.has_pending() {
            c.receive(&[], &mut events);
        }
    }
    if eof {
        c.receive_eof(&mut events);
    }
    (coalesce(events), c.reusable())
}

fn coalesce(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        if let (Some(Event::Data(prev)), Event::Data(d)) = (out.last_mut(), &e) {
            prev.extend_from_slice(d);
            continue;
        }
        if let Event::Data(d) = &e {
            if d.is_empty() {
                continue;
            }
        }
        out.push(e);
    }
    out
}

/// Every split of `wire` into two pieces, and byte by byte, equals feeding it whole.
fn assert_split_invariant(opts: RequestOptions, wire: &[u8], eof: bool) -> Vec<Event> {
    let (whole, reusable) = run(opts, &[wire], eof);
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(
            run(opts, &[a, b], eof),
            (whole.clone(), reusable),
            "split at {i}"
        );
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(
        run(opts, &bytes, eof),
        (whole.clone(), reusable),
        "byte by byte"
    );
    whole
}

fn body_of(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Data(d) = e {
                Some(d.clone())
            } else {
                None
            }
        })
        .flatten()
        .collect()
}

fn error_of(events: &[Event]) -> Option<&ProtocolError> {
    match events.last() {
        Some(Event::Error(e)) => Some(e),
        _ => None,
    }
}

#[test]
fn content_length_response() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
    let events = assert_split_invariant(plain(), wire, false);
    let Event::Head(head) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(head.status, 200);
    assert_eq!(head.reason, b"OK");
    assert_eq!(head.content_length, Some(5));
    assert_eq!(head.content_type.as_deref(), Some(&b"text/plain"[..]));
    assert!(head.keep_alive);
    assert_eq!(body_of(&events), b"hello");
    assert!(matches!(events.last(), Some(Event::End(t)) if t.is_empty()));
    assert!(
        run(plain(), &[wire], false).1,
        "reusable after a complete keep-alive response"
    );
}

#[test]
fn reason_as_sent_and_first_of_repeated_fields() {
    // httparse gives no reason phrase with bytes above 0x7f; aiohttp keeps it. Of two
    // Content-Type (-Encoding, Location) fields, the first counts, as `headers.get()`.
    let wire = "HTTP/1.1 503 Service indisponible \u{2013} r\u{e9}essayez\r\nContent-Type: text/html\r\nContent-Type: application/json\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n";
    let events = assert_split_invariant(plain(), wire.as_bytes(), false);
    let Event::Head(head) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        head.reason,
        "Service indisponible \u{2013} r\u{e9}essayez".as_bytes()
    );
    assert_eq!(head.content_type.as_deref(), Some(&b"text/html"[..]));
    assert_eq!(head.location.as_deref(), Some(&b"/a"[..]));
    let (events, _) = run(plain(), &[b"HTTP/1.1 204\r\n\r\n"], false);
    assert!(matches!(&events[0], Event::Head(h) if h.reason.is_empty()));
    // An empty line before the status line is skipped (httparse skips it too).
    let (events, _) = run(
        plain(),
        &[b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
        false,
    );
    assert!(
        matches!(&events[0], Event::Head(h) if h.reason == b"OK"),
        "{events:?}"
    );
}

#[test]
fn obs_fold_is_read_as_whitespace() {
    // RFC 9112 §5.2: a user agent replaces each obs-fold; as aiohttp, the line break
    // goes, the whitespace after it stays, the value is trimmed.
    let wire = b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nX-B: a \r\n\t b \r\n c\r\nX-C:\r\n v\r\nContent-Length:\r\n 2\r\n\r\nok";
    let events = assert_split_invariant(plain(), wire, false);
    let Event::Head(head) = &events[0] else {
        panic!("{events:?}")
    };
    let value = |name: &[u8]| {
        head.headers
            .iter()
            .find(|(n, _)| n.as_slice() == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(value(b"X-A").as_deref(), Some(&b"a b"[..]));
    assert_eq!(value(b"X-B").as_deref(), Some(&b"a \t b  c"[..]));
    assert_eq!(value(b"X-C").as_deref(), Some(&b"v"[..]));
    assert_eq!(head.content_length, Some(2));
    assert_eq!(body_of(&events), b"ok");
}

#[test]
fn empty_reason_and_http10() {
    let wire = b"HTTP/1.0 200 \r\nContent-Length: 2\r\n\r\nok";
    let (events, reusable) = run(plain(), &[wire], false);
    let Event::Head(head) = &events[0] else {
        panic!()
    };
    assert_eq!(head.reason, b"");
    assert_eq!(head.version_minor, 0);
    assert!(!head.keep_alive);
    assert!(!reusable);
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n";
    let events = assert_split_invariant(plain(), wire, false);
    assert_eq!(body_of(&events), b"hello world");
    assert_eq!(
        events.last(),
        Some(&Event::End(vec![(b"X-Trailer".to_vec(), b"yes".to_vec())]))
    );
}

#[test]
fn each_chunk_with_data_ends_with_a_chunk_end() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let events = assert_split_invariant(plain(), wire, false);
    assert!(matches!(events[0], Event::Head(_)));
    assert_eq!(
        events[1..],
        [
            Event::Data(b"hello".to_vec()),
            Event::ChunkEnd,
            Event::Data(b" world".to_vec()),
            Event::ChunkEnd,
            Event::End(Vec::new()),
        ]
    );
    // A Content-Length body has no chunks.
    let (events, _) = run(
        plain(),
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"],
        false,
    );
    assert!(!events.contains(&Event::ChunkEnd));
}

#[test]
fn close_delimited_ends_at_eof_and_is_not_reusable() {
    let wire = b"HTTP/1.1 200 OK\r\n\r\nuntil close";
    let (events, reusable) = run(plain(), &[wire], true);
    assert_eq!(body_of(&events), b"until close");
    assert!(matches!(events.last(), Some(Event::End(_))));
    assert!(!reusable);
}

#[test]
fn no_body_statuses_and_head() {
    for status in ["204 No Content", "304 Not Modified"] {
        let wire = format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
        let (events, reusable) = run(plain(), &[wire.as_bytes()], false);
        assert!(matches!(events.last(), Some(Event::End(_))), "{status}");
        assert!(reusable);
    }
    let head = RequestOptions {
        head: true,
        ..plain()
    };
    let (events, reusable) = run(
        head,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"],
        false,
    );
    assert_eq!(body_of(&events), b"");
    assert!(matches!(events.last(), Some(Event::End(_))));
    assert!(reusable);
}

#[test]
fn read_until_eof_off_ends_an_unframed_response_at_its_head() {
    let opts = RequestOptions {
        body_needs_framing: true,
        ..plain()
    };
    let wire: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nrest of the stream";
    let (events, reusable) = run(opts, &[wire], false);
    assert_eq!(body_of(&events), b"");
    assert!(matches!(events.last(), Some(Event::End(_))));
    assert!(!reusable);
    // Framed bodies are read as usual.
    let (events, reusable) = run(
        opts,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
        false,
    );
    assert_eq!(body_of(&events), b"ok");
    assert!(reusable);
}

#[test]
fn informational_responses_are_reported_not_final() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    let events = assert_split_invariant(plain(), wire, false);
    assert!(matches!(&events[0], Event::Informational(i) if i.status == 100));
    assert!(matches!(&events[1], Event::Informational(i) if i.status == 103));
    assert!(matches!(&events[2], Event::Head(h) if h.status == 200));
}

#[test]
fn upgrade_and_connect_become_raw_pipes() {
    let wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
    let upgrade = RequestOptions {
        upgrade: true,
        ..plain()
    };
    let mut c = conn(upgrade);
    let mut events = Vec::new();
    c.receive(wire, &mut events);
    assert!(c.is_upgraded());
    assert_eq!(events.last(), Some(&Event::Data(b"\x81\x02hi".to_vec())));
    // A 101 to a request that asked for no upgrade: a response without a body, and a
    // connection never reused (what follows is not HTTP).
    let mut c = conn(plain());
    let mut events = Vec::new();
    c.receive(wire, &mut events);
    assert!(!c.is_upgraded());
    assert!(matches!(&events[0], Event::Head(h) if h.status == 101 && !h.keep_alive));
    assert!(matches!(events.last(), Some(Event::End(_))));
    assert!(!c.reusable());
    let opts = RequestOptions {
        connect: true,
        ..plain()
    };
    let mut c = conn(opts);
    let mut events = Vec::new();
    c.receive(b"HTTP/1.1 200 Connection established\r\n\r\n", &mut events);
    assert!(c.is_upgraded());
    assert!(!c.reusable());
}

#[test]
fn rejections_table() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "invalid_content_length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "invalid_content_length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "invalid_content_length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
            "invalid_content_length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "conflicting_framing",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid_chunk",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
            "invalid_chunk",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz",
            "invalid_chunk",
        ),
        (b"HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", "invalid_header"),
        (b"HTTQ/1.1 200 OK\r\n\r\n", "invalid_status_line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: a,b,c,d,e,f\r\nContent-Length: 0\r\n\r\n",
            "too_many_encodings",
        ),
    ];
    for (wire, kind) in cases {
        let (events, reusable) = run(plain(), &[wire], false);
        assert_eq!(
            error_of(&events).map(ProtocolError::kind),
            Some(*kind),
            "{:?}",
            String::from_utf8_lossy(wire)
        );
        assert!(!reusable);
    }
}

#[test]
fn limits_are_distinct_errors_and_configurable() {
    let long_status = format!("HTTP/1.1 200 {}\r\n\r\n", "a".repeat(9000));
    let long_field = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(9000));
    let many: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
    for (wire, kind) in [
        (&long_status, "line_too_long"),
        (&long_field, "field_too_long"),
        (&many, "too_many_headers"),
    ] {
        let (events, _) = run(plain(), &[wire.as_bytes()], false);
        assert_eq!(error_of(&events).map(ProtocolError::kind), Some(kind));
        // Also when the oversized part arrives without its end (no unbounded buffering).
        let cut = &wire.as_bytes()[..wire.len() - 4];
        let (events, _) = run(plain(), &[cut], false);
        assert_eq!(
            error_of(&events).map(ProtocolError::kind),
            Some(kind),
            "partial"
        );
    }
    let mut c = Connection::new(Limits {
        max_line_size: 8190,
        max_field_size: 10000,
        max_headers: 300,
    });
    c.send_request(b"GET", b"/", &[], None, plain(), &mut Vec::new())
        .unwrap();
    let mut events = Vec::new();
    c.receive(
        format!(
            "{}Content-Length: 0\r\n\r\n",
            &long_field[..long_field.len() - 2]
        )
        .as_bytes(),
        &mut events,
    );
    assert!(matches!(events.last(), Some(Event::End(_))), "{events:?}");
}

#[test]
fn header_count_limit_is_exact_on_both_sides_of_the_stack_slots() {
    // Heads are parsed with 32 header slots on the stack and more from the heap: the
    // limit must hold the same way whichever is used.
    for (count, max_headers, ok) in [
        (32, 32, true),
        (33, 32, false),
        (20, 10, false),
        (40, 128, true),
        (128, 128, true),
        (129, 128, false),
    ] {
        let fields: String = (0..count - 1).map(|i| format!("X-{i}: v\r\n")).collect();
        let wire = format!("HTTP/1.1 200 OK\r\n{fields}Content-Length: 0\r\n\r\n");
        let mut c = Connection::new(Limits {
            max_line_size: 8190,
            max_field_size: 8190,
            max_headers,
        });
        c.send_request(b"GET", b"/", &[], None, plain(), &mut Vec::new())
            .unwrap();
        let mut events = Vec::new();
        c.receive(wire.as_bytes(), &mut events);
        match &events[0] {
            Event::Head(head) if ok => assert_eq!(head.headers.len(), count),
            _ if !ok => assert_eq!(
                error_of(&events).map(ProtocolError::kind),
                Some("too_many_headers"),
                "{count} headers, limit {max_headers}"
            ),
            other => panic!("{count} headers, limit {max_headers}: {other:?}"),
        }
    }
}

#[test]
fn bytes_after_response_poison_the_connection() {
    let (events, reusable) = run(
        plain(),
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n"],
        false,
    );
    assert!(matches!(events.last(), Some(Event::End(_))));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Head(_)))
            .count(),
        1
    );
    assert!(!reusable);
    let mut c = conn(plain());
    let mut events = Vec::new();
    c.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &mut events);
    assert!(c.reusable());
    c.receive(b"junk while idle", &mut events);
    assert!(!c.reusable());
}

#[test]
fn truncated_bodies_are_errors() {
    let (events, _) = run(
        plain(),
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"],
        true,
    );
    assert_eq!(
        error_of(&events),
        Some(&ProtocolError::IncompleteBody {
            expected: Some(10),
            received: 3
        })
    );
    let (events, _) = run(
        plain(),
        &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"],
        true,
    );
    assert_eq!(
        error_of(&events).map(ProtocolError::kind),
        Some("incomplete_chunked_body")
    );
    let (events, _) = run(plain(), &[b""], true);
    assert_eq!(
        error_of(&events),
        Some(&ProtocolError::ClosedBeforeResponse)
    );
}

#[test]
fn request_validation_writes_nothing() {
    type Case<'a> = (&'a [u8], &'a [u8], &'a [(&'a [u8], &'a [u8])], RequestError);
    let bad: &[Case] = &[
        (b"", b"/", &[], RequestError::InvalidMethod),
        (b"GE T", b"/", &[], RequestError::InvalidMethod),
        (b"GET", b"/a b", &[], RequestError::InvalidTarget),
        (b"GET", b"/a\r\n", &[], RequestError::InvalidTarget),
        (b"GET", b"/\0", &[], RequestError::InvalidTarget),
        (
            b"GET",
            b"/",
            &[(b"Bad Name", b"v")],
            RequestError::InvalidHeaderName("Bad Name".into()),
        ),
        (
            b"GET",
            b"/",
            &[(b"Bad:Name", b"v")],
            RequestError::InvalidHeaderName("Bad:Name".into()),
        ),
    ];
    for (method, target, headers, expected) in bad {
        let mut out = b"before".to_vec();
        assert_eq!(
            encode_head(method, target, headers, 1, &mut out).as_ref(),
            Err(expected)
        );
        assert_eq!(out, b"before");
    }
    // Every control character but HTAB in a value (CR and LF would split the head).
    let values: [&[u8]; 8] = [
        b"a\nb",
        b"a\rb",
        b"a\0b",
        b"a\x01b",
        b"a\x1b[31mb",
        b"a\x7fb",
        b"a\x08b",
        b"a\x1fb",
    ];
    for value in values {
        let mut out = b"before".to_vec();
        assert_eq!(
            encode_head(b"GET", b"/", &[(b"X", value)], 1, &mut out),
            Err(RequestError::InvalidHeaderValue("X".into())),
            "{value:?}"
        );
        assert_eq!(out, b"before");
    }
}

#[test]
fn header_values_keep_tabs_and_non_ascii_bytes() {
    // HTAB is allowed in a field value (RFC 9110 §5.5), and so are obs-text bytes.
    let mut out = Vec::new();
    encode_head(b"GET", b"/", &[(b"X", b"a\tb \xc3\xa9 ~")], 1, &mut out).unwrap();
    assert_eq!(out, b"GET / HTTP/1.1\r\nX: a\tb \xc3\xa9 ~\r\n\r\n");
}

#[test]
fn chunked_request_bodies_are_framed() {
    let mut c = Connection::new(Limits::default());
    let mut out = Vec::new();
    c.send_request(
        b"POST",
        b"/",
        &[(b"Transfer-Encoding", b"chunked")],
        None,
        plain(),
        &mut out,
    )
    .unwrap();
    out.clear();
    c.send_body(b"hello", false, &mut out);
    c.send_body(b"", true, &mut out);
    assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    let mut out = Vec::new();
    assert_eq!(
        c.send_request(b"GET", b"/", &[], None, plain(), &mut out),
        Err(RequestError::Busy)
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &Default::default()).unwrap();
    out
}

fn response_with(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut wire = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: {encoding}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    wire.extend_from_slice(body);
    wire
}

#[test]
fn decoding_each_encoding_and_stacked() {
    let original: Vec<u8> = (0..20000u32).flat_map(|i| i.to_le_bytes()).collect();
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&original).unwrap();
        e.finish().unwrap()
    };
    let raw = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&original).unwrap();
        e.finish().unwrap()
    };
    let br = br(&original);
    let zstd = zstd::encode_all(&original[..], 3).unwrap();
    let stacked = gzip(&zlib); // "deflate, gzip": deflate first, then gzip
    let mut two_members = gzip(&original[..1000]);
    two_members.extend(gzip(&original[1000..]));
    for (name, body) in [
        ("gzip", gzip(&original)),
        ("deflate", zlib.clone()),
        ("deflate", raw),
        ("br", br),
        ("zstd", zstd),
        ("deflate, gzip", stacked),
        ("gzip", two_members),
    ] {
        let wire = response_with(name, &body);
        let (events, reusable) = run(plain(), &[&wire], false);
        assert_eq!(body_of(&events), original, "{name}");
        assert!(
            matches!(events.last(), Some(Event::End(_))),
            "{name}: {:?}",
            events.last()
        );
        assert!(reusable);
    }
    // Not decoded when not asked.
    let wire = response_with("deflate", &zlib);
    let (events, _) = run(RequestOptions::default(), &[&wire], false);
    assert_eq!(body_of(&events), zlib);
}

#[test]
fn decoded_bytes_are_not_held_back_until_more_input() {
    // A server streaming compressed messages flushes its encoder after each one: the
    // message must be readable then, not when the next one arrives.
    let message = b"{\"event\": 1}\n".repeat(200);
    let flushed: Vec<(&str, Vec<u8>)> = vec![
        ("gzip", {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&message).unwrap();
            e.flush().unwrap();
            e.get_ref().clone()
        }),
        ("deflate", {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&message).unwrap();
            e.flush().unwrap();
            e.get_ref().clone()
        }),
        ("br", {
            let mut e = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
            e.write_all(&message).unwrap();
            e.flush().unwrap();
            e.get_ref().clone()
        }),
        ("zstd", {
            let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
            e.write_all(&message).unwrap();
            e.flush().unwrap();
            e.get_ref().clone()
        }),
    ];
    for (name, part) in flushed {
        let mut wire = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {name}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            part.len()
        )
        .into_bytes();
        wire.extend_from_slice(&part);
        wire.extend_from_slice(b"\r\n");
        let (events, _) = run(plain(), &[&wire], false);
        assert_eq!(body_of(&events), message, "{name}");
        assert_eq!(events.last(), Some(&Event::ChunkEnd), "{name}");
    }
}

#[test]
fn an_empty_body_is_empty_whatever_its_encoding() {
    // Servers send `Content-Encoding: gzip` on empty responses; aiohttp reads b"".
    for name in ["gzip", "deflate", "br", "zstd", "deflate, gzip"] {
        let wire = response_with(name, b"");
        let (events, reusable) = run(plain(), &[&wire], false);
        assert!(body_of(&events).is_empty(), "{name}");
        assert!(
            matches!(events.last(), Some(Event::End(_))),
            "{name}: {:?}",
            events.last()
        );
        assert!(reusable, "{name}");
        let chunked = format!("HTTP/1.1 200 OK\r\nContent-Encoding: {name}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        let (events, _) = run(plain(), &[chunked.as_bytes()], false);
        assert!(
            matches!(events.last(), Some(Event::End(_))),
            "{name} chunked"
        );
    }
}

#[test]
fn decoding_is_split_invariant() {
    let wire = response_with("gzip", &gzip(b"split me please, split me please"));
    let events = assert_split_invariant(plain(), &wire, false);
    assert_eq!(body_of(&events), b"split me please, split me please");
}

#[test]
fn truncated_or_corrupt_compressed_bodies_are_errors() {
    let original: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let zstd = zstd::encode_all(&original[..], 3).unwrap();
    for (name, full) in [("gzip", gzip(&original)), ("zstd", zstd)] {
        for body in [&full[..full.len() - 6], &full[..20]] {
            let (events, reusable) = run(plain(), &[&response_with(name, body)], false);
            assert_eq!(
                error_of(&events).map(ProtocolError::kind),
                Some("decode_error"),
                "{name} cut to {} bytes",
                body.len()
            );
            assert!(!reusable);
        }
    }
    let (events, _) = run(
        plain(),
        &[&response_with("gzip", b"definitely not gzip")],
        false,
    );
    assert_eq!(
        error_of(&events).map(ProtocolError::kind),
        Some("decode_error")
    );
    let (events, _) = run(
        plain(),
        &[&response_with("br", b"\xff\xff\xff garbage")],
        false,
    );
    assert_eq!(
        error_of(&events).map(ProtocolError::kind),
        Some("decode_error")
    );
}

#[test]
fn bomb_output_is_bounded_per_call_and_capped() {
    // 32 MiB of zeros: ~32 KB as gzip; a few hundred bytes as br or zstd, which
    // expand a single 1 KiB input slice a million-fold.
    let zeros = vec![0u8; 32 << 20];
    let br = br(&zeros);
    let zstd = zstd::encode_all(&zeros[..], 3).unwrap();
    for (name, bomb) in [("gzip", gzip(&zeros)), ("br", br), ("zstd", zstd)] {
        assert_bomb_is_bounded(name, &response_with(name, &bomb));
    }
}

fn assert_bomb_is_bounded(name: &str, wire: &[u8]) {
    let mut c = conn(plain());
    let mut events = Vec::new();
    c.receive(wire, &mut events);
    let first: usize = events
        .iter()
        .map(|e| if let Event::Data(d) = e { d.len() } else { 0 })
        .sum();
    assert!(first <= 5 << 20, "{name}: one call produced {first} bytes");
    assert!(events
        .iter()
        .all(|e| !matches!(e, Event::Data(d) if d.len() > 256 * 1024)));
    let mut total = first;
    while c.has_pending() {
        let mut more = Vec::new();
        c.receive(&[], &mut more);
        total += more
            .iter()
            .map(|e| if let Event::Data(d) = e { d.len() } else { 0 })
            .sum::<usize>();
        events = more;
    }
    assert_eq!(total, 32 << 20, "{name}");
    assert!(
        matches!(events.last(), Some(Event::End(_))),
        "{name}: {:?}",
        events.last()
    );

    let capped = RequestOptions {
        max_decompressed_size: Some(1 << 20),
        ..plain()
    };
    let mut c = conn(capped);
    let mut events = Vec::new();
    c.receive(wire, &mut events);
    let produced: usize = events
        .iter()
        .map(|e| if let Event::Data(d) = e { d.len() } else { 0 })
        .sum();
    assert!(
        produced <= 2 << 20,
        "{name}: {produced} bytes decoded past a 1 MiB cap"
    );
    assert_eq!(
        error_of(&events).map(ProtocolError::kind),
        Some("decompressed_too_large"),
        "{name}"
    );
}

fn arb_response() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,20}"), 0..6),
        prop::collection::vec(any::<u8>(), 0..200),
        any::<bool>(),
        prop::collection::vec(1usize..50, 1..5),
    )
        .prop_map(|(headers, body, chunked, sizes)| {
            let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
            for (n, v) in headers {
                let lower = n.to_ascii_lowercase();
                if lower.starts_with("content-")
                    || lower.starts_with("transfer-")
                    || lower == "connection"
                {
                    continue;
                }
                wire.extend_from_slice(format!("X-{n}: {}\r\n", v.trim()).as_bytes());
            }
            if chunked {
                wire.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                let mut rest = &body[..];
                let mut i = 0;
                while !rest.is_empty() {
                    let n = sizes[i % sizes.len()].min(rest.len());
                    wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    wire.extend_from_slice(&rest[..n]);
                    wire.extend_from_slice(b"\r\n");
                    rest = &rest[n..];
                    i += 1;
                }
                wire.extend_from_slice(b"0\r\n\r\n");
            } else {
                wire.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                wire.extend_from_slice(&body);
            }
            wire
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn valid_responses_are_split_invariant(wire in arb_response(), cut in any::<prop::sample::Index>()) {
        let (whole, reusable) = run(plain(), &[&wire], false);
        prop_assert!(matches!(whole.last(), Some(Event::End(_))), "{:?}", whole);
        let i = cut.index(wire.len() + 1);
        let (a, b) = wire.split_at(i);
        prop_assert_eq!(run(plain(), &[a, b], false), (whole.clone(), reusable));
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(run(plain(), &bytes, false), (whole, reusable));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512), eof in any::<bool>()) {
        let _ = run(plain(), &[&data], eof);
        let mut prefixed = b"HTTP/1.1 200 OK\r\n".to_vec();
        prefixed.extend(&data);
        let _ = run(plain(), &[&prefixed], eof);
    }
}
