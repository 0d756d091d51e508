//! Backups: one tar archive holding a consistent snapshot of the database (`VACUUM INTO`,
//! which reads inside one transaction while the server keeps writing), `hearth.toml` and
//! every upload. While a server's own backup copies the uploads, file removals wait
//! (`FileStore::hold_removals`), so every file the snapshot names is in the archive.
//! Secrets are not archived: after a restore the box signs with a new key and everyone
//! logs in again.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use rusqlite::{params, Connection};

use crate::clock::now;
use crate::files::{is_safe_name, Bucket, FileStore};
use crate::AppState;

pub const DB_ENTRY: &str = "hearth.db";
pub const CONFIG_ENTRY: &str = "hearth.toml";
pub const MANIFEST_ENTRY: &str = "MANIFEST.json";

#[derive(Debug, Clone, serde::Serialize)]
pub struct Archive {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: u64,
}

/// The lock a serving hearth holds on its data folder, so that a restore cannot replace
/// the database under it.
pub fn lock_path(data: &Path) -> PathBuf {
    data.join("hearth.lock")
}

/// Takes the data folder's lock, or says that a server is using the folder.
pub fn lock_data_folder(data: &Path) -> anyhow::Result<File> {
    match try_lock_data_folder(data).context("locking the data folder")? {
        Some(file) => Ok(file),
        None => {
            bail!("a hearth server is using {} (or a transit import is running in it); stop it first", data.display())
        }
    }
}

