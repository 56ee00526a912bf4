//! CSTA Phase II event reports (operation 21, cSTAEventReport): the call-control events with
//! their Phase II tags, the device feature and agent events, the maintenance events, and the
//! report that carries them (crossRefIdentifier, event, OXE's `[APPLICATION 30]` block).
//!
//! Tag sources: callControlEvents `[0]` with callCleared 0 .. transferred 13 (ECMA-218; every
//! real OXE capture agrees). featureEvents `[1]` with callInformation 0, doNotDisturb 1,
//! forwarding 2, messageWaiting 3, loggedOn 4, loggedOff 5, notReady 6, ready 7,
//! workNotReady 8, workReady 9, and maintenanceEvents `[2]` with backInService 0,
//! outOfService 1: the ECMA-180/218 CHOICE order (same order as the event lists in Avaya's
//! published CSTA headers and `Net::CSTA::ASN`); not yet confirmed by an OXE capture.
//! Field lists follow ECMA-218 as carried by `Net::CSTA::ASN`; Originated's callingDevice is
//! a CallingDeviceID (`[APPLICATION 1]`) as the OXE capture shows.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::ber::{PduError, Result, Tag, Tlv, Writer};
use super::common::{Digits, Field, RawTlv, sequence_type};
use super::private_data::PrivateData;
use super::types::*;
use serde::Serialize;

