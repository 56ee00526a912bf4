//! ECMA-323 building blocks shared by services and events: connection identifiers, connection
//! and call states, event causes, forwarding and agent enumerations, connection lists.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::device::DeviceId;
use super::xml::{xml_enum, xml_struct};

xml_struct! {
    /// A connection: a device's leg of a call (`<callID>` and/or `<deviceID>`).
    pub struct ConnectionId {
        call_id: Option<String> = "callID",
        device_id: Option<DeviceId> = "deviceID",
    }
}

impl ConnectionId {
    /// The connection of `device_id` in call `call_id`.
    pub fn new(call_id: impl Into<String>, device_id: impl Into<DeviceId>) -> Self {
        ConnectionId {
            call_id: Some(call_id.into()),
            device_id: Some(device_id.into()),
            extensions: Vec::new(),
        }
    }
}

xml_enum! {
    /// ECMA-323 LocalConnectionState (`localConnectionInfo`).
    pub enum LocalConnectionState {
        Null = "null",
        Initiated = "initiated",
        Alerting = "alerting",
        Connected = "connected",
        Hold = "hold",
        Queued = "queued",
        Fail = "fail",
    }
}

xml_enum! {
    /// ECMA-323 EventCause.
    pub enum EventCause {
        AcdBusy = "acdBusy",
        AcdForward = "acdForward",
        AcdSaturated = "acdSaturated",
        ActiveParticipation = "activeParticipation",
        AlertTimeExpired = "alertTimeExpired",
        Alternate = "alternate",
        AutoWork = "autoWork",
        Blocked = "blocked",
        Busy = "busy",
        BusyOverflow = "busyOverflow",
        CallBack = "callBack",
        CallCancelled = "callCancelled",
        CallForward = "callForward",
        CallForwardBusy = "callForwardBusy",
        CallForwardImmediate = "callForwardImmediate",
        CallForwardNoAnswer = "callForwardNoAnswer",
        CallNotAnswered = "callNotAnswered",
        CallPickup = "callPickup",
        CampOn = "campOn",
        CampOnTrunks = "campOnTrunks",
        CharacterCountReached = "characterCountReached",
        Conference = "conference",
        Consultation = "consultation",
        DestDetected = "destDetected",
        DestNotObtainable = "destNotObtainable",
        DestOutOfOrder = "destOutOfOrder",
        Distributed = "distributed",
        DistributionDelay = "distributionDelay",
        DoNotDisturb = "doNotDisturb",
        DtmfDigitDetected = "dtmfDigitDetected",
        DurationExceeded = "durationExceeded",
        EndOfMessageDetected = "endOfMessageDetected",
        EnteringDistribution = "enteringDistribution",
        ForcedPause = "forcedPause",
        ForcedTransition = "forcedTransition",
        IncompatibleDestination = "incompatibleDestination",
        Intrude = "intrude",
        InvalidAccountCode = "invalidAccountCode",
        InvalidNumberFormat = "invalidNumberFormat",
        JoinCall = "joinCall",
        KeyOperation = "keyOperation",
        KeyOperationInUse = "keyOperationInUse",
        Lockout = "lockout",
        Maintenance = "maintenance",
        MakeCall = "makeCall",
        MakePredictiveCall = "makePredictiveCall",
        MessageDurationExceeded = "messageDurationExceeded",
        MessageSizeExceeded = "messageSizeExceeded",
        MultipleAlerting = "multipleAlerting",
        MultipleQueuing = "multipleQueuing",
        NetworkCongestion = "networkCongestion",
        NetworkDialling = "networkDialling",
        NetworkNotObtainable = "networkNotObtainable",
        NetworkOutOfOrder = "networkOutOfOrder",
        NetworkSignal = "networkSignal",
        NewCall = "newCall",
        NextMessage = "nextMessage",
        NoAvailableAgents = "noAvailableAgents",
        Normal = "normal",
        NormalClearing = "normalClearing",
        NoSpeechDetected = "noSpeechDetected",
        NotAvailableBearerService = "notAvaliableBearerService",
        NotSupportedBearerService = "notSupportedBearerService",
        NumberChanged = "numberChanged",
        NumberUnallocated = "numberUnallocated",
        Overflow = "overflow",
        Override = "override",
        Park = "park",
        QueueCleared = "queueCleared",
        Recall = "recall",
        Redirected = "redirected",
        RemainsInQueue = "remainsInQueue",
        ReorderTone = "reorderTone",
        Reserved = "reserved",
        ResourcesNotAvailable = "resourcesNotAvailable",
        SelectedTrunkBusy = "selectedTrunkBusy",
        SilentParticipation = "silentParticipation",
        SingleStepConference = "singleStepConference",
        SingleStepTransfer = "singleStepTransfer",
        SpeechDetected = "speechDetected",
        Suspend = "suspend",
        SwitchingFunctionTerminated = "switchingFunctionTerminated",
        TerminationCharacterReceived = "terminationCharacterReceived",
        Timeout = "timeout",
        Transfer = "transfer",
        TrunksBusy = "trunksBusy",
        UnauthorisedBearerService = "unauthorisedBearerService",
        UnknownOverflow = "unknownOverflow",
        /// A cause outside ECMA-323's list (vendor extensions): the event is kept, the
        /// unlisted name is not. Written back as `other`.
        Other = "other",
    }
    unknown => Other
}

