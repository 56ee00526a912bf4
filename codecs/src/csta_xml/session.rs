//! Link-level messages: ECMA-354 application sessions (start, keep-alive, stop), system
//! status in both directions, and GetCSTAFeatures.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use serde::Serialize;

use super::error::MessageError;
use super::types::SystemStatusValue;
use super::xml::{El, Writer, XmlValue, xml_struct};

// ---- ECMA-354 application session ------------------------------------------------------

xml_struct! {
    /// Who the application is; vendor login data (`applicationSpecificInfo`) stays opaque.
    pub struct ApplicationInfo {
        application_id: String = "applicationID",
    }
}

xml_struct! {
    /// Protocol versions offered, as ECMA-323 namespace URIs.
    pub struct ProtocolVersions {
        versions: Vec<String> = "protocolVersion",
    }
}

xml_struct! {
    /// Opens an application session (CSTA XML over TCP).
    pub struct StartApplicationSession {
        application_info: ApplicationInfo = "applicationInfo",
        requested_protocol_versions: ProtocolVersions = "requestedProtocolVersions",
        requested_session_duration: Option<u32> = "requestedSessionDuration",
    }
}

xml_struct! {
    pub struct StartApplicationSessionPosResponse {
        session_id: String = "sessionID",
        actual_protocol_version: String = "actualProtocolVersion",
        actual_session_duration: Option<u32> = "actualSessionDuration",
    }
}

xml_struct! {
    /// Why a session request was refused: an ECMA-354 `definedError` name
    /// (`invalidApplicationInfo`, `requestedProtocolVersionNotSupported` ...) or the
    /// application's own error.
    pub struct SessionErrorCode {
        defined_error: Option<String> = "definedError",
        application_error: Option<String> = "applicationError",
    }
}

xml_struct! {
    pub struct StartApplicationSessionNegResponse {
        error_code: SessionErrorCode = "errorCode",
    }
}

xml_struct! {
    /// Session keep-alive: restarts the session timer.
    pub struct ResetApplicationSessionTimer {
        session_id: String = "sessionID",
        requested_session_duration: Option<u32> = "requestedSessionDuration",
    }
}

xml_struct! {
    pub struct ResetApplicationSessionTimerPosResponse {
        actual_session_duration: Option<u32> = "actualSessionDuration",
    }
}

xml_struct! {
    pub struct ResetApplicationSessionTimerNegResponse {
        error_code: SessionErrorCode = "errorCode",
    }
}

xml_struct! {
    pub struct SessionEndReason {
        defined_end_reason: Option<String> = "definedEndReason",
        application_end_reason: Option<String> = "applicationEndReason",
    }
}

xml_struct! {
    pub struct StopApplicationSession {
        session_id: String = "sessionID",
        session_end_reason: Option<SessionEndReason> = "sessionEndReason",
    }
}

xml_struct! {
    pub struct StopApplicationSessionPosResponse {}
}

xml_struct! {
    pub struct StopApplicationSessionNegResponse {
        error_code: SessionErrorCode = "errorCode",
    }
}

// ---- System status ----------------------------------------------------------------------

xml_struct! {
    /// The switch reports its status (or the application does, to the switch).
    pub struct SystemStatus {
        system_status: SystemStatusValue = "systemStatus",
    }
}

xml_struct! {
    pub struct SystemStatusResponse {}
}

xml_struct! {
    /// Asks the other side for its status (uaCSTA opens its dialog with it).
    pub struct RequestSystemStatus {}
}

xml_struct! {
    pub struct RequestSystemStatusResponse {
        system_status: SystemStatusValue = "systemStatus",
    }
}

// ---- Features ---------------------------------------------------------------------------

xml_struct! {
    pub struct GetCstaFeatures {}
}

/// A group of supported services or events (`callControlServices`, `callControlEvents` ...)
/// and the names inside it (`makeCall`, `deliveredEvent` ...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FeatureGroup {
    /// The group element name.
    pub group: String,
    /// The feature names inside it.
    pub items: Vec<String>,
}

/// `supportedServices` or `supportedEvents`: groups of empty elements naming features.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct FeatureList {
    /// The groups, in document order.
    pub groups: Vec<FeatureGroup>,
}

impl FeatureList {
    /// True when any group lists `name`.
    pub fn supports(&self, name: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.items.iter().any(|i| i.as_str() == name))
    }
}

impl XmlValue for FeatureList {
    fn decode(el: El<'_>) -> Result<Self, MessageError> {
        let groups = el
            .children()
            .filter(|g| g.is_ours())
            .map(|g| FeatureGroup {
                group: g.name().to_string(),
                items: g
                    .children()
                    .filter(|i| i.is_ours())
                    .map(|i| i.name().to_string())
                    .collect(),
            })
            .collect();
        Ok(FeatureList { groups })
    }
    fn encode(&self, name: &str, w: &mut Writer<'_>) {
        w.open(name);
        for g in &self.groups {
            w.open(&g.group);
            for i in &g.items {
                w.empty(i);
            }
            w.close(&g.group);
        }
        w.close(name);
    }
}

xml_struct! {
    pub struct GetCstaFeaturesResponse {
        supported_services: Option<FeatureList> = "supportedServices",
        supported_events: Option<FeatureList> = "supportedEvents",
    }
}