sequence_type! {
    /// callCleared `[0]`.
    CallClearedEvent = "callCleared" {
        cleared_call: ConnectionId = "clearedCall", req;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// conferenced `[1]`.
    ConferencedEvent = "conferenced" {
        primary_old_call: ConnectionId = "primaryOldCall", req;
        secondary_old_call: ConnectionId = "secondaryOldCall", opt;
        conferencing_device: SubjectDeviceId = "conferencingDevice", opt;
        added_party: SubjectDeviceId = "addedParty", opt;
        conference_connections: ConnectionList = "conferenceConnections", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// connectionCleared `[2]`.
    ConnectionClearedEvent = "connectionCleared" {
        dropped_connection: ConnectionId = "droppedConnection", req;
        releasing_device: SubjectDeviceId = "releasingDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// delivered `[3]`.
    DeliveredEvent = "delivered" {
        connection: ConnectionId = "connection", req;
        alerting_device: SubjectDeviceId = "alertingDevice", opt;
        calling_device: CallingDeviceId = "callingDevice", opt;
        called_device: CalledDeviceId = "calledDevice", opt;
        last_redirection_device: RedirectionDeviceId = "lastRedirectionDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// diverted `[4]`. The standard carries newDestination as a CalledDeviceID
    /// (`[APPLICATION 2]`); the OXE sends it as a second SubjectDeviceID (`[APPLICATION 3]`,
    /// both Diverted frames in `fixtures/real/oxe-public/`), kept in
    /// `new_destination_subject` so it re-encodes as received. [`DivertedEvent::destination`]
    /// gives whichever came.
    DivertedEvent = "diverted" {
        connection: ConnectionId = "connection", opt;
        diverting_device: SubjectDeviceId = "divertingDevice", opt;
        new_destination: CalledDeviceId = "newDestination", opt;
        new_destination_subject: SubjectDeviceId = "newDestinationSubjectId", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}

impl DivertedEvent {
    /// The device the call was diverted to, in either of the forms above.
    pub fn destination(&self) -> Option<&DeviceRef> {
        self.new_destination
            .as_ref()
            .map(|d| &d.0)
            .or_else(|| self.new_destination_subject.as_ref().map(|d| &d.0))
    }

    /// The new destination's number, when it carries one.
    pub fn destination_digits(&self) -> Option<&Digits> {
        match self.destination()? {
            DeviceRef::DeviceIdentifier(d) => d.digits(),
            _ => None,
        }
    }
}
sequence_type! {
    /// established `[5]`.
    EstablishedEvent = "established" {
        established_connection: ConnectionId = "establishedConnection", req;
        answering_device: SubjectDeviceId = "answeringDevice", opt;
        calling_device: CallingDeviceId = "callingDevice", opt;
        called_device: CalledDeviceId = "calledDevice", opt;
        last_redirection_device: RedirectionDeviceId = "lastRedirectionDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// failed `[6]`.
    FailedEvent = "failed" {
        failed_connection: ConnectionId = "failedConnection", req;
        failing_device: SubjectDeviceId = "failingDevice", opt;
        called_device: CalledDeviceId = "calledDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// held `[7]`.
    HeldEvent = "held" {
        held_connection: ConnectionId = "heldConnection", req;
        holding_device: SubjectDeviceId = "holdingDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// networkReached `[8]`.
    NetworkReachedEvent = "networkReached" {
        connection: ConnectionId = "connection", req;
        trunk_used: SubjectDeviceId = "trunkUsed", opt;
        called_device: CalledDeviceId = "calledDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// originated `[9]`.
    OriginatedEvent = "originated" {
        originated_connection: ConnectionId = "originatedConnection", req;
        calling_device: CallingDeviceId = "callingDevice", opt;
        called_device: CalledDeviceId = "calledDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// queued `[10]`.
    QueuedEvent = "queued" {
        queued_connection: ConnectionId = "queuedConnection", req;
        queue: SubjectDeviceId = "queue", opt;
        calling_device: CallingDeviceId = "callingDevice", opt;
        called_device: CalledDeviceId = "calledDevice", opt;
        last_redirection_device: RedirectionDeviceId = "lastRedirectionDevice", opt;
        number_queued: i64 = "numberQueued", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// retrieved `[11]`.
    RetrievedEvent = "retrieved" {
        retrieved_connection: ConnectionId = "retrievedConnection", req;
        retrieving_device: SubjectDeviceId = "retrievingDevice", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// serviceInitiated `[12]`.
    ServiceInitiatedEvent = "serviceInitiated" {
        initiated_connection: ConnectionId = "initiatedConnection", req;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// transferred `[13]`.
    TransferredEvent = "transferred" {
        primary_old_call: ConnectionId = "primaryOldCall", req;
        secondary_old_call: ConnectionId = "secondaryOldCall", opt;
        transferring_device: SubjectDeviceId = "transferringDevice", opt;
        transferred_device: SubjectDeviceId = "transferredDevice", opt;
        transferred_connections: ConnectionList = "transferredConnections", opt;
        local_connection_info: LocalConnectionState = "localConnectionInfo", opt;
        cause: EventCause = "cause", opt;
    }
}
sequence_type! {
    /// callInformation, featureEvents `[0]` (account and authorisation codes kept opaque).
    CallInformationEvent = "callInformation" {
        connection: ConnectionId = "connection", opt;
        device: SubjectDeviceId = "device", opt;
    }
}
sequence_type! {
    /// doNotDisturb, featureEvents `[1]`.
    DoNotDisturbEvent = "doNotDisturb" {
        device: SubjectDeviceId = "device", opt;
        do_not_disturb_on: bool = "doNotDisturbOn", opt;
    }
}
sequence_type! {
    /// forwarding, featureEvents `[2]`.
    ForwardingEvent = "forwarding" {
        device: SubjectDeviceId = "device", opt;
        forwarding_information: ForwardParameter = "forwardingInformation", opt;
    }
}
sequence_type! {
    /// messageWaiting, featureEvents `[3]`.
    MessageWaitingEvent = "messageWaiting" {
        device_for_message: SubjectDeviceId = "deviceForMessage", opt;
        invoking_device: SubjectDeviceId = "invokingDevice", opt;
        message_waiting_on: bool = "messageWaitingOn", opt;
    }
}
sequence_type! {
    /// Agent state events (featureEvents `[4]`..`[9]`): agentDevice, agentID `[10]`,
    /// agentGroup (a DeviceID), password `[11]` (loggedOn only).
    AgentEvent = "agentEvent" {
        agent_device: SubjectDeviceId = "agentDevice", opt;
        agent_id: AgentId = "agentID", opt;
        agent_group: DeviceId = "agentGroup", opt;
        password: AgentPassword = "password", opt;
    }
}
sequence_type! {
    /// backInService / outOfService, maintenanceEvents `[0]` / `[1]`.
    MaintenanceEvent = "maintenanceEvent" {
        device: DeviceId = "device", opt;
        subject_device: SubjectDeviceId = "subjectDevice", opt;
        cause: EventCause = "cause", opt;
    }
}

/// The event of a report, flattened over the Phase II categories.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CstaEvent {
    CallCleared(CallClearedEvent),
    Conferenced(ConferencedEvent),
    ConnectionCleared(ConnectionClearedEvent),
    Delivered(DeliveredEvent),
    Diverted(DivertedEvent),
    Established(EstablishedEvent),
    Failed(FailedEvent),
    Held(HeldEvent),
    NetworkReached(NetworkReachedEvent),
    Originated(OriginatedEvent),
    Queued(QueuedEvent),
    Retrieved(RetrievedEvent),
    ServiceInitiated(ServiceInitiatedEvent),
    Transferred(TransferredEvent),
    CallInformation(CallInformationEvent),
    DoNotDisturb(DoNotDisturbEvent),
    Forwarding(ForwardingEvent),
    MessageWaiting(MessageWaitingEvent),
    /// loggedOn, featureEvents `[4]`
    AgentLoggedOn(AgentEvent),
    /// loggedOff `[5]`
    AgentLoggedOff(AgentEvent),
    /// notReady `[6]`
    AgentNotReady(AgentEvent),
    /// ready `[7]`
    AgentReady(AgentEvent),
    /// workNotReady `[8]` (working after call)
    AgentWorkingAfterCall(AgentEvent),
    /// workReady `[9]`
    AgentWorkReady(AgentEvent),
    BackInService(MaintenanceEvent),
    OutOfService(MaintenanceEvent),
    /// An event this decoder does not know: the whole eventSpecificInfo element as received.
    Unknown(RawTlv),
}

impl CstaEvent {
    /// (category tag, event tag) on the wire; `None` for `Unknown`.
    pub fn tags(&self) -> Option<(u32, u32)> {
        use CstaEvent::*;
        Some(match self {
            CallCleared(_) => (0, 0),
            Conferenced(_) => (0, 1),
            ConnectionCleared(_) => (0, 2),
            Delivered(_) => (0, 3),
            Diverted(_) => (0, 4),
            Established(_) => (0, 5),
            Failed(_) => (0, 6),
            Held(_) => (0, 7),
            NetworkReached(_) => (0, 8),
            Originated(_) => (0, 9),
            Queued(_) => (0, 10),
            Retrieved(_) => (0, 11),
            ServiceInitiated(_) => (0, 12),
            Transferred(_) => (0, 13),
            CallInformation(_) => (1, 0),
            DoNotDisturb(_) => (1, 1),
            Forwarding(_) => (1, 2),
            MessageWaiting(_) => (1, 3),
            AgentLoggedOn(_) => (1, 4),
            AgentLoggedOff(_) => (1, 5),
            AgentNotReady(_) => (1, 6),
            AgentReady(_) => (1, 7),
            AgentWorkingAfterCall(_) => (1, 8),
            AgentWorkReady(_) => (1, 9),
            BackInService(_) => (2, 0),
            OutOfService(_) => (2, 1),
            Unknown(_) => return None,
        })
    }

    /// The ECMA name of the event (`connectionCleared`, `loggedOn`, ...).
    pub fn name(&self) -> &'static str {
        use CstaEvent::*;
        match self {
            CallCleared(_) => "callCleared",
            Conferenced(_) => "conferenced",
            ConnectionCleared(_) => "connectionCleared",
            Delivered(_) => "delivered",
            Diverted(_) => "diverted",
            Established(_) => "established",
            Failed(_) => "failed",
            Held(_) => "held",
            NetworkReached(_) => "networkReached",
            Originated(_) => "originated",
            Queued(_) => "queued",
            Retrieved(_) => "retrieved",
            ServiceInitiated(_) => "serviceInitiated",
            Transferred(_) => "transferred",
            CallInformation(_) => "callInformation",
            DoNotDisturb(_) => "doNotDisturb",
            Forwarding(_) => "forwarding",
            MessageWaiting(_) => "messageWaiting",
            AgentLoggedOn(_) => "loggedOn",
            AgentLoggedOff(_) => "loggedOff",
            AgentNotReady(_) => "notReady",
            AgentReady(_) => "ready",
            AgentWorkingAfterCall(_) => "workNotReady",
            AgentWorkReady(_) => "workReady",
            BackInService(_) => "backInService",
            OutOfService(_) => "outOfService",
            Unknown(_) => "unknown",
        }
    }

    /// The connection the event is about (the first ConnectionID of the event).
    pub fn connection(&self) -> Option<&ConnectionId> {
        use CstaEvent::*;
        match self {
            CallCleared(e) => Some(&e.cleared_call),
            Conferenced(e) => Some(&e.primary_old_call),
            ConnectionCleared(e) => Some(&e.dropped_connection),
            Delivered(e) => Some(&e.connection),
            Diverted(e) => e.connection.as_ref(),
            Established(e) => Some(&e.established_connection),
            Failed(e) => Some(&e.failed_connection),
            Held(e) => Some(&e.held_connection),
            NetworkReached(e) => Some(&e.connection),
            Originated(e) => Some(&e.originated_connection),
            Queued(e) => Some(&e.queued_connection),
            Retrieved(e) => Some(&e.retrieved_connection),
            ServiceInitiated(e) => Some(&e.initiated_connection),
            Transferred(e) => Some(&e.primary_old_call),
            CallInformation(e) => e.connection.as_ref(),
            _ => None,
        }
    }

    /// The event cause, when the event carries one.
    pub fn cause(&self) -> Option<EventCause> {
        use CstaEvent::*;
        match self {
            CallCleared(e) => e.cause,
            Conferenced(e) => e.cause,
            ConnectionCleared(e) => e.cause,
            Delivered(e) => e.cause,
            Diverted(e) => e.cause,
            Established(e) => e.cause,
            Failed(e) => e.cause,
            Held(e) => e.cause,
            NetworkReached(e) => e.cause,
            Originated(e) => e.cause,
            Queued(e) => e.cause,
            Retrieved(e) => e.cause,
            ServiceInitiated(e) => e.cause,
            Transferred(e) => e.cause,
            BackInService(e) | OutOfService(e) => e.cause,
            _ => None,
        }
    }

    /// The local connection state, when the event carries one.
    pub fn local_connection_info(&self) -> Option<LocalConnectionState> {
        use CstaEvent::*;
        match self {
            CallCleared(e) => e.local_connection_info,
            Conferenced(e) => e.local_connection_info,
            ConnectionCleared(e) => e.local_connection_info,
            Delivered(e) => e.local_connection_info,
            Diverted(e) => e.local_connection_info,
            Established(e) => e.local_connection_info,
            Failed(e) => e.local_connection_info,
            Held(e) => e.local_connection_info,
            NetworkReached(e) => e.local_connection_info,
            Originated(e) => e.local_connection_info,
            Queued(e) => e.local_connection_info,
            Retrieved(e) => e.local_connection_info,
            ServiceInitiated(e) => e.local_connection_info,
            Transferred(e) => e.local_connection_info,
            _ => None,
        }
    }

    fn decode_known(cat: u32, inner: &Tlv<'_>) -> Result<Option<Self>> {
        use CstaEvent::*;
        if inner.tag.class != super::ber::Class::Context || !inner.tag.constructed {
            return Ok(None);
        }
        let n = inner.tag.number;
        // Each alternative is an explicitly tagged SEQUENCE: `a2 1d 30 1b ...`.
        let Ok(seq) = super::common::single_inner(inner, "event") else {
            return Ok(None);
        };
        if seq.tag != Tag::SEQUENCE {
            return Ok(None);
        }
        let inner = &seq;
        let ev = match (cat, n) {
            (0, 0) => CallCleared(CallClearedEvent::decode_contents(inner)?),
            (0, 1) => Conferenced(ConferencedEvent::decode_contents(inner)?),
            (0, 2) => ConnectionCleared(ConnectionClearedEvent::decode_contents(inner)?),
            (0, 3) => Delivered(DeliveredEvent::decode_contents(inner)?),
            (0, 4) => Diverted(DivertedEvent::decode_contents(inner)?),
            (0, 5) => Established(EstablishedEvent::decode_contents(inner)?),
            (0, 6) => Failed(FailedEvent::decode_contents(inner)?),
            (0, 7) => Held(HeldEvent::decode_contents(inner)?),
            (0, 8) => NetworkReached(NetworkReachedEvent::decode_contents(inner)?),
            (0, 9) => Originated(OriginatedEvent::decode_contents(inner)?),
            (0, 10) => Queued(QueuedEvent::decode_contents(inner)?),
            (0, 11) => Retrieved(RetrievedEvent::decode_contents(inner)?),
            (0, 12) => ServiceInitiated(ServiceInitiatedEvent::decode_contents(inner)?),
            (0, 13) => Transferred(TransferredEvent::decode_contents(inner)?),
            (1, 0) => CallInformation(CallInformationEvent::decode_contents(inner)?),
            (1, 1) => DoNotDisturb(DoNotDisturbEvent::decode_contents(inner)?),
            (1, 2) => Forwarding(ForwardingEvent::decode_contents(inner)?),
            (1, 3) => MessageWaiting(MessageWaitingEvent::decode_contents(inner)?),
            (1, 4) => AgentLoggedOn(AgentEvent::decode_contents(inner)?),
            (1, 5) => AgentLoggedOff(AgentEvent::decode_contents(inner)?),
            (1, 6) => AgentNotReady(AgentEvent::decode_contents(inner)?),
            (1, 7) => AgentReady(AgentEvent::decode_contents(inner)?),
            (1, 8) => AgentWorkingAfterCall(AgentEvent::decode_contents(inner)?),
            (1, 9) => AgentWorkReady(AgentEvent::decode_contents(inner)?),
            (2, 0) => BackInService(MaintenanceEvent::decode_contents(inner)?),
            (2, 1) => OutOfService(MaintenanceEvent::decode_contents(inner)?),
            _ => return Ok(None),
        };
        Ok(Some(ev))
    }

    fn encode_body(&self, w: &mut Writer<'_>) {
        use CstaEvent::*;
        match self {
            CallCleared(e) => e.encode_contents(w),
            Conferenced(e) => e.encode_contents(w),
            ConnectionCleared(e) => e.encode_contents(w),
            Delivered(e) => e.encode_contents(w),
            Diverted(e) => e.encode_contents(w),
            Established(e) => e.encode_contents(w),
            Failed(e) => e.encode_contents(w),
            Held(e) => e.encode_contents(w),
            NetworkReached(e) => e.encode_contents(w),
            Originated(e) => e.encode_contents(w),
            Queued(e) => e.encode_contents(w),
            Retrieved(e) => e.encode_contents(w),
            ServiceInitiated(e) => e.encode_contents(w),
            Transferred(e) => e.encode_contents(w),
            CallInformation(e) => e.encode_contents(w),
            DoNotDisturb(e) => e.encode_contents(w),
            Forwarding(e) => e.encode_contents(w),
            MessageWaiting(e) => e.encode_contents(w),
            AgentLoggedOn(e)
            | AgentLoggedOff(e)
            | AgentNotReady(e)
            | AgentReady(e)
            | AgentWorkingAfterCall(e)
            | AgentWorkReady(e) => e.encode_contents(w),
            BackInService(e) | OutOfService(e) => e.encode_contents(w),
            Unknown(raw) => raw.encode(w),
        }
    }
}

impl Field for CstaEvent {
    /// Any context-specific constructed element is an eventSpecificInfo.
    fn matches(tag: Tag) -> bool {
        tag.class == super::ber::Class::Context && tag.constructed
    }

    fn decode(t: &Tlv<'_>) -> Result<Self> {
        let cat = t.tag.number;
        if cat <= 2 {
            let mut r = t.reader("eventSpecificInfo")?;
            if let Some(inner) = r.next("eventSpecificInfo")? {
                if r.is_empty() {
                    if let Some(ev) = Self::decode_known(cat, &inner)? {
                        return Ok(ev);
                    }
                }
            }
        }
        Ok(CstaEvent::Unknown(RawTlv::from_tlv(t)))
    }

    fn encode(&self, w: &mut Writer<'_>) {
        match self.tags() {
            Some((cat, n)) => w.constructed(Tag::context_c(cat), |w| {
                w.constructed(Tag::context_c(n), |w| {
                    w.constructed(Tag::SEQUENCE, |w| self.encode_body(w))
                })
            }),
            None => self.encode_body(w),
        }
    }
}

sequence_type! {
    /// cSTAEventReport argument: `SEQUENCE { crossRefIdentifier MonitorCrossRefID,
    /// eventSpecificInfo EventSpecificInfo }`, followed on OXE by the `[APPLICATION 30]` block.
    EventReport = "cSTAEventReport" {
        cross_ref_identifier: MonitorCrossRefId = "crossRefIdentifier", req;
        event: CstaEvent = "eventSpecificInfo", req;
        private_data: PrivateData = "privateData", opt;
    }
}
super::common::sequence_field!(EventReport, Tag::SEQUENCE);

impl EventReport {
    pub fn new(cross_ref: &[u8], event: CstaEvent) -> Self {
        EventReport {
            cross_ref_identifier: MonitorCrossRefId(cross_ref.to_vec()),
            event,
            private_data: None,
            unknown: vec![],
        }
    }
}

/// A helper for tests and the simulator: a device wrapper holding digits in the OXE form
/// (`[4]` implicitPrivate for extensions).
pub fn private_number<const N: u32>(number: &str) -> AppDevice<N> {
    AppDevice::device(DeviceId::ImplicitPrivate(Digits::from(number)))
}

/// Reads an event report argument element.
pub(crate) fn decode_event_report(t: &Tlv<'_>) -> Result<EventReport> {
    if t.tag != Tag::SEQUENCE {
        return Err(PduError::new(
            t.offset,
            "cSTAEventReport",
            super::ber::ErrorKind::UnexpectedTag {
                expected: Tag::SEQUENCE,
                found: t.tag,
            },
        ));
    }
    EventReport::decode_contents(t)
}
