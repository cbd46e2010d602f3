//! WebSocket codec: framing, masking, fragmentation, limits, close codes, deflate.

use std::io::Write;

use aioclient_core::ws::{accept_for, apply_mask, Codec, Deflate, Message, Opcode, WsError};

/// An unmasked server frame.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

fn feed(codec: &mut Codec, data: &[u8]) -> Vec<Result<Message, WsError>> {
    let mut out = Vec::new();
    codec.receive(data, &mut out);
    out
}

/// Decode a client frame: (first byte, unmasked payload).
fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
    assert!(frame[1] & 0x80 != 0, "client frames are masked");
    let (len, at) = match frame[1] & 0x7f {
        126 => (u16::from_be_bytes([frame[2], frame[3]]) as usize, 4),
        127 => (
            u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask: [u8; 4] = frame[at..at + 4].try_into().unwrap();
    let mut payload = frame[at + 4..at + 4 + len].to_vec();
    apply_mask(&mut payload, mask);
    (frame[0], payload)
}

#[test]
fn accept_key_from_rfc() {
    assert_eq!(
        accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn client_frames_every_length_and_fresh_masks() {
    for len in [0usize, 5, 125, 126, 65535, 65536, 200_000] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut codec = Codec::new(0, None);
        let mut a = Vec::new();
        codec.encode(Opcode::Binary, &payload, true, false, &mut a);
        let (first, got) = unmask(&a);
        assert_eq!(first, 0x82);
        assert_eq!(got, payload);
    }
    let mut codec = Codec::new(0, None);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    codec.encode(Opcode::Text, b"same", true, false, &mut a);
    codec.encode(Opcode::Text, b"same", true, false, &mut b);
    assert_ne!(a[2..6], b[2..6], "a fresh masking key per frame");
}

#[test]
fn messages_fragments_and_interleaved_control_frames() {
    let mut wire = frame(0x01, b"hel"); // text, not final
    wire.extend(frame(0x89, b"p")); // ping between fragments
    wire.extend(frame(0x80, b"lo")); // final continuation
    wire.extend(frame(0x82, &[1, 2, 3]));
    let whole = feed(&mut Codec::new(0, None), &wire);
    assert_eq!(
        whole,
        vec![
            Ok(Message::Ping(b"p".to_vec())),
            Ok(Message::Text("hello".into())),
            Ok(Message::Binary(vec![1, 2, 3]))
        ]
    );
    for i in 0..=wire.len() {
        let mut codec = Codec::new(0, None);
        let mut got = feed(&mut codec, &wire[..i]);
        got.extend(feed(&mut codec, &wire[i..]));
        assert_eq!(got, whole, "split at {i}");
    }
}

#[test]
fn protocol_violations() {
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (vec![0x81, 0x82, 1, 2, 3, 4, 0, 0], 1002), // masked server frame
        (frame(0x83, b"x"), 1002),                  // reserved opcode
        (frame(0xC1, b"x"), 1002),                  // RSV1 without deflate
        (frame(0x80, b"x"), 1002),                  // continuation without start
        (frame(0x09, b"x"), 1002),                  // fragmented control frame
        (frame(0x89, &[0; 126]), 1002),             // control frame too long
        (frame(0x88, &[3]), 1002),                  // 1-byte close payload
        (frame(0x88, &[0x03, 0xe8 + 4]), 1002),     // close code 1004
        (frame(0x81, &[0xff, 0xfe]), 1007),         // invalid UTF-8
        (
            {
                let mut f = frame(0x01, &[0xe2, 0x82]);
                f.extend(frame(0x80, &[0x28]));
                f
            },
            1007,
        ), // split bad UTF-8
        (
            {
                let mut f = frame(0x01, b"a");
                f.extend(frame(0x81, b"b"));
                f
            },
            1002,
        ), // new message mid-fragment
    ];
    for (wire, code) in cases {
        let got = feed(&mut Codec::new(0, None), &wire);
        match got.last() {
            Some(Err(e)) => assert_eq!(e.close_code(), code, "{e} for {wire:?}"),
            other => panic!("expected an error for {wire:?}, got {other:?}"),
        }
    }
}

#[test]
fn max_msg_size_is_checked_before_buffering() {
    // A header claiming 1 GiB is refused at once, with only 10 bytes fed.
    let mut header = vec![0x82, 127];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    let got = feed(&mut Codec::new(1 << 20, None), &header);
    assert!(matches!(
        got.last(),
        Some(Err(WsError::MessageTooBig { .. }))
    ));
    // Across fragments too.
    let mut wire = frame(0x02, &[0; 600]);
    wire.extend(frame(0x80, &[0; 600]));
    let got = feed(&mut Codec::new(1000, None), &wire);
    assert_eq!(got.last().unwrap().as_ref().unwrap_err().close_code(), 1009);
}

#[test]
fn close_frames() {
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice("bye".as_bytes());
    assert_eq!(
        feed(&mut Codec::new(0, None), &frame(0x88, &payload)),
        vec![Ok(Message::Close(Some(1000), "bye".into()))]
    );
    assert_eq!(
        feed(&mut Codec::new(0, None), &frame(0x88, &[])),
        vec![Ok(Message::Close(None, String::new()))]
    );
    let mut out = Vec::new();
    Codec::new(0, None).encode_close(Some(1001), b"going", &mut out);
    let (first, body) = unmask(&out);
    assert_eq!(first, 0x88);
    assert_eq!(&body[..2], &1001u16.to_be_bytes());
    assert_eq!(&body[2..], b"going");
}

#[test]
fn close_codes_accepted_as_aiohttp_accepts_them() {
    // aiohttp: any code from 3000 up, or one of its WSCloseCode values.
    for code in [
        1000u16, 1001, 1002, 1003, 1006, 1007, 1011, 1012, 1013, 1014, 3000, 4999, 5000, 65535,
    ] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(b"r");
        assert_eq!(
            feed(&mut Codec::new(0, None), &frame(0x88, &payload)),
            vec![Ok(Message::Close(Some(code), "r".into()))],
            "close code {code}"
        );
    }
    for code in [0u16, 999, 1004, 1005, 1015, 2999] {
        let got = feed(&mut Codec::new(0, None), &frame(0x88, &code.to_be_bytes()));
        assert!(
            matches!(got.as_slice(), [Err(WsError::Protocol(_))]),
            "close code {code}: {got:?}"
        );
    }
}

