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
    let track = app.db.read(move |c| Ok::<_, Fault>(collection::track(c, &caller, id)?)).await?;
    let served = app.files.serve(req, Bucket::Songs, &track.res_file).await;
    served.map(Answer::File).ok_or_else(|| Fault::not_found(format!("the audio file of song {id} is missing")))
}

/// `mf-<song>` or `pl-<playlist>` (a bare number is a song).
pub async fn cover_art(app: &Arc<AppState>, req: &Request, caller: &Caller, p: &Params) -> Outcome {
    let id = p.require("id")?.to_owned();
    let size = p.int("size")?.filter(|s| *s > 0);
    let caller = caller.clone();
    let wanted = id.clone();
    let file = app
        .db
        .read(move |c| {
            if let Some(playlist) = wanted.strip_prefix("pl-") {
                let playlist = playlist.parse().map_err(|_| Fault::not_found(format!("no cover '{wanted}'")))?;
                return Ok::<_, Fault>(collection::playlist(c, &caller, playlist)?.0.cover_file);
            }
            let song = song_id(wanted.strip_prefix("mf-").unwrap_or(&wanted))?;
            Ok(collection::track(c, &caller, song)?.cover_file)
        })
        .await?;
    let file = file.ok_or_else(|| Fault::not_found(format!("'{id}' has no cover art")))?;
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

/// The image scaled to fit `size` × `size` (never enlarged), as JPEG.
fn scale(path: &std::path::Path, size: u32) -> Result<Vec<u8>, Fault> {
    let image = image::open(path).map_err(|e| Fault::generic(format!("the cover cannot be read: {e}")))?;
    let image = if image.width() > size || image.height() > size { image.thumbnail(size, size) } else { image };
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .to_rgb8()
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|e| Fault::generic(format!("encoding the cover failed: {e}")))?;
    Ok(out.into_inner())
}
