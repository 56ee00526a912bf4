//! OXE replay: the six real OXE frames (`fixtures/real/oxe/`) through the
//! adapter's sans-IO mapping and the engine, each into the call event its independent decoder
//! describes; and every transcript under `fixtures/oxe/` replays into its expected events.

use ctigw::model::{CallEventKind, ConnectionState, DialPlan, PbxEvent};
use ctigw::tools::replay;
use serde_json::Value;
use std::path::PathBuf;

mod common;

fn captures() -> PathBuf {
    common::real_capture("oxe")
}

fn capture(name: &str) -> Vec<u8> {
    ctigw::tools::read_input(&captures().join(name)).expect("capture readable")
}

/// The mapping's own output (before the engine).
fn mapped(name: &str) -> Vec<PbxEvent> {
    let mut r = replay::replayer("oxe", &DialPlan::default()).unwrap();
    let mut v = r.feed(&capture(name));
    v.extend(r.finish());
    v.into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

fn call_event(evs: &[PbxEvent]) -> ctigw::model::CallEvent {
    evs.iter()
        .find_map(|e| match e {
            PbxEvent::Call(c) => Some(c.clone()),
            _ => None,
        })
        .expect("a call event")
}

fn states(c: &ctigw::model::CallEvent) -> Vec<(String, ConnectionState)> {
    c.connections
        .iter()
        .map(|u| (u.device.to_string(), u.state))
        .collect()
}

/// 2025-03-01 hh:mm:ss UTC in Unix ms.
fn t(h: u64, m: u64, s: u64) -> u64 {
    (1_740_787_200 + h * 3600 + m * 60 + s) * 1000
}

fn engine_events(name: &str) -> Vec<Value> {
    let res = replay::run(
        replay::replayer("oxe", &DialPlan::default())
            .unwrap()
            .as_mut(),
        &[capture(name)],
        &DialPlan::default(),
    );
    assert!(res.errors.is_empty(), "{name}: {:?}", res.errors);
    res.events
}

fn find<'a>(evs: &'a [Value], event: &str) -> &'a Value {
    evs.iter()
        .find(|e| e["event"] == event)
        .unwrap_or_else(|| panic!("no {event} in {evs:#?}"))
}

