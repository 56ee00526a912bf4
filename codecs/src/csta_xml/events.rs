//! ECMA-323 events the gateway receives: call control (originated to conferenced), agent
//! state, do-not-disturb and forwarding. Every event names the monitor it belongs to in
//! `monitorCrossRefID`.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::device::{Device, DeviceId};
use super::types::{
    ConnectionId, ConnectionList, EventCause, ForwardingType, LocalConnectionState,
};
use super::xml::xml_struct;

xml_struct! {
    /// A call is being originated from a device (off-hook and dialled, or MakeCall).
    pub struct OriginatedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        originated_connection: ConnectionId = "originatedConnection",
        calling_device: Device = "callingDevice",
        called_device: Device = "calledDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A device went off-hook or a service started a call on it (dial tone).
    pub struct ServiceInitiatedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        initiated_connection: ConnectionId = "initiatedConnection",
        initiating_device: Option<Device> = "initiatingDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A call rings at (is delivered to) a device.
    pub struct DeliveredEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        connection: ConnectionId = "connection",
        alerting_device: Device = "alertingDevice",
        calling_device: Device = "callingDevice",
        called_device: Device = "calledDevice",
        last_redirection_device: Option<Device> = "lastRedirectionDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A call was answered.
    pub struct EstablishedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        established_connection: ConnectionId = "establishedConnection",
        answering_device: Device = "answeringDevice",
        calling_device: Device = "callingDevice",
        called_device: Device = "calledDevice",
        last_redirection_device: Option<Device> = "lastRedirectionDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A connection was put on hold.
    pub struct HeldEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        held_connection: ConnectionId = "heldConnection",
        holding_device: Device = "holdingDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A held connection was retrieved.
    pub struct RetrievedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        retrieved_connection: ConnectionId = "retrievedConnection",
        retrieving_device: Device = "retrievingDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A device left a call.
    pub struct ConnectionClearedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        dropped_connection: ConnectionId = "droppedConnection",
        releasing_device: Device = "releasingDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A whole call ended.
    pub struct CallClearedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        cleared_call: ConnectionId = "clearedCall",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A call left a device for another one (forwarding, deflection, pickup).
    pub struct DivertedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        connection: ConnectionId = "connection",
        diverting_device: Device = "divertingDevice",
        new_destination: Device = "newDestination",
        calling_device: Option<Device> = "callingDevice",
        called_device: Option<Device> = "calledDevice",
        last_redirection_device: Option<Device> = "lastRedirectionDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A call could not complete (busy, unobtainable ...).
    pub struct FailedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        failed_connection: ConnectionId = "failedConnection",
        failing_device: Device = "failingDevice",
        calling_device: Option<Device> = "callingDevice",
        called_device: Device = "calledDevice",
        last_redirection_device: Option<Device> = "lastRedirectionDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// A call was queued (ACD group, hunt group, camp-on).
    pub struct QueuedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        queued_connection: ConnectionId = "queuedConnection",
        queue: Device = "queue",
        calling_device: Device = "callingDevice",
        called_device: Device = "calledDevice",
        last_redirection_device: Option<Device> = "lastRedirectionDevice",
        number_queued: Option<u32> = "numberQueued",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// An outgoing call left the switch for the network (trunk seized).
    pub struct NetworkReachedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        outbound_connection: ConnectionId = "outboundConnection",
        network_interface_used: Device = "networkInterfaceUsed",
        calling_device: Device = "callingDevice",
        called_device: Device = "calledDevice",
        last_redirection_device: Option<Device> = "lastRedirectionDevice",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// Two calls were merged by a transfer (ECMA spells it "Transfered").
    pub struct TransferedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        primary_old_call: ConnectionId = "primaryOldCall",
        secondary_old_call: Option<ConnectionId> = "secondaryOldCall",
        transferring_device: Device = "transferringDevice",
        transferred_to_device: Device = "transferredToDevice",
        transferred_connections: Option<ConnectionList> = "transferredConnections",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

xml_struct! {
    /// Two calls were merged into a conference.
    pub struct ConferencedEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        primary_old_call: ConnectionId = "primaryOldCall",
        secondary_old_call: Option<ConnectionId> = "secondaryOldCall",
        conferencing_device: Device = "conferencingDevice",
        added_party: Device = "addedParty",
        conference_connections: Option<ConnectionList> = "conferenceConnections",
        local_connection_info: Option<LocalConnectionState> = "localConnectionInfo",
        cause: Option<EventCause> = "cause",
    }
}

macro_rules! agent_event {
    ($(#[$meta:meta])* $name:ident) => {
        xml_struct! {
            $(#[$meta])*
            pub struct $name {
                monitor_cross_ref_id: String = "monitorCrossRefID",
                agent_device: Device = "agentDevice",
                agent_id: Option<String> = "agentID",
                acd_group: Option<DeviceId> = "acdGroup",
                cause: Option<EventCause> = "cause",
            }
        }
    };
}

agent_event!(
    /// An agent logged on.
    AgentLoggedOnEvent
);
agent_event!(
    /// An agent logged off.
    AgentLoggedOffEvent
);
agent_event!(
    /// An agent is ready for calls.
    AgentReadyEvent
);
agent_event!(
    /// An agent is not ready.
    AgentNotReadyEvent
);
agent_event!(
    /// An agent is in after-call work.
    AgentWorkingAfterCallEvent
);
agent_event!(
    /// An agent is busy on a call.
    AgentBusyEvent
);

xml_struct! {
    /// Do-not-disturb was switched on or off at a device.
    pub struct DoNotDisturbEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        device: Device = "device",
        do_not_disturb_on: bool = "doNotDisturbOn",
    }
}

xml_struct! {
    /// Forwarding was switched on or off at a device.
    pub struct ForwardingEvent {
        monitor_cross_ref_id: String = "monitorCrossRefID",
        device: Device = "device",
        forwarding_type: Option<ForwardingType> = "forwardingType",
        forward_status: bool = "forwardStatus",
        forward_to: Option<DeviceId> = "forwardTo",
    }
}
