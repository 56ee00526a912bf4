//! The scenarios the simulator plays (internal, trunk, hold, transfers, queue) and the calls,
//! hang-ups and originates they are made of, paced by the configured factor.

use super::SimAsterisk;
use super::switch::Pbx;
use ctigw_codecs::ami::Message;

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

impl SimAsterisk {
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

    pub(super) async fn blind_transfer(&self, transferer: &str, exten: &str) {
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

    pub(super) async fn attended_transfer(&self) {
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

    pub(super) async fn queue(&self, abandon: bool) {
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
    pub(super) async fn originate(
        &self,
        channel: String,
        exten: String,
        channel_id: Option<String>,
    ) {
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
}
