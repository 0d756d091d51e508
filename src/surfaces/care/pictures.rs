//! Images sent as base64 text (fall snapshots, portraits): decoded, checked by decoding
//! the picture itself, and for portraits re-encoded as a small JPEG.

use std::borrow::Cow;
use std::io::Cursor;

use base64::Engine;
use image::{imageops::FilterType, ImageFormat};

use crate::surfaces::pictures::{extension, Refused};
use crate::surfaces::Failure;

/// Largest decoded picture accepted.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Longest side of a stored portrait.
const PORTRAIT_SIDE: u32 = 512;

/// Standard base64, padded or not.
const STANDARD: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Base64 text with or without a `data:image/...;base64,` head, to bytes.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, Failure> {
    let text = text.trim();
    let payload = match text.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map(|(_, b64)| b64).unwrap_or_default(),
        None => text,
    };
    // Line breaks are allowed; most senders have none, and their text is decoded in place.
    let cleaned: Cow<[u8]> = if payload.bytes().any(|b| b.is_ascii_whitespace()) {
        Cow::Owned(payload.bytes().filter(|b| !b.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(payload.as_bytes())
    };
    let empty = || Failure::Code(-201, "Necessary key-value can't be empty: base64".into());
    if cleaned.is_empty() {
        return Err(empty());
    }
    if cleaned.len() / 4 * 3 > MAX_BYTES + 3 {
        return Err(Failure::Invalid(format!("Arg's value error: the picture is larger than {} MiB", MAX_BYTES >> 20)));
    }
    let bytes = STANDARD
        .decode(&cleaned)
        .or_else(|_| {
            let unpadded = cleaned.iter().rposition(|&b| b != b'=').map_or(0, |last| last + 1);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cleaned[..unpadded])
        })
        .map_err(|_| Failure::Invalid("Arg's value error: base64 is not valid base64 text".into()))?;
    // Padding alone ("=") decodes to nothing: as empty as no text at all.
    if bytes.is_empty() {
        return Err(empty());
    }
    Ok(bytes)
}

/// The file extension of the format a picture's first bytes announce, JPEG or PNG; anything
/// else is refused. Cheap: it reads the signature only, and proves nothing about the rest.
pub fn announced_extension(bytes: &[u8]) -> Result<&'static str, Failure> {
    crate::surfaces::pictures::jpeg_or_png(bytes).map(extension).map_err(refusal)
}

fn refusal(refused: Refused) -> Failure {
    match refused {
        Refused::NotJpegOrPng => Failure::Invalid("Arg's value error: base64 must hold a JPEG or PNG picture".into()),
        Refused::Undecodable(e) => Failure::Invalid(format!("Arg's value error: the picture cannot be decoded: {e}")),
    }
}

fn decoded(bytes: &[u8]) -> Result<(ImageFormat, image::DynamicImage), Failure> {
    crate::surfaces::pictures::decode(bytes).map_err(refusal)
}

/// The file extension of a whole JPEG or PNG that decodes within the limits; anything else
/// is refused. CPU work: call it on a blocking thread.
pub fn verify(bytes: &[u8]) -> Result<&'static str, Failure> {
    crate::surfaces::pictures::verify(bytes).map(extension).map_err(refusal)
}

/// A verified picture shrunk to at most 512 px on its longest side, as JPEG.
pub fn portrait_jpeg(bytes: &[u8]) -> Result<Vec<u8>, Failure> {
    let (_, picture) = decoded(bytes)?;
    let picture = if picture.width().max(picture.height()) > PORTRAIT_SIDE {
        picture.resize(PORTRAIT_SIDE, PORTRAIT_SIDE, FilterType::Triangle)
    } else {
        picture
    };
    let mut out = Cursor::new(Vec::new());
    picture
        .to_rgb8()
        .write_to(&mut out, ImageFormat::Jpeg)
        .map_err(|e| Failure::Internal(format!("encoding a portrait: {e}")))?;
    Ok(out.into_inner())
}

/// Runs picture work off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work).await.map_err(|_| Failure::Internal("picture task stopped".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(width, height, image::Rgb([200, 10, 10]))
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn base64_with_or_without_a_data_head() {
        let bytes = png(3, 2);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_base64(&b64).unwrap(), bytes);
        assert_eq!(decode_base64(&format!("data:image/png;base64,{b64}")).unwrap(), bytes);
        assert!(decode_base64("%%%").is_err());
        for empty in ["", " \n", "data:image/png;base64,", "=", "=="] {
            assert_eq!(
                decode_base64(empty),
                Err(Failure::Code(-201, "Necessary key-value can't be empty: base64".into())),
                "{empty:?}"
            );
        }
        assert_eq!(verify(&bytes).unwrap(), "png");
        assert!(verify(b"GIF89a not a picture").is_err());
        assert!(verify(&bytes[..bytes.len() / 2]).is_err(), "a truncated PNG does not decode");
    }

    #[test]
    fn portraits_shrink_to_512_jpeg() {
        let jpeg = portrait_jpeg(&png(1200, 600)).unwrap();
        let picture = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!((picture.width(), picture.height()), (512, 256));
    }
}
