//! CSTA Phase II identifiers and enumerations: device identifiers (the bare CHOICE and the
//! `[APPLICATION 1..4]` wrappers with notKnown/notRequired), ConnectionID, ConnectionList (the
//! standards' `[APPLICATION 12]` form and the OXE's plain SEQUENCE OF `[3]` entries),
//! LocalConnectionState, EventCause, MonitorCrossRefID.
//!
//! Tag sources: ECMA-218 (CSTA Phase II) as carried by the Perl `Net::CSTA::ASN` module and
//! confirmed against the real OXE captures in `fixtures/real/oxe/`.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::ber::{Class, Result, Tag, Tlv, Writer};
use super::common::{Digits, Field, RawTlv, is_ctx, named_enum, single_inner};
use serde::Serialize;

/// ExtendedDeviceID: the Phase II device identifier CHOICE, carried bare (DeviceID in requests)
/// or inside one of the `[APPLICATION n]` wrappers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceId {
    /// `[0] IMPLICIT NumberDigits`
    DialingNumber(Digits),
    /// `[1] IMPLICIT INTEGER`
    DeviceNumber(i64),
    /// `[2] IMPLICIT NumberDigits` (OXE: external numbers)
    ImplicitPublic(Digits),
    /// `[3] PublicTON` (ton = the TON alternative's tag number)
    ExplicitPublic { ton: u32, digits: Digits },
    /// `[4] IMPLICIT NumberDigits` (OXE: internal extensions)
    ImplicitPrivate(Digits),
    /// `[5] PrivateTON`
    ExplicitPrivate { ton: u32, digits: Digits },
    /// `[6] IMPLICIT OtherPlan`
    #[serde(serialize_with = "crate::hex::serialize")]
    Other(Vec<u8>),
    /// An alternative this decoder does not know, kept as received.
    Unknown(RawTlv),
}

impl DeviceId {
    /// A dialing number, the form used by requests (`[0] IMPLICIT`).
    pub fn dialing(number: &str) -> Self {
        DeviceId::DialingNumber(Digits::from(number))
    }

    /// The number as text, for the forms that carry digits.
    pub fn digits(&self) -> Option<&Digits> {
        match self {
            DeviceId::DialingNumber(d)
            | DeviceId::ImplicitPublic(d)
            | DeviceId::ImplicitPrivate(d)
            | DeviceId::ExplicitPublic { digits: d, .. }
            | DeviceId::ExplicitPrivate { digits: d, .. } => Some(d),
            _ => None,
        }
    }

    fn try_decode(t: &Tlv<'_>) -> Result<Self> {
        let n = t.tag.number;
        Ok(match (n, t.tag.constructed) {
            (0, false) => DeviceId::DialingNumber(Digits(t.octets("dialingNumber")?.to_vec())),
            (1, false) => DeviceId::DeviceNumber(t.integer("deviceNumber")?),
            (2, false) => DeviceId::ImplicitPublic(Digits(t.octets("implicitPublic")?.to_vec())),
            (4, false) => DeviceId::ImplicitPrivate(Digits(t.octets("implicitPrivate")?.to_vec())),
            (6, false) => DeviceId::Other(t.octets("other")?.to_vec()),
            (3 | 5, true) => {
                let inner = single_inner(t, "ton")?;
                if inner.tag.class != Class::Context || inner.tag.constructed {
                    return Ok(DeviceId::Unknown(RawTlv::from_tlv(t)));
                }
                let digits = Digits(inner.octets("ton")?.to_vec());
                let ton = inner.tag.number;
                if n == 3 {
                    DeviceId::ExplicitPublic { ton, digits }
                } else {
                    DeviceId::ExplicitPrivate { ton, digits }
                }
            }
            _ => DeviceId::Unknown(RawTlv::from_tlv(t)),
        })
    }
}