#[test]
fn close_reason_is_cut_at_a_character_and_sent_as_given() {
    let reason_of = |reason: &[u8]| {
        let mut out = Vec::new();
        Codec::new(0, None).encode_close(Some(1000), reason, &mut out);
        let (_, body) = unmask(&out);
        body[2..].to_vec()
    };
    // 122 ASCII bytes then a 2-byte, 3-byte or 4-byte character across the 123rd byte.
    for ch in ["\u{e9}", "\u{20ac}", "\u{1f600}"] {
        let reason = format!("{}{ch}{ch}", "a".repeat(122));
        let got = reason_of(reason.as_bytes());
        assert_eq!(got, "a".repeat(122).as_bytes(), "cut before {ch:?}");
    }
    let fits = format!("{}\u{e9}", "a".repeat(121));
    assert_eq!(reason_of(fits.as_bytes()), fits.as_bytes());
    // Not UTF-8: sent as given, cut where the room ends.
    assert_eq!(reason_of(b"\xff\xfe"), b"\xff\xfe");
    assert_eq!(reason_of(&[0x80; 200]), vec![0x80; 123]);
}

#[test]
fn text_left_undecoded_when_asked() {
    let mut codec = Codec::new(0, None).with_decode_text(false);
    let got = feed(&mut codec, &frame(0x81, b"\xff\xferaw"));
    assert_eq!(got, vec![Ok(Message::TextBytes(b"\xff\xferaw".to_vec()))]);
}

/// A message body ending with a final (BFINAL) block, as a server that finishes its
/// deflate stream per message sends it (RFC 7692 §7.2.3.4).
fn server_deflate_final(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn deflate_final_block_starts_a_new_stream() {
    for no_takeover in [false, true] {
        let deflate = Deflate {
            client_no_context_takeover: false,
            server_no_context_takeover: no_takeover,
            client_max_window_bits: 15,
            server_max_window_bits: 15,
        };
        let mut codec = Codec::new(0, Some(deflate));
        let mut wire = frame(0xC1, &server_deflate_final(b"first message"));
        wire.extend(frame(0xC1, &server_deflate_final(b"second message")));
        wire.extend(frame(0xC1, &server_deflate(b"third, sync-flushed")));
        wire.extend(frame(0x81, b"plain fourth"));
        assert_eq!(
            feed(&mut codec, &wire),
            vec![
                Ok(Message::Text("first message".into())),
                Ok(Message::Text("second message".into())),
                Ok(Message::Text("third, sync-flushed".into())),
                Ok(Message::Text("plain fourth".into())),
            ],
            "server_no_context_takeover={no_takeover}"
        );
        // Bytes after the final block that are not deflate data: an error, not a
        // message cut short.
        let mut body = server_deflate_final(b"x");
        body.extend_from_slice(&[0xff, 0xff]);
        let got = feed(&mut Codec::new(0, Some(deflate)), &frame(0xC1, &body));
        assert!(
            matches!(got.as_slice(), [Err(WsError::Deflate(_))]),
            "{got:?}"
        );
    }
}

fn server_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.flush().unwrap();
    let mut out = e.finish().unwrap();
    // Make it a sync-flushed message body: strip to the 00 00 ff ff boundary if present.
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}

