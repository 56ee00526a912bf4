//! CSTA XML replay: every transcript under `fixtures/openscape/` (CSTA XML over TCP, 8-byte
//! header frames in hex) and `fixtures/cucm/` (uaCSTA: SIP messages as text) replays through
//! the adapters' sans-IO mapping and the engine into its expected events.
//!
//! The transcripts are written by the ignored test `write_fixtures` from the simulated switch
//! (`src/sim/csta_xml`, sans-IO, scenario by scenario) with the expectations of `EXPECT`,
//! written by hand: `cargo test --test csta_xml_replay -- --ignored write_fixtures`, then
//! review the diff.

use ctigw::model::DialPlan;
use ctigw::tools::replay;
use std::path::PathBuf;

mod common;

fn dir(name: &str) -> PathBuf {
    common::fixture(name)
}

/// Fixtures whose replay reports an error line on purpose.
const WITH_ERRORS: &[&str] = &["monitor-refused.txt"];

fn replay_dir(name: &str, dialect: &str) -> usize {
    let mut n = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let t = replay::parse_transcript(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let mut r = replay::replayer(dialect, &DialPlan::default()).unwrap();
        let res = replay::run(r.as_mut(), &t.from_pbx, &DialPlan::default());
        let fname = f.file_name().unwrap().to_string_lossy().to_string();
        if WITH_ERRORS.contains(&fname.as_str()) {
            assert!(!res.errors.is_empty(), "{fname}: an error was expected");
        } else {
            assert!(res.errors.is_empty(), "{}: {:?}", f.display(), res.errors);
        }
        assert!(
            !t.expected.is_empty() || WITH_ERRORS.contains(&fname.as_str()),
            "{fname}: no expectations"
        );
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
        n += 1;
    }
    n
}

#[test]
fn openscape_fixtures_replay() {
    assert!(replay_dir("openscape", "csta-xml-tcp") >= 10);
}

#[test]
fn cucm_fixtures_replay() {
    assert!(replay_dir("cucm", "uacsta") >= 10);
}

/// The same transcript split anywhere replays the same (framing is incremental).
#[test]
fn any_split_replays_the_same() {
    for (d, dialect) in [("openscape", "csta-xml-tcp"), ("cucm", "uacsta")] {
        let text = std::fs::read_to_string(dir(d).join("consult-transfer.txt")).unwrap();
        let t = replay::parse_transcript(&text).unwrap();
        let whole: Vec<u8> = t.from_pbx.concat();
        let plan = DialPlan::default();
        let one = replay::run(
            replay::replayer(dialect, &plan).unwrap().as_mut(),
            std::slice::from_ref(&whole),
            &plan,
        );
        let bytes: Vec<Vec<u8>> = whole.chunks(7).map(<[u8]>::to_vec).collect();
        let split = replay::run(
            replay::replayer(dialect, &plan).unwrap().as_mut(),
            &bytes,
            &plan,
        );
        let strip = |v: &[serde_json::Value]| -> Vec<String> {
            v.iter()
                .map(|e| e["event"].to_string() + &e["call"]["connections"].to_string())
                .collect()
        };
        assert_eq!(strip(&one.events), strip(&split.events), "{d}");
        assert!(!one.events.is_empty());
    }
}

