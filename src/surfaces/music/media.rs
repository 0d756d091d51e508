//! Uploaded audio and images: checked by content, stored atomically in the file store, and
//! served back under `/music/api/files/…` with Range support so an `<audio>` element can
//! seek. A temporarily unshelved song's audio and cover are served only to its owner and
//! administrators (who send their token; anyone else gets 404, as if it did not exist).

use std::sync::Arc;

use poem::http::{header, StatusCode};
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::Path;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::{ApiResponse, Enum, OpenApi};
use rusqlite::OptionalExtension;

use super::fields::Upload;
use super::{maybe_signed_in, Music};
use crate::files::{Bucket, NewFile};
use crate::surfaces::{ApiError, Failure};
use crate::AppState;

/// The file kinds served under `/api/files/{kind}/{name}`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum FileKind {
    /// Song audio
    Songs,
    /// Song and playlist covers
    Covers,
    /// Uploaded user avatars
    Avatars,
}

impl FileKind {
    pub fn bucket(self) -> Bucket {
        match self {
            FileKind::Songs => Bucket::Songs,
            FileKind::Covers => Bucket::Covers,
            FileKind::Avatars => Bucket::Portraits,
        }
    }

    fn segment(self) -> &'static str {
        match self {
            FileKind::Songs => "songs",
            FileKind::Covers => "covers",
            FileKind::Avatars => "avatars",
        }
    }
}

/// The absolute URL of a stored file; "" when there is none.
pub fn file_url(base: &str, kind: FileKind, name: Option<&str>) -> String {
    match name {
        Some(name) if !name.is_empty() => format!("{base}/api/files/{}/{name}", kind.segment()),
        _ => String::new(),
    }
}

/// The file extension for audio recognised by its first bytes: MP3 (ID3 tag or an MPEG
/// audio frame header), FLAC, Ogg, WAV (RIFF/WAVE) or M4A (an ISO media `ftyp` box).
pub fn audio_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() < 12 {
        return None;
    }
    if bytes.starts_with(b"ID3") {
        return Some("mp3");
    }
    if bytes.starts_with(b"fLaC") {
        return Some("flac");
    }
    if bytes.starts_with(b"OggS") {
        return Some("ogg");
    }
    if bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WAVE" {
        return Some("wav");
    }
    if &bytes[4..8] == b"ftyp" {
        return Some("m4a");
    }
    let (b1, b2) = (bytes[1], bytes[2]);
    let frame_sync = bytes[0] == 0xFF && b1 & 0xE0 == 0xE0;
    let layer = (b1 >> 1) & 0b11;
    let version = (b1 >> 3) & 0b11;
    let bitrate = b2 >> 4;
    let sample_rate = (b2 >> 2) & 0b11;
    // Layer 0 is AAC (ADTS), version 1 is reserved, bitrate 15 and rate 3 are invalid.
    if frame_sync && layer != 0 && version != 1 && bitrate != 15 && sample_rate != 3 {
        return Some("mp3");
    }
    None
}

/// The extension for a whole PNG or JPEG image that decodes within the limits.
pub fn image_kind(bytes: &[u8]) -> Option<&'static str> {
    crate::surfaces::pictures::verify(bytes).ok().map(crate::surfaces::pictures::extension)
}

/// Checks an uploaded audio file and writes it to the songs bucket. The returned file is
/// removed again unless the caller keeps it after its database change commits.
pub async fn store_audio(app: &Arc<AppState>, field: &str, upload: Upload) -> Result<NewFile, Failure> {
    let Some(ext) = audio_kind(&upload.bytes) else {
        return Err(Failure::Invalid(format!("{field}: not a recognised audio file; send MP3, FLAC, Ogg, WAV or M4A")));
    };
    put(app, Bucket::Songs, ext, upload.bytes).await
}

