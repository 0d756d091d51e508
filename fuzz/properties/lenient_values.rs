//! Values the documents write loosely (`lenient.rs`: ids as `5` or `"5"`, flags as `true`,
//! `"1"`, …) and the page numbers of list queries (`paging`). Properties: a query
//! parameter and the same text as a JSON string read alike; what is accepted is written
//! back in the strict form, which reads back to the same value; accepted ids are signed
//! digit runs and accepted flags one of the documented words; a page is never before the
//! first row, whatever the numbers.
//!
//! Shared by the libFuzzer target `fuzz_targets/lenient_values.rs` and the replay in
//! `tests/it/fuzzing.rs`.

use hearth::fuzzing::{music_paging, paging, LenientBool, LenientId};
use poem_openapi::types::ParseFromParameter;
use serde_json::Value;

pub fn check(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    check_id(&text);
    check_flag(&text);
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        check_json(&value);
    }
    check_paging(input);
}

fn check_id(text: &str) {
    let param = LenientId::parse_from_parameter(text).ok();
    let json = serde_json::from_value::<LenientId>(Value::String(text.to_owned())).ok();
    assert_eq!(param, json, "{text:?} as a parameter and as a JSON string");
    if let Some(id) = param {
        let digits = text.trim().strip_prefix(['+', '-']).unwrap_or(text.trim());
        assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()), "{text:?} accepted as {id:?}");
        assert_eq!(serde_json::to_value(id).expect("serializes"), Value::from(id.0), "written back as a number");
        assert_eq!(LenientId::parse_from_parameter(&id.0.to_string()).ok(), Some(id));
    }
}

fn check_flag(text: &str) {
    let param = LenientBool::parse_from_parameter(text).ok();
    let json = serde_json::from_value::<LenientBool>(Value::String(text.to_owned())).ok();
    assert_eq!(param, json, "{text:?} as a parameter and as a JSON string");
    if let Some(flag) = param {
        let word = text.trim().to_ascii_lowercase();
        let expected = match word.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => panic!("{text:?} accepted as {flag:?}"),
        };
        assert_eq!(flag.0, expected);
        assert_eq!(serde_json::to_value(flag).expect("serializes"), Value::Bool(flag.0), "written back as a boolean");
    }
}

fn check_json(value: &Value) {
    match serde_json::from_value::<LenientId>(value.clone()) {
        Ok(id) => match value {
            Value::Number(n) => assert_eq!(n.as_i64(), Some(id.0)),
            Value::String(s) => assert_eq!(LenientId::parse_from_parameter(s).ok(), Some(id)),
            other => panic!("{other} accepted as an id"),
        },
        Err(_) => assert!(value.as_i64().is_none(), "{value} is an integer yet refused"),
    }
    match serde_json::from_value::<LenientBool>(value.clone()) {
        Ok(flag) => match value {
            Value::Bool(b) => assert_eq!(*b, flag.0),
            Value::Number(n) => assert_eq!(n.as_i64(), Some(i64::from(flag.0))),
            Value::String(s) => assert_eq!(LenientBool::parse_from_parameter(s).ok(), Some(flag)),
            other => panic!("{other} accepted as a flag"),
        },
        Err(_) => {
            assert!(!value.is_boolean() && value.as_i64() != Some(0) && value.as_i64() != Some(1), "{value} refused")
        }
    }
}

/// Page number and size from the first 16 bytes (each absent when its bytes are missing).
fn check_paging(input: &[u8]) {
    let number = |at: usize| input.get(at..at + 8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")));
    let (page_num, page_size) = (number(0), number(8));
    for (limit, offset) in
        [paging(page_num, page_size, 20).ok(), music_paging(page_num, page_size, Some(20)).ok()].into_iter().flatten()
    {
        assert!((1..=500).contains(&limit), "{page_num:?}/{page_size:?} gave limit {limit}");
        assert!(offset >= 0, "{page_num:?}/{page_size:?} gave offset {offset}");
        let exact = (page_num.unwrap_or(1) - 1).checked_mul(limit);
        assert!(exact.is_none_or(|o| o == offset), "{page_num:?}/{page_size:?} gave offset {offset}");
    }
}
