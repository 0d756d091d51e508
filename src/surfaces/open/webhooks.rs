//! Signed webhooks from a queue kept in SQLite. A surface enqueues an event in the same
//! transaction as the change it reports, so an event exists exactly when the change does;
//! a background worker posts due events and retries failures with exponential backoff.
//! Delivery is at least once: a receiver de-duplicates by `X-Hearth-Event-Id`.
//!
//! Each request carries `X-Hearth-Event` (kind), `X-Hearth-Event-Id`, `X-Hearth-Timestamp`
//! (Unix seconds) and `X-Hearth-Signature: sha256=<hex>`, the HMAC-SHA256 under the app's
//! webhook secret of `<timestamp>.<body>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rusqlite::{params, Connection};
use sha2::Sha256;

use crate::clock::now;
use crate::identity::tokens::random_hex;
use crate::AppState;

/// Queues `data` for every enabled app with a webhook URL and `scope`. Answers how many.
pub fn enqueue(conn: &Connection, kind: &str, scope: &str, data: &serde_json::Value) -> rusqlite::Result<usize> {
    let mut apps = conn.prepare_cached(
        "SELECT id FROM open_app WHERE enabled = 1 AND webhook_url IS NOT NULL AND (' ' || scopes || ' ') LIKE ?1",
    )?;
    let ids: Vec<i64> = apps.query_map([format!("% {scope} %")], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let time = now();
    let mut insert = conn.prepare_cached(
        "INSERT INTO webhook_event (app, event_id, kind, payload, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?;
    for app in &ids {
        let event_id = random_hex(16);
        let body = serde_json::json!({ "event": kind, "eventId": event_id, "createdAt": time, "data": data });
        insert.execute(params![app, event_id, kind, body.to_string(), time])?;
    }
    Ok(ids.len())
}

pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

struct Due {
    id: i64,
    event_id: String,
    kind: String,
    payload: String,
    attempts: i64,
    url: String,
    secret: String,
}

fn due(conn: &Connection, limit: i64) -> rusqlite::Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.event_id, e.kind, e.payload, e.attempts, a.webhook_url, a.webhook_secret
         FROM webhook_event e JOIN open_app a ON a.id = e.app
         WHERE e.status = 'pending' AND e.next_attempt_at <= ?1 AND a.enabled = 1 AND a.webhook_url IS NOT NULL
         ORDER BY e.next_attempt_at, e.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now(), limit], |r| {
        Ok(Due {
            id: r.get(0)?,
            event_id: r.get(1)?,
            kind: r.get(2)?,
            payload: r.get(3)?,
            attempts: r.get(4)?,
            url: r.get(5)?,
            secret: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// The outcome of one attempt, as recorded.
struct Attempt {
    http_status: Option<u16>,
    error: Option<String>,
    duration_ms: i64,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.http_status.is_some_and(|s| (200..300).contains(&s))
    }
}

async fn post(client: &reqwest::Client, event: &Due) -> Attempt {
    let timestamp = now();
    let started = Instant::now();
    let sent = client
        .post(&event.url)
        .header("content-type", "application/json")
        .header("x-hearth-event", &event.kind)
        .header("x-hearth-event-id", &event.event_id)
        .header("x-hearth-timestamp", timestamp.to_string())
        .header("x-hearth-signature", signature(&event.secret, timestamp, &event.payload))
        .body(event.payload.clone())
        .send()
        .await;
    let duration_ms = started.elapsed().as_millis() as i64;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let error = if response.status().is_success() {
                None
            } else {
                Some(format!("the receiver answered HTTP {status}{}", crate::outgoing::said(response).await))
            };
            Attempt { http_status: Some(status), error, duration_ms }
        }
        Err(e) => Attempt {
            http_status: None,
            error: Some(format!("not delivered: {}", crate::outgoing::failure(e))),
            duration_ms,
        },
    }
}

/// Records an attempt: delivered, retried after `backoff * 2^(attempts-1)`, or failed
/// after `max_attempts`.
fn record(conn: &Connection, event: &Due, attempt: &Attempt, max_attempts: i64, backoff: i64) -> rusqlite::Result<()> {
    let time = now();
    conn.execute(
        "INSERT INTO webhook_attempt (event, at, http_status, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![event.id, time, attempt.http_status, attempt.error, attempt.duration_ms],
    )?;
    let attempts = event.attempts + 1;
    if attempt.succeeded() {
        conn.execute(
            "UPDATE webhook_event SET status = 'delivered', attempts = ?1, delivered_at = ?2, last_error = NULL WHERE id = ?3",
            params![attempts, time, event.id],
        )?;
    } else {
        let status = if attempts >= max_attempts { "failed" } else { "pending" };
        let wait = backoff.saturating_mul(1 << (attempts - 1).min(20));
        conn.execute(
            "UPDATE webhook_event SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?5",
            params![status, attempts, time + wait, attempt.error, event.id],
        )?;
    }
    Ok(())
}

/// Delivers due events until the server stops; runs as one background task.
pub async fn deliver_forever(app: Arc<AppState>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let max_attempts = app.config.webhook_max_attempts as i64;
    let backoff = app.config.webhook_backoff_secs as i64;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let batch = match app.db.read(|c| Ok::<_, crate::db::DbError>(due(c, 32)?)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "reading the webhook queue failed");
                continue;
            }
        };
        for event in batch {
            let attempt = post(&client, &event).await;
            let outcome = match (attempt.succeeded(), event.attempts + 1 >= max_attempts) {
                (true, _) => "delivered",
                (false, false) => "retry",
                (false, true) => "failed",
            };
            metrics::counter!(crate::web::metrics::WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(1);
            if !attempt.succeeded() {
                tracing::info!(event = %event.event_id, error = ?attempt.error, "webhook delivery failed; will retry");
            }
            let saved = app
                .db
                .write(move |tx| Ok::<_, crate::db::DbError>(record(tx, &event, &attempt, max_attempts, backoff)?))
                .await;
            if let Err(e) = saved {
                tracing::warn!(error = %e, "recording a webhook attempt failed");
            }
        }
    }
}

/// Events still to be delivered, due or waiting for a retry.
pub fn pending(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM webhook_event WHERE status = 'pending'", [], |r| r.get(0))
}

pub struct Delivery {
    pub event_id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_http_status: Option<i64>,
}

/// An app's events, newest first, with the total count.
pub fn history(conn: &Connection, app: i64, limit: i64, offset: i64) -> rusqlite::Result<(Vec<Delivery>, i64)> {
    let total = conn.query_row("SELECT count(*) FROM webhook_event WHERE app = ?1", [app], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.event_id, e.kind, e.status, e.attempts, e.created_at, e.next_attempt_at, e.delivered_at, e.last_error,
                (SELECT http_status FROM webhook_attempt WHERE event = e.id ORDER BY id DESC LIMIT 1)
         FROM webhook_event e WHERE e.app = ?1 ORDER BY e.id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(params![app, limit, offset], |r| {
        Ok(Delivery {
            event_id: r.get(0)?,
            kind: r.get(1)?,
            status: r.get(2)?,
            attempts: r.get(3)?,
            created_at: r.get(4)?,
            next_attempt_at: r.get(5)?,
            delivered_at: r.get(6)?,
            last_error: r.get(7)?,
            last_http_status: r.get(8)?,
        })
    })?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // The documented construction, computed in one piece.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_k").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(signature("whsec_k", 1_700_000_000, "{\"a\":1}"), want);
        assert_ne!(signature("whsec_other", 1_700_000_000, "{\"a\":1}"), want);
    }
}