impl Field for DeviceId {
    fn matches(tag: Tag) -> bool {
        tag.class == Class::Context && tag.number <= 6
    }
    /// Never fails: a malformed alternative is kept opaque.
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(DeviceId::try_decode(t).unwrap_or_else(|_| DeviceId::Unknown(RawTlv::from_tlv(t))))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        match self {
            DeviceId::DialingNumber(d) => w.primitive(Tag::context(0), &d.0),
            DeviceId::DeviceNumber(n) => w.integer(Tag::context(1), *n),
            DeviceId::ImplicitPublic(d) => w.primitive(Tag::context(2), &d.0),
            DeviceId::ExplicitPublic { ton, digits } => w.constructed(Tag::context_c(3), |w| {
                w.primitive(Tag::context(*ton), &digits.0)
            }),
            DeviceId::ImplicitPrivate(d) => w.primitive(Tag::context(4), &d.0),
            DeviceId::ExplicitPrivate { ton, digits } => w.constructed(Tag::context_c(5), |w| {
                w.primitive(Tag::context(*ton), &digits.0)
            }),
            DeviceId::Other(o) => w.primitive(Tag::context(6), o),
            DeviceId::Unknown(raw) => raw.encode(w),
        }
    }
}

/// What a device-identifier wrapper holds: a device, or one of the "no device" forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceRef {
    DeviceIdentifier(DeviceId),
    /// `[7] IMPLICIT NULL`
    NotKnown,
    /// `[8] IMPLICIT NULL` (OXE sends `64 02 88 00` as lastRedirectionDevice)
    NotRequired,
    /// Anything else inside the wrapper, kept as received.
    Unknown(RawTlv),
}

/// `[APPLICATION N]` device wrapper: 1 CallingDeviceID, 2 CalledDeviceID, 3 SubjectDeviceID,
/// 4 RedirectionDeviceID.
#[derive(Debug, Clone, PartialEq)]
pub struct AppDevice<const N: u32>(pub DeviceRef);

pub type CallingDeviceId = AppDevice<1>;
pub type CalledDeviceId = AppDevice<2>;
pub type SubjectDeviceId = AppDevice<3>;
pub type RedirectionDeviceId = AppDevice<4>;

impl<const N: u32> AppDevice<N> {
    pub fn device(d: DeviceId) -> Self {
        AppDevice(DeviceRef::DeviceIdentifier(d))
    }
    /// The device's number as text, when the wrapper holds one.
    pub fn digits(&self) -> Option<&Digits> {
        match &self.0 {
            DeviceRef::DeviceIdentifier(d) => d.digits(),
            _ => None,
        }
    }
    pub fn device_id(&self) -> Option<&DeviceId> {
        match &self.0 {
            DeviceRef::DeviceIdentifier(d) => Some(d),
            _ => None,
        }
    }
}

impl<const N: u32> Serialize for AppDevice<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<const N: u32> Field for AppDevice<N> {
    fn matches(tag: Tag) -> bool {
        tag == Tag::application_c(N)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        let inner = single_inner(t, "deviceIdentifier")?;
        let r = if is_ctx(inner.tag, 7) && !inner.tag.constructed && inner.value.is_empty() {
            DeviceRef::NotKnown
        } else if is_ctx(inner.tag, 8) && !inner.tag.constructed && inner.value.is_empty() {
            DeviceRef::NotRequired
        } else if DeviceId::matches(inner.tag) {
            DeviceRef::DeviceIdentifier(DeviceId::decode(&inner)?)
        } else {
            DeviceRef::Unknown(RawTlv::from_tlv(&inner))
        };
        Ok(AppDevice(r))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::application_c(N), |w| match &self.0 {
            DeviceRef::DeviceIdentifier(d) => d.encode(w),
            DeviceRef::NotKnown => w.null(Tag::context(7)),
            DeviceRef::NotRequired => w.null(Tag::context(8)),
            DeviceRef::Unknown(raw) => raw.encode(w),
        });
    }
}

