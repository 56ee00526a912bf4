//! Fuzz target: arbitrary bytes through the SIP stream codec at several read sizes, then every
//! decoded message re-encoded and decoded again (see `ctigw_codecs::sip::fuzz::frame`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ctigw_codecs::sip::fuzz::frame(data);
});
