//! CSTA Phase II operations by opcode: the invoke arguments and the results of the services a
//! gateway uses, and the universal errors (ReturnError parameter).
//!
//! Forms follow ECMA-218 as carried by `Net::CSTA::ASN` (the source PROTOCOLS.md cites for the
//! opcodes). Where PBXs are known to differ (an argument bare or wrapped in a SEQUENCE), the
//! decoder accepts both and remembers which it saw (`in_sequence`), so re-encoding gives the
//! same bytes.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::ber::{ErrorKind, PduError, Result, Tag, Tlv, Writer};
use super::common::{BitString, Field, RawTlv, named_enum, sequence_field, sequence_type};
use super::events::{EventReport, decode_event_report};
use super::types::*;
use serde::Serialize;

/// Operation codes (ECMA-180/218 local values).
pub mod opcode {
    pub const ALTERNATE_CALL: i64 = 1;
    pub const ANSWER_CALL: i64 = 2;
    pub const CALL_COMPLETION: i64 = 3;
    pub const CLEAR_CALL: i64 = 4;
    pub const CLEAR_CONNECTION: i64 = 5;
    pub const CONFERENCE_CALL: i64 = 6;
    pub const CONSULTATION_CALL: i64 = 7;
    pub const DIVERT_CALL: i64 = 8;
    pub const HOLD_CALL: i64 = 9;
    pub const MAKE_CALL: i64 = 10;
    pub const MAKE_PREDICTIVE_CALL: i64 = 11;
    pub const QUERY_DEVICE: i64 = 12;
    pub const RECONNECT_CALL: i64 = 13;
    pub const RETRIEVE_CALL: i64 = 14;
    pub const SET_FEATURE: i64 = 15;
    pub const TRANSFER_CALL: i64 = 16;
    pub const CSTA_EVENT_REPORT: i64 = 21;
    pub const SYSTEM_STATUS: i64 = 52;
    pub const MONITOR_START: i64 = 71;
    pub const CHANGE_MONITOR_FILTER: i64 = 72;
    pub const MONITOR_STOP: i64 = 73;
    pub const SNAPSHOT_DEVICE: i64 = 74;

    /// The ECMA name of an operation.
    pub fn name(op: i64) -> Option<&'static str> {
        Some(match op {
            1 => "alternateCall",
            2 => "answerCall",
            3 => "callCompletion",
            4 => "clearCall",
            5 => "clearConnection",
            6 => "conferenceCall",
            7 => "consultationCall",
            8 => "divertCall",
            9 => "holdCall",
            10 => "makeCall",
            11 => "makePredictiveCall",
            12 => "queryDevice",
            13 => "reconnectCall",
            14 => "retrieveCall",
            15 => "setFeature",
            16 => "transferCall",
            21 => "cSTAEventReport",
            52 => "systemStatus",
            71 => "monitorStart",
            72 => "changeMonitorFilter",
            73 => "monitorStop",
            74 => "snapshotDevice",
            _ => return None,
        })
    }
}

fn unexpected(t: &Tlv<'_>, what: &str, expected: Tag) -> PduError {
    PduError::new(
        t.offset,
        what,
        ErrorKind::UnexpectedTag {
            expected,
            found: t.tag,
        },
    )
}

/// Declares a value carried either bare or as the first element of a SEQUENCE.
macro_rules! bare_or_sequence {
    ($(#[$m:meta])* $name:ident = $ecma:literal { $field:ident : $ty:ty = $fname:literal }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct $name {
            #[serde(rename = $fname)]
            pub $field: $ty,
            /// The value came wrapped in a SEQUENCE (re-encoded the same way).
            #[serde(skip)]
            pub in_sequence: bool,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub unknown: Vec<RawTlv>,
        }

        impl $name {
            pub fn new($field: $ty) -> Self {
                $name { $field, in_sequence: false, unknown: vec![] }
            }

            pub(crate) fn decode(t: &Tlv<'_>) -> Result<Self> {
                if <$ty as Field>::matches(t.tag) {
                    let $field = <$ty as Field>::decode(t).map_err(|e| e.within($ecma))?;
                    return Ok($name { $field, in_sequence: false, unknown: vec![] });
                }
                if t.tag != Tag::SEQUENCE {
                    return Err(unexpected(t, $ecma, Tag::SEQUENCE));
                }
                let mut value = None;
                let unknown = super::common::read_fields(t, $ecma, |el| {
                    if value.is_none() && <$ty as Field>::matches(el.tag) {
                        value = Some(<$ty as Field>::decode(el).map_err(|e| e.within($fname))?);
                        return Ok(true);
                    }
                    Ok(false)
                })?;
                match value {
                    Some($field) => Ok($name { $field, in_sequence: true, unknown }),
                    None => Err(super::common::missing(t, $ecma, $fname)),
                }
            }

            pub(crate) fn encode(&self, w: &mut Writer<'_>) {
                if self.in_sequence || !self.unknown.is_empty() {
                    w.constructed(Tag::SEQUENCE, |w| {
                        self.$field.encode(w);
                        for u in &self.unknown {
                            u.encode(w);
                        }
                    });
                } else {
                    self.$field.encode(w);
                }
            }
        }
    };
}

