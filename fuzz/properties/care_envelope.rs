//! Care request bodies, read as the handlers read them: `CareBody::parse`, then `kind`,
//! `data` and `raw`. Whatever the bytes, each step gives its value or a failure whose
//! status is one the document's global table gives envelope mistakes, and the answer
//! echoes the id the way the document says.
//!
//! Shared by the libFuzzer target `fuzz_targets/care_envelope.rs` and the replay in
//! `tests/it/fuzzing.rs`.

use hearth::fuzzing::{body_of, CareBody, Empty};
use hearth::surfaces::care::Care;
use hearth::surfaces::{Failure, Surface};
use serde_json::Value;

/// The notice endpoint's kinds (seed 004), so that both matching and refused pairs occur.
const NOTICE_KINDS: &[(&str, &str)] =
    &[("notice", "upload"), ("notice", "get"), ("notice", "info"), ("notice", "sign")];

/// `data` of `notice/upload`.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Upload {
    base64: String,
    #[serde(default)]
    content: Option<String>,
}

/// `data` of `notice/info`.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct EventId {
    event_id: String,
}

/// -1 missing JSON key, -2 bad JSON value, -3 missing data key, -203 value of the wrong type.
const ENVELOPE_STATUSES: [i64; 4] = [-1, -2, -3, -203];

pub fn check(bytes: &[u8]) {
    let body = CareBody::<Empty>::parse(bytes);
    let request = serde_json::from_slice::<Value>(bytes).ok();
    if let Some(expected) = documented_id(request.as_ref()) {
        assert_eq!(body.id, expected, "the echoed id");
    }
    let kind = body.kind(NOTICE_KINDS);
    let steps = [
        kind.clone().map(drop),
        body.data::<Upload>().map(drop),
        body.data::<EventId>().map(drop),
        body.raw().map(drop),
    ];
    for failure in steps.into_iter().filter_map(Result::err) {
        check_answer(body.id, failure);
    }
    if let Ok((kind, subtype)) = kind {
        let request = request.expect("a matched kind comes from a JSON body");
        assert_eq!((request["type"].as_str(), request["subtype"].as_str()), (Some(kind), Some(subtype)));
        assert!(request["data"].is_object(), "a matched request has a data object");
        assert!(body.raw().is_ok(), "raw data is there whenever the envelope is whole");
    }
}

/// The answer to a refused request: the envelope statuses only, the id echoed, a message.
fn check_answer(id: i64, failure: Failure) {
    let status = Care::render(&failure).1["status"].as_i64().expect("an integer status");
    assert!(ENVELOPE_STATUSES.contains(&status), "status {status} for {failure:?}");
    let answer = body_of(id, Err(failure));
    assert_eq!(answer["id"], id);
    assert_eq!(answer["status"], status);
    assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    assert_eq!(answer["data"], serde_json::json!({}));
}

/// The id the document says an answer echoes, where it says so plainly: an integer as it
/// is, a string of plain digits as its number, anything else -1, and -1 for a body that is
/// not a JSON object. `None` where the document leaves it open (a string such as "+5").
fn documented_id(request: Option<&Value>) -> Option<i64> {
    let Some(Value::Object(fields)) = request else { return Some(-1) };
    match fields.get("id") {
        Some(Value::Number(n)) => Some(n.as_i64().unwrap_or(-1)),
        Some(Value::String(s)) => {
            let digits = s.trim();
            let plain = !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit());
            if plain {
                Some(digits.parse().expect("at most 18 digits"))
            } else if !digits.bytes().any(|b| b.is_ascii_digit()) {
                Some(-1)
            } else {
                None
            }
        }
        _ => Some(-1),
    }
}
