//! Sans-IO normalisation of AMI events into model events: channels (by `Uniqueid`) grouped
//! into calls (by `Linkedid`), parties derived from the live channels of each call, and agent
//! states from the queue events. The live link and `ctigw replay` run exactly this code.
//!
//! The approach: rather than translating each AMI event into a model transition, every call
//! event updates a table of live channels, then the parties of the affected call are derived
//! again from its channels (party number, state from `ChannelState` / hold / queue) and the
//! difference with what the engine was last told becomes one [`CallEvent`]. That makes the
//! result independent of events Asterisk leaves out or sends in an undefined order (after a
//! transfer, or the `DialEnd` the chan-sip capture lost to framing), and gives the rules:
//!
//! - **Local channels**: the `;2` half of `Local/x@ctx` runs dialplan on behalf of the caller
//!   and is never a party; the `;1` half stands for extension `x`. A real channel of the same
//!   number wins over a Local half, so a Local channel that dials `PJSIP/x` (queue members,
//!   `Atxfer`) and its optimisation away give one party, not four.
//! - **Linkedid re-keying**: the call reference is the Linkedid. When a channel's Linkedid
//!   changes, or an `AttendedTransfer` joins two calls, the older call absorbs the other one
//!   (`merged`), and the absorbed reference is kept as an alias so late events of its channels
//!   land in the surviving call.
//! - **Queues**: the queue is what the caller called (`called`: the number dialled to reach
//!   it), never a party: a queue is no device and would count as an outside party; the call
//!   is told `queued` while the caller waits, and `QueueCallerAbandon` makes `abandoned` the
//!   cause of what follows.
//!
//! This module holds the stream (which events are used or ignored, and where each goes); the
//! rest lives in [`channels`], [`calls`], [`agents`], [`resync`] and [`replay`].

mod agents;
mod calls;
mod channels;
mod replay;
mod resync;

pub(crate) use agents::WRAPUP;
pub use calls::cause_name;
pub use channels::{DeviceMap, channel_base};
pub use replay::AmiReplay;

use crate::model::{CallEventKind, DeviceId, PbxEvent};
use agents::AgentInfo;
use calls::CallState;
use channels::Chan;
use ctigw_codecs::ami::Message;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Events handled for calls, devices and agents.
const USED: &[&str] = &[
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "DialBegin",
    "DialEnd",
    "Dial",
    "BridgeEnter",
    "BridgeLeave",
    "Bridge",
    "Hold",
    "Unhold",
    "BlindTransfer",
    "AttendedTransfer",
    "Hangup",
    "Rename",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "Join",
    "Leave",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberPaused",
    "DeviceStateChange",
    "ExtensionStatus",
    "CoreShowChannel",
];

/// Events known and ignored on purpose, with why (kept as documentation of the choice).
const IGNORED: &[(&str, &str)] = &[
    ("VarSet", "dialplan noise"),
    ("Newexten", "dialplan noise"),
    (
        "NewConnectedLine",
        "the peer's identity; parties come from each channel's own caller id",
    ),
    ("NewAccountCode", "billing"),
    ("DialState", "ringing is read from Newstate"),
    ("HangupRequest", "the Hangup that follows carries the cause"),
    (
        "SoftHangupRequest",
        "the Hangup that follows carries the cause",
    ),
    ("BridgeCreate", "an empty bridge says nothing about parties"),
    ("BridgeDestroy", "BridgeLeave came first"),
    (
        "BridgeMerge",
        "channels' Linkedid and BridgeEnter carry the result",
    ),
    ("BridgeInfoChannel", "bridge listing"),
    ("BridgeInfoComplete", "bridge listing"),
    (
        "LocalBridge",
        "Local halves are paired by their channel names",
    ),
    (
        "LocalOptimizationBegin",
        "the Hangup of the Local halves follows",
    ),
    (
        "LocalOptimizationEnd",
        "the Hangup of the Local halves follows",
    ),
    (
        "OriginateResponse",
        "calls we originate are known by the ChannelId we give them",
    ),
    ("MusicOnHoldStart", "hold comes from Hold/Unhold"),
    ("MusicOnHoldStop", "hold comes from Hold/Unhold"),
    ("FullyBooted", "login sequence"),
    ("SuccessfulAuth", "security class"),
    ("ChallengeSent", "security class"),
    ("UserEvent", "site-specific dialplan events"),
    ("PeerStatus", "registration, not calls"),
    ("ContactStatus", "registration, not calls"),
    ("Registry", "registration, not calls"),
    ("RTCPSent", "media statistics"),
    ("RTCPReceived", "media statistics"),
    ("Cdr", "billing"),
    ("CEL", "billing"),
    ("DTMFBegin", "media"),
    ("DTMFEnd", "media"),
    ("ChannelHungup", "item of a list answering an action"),
    (
        "ChannelsHungupListComplete",
        "end of a list answering an action",
    ),
    (
        "CoreShowChannelsComplete",
        "end of a list answering an action",
    ),
    (
        "DeviceStateListComplete",
        "end of a list answering an action",
    ),
    ("QueueParams", "queue listing"),
    ("QueueMember", "queue listing"),
    ("QueueStatusComplete", "queue listing"),
    ("QueueEntry", "queue listing"),
    (
        "AgentLogin",
        "chan_agent logins; queue membership gives the state",
    ),
    (
        "AgentLogoff",
        "chan_agent logins; queue membership gives the state",
    ),
    ("Reload", "system"),
    ("Shutdown", "system; the link drops next"),
];

