//! Sessions of every surface, one row each, found by the SHA-256 of the token. Care uses
//! opaque 32-hex tokens with a sliding idle expiry; the JWT surfaces store the hash of the
//! JWT itself, so deleting the row revokes the JWT even though its signature still verifies.

use rusqlite::{params, Connection, OptionalExtension};

use super::tokens::token_hash;
use crate::clock::now;

pub struct NewSession<'a> {
    pub account_id: i64,
    pub surface: &'a str,
    /// Seconds of inactivity after which the session dies; None: only `lifetime` counts.
    pub idle_secs: Option<i64>,
    pub lifetime_secs: i64,
    /// Oldest sessions of this account on this surface beyond this number are dropped.
    pub keep_at_most: Option<i64>,
    /// The session this one was opened for; it ends when that one ends.
    pub issued_by: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub account_id: i64,
    pub surface: String,
    pub expires_at: i64,
}

pub fn create(conn: &Connection, new: &NewSession, token: &str) -> rusqlite::Result<i64> {
    let now = now();
    conn.execute(
        "INSERT INTO session (account_id, surface, token_hash, created_at, last_used_at, idle_secs, expires_at, issued_by)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
        params![new.account_id, new.surface, token_hash(token), now, new.idle_secs, now + new.lifetime_secs, new.issued_by],
    )?;
    let id = conn.last_insert_rowid();
    if let Some(keep) = new.keep_at_most {
        conn.execute(
            "DELETE FROM session WHERE account_id = ?1 AND surface = ?2 AND id NOT IN
               (SELECT id FROM session WHERE account_id = ?1 AND surface = ?2 ORDER BY id DESC LIMIT ?3)",
            params![new.account_id, new.surface, keep],
        )?;
    }
    Ok(id)
}

pub enum Lookup {
    /// A live session, with its idle expiry (if any) and when it was last moved.
    Live {
        session: Session,
        idle_secs: Option<i64>,
        last_used_at: i64,
    },
    /// The token was valid once and has expired; its row should be deleted.
    Expired {
        session_id: i64,
    },
    Unknown,
}

/// Finds the session for `token_hash` without writing, so checking a token needs no write lock.
pub fn find(conn: &Connection, token_hash: &[u8]) -> rusqlite::Result<Lookup> {
    let now = now();
    let row = conn
        .query_row(
            "SELECT id, account_id, surface, last_used_at, idle_secs, expires_at FROM session WHERE token_hash = ?1",
            [token_hash],
            |r| {
                Ok((
                    Session { id: r.get(0)?, account_id: r.get(1)?, surface: r.get(2)?, expires_at: r.get(5)? },
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((session, last_used_at, idle_secs)) = row else { return Ok(Lookup::Unknown) };
    if now >= session.expires_at || idle_secs.is_some_and(|idle| now - last_used_at >= idle) {
        return Ok(Lookup::Expired { session_id: session.id });
    }
    Ok(Lookup::Live { session, idle_secs, last_used_at })
}

pub fn slide(conn: &Connection, session_id: i64) -> rusqlite::Result<()> {
    conn.execute("UPDATE session SET last_used_at = ?1 WHERE id = ?2", params![now(), session_id])?;
    Ok(())
}

pub fn delete(conn: &Connection, session_id: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM session WHERE id = ?1", [session_id])?;
    Ok(())
}

pub fn revoke(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM session WHERE token_hash = ?1", [token_hash(token)])? > 0)
}

/// Ends every session of an account: password change, ban, disable, deletion.
pub fn revoke_all(conn: &Connection, account_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM session WHERE account_id = ?1", [account_id])
}

pub fn purge_expired(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM session WHERE expires_at <= ?1 OR (idle_secs IS NOT NULL AND last_used_at + idle_secs <= ?1)",
        [now()],
    )
}
