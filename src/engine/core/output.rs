//! What the engine produces: the numbered API events, the snapshot a client holds, command
//! replies, and the outputs the driver must deliver after feeding the engine.

use super::Engine;
use super::rainbow::ApiCalls;
use crate::model::{Agent, Call, CallId, CommandError, Device, DeviceId, Link, LinkId, PbxCommand};
use serde::Serialize;
use std::sync::Arc;

/// A change the engine emits, before numbering.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ApiEvent {
    /// `call.<kind>`: the whole call after the change.
    Call {
        event: &'static str,
        #[serde(serialize_with = "super::rainbow::serialize_call")]
        call: Call,
    },
    /// `call.cleared`: the call has ended; its connections are shown `null`.
    CallCleared {
        event: &'static str,
        #[serde(serialize_with = "super::rainbow::serialize_call")]
        call: Call,
    },
    Device {
        event: &'static str,
        device: Device,
    },
    Agent {
        event: &'static str,
        agent: Agent,
    },
    Link {
        event: &'static str,
        link: Link,
    },
}

impl ApiEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ApiEvent::Call { event, .. }
            | ApiEvent::CallCleared { event, .. }
            | ApiEvent::Device { event, .. }
            | ApiEvent::Agent { event, .. }
            | ApiEvent::Link { event, .. } => event,
        }
    }
}

/// A numbered event with the devices it concerns (empty: every client).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequenced {
    pub seq: u64,
    #[serde(skip)]
    pub devices: Vec<DeviceId>,
    #[serde(flatten)]
    pub event: ApiEvent,
}

/// The whole state at one `seq`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub seq: u64,
    pub links: Vec<Link>,
    pub devices: Vec<Device>,
    #[serde(serialize_with = "super::rainbow::serialize_calls")]
    pub calls: Vec<Call>,
    pub agents: Vec<Agent>,
}

impl Snapshot {
    /// What a client following all devices holds after applying `ev` (the API contract; used
    /// by tests and by the Rainbow bridge side to mirror state).
    pub fn apply(&mut self, ev: &Sequenced) {
        self.seq = ev.seq;
        match &ev.event {
            ApiEvent::Call { call, .. } => match self.calls.iter_mut().find(|c| c.id == call.id) {
                Some(c) => *c = call.clone(),
                None => self.calls.push(call.clone()),
            },
            ApiEvent::CallCleared { call, .. } => self.calls.retain(|c| c.id != call.id),
            ApiEvent::Device { device, .. } => {
                match self.devices.iter_mut().find(|d| d.id == device.id) {
                    Some(d) => *d = device.clone(),
                    None => self.devices.push(device.clone()),
                }
            }
            ApiEvent::Agent { agent, .. } => {
                match self.agents.iter_mut().find(|a| a.device == agent.device) {
                    Some(a) => *a = agent.clone(),
                    None => self.agents.push(agent.clone()),
                }
            }
            ApiEvent::Link { link, .. } => match self.links.iter_mut().find(|l| l.id == link.id) {
                Some(l) => *l = link.clone(),
                None => self.links.push(link.clone()),
            },
        }
    }

    /// The calls as the API sends them (each monitored leg with its Rainbow status).
    pub fn api_calls(&self) -> ApiCalls<'_> {
        ApiCalls(&self.calls)
    }

    /// Sorted copy, for comparing two snapshots regardless of order.
    pub fn normalised(&self) -> Snapshot {
        let mut s = self.clone();
        s.calls.sort_by(|a, b| a.id.cmp(&b.id));
        s.devices.sort_by(|a, b| a.id.cmp(&b.id));
        s.agents.sort_by(|a, b| a.device.cmp(&b.device));
        s.links.sort_by(|a, b| a.id.cmp(&b.id));
        s
    }
}

/// What a successful command returns to the client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandReply {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
}

/// What the driver must do after feeding the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Deliver to clients.
    Event(Arc<Sequenced>),
    /// Send a request to a link's adapter.
    Request {
        link: LinkId,
        token: u64,
        command: PbxCommand,
    },
    /// A command has ended (exactly once per token).
    Done {
        token: u64,
        result: Result<CommandReply, CommandError>,
    },
}

impl Engine {
    /// Numbers an event and queues it for the clients of `devices` (empty: every client).
    pub(super) fn emit(&mut self, event: ApiEvent, devices: Vec<DeviceId>) {
        self.seq += 1;
        self.counters.api_events += 1;
        self.out.push(Output::Event(Arc::new(Sequenced {
            seq: self.seq,
            devices,
            event,
        })));
    }
}