bare_or_sequence! {
    /// An argument that is one connection: answerCall, clearCall, clearConnection,
    /// retrieveCall (`ConnectionID`, or `SEQUENCE { ConnectionID, ... }`).
    ConnectionArg = "connectionArgument" { connection: ConnectionId = "connection" }
}
bare_or_sequence! {
    /// A result that is one connection: makeCall, consultationCall, makePredictiveCall.
    ConnectionResult = "connectionResult" { connection: ConnectionId = "connection" }
}
bare_or_sequence! {
    /// monitorStop argument: the cross reference of the monitor to stop.
    MonitorStopArg = "monitorStop" { cross_ref_identifier: MonitorCrossRefId = "crossRefIdentifier" }
}
bare_or_sequence! {
    /// snapshotDevice argument: the device to snapshot.
    SnapshotDeviceArg = "snapshotDevice" { snapshot_object: DeviceId = "snapshotObject" }
}
bare_or_sequence! {
    /// systemStatus argument (`0a 01 02` = normal on OXE).
    SystemStatusArg = "systemStatus" { system_status: SystemStatus = "systemStatus" }
}

named_enum! {
    /// SystemStatus ENUMERATED.
    SystemStatus {
        Initializing = 0 => "initializing",
        Enabled = 1 => "enabled",
        Normal = 2 => "normal",
        MessagesLost = 3 => "messagesLost",
        Disabled = 4 => "disabled",
        OverloadImminent = 5 => "overloadImminent",
        OverloadReached = 6 => "overloadReached",
        OverloadRelieved = 7 => "overloadRelieved",
    }
}

impl Field for SystemStatus {
    fn matches(tag: Tag) -> bool {
        tag == Tag::ENUMERATED
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("systemStatus").map(Self::from_code)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::ENUMERATED, self.code());
    }
}

sequence_type! {
    /// `SEQUENCE { heldCall ConnectionID, activeCall ConnectionID }`.
    CallPair = "calls" {
        held_call: ConnectionId = "heldCall", req;
        active_call: ConnectionId = "activeCall", req;
    }
}

/// ConnectionDetails for alternateCall, conferenceCall, reconnectCall and transferCall:
/// `CHOICE { heldCall [0] IMPLICIT ConnectionID, activeCall [1] IMPLICIT ConnectionID,
/// bothCalls [2] IMPLICIT SEQUENCE { heldCall, activeCall } }`, or the Phase I bare
/// `SEQUENCE { heldCall, activeCall }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionDetails {
    HeldCall(ConnectionId),
    ActiveCall(ConnectionId),
    BothCalls(CallPair),
    Sequence(CallPair),
}

impl ConnectionDetails {
    pub(crate) fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(if t.tag == Tag::context_c(0) {
            ConnectionDetails::HeldCall(ConnectionId::decode(t).map_err(|e| e.within("heldCall"))?)
        } else if t.tag == Tag::context_c(1) {
            ConnectionDetails::ActiveCall(
                ConnectionId::decode(t).map_err(|e| e.within("activeCall"))?,
            )
        } else if t.tag == Tag::context_c(2) {
            ConnectionDetails::BothCalls(
                CallPair::decode_contents(t).map_err(|e| e.within("bothCalls"))?,
            )
        } else if t.tag == Tag::SEQUENCE {
            ConnectionDetails::Sequence(CallPair::decode_contents(t)?)
        } else {
            return Err(unexpected(t, "connectionDetails", Tag::context_c(2)));
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        match self {
            ConnectionDetails::HeldCall(c) => c.encode_as(Tag::context_c(0), w),
            ConnectionDetails::ActiveCall(c) => c.encode_as(Tag::context_c(1), w),
            ConnectionDetails::BothCalls(p) => {
                w.constructed(Tag::context_c(2), |w| p.encode_contents(w))
            }
            ConnectionDetails::Sequence(p) => {
                w.constructed(Tag::SEQUENCE, |w| p.encode_contents(w))
            }
        }
    }
}

sequence_type! {
    /// consultationCall argument.
    ConsultationCallArg = "consultationCall" {
        existing_call: ConnectionId = "existingCall", req;
        called_directory_number: CalledDeviceId = "calledDirectoryNumber", req;
    }
}
sequence_field!(ConsultationCallArg, Tag::SEQUENCE);

sequence_type! {
    /// holdCall argument.
    HoldCallArg = "holdCall" {
        call_to_be_held: ConnectionId = "callToBeHeld", req;
        connection_reservation: bool = "connectionReservation", opt;
    }
}
sequence_field!(HoldCallArg, Tag::SEQUENCE);

sequence_type! {
    /// makeCall argument.
    MakeCallArg = "makeCall" {
        calling_device: DeviceId = "callingDevice", req;
        called_directory_number: CalledDeviceId = "calledDirectoryNumber", req;
    }
}
sequence_field!(MakeCallArg, Tag::SEQUENCE);

sequence_type! {
    /// divertCall deflect alternative: `[0] IMPLICIT SEQUENCE { callToBeDiverted, newDestination }`.
    DeflectArg = "deflect" {
        call_to_be_diverted: ConnectionId = "callToBeDiverted", req;
        new_destination: CalledDeviceId = "newDestination", req;
    }
}

/// divertCall argument (DivertInfo CHOICE); pickup alternatives kept opaque.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DivertCallArg {
    Deflect(DeflectArg),
    Unknown(RawTlv),
}

