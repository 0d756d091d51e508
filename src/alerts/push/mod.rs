//! Web Push to phones and desktops (RFC 8030, 8291, 8292). An account subscribes a browser
//! (its `PushSubscription`); every fall and camera change that account can see is queued in
//! `push_message`, in the same transaction as the change where there is one, and a
//! background worker (`deliver`) encrypts and posts each message, retrying like webhooks.

pub mod crypto;
pub mod deliver;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

use crate::clock::{local_datetime, now};

pub use crypto::Vapid;

/// A browser's `PushSubscription` as its `toJSON()` gives it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A subscription as its owner sees it; the keys stay in the database.
pub struct Subscription {
    pub id: i64,
    pub endpoint: String,
    pub created_at: i64,
}

/// Push services answer a longer endpoint with an error anyway.
const MAX_ENDPOINT: usize = 2048;

/// Why a subscription is refused, in words for the caller.
pub fn check(sub: &NewSubscription, config: &crate::config::Config) -> Result<(), String> {
    let allowed_hosts = &config.push_endpoint_hosts;
    if sub.endpoint.len() > MAX_ENDPOINT {
        return Err(format!("endpoint is longer than {MAX_ENDPOINT} characters"));
    }
    let url = reqwest::Url::parse(sub.endpoint.trim()).map_err(|_| "endpoint is not a URL".to_owned())?;
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let listed = |pattern: &String| {
        let pattern = pattern.trim().to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(domain) => host.ends_with(&format!(".{domain}")),
            None => host == pattern,
        }
    };
    let Some(pattern) = allowed_hosts.iter().find(|p| listed(p)) else {
        return Err(format!("endpoint host {host:?} is not a push service this server sends to (push_endpoint_hosts)"));
    };
    // Plain http only to a host named exactly that is not a browser's push service (a LAN
    // relay, a test receiver).
    let pattern = pattern.trim().to_ascii_lowercase();
    let exact = !pattern.starts_with("*.") && !crate::config::PUSH_SERVICES.contains(&pattern.as_str());
    match url.scheme() {
        "https" => {}
        "http" if exact => {}
        _ => return Err("endpoint must be an https:// URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("endpoint must not carry a user name or password".into());
    }
    // Apple's service answers every message 403 BadJwtToken unless its token names a contact
    // on a public name; refused here, the person subscribing learns it now, not at a fall.
    if (host == "push.apple.com" || host.ends_with(".push.apple.com")) && config.push_subject().is_none() {
        return Err("Apple's push service (Safari, iPhone, iPad) takes messages only from a server that names a \
                    public contact: the operator must set push_contact (a mailto: address or an https URL)"
            .into());
    }
    let p256dh = crypto::decode_key(&sub.p256dh).and_then(|bytes| crypto::browser_key(&bytes));
    if p256dh.is_none() {
        return Err("keys.p256dh must be an uncompressed P-256 public key in base64url (65 bytes)".into());
    }
    if crypto::decode_key(&sub.auth).map(|bytes| bytes.len()) != Some(16) {
        return Err("keys.auth must be 16 bytes in base64url".into());
    }
    Ok(())
}

/// Stores a checked subscription for `account` and answers its id. An endpoint names one
/// browser: subscribing it again (perhaps by another account signing in on that browser)
/// replaces its keys and owner and keeps its id.
pub fn subscribe(conn: &Connection, account: i64, sub: &NewSubscription) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO push_subscription (account_id, endpoint, p256dh, auth, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (endpoint) DO UPDATE SET account_id = ?1, p256dh = ?3, auth = ?4, created_at = ?5
         RETURNING id",
        params![account, sub.endpoint.trim(), sub.p256dh.trim(), sub.auth.trim(), now()],
        |r| r.get(0),
    )
}

/// The account's own subscriptions, oldest first.
pub fn list(conn: &Connection, account: i64) -> rusqlite::Result<Vec<Subscription>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, endpoint, created_at FROM push_subscription WHERE account_id = ?1 ORDER BY id")?;
    let rows =
        stmt.query_map([account], |r| Ok(Subscription { id: r.get(0)?, endpoint: r.get(1)?, created_at: r.get(2)? }))?;
    rows.collect()
}

/// Removes one of the account's own subscriptions; false when it has none with that id.
pub fn unsubscribe(conn: &Connection, account: i64, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM push_subscription WHERE id = ?1 AND account_id = ?2", [id, account])? > 0)
}

/// The message body for one happening, kept within one encrypted record.
fn payload(kind: &str, event_id: Option<&str>, device: &str, content: &str, at: i64, url: String) -> String {
    let mut content = content.to_owned();
    loop {
        let body = json!({
            "type": kind,
            "event_id": event_id,
            "device": device,
            "content": content,
            "createtime": local_datetime(at),
            "escalated": kind == "escalation",
            "url": url,
        })
        .to_string();
        if body.len() <= crypto::MAX_PLAINTEXT || content.is_empty() {
            return body;
        }
        // A long description is cut; the console shows it whole.
        let keep = content.chars().count() * 3 / 4;
        content = content.chars().take(keep).collect();
    }
}

