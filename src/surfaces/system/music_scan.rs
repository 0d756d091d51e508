//! The music folder scan for administrators: start one (answered at once) and read its
//! progress. The scan itself is the music surface's.

use std::sync::Arc;

use poem_openapi::{Object, OpenApi};

use super::{ok, permitted, Reply, SystemToken};
use crate::clock::local_datetime;
use crate::identity::authz::Operation;
use crate::surfaces::music::scan;
use crate::AppState;

pub struct MusicScanApi(pub Arc<AppState>);

#[derive(Object)]
struct ScanStatus {
    /// A scan is running now
    running: bool,
    /// Whether this request started one (false: one was running already, or it was a read)
    #[oai(rename = "startedNow")]
    started_now: bool,
    /// Scans finished since the server started
    runs: u64,
    /// Music files found so far by the running or last scan
    seen: u64,
    added: u64,
    changed: u64,
    removed: u64,
    /// yyyy-MM-dd HH:mm:ss, null before the first scan
    started: Option<String>,
    /// yyyy-MM-dd HH:mm:ss, null while the first scan runs
    finished: Option<String>,
    /// Why the last scan failed, or which folders it could not read
    error: Option<String>,
    /// The configured music folders
    folders: Vec<String>,
}

impl MusicScanApi {
    fn status(&self, started_now: bool) -> ScanStatus {
        let s = self.0.music_scan.status();
        ScanStatus {
            running: s.running,
            started_now,
            runs: s.runs,
            seen: s.seen,
            added: s.added,
            changed: s.changed,
            removed: s.removed,
            started: s.started.map(local_datetime),
            finished: if s.running { None } else { s.finished.map(local_datetime) },
            error: s.error,
            folders: self.0.config.music_folders.iter().map(|f| f.to_string_lossy().into_owned()).collect(),
        }
    }
}

#[OpenApi]
impl MusicScanApi {
    /// Scan the music folders now, in the background; a scan already running is not started twice
    #[oai(path = "/api/music/scan", method = "post")]
    async fn start(&self, op: &Operation, token: SystemToken) -> Reply<ScanStatus> {
        permitted(&self.0, op, &token).await?;
        let started = scan::start(&self.0)?;
        ok(self.status(started))
    }

    /// Progress of the running music scan, or the outcome of the last one
    #[oai(path = "/api/music/scan", method = "get")]
    async fn progress(&self, op: &Operation, token: SystemToken) -> Reply<ScanStatus> {
        permitted(&self.0, op, &token).await?;
        ok(self.status(false))
    }
}
