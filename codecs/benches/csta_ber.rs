//! CSTA BER codec timings: decode time per event on each real OXE frame (framing included,
//! through `CstaCodec`, and `decode_pdu` alone), and encode time for the common requests.

use std::hint::black_box;
use std::path::PathBuf;

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use ctigw_codecs::csta_ber::types::{ConnectionId, MonitorCrossRefId};
use ctigw_codecs::csta_ber::{Aarq, AcseApdu, CstaCodec, Pdu, decode_pdu, encode_pdu, requests};
use tokio_util::codec::Decoder;

/// The real captured frames (2-byte length included), read in place from `fixtures/real/oxe/`.
fn captures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/real/oxe");
    let mut v = Vec::new();
    for name in [
        "connection-cleared-1",
        "delivered",
        "established",
        "held",
        "originated",
        "retrieved",
    ] {
        if let Ok(text) = std::fs::read_to_string(dir.join(format!("{name}.hex"))) {
            if let Ok(b) = ctigw_codecs::hex::parse_hex_text(&text) {
                v.push((name.to_string(), b));
            }
        }
    }
    v
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("csta_ber/decode");
    for (name, frame) in captures() {
        g.bench_function(format!("{name}/framed"), |b| {
            let mut codec = CstaCodec::observer().without_hello();
            let mut buf = BytesMut::with_capacity(frame.len());
            b.iter(|| {
                buf.extend_from_slice(&frame);
                let item = codec.decode(&mut buf);
                black_box(item)
            })
        });
        let ber = frame[2..].to_vec();
        g.bench_function(format!("{name}/pdu"), |b| {
            b.iter(|| black_box(decode_pdu(black_box(&ber))))
        });
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let conn = ConnectionId::dynamic(&[0x2b, 0x82], &[0x08, 0xb3, 0x01, 0x00]);
    let other = ConnectionId::dynamic(&[0x2b, 0x83], &[0x08, 0xb4, 0x01, 0x00]);
    let reqs: Vec<(&str, Pdu)> = vec![
        ("monitorStart", requests::monitor_start(1, "24103")),
        ("snapshotDevice", requests::snapshot_device(2, "24103")),
        ("makeCall", requests::make_call(3, "24103", "00238221815")),
        ("answerCall", requests::answer_call(4, &conn)),
        ("clearConnection", requests::clear_connection(5, &conn)),
        ("holdCall", requests::hold_call(6, &conn)),
        (
            "consultationCall",
            requests::consultation_call(7, &conn, "24104"),
        ),
        ("transferCall", requests::transfer_call(8, &conn, &other)),
        ("systemStatusResult", requests::system_status_result(9)),
        (
            "monitorStop",
            requests::monitor_stop(10, &MonitorCrossRefId(vec![1, 0x35, 0xf3, 3])),
        ),
        ("aarq", Pdu::Acse(AcseApdu::Aarq(Aarq::oxe_default()))),
    ];
    let mut g = c.benchmark_group("csta_ber/encode");
    for (name, pdu) in reqs {
        let mut buf = BytesMut::with_capacity(256);
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                encode_pdu(black_box(&pdu), &mut buf);
                black_box(buf.len())
            })
        });
    }
    // Building the request value and encoding it, as the adapter does per command.
    let mut buf = BytesMut::with_capacity(256);
    g.bench_function("makeCall/build+encode", |b| {
        b.iter(|| {
            buf.clear();
            encode_pdu(
                &requests::make_call(black_box(3), "24103", "00238221815"),
                &mut buf,
            );
            black_box(buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
