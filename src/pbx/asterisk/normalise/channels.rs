//! Channels: which channels are which devices (`DeviceMap`), channel names (`Local` halves,
//! instance suffixes), the table of live channels kept by `Uniqueid`, and the channel lookups
//! the commands need.

use super::{Mapper, field};
use crate::model::{ConnectionState, DeviceId, PbxEvent};
use ctigw_codecs::ami::Message;
use std::collections::{HashMap, HashSet};

use ConnectionState as S;

/// Which channels are which devices.
#[derive(Debug, Clone, Default)]
pub struct DeviceMap {
    /// `PJSIP/101` → `101`.
    pub(super) by_channel: HashMap<String, DeviceId>,
    pub(super) devices: HashSet<DeviceId>,
    /// Replay without a configuration: a channel whose resource is its own number (`PJSIP/101`
    /// with caller id 101, `SIP/9170-12` with 9170) or a Local `;1` half is taken as a device,
    /// and announced with a `Monitor` event.
    pub(super) learning: bool,
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

    pub(super) fn by_channel(&self, base: &str) -> Option<&DeviceId> {
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
pub(super) struct LocalHalf {
    pub(super) exten: String,
    pub(super) second: bool,
}

pub(super) fn parse_local(name: &str) -> Option<LocalHalf> {
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

pub(super) fn dialable(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'*' | b'#'))
}

/// A caller id number as given, unless Asterisk says it has none.
pub(super) fn real(v: Option<&str>) -> Option<&str> {
    let v = v?.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("<unknown>") || v.eq_ignore_ascii_case("unknown") {
        None
    } else {
        Some(v)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Chan {
    pub(super) seq: u64,
    pub(super) uniqueid: String,
    pub(super) name: String,
    pub(super) linkedid: String,
    pub(super) state: u8,
    pub(super) caller_num: Option<String>,
    pub(super) caller_name: Option<String>,
    pub(super) exten: Option<String>,
    /// Dialled by Dial/Queue/Originate (an outgoing leg).
    pub(super) dialed: bool,
    pub(super) dial_number: Option<String>,
    pub(super) held: bool,
    pub(super) bridge: Option<String>,
    pub(super) queue: Option<String>,
    /// Left the call by transferring it: no longer a party.
    pub(super) transferred: bool,
    /// The Dial that rang it ended busy, congested or unavailable (`DialEnd`).
    pub(super) failed: bool,
    /// The calling channel's `Exten` when it dialled this leg (`DialBegin`): a `DialEnd` that
    /// cancels the leg with the caller elsewhere is a deflection (`Redirect`).
    pub(super) dialled_from: Option<String>,
    /// The party once known (kept when the channel's caller id changes later).
    pub(super) party: Option<(DeviceId, bool)>,
    pub(super) local: Option<LocalHalf>,
}

impl Chan {
    pub(super) fn new(seq: u64, uniqueid: &str, name: &str, linkedid: &str) -> Self {
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
            failed: false,
            dialled_from: None,
            party: None,
            local: parse_local(name),
        }
    }

    pub(super) fn is_first(&self) -> bool {
        self.uniqueid == self.linkedid
    }

    /// The first channel of a call rung by an `Originate` (no calling channel): it is the
    /// caller's own phone, rung first so that its user places the call.
    pub(super) fn is_originator(&self) -> bool {
        self.is_first() && self.dialed
    }

    pub(super) fn connection_state(&self) -> ConnectionState {
        match self.state {
            _ if self.failed => S::Fail,
            6 if self.held => S::Held,
            6 => S::Connected,
            7 => S::Fail,
            // the caller's phone ringing for an Originate: the caller is placing the call
            _ if self.is_originator() => S::Initiated,
            5 => S::Alerting,
            _ if self.dialed => S::Alerting,
            _ => S::Initiated,
        }
    }
}

impl Mapper {
    /// Creates or updates the channel a message describes (fields under `prefix`, e.g. `Dest`);
    /// returns its Uniqueid. Handles a changed Linkedid (re-keying).
    pub(super) fn touch(
        &mut self,
        m: &Message,
        prefix: &str,
        out: &mut Vec<PbxEvent>,
    ) -> Option<String> {
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
}
