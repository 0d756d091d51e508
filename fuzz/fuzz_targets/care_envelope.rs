//! libFuzzer target; the properties it checks are in `properties/care_envelope.rs`.
#![no_main]

#[path = "../properties/care_envelope.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|input: &[u8]| properties::check(input));
