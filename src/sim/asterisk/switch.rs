//! The simulated switch: its channels and what each change (new channel, state, dial, bridge,
//! hang-up, transfer re-linking, queue members) broadcasts as AMI events, in the order
//! PROTOCOLS.md section 4 gives.

use ctigw_codecs::ami::Message;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(super) struct SimChan {
    pub(super) name: String,
    pub(super) uniqueid: String,
    pub(super) linkedid: String,
    pub(super) state: u8,
    pub(super) num: String,
    pub(super) name_id: String,
    pub(super) connected: String,
    pub(super) context: String,
    pub(super) exten: String,
    pub(super) bridge: Option<String>,
    pub(super) application: String,
}

pub(super) fn state_desc(s: u8) -> &'static str {
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
pub(super) struct Pbx {
    pub(super) seq: u64,
    pub(super) chans: BTreeMap<String, SimChan>,
    pub(super) bridges: u64,
    /// Queue member interface → (queues, paused).
    pub(super) members: BTreeMap<String, (Vec<String>, bool)>,
    pub(super) out: Vec<Message>,
}

impl Pbx {
    pub(super) fn uid(&mut self) -> String {
        self.seq += 1;
        format!("1700000000.{}", self.seq)
    }

    pub(super) fn chan_fields(m: &mut Message, prefix: &str, c: &SimChan) {
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

    pub(super) fn event(
        &mut self,
        name: &str,
        class: &str,
        ch: Option<&str>,
        extra: &[(&str, &str)],
    ) {
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
    pub(super) fn new_channel(
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

    pub(super) fn local_pair(&mut self, exten: &str, linkedid: &str) -> (String, String) {
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

    pub(super) fn noise(&mut self, uid: &str, app: &str) {
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

    pub(super) fn set_state(&mut self, uid: &str, state: u8) {
        if let Some(c) = self.chans.get_mut(uid) {
            c.state = state;
        }
        self.event("Newstate", "call", Some(uid), &[]);
    }

    pub(super) fn set_callerid(&mut self, uid: &str, num: &str, name: &str) {
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

    pub(super) fn dial(
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

    pub(super) fn bridge(&mut self, a: &str, b: &str) {
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

    pub(super) fn leave_bridge(&mut self, uid: &str) {
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

    pub(super) fn hangup(&mut self, uid: &str, cause: &str) {
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

    pub(super) fn relink(&mut self, uid: &str, linkedid: &str) {
        if let Some(c) = self.chans.get_mut(uid) {
            c.linkedid = linkedid.into();
        }
    }

    pub(super) fn find(&self, name: &str) -> Option<String> {
        self.chans
            .values()
            .find(|c| c.name == name)
            .map(|c| c.uniqueid.clone())
    }

    /// The live channel of an endpoint (`PJSIP/101`).
    pub(super) fn of_endpoint(&self, endpoint: &str) -> Option<String> {
        self.chans
            .values()
            .find(|c| c.name.rsplit_once('-').is_some_and(|(b, _)| b == endpoint))
            .map(|c| c.uniqueid.clone())
    }

    pub(super) fn bridged_peer(&self, uid: &str) -> Option<String> {
        let b = self.chans.get(uid)?.bridge.clone()?;
        self.chans
            .values()
            .find(|c| c.uniqueid != uid && c.bridge.as_deref() == Some(b.as_str()))
            .map(|c| c.uniqueid.clone())
    }

    pub(super) fn member_event(&mut self, name: &str, iface: &str, queue: &str, in_call: bool) {
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

    pub(super) fn take(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.out)
    }
}
