//! libFuzzer target; the properties it checks are in `properties/transit_csv_line.rs`.
#![no_main]

#[path = "../properties/transit_csv_line.rs"]
mod properties;

libfuzzer_sys::fuzz_target!(|input: &[u8]| properties::check(input));
