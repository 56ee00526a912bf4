//! CSTA XML (ECMA-323 editions 3, 4 and 6, with ECMA-354 application sessions): typed
//! messages, a namespace-aware decoder, an encoder for the negotiated edition, and the
//! CSTA-XML-over-TCP 8-byte header framing.
//!
//! Layers: [`xml`] (a bounded element tree read with quick-xml's `NsReader`, the writer, the
//! field macros), [`device`] (device identifiers in their field forms), [`types`],
//! [`events`], [`services`] and [`session`] (the messages), [`requests`] (ready-made requests
//! for the adapter), [`framing`] (the TCP header as `tokio_util` codecs) and [`fuzz`] (entry
//! points shared by the fuzz targets and the corpus-replay tests).
//!
//! Decoding is prefix-agnostic: `<MakeCall xmlns="...ed3">`, `<ns3:MakeCall
//! xmlns:ns3="...ed4">` and a bare `<MakeCall>` read the same. Unknown elements, elements in
//! other namespaces and private data are kept opaque ([`Opaque`]: local name and raw XML)
//! and written back verbatim; they are never an error. DOCTYPE is refused and only the
//! predefined entities and character references are resolved. Encoding writes no XML
//! declaration and one default namespace on the root:
//!
//! ```
//! use ctigw_codecs::csta_xml::{Edition, Message, requests};
//! let xml = requests::make_call("tel:+3312345", "tel:+3367890").to_xml(Edition::Ed3);
//! assert_eq!(
//!     std::str::from_utf8(&xml).unwrap(),
//!     "<MakeCall xmlns=\"http://www.ecma-international.org/standards/ecma-323/csta/ed3\">\
//!      <callingDevice>tel:+3312345</callingDevice>\
//!      <calledDirectoryNumber>tel:+3367890</calledDirectoryNumber>\
//!      <autoOriginate>doNotPrompt</autoOriginate></MakeCall>"
//! );
//! assert_eq!(Message::decode(&xml).unwrap(), requests::make_call("tel:+3312345", "tel:+3367890"));
//! ```

pub mod device;
pub mod error;
pub mod events;
pub mod framing;
pub mod fuzz;
pub mod requests;
pub mod services;
pub mod session;
pub mod types;
pub mod xml;

pub use device::{Device, DeviceId};
pub use error::{ErrorKind, MessageError};
pub use events::*;
pub use framing::{
    CstaXmlCodec, CstaXmlFrameCodec, FrameError, InvokeIdGen, TcpFrame, TcpMessage, TcpMessageError,
};
pub use services::*;
pub use session::*;
pub use types::*;
pub use xml::{APPL_SESSION_NS, CSTA_NS_PREFIX, Limits, Opaque};

use crate::wire::{WireDecode, WireEncode};
use bytes::BytesMut;
use serde::Serialize;
use std::convert::Infallible;
use xml::{Doc, El, Writer, XmlValue};

/// The ECMA-323 edition a link speaks, which decides the namespace we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Edition {
    #[default]
    /// ECMA-323 edition 3.
    Ed3,
    /// ECMA-323 edition 4.
    Ed4,
    /// ECMA-323 edition 6.
    Ed6,
}

impl Edition {
    /// Every edition, oldest first.
    pub const ALL: [Edition; 3] = [Edition::Ed3, Edition::Ed4, Edition::Ed6];

    /// The edition's namespace URI.
    pub fn namespace(self) -> &'static str {
        match self {
            Edition::Ed3 => "http://www.ecma-international.org/standards/ecma-323/csta/ed3",
            Edition::Ed4 => "http://www.ecma-international.org/standards/ecma-323/csta/ed4",
            Edition::Ed6 => "http://www.ecma-international.org/standards/ecma-323/csta/ed6",
        }
    }
    /// The edition named by a namespace URI (also as a StartApplicationSession
    /// `protocolVersion`).
    pub fn from_namespace(uri: &str) -> Option<Edition> {
        Edition::ALL.into_iter().find(|e| e.namespace() == uri)
    }
}