/// How the messages of a stream were accounted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events handled, by name.
    pub used: BTreeMap<String, usize>,
    /// Events and responses ignored on purpose, by name (`Response` for responses).
    pub ignored: BTreeMap<String, usize>,
    /// Events nobody knows what to do with, by name.
    pub unknown: BTreeMap<String, usize>,
    /// Messages that carry a second `Event` key: two events concatenated without the blank
    /// line between them (the second one's fields are unusable).
    pub glued: usize,
}

impl Stats {
    /// Every message counted once.
    pub fn total(&self) -> usize {
        self.used.values().sum::<usize>()
            + self.ignored.values().sum::<usize>()
            + self.unknown.values().sum::<usize>()
    }
}

/// The normaliser of one link: AMI messages in, model events out.
#[derive(Debug, Default)]
pub struct Mapper {
    map: DeviceMap,
    channels: HashMap<String, Chan>,
    next_seq: u64,
    calls: HashMap<String, CallState>,
    aliases: HashMap<String, String>,
    announced_devices: HashSet<DeviceId>,
    agents: BTreeMap<String, AgentInfo>,
    /// `DeviceStateChange` / `ExtensionStatus`: the last state of each device.
    pub device_states: BTreeMap<String, String>,
    pub stats: Stats,
    /// A `CoreShowChannels` list seen in a replayed stream (a reconnect): its items so far.
    listing: Option<Vec<Message>>,
}

pub(super) fn field<'a>(m: &'a Message, prefix: &str, key: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        m.get(key)
    } else {
        m.get(&format!("{prefix}{key}"))
    }
}

impl Mapper {
    pub fn new(map: DeviceMap) -> Self {
        Mapper {
            map,
            ..Mapper::default()
        }
    }

    /// Number of live channels (for tests and metrics).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// The calls currently known, by reference.
    pub fn call_refs(&self) -> Vec<String> {
        let mut v: Vec<String> = self.calls.keys().cloned().collect();
        v.sort();
        v
    }

    fn resolve<'a>(&'a self, linkedid: &'a str) -> &'a str {
        let mut r = linkedid;
        for _ in 0..16 {
            match self.aliases.get(r) {
                Some(n) if n != r => r = n,
                _ => break,
            }
        }
        r
    }

    /// The reference of the call a channel is in (after re-keying).
    pub fn call_of_channel(&self, uniqueid: &str) -> Option<String> {
        let c = self.channels.get(uniqueid)?;
        Some(self.resolve(&c.linkedid).to_string())
    }

    // ----- the stream -------------------------------------------------------------------------

