//! Every transcript in `fixtures/asterisk/` replays through the AMI codec, the Asterisk
//! normaliser and the engine, and produces its expected (`=`) events in order.
//!
//! The transcripts were recorded from the simulated Asterisk (`src/sim/asterisk`) by the
//! ignored test `record_fixtures` (`CTIGW_RECORD_FIXTURES=1 cargo test --test
//! asterisk_fixtures -- --ignored`); their expectations are written here, by hand, from
//! what each scenario must mean for the CRM side, and copied into the files.

use ctigw::model::DialPlan;
use ctigw::pbx::asterisk::normalise::AmiReplay;
use ctigw::tools::replay;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/asterisk")
}

/// (file, what it exercises, expected events)
const FIXTURES: &[(&str, &str, &[&str])] = &[
    (
        "basic-internal-call",
        "basic internal call: PJSIP/101 (Alice) dials 102, 102 rings, answers, 102 hangs up",
        &[
            r#"{"event":"call.serviceInitiated","call":{"calling":{"number":"101","name":"Alice"},"called":{"number":"102"}}}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"101","state":"initiated"},{"device":"102","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"101","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"direction":"internal","cause":"normalClearing"}}"#,
        ],
    ),
    (
        "inbound-trunk-call",
        "inbound call from a trunk: 0612345678 (Carol Client) to 101, answered, the caller hangs up",
        &[
            r#"{"event":"call.delivered","call":{"calling":{"number":"0612345678","name":"Carol Client"},"connections":[{"device":"0612345678","state":"initiated"},{"device":"101","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"direction":"inbound","connections":[{"device":"0612345678","state":"connected"},{"device":"101","state":"connected"}]}}"#,
            r#"{"event":"call.connectionCleared","call":{"connections":[{"device":"101","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
        ],
    ),
    (
        "outbound-originate",
        "click to dial: Originate rings the user's own phone PJSIP/101 first (DialBegin without a caller), then 102; the gateway hangs up",
        &[
            r#"{"event":"call.serviceInitiated","call":{"pbxCallId":"ctigw-fixture.1","connections":[{"device":"101","state":"initiated","initiator":true}]}}"#,
            r#"{"event":"call.originated","call":{"connections":[{"device":"101","state":"connected"}]}}"#,
            r#"{"event":"call.delivered","call":{"calling":{"number":"101"},"called":{"number":"102"},"connections":[{"device":"101","state":"connected","initiator":true},{"device":"102","state":"alerting","initiator":false}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"101","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
        ],
    ),
    (
        "hold",
        "hold and retrieve: 101 calls 102, 101 holds (Hold), resumes (Unhold), both hang up",
        &[
            r#"{"event":"call.held","call":{"connections":[{"device":"101","state":"held"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.retrieved","call":{"connections":[{"device":"101","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "blind-transfer",
        "blind transfer: a trunk caller talks to 101, 101 transfers to 102 (BlindTransfer), 102 answers; one call throughout",
        &[
            r#"{"event":"call.established","call":{"connections":[{"device":"0612345678","state":"connected"},{"device":"101","state":"connected"}]}}"#,
            r#"{"event":"call.transferred","call":{"cause":"transfer","connections":[{"device":"0612345678","state":"connected"},{"device":"102","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"0612345678","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"calling":{"number":"0612345678"}}}"#,
        ],
    ),
    (
        "attended-transfer-local",
        "attended transfer: trunk caller with 101; 101 holds and calls 102 through Local/102@from-internal (optimised away); AttendedTransfer joins the calls: the consult call is merged, 102 talks to the caller, no Local half is ever a party",
        &[
            r#"{"event":"call.held","call":{"connections":[{"device":"0612345678","state":"connected"},{"device":"101","state":"held"}]}}"#,
            r#"{"event":"call.delivered","call":{"calling":{"number":"101"},"connections":[{"device":"101","state":"initiated"},{"device":"102","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"mergedInto:r-1"}}"#,
            r#"{"event":"call.transferred","call":{"connections":[{"device":"0612345678","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"calling":{"number":"0612345678"}}}"#,
        ],
    ),
    (
        "queue-to-agent",
        "queue call: 0698765432 joins queue sales (QueueCallerJoin), agent PJSIP/102 is called (AgentCalled, DialBegin), answers (AgentConnect), hangs up (AgentComplete)",
        &[
            r#"{"event":"agent.updated","agent":{"device":"102","id":"PJSIP/102","state":"ready"}}"#,
            r#"{"event":"call.delivered","call":{"calling":{"number":"0698765432"},"connections":[{"device":"0698765432","state":"connected"},{"device":"102","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"0698765432","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"agent.updated","agent":{"device":"102","state":"busy"}}"#,
            r#"{"event":"call.cleared"}"#,
            r#"{"event":"agent.updated","agent":{"device":"102","state":"ready"}}"#,
        ],
    ),
    (
        "queue-abandon",
        "abandoned queue call: the caller hangs up while agent 102 rings (QueueCallerAbandon, DialEnd CANCEL)",
        &[
            r#"{"event":"call.delivered","call":{"connections":[{"device":"0698765432","state":"connected"},{"device":"102","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"abandoned"}}"#,
        ],
    ),
    (
        "reconnect-mid-call",
        "reconnect in the middle of calls: 101-102 and trunk-103 are up, the link drops, 101-102 ends meanwhile; the new session's CoreShowChannels lists only trunk-103: 101-102 is cleared as resynchronised, trunk-103 goes on and ends normally",
        &[
            r#"{"event":"call.established","call":{"connections":[{"device":"101","state":"connected"},{"device":"102","state":"connected"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"0622222222","state":"connected"},{"device":"103","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"calling":{"number":"101"},"cause":"resynchronised"}}"#,
            r#"{"event":"call.cleared","call":{"calling":{"number":"0622222222"},"cause":"normalClearing"}}"#,
        ],
    ),
];

#[test]
fn every_fixture_replays_to_its_expected_events() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures/asterisk")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        FIXTURES.len(),
        "one transcript per scenario: {names:?}"
    );
    for name in names {
        let text = std::fs::read_to_string(dir().join(&name)).unwrap();
        let t = replay::parse_transcript(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!t.expected.is_empty(), "{name} expects nothing");
        assert!(
            text.starts_with("# "),
            "{name} must say at its top what it exercises"
        );
        let mut r = AmiReplay::new();
        let res = replay::run(&mut r, &t.from_pbx, &DialPlan::default());
        assert!(res.errors.is_empty(), "{name}: {:?}", res.errors);
        if let Err(e) = replay::check(&t.expected, &res.events) {
            let dump: Vec<String> = res.events.iter().map(|e| e.to_string()).collect();
            panic!("{name}: {e}\nevents:\n{}", dump.join("\n"));
        }
        let stats = &r.normaliser.stats;
        assert!(
            stats.unknown.is_empty(),
            "{name}: unknown events {:?}",
            stats.unknown
        );
        assert_eq!(stats.glued, 0, "{name}");
    }
}