/// Queues `payload` for every subscription of every account that sees `device`.
fn enqueue(conn: &Connection, device: i64, notice: Option<i64>, kind: &str, payload: &str) -> rusqlite::Result<usize> {
    let accounts = crate::surfaces::care::watchers(conn, device)?;
    enqueue_to(conn, &accounts, notice, kind, payload)
}

/// Queues `payload` for every subscription of these accounts; `notice` is the fall it
/// carries, whose delivery record the worker writes.
fn enqueue_to(
    conn: &Connection,
    accounts: &[i64],
    notice: Option<i64>,
    kind: &str,
    payload: &str,
) -> rusqlite::Result<usize> {
    let mut subscriptions = conn.prepare_cached("SELECT id FROM push_subscription WHERE account_id = ?1")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO push_message (subscription, kind, payload, next_attempt_at, created_at, notice_id)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    )?;
    let time = now();
    let mut queued = 0;
    for &account in accounts {
        let ids: Vec<i64> = subscriptions.query_map([account], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for id in ids {
            insert.execute(params![id, kind, payload, time, notice])?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues a fall notice (by row id) for everyone who sees its camera; `kind` is `fall` or
/// `escalation`. Answers how many messages were queued.
pub fn enqueue_fall(conn: &Connection, notice: i64, kind: &str, base_url: &str) -> rusqlite::Result<usize> {
    enqueue_notice(conn, notice, kind, None, base_url)
}

/// Queues an escalation of a fall notice for exactly these accounts.
pub fn enqueue_escalation(conn: &Connection, notice: i64, accounts: &[i64], base_url: &str) -> rusqlite::Result<usize> {
    enqueue_notice(conn, notice, "escalation", Some(accounts), base_url)
}

fn enqueue_notice(
    conn: &Connection,
    notice: i64,
    kind: &str,
    accounts: Option<&[i64]>,
    base_url: &str,
) -> rusqlite::Result<usize> {
    let found = conn
        .query_row(
            "SELECT n.device_id, d.name, n.event_id, n.content, n.created_at
             FROM notice n JOIN device d ON d.id = n.device_id WHERE n.id = ?1",
            [notice],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get(4)?,
                ))
            },
        )
        .optional()?;
    let Some((device, name, event_id, content, at)) = found else { return Ok(0) };
    let url = format!("{base_url}/admin/#/alerts/{event_id}");
    let body = payload(kind, Some(&event_id), &name, &content, at, url);
    match accounts {
        Some(accounts) => enqueue_to(conn, accounts, Some(notice), kind, &body),
        None => enqueue(conn, device, Some(notice), kind, &body),
    }
}

/// Queues a camera going offline or coming back for everyone who sees it.
pub fn enqueue_device(
    conn: &Connection,
    device: i64,
    name: &str,
    online: bool,
    at: i64,
    base_url: &str,
) -> rusqlite::Result<usize> {
    let (kind, content) =
        if online { ("device_online", "摄像头已恢复在线") } else { ("device_offline", "摄像头已离线") };
    let url = format!("{base_url}/admin/#/devices");
    enqueue(conn, device, None, kind, &payload(kind, None, name, content, at, url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sub(endpoint: &str) -> NewSubscription {
        let key = p256::SecretKey::random(&mut rand::rngs::OsRng).public_key();
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key, false);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        NewSubscription { endpoint: endpoint.into(), p256dh: b64.encode(point.as_bytes()), auth: b64.encode([1u8; 16]) }
    }

    #[test]
    fn endpoints_are_checked_against_the_listed_hosts() {
        let config = crate::config::Config {
            push_endpoint_hosts: ["fcm.googleapis.com", "*.push.apple.com", "127.0.0.1"].map(String::from).to_vec(),
            push_contact: Some("mailto:ops@sunrise-care.org".into()),
            ..Default::default()
        };
        assert_eq!(check(&sub("https://fcm.googleapis.com/fcm/send/abc"), &config), Ok(()));
        assert_eq!(check(&sub("https://web.push.apple.com/QX"), &config), Ok(()));
        assert_eq!(check(&sub("http://127.0.0.1:9000/push/1"), &config), Ok(()));
        assert!(check(&sub("http://web.push.apple.com/QX"), &config).unwrap_err().contains("https"));
        assert!(check(&sub("http://fcm.googleapis.com/fcm/send/abc"), &config).unwrap_err().contains("https"));
        assert!(check(&sub("https://push.apple.com.evil.example/QX"), &config)
            .unwrap_err()
            .contains("not a push service"));
        assert!(check(&sub("https://evil.example/fcm.googleapis.com"), &config).is_err());
        let mut short_auth = sub("https://fcm.googleapis.com/x");
        short_auth.auth = "AAEC".into();
        assert!(check(&short_auth, &config).unwrap_err().contains("keys.auth"));
        let mut bad_key = sub("https://fcm.googleapis.com/x");
        bad_key.p256dh = "BAAA".into();
        assert!(check(&bad_key, &config).unwrap_err().contains("keys.p256dh"));
    }

    #[test]
    fn a_long_description_is_cut_to_fit_one_record() {
        let long = "跌".repeat(3000);
        let body = payload("fall", Some("e1"), "cam", &long, 0, "http://x/".into());
        assert!(body.len() <= crypto::MAX_PLAINTEXT);
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert!(parsed["content"].as_str().unwrap().starts_with("跌跌"));
    }
}
