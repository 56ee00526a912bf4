//! Why an Asterisk session ended: the typed reason the link reports as `Link::Down`.

/// Why a session with Asterisk ended (its text is the `Down` reason the engine shows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LinkError {
    /// The TCP connection could not be opened.
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    /// The TCP connection did not open in time.
    #[error("connecting to {address} timed out after {secs} s")]
    ConnectTimeout { address: String, secs: u64 },
    /// Asterisk refused the challenge or the login.
    #[error("login refused by Asterisk: {0}")]
    LoginRefused(String),
    /// A session-level action (login, resync, `Ping`) went unanswered.
    #[error("no answer to {action} within {secs} s")]
    NoAnswer { action: String, secs: u64 },
    /// Asterisk (or the network) closed the connection.
    #[error("Asterisk closed the connection: {0}")]
    Closed(String),
    /// An action could not be encoded or written.
    #[error("cannot send {action}: {reason}")]
    Send { action: String, reason: String },
}
