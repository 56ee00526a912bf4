//! Simulated PBXs, for the demo, the integration tests and the load benchmarks. The wire
//! simulators speak a real protocol from the PBX side over TCP; `scripted` simulates a switch
//! at the adapter interface, for dialects whose wire simulator has not landed yet.

pub mod asterisk;
pub mod csta_xml;
pub mod oxe;
pub mod scripted;