/// Checks an uploaded image by decoding it and writes it to `kind`'s bucket.
pub async fn store_image(app: &Arc<AppState>, field: &str, kind: FileKind, upload: Upload) -> Result<NewFile, Failure> {
    let bytes = upload.bytes;
    let (ext, bytes) = tokio::task::spawn_blocking(move || (image_kind(&bytes), bytes))
        .await
        .map_err(|_| Failure::Internal("image check stopped".into()))?;
    let Some(ext) = ext else {
        return Err(Failure::Invalid(format!("{field}: not a readable image; send a PNG or JPEG file")));
    };
    put(app, kind.bucket(), ext, bytes).await
}

/// `store_image` for an optional upload.
pub async fn store_optional_image(
    app: &Arc<AppState>,
    field: &str,
    kind: FileKind,
    upload: Option<Upload>,
) -> Result<Option<NewFile>, Failure> {
    match upload {
        Some(upload) => Ok(Some(store_image(app, field, kind, upload).await?)),
        None => Ok(None),
    }
}

async fn put(app: &Arc<AppState>, bucket: Bucket, ext: &'static str, bytes: Vec<u8>) -> Result<NewFile, Failure> {
    let files = app.files.clone();
    tokio::task::spawn_blocking(move || files.put(bucket, ext, &bytes))
        .await
        .map_err(|_| Failure::Internal("file write stopped".into()))?
        .map_err(|e| {
            tracing::error!(error = %e, "storing an upload failed");
            Failure::Internal(format!("storing the upload failed: {e}"))
        })
}

/// Deletes files that no row refers to any more (after the change that dropped them committed).
pub fn discard(app: &AppState, files: &[(Bucket, Option<String>)]) {
    for (bucket, name) in files {
        if let Some(name) = name {
            if let Err(e) = app.files.remove(*bucket, name) {
                tracing::warn!(error = %e, file = %name, "removing a replaced file failed");
            }
        }
    }
}

/// A stored file's bytes, as `FileStore::serve` answers them.
pub struct FileResponse(Response);

impl IntoResponse for FileResponse {
    fn into_response(self) -> Response {
        self.0
    }
}

impl ApiResponse for FileResponse {
    fn meta() -> MetaResponses {
        // Served with the type of what was stored: song audio, or a cover or avatar image.
        let binary = || {
            ["audio/*", "image/*"]
                .map(|content_type| MetaMediaType {
                    content_type,
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary"))),
                })
                .into()
        };
        let response = |status, description| MetaResponse {
            description,
            status: Some(status),
            status_range: None,
            content: binary(),
            headers: vec![],
        };
        MetaResponses {
            responses: vec![
                response(200, "The whole file"),
                response(206, "The requested byte range (Range: bytes=…)"),
                MetaResponse {
                    description: "Not modified (If-None-Match)",
                    status: Some(304),
                    status_range: None,
                    content: vec![],
                    headers: vec![],
                },
            ],
        }
    }

    fn register(_registry: &mut Registry) {}
}

