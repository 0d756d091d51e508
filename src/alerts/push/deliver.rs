//! The push worker: posts due messages from `push_message`, encrypted for their
//! subscription, and records the outcome. Failures are retried with the webhooks' backoff
//! (`webhook_backoff_secs`, doubled each time, up to `webhook_max_attempts`); a push
//! service answering 404 or 410 has dropped the subscription, so hearth drops it too.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection};

use super::crypto;
use crate::alerts::record::{self, Delivery};
use crate::clock::now;
use crate::db::DbError;
use crate::AppState;

/// How long a push service keeps a message for a phone that is off: a fall older than a
/// day is no longer news.
const TTL_SECS: i64 = 86_400;
/// VAPID tokens may live at most 24 h; a fresh one per request costs one signature.
const TOKEN_SECS: i64 = 12 * 3600;

struct Due {
    id: i64,
    payload: String,
    attempts: i64,
    subscription: i64,
    endpoint: String,
    p256dh: String,
    auth: String,
    /// The fall it carries, for the delivery record; None for camera changes.
    notice: Option<i64>,
    account: i64,
    escalated: bool,
}

fn due(conn: &Connection, limit: i64) -> rusqlite::Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.payload, m.attempts, s.id, s.endpoint, s.p256dh, s.auth, m.notice_id, s.account_id,
             m.kind = 'escalation'
         FROM push_message m JOIN push_subscription s ON s.id = m.subscription
         WHERE m.status = 'pending' AND m.next_attempt_at <= ?1 ORDER BY m.next_attempt_at, m.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now(), limit], |r| {
        Ok(Due {
            id: r.get(0)?,
            payload: r.get(1)?,
            attempts: r.get(2)?,
            subscription: r.get(3)?,
            endpoint: r.get(4)?,
            p256dh: r.get(5)?,
            auth: r.get(6)?,
            notice: r.get(7)?,
            account: r.get(8)?,
            escalated: r.get(9)?,
        })
    })?;
    rows.collect()
}

enum Outcome {
    Delivered,
    /// 404/410: the browser unsubscribed or the subscription expired.
    Gone(u16),
    /// Worth trying again later: network errors, 408, 429, 5xx.
    Retry(String),
    /// The push service refused this request as it is; sending it again changes nothing.
    Refused(String),
}

/// `scheme://host[:port]` of the endpoint, the VAPID token's audience.
fn origin(endpoint: &str) -> Option<String> {
    let url = reqwest::Url::parse(endpoint).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

/// RFC 8292 §2.1: a contact URI. Without a public one, a placeholder that Google's,
/// Mozilla's and Microsoft's services take; Apple's would not, and its subscriptions are
/// refused then (`push::check`).
fn subject(app: &AppState) -> &str {
    app.config.push_subject().unwrap_or("mailto:hearth@localhost")
}

async fn post(app: &AppState, client: &reqwest::Client, message: &Due) -> Outcome {
    let keys = crypto::decode_key(&message.p256dh)
        .and_then(|k| crypto::browser_key(&k))
        .zip(crypto::decode_key(&message.auth));
    let (Some((browser, auth)), Some(audience)) = (keys, origin(&message.endpoint)) else {
        return Outcome::Refused("the stored subscription is not usable".into());
    };
    let body = crypto::encrypt(&browser, &auth, message.payload.as_bytes());
    let authorization = app.vapid.authorization(&audience, now() + TOKEN_SECS, subject(app));
    let sent = client
        .post(&message.endpoint)
        .header("authorization", authorization)
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .header("ttl", TTL_SECS.to_string())
        .header("urgency", "high")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Outcome::Delivered;
            }
            // Its reason (Apple's `{"reason":"BadJwtToken"}`) is what an operator can act on.
            let answered = format!("the push service answered HTTP {status}{}", crate::outgoing::said(response).await);
            match status {
                404 | 410 => Outcome::Gone(status),
                408 | 429 | 500..=599 => Outcome::Retry(answered),
                _ => Outcome::Refused(answered),
            }
        }
        Err(e) => Outcome::Retry(format!("not delivered: {}", crate::outgoing::failure(e))),
    }
}

