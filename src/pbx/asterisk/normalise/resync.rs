//! Resynchronisation: a `CoreShowChannels` list rebuilds the channel table after a (re)connect;
//! snapshots per device and the call events that bring the engine to what Asterisk says now.

use super::Mapper;
use super::channels::{Chan, dialable, real};
use crate::model::{ConnectionState, ConnectionUpdate, DeviceId, PbxEvent, SnapshotCall};
use ctigw_codecs::ami::Message;
use std::collections::{BTreeMap, BTreeSet};

impl Mapper {
    /// A new session: channels will be listed again (`CoreShowChannels`); what the engine was
    /// told is kept so the differences can be reported.
    pub fn begin_resync(&mut self) {
        self.channels.clear();
    }

    pub(super) fn resync_channel(&mut self, m: &Message) {
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

    /// Takes the items of a `CoreShowChannels` list (after [`Mapper::begin_resync`]);
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
}
