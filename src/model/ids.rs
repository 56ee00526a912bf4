//! Identifiers: links, devices, PBX call references and the gateway's stable call ids.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The name of a configured PBX link (`[[link]] name = "oxe1"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LinkId(pub Arc<str>);

impl LinkId {
    pub fn new(s: &str) -> Self {
        LinkId(Arc::from(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A directory number as the PBX knows it: an extension (`24103`) or an external number as
/// received (`00789616004`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub Arc<str>);

impl DeviceId {
    pub fn new(s: &str) -> Self {
        DeviceId(Arc::from(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DeviceId {
    fn from(s: &str) -> Self {
        DeviceId::new(s)
    }
}

/// The gateway's own call id: stable for the life of the call, across transfers and PBX
/// re-keying, and unique across restarts (it starts from the boot time).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub Arc<str>);

impl CallId {
    pub fn new(s: &str) -> Self {
        CallId(Arc::from(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A call as one PBX link names it: the link plus the PBX's own call reference (the CSTA
/// callID in hex, the Asterisk Linkedid, ...). PBXs reuse references; the engine maps a live
/// reference to a [`CallId`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallRef {
    pub link: LinkId,
    pub pbx: Arc<str>,
}

impl CallRef {
    pub fn new(link: &LinkId, pbx: &str) -> Self {
        CallRef {
            link: link.clone(),
            pbx: Arc::from(pbx),
        }
    }
}

impl fmt::Display for CallRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.link, self.pbx)
    }
}