mod record {
    use super::*;
    use ctigw::sim::asterisk::{Scenario, SimAsterisk, SimConfig};
    use ctigw_codecs::ami::{Action, AmiCodec, Message};
    use futures_util::{SinkExt, StreamExt};
    use std::time::Duration;
    use tokio::net::TcpStream;
    use tokio_util::codec::Framed;

    type Client = Framed<TcpStream, AmiCodec>;

    async fn login(sim: &SimAsterisk) -> Client {
        let s = TcpStream::connect(sim.addr()).await.unwrap();
        let mut c = Framed::new(s, AmiCodec::client());
        c.send(
            Action::new("Login")
                .id("login")
                .field("Username", "ctigw")
                .field("Secret", "secret")
                .field("Events", "call,agent"),
        )
        .await
        .unwrap();
        // the response and FullyBooted
        for _ in 0..2 {
            c.next().await.unwrap().unwrap().unwrap();
        }
        c
    }

    /// Reads until nothing arrives for a while.
    async fn drain(c: &mut Client, out: &mut Vec<Message>) {
        while let Ok(Some(Ok(Ok(m)))) =
            tokio::time::timeout(Duration::from_millis(300), c.next()).await
        {
            out.push(m);
        }
    }

    fn render(
        name: &str,
        what: &str,
        msgs: &[Message],
        sent: &[&str],
        expected: &[&str],
    ) -> String {
        let mut s = format!(
            "# {what}\n#\n# Recorded from the simulated Asterisk (src/sim/asterisk, scenario `{name}`), whose\n# event order follows PROTOCOLS.md section 4 (Newchannel first, Hangup last, DialBegin/DialEnd\n# pairs, BridgeLeave before Hangup, VarSet/Newexten noise) and the real captures in\n# fixtures/real/ami/. Expected events written by hand in\n# tests/asterisk_fixtures.rs.\n"
        );
        for a in sent {
            s.push_str(&format!(">t {a}\n"));
        }
        for m in msgs {
            if m.event() == Some("__session__") {
                s.push_str(
                    "# --- the link drops; a new session logs in and asks CoreShowChannels ---\n",
                );
                continue;
            }
            let bytes = m.to_bytes().unwrap();
            for line in String::from_utf8_lossy(&bytes).split("\r\n") {
                if line.is_empty() {
                    continue;
                }
                s.push_str(&format!("<t {line}\n"));
            }
            s.push_str("<t\n");
        }
        for e in expected {
            s.push_str(&format!("= {e}\n"));
        }
        s
    }

