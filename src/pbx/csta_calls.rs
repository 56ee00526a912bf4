//! What the two CSTA dialects (OXE's Phase II BER and ECMA-323 CSTA XML) share about the calls
//! they track between events: each call's parties with their connection state, and how a
//! snapshot of one device reconciles that table.

use crate::model::ConnectionState;
use std::collections::HashMap;

/// The parties of one call, in order of joining; a party whose state becomes `Null` leaves.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parties(Vec<(String, ConnectionState)>);

impl Parties {
    pub fn set(&mut self, device: &str, state: ConnectionState) {
        match self.0.iter_mut().find(|(d, _)| d == device) {
            Some(p) => p.1 = state,
            None if state != ConnectionState::Null => self.0.push((device.to_string(), state)),
            None => {}
        }
        self.0.retain(|(_, s)| *s != ConnectionState::Null);
    }

    pub fn state(&self, device: &str) -> Option<ConnectionState> {
        self.0.iter().find(|(d, _)| d == device).map(|(_, s)| *s)
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (String, ConnectionState)> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a Parties {
    type Item = &'a (String, ConnectionState);
    type IntoIter = std::slice::Iter<'a, (String, ConnectionState)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A dialect's per-call state, seen through its parties.
pub trait HasParties {
    fn parties(&self) -> &Parties;
    fn parties_mut(&mut self) -> &mut Parties;
}

/// After a snapshot of `device` that listed the calls `listed`: the device is forgotten in
/// every other call it was in (it ended while we could not see it), and a call left with no
/// monitored party is dropped from the table.
pub fn forget_unlisted<C: HasParties>(
    calls: &mut HashMap<String, C>,
    device: &str,
    listed: &[&str],
    monitored: impl Fn(&str) -> bool,
) {
    let gone: Vec<String> = calls
        .iter()
        .filter(|(k, c)| !listed.contains(&k.as_str()) && c.parties().state(device).is_some())
        .map(|(k, _)| k.clone())
        .collect();
    for k in gone {
        if let Some(c) = calls.get_mut(&k) {
            let parties = c.parties_mut();
            parties.set(device, ConnectionState::Null);
            if parties.iter().all(|(d, _)| !monitored(d)) {
                calls.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionState as S;

    struct Call(Parties);
    impl HasParties for Call {
        fn parties(&self) -> &Parties {
            &self.0
        }
        fn parties_mut(&mut self) -> &mut Parties {
            &mut self.0
        }
    }

    #[test]
    fn parties_join_change_and_leave() {
        let mut p = Parties::default();
        p.set("24101", S::Alerting);
        p.set("0612", S::Connected);
        p.set("24101", S::Connected);
        assert_eq!(p.state("24101"), Some(S::Connected));
        p.set("24101", S::Null);
        assert_eq!(p.state("24101"), None);
        p.set("24102", S::Null);
        assert_eq!(
            p.iter().count(),
            1,
            "a party that never joined does not appear by leaving"
        );
    }

    #[test]
    fn a_snapshot_forgets_the_device_in_calls_it_no_longer_lists() {
        let mut calls = HashMap::new();
        for (k, parties) in [
            ("a", vec!["24101", "0612"]),
            ("b", vec!["24101", "24102"]),
            ("c", vec!["24101"]),
        ] {
            let mut p = Parties::default();
            for d in parties {
                p.set(d, S::Connected);
            }
            calls.insert(k.to_string(), Call(p));
        }
        let monitored = |d: &str| d == "24101" || d == "24102";
        forget_unlisted(&mut calls, "24101", &["c"], monitored);
        // a: only the outside party is left: dropped; b: 24102 still monitored: kept; c: listed
        let mut keys: Vec<&str> = calls.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, vec!["b", "c"]);
        assert_eq!(calls.get_mut("b").unwrap().0.state("24101"), None);
        assert_eq!(
            calls.get_mut("c").unwrap().0.state("24101"),
            Some(S::Connected)
        );
    }
}
