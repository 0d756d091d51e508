//! The one-time link printed on first start when no administrator exists: whoever opens it
//! within 30 minutes creates the first super-administrator from the browser.

use rusqlite::{params, Connection};

use super::tokens::{random_hex, token_hash};
use crate::clock::now;

pub const VALID_SECS: i64 = 30 * 60;

/// A fresh setup token when the box has no super-administrator yet, else None.
pub fn issue_if_needed(conn: &Connection) -> rusqlite::Result<Option<String>> {
    if super::roles::super_admin_exists(conn)? {
        return Ok(None);
    }
    let token = random_hex(16);
    conn.execute("DELETE FROM setup_token WHERE expires_at <= ?1 OR used_at IS NOT NULL", [now()])?;
    conn.execute(
        "INSERT INTO setup_token (token_hash, expires_at) VALUES (?1, ?2)",
        params![token_hash(&token), now() + VALID_SECS],
    )?;
    Ok(Some(token))
}

/// Whether `token` would redeem now (read only: the redeeming write checks again).
pub fn is_valid(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    if super::roles::super_admin_exists(conn)? {
        return Ok(false);
    }
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM setup_token WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2)",
        params![token_hash(token), now()],
        |r| r.get(0),
    )
}

/// Uses up `token`; false when it is unknown, used or expired, or an administrator exists.
pub fn redeem(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    if super::roles::super_admin_exists(conn)? {
        return Ok(false);
    }
    let used = conn.execute(
        "UPDATE setup_token SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1",
        params![now(), token_hash(token)],
    )?;
    Ok(used == 1)
}