named_enum! {
    /// QueryDeviceFeature ENUMERATED.
    QueryDeviceFeature {
        MsgWaitingOn = 0 => "msgWaitingOn",
        DoNotDisturb = 1 => "doNotDisturb",
        Forward = 2 => "forward",
        LastDialedNumber = 3 => "lastDialedNumber",
        DeviceInfo = 4 => "deviceInfo",
        AgentState = 5 => "agentState",
    }
}

impl Field for QueryDeviceFeature {
    fn matches(tag: Tag) -> bool {
        tag == Tag::ENUMERATED
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("feature").map(Self::from_code)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::ENUMERATED, self.code());
    }
}

sequence_type! {
    /// queryDevice argument.
    QueryDeviceArg = "queryDevice" {
        device: DeviceId = "device", req;
        feature: QueryDeviceFeature = "feature", req;
    }
}
sequence_field!(QueryDeviceArg, Tag::SEQUENCE);

/// SetDeviceFeature CHOICE.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SetDeviceFeature {
    /// `[0] IMPLICIT BOOLEAN`
    MsgWaitingOn(bool),
    /// `[1] IMPLICIT BOOLEAN`
    DoNotDisturb(bool),
    /// `[2] IMPLICIT ForwardParameter`
    Forward(ForwardParameter),
    /// Other alternatives (requestedAgentState `[3]`, ...), kept as received.
    Unknown(RawTlv),
}

impl Field for SetDeviceFeature {
    fn matches(tag: Tag) -> bool {
        tag.class == super::ber::Class::Context
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(if t.tag == Tag::context(0) {
            SetDeviceFeature::MsgWaitingOn(t.boolean("msgWaitingOn")?)
        } else if t.tag == Tag::context(1) {
            SetDeviceFeature::DoNotDisturb(t.boolean("doNotDisturb")?)
        } else if t.tag == Tag::context_c(2) {
            SetDeviceFeature::Forward(
                ForwardParameter::decode_contents(t).map_err(|e| e.within("forward"))?,
            )
        } else {
            SetDeviceFeature::Unknown(RawTlv::from_tlv(t))
        })
    }
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            SetDeviceFeature::MsgWaitingOn(b) => w.boolean(Tag::context(0), *b),
            SetDeviceFeature::DoNotDisturb(b) => w.boolean(Tag::context(1), *b),
            SetDeviceFeature::Forward(f) => {
                w.constructed(Tag::context_c(2), |w| f.encode_contents(w))
            }
            SetDeviceFeature::Unknown(raw) => raw.encode(w),
        }
    }
}

sequence_type! {
    /// setFeature argument.
    SetFeatureArg = "setFeature" {
        device: DeviceId = "device", req;
        feature: SetDeviceFeature = "feature", req;
    }
}
sequence_field!(SetFeatureArg, Tag::SEQUENCE);

/// MonitorObject: a device or a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MonitorObject {
    Device(DeviceId),
    Call(ConnectionId),
}

impl Field for MonitorObject {
    fn matches(tag: Tag) -> bool {
        DeviceId::matches(tag) || ConnectionId::matches(tag)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        if ConnectionId::matches(t.tag) {
            Ok(MonitorObject::Call(ConnectionId::decode(t)?))
        } else {
            Ok(MonitorObject::Device(DeviceId::decode(t)?))
        }
    }
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            MonitorObject::Device(d) => d.encode(w),
            MonitorObject::Call(c) => c.encode(w),
        }
    }
}

/// A filter bit string under a context tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct FilterBits<const N: u32>(pub BitString);

impl<const N: u32> Field for FilterBits<N> {
    fn matches(tag: Tag) -> bool {
        tag == Tag::context(N)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        BitString::decode(t, "filter").map(FilterBits)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        self.0.encode(Tag::context(N), w);
    }
}

/// `[4] IMPLICIT BOOLEAN` private events filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct PrivateFilter(pub bool);

impl Field for PrivateFilter {
    fn matches(tag: Tag) -> bool {
        tag == Tag::context(4)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.boolean("private").map(PrivateFilter)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.boolean(Tag::context(4), self.0);
    }
}

sequence_type! {
    /// MonitorFilter `SEQUENCE { call [0], feature [1], agent [2], maintenance [3] BIT STRING,
    /// private [4] BOOLEAN }` (a set bit filters the event out), plus `[5]`, the voice-unit
    /// filter BIT STRING of ECMA-285's MonitorFilter, which an OXE returns in its MonitorStart
    /// result before `[4]` (`fixtures/real/oxe-public/oxe2015-monitor-start-result.hex`).
    MonitorFilter = "monitorFilter" {
        call: FilterBits<0> = "call", opt;
        feature: FilterBits<1> = "feature", opt;
        agent: FilterBits<2> = "agent", opt;
        maintenance: FilterBits<3> = "maintenance", opt;
        voice_unit: FilterBits<5> = "voiceUnit", opt;
        private: PrivateFilter = "private", opt;
    }
}
sequence_field!(MonitorFilter, Tag::SEQUENCE);