#[derive(Clone, Copy)]
enum NsKind {
    Csta,
    Session,
}

macro_rules! messages {
    ($( $(#[$meta:meta])* $variant:ident = $xml:literal, $ns:ident; )*) => {
        /// One CSTA XML document: a request, a response or an event. A root element we do
        /// not know is kept as [`Message::Unknown`].
        // Events are the common case; boxing them would cost an allocation per event.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(tag = "message")]
        pub enum Message {
            $( $(#[$meta])* #[doc = concat!("A `", $xml, "` document.")] #[serde(rename = $xml)] $variant($variant), )*
            /// A root element we do not interpret, kept as received.
            Unknown(Opaque),
        }

        $(
            impl From<$variant> for Message {
                fn from(m: $variant) -> Message {
                    Message::$variant(m)
                }
            }
        )*

        impl Message {
            /// The root element's name (`DeliveredEvent`, `MakeCall` ...).
            pub fn element_name(&self) -> &str {
                match self {
                    $( Message::$variant(_) => $xml, )*
                    Message::Unknown(o) => &o.name,
                }
            }

            fn decode_root(el: El<'_>) -> Result<Message, MessageError> {
                if el.is_ours() {
                    match el.name() {
                        $( $xml => return $variant::decode(el).map(Message::$variant), )*
                        _ => {}
                    }
                }
                Ok(Message::Unknown(el.opaque()))
            }

            /// Appends the document, in `edition`'s namespace (ECMA-354 messages in theirs).
            pub fn encode(&self, edition: Edition, buf: &mut BytesMut) {
                match self {
                    $(
                        Message::$variant(m) => {
                            let ns = match NsKind::$ns {
                                NsKind::Csta => edition.namespace(),
                                NsKind::Session => APPL_SESSION_NS,
                            };
                            m.encode($xml, &mut Writer::new(buf, ns));
                        }
                    )*
                    Message::Unknown(o) => buf.extend_from_slice(o.raw.as_bytes()),
                }
            }
        }
    };
}

messages! {
    // Monitoring and snapshot
    MonitorStart = "MonitorStart", Csta;
    MonitorStartResponse = "MonitorStartResponse", Csta;
    MonitorStop = "MonitorStop", Csta;
    MonitorStopResponse = "MonitorStopResponse", Csta;
    SnapshotDevice = "SnapshotDevice", Csta;
    SnapshotDeviceResponse = "SnapshotDeviceResponse", Csta;
    // Call control
    MakeCall = "MakeCall", Csta;
    MakeCallResponse = "MakeCallResponse", Csta;
    AnswerCall = "AnswerCall", Csta;
    AnswerCallResponse = "AnswerCallResponse", Csta;
    ClearConnection = "ClearConnection", Csta;
    ClearConnectionResponse = "ClearConnectionResponse", Csta;
    ClearCall = "ClearCall", Csta;
    ClearCallResponse = "ClearCallResponse", Csta;
    HoldCall = "HoldCall", Csta;
    HoldCallResponse = "HoldCallResponse", Csta;
    RetrieveCall = "RetrieveCall", Csta;
    RetrieveCallResponse = "RetrieveCallResponse", Csta;
    ConsultationCall = "ConsultationCall", Csta;
    ConsultationCallResponse = "ConsultationCallResponse", Csta;
    TransferCall = "TransferCall", Csta;
    TransferCallResponse = "TransferCallResponse", Csta;
    ConferenceCall = "ConferenceCall", Csta;
    ConferenceCallResponse = "ConferenceCallResponse", Csta;
    AlternateCall = "AlternateCall", Csta;
    AlternateCallResponse = "AlternateCallResponse", Csta;
    DeflectCall = "DeflectCall", Csta;
    DeflectCallResponse = "DeflectCallResponse", Csta;
    SingleStepTransferCall = "SingleStepTransferCall", Csta;
    SingleStepTransferCallResponse = "SingleStepTransferCallResponse", Csta;
    GenerateDigits = "GenerateDigits", Csta;
    GenerateDigitsResponse = "GenerateDigitsResponse", Csta;
    // Features
    SetForwarding = "SetForwarding", Csta;
    SetForwardingResponse = "SetForwardingResponse", Csta;
    GetForwarding = "GetForwarding", Csta;
    GetForwardingResponse = "GetForwardingResponse", Csta;
    SetDoNotDisturb = "SetDoNotDisturb", Csta;
    SetDoNotDisturbResponse = "SetDoNotDisturbResponse", Csta;
    GetDoNotDisturb = "GetDoNotDisturb", Csta;
    GetDoNotDisturbResponse = "GetDoNotDisturbResponse", Csta;
    SetAgentState = "SetAgentState", Csta;
    SetAgentStateResponse = "SetAgentStateResponse", Csta;
    GetAgentState = "GetAgentState", Csta;
    GetAgentStateResponse = "GetAgentStateResponse", Csta;
    // Negative response
    CstaErrorCode = "CSTAErrorCode", Csta;
    // Application session (ECMA-354)
    StartApplicationSession = "StartApplicationSession", Session;
    StartApplicationSessionPosResponse = "StartApplicationSessionPosResponse", Session;
    StartApplicationSessionNegResponse = "StartApplicationSessionNegResponse", Session;
    ResetApplicationSessionTimer = "ResetApplicationSessionTimer", Session;
    ResetApplicationSessionTimerPosResponse = "ResetApplicationSessionTimerPosResponse", Session;
    ResetApplicationSessionTimerNegResponse = "ResetApplicationSessionTimerNegResponse", Session;
    StopApplicationSession = "StopApplicationSession", Session;
    StopApplicationSessionPosResponse = "StopApplicationSessionPosResponse", Session;
    StopApplicationSessionNegResponse = "StopApplicationSessionNegResponse", Session;
    // System status and features
    SystemStatus = "SystemStatus", Csta;
    SystemStatusResponse = "SystemStatusResponse", Csta;
    RequestSystemStatus = "RequestSystemStatus", Csta;
    RequestSystemStatusResponse = "RequestSystemStatusResponse", Csta;
    GetCstaFeatures = "GetCSTAFeatures", Csta;
    GetCstaFeaturesResponse = "GetCSTAFeaturesResponse", Csta;
    // Events
    OriginatedEvent = "OriginatedEvent", Csta;
    ServiceInitiatedEvent = "ServiceInitiatedEvent", Csta;
    DeliveredEvent = "DeliveredEvent", Csta;
    EstablishedEvent = "EstablishedEvent", Csta;
    HeldEvent = "HeldEvent", Csta;
    RetrievedEvent = "RetrievedEvent", Csta;
    ConnectionClearedEvent = "ConnectionClearedEvent", Csta;
    CallClearedEvent = "CallClearedEvent", Csta;
    DivertedEvent = "DivertedEvent", Csta;
    FailedEvent = "FailedEvent", Csta;
    QueuedEvent = "QueuedEvent", Csta;
    NetworkReachedEvent = "NetworkReachedEvent", Csta;
    TransferedEvent = "TransferedEvent", Csta;
    ConferencedEvent = "ConferencedEvent", Csta;
    AgentLoggedOnEvent = "AgentLoggedOnEvent", Csta;
    AgentLoggedOffEvent = "AgentLoggedOffEvent", Csta;
    AgentReadyEvent = "AgentReadyEvent", Csta;
    AgentNotReadyEvent = "AgentNotReadyEvent", Csta;
    AgentWorkingAfterCallEvent = "AgentWorkingAfterCallEvent", Csta;
    AgentBusyEvent = "AgentBusyEvent", Csta;
    DoNotDisturbEvent = "DoNotDisturbEvent", Csta;
    ForwardingEvent = "ForwardingEvent", Csta;
}

/// A decoded document and the ECMA-323 edition its root namespace names, if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The edition its root namespace names, if any.
    pub edition: Option<Edition>,
    /// The document.
    pub message: Message,
}

impl WireDecode<'_> for Decoded {
    type Error = MessageError;

    /// Decodes one document with the default [`Limits`], with the edition its root names.
    fn decode(data: &[u8]) -> Result<Decoded, MessageError> {
        Message::decode_with(data, &Limits::default())
    }
}

impl WireEncode for Decoded {
    type Error = Infallible;

    /// Writes the document in its edition's namespace (the default edition when it has none).
    fn encode(&self, out: &mut BytesMut) -> Result<(), Infallible> {
        self.message.encode(self.edition.unwrap_or_default(), out);
        Ok(())
    }
}

impl Message {
    /// Decodes one document with the default [`Limits`].
    pub fn decode(data: &[u8]) -> Result<Message, MessageError> {
        Self::decode_with(data, &Limits::default()).map(|d| d.message)
    }

    /// Decodes one document within `limits`, also reporting the root's edition.
    pub fn decode_with(data: &[u8], limits: &Limits) -> Result<Decoded, MessageError> {
        let doc = Doc::parse(data, limits)?;
        let edition = doc.root_ns.as_deref().and_then(Edition::from_namespace);
        let message = Message::decode_root(doc.root())?;
        Ok(Decoded { edition, message })
    }

    /// The document as bytes.
    pub fn to_xml(&self, edition: Edition) -> BytesMut {
        let mut buf = BytesMut::with_capacity(512);
        self.encode(edition, &mut buf);
        buf
    }

    /// The monitor an event belongs to (`None` for requests and responses).
    pub fn monitor_cross_ref_id(&self) -> Option<&str> {
        Some(match self {
            Message::OriginatedEvent(e) => &e.monitor_cross_ref_id,
            Message::ServiceInitiatedEvent(e) => &e.monitor_cross_ref_id,
            Message::DeliveredEvent(e) => &e.monitor_cross_ref_id,
            Message::EstablishedEvent(e) => &e.monitor_cross_ref_id,
            Message::HeldEvent(e) => &e.monitor_cross_ref_id,
            Message::RetrievedEvent(e) => &e.monitor_cross_ref_id,
            Message::ConnectionClearedEvent(e) => &e.monitor_cross_ref_id,
            Message::CallClearedEvent(e) => &e.monitor_cross_ref_id,
            Message::DivertedEvent(e) => &e.monitor_cross_ref_id,
            Message::FailedEvent(e) => &e.monitor_cross_ref_id,
            Message::QueuedEvent(e) => &e.monitor_cross_ref_id,
            Message::NetworkReachedEvent(e) => &e.monitor_cross_ref_id,
            Message::TransferedEvent(e) => &e.monitor_cross_ref_id,
            Message::ConferencedEvent(e) => &e.monitor_cross_ref_id,
            Message::AgentLoggedOnEvent(e) => &e.monitor_cross_ref_id,
            Message::AgentLoggedOffEvent(e) => &e.monitor_cross_ref_id,
            Message::AgentReadyEvent(e) => &e.monitor_cross_ref_id,
            Message::AgentNotReadyEvent(e) => &e.monitor_cross_ref_id,
            Message::AgentWorkingAfterCallEvent(e) => &e.monitor_cross_ref_id,
            Message::AgentBusyEvent(e) => &e.monitor_cross_ref_id,
            Message::DoNotDisturbEvent(e) => &e.monitor_cross_ref_id,
            Message::ForwardingEvent(e) => &e.monitor_cross_ref_id,
            _ => return None,
        })
    }

    /// True when this is an event (it carries a `monitorCrossRefID`).
    pub fn is_event(&self) -> bool {
        self.monitor_cross_ref_id().is_some()
    }
}