    /// Takes one message; returns the model events it completes.
    pub fn on_message(&mut self, m: &Message) -> Vec<PbxEvent> {
        if m.get_all("Event").count() > 1 {
            self.stats.glued += 1;
        }
        if m.is_response()
            && m.get("Message")
                .is_some_and(|t| t.trim() == "Channels will follow")
        {
            // a resync inside a replayed stream: the link lost and found again
            self.listing = Some(Vec::new());
        }
        if let Some(items) = self.listing.as_mut() {
            match m.event() {
                Some("CoreShowChannel") => {
                    items.push(m.clone());
                    return Vec::new();
                }
                Some("CoreShowChannelsComplete") => {
                    let items = self.listing.take().unwrap_or_default();
                    *self
                        .stats
                        .ignored
                        .entry("CoreShowChannelsComplete".into())
                        .or_default() += 1;
                    self.begin_resync();
                    let mut devices: Vec<DeviceId> =
                        self.announced_devices.iter().cloned().collect();
                    devices.sort();
                    return self.finish_resync(&items, &devices);
                }
                _ => {}
            }
        }
        let Some(name) = m.event() else {
            let kind = if m.is_response() {
                "Response"
            } else {
                "(not an event)"
            };
            *self.stats.ignored.entry(kind.into()).or_default() += 1;
            return Vec::new();
        };
        let name = name.trim().to_string();
        if USED.contains(&name.as_str()) {
            *self.stats.used.entry(name.clone()).or_default() += 1;
        } else if IGNORED.iter().any(|(n, _)| *n == name) {
            *self.stats.ignored.entry(name).or_default() += 1;
            return Vec::new();
        } else {
            tracing::trace!(event = %name, "AMI event not handled");
            *self.stats.unknown.entry(name).or_default() += 1;
            return Vec::new();
        }
        let mut out = Vec::new();
        self.dispatch(&name, m, &mut out);
        out
    }

