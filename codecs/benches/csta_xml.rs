//! CSTA XML throughput: realistic Delivered, Established and ConnectionCleared events
//! (600-900 bytes: `ns3:`-prefixed OpenScape-style ed4 with vendor device ids, one with
//! private data, and default-namespace ed3) decoded one document at a time and as a framed
//! TCP stream, reported as events/s. Then the common requests encoded (MakeCall, AnswerCall, ClearConnection, HoldCall,
//! MonitorStart, SingleStepTransferCall).

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ctigw_codecs::csta_xml::{ConnectionId, CstaXmlCodec, Edition, Message, requests};
use tokio_util::codec::{Decoder, Encoder};

const ED4: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed4";
const ED3: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";

fn delivered() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ns3:DeliveredEvent xmlns:ns3=\"{ED4}\">\
<ns3:monitorCrossRefID>4B1D</ns3:monitorCrossRefID>\
<ns3:connection><ns3:callID>FF000100000000007A2F6C5E1C0A0000</ns3:callID><ns3:deviceID>N&lt;7868772298&gt;Line71001;displayNumber=7868772298</ns3:deviceID></ns3:connection>\
<ns3:alertingDevice><ns3:deviceIdentifier>N&lt;7868772298&gt;Line71001;displayNumber=7868772298</ns3:deviceIdentifier></ns3:alertingDevice>\
<ns3:callingDevice><ns3:deviceIdentifier>N&lt;3021061290002&gt;;noa=nk</ns3:deviceIdentifier></ns3:callingDevice>\
<ns3:calledDevice><ns3:deviceIdentifier>N&lt;7868772298&gt;</ns3:deviceIdentifier></ns3:calledDevice>\
<ns3:lastRedirectionDevice><ns3:notRequired/></ns3:lastRedirectionDevice>\
<ns3:localConnectionInfo>alerting</ns3:localConnectionInfo><ns3:cause>newCall</ns3:cause>\
</ns3:DeliveredEvent>"
    )
}

fn established() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EstablishedEvent xmlns=\"{ED3}\">\n\
  <monitorCrossRefID>99</monitorCrossRefID>\n\
  <establishedConnection><callID>FF000100000000007A2F6C5E1C0A0000</callID><deviceID>tel:+33123456789</deviceID></establishedConnection>\n\
  <answeringDevice><deviceIdentifier>tel:+33123456789</deviceIdentifier></answeringDevice>\n\
  <callingDevice><deviceIdentifier>sip:+33987654321@cucm.example.com;user=phone</deviceIdentifier></callingDevice>\n\
  <calledDevice><deviceIdentifier>tel:+33123456789</deviceIdentifier></calledDevice>\n\
  <lastRedirectionDevice><notKnown/></lastRedirectionDevice>\n\
  <localConnectionInfo>connected</localConnectionInfo>\n\
  <cause>normal</cause>\n\
</EstablishedEvent>\n"
    )
}

fn cleared() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ns3:ConnectionClearedEvent xmlns:ns3=\"{ED4}\">\
<ns3:monitorCrossRefID>4B1D</ns3:monitorCrossRefID>\
<ns3:droppedConnection><ns3:callID>FF000100000000007A2F6C5E1C0A0000</ns3:callID><ns3:deviceID>N&lt;3021061290002&gt;;noa=nk</ns3:deviceID></ns3:droppedConnection>\
<ns3:releasingDevice><ns3:deviceIdentifier>N&lt;3021061290002&gt;;noa=nk</ns3:deviceIdentifier></ns3:releasingDevice>\
<ns3:localConnectionInfo>connected</ns3:localConnectionInfo><ns3:cause>normalClearing</ns3:cause>\
<ns3:extensions><ns3:privateData><ns3:private><ns4:callTag xmlns:ns4=\"urn:vendor\">0x7a2f6c5e</ns4:callTag><ns4:releaseReason xmlns:ns4=\"urn:vendor\">16</ns4:releaseReason></ns3:private></ns3:privateData></ns3:extensions>\
</ns3:ConnectionClearedEvent>"
    )
}

fn bench(c: &mut Criterion) {
    let docs = [
        ("delivered", delivered()),
        ("established", established()),
        ("connection_cleared", cleared()),
    ];
    let mut g = c.benchmark_group("csta_xml_decode_event");
    g.throughput(Throughput::Elements(1));
    for (name, doc) in &docs {
        assert!(
            (600..=900).contains(&doc.len()),
            "{name} is {} bytes",
            doc.len()
        );
        assert!(Message::decode(doc.as_bytes()).unwrap().is_event());
        g.bench_function(format!("{name}_{}b", doc.len()), |b| {
            b.iter(|| Message::decode(black_box(doc.as_bytes())).unwrap())
        });
    }
    g.finish();

    // The three events framed for TCP and repeated: the codec's whole path.
    let mut wire = BytesMut::new();
    let mut codec = CstaXmlCodec::new();
    let events: Vec<Message> = docs
        .iter()
        .map(|(_, d)| Message::decode(d.as_bytes()).unwrap())
        .collect();
    let reps = 300;
    for _ in 0..reps {
        for m in &events {
            codec.encode((9999, m), &mut wire).unwrap();
        }
    }
    let n = (reps * events.len()) as u64;
    let mut g = c.benchmark_group("csta_xml_decode_tcp_stream");
    g.throughput(Throughput::Elements(n));
    g.bench_function(format!("{n}_events_{}kib", wire.len() / 1024), |b| {
        b.iter_batched(
            || wire.clone(),
            |mut buf| {
                let mut codec = CstaXmlCodec::new();
                let mut k = 0u64;
                while let Ok(Some(item)) = codec.decode(&mut buf) {
                    k += u64::from(item.is_ok());
                }
                assert_eq!(k, n);
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let conn = ConnectionId::new("FF000100000000007A2F6C5E1C0A0000", "tel:+33123456789");
    let reqs = [
        (
            "make_call",
            requests::make_call("tel:+33123456789", "tel:+33987654321"),
        ),
        ("answer_call", requests::answer_call(&conn)),
        ("clear_connection", requests::clear_connection(&conn)),
        ("hold_call", requests::hold_call(&conn)),
        ("monitor_start", requests::monitor_start("tel:+33123456789")),
        (
            "single_step_transfer",
            requests::single_step_transfer_call(&conn, "tel:+33987654321"),
        ),
    ];
    let mut g = c.benchmark_group("csta_xml_encode_request");
    g.throughput(Throughput::Elements(1));
    let mut out = BytesMut::with_capacity(1024);
    let mut codec = CstaXmlCodec::new().with_edition(Edition::Ed4);
    for (name, m) in &reqs {
        g.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                codec.encode((42, black_box(m)), &mut out).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
