//! PBX adapters, one per dialect: each owns its link (connect, associate or log in, keep
//! alive, monitor, reconnect with backoff, resynchronise by snapshot), maps its PDUs to model
//! [`PbxEvent`](crate::model::PbxEvent)s and executes [`PbxCommand`](crate::model::PbxCommand)s.
//!
//! The contract every adapter keeps with the engine:
//! - it reports `PbxEvent::Link` on every change (`Connecting`, `Up`, `Down { reason }`),
//!   `PbxEvent::Monitor` for every configured device after each (re)connect (the error names
//!   the PBX's cause, e.g. `overallMonitorLimitExceeded`), and then a `PbxEvent::Snapshot` per
//!   device so the engine clears calls that ended while the link was down;
//! - every `AdapterRequest` gets exactly one `PbxEvent::CommandResult` with its token:
//!   success, or a `CommandError` whose code is stable and whose message names the PBX's
//!   cause; a command the dialect or device cannot do is `ErrorCode::NotSupported`;
//! - it never blocks its socket reader on the engine for long (Asterisk drops slow readers):
//!   the engine's input queue is deep, and the adapter reads into its own buffer;
//! - logs carry the link, the device and the PBX call id in their span or fields.
//!
//! The sans-IO part of each adapter (PDU → events) also implements
//! [`Replayer`](crate::tools::replay::Replayer) so `ctigw replay` and the fixture tests run
//! captures through exactly the code the live link uses.

pub mod asterisk;
pub mod backoff;
pub mod csta_xml;
pub mod oxe;
