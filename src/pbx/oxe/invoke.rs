//! ROSE invokeIDs for our requests: unique among the outstanding ones, each with a deadline,
//! matched to its ReturnResult / ReturnError / Reject, and what each one was for.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Why we sent an invoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    Monitor {
        device: String,
    },
    /// Resynchronisation after (re)connect (`token: None`) or a `PbxCommand::Snapshot`.
    Snapshot {
        device: String,
        token: Option<u64>,
    },
    /// One of the invokes of an engine command (`op` names the CSTA service).
    Command {
        token: u64,
        op: &'static str,
        device: String,
    },
    KeepAlive,
}

#[derive(Debug, Clone)]
pub struct Outstanding {
    pub purpose: Purpose,
    pub deadline: Instant,
}

/// The outstanding invokes of one association.
#[derive(Debug)]
pub struct Invokes {
    next: i64,
    max: i64,
    outstanding: HashMap<i64, Outstanding>,
}

impl Default for Invokes {
    fn default() -> Self {
        Invokes::new(32_767)
    }
}

impl Invokes {
    /// IDs run from 1 to `max` and wrap (OXE's own IDs are 2-byte INTEGERs: stay positive).
    pub fn new(max: i64) -> Self {
        Invokes {
            next: 0,
            max: max.max(1),
            outstanding: HashMap::new(),
        }
    }

    /// A fresh ID not outstanding, or `None` when every ID is in use.
    pub fn allocate(&mut self, purpose: Purpose, now: Instant, timeout: Duration) -> Option<i64> {
        if self.outstanding.len() as i64 >= self.max {
            return None;
        }
        loop {
            self.next = if self.next >= self.max {
                1
            } else {
                self.next + 1
            };
            if !self.outstanding.contains_key(&self.next) {
                break;
            }
        }
        self.outstanding.insert(
            self.next,
            Outstanding {
                purpose,
                deadline: now + timeout,
            },
        );
        Some(self.next)
    }

    /// The answer to `id` arrived: what it was for (`None`: not ours, or already timed out).
    pub fn complete(&mut self, id: i64) -> Option<Outstanding> {
        self.outstanding.remove(&id)
    }

    /// Removes and returns the invokes whose deadline has passed.
    pub fn expired(&mut self, now: Instant) -> Vec<(i64, Outstanding)> {
        let ids: Vec<i64> = self
            .outstanding
            .iter()
            .filter(|(_, o)| o.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        let mut v: Vec<(i64, Outstanding)> = ids
            .into_iter()
            .filter_map(|id| self.outstanding.remove(&id).map(|o| (id, o)))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// Everything outstanding (the link went down): removed and returned.
    pub fn drain(&mut self) -> Vec<(i64, Outstanding)> {
        let mut v: Vec<(i64, Outstanding)> = self.outstanding.drain().collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.outstanding.values().map(|o| o.deadline).min()
    }

    pub fn len(&self) -> usize {
        self.outstanding.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outstanding.is_empty()
    }

    pub fn has_keep_alive(&self) -> bool {
        self.outstanding
            .values()
            .any(|o| o.purpose == Purpose::KeepAlive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_unique_among_outstanding_and_wrap() {
        let now = Instant::now();
        let t = Duration::from_secs(1);
        let mut inv = Invokes::new(3);
        let a = inv.allocate(Purpose::KeepAlive, now, t).unwrap();
        let b = inv.allocate(Purpose::KeepAlive, now, t).unwrap();
        let c = inv.allocate(Purpose::KeepAlive, now, t).unwrap();
        assert_eq!((a, b, c), (1, 2, 3));
        assert!(inv.allocate(Purpose::KeepAlive, now, t).is_none());
        inv.complete(2);
        assert_eq!(inv.allocate(Purpose::KeepAlive, now, t), Some(2));
    }

    #[test]
    fn expiry_and_completion() {
        let now = Instant::now();
        let mut inv = Invokes::default();
        let a = inv
            .allocate(Purpose::KeepAlive, now, Duration::from_millis(10))
            .unwrap();
        let b = inv
            .allocate(
                Purpose::Monitor {
                    device: "24103".into(),
                },
                now,
                Duration::from_secs(10),
            )
            .unwrap();
        let gone = inv.expired(now + Duration::from_millis(20));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].0, a);
        assert!(inv.complete(a).is_none(), "a timed-out id is not matched");
        assert!(inv.complete(b).is_some());
        assert!(inv.is_empty());
    }
}