fn conn_state(call: &Value, device: &str) -> String {
    call["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["device"] == device)
        .map(|c| c["state"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no connection for {device} in {call}"))
}

#[test]
fn real_delivered() {
    let evs = mapped("delivered.hex");
    assert!(
        matches!(&evs[0], PbxEvent::Monitor { device, result: Ok(()) } if device.as_str() == "24105"),
        "the cross reference is the caller's monitor (localConnectionInfo connected): {evs:?}"
    );
    let c = call_event(&evs);
    assert_eq!(c.kind, CallEventKind::Delivered);
    assert_eq!(c.call, "2b91");
    assert_eq!(c.calling.as_deref(), Some("24105"));
    assert_eq!(c.called.as_deref(), Some("24640"));
    assert_eq!(c.cause.as_deref(), Some("newCall"));
    assert_eq!(c.time, Some(t(16, 9, 42)));
    assert_eq!(
        states(&c),
        [
            ("24105".into(), ConnectionState::Connected),
            ("24650".into(), ConnectionState::Alerting)
        ]
    );
    let api = engine_events("delivered.hex");
    let d = &find(&api, "call.delivered")["call"];
    assert_eq!(d["calling"]["number"], "24105");
    assert_eq!(d["pbxCallId"], "2b91");
    assert_eq!(conn_state(d, "24650"), "alerting");
    assert_eq!(conn_state(d, "24105"), "connected");
    assert_eq!(d["startedAt"], t(16, 9, 42));
}

#[test]
fn real_established_external() {
    let evs = mapped("established.hex");
    let c = call_event(&evs);
    assert_eq!(c.kind, CallEventKind::Established);
    assert_eq!(c.call, "2ace");
    assert_eq!(c.calling.as_deref(), Some("24103"));
    // the external party as the PBX names it, outside-line prefix included
    assert_eq!(c.called.as_deref(), Some("00238221815"));
    assert_eq!(c.cause.as_deref(), Some("networkSignal"));
    assert_eq!(
        states(&c),
        [
            ("24103".into(), ConnectionState::Connected),
            ("000238221815".into(), ConnectionState::Connected)
        ]
    );
    assert_eq!(c.time, Some(t(15, 41, 52)));
    let api = engine_events("established.hex");
    let e = &find(&api, "call.established")["call"];
    assert_eq!(e["direction"], "outbound");
    assert_eq!(e["called"]["e164"], "+33238221815");
}

#[test]
fn real_held_retrieved_originated_cleared() {
    let c = call_event(&mapped("held.hex"));
    assert_eq!((c.kind, c.call.as_str()), (CallEventKind::Held, "2ad8"));
    assert_eq!(states(&c), [("24104".into(), ConnectionState::Held)]);
    assert_eq!(c.cause.as_deref(), Some("consultation"));

    let c = call_event(&mapped("retrieved.hex"));
    assert_eq!(
        (c.kind, c.call.as_str()),
        (CallEventKind::Retrieved, "2dc5")
    );
    assert_eq!(states(&c), [("75302".into(), ConnectionState::Connected)]);
    assert_eq!(c.cause, None);

    let c = call_event(&mapped("originated.hex"));
    assert_eq!(
        (c.kind, c.call.as_str()),
        (CallEventKind::Originated, "2b69")
    );
    assert_eq!(states(&c), [("24105".into(), ConnectionState::Connected)]);
    assert_eq!(c.called.as_deref(), Some("00659732122"));

    let c = call_event(&mapped("connection-cleared-1.hex"));
    assert_eq!(
        (c.kind, c.call.as_str()),
        (CallEventKind::ConnectionCleared, "2b82")
    );
    assert_eq!(states(&c), [("24103".into(), ConnectionState::Null)]);
    assert_eq!(c.cause.as_deref(), Some("normalClearing"));
    assert_eq!(c.time, Some(t(16, 8, 27)));

    for (file, event, device, state) in [
        ("held.hex", "call.held", "24104", "held"),
        ("retrieved.hex", "call.retrieved", "75302", "connected"),
        ("originated.hex", "call.originated", "24105", "connected"),
    ] {
        let api = engine_events(file);
        assert_eq!(
            conn_state(&find(&api, event)["call"], device),
            state,
            "{file}"
        );
    }
}

#[test]
fn all_captures_in_one_stream_and_any_split() {
    // every capture concatenated, fed one byte at a time: same events as whole
    let mut all = Vec::new();
    for f in [
        "originated.hex",
        "delivered.hex",
        "established.hex",
        "held.hex",
        "retrieved.hex",
        "connection-cleared-1.hex",
    ] {
        all.extend(capture(f));
    }
    let whole = {
        let mut r = replay::replayer("oxe", &DialPlan::default()).unwrap();
        r.feed(&all)
    };
    let split = {
        let mut r = replay::replayer("oxe", &DialPlan::default()).unwrap();
        all.iter().flat_map(|b| r.feed(&[*b])).collect::<Vec<_>>()
    };
    assert_eq!(whole, split);
    assert_eq!(
        whole
            .iter()
            .filter(|e| matches!(e, Ok(PbxEvent::Call(_))))
            .count(),
        6
    );
}

#[test]
fn garbage_never_panics() {
    let mut r = replay::replayer("oxe", &DialPlan::default()).unwrap();
    let mut x: u32 = 7;
    for _ in 0..2000 {
        let mut chunk = Vec::new();
        for _ in 0..(x % 40) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            chunk.push((x & 0xff) as u8);
        }
        let _ = r.feed(&chunk);
    }
}

#[test]
fn fixtures_replay_into_their_expected_events() {
    let dir = common::fixture("oxe");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/oxe")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected a fixture per scenario, found {files:?}"
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with('#'),
            "{}: must say at the top what it exercises",
            f.display()
        );
        // the transcript's own engine settings (`#!` lines) apply, as with `ctigw replay`
        let (res, t) = replay::run_transcript("oxe", &text, &DialPlan::default())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!t.expected.is_empty(), "{}: no expectations", f.display());
        assert!(res.errors.is_empty(), "{}: {:?}", f.display(), res.errors);
        if let Err(e) = replay::check(&t.expected, &res.events) {
            panic!(
                "{}: {e}\nevents:\n{}",
                f.display(),
                res.events
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// Writes `fixtures/oxe/*.txt` from the simulated OXE's switch (sans-IO, fixed clock): the
/// wire bytes both ways, with the expected events written here by hand. Run with
/// `cargo test --test oxe_replay -- --ignored write_fixtures` after changing the simulator;
/// review the diff.
#[test]
#[ignore]
fn write_fixtures() {
    use ctigw::sim::oxe::scenario::{self, CALLER, OUTSIDE, Player};
    use ctigw::sim::oxe::{Switch, SwitchConfig};
    use ctigw_codecs::csta_ber::{Aarq, AcseApdu, CstaCodec, Hello, Pdu, RoseApdu, requests};
    use tokio_util::codec::Encoder;

    const A: &str = "24101";
    const B: &str = "24102";
    const C: &str = "24103";
    const AGENT: &str = "24110";

    struct Rec {
        sw: Switch,
        lines: Vec<String>,
        invoke: i64,
        player: Player,
    }
    fn hex(p: &Pdu) -> String {
        let mut b = bytes::BytesMut::new();
        CstaCodec::client().encode(p, &mut b).unwrap();
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
    impl Rec {
        fn new(cfg: SwitchConfig) -> Self {
            Rec {
                sw: Switch::new(cfg),
                lines: Vec::new(),
                invoke: 0,
                player: Player::default(),
            }
        }
        fn note(&mut self, s: &str) {
            self.lines.push(format!("# {s}"));
        }
        fn flush(&mut self) {
            for p in self.sw.take() {
                self.lines.push(format!("< {}", hex(&p)));
            }
        }
        /// A request from the gateway and the PBX's answer and events.
        fn ask(&mut self, pdu: Pdu) {
            self.lines.push(format!("> {}", hex(&pdu)));
            if let Pdu::Rose(RoseApdu::Invoke(i)) = &pdu {
                self.sw.on_invoke(i);
            }
            self.flush();
        }
        fn id(&mut self) -> i64 {
            self.invoke += 1;
            self.invoke
        }
        fn open(&mut self, devices: &[&str]) {
            self.note("hello, association, a monitor and a snapshot per device");
            self.lines.push("> 42".into());
            self.lines
                .push(format!("< {}", hex(&Pdu::Hello { hello: Hello::Pbx })));
            let aarq = Pdu::Acse(AcseApdu::Aarq(Aarq::oxe_default()));
            self.lines.push(format!("> {}", hex(&aarq)));
            // the AARE the simulated OXE sends
            self.lines.push(
                "< 00 17 61 15 a1 07 06 05 2b 0c 00 81 34 a2 03 02 01 00 a3 05 a1 03 02 01 00"
                    .into(),
            );
            for d in devices {
                let id = self.id();
                self.ask(requests::monitor_start(id, d));
                let id = self.id();
                self.ask(requests::snapshot_device(id, d));
            }
        }
        fn steps(&mut self, steps: Vec<(f64, scenario::Step)>) {
            for (_, s) in steps {
                self.note(&format!("{s:?}"));
                let reset = self.player.play(&mut self.sw, &s);
                self.flush();
                if reset {
                    self.note("the PBX restarts: the link drops (see tests/oxe_sim.rs for the resynchronisation)");
                }
            }
        }
    }
    let cfg = |t384: bool, limit: usize| SwitchConfig {
        timer_384_zero: t384,
        monitor_limit: limit,
        fixed_clock: Some(1_740_845_382),
        ..SwitchConfig::default()
    };
    let all = [A, B, C, AGENT];
    let write = |name: &str, header: &str, rec: Rec, expect: &[&str]| {
        let mut text = String::new();
        for h in header.lines() {
            text.push_str(&format!("# {h}\n"));
        }
        text.push_str("# Generated by tests/oxe_replay.rs write_fixtures from the simulated OXE\n");
        text.push_str("# (src/sim/oxe), whose PDUs follow the shapes of the real OXE frames in\n");
        text.push_str("# fixtures/real/oxe/ (dynamic device ids, [4] extensions,\n");
        text.push_str("# [2] outside numbers with the outside-line prefix, ALE time stamp).\n");
        for l in &rec.lines {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str("# expected normalised events (subset, in order)\n");
        for e in expect {
            serde_json::from_str::<Value>(e).unwrap_or_else(|x| panic!("{name}: {e}: {x}"));
            text.push_str(&format!("= {e}\n"));
        }
        let dir = common::fixture("oxe");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
    };
    let steps = |n: &str| scenario::steps(n, A, B, C, AGENT).unwrap();

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("inbound"));
    write(
        "inbound",
        "Basic inbound call: an outside caller rings 24101, who answers; the caller hangs up.",
        r,
        &[
            r#"{"event":"call.delivered","call":{"direction":"inbound","pbxCallId":"2b01","calling":{"number":"00612345678","e164":"+33612345678"},"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"alerting","rainbowStatus":"incomingCall"}],"startedAt":1740845383000}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.note("the gateway asks 24101 to call an outside number (MakeCall); the far end answers");
    let id = r.id();
    r.ask(requests::make_call(id, A, OUTSIDE));
    r.note("the far end answers (callID 2b01)");
    let _ = r.sw.answer(0x2b01, OUTSIDE);
    r.flush();
    let id = r.id();
    r.note("the gateway hangs up 24101 (ClearConnection on its dynamic connection id)");
    r.ask(requests::clear_connection(
        id,
        &ctigw_codecs::csta_ber::ConnectionId::dynamic(&[0x2b, 0x01], &[0x08, 0xb0, 0x01, 0x00]),
    ));
    write(
        "outbound-makecall",
        "Outbound call placed by MakeCall from 24101 to an outside number through a trunk:\nserviceInitiated, originated, networkReached, established (networkSignal), cleared.",
        r,
        &[
            r#"{"event":"call.originated","call":{"direction":"outbound","called":{"number":"00123456789","e164":"+33123456789"},"connections":[{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.networkReached","call":{"connections":[{"device":"24101","state":"connected"},{"device":"00123456789","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"cause":"networkSignal","connections":[{"device":"24101","state":"connected"},{"device":"00123456789","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"pbxCallId":"2b01"}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("internal"));
    write(
        "internal",
        "Internal call 24101 -> 24102, both monitored: one call seen from two monitors.",
        r,
        &[
            r#"{"event":"call.originated","call":{"direction":"internal","connections":[{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"24101","state":"connected","monitored":true},{"device":"24102","state":"connected","monitored":true}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("hold"));
    write(
        "hold-retrieve",
        "Hold and retrieve on an inbound call answered by 24101.",
        r,
        &[
            r#"{"event":"call.held","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"held","rainbowStatus":"held"}]}}"#,
            r#"{"event":"call.retrieved","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected","rainbowStatus":"active"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("transfer"));
    write(
        "consult-transfer",
        "Consultation and transfer: 24101 answers an outside caller, consults 24102\n(consultation call 2b02), then transfers: the held call 2b01 survives with the caller and\n24102; the consultation call is merged into it.",
        r,
        &[
            r#"{"event":"call.held","call":{"pbxCallId":"2b01","cause":"consultation"}}"#,
            r#"{"event":"call.delivered","call":{"pbxCallId":"2b02","connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared","call":{"pbxCallId":"2b02"}}"#,
            r#"{"event":"call.transferred","call":{"pbxCallId":"2b01","cause":"transfer","connections":[{"device":"00612345678","state":"connected"},{"device":"24102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"pbxCallId":"2b01"}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("conference"));
    write(
        "conference",
        "Three-party conference: outside caller, 24101 and 24102 (24101 joins its held and\nconsultation calls); then 24102 and 24101 hang up.",
        r,
        &[
            r#"{"event":"call.conferenced","call":{"pbxCallId":"2b01","conference":true,"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"},{"device":"24102","state":"connected"}]}}"#,
            r#"{"event":"call.connectionCleared","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"pbxCallId":"2b01","conference":true}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("forward"));
    r.note(
        "24103 deflects a call from 24101 to 24102 (DivertCall deflect) after forwarding is off",
    );
    let c = r.sw.originate(A, C);
    r.flush();
    let id = r.id();
    let conn =
        ctigw_codecs::csta_ber::ConnectionId::dynamic(&c.to_be_bytes(), &[0x08, 0xb2, 0x01, 0x00]);
    r.ask(requests::deflect_call(id, &conn, B));
    write(
        "forward-divert",
        "Forwarding and diversion: 24102 forwards to 24103; 24101 calls 24102, the call is\ndiverted to 24103 who answers; forwarding is cancelled; then 24103 deflects a ringing call to 24102.",
        r,
        &[
            r#"{"event":"device.updated","device":{"id":"24102","forwards":[{"kind":"immediate","destination":"24103"}]}}"#,
            r#"{"event":"call.diverted","call":{"connections":[{"device":"24101","state":"connected"}],"cause":"callForwardAlways"}}"#,
            r#"{"event":"call.delivered","call":{"called":{"number":"24103"},"connections":[{"device":"24101","state":"connected"},{"device":"24103","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared"}"#,
            r#"{"event":"call.diverted","call":{"cause":"redirected","connections":[{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"alerting"}]}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("trunk"));
    write(
        "external-trunk",
        "External call through a trunk dialled from the set of 24101: the outside party is named\nwith the outside-line prefix (implicitPublic) in networkReached and established.",
        r,
        &[
            r#"{"event":"call.networkReached","call":{"direction":"outbound","called":{"number":"00123456789","e164":"+33123456789","internal":false}}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"24101","state":"connected"},{"device":"00123456789","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("ccd-timer384-zero"));
    write(
        "ccd-timer384-zero",
        "CCD agent call with OXE timer 384 = 0: the caller hangs up and the agent's own\nconnectionCleared follows at once (the agent is free; never blocked).",
        r,
        &[
            r#"{"event":"agent.updated","agent":{"device":"24110","id":"4001","state":"ready"}}"#,
            r#"{"event":"call.delivered","call":{"cause":"distributed","connections":[{"device":"00612345678","state":"connected"},{"device":"24110","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24110","state":"connected"}]}}"#,
            r#"{"event":"call.connectionCleared","call":{"connections":[{"device":"24110","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
        ],
    );

    let mut r = Rec::new(cfg(false, 100));
    r.open(&all);
    r.steps(steps("ccd-timer384"));
    r.note("the agent's leg stays up (timer 384 > 0): no callCleared. The engine shows the agent");
    r.note("blocked (after its settle time; not replayed here), confirms with SnapshotDevice, and");
    r.note("releases it with ClearConnection on the agent's own connection:");
    let id = r.id();
    r.ask(requests::snapshot_device(id, AGENT));
    let id = r.id();
    r.ask(requests::clear_connection(
        id,
        &ctigw_codecs::csta_ber::ConnectionId::dynamic(&[0x2b, 0x01], &[0x08, 0xb9, 0x01, 0x00]),
    ));
    write(
        "ccd-timer384",
        "CCD agent call with OXE timer 384 > 0: the caller hangs up; only the caller's\nconnectionCleared comes, the agent's connection stays connected (the blocked agent of\nPROTOCOLS.md section 2) until the gateway clears it.",
        r,
        &[
            r#"{"event":"call.established","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24110","state":"connected"}]}}"#,
            r#"{"event":"call.connectionCleared","call":{"connections":[{"device":"24110","state":"connected","rainbowStatus":"active"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 100));
    r.open(&all);
    r.steps(steps("reset"));
    write(
        "pbx-reset",
        "PBX restart mid-call: an answered inbound call, then the PBX drops the link (after\nreconnecting, the snapshot lists no call and the engine clears it: tests/oxe_sim.rs).",
        r,
        &[
            r#"{"event":"call.established","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
        ],
    );

    let mut r = Rec::new(cfg(true, 3));
    r.open(&all);
    r.steps(steps("inbound"));
    write(
        "monitor-refused",
        "A monitor refused for lack of licences: 3 CSTA monitor licences, 4 devices; the\nfourth MonitorStart gets a ReturnError systemResourceErrors overallMonitorLimitExceeded (7)\n(the adapter reports it per device by name: tests/oxe_sim.rs). Calls on the others go on.",
        r,
        &[
            r#"{"event":"call.delivered","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    );
    let _ = CALLER;
}
