//! The one account store every surface logs in against.

use rusqlite::{params, Connection, OptionalExtension};

use crate::clock::now;

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub password_hash: String,
    pub name: String,
    pub enabled: bool,
    pub banned: bool,
}

const COLUMNS: &str = "id, username, phone, password_hash, name, enabled, banned";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        username: r.get(1)?,
        phone: r.get(2)?,
        password_hash: r.get(3)?,
        name: r.get(4)?,
        enabled: r.get(5)?,
        banned: r.get(6)?,
    })
}

pub fn by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<Account>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM account WHERE username = ?1"), [username], from_row).optional()
}

pub fn by_phone(conn: &Connection, phone: &str) -> rusqlite::Result<Option<Account>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM account WHERE phone = ?1"), [phone], from_row).optional()
}

pub fn by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<Account>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM account WHERE id = ?1"), [id], from_row).optional()
}

pub fn set_password(conn: &Connection, id: i64, password_hash: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE account SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
        params![password_hash, now(), id],
    )?;
    super::sessions::revoke_all(conn, id)?;
    Ok(())
}

pub fn set_enabled(conn: &Connection, id: i64, enabled: bool) -> rusqlite::Result<()> {
    conn.execute("UPDATE account SET enabled = ?1, updated_at = ?2 WHERE id = ?3", params![enabled, now(), id])?;
    if !enabled {
        super::sessions::revoke_all(conn, id)?;
    }
    Ok(())
}

/// Creates or updates the named super-administrator: sets the password (which ends its
/// sessions), the phone when given, enables it and grants the role. Returns the account id.
pub fn upsert_super_admin(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    phone: Option<&str>,
) -> rusqlite::Result<i64> {
    let id = match by_username(conn, username)? {
        Some(existing) => {
            set_password(conn, existing.id, password_hash)?;
            existing.id
        }
        None => {
            conn.execute(
                "INSERT INTO account (username, password_hash, name, created_at, updated_at) VALUES (?1, ?2, ?1, ?3, ?3)",
                params![username, password_hash, now()],
            )?;
            conn.last_insert_rowid()
        }
    };
    if let Some(phone) = phone {
        conn.execute("UPDATE account SET phone = ?1 WHERE id = ?2", params![phone, id])?;
    }
    conn.execute("UPDATE account SET enabled = 1, banned = 0 WHERE id = ?1", [id])?;
    super::roles::grant(conn, id, super::roles::SUPER_ADMIN)?;
    Ok(id)
}