/// The device part of a ConnectionID.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LocalDeviceId {
    /// `staticID DeviceID` (`[0]` dialing number or `[1]` device number)
    StaticId(DeviceId),
    /// `dynamicID [3] IMPLICIT OCTET STRING` (OXE: 4 opaque bytes)
    #[serde(serialize_with = "crate::hex::serialize")]
    DynamicId(Vec<u8>),
}

/// ConnectionID `[APPLICATION 11] IMPLICIT SEQUENCE { call [2] IMPLICIT OCTET STRING OPTIONAL,
/// device LocalDeviceID OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionId {
    #[serde(serialize_with = "ser_opt_hex")]
    pub call: Option<Vec<u8>>,
    pub device: Option<LocalDeviceId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

fn ser_opt_hex<S: serde::Serializer>(
    v: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(b) => crate::hex::serialize(b, s),
        None => s.serialize_none(),
    }
}

impl ConnectionId {
    /// A connection with a call id and a dynamic device id, as OXE gives them.
    pub fn dynamic(call: &[u8], device: &[u8]) -> Self {
        ConnectionId {
            call: Some(call.to_vec()),
            device: Some(LocalDeviceId::DynamicId(device.to_vec())),
            unknown: vec![],
        }
    }
    /// The call id read as a big-endian number (OXE's 2-byte call reference).
    pub fn call_number(&self) -> Option<u64> {
        let c = self.call.as_ref()?;
        (c.len() <= 8).then(|| c.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }
}

pub const CONNECTION_ID: Tag = Tag::application_c(11);

impl Field for ConnectionId {
    fn matches(tag: Tag) -> bool {
        tag == CONNECTION_ID
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        let mut call = None;
        let mut device = None;
        let unknown = super::common::read_fields(t, "connectionID", |el| {
            if call.is_none() && el.tag == Tag::context(2) {
                call = Some(el.octets("call")?.to_vec());
            } else if device.is_none() && el.tag == Tag::context(3) {
                device = Some(LocalDeviceId::DynamicId(el.octets("dynamicID")?.to_vec()));
            } else if device.is_none() && (el.tag == Tag::context(0) || el.tag == Tag::context(1)) {
                device = Some(LocalDeviceId::StaticId(DeviceId::decode(el)?));
            } else {
                return Ok(false);
            }
            Ok(true)
        })?;
        Ok(ConnectionId {
            call,
            device,
            unknown,
        })
    }
    fn encode(&self, w: &mut Writer<'_>) {
        self.encode_as(CONNECTION_ID, w);
    }
}

impl ConnectionId {
    /// Writes the connection under `tag` (ConnectionID is `[APPLICATION 11] IMPLICIT`; some
    /// arguments carry it `[n] IMPLICIT` instead).
    pub fn encode_as(&self, tag: Tag, w: &mut Writer<'_>) {
        w.constructed(tag, |w| {
            if let Some(c) = &self.call {
                w.primitive(Tag::context(2), c);
            }
            match &self.device {
                Some(LocalDeviceId::DynamicId(d)) => w.primitive(Tag::context(3), d),
                Some(LocalDeviceId::StaticId(d)) => d.encode(w),
                None => {}
            }
            for u in &self.unknown {
                u.encode(w);
            }
        });
    }
}

/// One entry of a ConnectionList: a bare ConnectionID (Phase I form), the
/// `SEQUENCE { newConnection [0], oldConnection [1], endpoint [2] }` form, or the OXE form
/// `[3] SEQUENCE { connection ConnectionID, endpoint DeviceID }` (every Conferenced and
/// Transferred event in `fixtures/real/oxe-public/`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionListItem {
    Connection(ConnectionId),
    Item(ConnectionListEntry),
    /// The OXE form: one party of the call after the conference or transfer.
    Party(ConnectionParty),
    Unknown(RawTlv),
}

