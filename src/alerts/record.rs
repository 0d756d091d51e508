//! The delivery record: for each fall notice, who was told on which channel, when, and
//! whether it arrived. Each delivery path writes its row at the moment it knows the outcome:
//! the push worker when the push service answered for the last time, the live stream when
//! it sent the event to a connected account, the MQTT task when it published the event
//! (with no account: the Home Assistant broker). Escalations are marked as such.
//!
//! Reasons are short and never carry a push endpoint (a capability URL) or a credential.
//! Rows go with their notice, so care retention bounds them in time; `MAX_PER_NOTICE`
//! bounds them per notice.

use std::sync::Arc;

use rusqlite::{params, Connection};

use crate::clock::now;
use crate::db::DbError;
use crate::AppState;

pub const PUSH: &str = "push";
pub const SSE: &str = "sse";
pub const MQTT: &str = "mqtt";

/// Enough for every recipient, subscription and escalation round of a household; a
/// console left open in many tabs cannot grow a notice's record past it.
const MAX_PER_NOTICE: i64 = 500;
/// Longer reasons are cut, on a character boundary.
const MAX_REASON: usize = 200;

/// One outcome on one channel.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub notice: i64,
    /// None: the Home Assistant broker, which is nobody's account.
    pub account: Option<i64>,
    pub channel: &'static str,
    pub escalated: bool,
    /// None: delivered; Some: why not.
    pub failure: Option<String>,
}

/// Writes one outcome; nothing when the notice is gone or its record is full. An account
/// with the console open in several tabs gets one live-stream row per moment, not per tab.
pub fn write(conn: &Connection, delivery: &Delivery) -> rusqlite::Result<()> {
    let reason = delivery.failure.as_deref().map(|r| r.chars().take(MAX_REASON).collect::<String>());
    conn.execute(
        "INSERT INTO alert_delivery (notice_id, account_id, channel, escalated, delivered, reason, at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
         WHERE EXISTS (SELECT 1 FROM notice WHERE id = ?1)
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM account WHERE id = ?2))
           AND (SELECT COUNT(*) FROM alert_delivery WHERE notice_id = ?1) < ?8
           AND NOT (?3 = ?9 AND EXISTS (SELECT 1 FROM alert_delivery WHERE notice_id = ?1 AND account_id IS ?2
               AND channel = ?3 AND escalated = ?4 AND at = ?7))",
        params![
            delivery.notice,
            delivery.account,
            delivery.channel,
            delivery.escalated,
            delivery.failure.is_none(),
            reason,
            now(),
            MAX_PER_NOTICE,
            SSE
        ],
    )?;
    Ok(())
}

/// Writes an outcome off the caller's path: a live stream or the MQTT task does not wait
/// for the database to go on.
pub fn spawn(app: &Arc<AppState>, delivery: Delivery) {
    let app = app.clone();
    tokio::spawn(async move {
        let notice = delivery.notice;
        if let Err(e) = app.db.write(move |tx| Ok::<_, DbError>(write(tx, &delivery)?)).await {
            tracing::warn!(error = %e, notice, "recording an alert delivery failed");
        }
    });
}

/// A row of the record as an administrator reads it.
pub struct Row {
    pub account_id: Option<i64>,
    /// The account's name, else its user name, else its phone.
    pub account: Option<String>,
    pub channel: String,
    pub escalated: bool,
    pub delivered: bool,
    pub reason: Option<String>,
    pub at: i64,
}

/// A notice's record, oldest first.
pub fn of_notice(conn: &Connection, notice: i64) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.account_id, COALESCE(NULLIF(a.name, ''), a.username, a.phone), d.channel, d.escalated,
             d.delivered, d.reason, d.at
         FROM alert_delivery d LEFT JOIN account a ON a.id = d.account_id
         WHERE d.notice_id = ?1 ORDER BY d.id",
    )?;
    let rows = stmt.query_map([notice], |r| {
        Ok(Row {
            account_id: r.get(0)?,
            account: r.get(1)?,
            channel: r.get(2)?,
            escalated: r.get(3)?,
            delivered: r.get(4)?,
            reason: r.get(5)?,
            at: r.get(6)?,
        })
    })?;
    rows.collect()
}
