//! Tests of the Asterisk [`Session`] against a sans-IO fake Asterisk end, on a simulated clock:
//! no sockets, no sleeps. [`Pair::step`] moves bytes both ways until neither side has anything
//! to say (as quinn-proto's test `Pair` does); [`Pair::run_for`] jumps the clock from one
//! session time-out to the next. The fake speaks only `ctigw_codecs::ami` and computes the MD5
//! key with the `md-5` crate itself, so a misreading shared with the gateway cannot hide.

use super::error::LinkError;
use super::options::{AuthKind, Options};
use super::session::{LinkAction, Session};
use crate::model::{
    CallEventKind, ConnectionState, DeviceId, ErrorCode, LinkState, PbxCommand, PbxEvent,
};
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::AdapterRequest;
use bytes::BytesMut;
use ctigw_codecs::ami::{AmiCodec, Message};
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

/// The Asterisk end: answers actions the way Asterisk 18+ does.
struct FakeAsterisk {
    secret: String,
    connected: bool,
    codec: AmiCodec,
    inbuf: BytesMut,
    out: BytesMut,
    challenge: Option<String>,
    answer_pings: bool,
    /// Actions received and never answered.
    ignore: Vec<&'static str>,
    /// The `CoreShowChannel` items listed on request.
    channels: Vec<Message>,
    /// The `QueueMember` items `QueueStatus` lists.
    members: Vec<Message>,
    /// Send `FullyBooted` after a login (a freshly started Asterisk does).
    fully_booted: bool,
    pings_seen: usize,
    logins: usize,
}

impl FakeAsterisk {
    fn new(secret: &str) -> Self {
        FakeAsterisk {
            secret: secret.into(),
            connected: false,
            codec: AmiCodec::server(),
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            challenge: None,
            answer_pings: true,
            ignore: Vec::new(),
            channels: Vec::new(),
            members: Vec::new(),
            fully_booted: false,
            pings_seen: 0,
            logins: 0,
        }
    }

    fn connect(&mut self) {
        self.connected = true;
        self.codec = AmiCodec::server();
        self.inbuf.clear();
        self.out.clear();
        self.challenge = None;
        AmiCodec::encode_banner("9.0.0", &mut self.out).expect("banner");
    }

    fn disconnect(&mut self) {
        self.connected = false;
        self.out.clear();
    }

    fn send(&mut self, m: Message) {
        self.codec.encode(m, &mut self.out).expect("encodable");
    }

    fn poll_transmit(&mut self) -> Option<BytesMut> {
        (self.connected && !self.out.is_empty()).then(|| self.out.split())
    }

    fn handle_bytes(&mut self, bytes: &[u8]) {
        self.inbuf.extend_from_slice(bytes);
        while let Ok(Some(item)) = self.codec.decode(&mut self.inbuf) {
            if let Ok(m) = item {
                self.answer(&m);
            }
        }
    }

    fn answer(&mut self, m: &Message) {
        let id = m.action_id().unwrap_or_default().to_string();
        let action = m.action().unwrap_or_default().to_ascii_lowercase();
        let reply = |status: &str, text: &str| {
            Message::new()
                .with("Response", status)
                .with("ActionID", &id)
                .with("Message", text)
        };
        if self.ignore.iter().any(|a| a.eq_ignore_ascii_case(&action)) {
            return;
        }
        match action.as_str() {
            "challenge" => {
                let c = "424242".to_string();
                self.challenge = Some(c.clone());
                let r = Message::new()
                    .with("Response", "Success")
                    .with("ActionID", &id)
                    .with("Challenge", &c);
                self.send(r);
            }
            "login" => {
                let ok = match (m.get("Key"), m.get("Secret")) {
                    (Some(key), _) => self.challenge.as_deref().is_some_and(|c| {
                        use md5::Digest as _;
                        let digest = md5::Md5::digest(format!("{c}{}", self.secret).as_bytes());
                        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                        hex == key
                    }),
                    (None, Some(s)) => s == self.secret,
                    _ => false,
                };
                if ok {
                    self.logins += 1;
                    self.send(reply("Success", "Authentication accepted"));
                    if self.fully_booted {
                        let ev = Message::new()
                            .with("Event", "FullyBooted")
                            .with("Privilege", "system,all")
                            .with("Status", "Fully Booted");
                        self.send(ev);
                    }
                } else {
                    self.send(reply("Error", "Authentication failed"));
                }
            }
            "ping" => {
                self.pings_seen += 1;
                if self.answer_pings {
                    self.send(reply("Success", "").with("Ping", "Pong"));
                }
            }
            "coreshowchannels" => {
                let items = self.channels.clone();
                self.list(&id, "CoreShowChannel", "CoreShowChannelsComplete", items)
            }
            "devicestatelist" => {
                self.list(&id, "DeviceStateChange", "DeviceStateListComplete", vec![])
            }
            "queuestatus" => {
                let items = self.members.clone();
                self.list(&id, "QueueMember", "QueueStatusComplete", items)
            }
            _ => self.send(reply("Success", "")),
        }
    }

