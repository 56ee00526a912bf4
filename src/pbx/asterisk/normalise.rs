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
//! - **Queues**: a caller waiting in a queue adds the queue as a party in state `queued`;
//!   `QueueCallerAbandon` makes `abandoned` the cause of what follows.

use crate::model::{
    AgentState, CallEvent, CallEventKind, ConnectionState, ConnectionUpdate, DeviceId, PbxEvent,
    SnapshotCall,
};
use crate::pbx::contract::Replayer;
use bytes::BytesMut;
use ctigw_codecs::ami::{AmiCodec, BANNER_PREFIX, Message};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tokio_util::codec::Decoder;

use ConnectionState as S;

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

/// Which channels are which devices.
#[derive(Debug, Clone, Default)]
pub struct DeviceMap {
    /// `PJSIP/101` → `101`.
    by_channel: HashMap<String, DeviceId>,
    devices: HashSet<DeviceId>,
    /// Replay without a configuration: a channel whose resource is its own number (`PJSIP/101`
    /// with caller id 101, `SIP/9170-12` with 9170) or a Local `;1` half is taken as a device,
    /// and announced with a `Monitor` event.
    learning: bool,
}

impl DeviceMap {
    pub fn configured<'a>(channels: impl IntoIterator<Item = (&'a DeviceId, &'a String)>) -> Self {
        let mut m = DeviceMap::default();
        for (d, ch) in channels {
            m.by_channel.insert(ch.to_ascii_lowercase(), d.clone());
            m.devices.insert(d.clone());
        }
        m
    }

    pub fn learning() -> Self {
        DeviceMap {
            learning: true,
            ..DeviceMap::default()
        }
    }

    fn by_channel(&self, base: &str) -> Option<&DeviceId> {
        self.by_channel.get(&base.to_ascii_lowercase())
    }

    /// The device a queue member interface (`PJSIP/101`, `Local/101@agents/n`) stands for.
    pub fn device_for_interface(&self, interface: &str) -> Option<DeviceId> {
        if let Some(d) = self.by_channel(interface) {
            return Some(d.clone());
        }
        if let Some(local) = parse_local(interface.trim_end_matches("/n")) {
            let d = DeviceId::new(&local.exten);
            if self.devices.contains(&d) || (self.learning && dialable(&local.exten)) {
                return Some(d);
            }
        }
        let resource = interface.split_once('/').map(|(_, r)| r)?;
        (self.learning && dialable(resource)).then(|| DeviceId::new(resource))
    }
}

/// The channel without its instance suffix: `PJSIP/101-00000001` → `PJSIP/101`,
/// `Local/101@phones-00000000;1` → `Local/101@phones`.
pub fn channel_base(name: &str) -> &str {
    let name = name.split(';').next().unwrap_or(name);
    match name.rsplit_once('-') {
        Some((base, suffix))
            if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            base
        }
        _ => name,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct LocalHalf {
    exten: String,
    second: bool,
}

fn parse_local(name: &str) -> Option<LocalHalf> {
    let rest = name.get(..6).filter(|p| p.eq_ignore_ascii_case("local/"))?;
    let rest = name.get(rest.len()..)?;
    let (base, half) = match rest.rsplit_once(';') {
        Some((b, h)) => (b, h),
        None => (rest, "1"),
    };
    let exten = base.split('@').next().unwrap_or_default();
    Some(LocalHalf {
        exten: exten.to_string(),
        second: half == "2",
    })
}

fn dialable(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'*' | b'#'))
}

/// A caller id number as given, unless Asterisk says it has none.
fn real(v: Option<&str>) -> Option<&str> {
    let v = v?.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("<unknown>") || v.eq_ignore_ascii_case("unknown") {
        None
    } else {
        Some(v)
    }
}

/// A Q.850 hangup cause as a CSTA-style cause name.
pub fn cause_name(code: &str) -> String {
    match code.trim().parse::<u32>() {
        Ok(16) | Ok(31) | Ok(0) => "normalClearing".into(),
        Ok(17) => "busy".into(),
        Ok(18) | Ok(19) => "noAnswer".into(),
        Ok(21) => "callRejected".into(),
        Ok(1) | Ok(28) => "invalidNumber".into(),
        Ok(26) => "answeredElsewhere".into(),
        Ok(27) | Ok(38) => "outOfOrder".into(),
        Ok(34) | Ok(41) | Ok(42) | Ok(44) => "networkCongestion".into(),
        Ok(n) => format!("q850:{n}"),
        Err(_) => "normalClearing".into(),
    }
}

