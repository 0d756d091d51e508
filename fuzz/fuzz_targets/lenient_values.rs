//! libFuzzer target; the properties it checks are in `properties/lenient_values.rs`.
#![no_main]

#[path = "../properties/lenient_values.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|input: &[u8]| properties::check(input));