impl ConnectionListItem {
    /// The connection the entry stands for after the operation (the new connection).
    pub fn connection(&self) -> Option<&ConnectionId> {
        match self {
            ConnectionListItem::Connection(c) => Some(c),
            ConnectionListItem::Item(e) => e.new_connection.as_ref(),
            ConnectionListItem::Party(p) => p.connection.as_ref(),
            ConnectionListItem::Unknown(_) => None,
        }
    }

    /// The connection the entry stood for before the operation, when the PBX says.
    pub fn old_connection(&self) -> Option<&ConnectionId> {
        match self {
            ConnectionListItem::Item(e) => e.old_connection.as_ref(),
            _ => None,
        }
    }

    /// The device at the end of the connection, when the PBX names it.
    pub fn endpoint(&self) -> Option<&DeviceId> {
        match self {
            ConnectionListItem::Item(ConnectionListEntry {
                endpoint: Some(Endpoint::Device(d)),
                ..
            }) => Some(d),
            ConnectionListItem::Party(p) => p.endpoint.as_ref(),
            _ => None,
        }
    }
}

/// `endpoint [2] CHOICE { deviceID DeviceID, notKnown NULL }` of a connection list entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    Device(DeviceId),
    NotKnown,
    /// Anything else inside `[2]`, kept as received.
    Unknown(RawTlv),
}

impl Endpoint {
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        let inner = single_inner(t, "endpoint")?;
        Ok(if inner.tag == Tag::NULL && inner.value.is_empty() {
            Endpoint::NotKnown
        } else if DeviceId::matches(inner.tag) {
            Endpoint::Device(DeviceId::decode(&inner)?)
        } else {
            Endpoint::Unknown(RawTlv::from_tlv(&inner))
        })
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(Tag::context_c(2), |w| match self {
            Endpoint::Device(d) => d.encode(w),
            Endpoint::NotKnown => w.null(Tag::NULL),
            Endpoint::Unknown(raw) => raw.encode(w),
        });
    }
}

/// `SEQUENCE { newConnection [0] ConnectionID OPTIONAL, oldConnection [1] ConnectionID
/// OPTIONAL, endpoint [2] CHOICE { deviceID DeviceID, notKnown NULL } OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionListEntry {
    pub new_connection: Option<ConnectionId>,
    pub old_connection: Option<ConnectionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// The OXE connection list entry: `[3] SEQUENCE { connection ConnectionID, endpoint DeviceID }`
/// (the endpoint a dialing number `[0]` in every capture; any DeviceID form is read).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionParty {
    pub connection: Option<ConnectionId>,
    pub endpoint: Option<DeviceId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// The tag of the OXE connection list entry.
const PARTY: Tag = Tag::context_c(3);

impl ConnectionParty {
    /// `None` when `[3]` does not hold exactly one SEQUENCE (the item is then kept opaque).
    fn decode(t: &Tlv<'_>) -> Result<Option<Self>> {
        let Ok(seq) = single_inner(t, "connectionListItem") else {
            return Ok(None);
        };
        if seq.tag != Tag::SEQUENCE {
            return Ok(None);
        }
        let mut connection = None;
        let mut endpoint = None;
        let unknown = super::common::read_fields(&seq, "connectionListItem", |f| {
            if connection.is_none() && ConnectionId::matches(f.tag) {
                connection = Some(ConnectionId::decode(f)?);
            } else if endpoint.is_none() && DeviceId::matches(f.tag) {
                endpoint = Some(DeviceId::decode(f)?);
            } else {
                return Ok(false);
            }
            Ok(true)
        })?;
        Ok(Some(ConnectionParty {
            connection,
            endpoint,
            unknown,
        }))
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(PARTY, |w| {
            w.constructed(Tag::SEQUENCE, |w| {
                if let Some(c) = &self.connection {
                    c.encode(w);
                }
                if let Some(d) = &self.endpoint {
                    d.encode(w);
                }
                for u in &self.unknown {
                    u.encode(w);
                }
            })
        });
    }
}