/// The last word on a fall's message, for the delivery record; None while it is retried.
fn final_outcome(message: &Due, outcome: &Outcome, attempts: i64, retry: bool) -> Option<Delivery> {
    let notice = message.notice.filter(|_| !retry)?;
    let failure = match outcome {
        Outcome::Delivered => None,
        Outcome::Gone(status) => {
            Some(format!("the push service answered HTTP {status}: the subscription expired and was removed"))
        }
        Outcome::Retry(error) => Some(format!("{error}; gave up after {attempts} attempts")),
        Outcome::Refused(error) => Some(error.clone()),
    };
    // The push service's host says which browser vendor; the rest of the endpoint is secret.
    let host = reqwest::Url::parse(&message.endpoint).ok().and_then(|u| u.host_str().map(str::to_owned));
    let failure = failure.map(|f| match host {
        Some(host) => format!("{host}: {f}"),
        None => f,
    });
    Some(Delivery {
        notice,
        account: Some(message.account),
        channel: record::PUSH,
        escalated: message.escalated,
        failure,
    })
}

fn save_outcome(
    conn: &Connection,
    message: &Due,
    outcome: &Outcome,
    max_attempts: i64,
    backoff: i64,
) -> rusqlite::Result<()> {
    let time = now();
    let attempts = message.attempts + 1;
    let retry = matches!(outcome, Outcome::Retry(_)) && attempts < max_attempts;
    if let Some(delivery) = final_outcome(message, outcome, attempts, retry) {
        record::write(conn, &delivery)?;
    }
    match outcome {
        Outcome::Delivered => {
            conn.execute(
                "UPDATE push_message SET status = 'delivered', attempts = ?1, delivered_at = ?2, last_error = NULL WHERE id = ?3",
                params![attempts, time, message.id],
            )?;
        }
        // Its queued messages go with it.
        Outcome::Gone(_) => {
            conn.execute("DELETE FROM push_subscription WHERE id = ?1", [message.subscription])?;
        }
        Outcome::Retry(error) | Outcome::Refused(error) => {
            let wait = backoff.saturating_mul(1 << (attempts - 1).min(20));
            conn.execute(
                "UPDATE push_message SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?5",
                params![if retry { "pending" } else { "failed" }, attempts, time + wait, error, message.id],
            )?;
        }
    }
    Ok(())
}

/// Delivered and failed messages are kept a week, to answer "was I told?".
const KEEP_SECS: i64 = 7 * 86_400;

/// Delivers due messages until the server stops; woken at once by new messages.
pub async fn deliver_forever(app: Arc<AppState>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let max_attempts = app.config.webhook_max_attempts as i64;
    let backoff = app.config.webhook_backoff_secs as i64;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut prune = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = app.alerts.push_queued.notified() => {}
            _ = prune.tick() => {
                let cutoff = now() - KEEP_SECS;
                let pruned = app.db.write(move |tx| {
                    Ok::<_, DbError>(tx.execute("DELETE FROM push_message WHERE status != 'pending' AND created_at < ?1", [cutoff])?)
                }).await;
                if let Err(e) = pruned {
                    tracing::warn!(error = %e, "pruning old push messages failed");
                }
                continue;
            }
        }
        let batch = match app.db.read(|c| Ok::<_, DbError>(due(c, 32)?)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "reading the push queue failed");
                continue;
            }
        };
        for message in batch {
            let outcome = post(&app, &client, &message).await;
            match &outcome {
                Outcome::Delivered => {}
                Outcome::Gone(status) => {
                    tracing::info!(subscription = message.subscription, status, "push subscription expired; removed")
                }
                Outcome::Retry(error) | Outcome::Refused(error) => {
                    tracing::info!(message = message.id, %error, "push delivery failed")
                }
            }
            let saved = app
                .db
                .write(move |tx| Ok::<_, DbError>(save_outcome(tx, &message, &outcome, max_attempts, backoff)?))
                .await;
            if let Err(e) = saved {
                tracing::warn!(error = %e, "recording a push attempt failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_audience_is_the_endpoint_origin() {
        assert_eq!(
            super::origin("https://fcm.googleapis.com/fcm/send/x").as_deref(),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(super::origin("http://127.0.0.1:9000/p/1").as_deref(), Some("http://127.0.0.1:9000"));
    }
}
