//! The timer-384 blocked agent in the engine (PROTOCOLS.md section 2): the same CCD call with
//! the PBX freeing the agent at once (timer 384 = 0), and leaving the agent's leg up (timer
//! 384 > 0), released by the agent hanging up or by the gateway after its grace period.

use ctigw::engine::{ApiEvent, Engine, EngineConfig, Output};
use ctigw::model::*;
use std::time::{Duration, Instant};

const AGENT: &str = "24150";
const CALLER: &str = "00612345678";

struct H {
    e: Engine,
    link: LinkId,
    now: Instant,
    events: Vec<(String, Option<Agent>)>,
    requests: Vec<(u64, PbxCommand)>,
}

impl H {
    fn new(release: Option<Duration>) -> H {
        let cfg = EngineConfig {
            blocked_release_after: release,
            blocked_settle: Duration::from_secs(2),
            ..EngineConfig::default()
        };
        let mut e = Engine::new(cfg);
        let link = LinkId::new("oxe1");
        e.add_link(link.clone(), "oxe", &[(DeviceId::new(AGENT), None)]);
        let mut h = H {
            e,
            link,
            now: Instant::now(),
            events: vec![],
            requests: vec![],
        };
        h.pbx(PbxEvent::Link(LinkState::Up));
        h.pbx(PbxEvent::Monitor {
            device: DeviceId::new(AGENT),
            result: Ok(()),
        });
        h.pbx(PbxEvent::Agent {
            device: DeviceId::new(AGENT),
            agent_id: "4001".into(),
            state: AgentState::Ready,
            reason: None,
        });
        // a distributed call: the caller is connected to the agent
        let ev = CallEvent::new("2c01", CallEventKind::Established)
            .with(CALLER, ConnectionState::Connected)
            .with(AGENT, ConnectionState::Connected)
            .parties(Some(CALLER), Some(AGENT));
        h.pbx(PbxEvent::Call(ev));
        h
    }

    fn pbx(&mut self, ev: PbxEvent) {
        self.e.on_pbx_event(&self.link, ev, self.now);
        self.drain();
    }

    fn wait(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.e.tick(self.now);
        self.drain();
    }

    fn drain(&mut self) {
        for o in self.e.drain().collect::<Vec<_>>() {
            match o {
                Output::Event(ev) => {
                    let agent = match &ev.event {
                        ApiEvent::Agent { agent, .. } => Some(agent.clone()),
                        _ => None,
                    };
                    self.events.push((ev.event.name().to_string(), agent));
                }
                Output::Request { token, command, .. } => self.requests.push((token, command)),
                Output::Done { .. } => {}
            }
        }
    }

    fn agent_state(&self) -> AgentState {
        self.e
            .snapshot()
            .agents
            .iter()
            .find(|a| a.device.as_str() == AGENT)
            .map(|a| a.state)
            .expect("agent")
    }

    fn cleared(&mut self, device: &str) {
        let ev = CallEvent::new("2c01", CallEventKind::ConnectionCleared)
            .with(device, ConnectionState::Null)
            .cause("normalClearing");
        self.pbx(PbxEvent::Call(ev));
    }

    fn names(&self) -> Vec<&str> {
        self.events.iter().map(|(n, _)| n.as_str()).collect()
    }
}

#[test]
fn timer_384_zero_frees_the_agent_at_once_and_nothing_is_shown() {
    let mut h = H::new(Some(Duration::from_secs(10)));
    h.cleared(CALLER);
    h.cleared(AGENT);
    h.wait(30);
    assert!(!h.names().contains(&"agent.blocked"), "{:?}", h.names());
    assert_eq!(h.agent_state(), AgentState::Ready);
    assert!(
        h.requests.is_empty(),
        "no snapshot, no release: {:?}",
        h.requests
    );
    assert_eq!(h.e.counters.agents_blocked, 0);
    assert!(h.e.snapshot().calls.is_empty());
}

