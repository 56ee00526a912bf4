//! Fuzz target: arbitrary bytes through the SIP message parser (datagram semantics), with a
//! stable re-encoding of whatever parses (see `ctigw_codecs::sip::fuzz::message`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ctigw_codecs::sip::fuzz::message(data);
});
