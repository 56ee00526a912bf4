//! Per-device fan-out: the engine task hands each numbered event only to the sessions that
//! follow one of its devices (or every device), as one pre-serialised frame shared by all of
//! them, through a small bounded queue per session.
//!
//! A session wakes only when its own queue goes from empty to non-empty and then takes
//! everything queued at once, so a busy session writes batches. The slow-client rule is per
//! queue and counts both events and time: a queue longer than `lag_events` whose oldest event
//! has waited more than `lag_time` is cut off, and so is one that reaches `hard_events`
//! whatever its age, so a brief scheduling gap never closes a healthy client and memory stays
//! bounded for one that stopped reading.

use super::{Delivered, DeviceFilter};
use crate::model::DeviceId;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// Why a feed stopped delivering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The session fell too far behind: its queue was dropped.
    #[error("too slow: {behind} events queued, the oldest waiting {waited_ms} ms")]
    Lagged { behind: usize, waited_ms: u64 },
    /// The engine has stopped.
    #[error("the engine has stopped")]
    Closed,
}

/// The lag rule of one session queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LagRule {
    pub lag_events: usize,
    pub lag_time: Duration,
    pub hard_events: usize,
}

struct State {
    items: VecDeque<Arc<Delivered>>,
    /// The highest seq queued: an event reaching the session through two of its devices is
    /// queued once.
    last_pushed: u64,
    end: Option<FeedError>,
    /// The receiving side is gone.
    dropped: bool,
}

/// One session's queue, shared by the engine (pushing) and the session (taking).
pub(crate) struct Queue {
    state: Mutex<State>,
    notify: Notify,
    rule: LagRule,
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
enum Pushed {
    Queued,
    /// The session is gone or cut off: forget it.
    Gone,
}

impl Queue {
    fn new(rule: LagRule, after_seq: u64) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                last_pushed: after_seq,
                end: None,
                dropped: false,
            }),
            notify: Notify::new(),
            rule,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn push(&self, d: &Arc<Delivered>) -> Pushed {
        let mut st = self.lock();
        if st.dropped || st.end.is_some() {
            return Pushed::Gone;
        }
        if d.event.seq <= st.last_pushed {
            return Pushed::Queued;
        }
        let len = st.items.len();
        if len >= self.rule.lag_events {
            let waited = st
                .items
                .front()
                .map(|f| d.at.saturating_duration_since(f.at))
                .unwrap_or_default();
            if len >= self.rule.hard_events || waited > self.rule.lag_time {
                st.items = VecDeque::new();
                st.end = Some(FeedError::Lagged {
                    behind: len + 1,
                    waited_ms: waited.as_millis() as u64,
                });
                drop(st);
                self.notify.notify_one();
                return Pushed::Gone;
            }
        }
        st.last_pushed = d.event.seq;
        st.items.push_back(d.clone());
        drop(st);
        if len == 0 {
            self.notify.notify_one();
        }
        Pushed::Queued
    }

    fn close(&self) {
        let mut st = self.lock();
        if st.end.is_none() {
            st.end = Some(FeedError::Closed);
        }
        drop(st);
        self.notify.notify_one();
    }

    fn is_dropped(&self) -> bool {
        self.lock().dropped
    }
}

/// The session side of a queue.
pub struct FeedRx {
    q: Arc<Queue>,
    /// Events taken but not yet handed out by [`FeedRx::recv`].
    pending: VecDeque<Arc<Delivered>>,
}

impl FeedRx {
    /// Waits until at least one event is queued, then moves every queued event into `out`.
    pub async fn recv_batch(&mut self, out: &mut Vec<Arc<Delivered>>) -> Result<(), FeedError> {
        if !self.pending.is_empty() {
            out.extend(self.pending.drain(..));
            return Ok(());
        }
        loop {
            {
                let mut st = self.q.lock();
                if !st.items.is_empty() {
                    out.extend(st.items.drain(..));
                    return Ok(());
                }
                if let Some(e) = &st.end {
                    return Err(e.clone());
                }
            }
            self.q.notify.notified().await;
        }
    }

