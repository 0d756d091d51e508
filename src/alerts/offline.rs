//! Cameras going offline and coming back. A camera is online while it called in within
//! `care_offline_secs`; each change against the state last reported (kept in
//! `alert_device_state`, so it survives restarts) is broadcast once to the live streams.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::params;

use crate::clock::{local_datetime, now};
use crate::db::DbError;
use crate::AppState;

/// One camera's change of state.
#[derive(Debug, Clone)]
pub struct DeviceChange {
    pub device: i64,
    pub name: String,
    pub online: bool,
    /// yyyy-MM-dd HH:mm:ss, server local time
    pub at: String,
}

/// Checks every `care_offline_secs / 10` seconds (1 to 10), first right at start.
pub async fn watch(app: Arc<AppState>, base_url: String) {
    let offline_after = app.config.care_offline_secs as i64;
    let mut tick = tokio::time::interval(Duration::from_secs((app.config.care_offline_secs / 10).clamp(1, 10)));
    loop {
        tick.tick().await;
        let base = base_url.clone();
        let changes = app
            .db
            .write(move |tx| {
                let time = now();
                let mut stmt = tx.prepare_cached(
                    "SELECT d.id, d.name, d.last_seen, s.online FROM device d
                     LEFT JOIN alert_device_state s ON s.device_id = d.id",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?, r.get(3)?))
                })?;
                let mut changes = Vec::new();
                for row in rows {
                    let (device, name, last_seen, reported): (i64, String, Option<i64>, Option<bool>) = row?;
                    let online = last_seen.is_some_and(|t| time - t < offline_after);
                    if reported == Some(online) {
                        continue;
                    }
                    tx.execute(
                        "INSERT INTO alert_device_state (device_id, online, since) VALUES (?1, ?2, ?3)
                         ON CONFLICT (device_id) DO UPDATE SET online = ?2, since = ?3",
                        params![device, online, time],
                    )?;
                    // A camera seen for the first time sets the baseline; only its changes are told.
                    if reported.is_some() {
                        // Queued with the state change, so a push is sent exactly when it is recorded.
                        super::push::enqueue_device(tx, device, &name, online, time, &base)?;
                        changes.push(DeviceChange { device, name, online, at: local_datetime(time) });
                    }
                }
                Ok::<_, DbError>(changes)
            })
            .await;
        match changes {
            Ok(changes) => {
                if !changes.is_empty() {
                    app.alerts.push_queued.notify_one();
                }
                for change in changes {
                    tracing::info!(device = change.device, online = change.online, "camera connectivity changed");
                    // No receiver simply means nobody is watching live.
                    let _ = app.alerts.devices.send(change);
                }
            }
            Err(e) => tracing::warn!(error = %e, "checking camera connectivity failed"),
        }
    }
}
