//! A simulated Asterisk: an AMI server over real TCP that sends the banner, logs clients in
//! (plain or MD5 challenge), honours the event classes they ask for, answers the actions the
//! gateway sends (Ping, CoreShowChannels, DeviceStateList, Originate, Hangup, Atxfer,
//! BlindTransfer, Redirect, Bridge, QueuePause/Add/Remove, PlayDTMF, PJSIPNotify, Logoff) and
//! plays scenarios with the event order of PROTOCOLS.md section 4: Newchannel first, Hangup
//! last, DialBegin/DialEnd pairs, BridgeLeave before Hangup, VarSet/Newexten noise.
//!
//! Scenarios: basic internal call, inbound trunk call, outbound Originate, hold, blind
//! transfer, attended transfer through Local channels, queue call to an agent, caller
//! abandoning in the queue; and [`SimAsterisk::drop_clients`] cuts every connection in the
//! middle of whatever is going on (the reconnect test). Uniqueids are deterministic
//! (`1700000000.N`), so a recorded scenario is a stable fixture.

use crate::pbx::asterisk::md5;
use bytes::BytesMut;
use ctigw_codecs::ami::{AmiCodec, Message};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio_util::codec::Framed;

/// The AMI version the banner announces.
pub const VERSION: &str = "9.0.0";

#[derive(Debug, Clone)]
struct SimChan {
    name: String,
    uniqueid: String,
    linkedid: String,
    state: u8,
    num: String,
    name_id: String,
    connected: String,
    context: String,
    exten: String,
    bridge: Option<String>,
    application: String,
}

fn state_desc(s: u8) -> &'static str {
    match s {
        0 => "Down",
        4 => "Ring",
        5 => "Ringing",
        6 => "Up",
        7 => "Busy",
        _ => "Unknown",
    }
}

/// The switch: live channels, queue members, and the events it produced.
#[derive(Debug, Default)]
struct Pbx {
    seq: u64,
    chans: BTreeMap<String, SimChan>,
    bridges: u64,
    /// Queue member interface → (queues, paused).
    members: BTreeMap<String, (Vec<String>, bool)>,
    out: Vec<Message>,
}

impl Pbx {
    fn uid(&mut self) -> String {
        self.seq += 1;
        format!("1700000000.{}", self.seq)
    }

    fn chan_fields(m: &mut Message, prefix: &str, c: &SimChan) {
        let p = |k: &str| format!("{prefix}{k}");
        m.push(&p("Channel"), &c.name);
        m.push(&p("ChannelState"), &c.state.to_string());
        m.push(&p("ChannelStateDesc"), state_desc(c.state));
        m.push(&p("CallerIDNum"), &c.num);
        m.push(&p("CallerIDName"), &c.name_id);
        m.push(&p("ConnectedLineNum"), &c.connected);
        m.push(&p("ConnectedLineName"), "<unknown>");
        m.push(&p("Language"), "en");
        m.push(&p("AccountCode"), "");
        m.push(&p("Context"), &c.context);
        m.push(&p("Exten"), &c.exten);
        m.push(&p("Priority"), "1");
        m.push(&p("Uniqueid"), &c.uniqueid);
        m.push(&p("Linkedid"), &c.linkedid);
    }

    fn event(&mut self, name: &str, class: &str, ch: Option<&str>, extra: &[(&str, &str)]) {
        let mut m = Message::new()
            .with("Event", name)
            .with("Privilege", &format!("{class},all"));
        if let Some(c) = ch.and_then(|u| self.chans.get(u)) {
            Self::chan_fields(&mut m, "", c);
        }
        for (k, v) in extra {
            m.push(k, v);
        }
        self.out.push(m);
    }

    /// A new channel `<tech/resource>-<n>`; returns its Uniqueid.
    fn new_channel(
        &mut self,
        base: &str,
        num: &str,
        name: &str,
        exten: &str,
        linkedid: Option<&str>,
        uid: Option<&str>,
    ) -> String {
        let uid = uid.map(str::to_string).unwrap_or_else(|| self.uid());
        let c = SimChan {
            name: format!("{base}-{:08x}", self.seq + 0x10),
            uniqueid: uid.clone(),
            linkedid: linkedid.unwrap_or(&uid).to_string(),
            state: 0,
            num: num.into(),
            name_id: name.into(),
            connected: "<unknown>".into(),
            context: "from-internal".into(),
            exten: exten.into(),
            bridge: None,
            application: String::new(),
        };
        self.chans.insert(uid.clone(), c);
        self.event("Newchannel", "call", Some(&uid), &[]);
        uid
    }