named_enum! {
    /// MonitorType ENUMERATED.
    MonitorType {
        Call = 0 => "call",
        Device = 1 => "device",
    }
}

impl Field for MonitorType {
    fn matches(tag: Tag) -> bool {
        tag == Tag::ENUMERATED
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("monitorType").map(Self::from_code)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::ENUMERATED, self.code());
    }
}

sequence_type! {
    /// monitorStart argument.
    MonitorStartArg = "monitorStart" {
        monitor_object: MonitorObject = "monitorObject", req;
        monitor_filter: MonitorFilter = "monitorFilter", opt;
        monitor_type: MonitorType = "monitorType", opt;
    }
}
sequence_field!(MonitorStartArg, Tag::SEQUENCE);

sequence_type! {
    /// changeMonitorFilter argument.
    ChangeMonitorFilterArg = "changeMonitorFilter" {
        monitor_cross_ref_id: MonitorCrossRefId = "monitorCrossRefID", req;
        filter_list: MonitorFilter = "filterlist", req;
    }
}
sequence_field!(ChangeMonitorFilterArg, Tag::SEQUENCE);

/// The argument of an Invoke, by operation.
// Events are the common case and are moved once from decoder to adapter; boxing them
// would cost an allocation per event for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Argument {
    AlternateCall(ConnectionDetails),
    AnswerCall(ConnectionArg),
    ClearCall(ConnectionArg),
    ClearConnection(ConnectionArg),
    ConferenceCall(ConnectionDetails),
    ConsultationCall(ConsultationCallArg),
    DivertCall(DivertCallArg),
    HoldCall(HoldCallArg),
    MakeCall(MakeCallArg),
    QueryDevice(QueryDeviceArg),
    ReconnectCall(ConnectionDetails),
    RetrieveCall(ConnectionArg),
    SetFeature(SetFeatureArg),
    TransferCall(ConnectionDetails),
    #[serde(rename = "cSTAEventReport")]
    CstaEventReport(EventReport),
    SystemStatus(SystemStatusArg),
    MonitorStart(MonitorStartArg),
    ChangeMonitorFilter(ChangeMonitorFilterArg),
    MonitorStop(MonitorStopArg),
    SnapshotDevice(SnapshotDeviceArg),
    /// Another operation (or a known one sent without argument): opcode and argument as
    /// received.
    Other {
        opcode: i64,
        argument: Option<RawTlv>,
    },
}

impl Argument {
    /// The operation code this argument belongs to.
    pub fn opcode(&self) -> i64 {
        use Argument::*;
        use opcode::*;
        match self {
            AlternateCall(_) => ALTERNATE_CALL,
            AnswerCall(_) => ANSWER_CALL,
            ClearCall(_) => CLEAR_CALL,
            ClearConnection(_) => CLEAR_CONNECTION,
            ConferenceCall(_) => CONFERENCE_CALL,
            ConsultationCall(_) => CONSULTATION_CALL,
            DivertCall(_) => DIVERT_CALL,
            HoldCall(_) => HOLD_CALL,
            MakeCall(_) => MAKE_CALL,
            QueryDevice(_) => QUERY_DEVICE,
            ReconnectCall(_) => RECONNECT_CALL,
            RetrieveCall(_) => RETRIEVE_CALL,
            SetFeature(_) => SET_FEATURE,
            TransferCall(_) => TRANSFER_CALL,
            CstaEventReport(_) => CSTA_EVENT_REPORT,
            SystemStatus(_) => opcode::SYSTEM_STATUS,
            MonitorStart(_) => MONITOR_START,
            ChangeMonitorFilter(_) => CHANGE_MONITOR_FILTER,
            MonitorStop(_) => MONITOR_STOP,
            SnapshotDevice(_) => SNAPSHOT_DEVICE,
            Other { opcode, .. } => *opcode,
        }
    }