/// ConnectionList: `[APPLICATION 12] IMPLICIT SEQUENCE OF ...` as the standards tag it, or a
/// plain `SEQUENCE OF` of the OXE `[3]` entries as the OXE sends it. The form is not stored: a
/// non-empty list whose entries are all OXE entries is written the OXE way, any other list
/// under `[APPLICATION 12]`, which gives back the bytes of every real capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ConnectionList(pub Vec<ConnectionListItem>);

const CONNECTION_LIST: Tag = Tag::application_c(12);

impl ConnectionList {
    /// True when the list is written as the OXE writes it (plain SEQUENCE OF `[3]` entries).
    pub fn is_oxe_form(&self) -> bool {
        !self.0.is_empty()
            && self
                .0
                .iter()
                .all(|i| matches!(i, ConnectionListItem::Party(_)))
    }
}

impl Field for ConnectionList {
    fn matches(tag: Tag) -> bool {
        tag == CONNECTION_LIST || tag == Tag::SEQUENCE
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        let mut r = t.reader("connectionList")?;
        let mut items = Vec::new();
        while let Some(el) = r.next("connectionList")? {
            let item = if ConnectionId::matches(el.tag) {
                ConnectionListItem::Connection(ConnectionId::decode(&el)?)
            } else if el.tag == PARTY {
                match ConnectionParty::decode(&el)? {
                    Some(p) => ConnectionListItem::Party(p),
                    None => ConnectionListItem::Unknown(RawTlv::from_tlv(&el)),
                }
            } else if el.tag == Tag::SEQUENCE {
                let mut new_connection = None;
                let mut old_connection = None;
                let mut endpoint = None;
                let unknown = super::common::read_fields(&el, "connectionListItem", |f| {
                    if new_connection.is_none() && f.tag == Tag::context_c(0) {
                        new_connection =
                            Some(ConnectionId::decode(&single_inner(f, "newConnection")?)?);
                    } else if old_connection.is_none() && f.tag == Tag::context_c(1) {
                        old_connection =
                            Some(ConnectionId::decode(&single_inner(f, "oldConnection")?)?);
                    } else if endpoint.is_none() && f.tag == Tag::context_c(2) {
                        endpoint = Some(Endpoint::decode(f)?);
                    } else {
                        return Ok(false);
                    }
                    Ok(true)
                })?;
                ConnectionListItem::Item(ConnectionListEntry {
                    new_connection,
                    old_connection,
                    endpoint,
                    unknown,
                })
            } else {
                ConnectionListItem::Unknown(RawTlv::from_tlv(&el))
            };
            items.push(item);
        }
        let list = ConnectionList(items);
        // A plain SEQUENCE is only the OXE form; anything else under it is not a list.
        if t.tag == Tag::SEQUENCE && !list.is_oxe_form() {
            return Err(super::ber::PduError::new(
                t.offset,
                "connectionList",
                super::ber::ErrorKind::UnexpectedTag {
                    expected: CONNECTION_LIST,
                    found: t.tag,
                },
            ));
        }
        Ok(list)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        let tag = if self.is_oxe_form() {
            Tag::SEQUENCE
        } else {
            CONNECTION_LIST
        };
        w.constructed(tag, |w| {
            for item in &self.0 {
                match item {
                    ConnectionListItem::Connection(c) => c.encode(w),
                    ConnectionListItem::Item(e) => w.constructed(Tag::SEQUENCE, |w| {
                        if let Some(c) = &e.new_connection {
                            w.constructed(Tag::context_c(0), |w| c.encode(w));
                        }
                        if let Some(c) = &e.old_connection {
                            w.constructed(Tag::context_c(1), |w| c.encode(w));
                        }
                        if let Some(d) = &e.endpoint {
                            d.encode(w);
                        }
                        for u in &e.unknown {
                            u.encode(w);
                        }
                    }),
                    ConnectionListItem::Party(p) => p.encode(w),
                    ConnectionListItem::Unknown(raw) => raw.encode(w),
                }
            }
        });
    }
}

