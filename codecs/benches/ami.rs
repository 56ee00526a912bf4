//! AMI decode throughput: a ~1 MiB stream of real ~500-byte events (the chan_sip capture
//! repeated), decoded whole and in 4 KiB reads; reported as bytes/s and messages/s.

use std::hint::black_box;
use std::path::PathBuf;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ctigw_codecs::ami::{Action, AmiCodec};
use tokio_util::codec::Decoder;

/// The real capture (`fixtures/real/ami/`) when it is there, otherwise one representative event.
fn events() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/real/ami/chan-sip-basic-call.ami");
    std::fs::read(path).unwrap_or_else(|_| {
        b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: SIP/9170-12-0000003c\r\nChannelState: 0\r\n\
ChannelStateDesc: Down\r\nCallerIDNum: 9170\r\nCallerIDName: Bud Heller\r\nConnectedLineNum: <unknown>\r\n\
ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: default\r\nExten: 9898\r\n\
Priority: 1\r\nUniqueid: 1598887681.60\r\nLinkedid: 1598887681.60\r\nChanVariable: realm=\r\n\
ChanVariable: SIPDOMAIN=\r\nChanVariable: SIPCALLID=b5ser03agv7huo7faai5\r\n\r\n"
            .to_vec()
    })
}

/// The events repeated to at least 1 MiB, and the number of messages in it.
fn stream() -> (Vec<u8>, u64) {
    let one = events();
    let per = AmiCodec::server().decode_all(&one).len() as u64;
    let reps = (1024 * 1024) / one.len() + 1;
    (one.repeat(reps), per * reps as u64)
}

fn decode(buf: &mut BytesMut) -> u64 {
    let mut codec = AmiCodec::server();
    let mut n = 0;
    while let Ok(Some(item)) = codec.decode(buf) {
        n += u64::from(item.is_ok());
        black_box(item.ok());
    }
    n
}

fn decode_reads(data: &[u8], read: usize) -> u64 {
    let mut codec = AmiCodec::server();
    let mut buf = BytesMut::with_capacity(2 * read);
    let mut n = 0;
    for chunk in data.chunks(read) {
        buf.extend_from_slice(chunk);
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            n += u64::from(item.is_ok());
            black_box(item.ok());
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let (data, messages) = stream();
    assert_eq!(decode(&mut BytesMut::from(&data[..])), messages);
    let setup = || BytesMut::from(&data[..]);

    let mut g = c.benchmark_group("ami_decode_bytes");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("whole_stream", |b| {
        b.iter_batched(setup, |mut buf| decode(&mut buf), BatchSize::LargeInput)
    });
    g.bench_function("4k_reads", |b| {
        b.iter(|| decode_reads(black_box(&data), 4096))
    });
    g.finish();

    let mut g = c.benchmark_group("ami_decode_messages");
    g.throughput(Throughput::Elements(messages));
    g.bench_function("whole_stream", |b| {
        b.iter_batched(setup, |mut buf| decode(&mut buf), BatchSize::LargeInput)
    });
    g.finish();

    let mut g = c.benchmark_group("ami_encode");
    g.throughput(Throughput::Elements(1));
    let action = Action::new("Originate")
        .id("ctigw-42")
        .field("Channel", "PJSIP/24103")
        .field("Exten", "0123456789")
        .field("Context", "from-internal")
        .field("Priority", "1")
        .field("Async", "true");
    let mut out = BytesMut::with_capacity(256);
    g.bench_function("originate_action", |b| {
        b.iter(|| {
            out.clear();
            black_box(&action).encode(&mut out).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