    fn dispatch(&mut self, name: &str, m: &Message, out: &mut Vec<PbxEvent>) {
        match name {
            "Newchannel" | "Newstate" | "NewCallerid" | "Rename" => {
                if let Some(uid) = self.touch(m, "", out) {
                    self.settle(&uid, None, None, out);
                }
            }
            "DialBegin" => self.dial_begin(m, "Dest", out),
            // Asterisk 11: `SubEvent: Begin|End`, `Destination`, `DestUniqueID`
            "Dial"
                if m.get("SubEvent")
                    .is_some_and(|s| s.eq_ignore_ascii_case("Begin")) =>
            {
                self.dial_begin(m, "Dest", out)
            }
            "DialEnd" => {
                let status = m.get("DialStatus").unwrap_or_default().to_ascii_uppercase();
                let caller_exten = m.get("Exten").map(str::trim).unwrap_or_default();
                if let Some(dest) = self.touch(m, "Dest", out)
                    && status == "CANCEL"
                    && self.channels.get(&dest).is_some_and(|c| {
                        c.dialled_from
                            .as_deref()
                            .is_some_and(|f| f != caller_exten && channels::dialable(caller_exten))
                    })
                {
                    // the ringing leg was cancelled because the caller was sent elsewhere
                    // (a Redirect: deflect): the call is diverted, the leg is no party now
                    if let Some(c) = self.channels.get_mut(&dest) {
                        c.transferred = true;
                    }
                    self.settle(
                        &dest,
                        Some(CallEventKind::Diverted),
                        Some("redirected"),
                        out,
                    );
                } else if let Some(dest) = self.touch(m, "Dest", out) {
                    let cause = match status.as_str() {
                        "BUSY" => Some("busy"),
                        "NOANSWER" => Some("noAnswer"),
                        "CANCEL" => Some("callCancelled"),
                        "CONGESTION" | "CHANUNAVAIL" => Some("networkCongestion"),
                        _ => None,
                    };
                    if let Some(c) = cause
                        && let Some(r) = self.call_of_channel(&dest)
                        && let Some(st) = self.calls.get_mut(&r)
                    {
                        st.last_cause = Some(c.into());
                    }
                    let failed = matches!(status.as_str(), "BUSY" | "CONGESTION" | "CHANUNAVAIL");
                    if failed && let Some(c) = self.channels.get_mut(&dest) {
                        // the called side could not be reached: it fails, then hangs up
                        c.failed = true;
                        self.settle(&dest, Some(CallEventKind::Failed), cause, out);
                    } else {
                        self.settle(&dest, None, None, out);
                    }
                }
            }
            "BridgeEnter" | "BridgeLeave" => {
                let bridge = m.get("BridgeUniqueid").map(str::to_string);
                if let Some(uid) = self.touch(m, "", out) {
                    if let Some(c) = self.channels.get_mut(&uid) {
                        c.bridge = if name == "BridgeEnter" { bridge } else { None };
                    }
                    self.settle(&uid, None, None, out);
                }
            }
            "Bridge" => {
                // Asterisk 11: `Bridgestate: Link|Unlink`, `Uniqueid1/2`
                for k in ["Uniqueid1", "Uniqueid2"] {
                    if let Some(uid) = m.get(k).map(str::to_string) {
                        self.settle(&uid, None, None, out);
                    }
                }
            }
            "Hold" | "Unhold" => {
                // Asterisk 11 sends `Hold` with `Status: On|Off`
                let on = name == "Hold"
                    && !m
                        .get("Status")
                        .is_some_and(|s| s.eq_ignore_ascii_case("Off"));
                if let Some(uid) = self.touch(m, "", out) {
                    if let Some(c) = self.channels.get_mut(&uid) {
                        c.held = on;
                    }
                    let kind = if on {
                        CallEventKind::Held
                    } else {
                        CallEventKind::Retrieved
                    };
                    self.settle(&uid, Some(kind), None, out);
                }
            }
            "BlindTransfer" => self.blind_transfer(m, out),
            "AttendedTransfer" => self.attended_transfer(m, out),
            "Hangup" => self.hangup(m, out),
            "QueueCallerJoin" | "Join" => {
                let queue = m.get("Queue").map(str::to_string);
                // the number the caller dialled to reach the queue, else the queue's name
                let called = m
                    .get("Exten")
                    .map(str::trim)
                    .filter(|e| channels::dialable(e))
                    .map(str::to_string)
                    .or_else(|| queue.clone());
                if let Some(uid) = self.touch(m, "", out) {
                    if let Some(c) = self.channels.get_mut(&uid) {
                        c.queue = queue;
                    }
                    if let Some(r) = self.call_of_channel(&uid) {
                        let st = self.calls.entry(r).or_default();
                        if !st.called_from_dial {
                            // the queue was called, not the agents it rings next
                            st.called = called;
                            st.called_from_dial = true;
                        }
                    }
                    self.settle(&uid, Some(CallEventKind::Queued), None, out);
                }
            }
            "QueueCallerLeave" | "Leave" => {
                if let Some(uid) = self.touch(m, "", out) {
                    if let Some(c) = self.channels.get_mut(&uid) {
                        c.queue = None;
                    }
                    self.settle(&uid, None, None, out);
                }
            }
            "QueueCallerAbandon" => {
                if let Some(uid) = self.touch(m, "", out)
                    && let Some(r) = self.call_of_channel(&uid)
                {
                    let st = self.calls.entry(r).or_default();
                    st.abandoned = true;
                    st.last_cause = Some("abandoned".into());
                }
            }
            "AgentCalled" | "AgentRingNoAnswer" => {
                // the agent's ringing leg comes through DialBegin; the agent state is unchanged
                if let Some(uid) = self.touch(m, "", out) {
                    self.settle(&uid, None, None, out);
                }
            }
            "AgentConnect" | "AgentComplete" => {
                if let Some(uid) = self.touch(m, "", out) {
                    self.settle(&uid, None, None, out);
                }
                if let Some(iface) = m.get("Interface").or_else(|| m.get("MemberName")) {
                    let a = self.agents.entry(iface.to_string()).or_default();
                    a.in_call = name == "AgentConnect";
                    if let Some(q) = m.get("Queue") {
                        a.queues.insert(q.to_string());
                    }
                    self.agent_changed(iface, out);
                }
            }
            "QueueMemberStatus" | "QueueMemberAdded" | "QueueMemberRemoved"
            | "QueueMemberPause" | "QueueMemberPaused" => self.queue_member(name, m, out),
            "DeviceStateChange" => {
                if let (Some(d), Some(s)) = (m.get("Device"), m.get("State")) {
                    // reachability feeds presence: UNAVAILABLE is an unregistered phone
                    let online = !s.eq_ignore_ascii_case("UNAVAILABLE");
                    let was = self.device_states.insert(d.to_string(), s.to_string());
                    let was_online = was
                        .as_deref()
                        .is_none_or(|w| !w.eq_ignore_ascii_case("UNAVAILABLE"));
                    if (online != was_online || was.is_none())
                        && let Some(device) = self.map.device_for_interface(d)
                    {
                        out.push(PbxEvent::DeviceOnline { device, online });
                    }
                }
            }
            "ExtensionStatus" => {
                if let (Some(e), Some(s)) =
                    (m.get("Exten"), m.get("StatusText").or(m.get("Status")))
                {
                    self.device_states.insert(e.to_string(), s.to_string());
                }
            }
            "CoreShowChannel" => self.resync_channel(m),
            _ => {}
        }
    }
}
