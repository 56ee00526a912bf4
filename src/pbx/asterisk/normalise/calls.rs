//! Calls: channels grouped into calls by `Linkedid`, the parties derived from each call's live
//! channels, re-keying and merging, transfers and hang-ups, and the one `CallEvent` that tells
//! the engine the difference with what it was last told.

use super::Mapper;
use super::channels::{Chan, channel_base, dialable};
use crate::model::{
    CallEvent, CallEventKind, ConnectionState, ConnectionUpdate, DeviceId, PbxEvent,
};
use ctigw_codecs::ami::Message;

use ConnectionState as S;

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

/// Causes a `DialEnd` or the queue gave, kept over the hang-up causes that follow them.
const KEPT_CAUSES: &[&str] = &[
    "busy",
    "noAnswer",
    "abandoned",
    "callCancelled",
    "networkCongestion",
];

pub(super) fn rank(s: ConnectionState) -> u8 {
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
pub(super) struct CallState {
    /// What the engine was told: party → state, in order of arrival.
    pub(super) reported: Vec<(DeviceId, ConnectionState)>,
    pub(super) calling: Option<(String, Option<String>)>,
    pub(super) called: Option<String>,
    pub(super) called_from_dial: bool,
    pub(super) last_cause: Option<String>,
    pub(super) abandoned: bool,
    pub(super) merged: Vec<String>,
    /// A blind transferer kept as a party until the transfer target appears, so that a call
    /// between monitored devices never has none of them for a moment (the engine would end it).
    pub(super) blind: Option<(DeviceId, ConnectionState)>,
    /// Told to the engine at least once.
    pub(super) announced: bool,
    /// The engine holds the call: one of its parties is a device of ours (the engine drops
    /// calls with none, so until then nothing is reported and afterwards everything is).
    pub(super) visible: bool,
}

impl Mapper {
    pub(super) fn dial_begin(&mut self, m: &Message, dest_prefix: &str, out: &mut Vec<PbxEvent>) {
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
        let from_exten = m.get("Exten").map(str::trim).map(str::to_string);
        if let Some(c) = self.channels.get_mut(&dest) {
            c.dialed = true;
            if caller.is_some() && c.dialled_from.is_none() {
                c.dialled_from = from_exten.filter(|e| !e.is_empty());
            }
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

    pub(super) fn blind_transfer(&mut self, m: &Message, out: &mut Vec<PbxEvent>) {
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

    pub(super) fn attended_transfer(&mut self, m: &Message, out: &mut Vec<PbxEvent>) {
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

    pub(super) fn hangup(&mut self, m: &Message, out: &mut Vec<PbxEvent>) {
        let Some(uid) = m.get("Uniqueid").map(str::trim).map(str::to_string) else {
            return;
        };
        let cause = m.get("Cause").map(cause_name);
        let Some(call) = self.call_of_channel(&uid) else {
            return;
        };
        let abandoned = self.calls.get(&call).is_some_and(|s| s.abandoned);
        // what the Dial or the queue said outlives the Q.850 cause of the hang-ups after it
        let kept = self
            .calls
            .get(&call)
            .and_then(|s| s.last_cause.clone())
            .filter(|c| KEPT_CAUSES.contains(&c.as_str()));
        let cause = if abandoned {
            Some("abandoned".to_string())
        } else {
            kept.or(cause)
        };
        if let Some(st) = self.calls.get_mut(&call) {
            st.last_cause = cause.clone();
        }
        self.channels.remove(&uid);
        self.recompute(&call, None, cause.as_deref(), out);
    }

    /// The party a channel stands for, and whether it is one of our devices.
    pub(super) fn party_of(&mut self, uid: &str) -> Option<(DeviceId, bool)> {
        let c = self.channels.get(uid)?;
        if let Some(p) = &c.party {
            return Some(p.clone());
        }
        let party = if let Some(local) = &c.local {
            if local.second || !dialable(&local.exten) {
                return None;
            }
            if !c.is_first() && !c.dialed && c.state < 5 {
                // a called leg created but not rung yet: not a party (never one dialling)
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

    /// The party of the first leg rung from a call (a channel that is not the call's first),
    /// other than its caller: who was called when nothing better says it.
    fn rung_leg(&mut self, call: &str, calling: Option<&str>) -> Option<String> {
        let mut uids: Vec<(u64, String)> = self
            .channels
            .values()
            .filter(|c| self.resolve(&c.linkedid) == call && !c.is_first() && !c.transferred)
            .filter(|c| c.dialed || c.state >= 5)
            .map(|c| (c.seq, c.uniqueid.clone()))
            .collect();
        uids.sort();
        uids.into_iter()
            .filter_map(|(_, u)| self.party_of(&u))
            .map(|(p, _)| p.to_string())
            .find(|p| Some(p.as_str()) != calling)
    }

    /// Derives the parties of a call from its live channels.
    pub(super) fn parties(&mut self, call: &str) -> Vec<(DeviceId, ConnectionState, bool)> {
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
        }
        out.into_iter().map(|(p, s, o, _)| (p, s, o)).collect()
    }

    /// The calling party of a call: the party of its first channel, with its name.
    /// The flag is true when it comes from the call's first channel (then it may refine an
    /// earlier value: the name arrives after the number); otherwise it only fills a gap.
    pub(super) fn calling_of(&mut self, call: &str) -> Option<(String, Option<String>, bool)> {
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

    pub(super) fn settle(
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

    pub(super) fn merge(&mut self, from: &str, into: &str, out: &mut Vec<PbxEvent>) {
        self.merge_with(from, into, Some(CallEventKind::Transferred), None, out);
    }

    /// The call `from` is absorbed by `into`.
    pub(super) fn merge_with(
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
    pub(super) fn recompute(
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
        let leg_called = self.rung_leg(call, calling.as_ref().map(|c| c.0.as_str()));
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
            st.called = exten_called.or(leg_called);
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
        let queued_now = hint == Some(CallEventKind::Queued) && st.announced;
        if (st.visible || visible_now || !merged.is_empty())
            && (!diff.is_empty() || !merged.is_empty() || queued_now)
        {
            // the kind follows what happened to our devices when something did (a queue caller
            // answered by the queue is not an established call for the ringing agent)
            let ours: Vec<ConnectionUpdate> = diff
                .iter()
                .filter(|u| parties.iter().any(|(p, _, o)| *o && *p == u.device))
                .cloned()
                .collect();
            let basis = if ours.is_empty() { &diff } else { &ours };
            let mut kind = hint.unwrap_or_else(|| choose_kind(basis, &st.reported));
            let calling_number = st.calling.as_ref().map(|(n, _)| n.as_str());
            if kind == CallEventKind::Established
                && calling_number.is_some()
                && !parties.iter().any(|(p, s, _)| {
                    matches!(s, S::Connected | S::Held) && Some(p.as_str()) != calling_number
                })
            {
                // only the caller's own leg is up (its phone answered an Originate): the call
                // is placed, not answered
                kind = CallEventKind::Originated;
            }
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
}

pub(super) fn choose_kind(
    diff: &[ConnectionUpdate],
    before: &[(DeviceId, ConnectionState)],
) -> CallEventKind {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes() {
        assert_eq!(cause_name("16"), "normalClearing");
        assert_eq!(cause_name("17"), "busy");
        assert_eq!(cause_name("99"), "q850:99");
    }
}