    /// Decodes the argument element of operation `op`.
    pub(crate) fn decode(op: i64, arg: Option<&Tlv<'_>>) -> Result<Self> {
        use Argument::*;
        let Some(t) = arg else {
            return Ok(Other {
                opcode: op,
                argument: None,
            });
        };
        let name = opcode::name(op).unwrap_or("argument");
        let seq = |t: &Tlv<'_>| {
            if t.tag == Tag::SEQUENCE {
                Ok(())
            } else {
                Err(unexpected(t, name, Tag::SEQUENCE))
            }
        };
        let a = match op {
            1 => AlternateCall(ConnectionDetails::decode(t).map_err(|e| e.within(name))?),
            2 => AnswerCall(ConnectionArg::decode(t).map_err(|e| e.within(name))?),
            4 => ClearCall(ConnectionArg::decode(t).map_err(|e| e.within(name))?),
            5 => ClearConnection(ConnectionArg::decode(t).map_err(|e| e.within(name))?),
            6 => ConferenceCall(ConnectionDetails::decode(t).map_err(|e| e.within(name))?),
            7 => {
                seq(t)?;
                ConsultationCall(ConsultationCallArg::decode_contents(t)?)
            }
            8 => DivertCall(if t.tag == Tag::context_c(0) {
                DivertCallArg::Deflect(DeflectArg::decode_contents(t).map_err(|e| e.within(name))?)
            } else {
                DivertCallArg::Unknown(RawTlv::from_tlv(t))
            }),
            9 => {
                seq(t)?;
                HoldCall(HoldCallArg::decode_contents(t)?)
            }
            10 => {
                seq(t)?;
                MakeCall(MakeCallArg::decode_contents(t)?)
            }
            12 => {
                seq(t)?;
                QueryDevice(QueryDeviceArg::decode_contents(t)?)
            }
            13 => ReconnectCall(ConnectionDetails::decode(t).map_err(|e| e.within(name))?),
            14 => RetrieveCall(ConnectionArg::decode(t).map_err(|e| e.within(name))?),
            15 => {
                seq(t)?;
                SetFeature(SetFeatureArg::decode_contents(t)?)
            }
            16 => TransferCall(ConnectionDetails::decode(t).map_err(|e| e.within(name))?),
            21 => CstaEventReport(decode_event_report(t)?),
            52 => SystemStatus(SystemStatusArg::decode(t).map_err(|e| e.within(name))?),
            71 => {
                seq(t)?;
                MonitorStart(MonitorStartArg::decode_contents(t)?)
            }
            72 => {
                seq(t)?;
                ChangeMonitorFilter(ChangeMonitorFilterArg::decode_contents(t)?)
            }
            73 => MonitorStop(MonitorStopArg::decode(t).map_err(|e| e.within(name))?),
            74 => SnapshotDevice(SnapshotDeviceArg::decode(t).map_err(|e| e.within(name))?),
            _ => Other {
                opcode: op,
                argument: Some(RawTlv::from_tlv(t)),
            },
        };
        Ok(a)
    }

    /// Writes the argument element (nothing for `Other` without argument).
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        use Argument::*;
        match self {
            AlternateCall(d) | ConferenceCall(d) | ReconnectCall(d) | TransferCall(d) => {
                d.encode(w)
            }
            AnswerCall(c) | ClearCall(c) | ClearConnection(c) | RetrieveCall(c) => c.encode(w),
            ConsultationCall(a) => a.encode(w),
            DivertCall(DivertCallArg::Deflect(a)) => {
                w.constructed(Tag::context_c(0), |w| a.encode_contents(w))
            }
            DivertCall(DivertCallArg::Unknown(raw)) => raw.encode(w),
            HoldCall(a) => a.encode(w),
            MakeCall(a) => a.encode(w),
            QueryDevice(a) => a.encode(w),
            SetFeature(a) => a.encode(w),
            CstaEventReport(r) => r.encode(w),
            SystemStatus(s) => s.encode(w),
            MonitorStart(a) => a.encode(w),
            ChangeMonitorFilter(a) => a.encode(w),
            MonitorStop(a) => a.encode(w),
            SnapshotDevice(a) => a.encode(w),
            Other { argument, .. } => {
                if let Some(raw) = argument {
                    raw.encode(w);
                }
            }
        }
    }
}

sequence_type! {
    /// monitorStart result.
    MonitorStartResult = "monitorStartResult" {
        cross_ref_identifier: MonitorCrossRefId = "crossRefIdentifier", req;
        monitor_filter: MonitorFilter = "monitorFilter", opt;
    }
}

/// LocalCallState in a snapshot entry: `compoundCallState [0] IMPLICIT SEQUENCE OF
/// LocalConnectionState` or `simpleCallState [1] IMPLICIT ENUMERATED`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LocalCallState {
    CompoundCallState(Vec<LocalConnectionState>),
    SimpleCallState(i64),
}

impl Field for LocalCallState {
    fn matches(tag: Tag) -> bool {
        tag == Tag::context_c(0) || tag == Tag::context(1)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        if t.tag == Tag::context(1) {
            return t
                .integer("simpleCallState")
                .map(LocalCallState::SimpleCallState);
        }
        let mut r = t.reader("compoundCallState")?;
        let mut v = Vec::new();
        while let Some(el) = r.next("compoundCallState")? {
            v.push(expect_field::<LocalConnectionState>(
                &el,
                "compoundCallState",
            )?);
        }
        Ok(LocalCallState::CompoundCallState(v))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            LocalCallState::SimpleCallState(n) => w.integer(Tag::context(1), *n),
            LocalCallState::CompoundCallState(v) => w.constructed(Tag::context_c(0), |w| {
                for s in v {
                    s.encode(w);
                }
            }),
        }
    }
}

