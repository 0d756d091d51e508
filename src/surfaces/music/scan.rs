//! Scanning the music folders into the library: at start (in the background), every
//! `music_scan_interval_mins`, from `hearth music scan` and from the system surface. One
//! scan at a time per process. A file whose size and mtime are unchanged is not read again;
//! the others are read in batches and written one transaction per batch, so a scan never
//! holds the database for long and a stop midway keeps what was written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::OptionalExtension;

use super::folder::{self, Found, Tags};
use super::library::{self, Known};
use crate::clock::now;
use crate::db::DbError;
use crate::identity::roles;
use crate::AppState;

/// Files read and written per transaction.
const BATCH: usize = 200;

/// Progress of the running scan, or the outcome of the last one.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub running: bool,
    /// Scans finished since the server started.
    pub runs: u64,
    pub seen: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Unix seconds.
    pub started: Option<i64>,
    pub finished: Option<i64>,
    /// Why the last scan stopped, or which folders it could not read.
    pub error: Option<String>,
}

#[derive(Default)]
pub struct ScanState(Mutex<Status>);

impl ScanState {
    pub fn status(&self) -> Status {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Marks a scan as running; false when one already is.
    fn begin(&self) -> bool {
        let mut status = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if status.running {
            return false;
        }
        let runs = status.runs;
        *status = Status { running: true, runs, started: Some(now()), ..Status::default() };
        true
    }
}

/// What a finished scan did.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub seen: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

/// Starts a scan in the background; false (and nothing started) when one is running.
/// Refused when no music folder is configured, as there is nothing to scan.
pub fn start(app: &Arc<AppState>) -> Result<bool, crate::surfaces::Failure> {
    if app.config.music_folders.is_empty() {
        return Err(crate::surfaces::Failure::Invalid(
            "no music folders are configured (music_folders, --music-folder DIR)".into(),
        ));
    }
    if !app.music_scan.begin() {
        return Ok(false);
    }
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = scan_begun(&app).await {
            tracing::warn!(error = %e, "music scan failed");
        }
    });
    Ok(true)
}

/// Scans now and waits for the outcome.
pub async fn run(app: &Arc<AppState>) -> anyhow::Result<Report> {
    anyhow::ensure!(app.music_scan.begin(), "a music scan is already running");
    scan_begun(app).await
}

/// The scan at start and every interval; nothing without music folders.
pub async fn schedule(app: Arc<AppState>) {
    if app.config.music_folders.is_empty() {
        return;
    }
    let every = app.config.music_scan_interval_mins;
    loop {
        // Folders are configured (checked above), so `start` is never refused here.
        let _ = start(&app);
        if every == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(every * 60)).await;
    }
}

async fn scan_begun(app: &Arc<AppState>) -> anyhow::Result<Report> {
    let outcome = scan(app).await;
    app.music_scan.update(|s| {
        s.running = false;
        s.runs += 1;
        s.finished = Some(now());
        if let Err(e) = &outcome {
            s.error = Some(format!("{e:#}"));
        }
    });
    let status = app.music_scan.status();
    if outcome.is_ok() {
        tracing::info!(
            seen = status.seen,
            added = status.added,
            changed = status.changed,
            removed = status.removed,
            "music folders scanned"
        );
    }
    outcome.map(|()| Report {
        seen: status.seen,
        added: status.added,
        changed: status.changed,
        removed: status.removed,
    })
}