xml_enum! {
    /// ECMA-323 ForwardingType.
    pub enum ForwardingType {
        ForwardImmediate = "forwardImmediate",
        ForwardBusy = "forwardBusy",
        ForwardNoAns = "forwardNoAns",
        ForwardBusyInt = "forwardBusyInt",
        ForwardBusyExt = "forwardBusyExt",
        ForwardDnd = "forwardDND",
        ForwardImmInt = "forwardImmInt",
        ForwardImmExt = "forwardImmExt",
        ForwardNoAnsInt = "forwardNoAnsInt",
        ForwardNoAnsExt = "forwardNoAnsExt",
    }
}

xml_enum! {
    /// The agent state a SetAgentState asks for (`requestedAgentState`).
    pub enum ReqAgentState {
        LoggedOn = "loggedOn",
        LoggedOff = "loggedOff",
        NotReady = "notReady",
        Ready = "ready",
        WorkingAfterCall = "workingAfterCall",
    }
}

xml_enum! {
    /// An agent's state as GetAgentState reports it (`agentState`).
    pub enum AgentState {
        AgentNotReady = "agentNotReady",
        AgentNull = "agentNull",
        AgentReady = "agentReady",
        AgentBusy = "agentBusy",
        AgentWorkingAfterCall = "agentWorkingAfterCall",
    }
}

xml_enum! {
    /// MakeCall `autoOriginate`.
    pub enum AutoOriginate {
        Prompt = "prompt",
        DoNotPrompt = "doNotPrompt",
    }
}

xml_enum! {
    /// ECMA-323 SystemStatus.
    pub enum SystemStatusValue {
        Initializing = "initializing",
        Enabled = "enabled",
        Normal = "normal",
        MessagesLost = "messagesLost",
        Disabled = "disabled",
        PartiallyDisabled = "partiallyDisabled",
        OverloadImminent = "overloadImminent",
        OverloadReached = "overloadReached",
        OverloadRelieved = "overloadRelieved",
    }
}

xml_enum! {
    /// MonitorStart `monitorType`.
    pub enum MonitorType {
        Call = "call",
        Device = "device",
    }
}

xml_struct! {
    /// One entry of `transferredConnections` / `conferenceConnections`: a connection's new
    /// identifier and the one it replaces.
    pub struct ConnectionListItem {
        new_connection: Option<ConnectionId> = "newConnection",
        old_connection: Option<ConnectionId> = "oldConnection",
        endpoint: Option<DeviceId> = "endpoint",
    }
}

xml_struct! {
    /// A list of old/new connection pairs (ECMA-323 ConnectionList).
    pub struct ConnectionList {
        items: Vec<ConnectionListItem> = "connectionListItem",
    }
}