    fn list(&mut self, id: &str, _item: &str, complete: &str, items: Vec<Message>) {
        self.send(
            Message::new()
                .with("Response", "Success")
                .with("ActionID", id)
                .with("EventList", "start")
                .with("Message", "Channels will follow"),
        );
        let n = items.len();
        for m in items {
            self.send(m.with("ActionID", id));
        }
        self.send(
            Message::new()
                .with("Event", complete)
                .with("ActionID", id)
                .with("EventList", "Complete")
                .with("ListItems", &n.to_string()),
        );
    }
}

/// A `CoreShowChannel` item.
fn channel(name: &str, uid: &str, linkedid: &str, num: &str, app: &str) -> Message {
    Message::new()
        .with("Event", "CoreShowChannel")
        .with("Channel", name)
        .with("Uniqueid", uid)
        .with("Linkedid", linkedid)
        .with("ChannelState", "6")
        .with("ChannelStateDesc", "Up")
        .with("CallerIDNum", num)
        .with("Exten", if app == "Dial" { "102" } else { "" })
        .with("Application", app)
        .with("BridgeId", "b-1")
}

/// A `QueueMember` item of `QueueStatus`: `iface` in `queue`, paused or not.
fn member(queue: &str, iface: &str, paused: bool, reason: &str) -> Message {
    Message::new()
        .with("Event", "QueueMember")
        .with("Queue", queue)
        .with("Name", iface)
        .with("Location", iface)
        .with("StateInterface", iface)
        .with("Membership", "static")
        .with("InCall", "0")
        .with("Status", "1")
        .with("Paused", if paused { "1" } else { "0" })
        .with("PausedReason", reason)
}

/// A connected call 101 → 102, as Asterisk lists it.
fn call_101_102() -> Vec<Message> {
    vec![
        channel(
            "PJSIP/101-00000001",
            "1700000000.1",
            "1700000000.1",
            "101",
            "Dial",
        ),
        channel(
            "PJSIP/102-00000002",
            "1700000000.2",
            "1700000000.1",
            "102",
            "AppDial",
        ),
    ]
}

struct Pair {
    session: Session,
    fake: FakeAsterisk,
    now: Instant,
    /// Whether the fake accepts connections.
    listening: bool,
    events: Vec<(Instant, PbxEvent)>,
    start: Instant,
}

impl Pair {
    fn new(opts: Options, fake: FakeAsterisk) -> Self {
        let devices = vec![DeviceId::new("101"), DeviceId::new("102")];
        let backoff = Backoff::with_seed(opts.reconnect_min, opts.reconnect_max, 7);
        let now = Instant::now();
        let mut p = Pair {
            session: Session::new("pbx.test:5038", devices, opts, backoff, 1),
            fake,
            now,
            listening: true,
            events: Vec::new(),
            start: now,
        };
        p.step();
        p
    }