    #[tokio::test]
    #[ignore = "writes fixtures/asterisk/*.txt; run with CTIGW_RECORD_FIXTURES=1"]
    async fn record_fixtures() {
        if std::env::var("CTIGW_RECORD_FIXTURES").is_err() {
            return;
        }
        let cfg = SimConfig {
            pace: 0.02,
            ..SimConfig::default()
        };
        for (name, what, expected) in FIXTURES {
            let sim = SimAsterisk::start("127.0.0.1:0".parse().unwrap(), cfg.clone())
                .await
                .unwrap();
            let mut c = login(&sim).await;
            let mut msgs = Vec::new();
            let mut sent = Vec::new();
            match *name {
                "basic-internal-call" => sim.play(Scenario::BasicInternal).await,
                "inbound-trunk-call" => sim.play(Scenario::InboundTrunk).await,
                "hold" => sim.play(Scenario::Hold).await,
                "blind-transfer" => sim.play(Scenario::BlindTransfer).await,
                "attended-transfer-local" => sim.play(Scenario::AttendedTransfer).await,
                "queue-to-agent" => sim.play(Scenario::QueueToAgent).await,
                "queue-abandon" => sim.play(Scenario::QueueAbandon).await,
                "outbound-originate" => {
                    let a = Action::new("Originate")
                        .id("ctigw-1")
                        .field("Channel", "PJSIP/101")
                        .field("Context", "from-internal")
                        .field("Exten", "102")
                        .field("Priority", "1")
                        .field("Async", "true")
                        .field("ChannelId", "ctigw-fixture.1");
                    c.send(&a).await.unwrap();
                    sent.push("Action: Originate (Channel PJSIP/101, Exten 102, Async true, ChannelId ctigw-fixture.1)");
                    drain(&mut c, &mut msgs).await;
                    let first = msgs
                        .iter()
                        .find(|m| m.event() == Some("Newchannel"))
                        .and_then(|m| m.get("Channel"))
                        .unwrap_or_default()
                        .to_string();
                    let h = Action::new("Hangup").id("ctigw-2").field("Channel", &first);
                    c.send(&h).await.unwrap();
                    sent.push("Action: Hangup (Channel: the originated PJSIP/101 channel)");
                }
                "reconnect-mid-call" => {
                    let (a, b) = sim
                        .call("PJSIP/101", "101", "Alice", "PJSIP/102", "102")
                        .await;
                    sim.call("PJSIP/trunk", "0622222222", "Eve", "PJSIP/103", "103")
                        .await;
                    drain(&mut c, &mut msgs).await;
                    sim.drop_clients();
                    sim.hangup(&a);
                    sim.hangup(&b);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    c = login(&sim).await;
                    msgs.push(Message::new().with("Event", "__session__"));
                    c.send(Action::new("CoreShowChannels").id("ctigw-1"))
                        .await
                        .unwrap();
                    sent.push("Action: CoreShowChannels (after the reconnect)");
                    drain(&mut c, &mut msgs).await;
                    sim.hangup_all();
                }
                other => panic!("no recipe for {other}"),
            }
            drain(&mut c, &mut msgs).await;
            let text = render(name, what, &msgs, &sent, expected);
            std::fs::write(dir().join(format!("{name}.txt")), text).unwrap();
        }
    }
}
