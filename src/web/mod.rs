//! The web page the daemon serves at `/`: a live view of links, devices, agents and calls
//! over the v1 WebSocket, with click-to-dial and call buttons (the CIF page will replace it).

/// The page, embedded in the binary so the daemon needs no files beside it.
pub const INDEX_HTML: &str = include_str!("index.html");
