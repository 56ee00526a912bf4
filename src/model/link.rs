//! PBX links as the API shows them: which dialect, up or down, since when, and why.

use super::ids::LinkId;
use serde::{Deserialize, Serialize};

/// Whether a link carries events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LinkStatus {
    Connecting,
    Up,
    Down,
}

/// One configured PBX link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub id: LinkId,
    /// `oxe`, `oxo`, `asterisk`, `uacsta`, `csta-xml-tcp`, `sim`.
    pub dialect: String,
    pub status: LinkStatus,
    /// Unix ms of the last status change.
    pub since: u64,
    /// Why the link is down, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
