//! Uploaded files on local disk under `<data>/uploads/<bucket>/`. Names are always chosen
//! here (32 random hex digits and a fixed extension), so no client-supplied path ever reaches
//! the file system. A file is written under its final name and made durable (fsync of the
//! file, then of the folder) before `put` answers, and only then may a row name it: a crash
//! before the row commits leaves a file no row names, which the start's sweep removes
//! (`sweep`). Naming it at creation rather than by a rename after the write spares a second
//! journal commit: the file's fsync also commits its name, so the folder's finds little left.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use poem::web::StaticFileRequest;
use poem::{FromRequest, IntoResponse, Request, Response};

use crate::identity::tokens::random_hex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Notices,
    Portraits,
    Songs,
    Covers,
}

impl Bucket {
    pub const ALL: [Bucket; 4] = [Bucket::Notices, Bucket::Portraits, Bucket::Songs, Bucket::Covers];

    pub fn folder(self) -> &'static str {
        match self {
            Bucket::Notices => "notices",
            Bucket::Portraits => "portraits",
            Bucket::Songs => "songs",
            Bucket::Covers => "covers",
        }
    }
}

#[derive(Clone)]
pub struct FileStore {
    root: PathBuf,
    /// Removals waiting while a backup copies the uploads (`hold_removals`).
    held: Arc<Mutex<Option<Vec<PathBuf>>>>,
}

/// While held, removals wait, so every file a backup's database snapshot names is still
/// there when the backup copies it. Dropping the hold carries the removals out.
pub struct RemovalHold {
    held: Arc<Mutex<Option<Vec<PathBuf>>>>,
}

impl Drop for RemovalHold {
    fn drop(&mut self) {
        let waiting = self.held.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_default();
        for path in waiting {
            let _ = fs::remove_file(path);
        }
    }
}

/// A file just written. It is deleted when dropped unless `keep` was called, so an upload
/// whose database row fails to commit leaves nothing behind.
pub struct NewFile {
    path: PathBuf,
    pub name: String,
    kept: bool,
}

