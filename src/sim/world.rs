//! The outside world of a simulated PBX, as the demo pages play it: an outside caller dials,
//! a simulated party answers or hangs up, and what the gateway wrote on the wire can be read
//! back. A dialect's demo simulator offers it through [`DemoPbx`](crate::pbx::registry::DemoPbx)
//! when it can; the demo's host page (`src/web/demo.rs`) uses it without knowing the dialect.

use crate::pbx::contract::BoxFuture;
use serde_json::Value;

/// The calls on a simulated switch: `[(callId, [(device, state), ...]), ...]`.
pub type SwitchCalls = Vec<(String, Vec<(String, String)>)>;

/// What the demo pages may ask of a simulated PBX.
pub trait DemoWorld: Send + Sync {
    /// `from` (any number, outside or inside) dials `to`.
    fn call(&self, from: String, to: String) -> BoxFuture<'_, ()>;
    /// The simulated party at `device` answers the calls ringing there; `Err` names why not.
    fn answer(&self, device: String) -> BoxFuture<'_, Result<(), String>>;
    /// The simulated party at `device` leaves its calls; `Err` names why not.
    fn hangup(&self, device: String) -> BoxFuture<'_, Result<(), String>>;
    /// The switch's own view of its calls.
    fn calls(&self) -> BoxFuture<'_, SwitchCalls>;
    /// The requests the gateway wrote to the switch, decoded, oldest first.
    fn wire(&self) -> Vec<Value>;
}