/// A Range past the end of the file: 416 in the music envelope, `Content-Range: bytes */<size>`
/// kept so a player can ask again.
fn unsatisfiable(served: Response) -> Response {
    let content_range = served.headers().get(header::CONTENT_RANGE).cloned();
    let size = content_range.as_ref().and_then(|v| v.to_str().ok()?.strip_prefix("bytes */").map(str::to_owned));
    let message = match size {
        Some(size) => format!("the requested range is outside the file, which has {size} bytes"),
        None => "the requested range is outside the file".to_owned(),
    };
    let body = serde_json::json!({ "code": 1, "status": 416, "message": message, "data": null });
    let mut response = Response::builder()
        .status(StatusCode::RANGE_NOT_SATISFIABLE)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string());
    if let Some(value) = content_range {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

pub struct FileApi(pub Arc<AppState>);

#[OpenApi]
impl FileApi {
    /// Download or stream an uploaded file (song audio with Range support, covers, avatars)
    #[oai(path = "/api/files/:kind/:name", method = "get")]
    async fn file(
        &self,
        req: &Request,
        kind: Path<FileKind>,
        name: Path<String>,
    ) -> Result<FileResponse, ApiError<Music>> {
        let (kind, name) = (kind.0, name.0);
        let gone = || Failure::NotFound(format!("no such file: {name}"));
        if kind != FileKind::Avatars {
            let key = name.clone();
            let hidden_song = self
                .0
                .db
                .read(move |c| {
                    c.query_row(
                        "SELECT owner_id FROM music_song WHERE (res_file = ?1 OR cover_file = ?1) AND on_shelf = 0",
                        [&key],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()
                    .map_err(Failure::from)
                })
                .await?;
            if let Some(owner) = hidden_song {
                let caller = maybe_signed_in(&self.0, req).await;
                if !caller.is_some_and(|c| c.account_id == owner || c.is_admin()) {
                    return Err(gone().into());
                }
            }
        }
        let served = if name.starts_with("library-") && kind != FileKind::Avatars {
            library_file(&self.0, req, kind, &name).await?
        } else {
            self.0.files.serve(req, kind.bucket(), &name).await
        };
        match served {
            Some(response) if response.status() == StatusCode::RANGE_NOT_SATISFIABLE => {
                Ok(FileResponse(unsatisfiable(response)))
            }
            Some(response) => Ok(FileResponse(response)),
            None => Err(gone().into()),
        }
    }
}

/// A scanned song's audio, or the cover embedded in it, read from its music folder.
async fn library_file(
    app: &Arc<AppState>,
    req: &Request,
    kind: FileKind,
    name: &str,
) -> Result<Option<Response>, Failure> {
    let key = name.to_owned();
    let column = if kind == FileKind::Songs { "res_file" } else { "cover_file" };
    let place: Option<(String, String)> = app
        .db
        .read(move |c| {
            c.query_row(
                &format!("SELECT folder, path FROM music_song WHERE {column} = ?1 AND folder IS NOT NULL"),
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(Failure::from)
        })
        .await?;
    let Some((folder, relative)) = place else { return Ok(None) };
    let Some(path) = super::folder::resolve(std::path::Path::new(&folder), &relative) else { return Ok(None) };
    if kind == FileKind::Songs {
        return Ok(crate::files::serve_path(req, path).await);
    }
    let cover = tokio::task::spawn_blocking(move || super::folder::read_cover(&path))
        .await
        .map_err(|_| Failure::Internal("reading a cover stopped".into()))?;
    Ok(cover.map(|(bytes, content_type)| {
        Response::builder()
            .content_type(content_type)
            .header(header::CACHE_CONTROL, "private, max-age=3600")
            .body(bytes)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_is_recognised_by_its_first_bytes() {
        let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
        wav.extend([0u8; 32]);
        assert_eq!(audio_kind(&wav), Some("wav"));
        assert_eq!(audio_kind(b"ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00"), Some("mp3"));
        assert_eq!(audio_kind(&[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]), Some("mp3"));
        assert_eq!(audio_kind(&[0xFF, 0xF1, 0x50, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]), None, "AAC ADTS is not MP3");
        assert_eq!(audio_kind(b"fLaC\x00\x00\x00\x22\x00\x00\x00\x00"), Some("flac"));
        assert_eq!(audio_kind(b"OggS\x00\x02\x00\x00\x00\x00\x00\x00"), Some("ogg"));
        assert_eq!(audio_kind(b"\x00\x00\x00\x20ftypM4A \x00\x00"), Some("m4a"));
        assert_eq!(audio_kind(b"<html><body>not audio</body></html>"), None);
        assert_eq!(audio_kind(b"RIFF\x24\x00\x00\x00AVI LIST"), None);
        assert_eq!(audio_kind(b"ID3"), None, "too short");
    }

    #[test]
    fn images_must_decode() {
        let mut png = Vec::new();
        image::RgbImage::new(2, 2).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        assert_eq!(image_kind(&png), Some("png"));
        assert_eq!(image_kind(&png[..png.len() / 2]), None, "truncated");
        assert_eq!(image_kind(b"GIF89a not supported"), None);
    }
}