    fn local_pair(&mut self, exten: &str, linkedid: &str) -> (String, String) {
        self.seq += 1;
        let n = self.seq;
        let base = format!("Local/{exten}@from-internal-{n:08x}");
        let mk = |p: &mut Pbx, half: &str, state: u8| {
            let uid = p.uid();
            p.chans.insert(
                uid.clone(),
                SimChan {
                    name: format!("{base};{half}"),
                    uniqueid: uid.clone(),
                    linkedid: linkedid.into(),
                    state,
                    num: "<unknown>".into(),
                    name_id: "<unknown>".into(),
                    connected: "<unknown>".into(),
                    context: "from-internal".into(),
                    exten: exten.into(),
                    bridge: None,
                    application: String::new(),
                },
            );
            p.event("Newchannel", "call", Some(&uid), &[]);
            uid
        };
        let one = mk(self, "1", 0);
        let two = mk(self, "2", 4);
        (one, two)
    }

    fn noise(&mut self, uid: &str, app: &str) {
        self.event(
            "Newexten",
            "dialplan",
            Some(uid),
            &[("Extension", "s"), ("Application", app), ("AppData", "")],
        );
        self.event(
            "VarSet",
            "dialplan",
            Some(uid),
            &[("Variable", "DIALSTATUS"), ("Value", "")],
        );
    }

    fn set_state(&mut self, uid: &str, state: u8) {
        if let Some(c) = self.chans.get_mut(uid) {
            c.state = state;
        }
        self.event("Newstate", "call", Some(uid), &[]);
    }

    fn set_callerid(&mut self, uid: &str, num: &str, name: &str) {
        if let Some(c) = self.chans.get_mut(uid) {
            c.num = num.into();
            c.name_id = name.into();
        }
        self.event(
            "NewCallerid",
            "call",
            Some(uid),
            &[("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
        );
    }

    fn dial(
        &mut self,
        caller: Option<&str>,
        dest: &str,
        dialstring: &str,
        begin: bool,
        status: &str,
    ) {
        let mut m = Message::new()
            .with("Event", if begin { "DialBegin" } else { "DialEnd" })
            .with("Privilege", "call,all");
        if let Some(c) = caller.and_then(|u| self.chans.get(u)) {
            Self::chan_fields(&mut m, "", c);
        }
        if let Some(c) = self.chans.get(dest) {
            Self::chan_fields(&mut m, "Dest", c);
        }
        if begin {
            m.push("DialString", dialstring);
            if let Some(c) = self.chans.get_mut(dest) {
                c.application = "AppDial".into();
            }
        } else {
            m.push("DialStatus", status);
        }
        self.out.push(m);
    }

    fn bridge(&mut self, a: &str, b: &str) {
        self.bridges += 1;
        let id = format!("b{:04}-sim", self.bridges);
        let info = [
            ("BridgeUniqueid", id.as_str()),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
        ];
        self.event("BridgeCreate", "call", None, &info);
        for u in [a, b] {
            if let Some(c) = self.chans.get_mut(u) {
                c.bridge = Some(id.clone());
            }
            self.event("BridgeEnter", "call", Some(u), &info);
        }
    }

    fn leave_bridge(&mut self, uid: &str) {
        let Some(id) = self.chans.get(uid).and_then(|c| c.bridge.clone()) else {
            return;
        };
        let info = [
            ("BridgeUniqueid", id.as_str()),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
        ];
        self.event("BridgeLeave", "call", Some(uid), &info);
        if let Some(c) = self.chans.get_mut(uid) {
            c.bridge = None;
        }
        if !self
            .chans
            .values()
            .any(|c| c.bridge.as_deref() == Some(id.as_str()))
        {
            self.event("BridgeDestroy", "call", None, &info);
        }
    }

    fn hangup(&mut self, uid: &str, cause: &str) {
        if !self.chans.contains_key(uid) {
            return;
        }
        self.leave_bridge(uid);
        self.event("HangupRequest", "call", Some(uid), &[("Cause", cause)]);
        let txt = match cause {
            "17" => "User busy",
            "19" => "No answer",
            _ => "Normal Clearing",
        };
        self.event(
            "Hangup",
            "call",
            Some(uid),
            &[("Cause", cause), ("Cause-txt", txt)],
        );
        if let Some(c) = self.chans.remove(uid) {
            let dev = c
                .name
                .rsplit_once('-')
                .map(|(b, _)| b)
                .unwrap_or(&c.name)
                .to_string();
            if !dev.starts_with("Local/") {
                self.event(
                    "DeviceStateChange",
                    "call",
                    None,
                    &[("Device", &dev), ("State", "NOT_INUSE")],
                );
            }
        }
    }

    fn relink(&mut self, uid: &str, linkedid: &str) {
        if let Some(c) = self.chans.get_mut(uid) {
            c.linkedid = linkedid.into();
        }
    }

    fn find(&self, name: &str) -> Option<String> {
        self.chans
            .values()
            .find(|c| c.name == name)
            .map(|c| c.uniqueid.clone())
    }

    /// The live channel of an endpoint (`PJSIP/101`).
    fn of_endpoint(&self, endpoint: &str) -> Option<String> {
        self.chans
            .values()
            .find(|c| c.name.rsplit_once('-').is_some_and(|(b, _)| b == endpoint))
            .map(|c| c.uniqueid.clone())
    }

    fn bridged_peer(&self, uid: &str) -> Option<String> {
        let b = self.chans.get(uid)?.bridge.clone()?;
        self.chans
            .values()
            .find(|c| c.uniqueid != uid && c.bridge.as_deref() == Some(b.as_str()))
            .map(|c| c.uniqueid.clone())
    }

    fn member_event(&mut self, name: &str, iface: &str, queue: &str, in_call: bool) {
        let paused = self.members.get(iface).is_some_and(|m| m.1);
        self.event(
            name,
            "agent",
            None,
            &[
                ("Queue", queue),
                ("MemberName", iface),
                ("Interface", iface),
                ("StateInterface", iface),
                ("Membership", "dynamic"),
                ("Status", if in_call { "2" } else { "1" }),
                ("Paused", if paused { "1" } else { "0" }),
                ("PausedReason", ""),
                ("InCall", if in_call { "1" } else { "0" }),
            ],
        );
    }

    fn take(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.out)
    }
}

/// What the simulated Asterisk accepts at login.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub username: String,
    pub secret: String,
    /// Seconds between scenario steps are multiplied by this (tests use ~0.02).
    pub pace: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            username: "ctigw".into(),
            secret: "secret".into(),
            pace: 1.0,
        }
    }
}

