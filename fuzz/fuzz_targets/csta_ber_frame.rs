//! libFuzzer target: CSTA BER `frame` decoding, with the re-encode/decode symmetry check
//! (see `ctigw_codecs::csta_ber::fuzz::frame`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ctigw_codecs::csta_ber::fuzz::frame(data);
});
