//! Outgoing AMI actions: a builder that encodes `Action: X`, `ActionID`, the fields, CRLF and the
//! closing blank line, refusing header injection; and the generator of unique action ids.

use bytes::BytesMut;

use super::error::EncodeError;
use super::message::{Message, check_key, check_value, put_field};

/// An action to send to Asterisk. Building never fails; [`Action::encode`] checks every key and
/// value (a CR or LF in a value is refused: it would inject fields or a whole action).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Action {
    name: String,
    action_id: Option<String>,
    fields: Vec<(String, String)>,
}

impl Action {
    /// `Action: <name>`.
    pub fn new(name: impl Into<String>) -> Self {
        Action {
            name: name.into(),
            action_id: None,
            fields: Vec::new(),
        }
    }

    /// Sets the `ActionID` (echoed by the response and by the events the action causes).
    pub fn id(mut self, action_id: impl Into<String>) -> Self {
        self.action_id = Some(action_id.into());
        self
    }

    /// Adds a field; repeat a key (`Variable`) by calling it again.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// The action name (`Login`, `Originate` ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ActionID, when one was set.
    pub fn action_id(&self) -> Option<&str> {
        self.action_id.as_deref()
    }

    /// The fields after `Action` and `ActionID`, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The action as a message (`Action`, `ActionID`, then the fields).
    pub fn to_message(&self) -> Message {
        let mut m = Message::with_capacity(self.fields.len() + 2, 64);
        m.push("Action", &self.name);
        if let Some(id) = &self.action_id {
            m.push("ActionID", id);
        }
        for (k, v) in &self.fields {
            m.push(k, v);
        }
        m
    }

    /// Writes the action. On error nothing is left in `dst`.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        check_value("Action", &self.name)?;
        if let Some(id) = &self.action_id {
            check_value("ActionID", id)?;
        }
        for (k, v) in &self.fields {
            check_key(k, false)?;
            check_value(k, v)?;
        }
        put_field(dst, "Action", &self.name);
        if let Some(id) = &self.action_id {
            put_field(dst, "ActionID", id);
        }
        for (k, v) in &self.fields {
            put_field(dst, k, v);
        }
        dst.extend_from_slice(b"\r\n");
        Ok(())
    }
}

/// Issues action ids unique for the life of the generator: `<prefix>-<n>`, n from 1. Use one
/// generator per link (and a prefix per gateway instance if several share an Asterisk).
#[derive(Debug, Clone)]
pub struct ActionIdGen {
    prefix: String,
    next: u64,
}

impl Default for ActionIdGen {
    fn default() -> Self {
        ActionIdGen::new("ctigw")
    }
}

impl ActionIdGen {
    /// A generator of ActionIDs `PREFIX-1`, `PREFIX-2` ...
    pub fn new(prefix: impl Into<String>) -> Self {
        ActionIdGen {
            prefix: prefix.into(),
            next: 1,
        }
    }

    /// The next id (`ctigw-1`, `ctigw-2`, ...).
    pub fn next_id(&mut self) -> String {
        let n = self.next;
        self.next = self.next.wrapping_add(1);
        format!("{}-{n}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_action() {
        let a = Action::new("Originate")
            .id("a1")
            .field("Channel", "Local/101@phones")
            .field("Async", "true")
            .field("Variable", "A=1")
            .field("Variable", "B=2");
        let mut b = BytesMut::new();
        a.encode(&mut b).unwrap();
        assert_eq!(
            &b[..],
            b"Action: Originate\r\nActionID: a1\r\nChannel: Local/101@phones\r\nAsync: true\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
        );
        assert_eq!(&a.to_message().to_bytes().unwrap()[..], &b[..]);
    }

    #[test]
    fn rejects_injection() {
        for a in [
            Action::new("Ping").field("Channel", "x\r\nAction: Hangup"),
            Action::new("Ping").field("Channel", "x\nAction: Hangup"),
            Action::new("Ping").id("1\r\n"),
            Action::new("Ping\r\nAction: Hangup"),
            Action::new("Ping").field("Bad: key", "v"),
            Action::new("Ping").field("", "v"),
        ] {
            let mut b = BytesMut::new();
            assert!(a.encode(&mut b).is_err(), "{a:?}");
            assert!(b.is_empty());
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut g = ActionIdGen::new("gw");
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| g.next_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert_eq!(ActionIdGen::default().next_id(), "ctigw-1");
    }
}
