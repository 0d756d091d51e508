//! libFuzzer target; the properties it checks are in `properties/base64_image.rs`.
#![no_main]

#[path = "../properties/base64_image.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|input: &[u8]| properties::check(input));