sequence_type! {
    /// One snapshot entry: a call at the device and the device's connection state in it.
    SnapshotDeviceResponseInfo = "snapshotDeviceResponseInfo" {
        device_on_call: SubjectDeviceId = "deviceOnCall", opt;
        call_identifier: ConnectionId = "callIdentifier", req;
        local_connection_state: LocalConnectionState = "localConnectionState", opt;
        local_call_state: LocalCallState = "localCallState", opt;
    }
}

/// snapshotDevice result: `[APPLICATION 22] IMPLICIT SEQUENCE OF SnapshotDeviceResponseInfo`,
/// bare or as the first element of a SEQUENCE.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDeviceResult {
    pub snapshot_data: Vec<SnapshotDeviceResponseInfo>,
    #[serde(skip)]
    pub in_sequence: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

const SNAPSHOT_DATA: Tag = Tag::application_c(22);

impl SnapshotDeviceResult {
    fn decode_list(t: &Tlv<'_>) -> Result<Vec<SnapshotDeviceResponseInfo>> {
        let mut r = t.reader("snapshotData")?;
        let mut v = Vec::new();
        while let Some(el) = r.next("snapshotData")? {
            if el.tag != Tag::SEQUENCE {
                return Err(unexpected(&el, "snapshotData", Tag::SEQUENCE));
            }
            v.push(SnapshotDeviceResponseInfo::decode_contents(&el)?);
        }
        Ok(v)
    }

    fn decode(t: &Tlv<'_>) -> Result<Self> {
        if t.tag == SNAPSHOT_DATA {
            return Ok(SnapshotDeviceResult {
                snapshot_data: Self::decode_list(t)?,
                in_sequence: false,
                unknown: vec![],
            });
        }
        if t.tag != Tag::SEQUENCE {
            return Err(unexpected(t, "snapshotDevice", SNAPSHOT_DATA));
        }
        let mut data = None;
        let unknown = super::common::read_fields(t, "snapshotDevice", |el| {
            if data.is_none() && el.tag == SNAPSHOT_DATA {
                data = Some(Self::decode_list(el)?);
                return Ok(true);
            }
            Ok(false)
        })?;
        match data {
            Some(snapshot_data) => Ok(SnapshotDeviceResult {
                snapshot_data,
                in_sequence: true,
                unknown,
            }),
            None => Err(super::common::missing(t, "snapshotDevice", "snapshotData")),
        }
    }

    fn encode(&self, w: &mut Writer<'_>) {
        let list = |w: &mut Writer<'_>| {
            w.constructed(SNAPSHOT_DATA, |w| {
                for item in &self.snapshot_data {
                    w.constructed(Tag::SEQUENCE, |w| item.encode_contents(w));
                }
            })
        };
        if self.in_sequence || !self.unknown.is_empty() {
            w.constructed(Tag::SEQUENCE, |w| {
                list(w);
                for u in &self.unknown {
                    u.encode(w);
                }
            });
        } else {
            list(w);
        }
    }
}

sequence_type! {
    /// transferCall result.
    TransferCallResult = "transferCallResult" {
        transferred_call: ConnectionId = "transferredCall", opt;
        connections: ConnectionList = "connections", opt;
    }
}
sequence_type! {
    /// conferenceCall result.
    ConferenceCallResult = "conferenceCallResult" {
        conference_call: ConnectionId = "conferenceCall", req;
        connections: ConnectionList = "connections", opt;
    }
}

/// queryDevice result (QueryDeviceInformation CHOICE).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum QueryDeviceResult {
    /// `[0] IMPLICIT BOOLEAN`
    MsgWaitingOn(bool),
    /// `[1] IMPLICIT BOOLEAN`
    DoNotDisturb(bool),
    /// `[2] IMPLICIT SEQUENCE OF ForwardParameter`
    Forward(Vec<ForwardParameter>),
    /// Other alternatives (deviceInfo `[4]`, agentState `[5]`, ...), kept as received.
    Unknown(RawTlv),
}

impl QueryDeviceResult {
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(if t.tag == Tag::context(0) {
            QueryDeviceResult::MsgWaitingOn(t.boolean("msgWaitingOn")?)
        } else if t.tag == Tag::context(1) {
            QueryDeviceResult::DoNotDisturb(t.boolean("doNotDisturb")?)
        } else if t.tag == Tag::context_c(2) {
            let mut r = t.reader("forward")?;
            let mut v = Vec::new();
            while let Some(el) = r.next("forward")? {
                v.push(expect_field::<ForwardParameter>(&el, "forward")?);
            }
            QueryDeviceResult::Forward(v)
        } else {
            QueryDeviceResult::Unknown(RawTlv::from_tlv(t))
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            QueryDeviceResult::MsgWaitingOn(b) => w.boolean(Tag::context(0), *b),
            QueryDeviceResult::DoNotDisturb(b) => w.boolean(Tag::context(1), *b),
            QueryDeviceResult::Forward(v) => w.constructed(Tag::context_c(2), |w| {
                for f in v {
                    f.encode(w);
                }
            }),
            QueryDeviceResult::Unknown(raw) => raw.encode(w),
        }
    }
}