    /// Moves actions, bytes and events until neither side has anything left to do.
    fn step(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            while let Some(a) = self.session.poll_action() {
                busy = true;
                match a {
                    LinkAction::Connect if self.listening => {
                        self.fake.connect();
                        self.session.handle_connected(self.now);
                    }
                    LinkAction::Connect => {
                        let why = LinkError::Connect {
                            address: "pbx.test:5038".into(),
                            reason: "connection refused".into(),
                        };
                        self.session.handle_closed(self.now, why);
                    }
                    LinkAction::Close => self.fake.disconnect(),
                }
            }
            while let Some(b) = self.session.poll_transmit() {
                busy = true;
                if self.fake.connected {
                    self.fake.handle_bytes(&b);
                }
            }
            if let Some(b) = self.fake.poll_transmit() {
                busy = true;
                self.session.handle_bytes(self.now, &b);
            }
            while let Some(e) = self.session.poll_event() {
                busy = true;
                self.events.push((self.now, e));
            }
            if !busy {
                return;
            }
        }
        panic!("the session and the fake never went idle");
    }

    /// Advances the simulated clock by `d`, firing every session time-out on the way.
    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..100_000 {
            match self.session.poll_timeout() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.session.handle_timeout(self.now);
                    self.step();
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("time-outs never stopped coming");
    }

    fn request(&mut self, token: u64, command: PbxCommand) {
        self.session
            .handle_request(self.now, AdapterRequest { token, command });
        self.step();
    }

    /// The connection drops (the PBX side closed it).
    fn cut(&mut self) {
        self.fake.disconnect();
        self.session
            .handle_closed(self.now, LinkError::Closed("end of stream".into()));
        self.step();
    }

    fn links(&self) -> Vec<(Duration, LinkState)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                PbxEvent::Link(l) => Some((*t - self.start, l.clone())),
                _ => None,
            })
            .collect()
    }

    fn results(&self, token: u64) -> Vec<(Instant, PbxEvent)> {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, PbxEvent::CommandResult { token: t, .. } if *t == token))
            .cloned()
            .collect()
    }
}

fn opts(auth: AuthKind) -> Options {
    let devices = [DeviceId::new("101"), DeviceId::new("102")];
    let mut o = Options::simple("ctigw", "secret", &devices);
    o.auth = auth;
    o
}

/// The call an event ends: every party of it gone (`Null`), or the call cleared outright.
fn cleared_call(e: &PbxEvent) -> Option<&str> {
    match e {
        PbxEvent::CallCleared { call, .. } => Some(call),
        PbxEvent::Call(ev)
            if ev.kind == CallEventKind::ConnectionCleared
                && !ev.connections.is_empty()
                && ev
                    .connections
                    .iter()
                    .all(|c| c.state == ConnectionState::Null) =>
        {
            Some(&ev.call)
        }
        _ => None,
    }
}

fn is_up(l: &LinkState) -> bool {
    matches!(l, LinkState::Up)
}

#[test]
fn login_refused_keeps_the_link_down_with_the_reason() {
    for auth in [AuthKind::Md5, AuthKind::Plain] {
        let mut p = Pair::new(opts(auth), FakeAsterisk::new("not-the-secret"));
        p.run_for(Duration::from_secs(2));
        let links = p.links();
        assert!(!links.iter().any(|(_, l)| is_up(l)), "{auth:?}: {links:?}");
        let downs: Vec<&String> = links
            .iter()
            .filter_map(|(_, l)| match l {
                LinkState::Down { reason } => Some(reason),
                _ => None,
            })
            .collect();
        assert!(!downs.is_empty(), "{auth:?}: {links:?}");
        assert!(
            downs
                .iter()
                .all(|r| *r == "login refused by Asterisk: Authentication failed"),
            "{auth:?}: {downs:?}"
        );
        assert_eq!(
            p.session.last_error(),
            Some(&LinkError::LoginRefused("Authentication failed".into()))
        );
        // it keeps trying, with backoff, each failed attempt told once (its Down), the first
        // attempt alone announced as connecting
        assert_eq!(
            links
                .iter()
                .filter(|(_, l)| *l == LinkState::Connecting)
                .count(),
            1,
            "{auth:?}: {links:?}"
        );
        assert!(downs.len() >= 2, "{auth:?}: {links:?}");
    }
}

#[test]
fn keepalive_unanswered_takes_the_link_down_within_two_intervals() {
    let o = opts(AuthKind::Md5);
    let interval = o.ping_interval;
    let mut p = Pair::new(o, FakeAsterisk::new("secret"));
    p.run_for(interval * 3);
    assert!(p.session.is_up());
    assert!(p.fake.pings_seen >= 2, "pings: {}", p.fake.pings_seen);
    assert_eq!(p.links().len(), 2, "{:?}", p.links());

    p.fake.answer_pings = false;
    let silent_from = p.now - p.start;
    let seen = p.fake.pings_seen;
    p.run_for(interval * 3);
    let links = p.links();
    let (down_at, reason) = links
        .iter()
        .find_map(|(t, l)| match l {
            LinkState::Down { reason } => Some((*t, reason.clone())),
            _ => None,
        })
        .expect("the link went down");
    assert!(p.fake.pings_seen > seen);
    assert_eq!(reason, "no answer to Ping within 8 s");
    assert!(
        down_at <= silent_from + interval * 2,
        "down at {down_at:?}, silent from {silent_from:?}"
    );
    // and it reconnects on its own
    assert!(
        links.iter().filter(|(_, l)| is_up(l)).count() >= 2,
        "{links:?}"
    );
}