/// The account scanned songs belong to: `music_scan_owner`, else the first super-administrator.
async fn owner(app: &AppState) -> anyhow::Result<i64> {
    let name = app.config.music_scan_owner.clone();
    let found = app
        .db
        .read(move |c| {
            let id = match &name {
                Some(name) => c
                    .query_row("SELECT id FROM account WHERE username = ?1 COLLATE NOCASE", [name], |r| r.get(0))
                    .optional()?,
                None => c
                    .query_row(
                        "SELECT account_id FROM account_role WHERE role_id = ?1 ORDER BY account_id LIMIT 1",
                        [roles::SUPER_ADMIN],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()?,
            };
            Ok::<_, DbError>(id)
        })
        .await?;
    match (found, &app.config.music_scan_owner) {
        (Some(id), _) => Ok(id),
        (None, Some(name)) => anyhow::bail!("music_scan_owner names no account: {name:?}"),
        (None, None) => {
            anyhow::bail!("no super-administrator yet to own scanned songs; create one or set music_scan_owner")
        }
    }
}

async fn scan(app: &Arc<AppState>) -> anyhow::Result<()> {
    let owner = owner(app).await?;
    let folders: Vec<PathBuf> = app.config.music_folders.clone();
    let keys: Vec<String> = folders.iter().map(|f| f.to_string_lossy().into_owned()).collect();
    // Songs of folders no longer configured go.
    let kept = keys.clone();
    let gone = app
        .db
        .write(move |tx| {
            let mut stmt = tx.prepare("SELECT DISTINCT folder FROM music_song WHERE folder IS NOT NULL")?;
            let stale: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?
                .into_iter()
                .filter(|f| !kept.contains(f))
                .collect();
            let mut removed = 0;
            for folder in stale {
                removed += tx.execute("DELETE FROM music_song WHERE folder = ?1", [folder])?;
            }
            Ok::<_, DbError>(removed as u64)
        })
        .await?;
    app.music_scan.update(|s| s.removed += gone);
    let mut unreadable = Vec::new();
    for (path, key) in folders.into_iter().zip(keys) {
        if let Err(e) = scan_folder(app, owner, &path, &key).await {
            // Its songs stay: a drive that is not mounted is not a library emptied.
            tracing::warn!(folder = %path.display(), error = %e, "music folder not scanned");
            unreadable.push(format!("{}: {e:#}", path.display()));
        }
    }
    app.db.write(|tx| Ok::<_, DbError>(library::drop_empty(tx)?)).await?;
    if !unreadable.is_empty() {
        app.music_scan.update(|s| s.error = Some(format!("folders not scanned: {}", unreadable.join("; "))));
    }
    Ok(())
}

async fn scan_folder(app: &Arc<AppState>, owner: i64, folder: &Path, key: &str) -> anyhow::Result<()> {
    let root = folder.to_path_buf();
    let (root, files) = tokio::task::spawn_blocking(move || -> std::io::Result<(PathBuf, Vec<Found>)> {
        let root = std::fs::canonicalize(&root)?;
        let files = folder::walk(&root)?;
        Ok((root, files))
    })
    .await??;
    let folder_key = key.to_owned();
    let mut known: HashMap<String, Known> = app
        .db
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT path, id, COALESCE(size, -1), COALESCE(mtime, -1) FROM music_song WHERE folder = ?1",
            )?;
            let rows = stmt.query_map([&folder_key], |r| {
                Ok((r.get(0)?, Known { id: r.get(1)?, size: r.get(2)?, mtime: r.get(3)? }))
            })?;
            Ok::<_, DbError>(rows.collect::<rusqlite::Result<HashMap<String, Known>>>()?)
        })
        .await?;
    app.music_scan.update(|s| s.seen += files.len() as u64);
    let mut pending: Vec<(Found, Option<i64>)> = Vec::new();
    for file in files {
        match known.remove(&file.path) {
            Some(k) if k.size == file.size && k.mtime == file.mtime => {}
            Some(k) => pending.push((file, Some(k.id))),
            None => pending.push((file, None)),
        }
    }
    for batch in pending.chunks(BATCH) {
        let batch = batch.to_vec();
        let base = root.clone();
        let read: Vec<(Found, Tags, Option<i64>)> = tokio::task::spawn_blocking(move || {
            batch
                .into_iter()
                .filter_map(|(file, id)| match folder::read_tags(&base.join(&file.path)) {
                    Ok(tags) => Some((file, tags, id)),
                    Err(e) => {
                        tracing::warn!(file = %file.path, error = %e, "skipping a music file whose tags cannot be read");
                        None
                    }
                })
                .collect()
        })
        .await?;
        let folder_key = key.to_owned();
        let (added, changed) = app
            .db
            .write(move |tx| {
                let (mut added, mut changed) = (0, 0);
                for (file, tags, id) in &read {
                    library::upsert_scanned(tx, owner, &folder_key, file, tags, *id)?;
                    if id.is_some() {
                        changed += 1;
                    } else {
                        added += 1;
                    }
                }
                Ok::<_, DbError>((added, changed))
            })
            .await?;
        app.music_scan.update(|s| {
            s.added += added;
            s.changed += changed;
        });
    }
    let missing: Vec<i64> = known.into_values().map(|k| k.id).collect();
    for batch in missing.chunks(BATCH) {
        let ids = batch.to_vec();
        let removed = app
            .db
            .write(move |tx| {
                let mut removed = 0;
                for id in ids {
                    removed += tx.execute("DELETE FROM music_song WHERE id = ?1", [id])?;
                }
                Ok::<_, DbError>(removed as u64)
            })
            .await?;
        app.music_scan.update(|s| s.removed += removed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_scan_is_not_started_twice() {
        let state = ScanState::default();
        assert!(state.begin());
        assert!(!state.begin(), "second start while running");
        state.update(|s| {
            s.running = false;
            s.runs += 1;
        });
        assert!(state.begin(), "free again once finished");
        assert_eq!((state.status().runs, state.status().running), (1, true));
    }
}
