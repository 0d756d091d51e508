//! stream / download (the stored file as it is, Range honoured; hearth does not transcode)
//! and getCoverArt (a song's or playlist's cover, scaled down when `size` asks).

use std::sync::Arc;

use poem::{IntoResponse, Request};

use super::songs::song_id;
use super::{Answer, Fault, Outcome, Params};
use crate::files::Bucket;
use crate::identity::Caller;
use crate::surfaces::music::collection;
use crate::AppState;

pub async fn stream(app: &Arc<AppState>, req: &Request, caller: &Caller, p: &Params) -> Outcome {
    let id = song_id(p.require("id")?)?;
    let caller = caller.clone();
    let (track, scanned) = app
        .db
        .read(move |c| Ok::<_, Fault>((collection::track(c, &caller, id)?, collection::scanned_path(c, id)?)))
        .await?;
    // A scanned song is served in place from its music folder.
    let served = match scanned {
        Some(path) => crate::files::serve_path(req, path).await,
        None => app.files.serve(req, Bucket::Songs, &track.res_file).await,
    };
    served.map(Answer::File).ok_or_else(|| Fault::not_found(format!("the audio file of song {id} is missing")))
}

/// `mf-<song>`, `al-<album>` (a cover of one of its songs) or `pl-<playlist>` (a bare
/// number is a song).
pub async fn cover_art(app: &Arc<AppState>, req: &Request, caller: &Caller, p: &Params) -> Outcome {
    let id = p.require("id")?.to_owned();
    let size = p.int("size")?.filter(|s| *s > 0);
    let caller = caller.clone();
    let wanted = id.clone();
    let (file, scanned) = app
        .db
        .read(move |c| {
            if let Some(playlist) = wanted.strip_prefix("pl-") {
                let playlist = playlist.parse().map_err(|_| Fault::not_found(format!("no cover '{wanted}'")))?;
                return Ok::<_, Fault>((collection::playlist(c, &caller, playlist)?.0.cover_file, None));
            }
            let song = if wanted.starts_with("al-") {
                let album = super::library::row_id(&wanted, "al-", "album")?;
                let Some(song) = collection::album(c, &caller, album)?.cover_song else { return Ok((None, None)) };
                song
            } else {
                song_id(wanted.strip_prefix("mf-").unwrap_or(&wanted))?
            };
            Ok((collection::track(c, &caller, song)?.cover_file, collection::scanned_path(c, song)?))
        })
        .await?;
    let file = file.ok_or_else(|| Fault::not_found(format!("'{id}' has no cover art")))?;
    if let Some(path) = scanned {
        return embedded_cover(path, size, &id).await;
    }
    let Some(size) = size else {
        let served = app.files.serve(req, Bucket::Covers, &file).await;
        return served
            .map(Answer::File)
            .ok_or_else(|| Fault::not_found(format!("the cover file of '{id}' is missing")));
    };
    let path = app.files.path(Bucket::Covers, &file).ok_or_else(|| Fault::not_found("the cover file is missing"))?;
    let scaled = tokio::task::spawn_blocking(move || scale(&path, size.min(2048) as u32))
        .await
        .map_err(|_| Fault::generic("scaling the cover failed"))??;
    Ok(Answer::File(poem::Response::builder().content_type("image/jpeg").body(scaled).into_response()))
}

/// The cover embedded in a scanned song's file, as it is or scaled.
async fn embedded_cover(path: std::path::PathBuf, size: Option<i64>, id: &str) -> Outcome {
    let read = tokio::task::spawn_blocking(move || {
        let (bytes, kind) = collection::read_cover(&path)?;
        Some(match size {
            None => Ok((bytes, kind)),
            Some(size) => scale_bytes(&bytes, size.min(2048) as u32).map(|b| (b, "image/jpeg")),
        })
    })
    .await
    .map_err(|_| Fault::generic("reading the cover failed"))?;
    let (bytes, kind) = read.ok_or_else(|| Fault::not_found(format!("the cover of '{id}' cannot be read")))??;
    Ok(Answer::File(poem::Response::builder().content_type(kind).body(bytes).into_response()))
}

/// The image scaled to fit `size` × `size` (never enlarged), as JPEG.
fn scale(path: &std::path::Path, size: u32) -> Result<Vec<u8>, Fault> {
    scale_bytes(&std::fs::read(path).map_err(|e| Fault::generic(format!("the cover cannot be read: {e}")))?, size)
}

fn scale_bytes(bytes: &[u8], size: u32) -> Result<Vec<u8>, Fault> {
    let image = image::load_from_memory(bytes).map_err(|e| Fault::generic(format!("the cover cannot be read: {e}")))?;
    let image = if image.width() > size || image.height() > size { image.thumbnail(size, size) } else { image };
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .to_rgb8()
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|e| Fault::generic(format!("encoding the cover failed: {e}")))?;
    Ok(out.into_inner())
}
