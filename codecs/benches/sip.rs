//! SIP parse throughput: a realistic uaCSTA INFO carrying a CSTA XML event and the 200 OK that
//! answers it, parsed by this codec and, in the same run, by `rsip` 0.4 (messages/s); plus the
//! stream codec over a pipelined ~1 MiB stream of both.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ctigw_codecs::sip::{Message, SipCodec};
use tokio_util::codec::Decoder;

const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<DeliveredEvent xmlns=\"http://www.ecma-international.org/standards/ecma-323/csta/ed3\">\
<monitorCrossRefID>24</monitorCrossRefID>\
<connection><callID>FF000100000000000C2F4B5A0D5E0000</callID><deviceID>tel:+33123456789</deviceID></connection>\
<alertingDevice><deviceIdentifier>tel:+33123456789</deviceIdentifier></alertingDevice>\
<callingDevice><deviceIdentifier>tel:+33612345678</deviceIdentifier></callingDevice>\
<calledDevice><deviceIdentifier>tel:+33123456789</deviceIdentifier></calledDevice>\
<lastRedirectionDevice><notKnown/></lastRedirectionDevice>\
<localConnectionInfo>alerting</localConnectionInfo>\
<cause>newCall</cause>\
</DeliveredEvent>";

fn info() -> String {
    format!(
        "INFO sip:ctigw@10.0.0.5:5060;transport=tcp SIP/2.0\r\n\
Via: SIP/2.0/TCP 10.1.1.20:5060;branch=z9hG4bK3f2a7c1d9e\r\n\
Max-Forwards: 70\r\n\
From: <sip:cti-gateway@cup.example.com>;tag=1f3ed28a-98b2\r\n\
To: \"CTI Gateway client\" <sip:ctigw@10.0.0.5>;tag=8c21e0b4\r\n\
Call-ID: 4e1f7a92-1c0d-4b11-9a6e-8d2f3c5b7e01@10.0.0.5\r\n\
CSeq: 118 INFO\r\n\
Contact: <sip:cti-gateway@10.1.1.20:5060;transport=tcp>\r\n\
User-Agent: Cisco-CUP-CTIGW/11.5\r\n\
Content-Type: application/csta+xml\r\n\
Content-Disposition: signal;handling=required\r\n\
Content-Length: {}\r\n\r\n{XML}",
        XML.len()
    )
}

const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/TCP 10.1.1.20:5060;branch=z9hG4bK3f2a7c1d9e;received=10.1.1.20\r\n\
From: <sip:cti-gateway@cup.example.com>;tag=1f3ed28a-98b2\r\n\
To: \"CTI Gateway client\" <sip:ctigw@10.0.0.5>;tag=8c21e0b4\r\n\
Call-ID: 4e1f7a92-1c0d-4b11-9a6e-8d2f3c5b7e01@10.0.0.5\r\n\
CSeq: 118 INFO\r\n\
Contact: <sip:ctigw@10.0.0.5:5060;transport=tcp>\r\n\
Content-Length: 0\r\n\r\n";

fn bench(c: &mut Criterion) {
    let info = info();
    let cases = [
        ("info_csta_event", info.as_bytes()),
        ("ok_200", OK.as_bytes()),
    ];
    for (name, bytes) in cases {
        // Both parsers must accept the message, or the comparison means nothing.
        Message::parse(bytes).expect("ctigw parses");
        rsip::SipMessage::try_from(bytes).expect("rsip parses");
        let mut g = c.benchmark_group(format!("sip_parse/{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("ctigw", |b| {
            b.iter(|| Message::parse(black_box(bytes)).is_ok())
        });
        g.bench_function("rsip_0.4", |b| {
            b.iter(|| rsip::SipMessage::try_from(black_box(bytes)).is_ok())
        });
        g.finish();
    }

    let pair = format!("{info}{OK}");
    let reps = (1024 * 1024) / pair.len() + 1;
    let data = pair.repeat(reps);
    let messages = 2 * reps as u64;
    let mut g = c.benchmark_group("sip_stream");
    g.throughput(Throughput::Elements(messages));
    g.bench_function("ctigw_codec_1MiB", |b| {
        b.iter_batched(
            || BytesMut::from(data.as_bytes()),
            |mut buf| {
                let mut codec = SipCodec::new();
                let mut n = 0u64;
                while let Ok(Some(item)) = codec.decode(&mut buf) {
                    n += u64::from(item.is_ok());
                }
                assert_eq!(n, messages);
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