/// The data folder's lock, or None while another process holds it (a server, a restore,
/// or a transit import running alone).
pub fn try_lock_data_folder(data: &Path) -> io::Result<Option<File>> {
    fs::create_dir_all(data)?;
    let file = File::options().create(true).truncate(false).write(true).open(lock_path(data))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Writes an archive of the data folder to `dest` (atomically: a temp file renamed into
/// place). `files` is the running server's store, whose removals are held meanwhile.
pub fn create(data: &Path, files: Option<&FileStore>, dest: &Path) -> anyhow::Result<Archive> {
    let folder = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(folder)?;
    let scratch = tempfile::Builder::new().prefix(".backup-").tempdir_in(folder)?;
    let snapshot = scratch.path().join(DB_ENTRY);
    let hold = files.map(FileStore::hold_removals);
    let db = data.join(DB_ENTRY);
    ensure!(db.is_file(), "there is no database in {}", data.display());
    let conn = Connection::open_with_flags(
        &db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .context("opening the database")?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute("VACUUM INTO ?1", params![snapshot.to_string_lossy()]).context("snapshotting the database")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    drop(conn);

    let partial = scratch.path().join("archive.tar");
    let mut tar = tar::Builder::new(BufWriter::new(File::create(&partial)?));
    tar.mode(tar::HeaderMode::Deterministic);
    let manifest = serde_json::json!({ "hearth": env!("CARGO_PKG_VERSION"), "schema": version, "created_at": now() });
    append_bytes(&mut tar, MANIFEST_ENTRY, manifest.to_string().as_bytes())?;
    tar.append_path_with_name(&snapshot, DB_ENTRY)?;
    if data.join(CONFIG_ENTRY).is_file() {
        tar.append_path_with_name(data.join(CONFIG_ENTRY), CONFIG_ENTRY)?;
    }
    let mut count = 0;
    for bucket in Bucket::ALL {
        let dir = data.join("uploads").join(bucket.folder());
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_safe_name(n))
            .collect();
        names.sort();
        for name in names {
            // A file removed by another process after the snapshot is simply absent.
            match tar.append_path_with_name(dir.join(&name), format!("uploads/{}/{name}", bucket.folder())) {
                Ok(()) => count += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    tracing::warn!(file = %name, "upload vanished during the backup")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    drop(hold);
    let mut out = tar.into_inner()?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs::rename(&partial, dest).with_context(|| format!("writing {}", dest.display()))?;
    File::open(folder)?.sync_all()?;
    Ok(Archive { path: dest.to_path_buf(), bytes: fs::metadata(dest)?.len(), files: count })
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(now() as u64);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
}

/// Where an archive entry may go: only the database, the config, the manifest and upload
/// names this server could have made. Anything else (absolute paths, `..`) is refused.
fn entry_target(name: &str) -> Option<PathBuf> {
    if [DB_ENTRY, CONFIG_ENTRY, MANIFEST_ENTRY].contains(&name) {
        return Some(PathBuf::from(name));
    }
    let mut parts = name.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("uploads"), Some(folder), Some(file), None)
            if Bucket::ALL.iter().any(|b| b.folder() == folder) && is_safe_name(file) =>
        {
            Some(Path::new("uploads").join(folder).join(file))
        }
        _ => None,
    }
}

#[derive(Debug)]
pub struct Restored {
    pub files: u64,
    /// Where the data folder's previous content was moved, with `force`.
    pub previous: Option<PathBuf>,
}

/// Restores an archive into `data`, which no server may be using. A folder that already
/// holds a database is only replaced with `force`; its content is then moved aside to
/// `<data>/pre-restore-<time>/`.
pub fn restore(archive: &Path, data: &Path, force: bool) -> anyhow::Result<Restored> {
    let _lock = lock_data_folder(data)?;
    let exists = data.join(DB_ENTRY).exists();
    ensure!(
        !exists || force,
        "{} already holds a database; pass --force to replace it (the current content is kept in a pre-restore folder)",
        data.display()
    );
    let staging = tempfile::Builder::new().prefix(".restore-").tempdir_in(data)?;
    let mut reader = tar::Archive::new(File::open(archive).with_context(|| format!("opening {}", archive.display()))?);
    let mut files = 0;
    for entry in reader.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let target = entry_target(&name).with_context(|| format!("the archive holds an unexpected entry {name:?}"))?;
        let path = staging.path().join(&target);
        fs::create_dir_all(path.parent().expect("entries have a parent"))?;
        io::copy(&mut entry, &mut File::create(&path)?)?;
        files += u64::from(target.starts_with("uploads"));
    }
    let db = staging.path().join(DB_ENTRY);
    ensure!(db.is_file(), "the archive holds no database");
    let check: String = Connection::open(&db)?.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    ensure!(check == "ok", "the archived database is damaged: {check}");

    let previous = exists.then(|| data.join(format!("pre-restore-{}", now())));
    if let Some(aside) = &previous {
        fs::create_dir_all(aside)?;
        for name in [DB_ENTRY, "hearth.db-wal", "hearth.db-shm", CONFIG_ENTRY, "uploads"] {
            if data.join(name).exists() {
                fs::rename(data.join(name), aside.join(name))?;
            }
        }
    }
    for name in [DB_ENTRY, CONFIG_ENTRY, "uploads"] {
        if staging.path().join(name).exists() {
            fs::rename(staging.path().join(name), data.join(name))?;
        }
    }
    Ok(Restored { files, previous })
}

/// The archive name for a backup made now.
pub fn archive_name() -> String {
    format!("hearth-{}.tar", chrono::Local::now().format("%Y%m%d-%H%M%S"))
}

pub fn backups_folder(data: &Path) -> PathBuf {
    data.join("backups")
}

/// Archives in the backups folder, newest first.
pub fn list(data: &Path) -> io::Result<Vec<(String, u64)>> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(backups_folder(data)) else { return Ok(found) };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_archive_name(&name) {
            found.push((name, entry.metadata()?.len()));
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(found)
}

/// Names this module gives archives: `hearth-YYYYmmdd-HHMMSS.tar`.
pub fn is_archive_name(name: &str) -> bool {
    name.strip_prefix("hearth-").and_then(|rest| rest.strip_suffix(".tar")).is_some_and(|stamp| {
        stamp.len() == 15 && stamp.bytes().enumerate().all(|(i, b)| if i == 8 { b == b'-' } else { b.is_ascii_digit() })
    })
}

/// Keeps the newest `keep` archives in the backups folder.
pub fn prune(data: &Path, keep: usize) -> io::Result<usize> {
    let mut removed = 0;
    for (name, _) in list(data)?.into_iter().skip(keep) {
        fs::remove_file(backups_folder(data).join(name))?;
        removed += 1;
    }
    Ok(removed)
}

/// Makes a backup into the backups folder, records the outcome in `backup_run` and
/// prunes old archives. One at a time per server.
pub async fn run(app: &Arc<AppState>, trigger: &'static str) -> anyhow::Result<Archive> {
    let _one_at_a_time = app.backup_running.lock().await;
    let started = now();
    let data = app.config.data.clone();
    let files = app.files.clone();
    let keep = app.config.backup_keep as usize;
    let outcome = tokio::task::spawn_blocking(move || {
        let archive = create(&data, Some(&files), &backups_folder(&data).join(archive_name()))?;
        prune(&data, keep)?;
        Ok::<_, anyhow::Error>(archive)
    })
    .await
    .context("backup task")?;
    let (file, bytes, error) = match &outcome {
        Ok(a) => (a.path.file_name().map(|n| n.to_string_lossy().into_owned()), Some(a.bytes as i64), None),
        Err(e) => (None, None, Some(format!("{e:#}"))),
    };
    if let Some(error) = &error {
        tracing::error!(%error, trigger, "backup failed");
    } else {
        tracing::info!(file = ?file, bytes = ?bytes, trigger, "backup written");
    }
    app.db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO backup_run (started_at, finished_at, trigger, file, bytes, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![started, now(), trigger, file, bytes, error],
            )?;
            Ok::<_, crate::db::DbError>(())
        })
        .await?;
    outcome
}

/// Scheduled backups: every `backup_interval_hours` (0: never), the first one an interval
/// after start.
pub async fn schedule(app: Arc<AppState>) {
    let hours = app.config.backup_interval_hours;
    if hours == 0 {
        return;
    }
    let every = Duration::from_secs(hours * 3600);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        let _ = run(&app, "scheduled").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_entries_may_be_restored() {
        assert_eq!(entry_target("hearth.db"), Some(PathBuf::from("hearth.db")));
        let upload = format!("uploads/notices/{}.jpg", "a".repeat(32));
        assert!(entry_target(&upload).is_some());
        for evil in [
            "../hearth.db",
            "/etc/passwd",
            "uploads/notices/../../x",
            "uploads/x/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.jpg",
            "secrets/jwt.key",
            "uploads/notices/evil.jpg",
        ] {
            assert_eq!(entry_target(evil), None, "{evil}");
        }
    }

    #[test]
    fn archive_names_are_recognised() {
        assert!(is_archive_name(&archive_name()));
        assert!(!is_archive_name("hearth-2026.tar") && !is_archive_name("notes.txt"));
    }
}
