//! Fall snapshots are private pictures of people at their worst moment: they are kept
//! `care_retention_days` (default 180, 0 = forever) and then deleted with their rows,
//! except notices an administrator marked to keep.

use crate::clock::now;
use crate::files::Bucket;
use crate::surfaces::Failure;
use crate::AppState;

/// Deletes the notices past retention, rows first (one transaction) and then their files,
/// so a crash in between leaves at worst an unreferenced file, never a row without one.
/// Answers how many were deleted.
pub async fn purge(app: &AppState) -> Result<usize, Failure> {
    let days = app.config.care_retention_days as i64;
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now() - days * 86_400;
    let files = app
        .db
        .write(move |tx| {
            let mut stmt = tx.prepare("SELECT file FROM notice WHERE keep = 0 AND created_at < ?1")?;
            let files: Vec<String> = stmt.query_map([cutoff], |r| r.get(0))?.collect::<Result<_, _>>()?;
            tx.execute("DELETE FROM notice WHERE keep = 0 AND created_at < ?1", [cutoff])?;
            Ok::<_, Failure>(files)
        })
        .await?;
    let count = files.len();
    let store = app.files.clone();
    tokio::task::spawn_blocking(move || {
        for file in files {
            if let Err(e) = store.remove(Bucket::Notices, &file) {
                tracing::warn!(error = %e, %file, "removing an expired fall snapshot failed");
            }
        }
    })
    .await
    .map_err(|_| Failure::Internal("retention task stopped".into()))?;
    Ok(count)
}

/// One pass of the background job.
pub async fn run_once(app: &AppState) {
    match purge(app).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(notices = n, "deleted fall notices past retention"),
        Err(e) => tracing::warn!(error = %e, "fall notice retention failed"),
    }
}
