//! Care pictures sent as base64 (notice snapshots, portraits): `decode_base64`, `verify`
//! and `portrait_jpeg`. The first byte picks what the rest is: base64 text as a client
//! might send it, or picture bytes that are base64-encoded here (bare, with a `data:`
//! head, or wrapped at 76 columns as MIME encoders do) so that the fuzzer works on the
//! pictures themselves. Properties: what decodes re-encodes to the same bytes, refusals
//! use the document's statuses, an accepted picture decodes as the format it was accepted
//! as, and a portrait is a JPEG no longer than 512 px on its longest side.
//!
//! Shared by the libFuzzer target `fuzz_targets/base64_image.rs` and the replay in
//! `tests/it/fuzzing.rs`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hearth::fuzzing::{decode_base64, portrait_jpeg, verify, MAX_BYTES};
use hearth::surfaces::care::Care;
use hearth::surfaces::{Failure, Surface};
use image::ImageFormat;

/// -201 an empty value, -204 a value that is not acceptable.
const PICTURE_STATUSES: [i64; 2] = [-201, -204];

pub fn check(input: &[u8]) {
    let Some((&mode, rest)) = input.split_first() else { return };
    match mode % 4 {
        0 => text(&String::from_utf8_lossy(rest)),
        1 => picture(rest, STANDARD.encode(rest)),
        2 => picture(rest, format!("data:image/png;base64,{}", STANDARD.encode(rest))),
        _ => picture(rest, wrapped(&STANDARD.encode(rest))),
    }
}

fn text(text: &str) {
    match decode_base64(text) {
        Ok(bytes) => {
            assert!(!bytes.is_empty() && bytes.len() <= MAX_BYTES + 3);
            let canonical = STANDARD.encode(&bytes);
            assert_eq!(decode_base64(&canonical).as_ref(), Ok(&bytes), "canonical base64 decodes to the same bytes");
            assert_eq!(
                decode_base64(&format!("data:image/jpeg;base64,{canonical}")),
                Ok(bytes.clone()),
                "with a data: head"
            );
            check_picture(&bytes);
        }
        Err(failure) => assert_refused(&failure),
    }
}

fn picture(bytes: &[u8], sent: String) {
    match decode_base64(&sent) {
        Ok(decoded) => {
            assert_eq!(decoded, bytes, "base64 of the picture decodes to the picture");
            check_picture(bytes);
        }
        Err(failure) => {
            assert!(bytes.is_empty(), "only empty base64 is refused: {failure:?}");
            assert_eq!(status(&failure), -201);
        }
    }
}

/// Lines of at most 76 characters, ending in CR LF.
fn wrapped(b64: &str) -> String {
    let lines: Vec<&str> =
        b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).expect("base64 is ASCII")).collect();
    lines.join("\r\n")
}

fn check_picture(bytes: &[u8]) {
    let ext = match verify(bytes) {
        Ok(ext) => ext,
        Err(failure) => return assert_eq!(status(&failure), -204, "{failure:?}"),
    };
    let format = if ext == "jpg" { ImageFormat::Jpeg } else { ImageFormat::Png };
    assert_eq!(image::guess_format(bytes).ok(), Some(format), "accepted as {ext}");
    let original = image::load_from_memory_with_format(bytes, format).expect("an accepted picture decodes");
    match portrait_jpeg(bytes) {
        Ok(jpeg) => {
            let portrait = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).expect("a portrait is a JPEG");
            let longest = |w: u32, h: u32| w.max(h);
            assert_eq!(
                longest(portrait.width(), portrait.height()),
                longest(original.width(), original.height()).min(512),
                "a portrait keeps a picture of up to 512 px as it is, and shrinks a larger one to 512"
            );
        }
        Err(failure) => panic!("an accepted picture makes a portrait: {failure:?}"),
    }
}

fn assert_refused(failure: &Failure) {
    let status = status(failure);
    assert!(PICTURE_STATUSES.contains(&status), "status {status} for {failure:?}");
}

fn status(failure: &Failure) -> i64 {
    Care::render(failure).1["status"].as_i64().expect("an integer status")
}