named_enum! {
    /// LocalConnectionState `[APPLICATION 14] IMPLICIT ENUMERATED`.
    LocalConnectionState {
        Null = 0 => "null",
        Initiated = 1 => "initiated",
        Alerting = 2 => "alerting",
        Connected = 3 => "connected",
        Hold = 4 => "hold",
        Queued = 5 => "queued",
        Fail = 6 => "fail",
    }
}

impl Field for LocalConnectionState {
    fn matches(tag: Tag) -> bool {
        tag == Tag::application(14)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("localConnectionState").map(Self::from_code)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::application(14), self.code());
    }
}

named_enum! {
    /// EventCause `ENUMERATED` (universal tag 10). Values 1..34 are ECMA-180/218; 35..49 are the
    /// ECMA-218 additions as numbered in ECMA-285 (22 newCall, 37 consultation, 46 networkSignal,
    /// 48 normalClearing are confirmed by the OXE captures). Others are kept as numbers.
    EventCause {
        ActiveMonitor = 1 => "activeMonitor",
        Alternate = 2 => "alternate",
        Busy = 3 => "busy",
        CallBack = 4 => "callBack",
        CallCancelled = 5 => "callCancelled",
        CallForwardAlways = 6 => "callForwardAlways",
        CallForwardBusy = 7 => "callForwardBusy",
        CallForwardNoAnswer = 8 => "callForwardNoAnswer",
        CallForward = 9 => "callForward",
        CallNotAnswered = 10 => "callNotAnswered",
        CallPickup = 11 => "callPickup",
        CampOn = 12 => "campOn",
        DestNotObtainable = 13 => "destNotObtainable",
        DoNotDisturb = 14 => "doNotDisturb",
        IncompatibleDestination = 15 => "incompatibleDestination",
        InvalidAccountCode = 16 => "invalidAccountCode",
        KeyConference = 17 => "keyConference",
        Lockout = 18 => "lockout",
        Maintenance = 19 => "maintenance",
        NetworkCongestion = 20 => "networkCongestion",
        NetworkNotObtainable = 21 => "networkNotObtainable",
        NewCall = 22 => "newCall",
        NoAvailableAgents = 23 => "noAvailableAgents",
        Override = 24 => "override",
        Park = 25 => "park",
        Overflow = 26 => "overflow",
        Recall = 27 => "recall",
        Redirected = 28 => "redirected",
        ReorderTone = 29 => "reorderTone",
        ResourcesNotAvailable = 30 => "resourcesNotAvailable",
        SilentMonitor = 31 => "silentMonitor",
        Transfer = 32 => "transfer",
        TrunksBusy = 33 => "trunksBusy",
        VoiceUnitInitiator = 34 => "voiceUnitInitiator",
        Blocked = 35 => "blocked",
        CharacterCountReached = 36 => "characterCountReached",
        Consultation = 37 => "consultation",
        Distributed = 38 => "distributed",
        DtmfDigitDetected = 39 => "dTMFDigitDetected",
        DurationExceeded = 40 => "durationExceeded",
        EndOfMessageDetected = 41 => "endOfMessageDetected",
        EnteringDistribution = 42 => "enteringDistribution",
        ForcedPause = 43 => "forcedPause",
        MakeCall = 44 => "makeCall",
        MessageDurationExceeded = 45 => "messageDurationExceeded",
        NetworkSignal = 46 => "networkSignal",
        NextMessage = 47 => "nextMessage",
        NormalClearing = 48 => "normalClearing",
        NoSpeechDetected = 49 => "noSpeechDetected",
    }
}

impl Field for EventCause {
    fn matches(tag: Tag) -> bool {
        tag == Tag::ENUMERATED
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("cause").map(Self::from_code)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::ENUMERATED, self.code());
    }
}

/// MonitorCrossRefID `[APPLICATION 21] IMPLICIT OCTET STRING` (4 bytes on OXE).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MonitorCrossRefId(#[serde(serialize_with = "crate::hex::serialize")] pub Vec<u8>);

