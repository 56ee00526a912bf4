//! Who a client is and which devices it may see and drive: the seam where real
//! authentication (OAuth tokens, per-user device rights) plugs in.

use crate::engine::DeviceFilter;
use crate::model::DeviceId;
use std::collections::{HashMap, HashSet};

/// An authenticated client.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: String,
    /// The devices this user may subscribe to and command.
    pub scope: DeviceFilter,
}

impl Principal {
    pub fn may_use(&self, device: &DeviceId) -> bool {
        self.scope.allows(device)
    }
}

/// Why a client was not let in; each maps to a WebSocket close code and HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no access token: send one as ?access_token= or in a first auth message")]
    Missing,
    #[error("the access token is not valid")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
}

impl AuthError {
    /// WebSocket close code (API v1: 4001 no token, 4002 bad token, 4003 expired).
    pub fn close_code(&self) -> u16 {
        match self {
            AuthError::Missing => 4001,
            AuthError::Invalid => 4002,
            AuthError::Expired => 4003,
        }
    }
}

/// Checks access tokens.
pub trait Authenticator: Send + Sync + 'static {
    /// The principal for a client that presented no token, if such clients are allowed.
    fn anonymous(&self) -> Option<Principal>;
    fn authenticate(&self, token: &str) -> Result<Principal, AuthError>;
    /// Changes whenever the accepted tokens may have changed (a reload), so sessions can
    /// check theirs again; `None` when they never change.
    fn generation(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

/// Everyone is let in and sees every device: only for the demo and for daemons bound to
/// loopback (the configuration refuses it on other addresses).
pub struct OpenAccess;

impl Authenticator for OpenAccess {
    fn anonymous(&self) -> Option<Principal> {
        Some(Principal {
            user: "anonymous".into(),
            scope: DeviceFilter::All,
        })
    }
    fn authenticate(&self, _token: &str) -> Result<Principal, AuthError> {
        Ok(Principal {
            user: "anonymous".into(),
            scope: DeviceFilter::All,
        })
    }
}

/// Fixed tokens from the configuration, each with its user and devices.
pub struct StaticTokens {
    tokens: HashMap<String, Principal>,
}

impl StaticTokens {
    /// `devices` of `None` means every device.
    pub fn new(entries: impl IntoIterator<Item = (String, String, Option<Vec<DeviceId>>)>) -> Self {
        let tokens = entries
            .into_iter()
            .map(|(token, user, devices)| {
                let scope = match devices {
                    None => DeviceFilter::All,
                    Some(d) => DeviceFilter::Only(d.into_iter().collect::<HashSet<_>>()),
                };
                (token, Principal { user, scope })
            })
            .collect();
        StaticTokens { tokens }
    }
}

impl Authenticator for StaticTokens {
    fn anonymous(&self) -> Option<Principal> {
        None
    }
    fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        // constant-time enough for a handful of tokens: compare every one fully
        let mut found = None;
        for (t, p) in &self.tokens {
            if t.len() == token.len()
                && t.bytes()
                    .zip(token.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
            {
                found = Some(p.clone());
            }
        }
        found.ok_or(AuthError::Invalid)
    }
}

/// An authenticator that SIGHUP can replace while clients are connected.
pub struct Reloadable {
    inner: std::sync::RwLock<std::sync::Arc<dyn Authenticator>>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl Reloadable {
    pub fn new(inner: std::sync::Arc<dyn Authenticator>) -> Self {
        Reloadable {
            inner: std::sync::RwLock::new(inner),
            generation: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Swaps the token set; every session re-checks its token at once.
    pub fn replace(&self, next: std::sync::Arc<dyn Authenticator>) {
        match self.inner.write() {
            Ok(mut g) => *g = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        self.generation.send_modify(|g| *g += 1);
    }

    fn current(&self) -> std::sync::Arc<dyn Authenticator> {
        match self.inner.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Authenticator for Reloadable {
    fn anonymous(&self) -> Option<Principal> {
        self.current().anonymous()
    }
    fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        self.current().authenticate(token)
    }
    fn generation(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.generation.subscribe())
    }
}
