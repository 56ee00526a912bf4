//! Fuzz target: arbitrary bytes through the CSTA-XML-over-TCP framing codec, whole and in
//! small reads, every decoded message checked for symmetry (see
//! `ctigw_codecs::csta_xml::fuzz::tcp_frame`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ctigw_codecs::csta_xml::fuzz::tcp_frame(data);
});
