//! The normalised, PBX-neutral call model: devices, calls, connections, parties, agents, and
//! the events and commands that pass between the engine and the PBX adapters.
//!
//! Adapters translate their wire protocol into [`PbxEvent`]s and execute [`PbxCommand`]s; the
//! engine owns every [`Call`], [`Device`] and [`Agent`]; the API serialises them. Nothing here
//! knows about a particular PBX.

mod agent;
mod call;
mod command;
mod device;
mod dialplan;
mod event;
mod ids;
mod link;

pub use agent::{Agent, AgentState};
pub use call::{Call, Cause, Connection, ConnectionState, Direction, Party};
pub use command::{Command, CommandError, CommandOutcome, ErrorCode, PbxCommand};
pub use device::{Device, Forward, ForwardKind, Presence};
pub use dialplan::{DialPlan, DialPlanError};
pub use event::{CallEvent, CallEventKind, ConnectionUpdate, LinkState, PbxEvent, SnapshotCall};
pub use ids::{CallId, CallRef, DeviceId, LinkId};
pub use link::{Link, LinkStatus};