/// The scenarios the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    BasicInternal,
    InboundTrunk,
    Hold,
    BlindTransfer,
    AttendedTransfer,
    QueueToAgent,
    QueueAbandon,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::BasicInternal,
        Scenario::InboundTrunk,
        Scenario::Hold,
        Scenario::BlindTransfer,
        Scenario::AttendedTransfer,
        Scenario::QueueToAgent,
        Scenario::QueueAbandon,
    ];
}

struct Shared {
    pbx: Mutex<Pbx>,
    events: broadcast::Sender<Message>,
    /// Bumped to cut every client connection.
    cut: watch::Sender<u64>,
    cfg: SimConfig,
    /// Everything broadcast, in order (for recording fixtures).
    log: Mutex<Vec<Message>>,
}

/// A running simulated Asterisk.
#[derive(Clone)]
pub struct SimAsterisk {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SimAsterisk {
    /// Listens on `bind` (port 0 for any) and serves clients until dropped with the runtime.
    pub async fn start(bind: SocketAddr, cfg: SimConfig) -> std::io::Result<SimAsterisk> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let (events, _) = broadcast::channel(4096);
        let (cut, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            pbx: Mutex::new(Pbx::default()),
            events,
            cut,
            cfg,
            log: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        let s = s.clone();
                        tokio::spawn(async move {
                            if let Err(e) = serve(stream, s).await {
                                tracing::debug!(%peer, "simulated Asterisk client ended: {e}");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!("simulated Asterisk cannot accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(SimAsterisk { addr, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every client connection (they reconnect on their own).
    pub fn drop_clients(&self) {
        self.shared.cut.send_modify(|n| *n += 1);
    }

    /// Number of live channels.
    pub fn channel_count(&self) -> usize {
        self.shared.pbx.lock().map(|p| p.chans.len()).unwrap_or(0)
    }

    /// Every event broadcast so far (and forgets them).
    pub fn take_log(&self) -> Vec<Message> {
        self.shared
            .log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// Applies a change to the switch and sends the events it produced.
    fn step<R>(&self, f: impl FnOnce(&mut Pbx) -> R) -> R {
        let (r, evs) = match self.shared.pbx.lock() {
            Ok(mut p) => {
                let r = f(&mut p);
                (r, p.take())
            }
            Err(poisoned) => {
                let mut p = poisoned.into_inner();
                let r = f(&mut p);
                (r, p.take())
            }
        };
        if let Ok(mut log) = self.shared.log.lock() {
            log.extend(evs.iter().cloned());
        }
        for e in evs {
            let _ = self.shared.events.send(e);
        }
        r
    }

    async fn pause(&self, secs: f64) {
        tokio::time::sleep(Duration::from_secs_f64(
            (secs * self.shared.cfg.pace).max(0.001),
        ))
        .await;
    }

    /// `from` (an endpoint like `PJSIP/101`, number `from_num`) calls `to_num` on `to`;
    /// returns (caller, callee) Uniqueids once they are bridged.
    pub async fn call(
        &self,
        from: &str,
        from_num: &str,
        from_name: &str,
        to: &str,
        to_num: &str,
    ) -> (String, String) {
        let a = self.step(|p| {
            let a = p.new_channel(from, from_num, from_name, to_num, None, None);
            p.set_state(&a, 4);
            p.noise(&a, "Dial");
            a
        });
        self.pause(0.2).await;
        let b = self.step(|p| {
            let b = p.new_channel(to, "<unknown>", "<unknown>", "s", Some(&a), None);
            p.set_callerid(&b, to_num, "<unknown>");
            p.dial(Some(&a), &b, to.rsplit('/').next().unwrap_or(to), true, "");
            p.set_state(&b, 5);
            p.event(
                "DeviceStateChange",
                "call",
                None,
                &[("Device", to), ("State", "RINGING")],
            );
            b
        });
        self.pause(1.0).await;
        self.step(|p| {
            p.set_state(&b, 6);
            p.dial(Some(&a), &b, "", false, "ANSWER");
            p.set_state(&a, 6);
            p.bridge(&a, &b);
        });
        (a, b)
    }

    /// Hangs up every channel (cause 16).
    pub fn hangup_all(&self) {
        self.step(|p| {
            let all: Vec<String> = p.chans.keys().cloned().collect();
            for u in all {
                p.hangup(&u, "16");
            }
        });
    }

    /// Hangs up one channel by Uniqueid.
    pub fn hangup(&self, uniqueid: &str) {
        self.step(|p| p.hangup(uniqueid, "16"));
    }

    /// Plays every scenario in turn, forever (`ctigw demo --pbx asterisk`).
    pub async fn demo_loop(&self) {
        loop {
            for s in Scenario::ALL {
                self.pause(2.0).await;
                tracing::info!(scenario = ?s, "simulated Asterisk plays");
                self.play(s).await;
            }
        }
    }

    /// Plays a scenario to its end (every channel hung up).
    pub async fn play(&self, s: Scenario) {
        match s {
            Scenario::BasicInternal => {
                let (a, b) = self
                    .call("PJSIP/101", "101", "Alice", "PJSIP/102", "102")
                    .await;
                self.pause(1.0).await;
                self.step(|p| {
                    p.hangup(&b, "16");
                    p.hangup(&a, "16");
                });
            }
            Scenario::InboundTrunk => {
                let (a, b) = self
                    .call(
                        "PJSIP/trunk",
                        "0612345678",
                        "Carol Client",
                        "PJSIP/101",
                        "101",
                    )
                    .await;
                self.pause(1.0).await;
                self.step(|p| {
                    p.hangup(&a, "16");
                    p.hangup(&b, "16");
                });
            }
            Scenario::Hold => {
                let (a, b) = self
                    .call("PJSIP/101", "101", "Alice", "PJSIP/102", "102")
                    .await;
                self.pause(0.5).await;
                self.step(|p| p.event("Hold", "call", Some(&a), &[("MusicClass", "default")]));
                self.pause(0.5).await;
                self.step(|p| p.event("Unhold", "call", Some(&a), &[]));
                self.pause(0.5).await;
                self.step(|p| {
                    p.hangup(&a, "16");
                    p.hangup(&b, "16");
                });
            }
            Scenario::BlindTransfer => {
                let (t, a) = self
                    .call(
                        "PJSIP/trunk",
                        "0612345678",
                        "Carol Client",
                        "PJSIP/101",
                        "101",
                    )
                    .await;
                self.pause(0.5).await;
                self.blind_transfer(&a, "102").await;
                self.pause(1.0).await;
                self.step(|p| {
                    let rest: Vec<String> = p.chans.keys().cloned().collect();
                    let _ = &t;
                    for u in rest {
                        p.hangup(&u, "16");
                    }
                });
            }
            Scenario::AttendedTransfer => self.attended_transfer().await,
            Scenario::QueueToAgent => self.queue(false).await,
            Scenario::QueueAbandon => self.queue(true).await,
        }
    }

    async fn blind_transfer(&self, transferer: &str, exten: &str) {
        let peer = self.step(|p| {
            let peer = p.bridged_peer(transferer)?;
            let mut m = Message::new()
                .with("Event", "BlindTransfer")
                .with("Privilege", "call,all")
                .with("Result", "Success");
            if let Some(c) = p.chans.get(transferer) {
                Pbx::chan_fields(&mut m, "Transferer", c);
            }
            if let Some(c) = p.chans.get(&peer) {
                Pbx::chan_fields(&mut m, "Transferee", c);
            }
            m.push("IsExternal", "No");
            m.push("Context", "from-internal");
            m.push("Extension", exten);
            p.out.push(m);
            p.leave_bridge(&peer);
            p.hangup(transferer, "16");
            p.noise(&peer, "Dial");
            Some(peer)
        });
        let Some(peer) = peer else {
            return;
        };
        self.pause(0.2).await;
        let linked = self.step(|p| {
            p.chans
                .get(&peer)
                .map(|c| c.linkedid.clone())
                .unwrap_or_default()
        });
        let endpoint = format!("PJSIP/{exten}");
        let c = self.step(|p| {
            let c = p.new_channel(&endpoint, exten, "<unknown>", "s", Some(&linked), None);
            p.dial(Some(&peer), &c, exten, true, "");
            p.set_state(&c, 5);
            c
        });
        self.pause(0.5).await;
        self.step(|p| {
            p.set_state(&c, 6);
            p.dial(Some(&peer), &c, "", false, "ANSWER");
            p.bridge(&peer, &c);
        });
    }

    async fn attended_transfer(&self) {
        // call 1: a client calls 101
        let (t, a1) = self
            .call(
                "PJSIP/trunk",
                "0612345678",
                "Carol Client",
                "PJSIP/101",
                "101",
            )
            .await;
        self.pause(0.3).await;
        // 101 puts the client on hold and calls 102 through a Local channel (call 2)
        self.step(|p| p.event("Hold", "call", Some(&a1), &[("MusicClass", "default")]));
        self.pause(0.3).await;
        let (a2, l1, l2, b) = self.step(|p| {
            let a2 = p.new_channel("PJSIP/101", "101", "Alice", "102", None, None);
            p.set_state(&a2, 4);
            p.noise(&a2, "Dial");
            let (l1, l2) = p.local_pair("102", &a2);
            p.set_callerid(&l1, "102", "<unknown>");
            p.set_callerid(&l2, "101", "Alice");
            p.dial(Some(&a2), &l1, "102@from-internal", true, "");
            p.noise(&l2, "Dial");
            let b = p.new_channel("PJSIP/102", "102", "Bob", "s", Some(&a2), None);
            p.dial(Some(&l2), &b, "102", true, "");
            p.set_state(&b, 5);
            p.set_state(&l1, 5);
            (a2, l1, l2, b)
        });
        self.pause(0.5).await;
        self.step(|p| {
            p.set_state(&b, 6);
            p.dial(Some(&l2), &b, "", false, "ANSWER");
            p.set_state(&l2, 6);
            p.set_state(&l1, 6);
            p.dial(Some(&a2), &l1, "", false, "ANSWER");
            p.set_state(&a2, 6);
            p.bridge(&a2, &l1);
            p.bridge(&l2, &b);
            // the Local channel optimises itself away: 102 is bridged with 101 directly
            p.event("LocalOptimizationBegin", "call", None, &[("Id", "1")]);
            p.leave_bridge(&l1);
            p.leave_bridge(&l2);
            p.leave_bridge(&a2);
            p.leave_bridge(&b);
            p.bridge(&a2, &b);
            p.event(
                "LocalOptimizationEnd",
                "call",
                None,
                &[("Id", "1"), ("Success", "Yes")],
            );
            p.hangup(&l1, "16");
            p.hangup(&l2, "16");
        });
        self.pause(0.5).await;
        // 101 completes the transfer: the client and 102 talk, call 2 joins call 1
        self.step(|p| {
            let mut m = Message::new()
                .with("Event", "AttendedTransfer")
                .with("Privilege", "call,all")
                .with("Result", "Success");
            if let Some(c) = p.chans.get(&a1) {
                Pbx::chan_fields(&mut m, "OrigTransferer", c);
            }
            if let Some(c) = p.chans.get(&a2) {
                Pbx::chan_fields(&mut m, "SecondTransferer", c);
            }
            if let Some(c) = p.chans.get(&t) {
                Pbx::chan_fields(&mut m, "Transferee", c);
            }
            if let Some(c) = p.chans.get(&b) {
                Pbx::chan_fields(&mut m, "TransferTarget", c);
            }
            m.push("IsExternal", "No");
            m.push("DestType", "Bridge");
            p.out.push(m);
            p.leave_bridge(&a1);
            p.leave_bridge(&a2);
            p.leave_bridge(&b);
            let l1 = p
                .chans
                .get(&t)
                .map(|c| c.linkedid.clone())
                .unwrap_or_default();
            p.relink(&b, &l1);
            p.event("Unhold", "call", Some(&t), &[]);
            p.bridge(&t, &b);
            p.hangup(&a1, "16");
            p.hangup(&a2, "16");
        });
        self.pause(1.0).await;
        self.step(|p| {
            p.hangup(&t, "16");
            p.hangup(&b, "16");
        });
    }

    async fn queue(&self, abandon: bool) {
        let iface = "PJSIP/102";
        self.step(|p| {
            p.members
                .insert(iface.into(), (vec!["sales".into()], false));
            p.member_event("QueueMemberStatus", iface, "sales", false);
        });
        let caller = self.step(|p| {
            let c = p.new_channel(
                "PJSIP/trunk",
                "0698765432",
                "Dave Prospect",
                "8000",
                None,
                None,
            );
            p.set_state(&c, 4);
            p.noise(&c, "Queue");
            p.set_state(&c, 6);
            p.event(
                "QueueCallerJoin",
                "agent",
                Some(&c),
                &[("Queue", "sales"), ("Position", "1"), ("Count", "1")],
            );
            c
        });
        self.pause(0.5).await;
        let agent = self.step(|p| {
            let g = p.new_channel(iface, "102", "Bob", "s", Some(&caller), None);
            if let Some(c) = p.chans.get_mut(&g) {
                c.application = "AppQueue".into();
            }
            let mut m = Message::new()
                .with("Event", "AgentCalled")
                .with("Privilege", "agent,all");
            if let Some(c) = p.chans.get(&caller) {
                Pbx::chan_fields(&mut m, "", c);
            }
            if let Some(c) = p.chans.get(&g) {
                Pbx::chan_fields(&mut m, "Dest", c);
            }
            m.push("Queue", "sales");
            m.push("Interface", iface);
            m.push("MemberName", iface);
            p.out.push(m);
            p.dial(Some(&caller), &g, "102", true, "");
            p.set_state(&g, 5);
            g
        });
        self.pause(1.0).await;
        if abandon {
            self.step(|p| {
                p.event(
                    "QueueCallerAbandon",
                    "agent",
                    Some(&caller),
                    &[
                        ("Queue", "sales"),
                        ("Position", "1"),
                        ("OriginalPosition", "1"),
                        ("HoldTime", "2"),
                    ],
                );
                p.event(
                    "QueueCallerLeave",
                    "agent",
                    Some(&caller),
                    &[("Queue", "sales"), ("Position", "1"), ("Count", "0")],
                );
                p.dial(Some(&caller), &agent, "", false, "CANCEL");
                p.hangup(&agent, "16");
                p.hangup(&caller, "16");
            });
            return;
        }
        self.step(|p| {
            p.set_state(&agent, 6);
            p.dial(Some(&caller), &agent, "", false, "ANSWER");
            p.event(
                "QueueCallerLeave",
                "agent",
                Some(&caller),
                &[("Queue", "sales"), ("Position", "1"), ("Count", "0")],
            );
            p.event(
                "AgentConnect",
                "agent",
                Some(&caller),
                &[
                    ("Queue", "sales"),
                    ("Interface", iface),
                    ("MemberName", iface),
                    ("HoldTime", "1"),
                    ("RingTime", "1"),
                ],
            );
            p.member_event("QueueMemberStatus", iface, "sales", true);
            p.bridge(&caller, &agent);
        });
        self.pause(1.0).await;
        self.step(|p| {
            p.hangup(&caller, "16");
            p.hangup(&agent, "16");
            p.event(
                "AgentComplete",
                "agent",
                None,
                &[
                    ("Queue", "sales"),
                    ("Interface", iface),
                    ("MemberName", iface),
                    ("TalkTime", "1"),
                    ("Reason", "caller"),
                ],
            );
            p.member_event("QueueMemberStatus", iface, "sales", false);
        });
    }

    /// Originate: the user's phone rings, answers, then the destination is dialled and answers.
    async fn originate(&self, channel: String, exten: String, channel_id: Option<String>) {
        let endpoint = channel.clone();
        let num = endpoint.rsplit('/').next().unwrap_or(&endpoint).to_string();
        let a = self.step(|p| {
            let a = p.new_channel(
                &endpoint,
                &num,
                "<unknown>",
                "s",
                None,
                channel_id.as_deref(),
            );
            p.dial(None, &a, &num, true, "");
            p.set_state(&a, 5);
            a
        });
        self.pause(0.5).await;
        let ok = self.step(|p| {
            if !p.chans.contains_key(&a) {
                return false;
            }
            p.set_state(&a, 6);
            p.dial(None, &a, "", false, "ANSWER");
            p.event(
                "OriginateResponse",
                "call",
                None,
                &[
                    ("Response", "Success"),
                    ("Channel", &endpoint),
                    ("Reason", "4"),
                ],
            );
            p.noise(&a, "Dial");
            true
        });
        if !ok {
            return;
        }
        let internal = exten.len() <= 4;
        let to = if internal {
            format!("PJSIP/{exten}")
        } else {
            "PJSIP/trunk".to_string()
        };
        let b = self.step(|p| {
            let b = p.new_channel(&to, &exten, "<unknown>", "s", Some(&a), None);
            p.dial(Some(&a), &b, &exten, true, "");
            p.set_state(&b, 5);
            b
        });
        self.pause(0.5).await;
        self.step(|p| {
            if p.chans.contains_key(&a) && p.chans.contains_key(&b) {
                p.set_state(&b, 6);
                p.dial(Some(&a), &b, "", false, "ANSWER");
                p.bridge(&a, &b);
            }
        });
    }

    /// Answers one action; may start a scenario.
    fn action(&self, m: &Message, session: &mut Session) -> Vec<Message> {
        let id = m.action_id().unwrap_or("");
        let ok = |msg: &str| {
            let r = Message::new().with("Response", "Success");
            let r = if id.is_empty() {
                r
            } else {
                r.with("ActionID", id)
            };
            r.with("Message", msg)
        };
        let err = |msg: &str| {
            let r = Message::new().with("Response", "Error");
            let r = if id.is_empty() {
                r
            } else {
                r.with("ActionID", id)
            };
            r.with("Message", msg)
        };
        let action = m.action().unwrap_or("").to_ascii_lowercase();
        if !session.logged_in
            && !matches!(action.as_str(), "login" | "challenge" | "logoff" | "ping")
        {
            return vec![err("Permission denied")];
        }
        match action.as_str() {
            "challenge" => {
                session.challenge = Some(format!("{:09}", 100_000_000 + id.len() * 7919));
                vec![ok("").with(
                    "Challenge",
                    session.challenge.as_deref().unwrap_or_default(),
                )]
            }
            "login" => {
                let cfg = &self.shared.cfg;
                let user_ok = m.get("Username") == Some(cfg.username.as_str());
                let secret_ok = match (m.get("AuthType"), m.get("Key"), m.get("Secret")) {
                    (Some(t), Some(k), _) if t.eq_ignore_ascii_case("md5") => session
                        .challenge
                        .as_deref()
                        .is_some_and(|c| md5::login_key(c, &cfg.secret) == k),
                    (_, _, Some(s)) => s == cfg.secret,
                    _ => false,
                };
                if user_ok && secret_ok {
                    session.logged_in = true;
                    session.classes = m.get("Events").unwrap_or("on").to_ascii_lowercase();
                    vec![
                        ok("Authentication accepted"),
                        Message::new()
                            .with("Event", "FullyBooted")
                            .with("Privilege", "system,all")
                            .with("Status", "Fully Booted"),
                    ]
                } else {
                    vec![err("Authentication failed")]
                }
            }
            "logoff" => vec![
                Message::new()
                    .with("Response", "Goodbye")
                    .with("ActionID", id)
                    .with("Message", "Thanks for all the fish."),
            ],
            "ping" => vec![ok("").with("Ping", "Pong")],
            "coreshowchannels" => {
                let mut out = vec![ok("Channels will follow").with("EventList", "start")];
                let items = self.step(|p| {
                    p.chans
                        .values()
                        .map(|c| {
                            let mut e = Message::new()
                                .with("Event", "CoreShowChannel")
                                .with("ActionID", id);
                            Pbx::chan_fields(&mut e, "", c);
                            e.push(
                                "Application",
                                if c.application.is_empty() {
                                    "Dial"
                                } else {
                                    &c.application
                                },
                            );
                            e.push("BridgeId", c.bridge.as_deref().unwrap_or(""));
                            e
                        })
                        .collect::<Vec<_>>()
                });
                let n = items.len();
                out.extend(items);
                out.push(
                    Message::new()
                        .with("Event", "CoreShowChannelsComplete")
                        .with("ActionID", id)
                        .with("EventList", "Complete")
                        .with("ListItems", &n.to_string()),
                );
                out
            }
            "devicestatelist" => {
                let mut out =
                    vec![ok("Device State Changes will follow").with("EventList", "start")];
                let busy: Vec<String> = self.step(|p| {
                    p.chans
                        .values()
                        .filter_map(|c| c.name.rsplit_once('-').map(|(b, _)| b.to_string()))
                        .collect()
                });
                let devs = ["PJSIP/101", "PJSIP/102", "PJSIP/103"];
                for d in devs {
                    let st = if busy.iter().any(|b| b == d) {
                        "INUSE"
                    } else {
                        "NOT_INUSE"
                    };
                    out.push(
                        Message::new()
                            .with("Event", "DeviceStateChange")
                            .with("ActionID", id)
                            .with("Device", d)
                            .with("State", st),
                    );
                }
                out.push(
                    Message::new()
                        .with("Event", "DeviceStateListComplete")
                        .with("ActionID", id)
                        .with("EventList", "Complete")
                        .with("ListItems", "3"),
                );
                out
            }
            "originate" => {
                let Some(channel) = m.get("Channel").map(str::to_string) else {
                    return vec![err("Channel not specified")];
                };
                let exten = m.get("Exten").unwrap_or("s").to_string();
                let cid = m.get("ChannelId").map(str::to_string);
                let me = self.clone();
                tokio::spawn(async move { me.originate(channel, exten, cid).await });
                vec![ok("Originate successfully queued")]
            }
            "hangup" => {
                let name = m.get("Channel").unwrap_or("");
                let found = self.step(|p| match p.find(name) {
                    Some(u) => {
                        let peer = p.bridged_peer(&u);
                        p.hangup(&u, "16");
                        if let Some(peer) = peer {
                            p.hangup(&peer, "16");
                        }
                        true
                    }
                    None => false,
                });
                if found {
                    vec![ok("Channel Hungup")]
                } else {
                    vec![err("No such channel")]
                }
            }
            "blindtransfer" => {
                let name = m.get("Channel").unwrap_or("").to_string();
                let exten = m.get("Exten").unwrap_or("").to_string();
                let Some(u) = self.step(|p| p.find(&name)) else {
                    return vec![err("No such channel")];
                };
                let me = self.clone();
                tokio::spawn(async move { me.blind_transfer(&u, &exten).await });
                vec![ok("Transfer succeeded")]
            }
            "redirect" | "atxfer" | "bridge" => {
                let name = m.get("Channel").or_else(|| m.get("Channel1")).unwrap_or("");
                if self.step(|p| p.find(name)).is_some() {
                    vec![ok("Success")]
                } else {
                    vec![err("No such channel")]
                }
            }
            "playdtmf" => {
                if m.get("Digit").is_some_and(|d| d.len() == 1) {
                    vec![ok("DTMF successfully queued")]
                } else {
                    vec![err("No digit specified")]
                }
            }
            "pjsipnotify" => {
                // a phone that takes action URIs answers when told `key=OK`
                let ep = format!("PJSIP/{}", m.get("Endpoint").unwrap_or(""));
                let answer = m.get_all("Variable").any(|v| v == "Content=key=OK");
                if answer {
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.step(|p| {
                            if let Some(u) = p.of_endpoint(&ep)
                                && p.chans.get(&u).is_some_and(|c| c.state == 5)
                            {
                                p.set_state(&u, 6);
                            }
                        });
                    });
                }
                vec![ok("NOTIFY sent")]
            }
            "queuepause" => {
                let iface = m.get("Interface").unwrap_or("").to_string();
                let paused = m
                    .get("Paused")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
                let reason = m.get("Reason").unwrap_or("").to_string();
                let known = self.step(|p| {
                    let Some(mem) = p.members.get_mut(&iface) else {
                        return false;
                    };
                    mem.1 = paused;
                    let queues = mem.0.clone();
                    for q in queues {
                        p.event(
                            "QueueMemberPause",
                            "agent",
                            None,
                            &[
                                ("Queue", &q),
                                ("MemberName", &iface),
                                ("Interface", &iface),
                                ("Paused", if paused { "1" } else { "0" }),
                                ("PausedReason", &reason),
                            ],
                        );
                    }
                    true
                });
                if known {
                    vec![ok("Interface paused successfully")]
                } else {
                    vec![err("Interface not found")]
                }
            }
            "queueadd" | "queueremove" => {
                let iface = m.get("Interface").unwrap_or("").to_string();
                let queue = m.get("Queue").unwrap_or("").to_string();
                let add = action == "queueadd";
                self.step(|p| {
                    let mem = p.members.entry(iface.clone()).or_default();
                    if add {
                        mem.0.push(queue.clone());
                        p.member_event("QueueMemberAdded", &iface, &queue, false);
                    } else {
                        mem.0.retain(|q| q != &queue);
                        p.member_event("QueueMemberRemoved", &iface, &queue, false);
                    }
                });
                vec![ok(if add {
                    "Added interface to queue"
                } else {
                    "Removed interface from queue"
                })]
            }
            _ => vec![err("Invalid/unknown command")],
        }
    }
}

struct Session {
    logged_in: bool,
    challenge: Option<String>,
    classes: String,
}

impl Session {
    fn wants(&self, ev: &Message) -> bool {
        if !self.logged_in || self.classes == "off" {
            return false;
        }
        if self.classes == "on" || self.classes.is_empty() {
            return true;
        }
        let privilege = ev.get("Privilege").unwrap_or("");
        privilege
            .split(',')
            .filter(|c| *c != "all")
            .any(|c| self.classes.split(',').any(|w| w.trim() == c))
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) -> anyhow::Result<()> {
    let sim = SimAsterisk {
        addr: stream.local_addr()?,
        shared: shared.clone(),
    };
    let mut cut = shared.cut.subscribe();
    cut.borrow_and_update();
    let mut events = shared.events.subscribe();
    let mut framed = Framed::new(stream, AmiCodec::server());
    let mut banner = BytesMut::new();
    AmiCodec::encode_banner(VERSION, &mut banner)?;
    framed.get_mut().writable().await?;
    tokio::io::AsyncWriteExt::write_all(framed.get_mut(), &banner).await?;
    let mut session = Session {
        logged_in: false,
        challenge: None,
        classes: String::new(),
    };
    loop {
        tokio::select! {
            _ = cut.changed() => return Ok(()),
            msg = framed.next() => match msg {
                None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Err(e))) => {
                    framed.send(Message::new().with("Response", "Error").with("Message", &format!("Missing action in request ({e})"))).await?;
                }
                Some(Ok(Ok(m))) => {
                    let logoff = m.action().is_some_and(|a| a.eq_ignore_ascii_case("logoff"));
                    for r in sim.action(&m, &mut session) {
                        framed.send(r).await?;
                    }
                    if logoff {
                        return Ok(());
                    }
                }
            },
            ev = events.recv() => match ev {
                Ok(ev) => {
                    if session.wants(&ev) {
                        framed.send(ev).await?;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // what a real Asterisk does to a client that cannot keep up
                    anyhow::bail!("client lagged {n} events behind");
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}