/// The value in a ReturnResult, by operation. A value that does not have the expected shape
/// is kept as received (`Other`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResultValue {
    MonitorStart(MonitorStartResult),
    SnapshotDevice(SnapshotDeviceResult),
    /// makeCall, consultationCall and makePredictiveCall.
    Connection(ConnectionResult),
    TransferCall(TransferCallResult),
    ConferenceCall(ConferenceCallResult),
    QueryDevice(QueryDeviceResult),
    /// An explicit NULL (systemStatus, monitorStop and the other "no data" results).
    Null,
    Other(RawTlv),
}

impl ResultValue {
    pub(crate) fn decode(op: i64, t: &Tlv<'_>) -> Self {
        if t.tag == Tag::NULL && t.value.is_empty() {
            return ResultValue::Null;
        }
        let seq = t.tag == Tag::SEQUENCE;
        let r = match op {
            opcode::MONITOR_START if seq => {
                MonitorStartResult::decode_contents(t).map(ResultValue::MonitorStart)
            }
            opcode::SNAPSHOT_DEVICE => {
                SnapshotDeviceResult::decode(t).map(ResultValue::SnapshotDevice)
            }
            opcode::MAKE_CALL | opcode::CONSULTATION_CALL | opcode::MAKE_PREDICTIVE_CALL => {
                ConnectionResult::decode(t).map(ResultValue::Connection)
            }
            opcode::TRANSFER_CALL if seq => {
                TransferCallResult::decode_contents(t).map(ResultValue::TransferCall)
            }
            opcode::CONFERENCE_CALL if seq => {
                ConferenceCallResult::decode_contents(t).map(ResultValue::ConferenceCall)
            }
            opcode::QUERY_DEVICE => QueryDeviceResult::decode(t).map(ResultValue::QueryDevice),
            _ => return ResultValue::Other(RawTlv::from_tlv(t)),
        };
        r.unwrap_or_else(|_| ResultValue::Other(RawTlv::from_tlv(t)))
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        match self {
            ResultValue::MonitorStart(r) => w.constructed(Tag::SEQUENCE, |w| r.encode_contents(w)),
            ResultValue::SnapshotDevice(r) => r.encode(w),
            ResultValue::Connection(r) => r.encode(w),
            ResultValue::TransferCall(r) => w.constructed(Tag::SEQUENCE, |w| r.encode_contents(w)),
            ResultValue::ConferenceCall(r) => {
                w.constructed(Tag::SEQUENCE, |w| r.encode_contents(w))
            }
            ResultValue::QueryDevice(r) => r.encode(w),
            ResultValue::Null => w.null(Tag::NULL),
            ResultValue::Other(raw) => raw.encode(w),
        }
    }
}

named_enum! {
    /// operationErrors `[1]`.
    OperationError {
        Generic = 1 => "generic",
        RequestIncompatibleWithObject = 2 => "requestIncompatibleWithObject",
        ValueOutOfRange = 3 => "valueOutOfRange",
        ObjectNotKnown = 4 => "objectNotKnown",
        InvalidCallingDevice = 5 => "invalidCallingDevice",
        InvalidCalledDevice = 6 => "invalidCalledDevice",
        InvalidForwardingDestination = 7 => "invalidForwardingDestination",
        PrivilegeViolationOnSpecifiedDevice = 8 => "privilegeViolationOnSpecifiedDevice",
        PrivilegeViolationOnCalledDevice = 9 => "privilegeViolationOnCalledDevice",
        PrivilegeViolationOnCallingDevice = 10 => "privilegeViolationOnCallingDevice",
        InvalidCallIdentifier = 11 => "invalidCallIdentifier",
        InvalidDeviceIdentifier = 12 => "invalidDeviceIdentifier",
        InvalidConnectionIdentifier = 13 => "invalidConnectionIdentifier",
        InvalidDestination = 14 => "invalidDestination",
        InvalidFeature = 15 => "invalidFeature",
        InvalidAllocationState = 16 => "invalidAllocationState",
        InvalidCrossRefId = 17 => "invalidCrossRefID",
        InvalidObjectType = 18 => "invalidObjectType",
        SecurityViolation = 19 => "securityViolation",
    }
}
named_enum! {
    /// stateErrors `[2]`.
    StateError {
        Generic = 1 => "generic",
        InvalidObjectState = 2 => "invalidObjectState",
        InvalidConnectionId = 3 => "invalidConnectionID",
        NoActiveCall = 4 => "noActiveCall",
        NoHeldCall = 5 => "noHeldCall",
        NoCallToClear = 6 => "noCallToClear",
        NoConnectionToClear = 7 => "noConnectionToClear",
        NoCallToAnswer = 8 => "noCallToAnswer",
        NoCallToComplete = 9 => "noCallToComplete",
    }
}
named_enum! {
    /// systemResourceErrors `[3]`.
    SystemResourceError {
        Generic = 1 => "generic",
        ServiceBusy = 2 => "serviceBusy",
        ResourceBusy = 3 => "resourceBusy",
        ResourceOutOfService = 4 => "resourceOutOfService",
        NetworkBusy = 5 => "networkBusy",
        NetworkOutOfService = 6 => "networkOutOfService",
        OverallMonitorLimitExceeded = 7 => "overallMonitorLimitExceeded",
        ConferenceMemberLimitExceeded = 8 => "conferenceMemberLimitExceeded",
    }
}
named_enum! {
    /// subscribedResourceAvailabilityErrors `[4]`.
    SubscribedResourceError {
        Generic = 1 => "generic",
        ObjectMonitorLimitExceeded = 2 => "objectMonitorLimitExceeded",
        ExternalTrunkLimitExceeded = 3 => "externalTrunkLimitExceeded",
        OutstandingRequestLimitExceeded = 4 => "outstandingRequestLimitExceeded",
    }
}
named_enum! {
    /// performanceErrors `[5]`.
    PerformanceError {
        Generic = 1 => "generic",
        PerformanceLimitExceeded = 2 => "performanceLimitExceeded",
    }
}
named_enum! {
    /// securityErrors `[6]`.
    SecurityError {
        Unspecified = 0 => "unspecified",
        SequenceNumberViolated = 1 => "sequenceNumberViolated",
        TimeStampViolated = 2 => "timeStampViolated",
        PacViolated = 3 => "pACViolated",
        SealViolated = 4 => "sealViolated",
    }
}

