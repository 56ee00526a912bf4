//! The contract between the adapters and the rest of the gateway: what the engine hands an
//! adapter ([`AdapterRequest`]), how an adapter hands events back ([`LinkSink`]), how a
//! dialect's parsed `[[link]]` options start its link ([`LinkSpec`]), and the sans-IO
//! reading of a PBX byte stream that `ctigw replay` and the fixture tests drive
//! ([`Replayer`]).
//!
//! It lives in `pbx/` so that the engine depends on the adapters' contract and never the
//! reverse: the engine implements [`EventInbox`] for its own input queue.

use crate::model::{DeviceId, LinkId, PbxCommand, PbxEvent};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A boxed future an adapter or the engine may be handed without naming its type.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request to one adapter. Exactly one `PbxEvent::CommandResult` with this token must come
/// back (the engine times it out otherwise).
#[derive(Debug, Clone)]
pub struct AdapterRequest {
    pub token: u64,
    pub command: PbxCommand,
}

/// Where a link's events go: implemented by the engine for its input queue.
pub trait EventInbox: Send + Sync {
    /// Hands one event of `link` over; resolves to false once the receiver has stopped.
    fn deliver(&self, link: LinkId, event: PbxEvent) -> BoxFuture<'_, bool>;
}

/// An adapter's way into the engine, tagged with its link.
#[derive(Clone)]
pub struct LinkSink {
    link: LinkId,
    inbox: Arc<dyn EventInbox>,
}

impl LinkSink {
    /// A sink for `link`'s events into `inbox`.
    pub fn new(link: LinkId, inbox: Arc<dyn EventInbox>) -> Self {
        LinkSink { link, inbox }
    }

    pub fn link(&self) -> &LinkId {
        &self.link
    }

    /// Hands an event to the engine; false once the engine has stopped.
    pub async fn send(&self, event: PbxEvent) -> bool {
        self.inbox.deliver(self.link.clone(), event).await
    }
}

/// What a running link is given: its sink, its request queue, and the address and devices
/// of its `[[link]]` table.
pub struct LinkStart {
    pub sink: LinkSink,
    pub requests: mpsc::Receiver<AdapterRequest>,
    /// `host:port` of the PBX (empty for dialects that use none).
    pub address: String,
    pub devices: Vec<DeviceId>,
}

/// A dialect's `[[link]]` options, parsed and checked once when the configuration is read;
/// the daemon starts the link from them without reading the table again.
pub trait LinkSpec: fmt::Debug + Send + Sync {
    /// The link task: runs until the engine goes away.
    fn run(&self, start: LinkStart) -> BoxFuture<'static, ()>;
}

/// A dialect's sans-IO reading of a PBX's byte stream, for replay: bytes in, model events out.
pub trait Replayer {
    /// Feeds the next bytes the PBX sent (any split); returns the events they complete, or
    /// a description of what could not be decoded (replay goes on).
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>>;
    /// End of input: what is left over, if anything, as an error.
    fn finish(&mut self) -> Vec<Result<PbxEvent, String>> {
        Vec::new()
    }
}
