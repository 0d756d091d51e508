//! Reading a music folder: walking it for audio files and reading their tags with lofty.
//! Everything here blocks; the scan calls it off the async threads. A path found here is
//! always relative to the folder and stays inside it: symlinks are followed only when their
//! target is inside the folder too, and `resolve` checks again when a file is served.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use lofty::config::ParseOptions;
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::picture::MimeType;
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, Tag};

/// Extensions scanned as music (the formats uploads accept, plus Opus).
const AUDIO: [&str; 7] = ["mp3", "flac", "ogg", "oga", "opus", "m4a", "wav"];

/// A music file as the walk found it.
#[derive(Debug, Clone)]
pub struct Found {
    /// Relative to the folder, '/'-separated.
    pub path: String,
    pub size: i64,
    /// Unix milliseconds.
    pub mtime: i64,
}

/// Every audio file under `root` (already canonical), hidden files and folders skipped.
pub fn walk(root: &Path) -> io::Result<Vec<Found>> {
    let mut found = Vec::new();
    let mut visited = HashSet::from([root.to_path_buf()]);
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            // The folder itself must be readable; a subfolder that is not is skipped.
            Err(e) if dir == root => return Err(e),
            Err(e) => {
                tracing::warn!(folder = %dir.display(), error = %e, "skipping an unreadable music subfolder");
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(kind) = entry.file_type() else { continue };
            let meta = if kind.is_symlink() {
                // Followed only when it points inside the folder.
                match fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(root) => match fs::metadata(&target) {
                        Ok(meta) if meta.is_dir() => {
                            if visited.insert(target) {
                                pending.push(path);
                            }
                            continue;
                        }
                        Ok(meta) => meta,
                        Err(_) => continue,
                    },
                    _ => continue,
                }
            } else if kind.is_dir() {
                pending.push(path);
                continue;
            } else if kind.is_file() {
                match entry.metadata() {
                    Ok(meta) => meta,
                    Err(_) => continue,
                }
            } else {
                continue;
            };
            let is_audio = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO.iter().any(|a| a.eq_ignore_ascii_case(e)));
            if !is_audio || !meta.is_file() {
                continue;
            }
            let Some(relative) = relative(root, &path) else {
                tracing::warn!(file = %path.display(), "skipping a music file whose name is not UTF-8");
                continue;
            };
            let mtime =
                meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_millis());
            found.push(Found { path: relative, size: meta.len() as i64, mtime: mtime as i64 });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = path.strip_prefix(root).ok()?.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

/// The file `relative` names inside `folder`, if it is a file there once every link is
/// followed; None for anything that leads outside.
pub fn resolve(folder: &Path, relative: &str) -> Option<PathBuf> {
    let root = fs::canonicalize(folder).ok()?;
    if relative.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return None;
    }
    let full = fs::canonicalize(root.join(relative)).ok()?;
    (full.starts_with(&root) && full.is_file()).then_some(full)
}

/// What a scan keeps of a file's tags and audio properties.
#[derive(Debug, Clone, Default)]
pub struct Tags {
    pub title: String,
    pub artists: Vec<String>,
    pub album: String,
    pub album_artist: String,
    pub track: Option<i64>,
    pub disc: Option<i64>,
    pub year: Option<i64>,
    pub genre: String,
    /// Whole seconds.
    pub duration: i64,
    /// kbit/s.
    pub bit_rate: Option<i64>,
    /// "jpg" or "png" when the file carries a cover picture.
    pub cover: Option<&'static str>,
    pub lyrics: String,
}

fn text(tag: Option<&Tag>, key: ItemKey) -> String {
    tag.and_then(|t| t.get_string(key)).map(str::trim).unwrap_or_default().to_owned()
}

/// Reads the tags of `path`; the title falls back to the file name.
pub fn read_tags(path: &Path) -> Result<Tags, lofty::error::FileParseError> {
    let file = Probe::open(path)?.options(ParseOptions::new().read_cover_art(true)).read()?;
    let tag = file.primary_tag().or_else(|| file.first_tag());
    let properties = file.properties();
    let mut artists: Vec<String> = Vec::new();
    for value in tag.into_iter().flat_map(|t| t.get_strings(ItemKey::TrackArtist)) {
        for name in value.split(['\0', ';']).map(str::trim).filter(|n| !n.is_empty()) {
            if !artists.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                artists.push(name.to_owned());
            }
        }
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let title = tag.and_then(|t| t.title()).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).unwrap_or(stem);
    let cover = tag.and_then(|t| t.pictures().first()).map(|p| match p.mime_type() {
        Some(MimeType::Png) => "png",
        _ => "jpg",
    });
    let mut lyrics = text(tag, ItemKey::Lyrics);
    if lyrics.is_empty() {
        lyrics = text(tag, ItemKey::UnsyncLyrics);
    }
    Ok(Tags {
        title: title.chars().take(200).collect(),
        artists,
        album: tag.and_then(|t| t.album()).map(|a| a.trim().to_owned()).unwrap_or_default(),
        album_artist: text(tag, ItemKey::AlbumArtist),
        track: tag.and_then(|t| t.track()).map(i64::from),
        disc: tag.and_then(|t| t.disk()).map(i64::from),
        year: tag.and_then(|t| t.date()).map(|d| i64::from(d.year)).filter(|y| *y > 0),
        genre: tag.and_then(|t| t.genre()).map(|g| g.trim().to_owned()).unwrap_or_default(),
        duration: properties.duration().as_secs() as i64,
        bit_rate: properties.audio_bitrate().or(properties.overall_bitrate()).map(i64::from),
        cover,
        lyrics,
    })
}

/// The bytes and content type of the first picture embedded in `path`.
pub fn read_cover(path: &Path) -> Option<(Vec<u8>, &'static str)> {
    let file = Probe::open(path).ok()?.options(ParseOptions::new().read_properties(false)).read().ok()?;
    let tag = file.primary_tag().or_else(|| file.first_tag())?;
    let picture = tag.pictures().first()?;
    let kind = if picture.mime_type() == Some(&MimeType::Png) { "image/png" } else { "image/jpeg" };
    Some((picture.data().to_vec(), kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_never_leaves_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("music");
        fs::create_dir_all(music.join("a")).unwrap();
        fs::write(music.join("a/song.mp3"), b"x").unwrap();
        fs::write(dir.path().join("secret.mp3"), b"s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.mp3"), music.join("out.mp3")).unwrap();
        std::os::unix::fs::symlink(music.join("a/song.mp3"), music.join("in.mp3")).unwrap();
        assert!(resolve(&music, "a/song.mp3").is_some());
        assert!(resolve(&music, "in.mp3").is_some());
        for bad in ["../secret.mp3", "a/../../secret.mp3", "out.mp3", "/etc/passwd", "a//song.mp3", "a"] {
            assert!(resolve(&music, bad).is_none(), "{bad} resolved");
        }
        let root = fs::canonicalize(&music).unwrap();
        let found: Vec<String> = walk(&root).unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(found, ["a/song.mp3", "in.mp3"], "the link out of the folder is not followed");
    }
}