/// UniversalFailure, the parameter of CSTA's one error (errorValue 1, universalFailure):
/// `[1]`..`[6]` IMPLICIT ENUMERATED, `[7]` IMPLICIT NULL. (The Dedalus/`Net::CSTA::ASN` module
/// puts unspecifiedErrors at `[6]`; an empty `[6]` is read as unspecifiedErrors.)
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UniversalFailure {
    OperationErrors(OperationError),
    StateErrors(StateError),
    SystemResourceErrors(SystemResourceError),
    SubscribedResourceAvailabilityErrors(SubscribedResourceError),
    PerformanceErrors(PerformanceError),
    SecurityErrors(SecurityError),
    UnspecifiedErrors,
}

impl UniversalFailure {
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        use UniversalFailure::*;
        if t.tag.class != super::ber::Class::Context || t.tag.constructed {
            return Err(PduError::new(
                t.offset,
                "universalFailure",
                ErrorKind::Invalid("not a universal failure"),
            ));
        }
        let n = t.tag.number;
        if (n == 7 || n == 6) && t.value.is_empty() {
            return Ok(UnspecifiedErrors);
        }
        let v = t.integer("universalFailure")?;
        Ok(match n {
            1 => OperationErrors(OperationError::from_code(v)),
            2 => StateErrors(StateError::from_code(v)),
            3 => SystemResourceErrors(SystemResourceError::from_code(v)),
            4 => SubscribedResourceAvailabilityErrors(SubscribedResourceError::from_code(v)),
            5 => PerformanceErrors(PerformanceError::from_code(v)),
            6 => SecurityErrors(SecurityError::from_code(v)),
            _ => {
                return Err(PduError::new(
                    t.offset,
                    "universalFailure",
                    ErrorKind::Invalid("unknown alternative"),
                ));
            }
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        use UniversalFailure::*;
        match self {
            OperationErrors(e) => w.integer(Tag::context(1), e.code()),
            StateErrors(e) => w.integer(Tag::context(2), e.code()),
            SystemResourceErrors(e) => w.integer(Tag::context(3), e.code()),
            SubscribedResourceAvailabilityErrors(e) => w.integer(Tag::context(4), e.code()),
            PerformanceErrors(e) => w.integer(Tag::context(5), e.code()),
            SecurityErrors(e) => w.integer(Tag::context(6), e.code()),
            UnspecifiedErrors => w.null(Tag::context(7)),
        }
    }

    /// A short description for operators, e.g. `systemResourceErrors: overallMonitorLimitExceeded (7)`.
    pub fn describe(&self) -> String {
        use UniversalFailure::*;
        match self {
            OperationErrors(e) => format!("operationErrors: {e}"),
            StateErrors(e) => format!("stateErrors: {e}"),
            SystemResourceErrors(e) => format!("systemResourceErrors: {e}"),
            SubscribedResourceAvailabilityErrors(e) => {
                format!("subscribedResourceAvailabilityErrors: {e}")
            }
            PerformanceErrors(e) => format!("performanceErrors: {e}"),
            SecurityErrors(e) => format!("securityErrors: {e}"),
            UnspecifiedErrors => "unspecifiedErrors".to_string(),
        }
    }
}

/// The parameter of a ReturnError.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorParameter {
    UniversalFailure(UniversalFailure),
    /// Anything else (nonStandardErrors, other error codes), kept as received.
    Other(RawTlv),
}

impl ErrorParameter {
    pub(crate) fn decode(t: &Tlv<'_>) -> Self {
        UniversalFailure::decode(t)
            .map(ErrorParameter::UniversalFailure)
            .unwrap_or_else(|_| ErrorParameter::Other(RawTlv::from_tlv(t)))
    }
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        match self {
            ErrorParameter::UniversalFailure(u) => u.encode(w),
            ErrorParameter::Other(raw) => raw.encode(w),
        }
    }
}
