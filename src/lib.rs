//! ctigw: a CTI gateway daemon. PBX computer-telephony links come in through the codecs and
//! the per-dialect adapters, become one call model in the engine, and go out to CRM clients
//! through the API. See `../shared/DESIGN.md` for the layers; data flows
//! codecs → pbx adapters → engine → api.

pub mod api;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod model;
pub mod pbx;
pub mod sim;
pub mod tools;
pub mod web;
