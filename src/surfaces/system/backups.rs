//! Backups for administrators: make one now, list archives and past runs (failures
//! included), download an archive.

use std::sync::Arc;

use poem::Body;
use poem_openapi::param::Path;
use poem_openapi::payload::Attachment;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{ok, page, permitted, Reply, System, SystemToken};
use crate::backup;
use crate::clock::local_datetime;
use crate::identity::authz::Operation;
use crate::surfaces::{ApiError, Failure};
use crate::AppState;

pub struct BackupsApi(pub Arc<AppState>);

#[derive(Object)]
struct ArchiveInfo {
    /// File name in the backups folder
    name: String,
    bytes: i64,
    /// Uploaded files inside (only for a backup just made)
    #[oai(skip_serializing_if_is_none)]
    files: Option<i64>,
}

#[derive(Object)]
struct RunInfo {
    /// yyyy-MM-dd HH:mm:ss
    #[oai(rename = "startTime")]
    start_time: String,
    #[oai(rename = "finishTime")]
    finish_time: String,
    /// scheduled or admin
    trigger: String,
    file: Option<String>,
    bytes: Option<i64>,
    /// Why it failed; null on success
    error: Option<String>,
}

#[derive(ApiResponse)]
enum Download {
    /// The tar archive
    #[oai(status = 200)]
    Archive(Attachment<Body>),
}

#[OpenApi]
impl BackupsApi {
    /// Make a backup now (database snapshot and uploads, while serving)
    #[oai(path = "/api/backup/create", method = "post")]
    async fn create(&self, op: &Operation, token: SystemToken) -> Reply<ArchiveInfo> {
        permitted(&self.0, op, &token).await?;
        let archive =
            backup::run(&self.0, "admin").await.map_err(|e| Failure::Code(-1, format!("backup failed: {e:#}")))?;
        let name = archive.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        ok(ArchiveInfo { name, bytes: archive.bytes as i64, files: Some(archive.files as i64) })
    }

    /// Archives in the backups folder, newest first
    #[oai(path = "/api/backup/list", method = "get")]
    async fn list(&self, op: &Operation, token: SystemToken) -> Reply<Vec<ArchiveInfo>> {
        permitted(&self.0, op, &token).await?;
        let data = self.0.config.data.clone();
        let found = tokio::task::spawn_blocking(move || backup::list(&data))
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?
            .map_err(|e| Failure::Internal(e.to_string()))?;
        let found: Vec<ArchiveInfo> =
            found.into_iter().map(|(name, bytes)| ArchiveInfo { name, bytes: bytes as i64, files: None }).collect();
        let total = found.len() as i64;
        page(found, total)
    }

    /// The last 50 backup runs, newest first, failures included
    #[oai(path = "/api/backup/runs", method = "get")]
    async fn runs(&self, op: &Operation, token: SystemToken) -> Reply<Vec<RunInfo>> {
        permitted(&self.0, op, &token).await?;
        let runs = self
            .0
            .db
            .read(|c| {
                let mut stmt = c.prepare(
                    "SELECT started_at, finished_at, trigger, file, bytes, error FROM backup_run ORDER BY id DESC LIMIT 50",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok(RunInfo {
                        start_time: local_datetime(r.get(0)?),
                        finish_time: local_datetime(r.get(1)?),
                        trigger: r.get(2)?,
                        file: r.get(3)?,
                        bytes: r.get(4)?,
                        error: r.get(5)?,
                    })
                })?;
                Ok::<_, Failure>(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await?;
        let total = runs.len() as i64;
        page(runs, total)
    }

    /// Download an archive from the backups folder
    #[oai(path = "/api/backup/download/:name", method = "get")]
    async fn download(
        &self,
        op: &Operation,
        token: SystemToken,
        name: Path<String>,
    ) -> Result<Download, ApiError<System>> {
        permitted(&self.0, op, &token).await?;
        if !backup::is_archive_name(&name) {
            return Err(Failure::NotFound(format!("no backup named {:?}", name.0)).into());
        }
        let path = backup::backups_folder(&self.0.config.data).join(&name.0);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|_| Failure::NotFound(format!("no backup named {:?}", name.0)))?;
        let body = Body::from_async_read(file);
        Ok(Download::Archive(
            Attachment::new(body).filename(name.0).attachment_type(poem_openapi::payload::AttachmentType::Attachment),
        ))
    }
}
