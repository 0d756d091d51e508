//! Escalation of falls nobody has acknowledged. Each fall gets a row in `alert_escalation`
//! when the alert task first handles it; every `care_escalate_after_secs` after that, while
//! nobody bound to the camera has marked it read, it is sent again (push `escalation`, the
//! MQTT event with `escalated: true`, SSE `event: escalation`) to those who see the camera
//! and to the holders of `care_escalate_roles` whose data scope allows it, at most
//! `care_escalate_repeat` times. The due time is stored, so a restart resumes the schedule.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection};

use crate::clock::now_millis;
use crate::db::DbError;
use crate::identity::authz::data_scope_of;
use crate::identity::roles;
use crate::AppState;

/// One escalation as sent, for the live streams.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub notice: i64,
    pub event_id: String,
    pub device: String,
    pub content: String,
    pub created_at: i64,
    /// 1 for the first escalation, up to `care_escalate_repeat`
    pub round: u32,
    /// Who it was sent to.
    pub accounts: Arc<Vec<i64>>,
}

/// Starts the clock of a fall just stored; a fall already scheduled keeps its schedule.
pub fn schedule(conn: &Connection, notice: i64, after_secs: u64) -> rusqlite::Result<()> {
    let due = now_millis() + (after_secs as i64) * 1000;
    conn.execute("INSERT OR IGNORE INTO alert_escalation (notice_id, next_at) VALUES (?1, ?2)", params![notice, due])?;
    Ok(())
}

/// Everyone an escalation of a fall on `device` goes to, without repeats.
fn recipients(conn: &Connection, device: i64, role_names: &[String]) -> rusqlite::Result<Vec<i64>> {
    let mut accounts = crate::surfaces::care::watchers(conn, device)?;
    for account in roles::holders(conn, role_names)? {
        if data_scope_of(conn, account)?.allows_device(device) {
            accounts.push(account);
        }
    }
    accounts.sort_unstable();
    accounts.dedup();
    Ok(accounts)
}

/// Sends every escalation that is due; acknowledged falls are closed instead. Runs in one
/// write transaction, so an acknowledgement committed before it is always seen.
fn send_due(conn: &Connection, app: &AppState, base_url: &str) -> rusqlite::Result<(Vec<Escalation>, usize)> {
    let config = &app.config;
    let interval = (config.care_escalate_after_secs as i64) * 1000;
    let time = now_millis();
    let mut stmt = conn.prepare_cached(
        "SELECT e.notice_id, e.sent, n.device_id, d.name, n.event_id, n.content, n.created_at,
             EXISTS (SELECT 1 FROM notice_read r JOIN device_binding b
                 ON b.account_id = r.account_id AND b.device_id = n.device_id WHERE r.notice_id = n.id)
         FROM alert_escalation e JOIN notice n ON n.id = e.notice_id JOIN device d ON d.id = n.device_id
         WHERE e.done = 0 AND e.next_at <= ?1 ORDER BY e.next_at",
    )?;
    type Row = (i64, u32, i64, String, String, String, i64, bool);
    let due: Vec<Row> = stmt
        .query_map([time], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut sent = Vec::new();
    let mut queued = 0;
    for (notice, before, device, name, event_id, content, created_at, acknowledged) in due {
        if acknowledged || before >= config.care_escalate_repeat {
            conn.execute("UPDATE alert_escalation SET done = 1 WHERE notice_id = ?1", [notice])?;
            continue;
        }
        let round = before + 1;
        let accounts = recipients(conn, device, &config.care_escalate_roles)?;
        queued += super::push::enqueue_escalation(conn, notice, &accounts, base_url)?;
        conn.execute(
            "UPDATE alert_escalation SET sent = ?2, next_at = ?3, done = ?4 WHERE notice_id = ?1",
            params![notice, round, time + interval, round >= config.care_escalate_repeat],
        )?;
        sent.push(Escalation {
            notice,
            event_id,
            device: name,
            content,
            created_at,
            round,
            accounts: Arc::new(accounts),
        });
    }
    Ok((sent, queued))
}

/// Checks ten times per interval (0.1 s to 5 s apart) until the server stops.
pub async fn watch(app: Arc<AppState>, base_url: String) {
    let after = app.config.care_escalate_after_secs;
    if after == 0 || app.config.care_escalate_repeat == 0 {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_millis((after * 100).clamp(100, 5000)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (state, base) = (app.clone(), base_url.clone());
        let result = app.db.write(move |tx| Ok::<_, DbError>(send_due(tx, &state, &base)?)).await;
        match result {
            Ok((sent, queued)) => {
                if queued > 0 {
                    app.alerts.push_queued.notify_one();
                }
                for escalation in sent {
                    tracing::info!(notice = escalation.notice, round = escalation.round, "fall escalated");
                    super::escalated(&app, escalation.notice);
                    // No receiver simply means nobody is watching live.
                    let _ = app.alerts.escalations.send(escalation);
                }
            }
            Err(e) => tracing::warn!(error = %e, "escalating unacknowledged falls failed"),
        }
    }
}