#[test]
fn an_action_never_answered_gets_one_timeout_result() {
    let o = opts(AuthKind::Md5);
    let timeout = o.response_timeout;
    let mut fake = FakeAsterisk::new("secret");
    fake.ignore.push("Originate");
    let mut p = Pair::new(o, fake);
    assert!(p.session.is_up());
    let asked = p.now;
    p.request(
        7,
        PbxCommand::MakeCall {
            device: DeviceId::new("101"),
            to: "200".into(),
        },
    );
    assert!(p.results(7).is_empty());
    p.run_for(timeout * 10);
    let results = p.results(7);
    assert_eq!(results.len(), 1, "{results:?}");
    let (at, PbxEvent::CommandResult { result, .. }) = &results[0] else {
        unreachable!()
    };
    let err = result.as_ref().expect_err("a time-out");
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(err.message.contains("makeCall"), "{}", err.message);
    assert_eq!(*at - asked, timeout);
    // the link itself stays up
    assert!(p.session.is_up());
    assert_eq!(p.links().len(), 2);
}

#[test]
fn pbx_restart_mid_call_reconnects_after_fully_booted_and_clears_the_call() {
    let mut fake = FakeAsterisk::new("secret");
    fake.channels = call_101_102();
    let mut p = Pair::new(opts(AuthKind::Md5), fake);
    assert!(p.session.is_up());
    let snapshot_101 = p.events.iter().find_map(|(_, e)| match e {
        PbxEvent::Snapshot { device, calls } if device.as_str() == "101" => Some(calls.clone()),
        _ => None,
    });
    let calls = snapshot_101.expect("a snapshot for 101");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].call, "1700000000.1");
    p.request(
        9,
        PbxCommand::MakeCall {
            device: DeviceId::new("102"),
            to: "300".into(),
        },
    );

    // Asterisk restarts: the connection drops, it comes back empty and says FullyBooted
    p.fake.channels.clear();
    p.fake.fully_booted = true;
    p.listening = false;
    let mark = p.events.len();
    p.cut();
    p.run_for(Duration::from_secs(3));
    p.listening = true;
    p.run_for(Duration::from_secs(60));

    let after = &p.events[mark..];
    assert!(p.session.is_up());
    assert_eq!(p.fake.logins, 2);
    let up_again = after
        .iter()
        .position(|(_, e)| *e == PbxEvent::Link(LinkState::Up))
        .expect("up again");
    let cleared = after
        .iter()
        .position(|(_, e)| cleared_call(e) == Some("1700000000.1"))
        .expect("the call cleared");
    assert!(cleared > up_again);
    // the command answered before the restart got exactly one result, and no second one
    let r9 = p.results(9);
    assert_eq!(r9.len(), 1, "{r9:?}");
}