    /// The next event, one at a time.
    pub async fn recv(&mut self) -> Result<Arc<Delivered>, FeedError> {
        if let Some(d) = self.pending.pop_front() {
            return Ok(d);
        }
        let mut batch = Vec::new();
        self.recv_batch(&mut batch).await?;
        self.pending.extend(batch);
        self.pending.pop_front().ok_or(FeedError::Closed)
    }
}

impl Drop for FeedRx {
    fn drop(&mut self) {
        let mut st = self.q.lock();
        st.dropped = true;
        st.items = VecDeque::new();
    }
}

type Entry = (u64, Arc<Queue>);

/// Which sessions follow which devices. Lives in the engine task.
pub(crate) struct Router {
    rule: LagRule,
    /// Every registered session with what it follows.
    sessions: HashMap<u64, (Arc<Queue>, DeviceFilter)>,
    /// Sessions following every device.
    all: Vec<Entry>,
    /// Sessions following a set of devices, by device.
    by_device: HashMap<DeviceId, Vec<Entry>>,
    next_id: u64,
}

impl Router {
    pub(crate) fn new(rule: LagRule) -> Self {
        Router {
            rule,
            sessions: HashMap::new(),
            all: Vec::new(),
            by_device: HashMap::new(),
            next_id: 1,
        }
    }

    /// Registers a new session following `filter`, getting the events after `after_seq`.
    pub(crate) fn register(&mut self, filter: DeviceFilter, after_seq: u64) -> FeedRx {
        let id = self.next_id;
        self.next_id += 1;
        let q = Arc::new(Queue::new(self.rule, after_seq));
        match &filter {
            DeviceFilter::All => {
                self.all.retain(|(_, q)| !q.is_dropped());
                self.all.push((id, q.clone()));
            }
            DeviceFilter::Only(set) => {
                for d in set {
                    let list = self.by_device.entry(d.clone()).or_default();
                    list.retain(|(_, q)| !q.is_dropped());
                    list.push((id, q.clone()));
                }
            }
        }
        self.sessions.insert(id, (q.clone(), filter));
        FeedRx {
            q,
            pending: VecDeque::new(),
        }
    }

    /// How many sessions are registered (dropped ones included until they are noticed).
    pub(crate) fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Hands `d` to every session it concerns.
    pub(crate) fn deliver(&mut self, d: &Arc<Delivered>) {
        let mut gone = Vec::new();
        if d.event.devices.is_empty() {
            for (id, (q, _)) in &self.sessions {
                if q.push(d) == Pushed::Gone {
                    gone.push(*id);
                }
            }
        } else {
            for (id, q) in &self.all {
                if q.push(d) == Pushed::Gone {
                    gone.push(*id);
                }
            }
            for dev in &d.event.devices {
                if let Some(list) = self.by_device.get(dev) {
                    for (id, q) in list {
                        if q.push(d) == Pushed::Gone {
                            gone.push(*id);
                        }
                    }
                }
            }
        }
        for id in gone {
            self.remove(id);
        }
    }