#[derive(Debug, Clone)]
struct Chan {
    seq: u64,
    uniqueid: String,
    name: String,
    linkedid: String,
    state: u8,
    caller_num: Option<String>,
    caller_name: Option<String>,
    exten: Option<String>,
    /// Dialled by Dial/Queue/Originate (an outgoing leg).
    dialed: bool,
    dial_number: Option<String>,
    held: bool,
    bridge: Option<String>,
    queue: Option<String>,
    /// Left the call by transferring it: no longer a party.
    transferred: bool,
    /// The party once known (kept when the channel's caller id changes later).
    party: Option<(DeviceId, bool)>,
    local: Option<LocalHalf>,
}

impl Chan {
    fn new(seq: u64, uniqueid: &str, name: &str, linkedid: &str) -> Self {
        Chan {
            seq,
            uniqueid: uniqueid.into(),
            name: name.into(),
            linkedid: linkedid.into(),
            state: 0,
            caller_num: None,
            caller_name: None,
            exten: None,
            dialed: false,
            dial_number: None,
            held: false,
            bridge: None,
            queue: None,
            transferred: false,
            party: None,
            local: parse_local(name),
        }
    }

    fn is_first(&self) -> bool {
        self.uniqueid == self.linkedid
    }

    fn connection_state(&self) -> ConnectionState {
        match self.state {
            6 if self.held => S::Held,
            6 => S::Connected,
            5 => S::Alerting,
            7 => S::Fail,
            _ if self.dialed => S::Alerting,
            _ => S::Initiated,
        }
    }
}

fn rank(s: ConnectionState) -> u8 {
    match s {
        S::Connected => 6,
        S::Held => 5,
        S::Alerting => 4,
        S::Queued => 3,
        S::Initiated => 2,
        S::Fail => 1,
        S::Null => 0,
    }
}

#[derive(Debug, Clone, Default)]
struct CallState {
    /// What the engine was told: party → state, in order of arrival.
    reported: Vec<(DeviceId, ConnectionState)>,
    calling: Option<(String, Option<String>)>,
    called: Option<String>,
    called_from_dial: bool,
    last_cause: Option<String>,
    abandoned: bool,
    merged: Vec<String>,
    /// A blind transferer kept as a party until the transfer target appears, so that a call
    /// between monitored devices never has none of them for a moment (the engine would end it).
    blind: Option<(DeviceId, ConnectionState)>,
    /// Told to the engine at least once.
    announced: bool,
    /// The engine holds the call: one of its parties is a device of ours (the engine drops
    /// calls with none, so until then nothing is reported and afterwards everything is).
    visible: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct AgentInfo {
    device: Option<DeviceId>,
    queues: BTreeSet<String>,
    paused: bool,
    reason: Option<String>,
    in_call: bool,
    last: Option<AgentState>,
}

/// The normaliser of one link: AMI messages in, model events out.
#[derive(Debug, Default)]
pub struct Normaliser {
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

fn field<'a>(m: &'a Message, prefix: &str, key: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        m.get(key)
    } else {
        m.get(&format!("{prefix}{key}"))
    }
}