impl MonitorCrossRefId {
    /// The octets read as a big-endian number (what OXE tools print: `01 35 f3 03` = 20312835).
    pub fn as_u64(&self) -> Option<u64> {
        (self.0.len() <= 8).then(|| self.0.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }
}

pub const MONITOR_CROSS_REF_ID: Tag = Tag::application(21);

impl Field for MonitorCrossRefId {
    fn matches(tag: Tag) -> bool {
        tag == MONITOR_CROSS_REF_ID
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(MonitorCrossRefId(t.octets("crossRefIdentifier")?.to_vec()))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.primitive(MONITOR_CROSS_REF_ID, &self.0);
    }
}

/// AgentID `[10] IMPLICIT OCTET STRING` in the agent events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AgentId(pub Digits);

impl Field for AgentId {
    fn matches(tag: Tag) -> bool {
        tag == Tag::context(10)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(AgentId(Digits(t.octets("agentID")?.to_vec())))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.primitive(Tag::context(10), &self.0.0);
    }
}

/// AgentPassword `[11] IMPLICIT OCTET STRING`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AgentPassword(#[serde(serialize_with = "crate::hex::serialize")] pub Vec<u8>);

impl Field for AgentPassword {
    fn matches(tag: Tag) -> bool {
        tag == Tag::context(11)
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(AgentPassword(t.octets("password")?.to_vec()))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.primitive(Tag::context(11), &self.0);
    }
}

named_enum! {
    /// ForwardingType ENUMERATED.
    ForwardingType {
        ForwardImmediateOn = 0 => "forwardImmediateOn",
        ForwardImmediateOff = 1 => "forwardImmediateOff",
        ForwardBusyOn = 2 => "forwardBusyOn",
        ForwardBusyOff = 3 => "forwardBusyOff",
        ForwardNoAnsOn = 4 => "forwardNoAnsOn",
        ForwardNoAnsOff = 5 => "forwardNoAnsOff",
        ForwardBusyIntOn = 6 => "forwardBusyIntOn",
        ForwardBusyIntOff = 7 => "forwardBusyIntOff",
        ForwardBusyExtOn = 8 => "forwardBusyExtOn",
        ForwardBusyExtOff = 9 => "forwardBusyExtOff",
        ForwardNoAnsIntOn = 10 => "forwardNoAnsIntOn",
        ForwardNoAnsIntOff = 11 => "forwardNoAnsIntOff",
        ForwardNoAnsExtOn = 12 => "forwardNoAnsExtOn",
        ForwardNoAnsExtOff = 13 => "forwardNoAnsExtOff",
    }
}

impl Field for ForwardingType {
    fn matches(tag: Tag) -> bool {
        tag == Tag::ENUMERATED
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("forwardingType").map(Self::from_code)
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::ENUMERATED, self.code());
    }
}

super::common::sequence_type! {
    /// ForwardParameter `SEQUENCE { forwardingType ForwardingType, forwardDN NumberDigits
    /// OPTIONAL }` (forwardDN as an IA5String, or a DeviceID on PBXs that send one).
    ForwardParameter = "forwardParameter" {
        forwarding_type: ForwardingType = "forwardingType", req;
        forward_dn: Digits = "forwardDN", opt;
        forward_device: DeviceId = "forwardDevice", opt;
    }
}
super::common::sequence_field!(ForwardParameter, Tag::SEQUENCE);

/// Reads a bare MonitorCrossRefID or DeviceID element used as a whole argument.
pub(crate) fn expect_field<T: Field>(t: &Tlv<'_>, what: &str) -> Result<T> {
    if T::matches(t.tag) {
        T::decode(t).map_err(|e| e.within(what))
    } else {
        Err(super::ber::PduError::new(
            t.offset,
            what,
            super::ber::ErrorKind::Invalid("unexpected element"),
        ))
    }
}