/// Hand-written expectations, by fixture name (the same for both transports: one mapping).
const EXPECT: &[(&str, &[&str])] = &[
    (
        "inbound",
        &[
            r#"{"event":"call.delivered","call":{"direction":"inbound","calling":{"number":"00612345678"},"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
        ],
    ),
    (
        "internal",
        &[
            r#"{"event":"call.originated","call":{"direction":"internal"}}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "hold-retrieve",
        &[
            r#"{"event":"call.held","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"held"}]}}"#,
            r#"{"event":"call.retrieved","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "consult-transfer",
        &[
            r#"{"event":"call.held"}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"alerting"}]}}"#,
            r#"{"event":"call.transferred","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24102","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "conference",
        &[
            r#"{"event":"call.conferenced","call":{"conference":true,"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"},{"device":"24102","state":"connected"}]}}"#,
            r#"{"event":"call.connectionCleared","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "forward-divert",
        &[
            r#"{"event":"device.updated","device":{"id":"24102","forwards":[{"kind":"immediate","destination":"24103"}]}}"#,
            r#"{"event":"call.diverted"}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24103","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared"}"#,
            r#"{"event":"device.updated","device":{"id":"24102"}}"#,
        ],
    ),
    (
        "external-trunk",
        &[
            r#"{"event":"call.networkReached","call":{"direction":"outbound","called":{"number":"00123456789"},"connections":[{"device":"24101","state":"connected"},{"device":"00123456789","state":"alerting"}]}}"#,
            r#"{"event":"call.established","call":{"connections":[{"device":"24101","state":"connected"},{"device":"00123456789","state":"connected"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "outbound-makecall",
        &[
            r#"{"event":"call.originated","call":{"direction":"internal","connections":[{"device":"24101","state":"connected"}]}}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"24101","state":"connected"},{"device":"24102","state":"alerting"}]}}"#,
            r#"{"event":"call.established"}"#,
        ],
    ),
    (
        "agent",
        &[
            r#"{"event":"agent.updated","agent":{"device":"24110","state":"ready"}}"#,
            r#"{"event":"call.delivered","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24110","state":"alerting"}]}}"#,
            r#"{"event":"call.cleared"}"#,
        ],
    ),
    (
        "pbx-reset",
        &[
            r#"{"event":"call.established","call":{"connections":[{"device":"00612345678","state":"connected"},{"device":"24101","state":"connected"}]}}"#,
        ],
    ),
    ("monitor-refused", &[]),
];

/// Writes `fixtures/openscape/*.txt` and `fixtures/cucm/*.txt` from the simulated switch.
#[test]
#[ignore]
fn write_fixtures() {
    use ctigw::sim::csta_xml::{DeviceForm, Player, Switch, SwitchConfig};
    use ctigw::sim::oxe::scenario;
    use ctigw_codecs::csta_xml::{CstaXmlCodec, Edition, Message, requests};
    use ctigw_codecs::sip::{CSTA_XML, ContentDisposition, Message as Sip, Method, Uri};
    use tokio_util::codec::Encoder;

    const A: &str = "24101";
    const B: &str = "24102";
    const C: &str = "24103";
    const AGENT: &str = "24110";

    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Tcp,
        Sip,
    }

    struct Rec {
        kind: Kind,
        sw: Switch,
        lines: Vec<String>,
        invoke: u16,
        cseq_ours: u32,
        cseq_theirs: u32,
        player: Player,
    }

    fn hex(b: &[u8]) -> String {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    impl Rec {
        fn new(kind: Kind, cfg: SwitchConfig) -> Self {
            Rec {
                kind,
                sw: Switch::new(cfg),
                lines: Vec::new(),
                invoke: 0,
                cseq_ours: 1,
                cseq_theirs: 100,
                player: Player::default(),
            }
        }
        fn note(&mut self, s: &str) {
            self.lines.push(format!("# {s}"));
        }
        fn frame(&mut self, dir: &str, id: u16, m: &Message) {
            match self.kind {
                Kind::Tcp => {
                    let mut b = bytes::BytesMut::new();
                    CstaXmlCodec::new()
                        .with_edition(Edition::Ed4)
                        .encode((id, m), &mut b)
                        .unwrap();
                    self.lines
                        .push(format!("# {dir} {} (invokeID {id:04})", m.element_name()));
                    self.lines.push(format!("{dir} {}", hex(&b)));
                }
                Kind::Sip => unreachable!(),
            }
        }
        fn sip(&mut self, ours: bool, m: &Sip) {
            let text = String::from_utf8(m.to_bytes().unwrap()).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let p = if ours { ">t" } else { "<t" };
            for l in head.split("\r\n") {
                self.lines.push(format!("{p} {l}"));
            }
            self.lines.push(p.to_string());
            if !body.is_empty() {
                self.lines.push(format!("{p} {body}"));
            }
        }
        fn headers(m: Sip, cseq: u32, method: &str, ours: bool, branch: &str) -> Sip {
            let (from, to) = if ours {
                (
                    "<sip:ctigw@cucm.example.com>;tag=c1",
                    "<sip:ctigw@cucm.example.com>;tag=gw1",
                )
            } else {
                (
                    "<sip:ctigw@cucm.example.com>;tag=gw1",
                    "<sip:ctigw@cucm.example.com>;tag=c1",
                )
            };
            m.with_header(
                "Via",
                format!(
                    "SIP/2.0/TCP {};branch=z9hG4bK{branch}",
                    if ours {
                        "192.0.2.5:50600"
                    } else {
                        "192.0.2.20:5060"
                    }
                ),
            )
            .with_header("Max-Forwards", 70)
            .with_header("From", from)
            .with_header("To", to)
            .with_header("Call-ID", "d1@ctigw")
            .with_header("CSeq", format!("{cseq} {method}"))
        }
        fn body(m: Sip, doc: &Message) -> Sip {
            m.with_header("Content-Disposition", ContentDisposition::csta_signal())
                .with_body(CSTA_XML, doc.to_xml(Edition::Ed3).to_vec())
        }
        /// Events since the last call, as frames or INFO requests.
        fn flush(&mut self) {
            for (_, ev) in self.sw.take() {
                match self.kind {
                    Kind::Tcp => self.frame("<", 9999, &ev),
                    Kind::Sip => {
                        self.cseq_theirs += 1;
                        let n = self.cseq_theirs;
                        let req = Sip::request(
                            Method::Info,
                            Uri::parse("sip:ctigw@192.0.2.5:50600;transport=tcp").unwrap(),
                        );
                        let req = Self::body(
                            Self::headers(req, n, "INFO", false, &format!("gw{n}")),
                            &ev,
                        );
                        self.note(&format!("<- {}", ev.element_name()));
                        self.sip(false, &req);
                        let ok = Sip::response_to(&req, 200, "", None);
                        self.sip(true, &ok);
                    }
                }
            }
        }
        /// A request from the gateway, the PBX's answer, and the events it caused.
        fn ask(&mut self, req: Message) {
            let resp = self.sw.on_request(&req);
            self.exchange(&req, &resp);
            self.flush();
        }
        fn exchange(&mut self, req: &Message, resp: &Message) {
            match self.kind {
                Kind::Tcp => {
                    self.invoke += 1;
                    let id = self.invoke;
                    self.frame(">", id, req);
                    self.frame("<", id, resp);
                }
                Kind::Sip => {
                    self.cseq_ours += 1;
                    let n = self.cseq_ours;
                    let r = Sip::request(
                        Method::Info,
                        Uri::parse("sip:gateway@192.0.2.20:5060;transport=tcp").unwrap(),
                    );
                    let r = Self::body(Self::headers(r, n, "INFO", true, &format!("c{n}")), req);
                    self.note(&format!(
                        "-> {} / <- {}",
                        req.element_name(),
                        resp.element_name()
                    ));
                    self.sip(true, &r);
                    let ok = Self::body(Sip::response_to(&r, 200, "", None), resp);
                    self.sip(false, &ok);
                }
            }
        }
        fn open(&mut self, devices: &[&str]) {
            match self.kind {
                Kind::Tcp => {
                    self.note("ECMA-354 application session (ed4), then a monitor and a snapshot per device");
                    let start = requests::start_application_session(
                        "ctigw",
                        &[Edition::Ed4, Edition::Ed3, Edition::Ed6],
                        Some(180),
                    );
                    let pos: Message = ctigw_codecs::csta_xml::StartApplicationSessionPosResponse {
                        session_id: "sim-session-1".into(),
                        actual_protocol_version: Edition::Ed4.namespace().into(),
                        actual_session_duration: Some(180),
                        extensions: vec![],
                    }
                    .into();
                    self.exchange(&start, &pos);
                }
                Kind::Sip => {
                    self.note(
                        "the uaCSTA dialog: INVITE with RequestSystemStatus, 401 Digest challenge,",
                    );
                    self.note("INVITE with credentials, 200 OK with systemStatus normal, ACK");
                    let inv = |cseq: u32| {
                        let m = Sip::request(
                            Method::Invite,
                            Uri::parse("sip:ctigw@cucm.example.com").unwrap(),
                        );
                        let m = Self::headers(m, cseq, "INVITE", true, &format!("i{cseq}"));
                        let m =
                            m.with_header("Contact", "<sip:ctigw@192.0.2.5:50600;transport=tcp>");
                        Self::body(m, &requests::request_system_status())
                    };
                    let mut first = inv(1);
                    first.set_header("To", "<sip:ctigw@cucm.example.com>");
                    self.sip(true, &first);
                    let ch = Sip::response_to(&first, 401, "", Some("gw0")).with_header(
                        "WWW-Authenticate",
                        "Digest realm=\"cucm-sim\", nonce=\"5eed\", qop=\"auth\", algorithm=MD5",
                    );
                    self.sip(false, &ch);
                    self.cseq_ours = 2;
                    let mut second = inv(2);
                    second.set_header("To", "<sip:ctigw@cucm.example.com>");
                    second.push_header("Authorization", "Digest username=\"ctigw\", realm=\"cucm-sim\", nonce=\"5eed\", uri=\"sip:ctigw@cucm.example.com\", response=\"(elided)\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"");
                    self.sip(true, &second);
                    let ok = Self::body(
                        Sip::response_to(&second, 200, "", Some("gw1"))
                            .with_header("Contact", "<sip:gateway@192.0.2.20:5060;transport=tcp>"),
                        &self.sw.on_request(&requests::request_system_status()),
                    );
                    self.sip(false, &ok);
                    let mut ack = Self::headers(
                        Sip::request(
                            Method::Ack,
                            Uri::parse("sip:gateway@192.0.2.20:5060;transport=tcp").unwrap(),
                        ),
                        2,
                        "ACK",
                        true,
                        "a2",
                    );
                    ack.set_header("Content-Length", 0);
                    self.sip(true, &ack);
                    self.note(
                        "a monitor and a snapshot per device, each an INFO answered in its 200 OK",
                    );
                }
            }
            for d in devices {
                self.ask(requests::monitor_start(*d));
                self.ask(requests::snapshot_device(*d));
            }
        }
        fn play(&mut self, name: &str) {
            let steps = scenario::steps(name, A, B, C, AGENT).unwrap();
            for (_, s) in steps {
                self.note(&format!("{s:?}"));
                if self.player.play(&mut self.sw, &s) {
                    self.sw.reset();
                }
                self.flush();
            }
        }
    }

    let scripts: &[(&str, &str, Option<&str>)] = &[
        (
            "inbound",
            "an outside caller rings 24101, who answers; the caller hangs up",
            Some("inbound"),
        ),
        (
            "internal",
            "24101 calls 24102 (both monitored), who answers; 24101 hangs up",
            Some("internal"),
        ),
        (
            "hold-retrieve",
            "hold and retrieve on an inbound call answered by 24101",
            Some("hold"),
        ),
        (
            "consult-transfer",
            "24101 answers, consults 24102 and transfers; the caller hangs up",
            Some("transfer"),
        ),
        (
            "conference",
            "24101 answers, consults 24102 and conferences; 24102 leaves, 24101 hangs up",
            Some("conference"),
        ),
        (
            "forward-divert",
            "24102 forwards to 24103; 24101 calls 24102, diverted to 24103",
            Some("forward"),
        ),
        (
            "external-trunk",
            "24101 dials an outside number through a trunk",
            Some("trunk"),
        ),
        (
            "outbound-makecall",
            "MakeCall from 24101 to 24102; 24102 answers",
            None,
        ),
        (
            "agent",
            "the agent set 24110 goes ready and takes an outside call",
            Some("ccd-timer384-zero"),
        ),
        (
            "pbx-reset",
            "an answered call, then the PBX restarts (nothing more arrives)",
            Some("reset"),
        ),
        (
            "monitor-refused",
            "a licence limit of one monitor: the second MonitorStart is refused",
            None,
        ),
    ];
    for (dirname, kind, form) in [
        ("openscape", Kind::Tcp, DeviceForm::Vendor),
        ("cucm", Kind::Sip, DeviceForm::Tel),
    ] {
        for (file, what, scen) in scripts {
            let mut cfg = SwitchConfig {
                form,
                ..SwitchConfig::default()
            };
            if *file == "monitor-refused" {
                cfg.monitor_limit = 1;
            }
            let mut r = Rec::new(kind, cfg);
            r.note(&format!("{}.", what[..1].to_uppercase() + &what[1..]));
            r.note(&format!(
                "Generated by tests/csta_xml_replay.rs write_fixtures from the simulated {} (src/sim/csta_xml),",
                if kind == Kind::Tcp { "OpenScape (CSTA XML over TCP, 8-byte header, ECMA-354 session, ed4)" } else { "uaCSTA gateway (CUCM IM&P; SIP over TCP, ed3 bodies)" }
            ));
            r.note("whose documents follow ECMA-323 and PROTOCOLS.md section 3 (device identifiers in the");
            r.note(if kind == Kind::Tcp { "vendor form N<24101>Line24101;displayNumber=24101, outside numbers N<...>;noa=unknown)." } else { "tel: form, as Cisco's gateway writes them). Expected events: EXPECT in the test, by hand." });
            let devices: &[&str] = match *file {
                "monitor-refused" => &[A, B],
                "agent" => &[AGENT],
                "forward-divert" => &[A, B, C],
                _ => &[A, B],
            };
            r.open(devices);
            match scen {
                Some(s) => r.play(s),
                None if *file == "outbound-makecall" => {
                    r.ask(requests::make_call(A, B));
                    let call = r.sw.calls()[0].0.clone();
                    r.note("24102 answers at the set");
                    r.sw.answer(&call, B).unwrap();
                    r.flush();
                }
                None => {}
            }
            let exp = EXPECT
                .iter()
                .find(|(n, _)| n == file)
                .map(|(_, e)| *e)
                .unwrap_or_default();
            for e in exp {
                r.lines.push(format!("= {e}"));
            }
            let path = dir(dirname).join(format!("{file}.txt"));
            std::fs::create_dir_all(dir(dirname)).unwrap();
            std::fs::write(&path, r.lines.join("\n") + "\n").unwrap();
        }
    }
}
