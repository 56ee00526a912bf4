//! Asterisk Manager Interface: banner, `Key: value` message framing, actions and events.