#[test]
fn timer_384_positive_blocks_until_the_agent_hangs_up() {
    let mut h = H::new(None);
    h.cleared(CALLER);
    h.wait(1);
    assert_eq!(
        h.agent_state(),
        AgentState::Ready,
        "not yet: still within the settle time"
    );
    h.wait(2);
    assert_eq!(h.agent_state(), AgentState::Blocked);
    let blocked = h
        .events
        .iter()
        .find(|(n, _)| n == "agent.blocked")
        .and_then(|(_, a)| a.clone())
        .expect("agent.blocked event");
    assert!(
        blocked
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("timer 384")
    );
    // confirmed by a snapshot of the agent's device
    assert!(
        matches!(&h.requests[..], [(_, PbxCommand::Snapshot { device })] if device.as_str() == AGENT),
        "{:?}",
        h.requests
    );
    let snap = SnapshotCall {
        call: "2c01".into(),
        connections: vec![ConnectionUpdate {
            device: DeviceId::new(AGENT),
            state: ConnectionState::Connected,
        }],
    };
    h.pbx(PbxEvent::Snapshot {
        device: DeviceId::new(AGENT),
        calls: vec![snap],
    });
    assert_eq!(
        h.agent_state(),
        AgentState::Blocked,
        "the snapshot confirms the leg is still up"
    );
    // no grace configured: the gateway never releases on its own
    h.wait(600);
    assert_eq!(h.requests.len(), 1);
    assert_eq!(h.e.blocked_agents(), 1);
    // the agent hangs up: free again, back to the state before
    h.cleared(AGENT);
    assert_eq!(h.agent_state(), AgentState::Ready);
    assert_eq!(h.e.blocked_agents(), 0);
    assert_eq!(h.e.counters.agents_blocked, 1);
    assert_eq!(h.e.counters.agents_blocked_released, 0);
}

#[test]
fn timer_384_positive_released_by_the_gateway_after_the_grace_period() {
    let mut h = H::new(Some(Duration::from_secs(8)));
    h.cleared(CALLER);
    h.wait(3);
    assert_eq!(h.agent_state(), AgentState::Blocked);
    h.wait(5);
    assert!(!h.names().contains(&"agent.released"), "grace not over yet");
    h.wait(4);
    let released = h
        .events
        .iter()
        .find(|(n, _)| n == "agent.released")
        .and_then(|(_, a)| a.clone())
        .expect("agent.released");
    assert!(
        released
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("released by ctigw"),
        "{released:?}"
    );
    let hangup = h.requests.iter().find_map(|(_, c)| match c {
        PbxCommand::Hangup { device, call } => Some((device.clone(), call.clone())),
        _ => None,
    });
    let (device, call) = hangup.expect("a ClearConnection on the agent's own leg");
    assert_eq!(device.as_str(), AGENT);
    assert_eq!(&*call.pbx, "2c01");
    assert_eq!(h.e.counters.agents_blocked_released, 1);
    // the PBX clears the leg: the agent is free and the call gone
    h.cleared(AGENT);
    assert_eq!(h.agent_state(), AgentState::Ready);
    assert!(h.e.snapshot().calls.is_empty());
    // only once
    h.wait(60);
    assert_eq!(
        h.names().iter().filter(|n| **n == "agent.released").count(),
        1
    );
}

#[test]
fn a_snapshot_without_the_call_frees_the_agent() {
    let mut h = H::new(Some(Duration::from_secs(60)));
    h.cleared(CALLER);
    h.wait(3);
    assert_eq!(h.agent_state(), AgentState::Blocked);
    h.pbx(PbxEvent::Snapshot {
        device: DeviceId::new(AGENT),
        calls: vec![],
    });
    assert_eq!(h.agent_state(), AgentState::Ready);
    assert!(h.e.snapshot().calls.is_empty());
    h.wait(120);
    assert!(
        !h.requests
            .iter()
            .any(|(_, c)| matches!(c, PbxCommand::Hangup { .. })),
        "nothing to release any more"
    );
}

#[test]
fn a_non_agent_device_left_alone_is_not_blocked() {
    let mut h = H::new(Some(Duration::from_secs(5)));
    // the agent logs off: a plain extension now
    h.pbx(PbxEvent::Agent {
        device: DeviceId::new(AGENT),
        agent_id: "4001".into(),
        state: AgentState::LoggedOff,
        reason: None,
    });
    h.cleared(CALLER);
    h.wait(30);
    assert_eq!(h.e.counters.agents_blocked, 0);
}