    fn remove(&mut self, id: u64) {
        let Some((_, filter)) = self.sessions.remove(&id) else {
            return;
        };
        match filter {
            DeviceFilter::All => self.all.retain(|(i, _)| *i != id),
            DeviceFilter::Only(set) => {
                for d in set {
                    if let Some(list) = self.by_device.get_mut(&d) {
                        list.retain(|(i, _)| *i != id);
                        if list.is_empty() {
                            self.by_device.remove(&d);
                        }
                    }
                }
            }
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        for (q, _) in self.sessions.values() {
            q.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ApiEvent, Sequenced};
    use std::collections::HashSet;
    use std::time::Instant;

    fn ev(seq: u64, devices: &[&str], at: Instant) -> Arc<Delivered> {
        let s = Sequenced {
            seq,
            devices: devices.iter().map(|d| DeviceId::new(d)).collect(),
            event: ApiEvent::Link {
                event: "link.up",
                link: crate::model::Link {
                    id: crate::model::LinkId::new("l"),
                    dialect: "sim".into(),
                    status: crate::model::LinkStatus::Up,
                    since: 0,
                    reason: None,
                },
            },
        };
        Arc::new(Delivered::at(Arc::new(s), at))
    }

    fn only(devs: &[&str]) -> DeviceFilter {
        DeviceFilter::Only(
            devs.iter()
                .map(|d| DeviceId::new(d))
                .collect::<HashSet<_>>(),
        )
    }

    const RULE: LagRule = LagRule {
        lag_events: 4,
        lag_time: Duration::from_millis(500),
        hard_events: 8,
    };

    fn take(rx: &mut FeedRx) -> Result<Vec<u64>, FeedError> {
        let mut out = Vec::new();
        let r = futures_util::FutureExt::now_or_never(rx.recv_batch(&mut out));
        match r {
            None => Ok(Vec::new()),
            Some(Ok(())) => Ok(out.iter().map(|d| d.event.seq).collect()),
            Some(Err(e)) => Err(e),
        }
    }

    #[test]
    fn each_session_gets_only_its_devices_and_broadcasts_once() {
        let mut r = Router::new(RULE);
        let mut a = r.register(only(&["1", "2"]), 0);
        let mut b = r.register(only(&["3"]), 0);
        let mut all = r.register(DeviceFilter::All, 0);
        let t = Instant::now();
        r.deliver(&ev(1, &["1"], t));
        r.deliver(&ev(2, &["3"], t));
        // concerns both of a's devices: queued once
        r.deliver(&ev(3, &["1", "2"], t));
        // no device: everyone
        r.deliver(&ev(4, &[], t));
        assert_eq!(take(&mut a).unwrap(), vec![1, 3, 4]);
        assert_eq!(take(&mut b).unwrap(), vec![2, 4]);
        assert_eq!(take(&mut all).unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(take(&mut a).unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn a_brief_gap_is_tolerated_a_long_one_or_a_full_queue_is_not() {
        let mut r = Router::new(RULE);
        let mut rx = r.register(DeviceFilter::All, 0);
        let t = Instant::now();
        // 6 events within the lag time: over lag_events but young, kept
        for s in 1..=6 {
            r.deliver(&ev(s, &["1"], t + Duration::from_millis(s)));
        }
        assert_eq!(take(&mut rx).unwrap(), vec![1, 2, 3, 4, 5, 6]);
        // the same again, but the seventh comes after the oldest waited too long
        for s in 7..=12 {
            r.deliver(&ev(s, &["1"], t));
        }
        r.deliver(&ev(13, &["1"], t + Duration::from_secs(1)));
        assert!(matches!(take(&mut rx), Err(FeedError::Lagged { .. })));
        assert_eq!(r.sessions(), 0, "the lagging session is forgotten");

        let mut rx = r.register(DeviceFilter::All, 13);
        for s in 14..=30 {
            r.deliver(&ev(s, &["1"], t + Duration::from_secs(1)));
        }
        assert_eq!(
            take(&mut rx),
            Err(FeedError::Lagged {
                behind: 9,
                waited_ms: 0
            })
        );
    }

    #[test]
    fn dropped_sessions_are_forgotten_and_a_stopped_router_closes_feeds() {
        let mut r = Router::new(RULE);
        let a = r.register(only(&["1"]), 0);
        let mut b = r.register(only(&["1"]), 0);
        drop(a);
        r.deliver(&ev(1, &["1"], Instant::now()));
        assert_eq!(r.sessions(), 1);
        assert_eq!(take(&mut b).unwrap(), vec![1]);
        drop(r);
        assert_eq!(take(&mut b), Err(FeedError::Closed));
    }
}
