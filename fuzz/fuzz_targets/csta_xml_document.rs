//! Fuzz target: arbitrary bytes as one CSTA XML document; every decoded message re-encoded in
//! each edition and decoded again (see `ctigw_codecs::csta_xml::fuzz::document`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ctigw_codecs::csta_xml::fuzz::document(data);
});