/// A compressed message body (RFC 7692 §7.2.2: the sync-flush tail restored) inflated
/// with a plain raw-deflate decoder.
fn inflate(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut d = flate2::write::DeflateDecoder::new(Vec::new());
    d.write_all(&body).unwrap();
    d.flush().unwrap();
    d.get_ref().clone()
}

#[test]
fn permessage_deflate_round_trip_and_negotiation() {
    let d = Deflate::from_response(
        b"permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
    )
    .unwrap()
    .unwrap();
    assert!(d.server_no_context_takeover);
    assert!(Deflate::from_response(b"permessage-deflate; bogus").is_err());
    assert_eq!(Deflate::from_response(b"x-other").unwrap(), None);

    for no_takeover in [false, true] {
        let deflate = Deflate {
            client_no_context_takeover: no_takeover,
            server_no_context_takeover: true,
            client_max_window_bits: 15,
            server_max_window_bits: 15,
        };
        let mut codec = Codec::new(0, Some(deflate));
        let text = "compress me ".repeat(100);
        let got = feed(&mut codec, &frame(0xC1, &server_deflate(text.as_bytes())));
        assert_eq!(got, vec![Ok(Message::Text(text.clone()))]);
        // Our compressed frames inflate with a plain raw-deflate decoder.
        for _ in 0..2 {
            let mut out = Vec::new();
            codec.encode(Opcode::Text, text.as_bytes(), true, true, &mut out);
            let (first, body) = unmask(&out);
            assert_eq!(first, 0xC1, "RSV1 set on a compressed message");
            assert!(body.len() < text.len());
            if no_takeover {
                assert_eq!(inflate(body), text.as_bytes());
            }
        }
    }
}

#[test]
fn large_compressed_messages_inflate_to_what_was_sent() {
    // Incompressible data makes stored blocks larger than the input: the compressor's
    // output fills up mid-flush, which once lost or duplicated bytes (2 MB and 5 MB).
    let deflate = Deflate {
        client_no_context_takeover: true,
        server_no_context_takeover: false,
        client_max_window_bits: 15,
        server_max_window_bits: 15,
    };
    let mut codec = Codec::new(0, Some(deflate));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for size in [0usize, 1, 65_536, 1_500_000, 2_000_000, 5_000_000] {
        let noise: Vec<u8> = (0..size)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let text_like = b"some text, ".repeat(size / 11 + 1);
        for payload in [&noise[..], &text_like[..size]] {
            let mut out = Vec::new();
            codec.encode(Opcode::Binary, payload, true, true, &mut out);
            let (first, body) = unmask(&out);
            assert_eq!(first, 0xC2, "RSV1 set on a compressed message");
            let inflated = inflate(body);
            assert!(
                inflated == payload,
                "{size} bytes came back as {}",
                inflated.len()
            );
        }
    }
}

#[test]
fn deflate_bomb_stops_at_the_limit() {
    let deflate = Deflate {
        client_no_context_takeover: false,
        server_no_context_takeover: false,
        client_max_window_bits: 15,
        server_max_window_bits: 15,
    };
    let bomb = server_deflate(&vec![0u8; 50 << 20]);
    let got = feed(&mut Codec::new(1 << 20, Some(deflate)), &frame(0xC2, &bomb));
    assert_eq!(got.last().unwrap().as_ref().unwrap_err().close_code(), 1009);
}

#[test]
fn random_bytes_never_panic() {
    let mut seed = 0x2545F4914F6CDD1Du64;
    for _ in 0..2000 {
        let len = (seed % 64) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let _ = feed(&mut Codec::new(1024, None), &data);
    }
}