impl Normaliser {
    pub fn new(map: DeviceMap) -> Self {
        Normaliser {
            map,
            ..Normaliser::default()
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
                if let Some(dest) = self.touch(m, "Dest", out) {
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
                    self.settle(&dest, None, None, out);
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
                if let Some(uid) = self.touch(m, "", out) {
                    if let Some(c) = self.channels.get_mut(&uid) {
                        c.queue = queue;
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

    /// Creates or updates the channel a message describes (fields under `prefix`, e.g. `Dest`);
    /// returns its Uniqueid. Handles a changed Linkedid (re-keying).
    fn touch(&mut self, m: &Message, prefix: &str, out: &mut Vec<PbxEvent>) -> Option<String> {
        let uid = field(m, prefix, "Uniqueid")?.trim().to_string();
        if uid.is_empty() {
            return None;
        }
        let name = field(m, prefix, "Channel").unwrap_or_default().trim();
        let linkedid = field(m, prefix, "Linkedid")
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if !self.channels.contains_key(&uid) {
            self.next_seq += 1;
            let l = linkedid.unwrap_or(&uid).to_string();
            self.channels
                .insert(uid.clone(), Chan::new(self.next_seq, &uid, name, &l));
        }
        let mut relink = None;
        if let Some(c) = self.channels.get_mut(&uid) {
            if !name.is_empty() && c.name != name {
                c.name = name.to_string();
                c.local = parse_local(name);
            }
            if let Some(s) = field(m, prefix, "ChannelState").and_then(|s| s.trim().parse().ok()) {
                c.state = s;
            }
            if let Some(n) = real(field(m, prefix, "CallerIDNum")) {
                c.caller_num = Some(n.to_string());
            }
            if let Some(n) = real(field(m, prefix, "CallerIDName")) {
                c.caller_name = Some(n.to_string());
            }
            if c.exten.is_none()
                && let Some(e) = field(m, prefix, "Exten")
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
            {
                c.exten = Some(e.to_string());
            }
            if let Some(l) = linkedid
                && l != c.linkedid
            {
                relink = Some((c.linkedid.clone(), l.to_string()));
                c.linkedid = l.to_string();
            }
        }
        if let Some((old, new)) = relink {
            let (from, into) = (
                self.resolve(&old).to_string(),
                self.resolve(&new).to_string(),
            );
            if from != into {
                tracing::debug!(channel = %uid, from = %from, into = %into, "Linkedid changed: call re-keyed");
                self.merge(&from, &into, out);
            }
        }
        Some(uid)
    }

    fn dial_begin(&mut self, m: &Message, dest_prefix: &str, out: &mut Vec<PbxEvent>) {
        let caller = self.touch(m, "", out);
        let dest = self.touch(m, dest_prefix, out);
        // Asterisk 11's Dial: `DestUniqueID` (matched case-insensitively above)
        let Some(dest) = dest else {
            if let Some(c) = caller {
                self.settle(&c, None, None, out);
            }
            return;
        };
        let number = m
            .get("DialString")
            .map(|s| s.split('@').next().unwrap_or(s))
            .map(|s| s.rsplit('/').next().unwrap_or(s).to_string());
        if let Some(c) = self.channels.get_mut(&dest) {
            c.dialed = true;
            if c.dial_number.is_none() {
                c.dial_number = number.filter(|n| dialable(n));
            }
        }
        let call = self.call_of_channel(&dest);
        if caller.is_none()
            && let Some(r) = &call
            && let Some(st) = self.calls.get_mut(r)
            && !st.called_from_dial
            && self.channels.get(&dest).is_some_and(Chan::is_first)
        {
            // an Originate: the first channel is dialled, so its Exten was its own number
            st.called = None;
        }
        if let Some(r) = &call
            && caller.is_some()
        {
            let party = self.party_of(&dest);
            let st = self.calls.entry(r.clone()).or_default();
            if !st.called_from_dial
                && let Some((p, _)) = party
            {
                st.called = Some(p.to_string());
                st.called_from_dial = true;
            }
        }
        if let Some(c) = &caller {
            self.settle(c, None, None, out);
        }
        if call.is_some() {
            self.settle(&dest, None, None, out);
        }
    }

    fn blind_transfer(&mut self, m: &Message, out: &mut Vec<PbxEvent>) {
        if !m
            .get("Result")
            .is_none_or(|r| r.eq_ignore_ascii_case("Success"))
        {
            return;
        }
        let Some(uid) = self.touch(m, "Transferer", out) else {
            return;
        };
        if let Some(c) = self.channels.get_mut(&uid) {
            c.transferred = true;
        }
        let party = self.party_of(&uid);
        if let Some(call) = self.call_of_channel(&uid)
            && let Some((p, _)) = party
            && let Some(st) = self.calls.get_mut(&call)
            && let Some(state) = st.reported.iter().find(|(q, _)| *q == p).map(|(_, s)| *s)
        {
            st.blind = Some((p, state));
            st.last_cause = Some("transfer".into());
        }
        self.settle(&uid, None, None, out);
    }

    fn attended_transfer(&mut self, m: &Message, out: &mut Vec<PbxEvent>) {
        if !m
            .get("Result")
            .is_none_or(|r| r.eq_ignore_ascii_case("Success"))
        {
            return;
        }
        let first = self.touch(m, "OrigTransferer", out);
        let second = self.touch(m, "SecondTransferer", out);
        for uid in [&first, &second].into_iter().flatten() {
            if let Some(c) = self.channels.get_mut(uid) {
                c.transferred = true;
            }
        }
        let a = first.as_deref().and_then(|u| self.call_of_channel(u));
        let b = second.as_deref().and_then(|u| self.call_of_channel(u));
        match (a, b) {
            (Some(a), Some(b)) if a != b => {
                // the transferee's call survives (its id is the one the CRM holds)
                if let Some(st) = self.calls.get_mut(&a) {
                    st.last_cause = Some("transfer".into());
                }
                self.merge_with(
                    &b,
                    &a,
                    Some(CallEventKind::Transferred),
                    Some("transfer"),
                    out,
                );
            }
            (Some(a), _) | (None, Some(a)) => {
                self.recompute(&a, Some(CallEventKind::Transferred), Some("transfer"), out)
            }
            (None, None) => {}
        }
    }

    fn hangup(&mut self, m: &Message, out: &mut Vec<PbxEvent>) {
        let Some(uid) = m.get("Uniqueid").map(str::trim).map(str::to_string) else {
            return;
        };
        let cause = m.get("Cause").map(cause_name);
        let Some(call) = self.call_of_channel(&uid) else {
            return;
        };
        let abandoned = self.calls.get(&call).is_some_and(|s| s.abandoned);
        let cause = if abandoned {
            Some("abandoned".to_string())
        } else {
            cause
        };
        if let Some(st) = self.calls.get_mut(&call)
            && !matches!(
                st.last_cause.as_deref(),
                Some("busy" | "noAnswer" | "abandoned")
            )
        {
            st.last_cause = cause.clone();
        }
        self.channels.remove(&uid);
        self.recompute(&call, None, cause.as_deref(), out);
    }

    fn queue_member(&mut self, name: &str, m: &Message, out: &mut Vec<PbxEvent>) {
        let Some(iface) = m.get("Interface").or_else(|| m.get("Location")) else {
            return;
        };
        let iface = iface.to_string();
        let a = self.agents.entry(iface.clone()).or_default();
        let queue = m.get("Queue").map(str::to_string);
        if name == "QueueMemberRemoved" {
            if let Some(q) = &queue {
                a.queues.remove(q);
            } else {
                a.queues.clear();
            }
        } else if let Some(q) = queue {
            a.queues.insert(q);
        }
        if let Some(p) = m.get("Paused") {
            a.paused = p.trim() == "1" || p.trim().eq_ignore_ascii_case("true");
            a.reason = m
                .get("PausedReason")
                .or_else(|| m.get("Reason"))
                .map(str::trim)
                .filter(|r| !r.is_empty() && a.paused)
                .map(str::to_string);
        }
        if let Some(ic) = m.get("InCall") {
            a.in_call = ic.trim() == "1";
        }
        self.agent_changed(&iface, out);
    }

    fn agent_changed(&mut self, iface: &str, out: &mut Vec<PbxEvent>) {
        let device = self.map.device_for_interface(iface);
        let Some(a) = self.agents.get_mut(iface) else {
            return;
        };
        let Some(device) = device.or_else(|| a.device.clone()) else {
            tracing::debug!(interface = %iface, "queue member is not a configured device");
            return;
        };
        a.device = Some(device.clone());
        let state = if a.queues.is_empty() {
            AgentState::LoggedOff
        } else if a.paused {
            AgentState::NotReady
        } else if a.in_call {
            AgentState::Busy
        } else {
            AgentState::Ready
        };
        if a.last == Some(state) && state != AgentState::NotReady {
            return;
        }
        a.last = Some(state);
        let reason = if state == AgentState::NotReady {
            a.reason.clone()
        } else {
            None
        };
        if self.map.learning && self.announced_devices.insert(device.clone()) {
            out.push(PbxEvent::Monitor {
                device: device.clone(),
                result: Ok(()),
            });
        }
        out.push(PbxEvent::Agent {
            device,
            agent_id: iface.to_string(),
            state,
            reason,
        });
    }

    // ----- calls --------------------------------------------------------------------------------

    /// The party a channel stands for, and whether it is one of our devices.
    fn party_of(&mut self, uid: &str) -> Option<(DeviceId, bool)> {
        let c = self.channels.get(uid)?;
        if let Some(p) = &c.party {
            return Some(p.clone());
        }
        let party = if let Some(local) = &c.local {
            if local.second || !dialable(&local.exten) {
                return None;
            }
            let d = DeviceId::new(&local.exten);
            let ours = self.map.devices.contains(&d) || self.map.learning;
            Some((d, ours))
        } else if let Some(d) = self.map.by_channel(channel_base(&c.name)) {
            Some((d.clone(), true))
        } else {
            if !c.is_first() && !c.dialed && c.state != 6 {
                // an outgoing leg not dialled yet: its caller id is not settled
                return None;
            }
            let number = if c.dialed {
                c.caller_num.clone().or_else(|| c.dial_number.clone())
            } else {
                c.caller_num.clone()
            }?;
            let ours = self.map.learning && {
                let resource = channel_base(&c.name)
                    .split_once('/')
                    .map(|(_, r)| r)
                    .unwrap_or("");
                resource == number || resource.starts_with(&format!("{number}-"))
            };
            Some((DeviceId::new(&number), ours))
        };
        if let (Some(p), Some(c)) = (&party, self.channels.get_mut(uid)) {
            c.party = Some(p.clone());
        }
        party
    }

    /// Derives the parties of a call from its live channels.
    fn parties(&mut self, call: &str) -> Vec<(DeviceId, ConnectionState, bool)> {
        let mut uids: Vec<(u64, String)> = self
            .channels
            .values()
            .filter(|c| self.resolve(&c.linkedid) == call && !c.transferred)
            .map(|c| (c.seq, c.uniqueid.clone()))
            .collect();
        uids.sort();
        // (party, state, ours, from a Local half)
        let mut out: Vec<(DeviceId, ConnectionState, bool, bool)> = Vec::new();
        for (_, uid) in uids {
            let queue = self.channels.get(&uid).and_then(|c| c.queue.clone());
            if let Some((p, ours)) = self.party_of(&uid)
                && let Some(c) = self.channels.get(&uid)
            {
                let st = c.connection_state();
                let local = c.local.is_some();
                match out.iter_mut().find(|e| e.0 == p) {
                    Some(e) => {
                        let better = (e.3 && !local) || (e.3 == local && rank(st) > rank(e.1));
                        if better {
                            e.1 = st;
                            e.3 = local;
                        }
                    }
                    None => out.push((p, st, ours, local)),
                }
            }
            if let Some(q) = queue {
                let d = DeviceId::new(&q);
                if !out.iter().any(|e| e.0 == d) {
                    out.push((d, S::Queued, false, false));
                }
            }
        }
        out.into_iter().map(|(p, s, o, _)| (p, s, o)).collect()
    }

    /// The calling party of a call: the party of its first channel, with its name.
    /// The flag is true when it comes from the call's first channel (then it may refine an
    /// earlier value: the name arrives after the number); otherwise it only fills a gap.
    fn calling_of(&mut self, call: &str) -> Option<(String, Option<String>, bool)> {
        let (first, is_first) = self
            .channels
            .values()
            .filter(|c| self.resolve(&c.linkedid) == call)
            .min_by_key(|c| (!c.is_first(), c.seq))
            .map(|c| (c.uniqueid.clone(), c.is_first()))?;
        let (p, _) = self.party_of(&first)?;
        let name = self
            .channels
            .get(&first)
            .and_then(|c| c.caller_name.clone());
        Some((p.to_string(), name, is_first))
    }

    fn settle(
        &mut self,
        uid: &str,
        hint: Option<CallEventKind>,
        cause: Option<&str>,
        out: &mut Vec<PbxEvent>,
    ) {
        if let Some(call) = self.call_of_channel(uid) {
            self.recompute(&call, hint, cause, out);
        }
    }

    fn merge(&mut self, from: &str, into: &str, out: &mut Vec<PbxEvent>) {
        self.merge_with(from, into, Some(CallEventKind::Transferred), None, out);
    }

    /// The call `from` is absorbed by `into`.
    fn merge_with(
        &mut self,
        from: &str,
        into: &str,
        hint: Option<CallEventKind>,
        cause: Option<&str>,
        out: &mut Vec<PbxEvent>,
    ) {
        if from == into {
            return;
        }
        self.aliases.insert(from.to_string(), into.to_string());
        for v in self.aliases.values_mut() {
            if v == from {
                *v = into.to_string();
            }
        }
        if let Some(old) = self.calls.remove(from) {
            let st = self.calls.entry(into.to_string()).or_default();
            if old.visible {
                st.visible = true;
                for (p, s) in old.reported {
                    if !st.reported.iter().any(|(q, _)| *q == p) {
                        st.reported.push((p, s));
                    }
                }
                st.merged.push(from.to_string());
                st.merged.extend(old.merged);
            }
            if st.calling.is_none() {
                st.calling = old.calling;
                st.called = old.called;
            }
        }
        self.recompute(into, hint, cause, out);
    }

    /// Derives the call's parties again and tells the engine what changed.
    fn recompute(
        &mut self,
        call: &str,
        hint: Option<CallEventKind>,
        cause: Option<&str>,
        out: &mut Vec<PbxEvent>,
    ) {
        let mut parties = self.parties(call);
        let (mut hint, mut cause) = (hint, cause);
        let calling = self.calling_of(call);
        let exten_called = self
            .channels
            .values()
            .filter(|c| {
                self.resolve(&c.linkedid) == call && c.is_first() && !c.dialed && c.local.is_none()
            })
            .find_map(|c| c.exten.clone())
            .filter(|e| dialable(e));
        let any_channel = self
            .channels
            .values()
            .any(|c| self.resolve(&c.linkedid) == call);
        if self.map.learning {
            for (p, _, ours) in &parties {
                if *ours && self.announced_devices.insert(p.clone()) {
                    out.push(PbxEvent::Monitor {
                        device: p.clone(),
                        result: Ok(()),
                    });
                }
            }
        }
        let st = self.calls.entry(call.to_string()).or_default();
        if let Some((p, s)) = st.blind.clone() {
            let newcomer = parties
                .iter()
                .any(|(q, _, _)| *q != p && !st.reported.iter().any(|(r, _)| r == q));
            if newcomer || !any_channel {
                st.blind = None;
                hint = Some(CallEventKind::Transferred);
                cause = Some("transfer");
            } else if !parties.iter().any(|(q, _, _)| *q == p) {
                parties.push((p, s, true));
            }
        }
        if let Some((n, name, from_first)) = calling
            && (from_first || st.calling.is_none())
        {
            st.calling = Some((n, name));
        }
        if st.called.is_none() && !st.called_from_dial {
            st.called = exten_called;
        }
        let visible_now = parties.iter().any(|(_, _, ours)| *ours);
        if !st.visible {
            st.reported.clear();
        }
        let mut diff: Vec<ConnectionUpdate> = Vec::new();
        for (p, s, _) in &parties {
            if st.reported.iter().find(|(q, _)| q == p).map(|(_, x)| *x) != Some(*s) {
                diff.push(ConnectionUpdate {
                    device: p.clone(),
                    state: *s,
                });
            }
        }
        for (p, _) in &st.reported {
            if !parties.iter().any(|(q, _, _)| q == p) {
                diff.push(ConnectionUpdate {
                    device: p.clone(),
                    state: S::Null,
                });
            }
        }
        let merged = std::mem::take(&mut st.merged);
        if (st.visible || visible_now || !merged.is_empty())
            && (!diff.is_empty() || !merged.is_empty())
        {
            // the kind follows what happened to our devices when something did (a queue caller
            // answered by the queue is not an established call for the ringing agent)
            let ours: Vec<ConnectionUpdate> = diff
                .iter()
                .filter(|u| parties.iter().any(|(p, _, o)| *o && *p == u.device))
                .cloned()
                .collect();
            let basis = if ours.is_empty() { &diff } else { &ours };
            let kind = hint.unwrap_or_else(|| choose_kind(basis, &st.reported));
            let cause = cause.map(str::to_string).or_else(|| match kind {
                CallEventKind::ServiceInitiated => Some("newCall".into()),
                CallEventKind::ConnectionCleared => st.last_cause.clone(),
                _ => None,
            });
            let mut ev = CallEvent::new(call, kind);
            ev.connections = diff;
            ev.merged = merged;
            ev.cause = cause;
            if let Some((n, name)) = &st.calling {
                ev.calling = Some(n.clone());
                ev.calling_name = name.clone();
            }
            ev.called = st.called.clone();
            tracing::debug!(call = %call, kind = ?ev.kind, "call event");
            out.push(PbxEvent::Call(ev));
            st.announced = true;
            st.visible = visible_now;
            st.reported = if visible_now {
                parties.iter().map(|(p, s, _)| (p.clone(), *s)).collect()
            } else {
                Vec::new()
            };
        }
        if !any_channel {
            let st = self.calls.remove(call).unwrap_or_default();
            self.aliases.retain(|_, v| v != call);
            if st.visible {
                out.push(PbxEvent::CallCleared {
                    call: call.to_string(),
                    cause: st.last_cause.or_else(|| Some("normalClearing".into())),
                    time: None,
                });
            }
        }
    }

    // ----- resynchronisation --------------------------------------------------------------------

    /// A new session: channels will be listed again (`CoreShowChannels`); what the engine was
    /// told is kept so the differences can be reported.
    pub fn begin_resync(&mut self) {
        self.channels.clear();
    }

    fn resync_channel(&mut self, m: &Message) {
        let Some(uid) = m.get("Uniqueid").map(str::trim).filter(|u| !u.is_empty()) else {
            return;
        };
        let name = m.get("Channel").unwrap_or_default();
        let linkedid = m
            .get("Linkedid")
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .unwrap_or(uid);
        self.next_seq += 1;
        let mut c = Chan::new(self.next_seq, uid, name, linkedid);
        c.state = m
            .get("ChannelState")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        c.caller_num = real(m.get("CallerIDNum")).map(str::to_string);
        c.caller_name = real(m.get("CallerIDName")).map(str::to_string);
        c.exten = m.get("Exten").map(str::to_string).filter(|e| !e.is_empty());
        c.bridge = m
            .get("BridgeId")
            .map(str::to_string)
            .filter(|b| !b.is_empty());
        c.dialed = m
            .get("Application")
            .is_some_and(|a| a.starts_with("AppDial") || a == "AppQueue");
        if c.dialed {
            c.dial_number = c.exten.clone().filter(|e| dialable(e));
        }
        self.channels.insert(uid.to_string(), c);
    }

    /// Takes the items of a `CoreShowChannels` list (after [`Normaliser::begin_resync`]);
    /// returns a `Snapshot` for each device, then the call events and clearings that bring the
    /// engine to what Asterisk says now.
    pub fn finish_resync(&mut self, items: &[Message], devices: &[DeviceId]) -> Vec<PbxEvent> {
        for m in items {
            *self.stats.used.entry("CoreShowChannel".into()).or_default() += 1;
            self.resync_channel(m);
        }
        let mut refs: BTreeSet<String> = self
            .channels
            .values()
            .map(|c| self.resolve(&c.linkedid).to_string())
            .collect();
        let mut out = Vec::new();
        let mut by_call: BTreeMap<String, Vec<(DeviceId, ConnectionState, bool)>> = BTreeMap::new();
        for r in &refs {
            let p = self.parties(r);
            by_call.insert(r.clone(), p);
        }
        for d in devices {
            let calls: Vec<SnapshotCall> = by_call
                .iter()
                .filter(|(_, ps)| ps.iter().any(|(p, _, _)| p == d))
                .map(|(r, ps)| SnapshotCall {
                    call: r.clone(),
                    connections: ps
                        .iter()
                        .map(|(p, s, _)| ConnectionUpdate {
                            device: p.clone(),
                            state: *s,
                        })
                        .collect(),
                })
                .collect();
            out.push(PbxEvent::Snapshot {
                device: d.clone(),
                calls,
            });
        }
        // the engine now holds what it had plus what the snapshots listed
        for (r, ps) in &by_call {
            if !ps.iter().any(|(p, _, _)| devices.contains(p)) {
                continue;
            }
            let st = self.calls.entry(r.clone()).or_default();
            st.announced = true;
            st.visible = true;
            for (p, s, _) in ps {
                match st.reported.iter_mut().find(|(q, _)| q == p) {
                    Some(e) => e.1 = *s,
                    None => st.reported.push((p.clone(), *s)),
                }
            }
        }
        refs.extend(self.calls.keys().cloned());
        for r in refs {
            if let Some(st) = self.calls.get_mut(&r)
                && st.last_cause.is_none()
            {
                st.last_cause = Some("resynchronised".into());
            }
            self.recompute(&r, None, None, &mut out);
            if let Some(st) = self.calls.get_mut(&r)
                && st.last_cause.as_deref() == Some("resynchronised")
            {
                st.last_cause = None;
            }
        }
        out
    }

    /// The calls of one device as the normaliser holds them (answers a `Snapshot` request).
    pub fn snapshot_of(&mut self, device: &DeviceId) -> PbxEvent {
        let refs: BTreeSet<String> = self
            .channels
            .values()
            .map(|c| self.resolve(&c.linkedid).to_string())
            .collect();
        let mut calls = Vec::new();
        for r in refs {
            let ps = self.parties(&r);
            if ps.iter().any(|(p, _, _)| p == device) {
                calls.push(SnapshotCall {
                    call: r,
                    connections: ps
                        .into_iter()
                        .map(|(p, s, _)| ConnectionUpdate {
                            device: p,
                            state: s,
                        })
                        .collect(),
                });
            }
        }
        PbxEvent::Snapshot {
            device: device.clone(),
            calls,
        }
    }

    // ----- what commands need -------------------------------------------------------------------

    /// The channels of `device` in `call`, real channels before Local halves.
    pub fn channels_of(&mut self, call: &str, device: &DeviceId) -> Vec<String> {
        let mut uids: Vec<(bool, u64, String)> = self
            .channels
            .values()
            .filter(|c| self.resolve(&c.linkedid) == call)
            .map(|c| (c.local.is_some(), c.seq, c.uniqueid.clone()))
            .collect();
        uids.sort();
        let mut names = Vec::new();
        for (_, _, u) in uids {
            if self.party_of(&u).is_some_and(|(p, _)| &p == device)
                && let Some(c) = self.channels.get(&u)
            {
                names.push(c.name.clone());
            }
        }
        names
    }

    /// A channel of another party in `call` (the one bridged with `device` when there is one).
    pub fn other_channel(&mut self, call: &str, device: &DeviceId) -> Option<String> {
        let mine = self.channels_of(call, device);
        let my_bridges: Vec<String> = self
            .channels
            .values()
            .filter(|c| mine.contains(&c.name))
            .filter_map(|c| c.bridge.clone())
            .collect();
        let mut others: Vec<(bool, bool, u64, String)> = self
            .channels
            .values()
            .filter(|c| self.resolve(&c.linkedid) == call && !mine.contains(&c.name))
            .filter(|c| !c.local.as_ref().is_some_and(|l| l.second))
            .map(|c| {
                let bridged = c.bridge.as_ref().is_some_and(|b| my_bridges.contains(b));
                (!bridged, c.local.is_some(), c.seq, c.uniqueid.clone())
            })
            .collect();
        others.sort();
        others
            .into_iter()
            .find(|(_, _, _, u)| self.party_of(u).is_some_and(|(p, _)| &p != device))
            .and_then(|(_, _, _, u)| self.channels.get(&u).map(|c| c.name.clone()))
    }

    /// How many queues the agent on `device` is a member of, when it is known as an agent.
    pub fn agent_queue_count(&self, device: &DeviceId) -> Option<usize> {
        self.agents
            .values()
            .find(|a| a.device.as_ref() == Some(device))
            .map(|a| a.queues.len())
    }

    /// The queue member interface of a device, when it is an agent.
    pub fn interface_of(&self, device: &DeviceId) -> Option<String> {
        self.agents
            .iter()
            .find(|(_, a)| a.device.as_ref() == Some(device))
            .map(|(i, _)| i.clone())
    }
}

fn choose_kind(diff: &[ConnectionUpdate], before: &[(DeviceId, ConnectionState)]) -> CallEventKind {
    let was = |d: &DeviceId| before.iter().find(|(p, _)| p == d).map(|(_, s)| *s);
    let has = |s: ConnectionState| diff.iter().any(|u| u.state == s);
    if diff
        .iter()
        .any(|u| u.state == S::Connected && was(&u.device) == Some(S::Held))
    {
        CallEventKind::Retrieved
    } else if has(S::Held) {
        CallEventKind::Held
    } else if has(S::Connected) {
        CallEventKind::Established
    } else if has(S::Alerting) {
        CallEventKind::Delivered
    } else if has(S::Queued) {
        CallEventKind::Queued
    } else if has(S::Initiated) {
        if before.is_empty() {
            CallEventKind::ServiceInitiated
        } else {
            CallEventKind::Originated
        }
    } else if has(S::Fail) {
        CallEventKind::Failed
    } else if has(S::Null) {
        CallEventKind::ConnectionCleared
    } else {
        CallEventKind::Updated
    }
}

/// `ctigw replay --dialect asterisk`: the AMI codec and a learning normaliser. A stream that
/// starts with the banner is read as a client reads it; one without (an excerpt) as events only.
pub struct AmiReplay {
    codec: Option<AmiCodec>,
    buf: BytesMut,
    pub normaliser: Normaliser,
}

impl Default for AmiReplay {
    fn default() -> Self {
        AmiReplay {
            codec: None,
            buf: BytesMut::new(),
            normaliser: Normaliser::new(DeviceMap::learning()),
        }
    }
}

impl AmiReplay {
    pub fn new() -> Self {
        Self::default()
    }

    fn drain(&mut self, eof: bool) -> Vec<Result<PbxEvent, String>> {
        let mut out = Vec::new();
        let Some(codec) = self.codec.as_mut() else {
            return out;
        };
        loop {
            let item = if eof {
                codec.decode_eof(&mut self.buf)
            } else {
                codec.decode(&mut self.buf)
            };
            match item {
                Ok(Some(Ok(m))) => out.extend(self.normaliser.on_message(&m).into_iter().map(Ok)),
                Ok(Some(Err(e))) => out.push(Err(e.to_string())),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        out
    }
}

impl Replayer for AmiReplay {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>> {
        self.buf.extend_from_slice(bytes);
        if self.codec.is_none() {
            if self.buf.len() < BANNER_PREFIX.len()
                && BANNER_PREFIX.as_bytes().starts_with(&self.buf)
            {
                return Vec::new();
            }
            self.codec = Some(if self.buf.starts_with(BANNER_PREFIX.as_bytes()) {
                AmiCodec::client()
            } else {
                AmiCodec::server()
            });
        }
        self.drain(false)
    }

    fn finish(&mut self) -> Vec<Result<PbxEvent, String>> {
        if self.codec.is_none() {
            self.codec = Some(AmiCodec::server());
        }
        self.drain(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_bases() {
        assert_eq!(channel_base("PJSIP/101-00000001"), "PJSIP/101");
        assert_eq!(channel_base("SIP/9170-12-0000003c"), "SIP/9170-12");
        assert_eq!(
            channel_base("Local/101@phones-00000000;1"),
            "Local/101@phones"
        );
        assert_eq!(channel_base("PJSIP/101"), "PJSIP/101");
        assert_eq!(
            parse_local("Local/102@phones-00000001;2"),
            Some(LocalHalf {
                exten: "102".into(),
                second: true
            })
        );
        assert_eq!(parse_local("PJSIP/1"), None);
        assert_eq!(parse_local("Lo"), None);
    }

    #[test]
    fn causes() {
        assert_eq!(cause_name("16"), "normalClearing");
        assert_eq!(cause_name("17"), "busy");
        assert_eq!(cause_name("99"), "q850:99");
    }
}