impl NewFile {
    pub fn keep(mut self) -> String {
        self.kept = true;
        std::mem::take(&mut self.name)
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl FileStore {
    /// Creates the bucket folders and removes the temporary files that versions which
    /// wrote through a rename may have left.
    pub fn open(data: &Path) -> io::Result<FileStore> {
        let root = data.join("uploads");
        for bucket in Bucket::ALL {
            let dir = root.join(bucket.folder());
            fs::create_dir_all(&dir)?;
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(FileStore { root, held: Arc::default() })
    }

    /// Writes `bytes` to a new file under a fresh name with extension `ext`, durable with its
    /// name when this answers; removed again if anything fails. Blocking: call it off the
    /// async threads.
    pub fn put(&self, bucket: Bucket, ext: &str, bytes: &[u8]) -> io::Result<NewFile> {
        debug_assert!(ext.chars().all(|c| c.is_ascii_alphanumeric()) && ext.len() <= 5);
        let dir = self.root.join(bucket.folder());
        let name = format!("{}.{}", random_hex(16), ext);
        let path = dir.join(&name);
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        let new = NewFile { path, name, kept: false };
        file.write_all(bytes)?;
        file.sync_all()?;
        File::open(&dir)?.sync_all()?;
        Ok(new)
    }

    /// The path of a stored file, or None when `name` is not a name this store could have made.
    pub fn path(&self, bucket: Bucket, name: &str) -> Option<PathBuf> {
        is_safe_name(name).then(|| self.root.join(bucket.folder()).join(name))
    }

    pub fn read(&self, bucket: Bucket, name: &str) -> io::Result<Vec<u8>> {
        let path = self.path(bucket, name).ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        fs::read(path)
    }

    /// The `uploads` folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Defers removals until the returned hold is dropped (one hold at a time).
    pub fn hold_removals(&self) -> RemovalHold {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
        RemovalHold { held: self.held.clone() }
    }

    pub fn remove(&self, bucket: Bucket, name: &str) -> io::Result<()> {
        let Some(path) = self.path(bucket, name) else { return Ok(()) };
        if let Some(waiting) = self.held.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            waiting.push(path);
            return Ok(());
        }
        match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Deletes the files of `bucket` that `referenced` does not name: what a crash left
    /// between writing a file and committing its row, or between committing a removal and
    /// deleting the file. Run at start, before any request can be writing.
    pub fn sweep(&self, bucket: Bucket, referenced: &std::collections::HashSet<String>) -> io::Result<usize> {
        let mut removed = 0;
        for name in self.list(bucket)? {
            if !referenced.contains(&name) {
                fs::remove_file(self.root.join(bucket.folder()).join(&name))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Every stored name in a bucket (for orphan checks and retention).
    pub fn list(&self, bucket: Bucket) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.root.join(bucket.folder()))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if is_safe_name(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Serves a stored file with Range, ETag/If-None-Match and a content type from its
    /// extension. Returns None when there is no such file, so the caller answers in its
    /// surface's envelope.
    pub async fn serve(&self, req: &Request, bucket: Bucket, name: &str) -> Option<Response> {
        serve_path(req, self.path(bucket, name)?).await
    }
}

/// Serves a file on disk as `FileStore::serve` does; the caller has checked that the path
/// is one it may serve.
pub async fn serve_path(req: &Request, path: PathBuf) -> Option<Response> {
    let conditions = StaticFileRequest::from_request_without_body(req).await.ok()?;
    let answer = tokio::task::spawn_blocking(move || conditions.create_response(&path, false, false)).await.ok()?;
    match answer {
        Ok(found) => Some(found.into_response()),
        Err(poem::error::StaticFileError::NotFound) => None,
        Err(other) => Some(poem::Error::from(other).into_response()),
    }
}

/// Whether `name` is one this store could have made (32 hex digits and a short extension).
pub fn is_safe_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((stem, ext)) => {
            stem.len() == 32
                && stem.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && (1..=5).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_the_store_makes_are_accepted() {
        assert!(is_safe_name("0123456789abcdef0123456789abcdef.jpg"));
        for bad in [
            "../hearth.db",
            "0123456789abcdef0123456789abcdef.jpg/../../x",
            "a.jpg",
            "0123456789ABCDEF0123456789abcdef.jpg",
            "0123456789abcdef0123456789abcdef.",
            "0123456789abcdef0123456789abcdef.j/g",
            "",
            "..",
            "/etc/passwd",
        ] {
            assert!(!is_safe_name(bad), "{bad} accepted");
        }
    }

    #[test]
    fn removals_wait_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let name = store.put(Bucket::Covers, "png", b"x").unwrap().keep();
        let path = store.path(Bucket::Covers, &name).unwrap();
        let hold = store.hold_removals();
        store.remove(Bucket::Covers, &name).unwrap();
        assert!(path.exists(), "kept while a backup copies");
        drop(hold);
        assert!(!path.exists(), "removed once the hold ends");
        let name = store.put(Bucket::Covers, "png", b"y").unwrap().keep();
        store.remove(Bucket::Covers, &name).unwrap();
        assert!(!store.path(Bucket::Covers, &name).unwrap().exists(), "no hold: removed at once");
    }

    #[test]
    fn put_writes_under_a_fresh_name_and_dropping_an_unkept_file_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let kept = store.put(Bucket::Covers, "png", b"one").unwrap().keep();
        assert_eq!(store.read(Bucket::Covers, &kept).unwrap(), b"one");
        let dropped = store.put(Bucket::Covers, "png", b"two").unwrap();
        let path = store.path(Bucket::Covers, &dropped.name).unwrap();
        assert!(path.exists());
        drop(dropped);
        assert!(!path.exists());
        assert_eq!(store.list(Bucket::Covers).unwrap(), vec![kept]);
    }

    #[tokio::test]
    async fn serving_honours_range_and_etag_and_names_the_type() {
        use poem::http::{header, StatusCode};
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let name = store.put(Bucket::Songs, "mp3", b"0123456789").unwrap().keep();
        let whole = store.serve(&Request::default(), Bucket::Songs, &name).await.unwrap();
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.headers()[header::CONTENT_TYPE], "audio/mpeg");
        assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");
        let etag = whole.headers()[header::ETAG].to_str().unwrap().to_owned();

        let ranged = Request::builder().header(header::RANGE, "bytes=2-5").finish();
        let part = store.serve(&ranged, Bucket::Songs, &name).await.unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 2-5/10");
        assert_eq!(part.into_body().into_vec().await.unwrap(), b"2345");

        let cached = Request::builder().header(header::IF_NONE_MATCH, etag).finish();
        assert_eq!(store.serve(&cached, Bucket::Songs, &name).await.unwrap().status(), StatusCode::NOT_MODIFIED);

        assert!(store.serve(&Request::default(), Bucket::Songs, "../hearth.db").await.is_none());
        assert!(store.serve(&Request::default(), Bucket::Covers, &name).await.is_none(), "other bucket");
    }
}