#[test]
fn a_resync_that_finds_calls_gone_clears_them() {
    let mut fake = FakeAsterisk::new("secret");
    fake.channels = call_101_102();
    fake.ignore.push("Originate");
    let mut p = Pair::new(opts(AuthKind::Plain), fake);
    assert!(p.session.is_up());
    p.request(
        3,
        PbxCommand::MakeCall {
            device: DeviceId::new("101"),
            to: "200".into(),
        },
    );

    // the connection drops; the call ends meanwhile, unseen
    p.fake.channels.clear();
    let mark = p.events.len();
    p.cut();
    let r3 = p.results(3);
    assert_eq!(r3.len(), 1, "{r3:?}");
    let PbxEvent::CommandResult { result, .. } = &r3[0].1 else {
        unreachable!()
    };
    assert_eq!(
        result.as_ref().expect_err("link down").code,
        ErrorCode::LinkDown
    );

    p.run_for(Duration::from_secs(60));
    let after = &p.events[mark..];
    let snapshots: Vec<_> = after
        .iter()
        .filter_map(|(_, e)| match e {
            PbxEvent::Snapshot { device, calls } => Some((device.clone(), calls.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        snapshots,
        vec![(DeviceId::new("101"), 0), (DeviceId::new("102"), 0)]
    );
    let cleared: Vec<_> = after.iter().filter_map(|(_, e)| cleared_call(e)).collect();
    assert_eq!(cleared, vec!["1700000000.1"]);
    // still one result for the command, even after the time-out would have passed
    assert_eq!(p.results(3).len(), 1);
}

/// The agent events of `device` in `events`: (state, reason) and the groups told.
fn agent_events(events: &[(Instant, PbxEvent)], device: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            PbxEvent::Agent {
                device: d, state, ..
            } if d.as_str() == device => Some(format!("{state:?}")),
            PbxEvent::AgentGroups { device: d, groups } if d.as_str() == device => {
                Some(format!("groups {groups:?}"))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn queue_members_are_loaded_at_login_and_after_every_reconnect() {
    // issue 9 item 7: a static member (never an event of its own) is known from the login on
    let mut fake = FakeAsterisk::new("secret");
    fake.members = vec![
        member("sales", "PJSIP/101", true, "lunch"),
        member("support", "PJSIP/101", true, "lunch"),
    ];
    let mut p = Pair::new(opts(AuthKind::Md5), fake);
    assert!(p.session.is_up());
    assert_eq!(
        agent_events(&p.events, "101"),
        ["NotReady", "groups [\"sales\", \"support\"]"]
    );
    // the agent events come after the link is up, with the snapshots (held back until then)
    let up = p
        .events
        .iter()
        .position(|(_, e)| *e == PbxEvent::Link(LinkState::Up))
        .expect("up");
    let agent = p
        .events
        .iter()
        .position(|(_, e)| matches!(e, PbxEvent::Agent { .. }))
        .expect("agent");
    assert!(up < agent);

    // Asterisk restarts: the member comes back unpaused in one queue only
    p.fake.members = vec![member("sales", "PJSIP/101", false, "")];
    let mark = p.events.len();
    p.cut();
    p.run_for(Duration::from_secs(60));
    assert!(p.session.is_up());
    assert_eq!(
        agent_events(&p.events[mark..], "101"),
        ["Ready", "groups [\"sales\"]"]
    );

    // and once more, no longer a member at all: logged off
    p.fake.members.clear();
    let mark = p.events.len();
    p.cut();
    p.run_for(Duration::from_secs(60));
    assert_eq!(
        agent_events(&p.events[mark..], "101"),
        ["LoggedOff", "groups []"]
    );
}

#[test]
fn a_resynchronised_session_retries_at_once_after_its_first_drop() {
    // issue 9 items 9 and 10
    let o = opts(AuthKind::Md5);
    let min = o.reconnect_min;
    let mut p = Pair::new(o, FakeAsterisk::new("secret"));
    assert!(p.session.is_up());

    // the PBX is away for a while: the backoff grows, each failed attempt told once
    p.listening = false;
    let mark = p.events.len();
    p.cut();
    p.run_for(Duration::from_secs(20));
    let links: Vec<&LinkState> = p.events[mark..]
        .iter()
        .filter_map(|(_, e)| match e {
            PbxEvent::Link(l) => Some(l),
            _ => None,
        })
        .collect();
    let downs = links
        .iter()
        .filter(|l| matches!(l, LinkState::Down { .. }))
        .count();
    assert!(downs >= 4, "{links:?}");
    assert_eq!(downs, links.len(), "only Down, once per attempt: {links:?}");
    p.listening = true;
    p.run_for(Duration::from_secs(40));
    assert!(p.session.is_up());

    // up and resynchronised, it drops 5 s later (a PBX restarting again): it retries after the
    // shortest delay, not the grown one
    p.run_for(Duration::from_secs(5));
    p.cut();
    p.run_for(min);
    assert!(p.session.is_up(), "retried after {min:?}: {:?}", p.links());

    // a second restart soon after: retried at once too, each resynchronised session earns it
    p.run_for(Duration::from_secs(1));
    p.cut();
    p.run_for(min);
    assert!(
        p.session.is_up(),
        "a second quick drop retried after {min:?}"
    );

    // and after a stable stretch, the next drop is retried at once again
    p.run_for(Duration::from_secs(31));
    p.cut();
    p.run_for(min);
    assert!(p.session.is_up(), "stable, then retried after {min:?}");
}
