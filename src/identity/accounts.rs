//! The one account store every surface logs in against, and every change to an account.
//! Surfaces translate their documents into these calls; the invariants live here, so no
//! surface can forget one:
//! - ranks: 超级管理员 > 管理员 > everyone else, and nobody changes, resets, disables, bans
//!   or deletes an account that outranks them (`ensure_may_manage`);
//! - the last enabled super-administrator is never disabled, demoted or deleted;
//! - login names are unique whatever their case, phones are unique;
//! - a new password, a ban, disabling and deletion end every session on every surface.

use rusqlite::{params, Connection, OptionalExtension};

use super::{roles, sessions, Caller, IdentityError};
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

/// Login names compare without regard to case (ASCII, as SQLite's NOCASE), so `Admin0`
/// is the account `admin0`.
pub fn by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<Account>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM account WHERE username = ?1 COLLATE NOCASE"), [username], from_row)
        .optional()
}

pub fn by_phone(conn: &Connection, phone: &str) -> rusqlite::Result<Option<Account>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM account WHERE phone = ?1"), [phone], from_row).optional()
}

pub fn by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<Account>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM account WHERE id = ?1"), [id], from_row).optional()
}

/// Where an account stands when one account acts on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Member,
    Admin,
    SuperAdmin,
}

impl Rank {
    pub fn of_roles(held: &[i64]) -> Rank {
        if held.contains(&roles::SUPER_ADMIN) {
            Rank::SuperAdmin
        } else if held.contains(&roles::ADMIN) {
            Rank::Admin
        } else {
            Rank::Member
        }
    }

    pub fn of_account(conn: &Connection, id: i64) -> rusqlite::Result<Rank> {
        Ok(Rank::of_roles(&roles::of_account(conn, id)?))
    }

    pub fn of_caller(caller: &Caller) -> Rank {
        Rank::of_roles(&caller.roles)
    }
}

/// Refuses when `target` outranks the caller. Acting on oneself is always allowed here;
/// which operations one may call at all is the permission catalogue's.
pub fn ensure_may_manage(conn: &Connection, caller: &Caller, target: i64) -> Result<(), IdentityError> {
    if caller.account_id == target || Rank::of_account(conn, target)? <= Rank::of_caller(caller) {
        return Ok(());
    }
    Err(IdentityError::Forbidden("that account outranks yours: only a super-administrator may change it".into()))
}

/// Refuses to take away the last enabled super-administrator (`what`: "disabled", …).
pub fn ensure_not_last_super_admin(conn: &Connection, account: i64, what: &str) -> Result<(), IdentityError> {
    if !roles::of_account(conn, account)?.contains(&roles::SUPER_ADMIN) {
        return Ok(());
    }
    let others: i64 = conn.query_row(
        "SELECT count(*) FROM account_role ar JOIN account a ON a.id = ar.account_id
         WHERE ar.role_id = ?1 AND a.enabled = 1 AND a.id != ?2",
        [roles::SUPER_ADMIN, account],
        |r| r.get(0),
    )?;
    if others == 0 {
        return Err(IdentityError::Invalid(format!("this is the last super-administrator: it cannot be {what}")));
    }
    Ok(())
}

/// Refuses a login name or phone that another account (not `except`) already uses; names
/// compare without case.
pub fn ensure_unique(
    conn: &Connection,
    username: Option<&str>,
    phone: Option<&str>,
    except: i64,
) -> Result<(), IdentityError> {
    if let Some(name) = username {
        if by_username(conn, name)?.is_some_and(|a| a.id != except) {
            return Err(IdentityError::Conflict(format!("the login name {name} is taken; choose another")));
        }
    }
    if let Some(phone) = phone {
        if by_phone(conn, phone)?.is_some_and(|a| a.id != except) {
            return Err(IdentityError::Conflict(format!("the phone {phone} is already used by another account")));
        }
    }
    Ok(())
}

/// A new account, before it is stored.
#[derive(Default)]
pub struct NewAccount<'a> {
    pub username: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub name: &'a str,
    pub nickname: &'a str,
    pub enabled: bool,
}

/// Stores a new account with `roles`; answers its id.
pub fn create(conn: &Connection, new: &NewAccount, roles: &[i64]) -> Result<i64, IdentityError> {
    ensure_unique(conn, new.username, new.phone, 0)?;
    conn.execute(
        "INSERT INTO account (username, phone, password_hash, name, nickname, enabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![new.username, new.phone, new.password_hash, new.name, new.nickname, new.enabled, now()],
    )?;
    let id = conn.last_insert_rowid();
    for role in roles {
        super::roles::grant(conn, id, *role)?;
    }
    Ok(id)
}

/// Sets a password hash and ends every session and app password of the account. The caller has proved
/// the right to do so: the old password, an SMS code, or `ensure_may_manage`.
pub fn set_password(conn: &Connection, id: i64, password_hash: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE account SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
        params![password_hash, now(), id],
    )?;
    sessions::revoke_all(conn, id)?;
    super::app_passwords::revoke_all(conn, id)?;
    Ok(())
}

/// Sets another account's password on an administrator's behalf.
pub fn reset_password(conn: &Connection, caller: &Caller, id: i64, password_hash: &str) -> Result<(), IdentityError> {
    ensure_may_manage(conn, caller, id)?;
    Ok(set_password(conn, id, password_hash)?)
}

pub fn set_enabled(conn: &Connection, caller: &Caller, id: i64, enabled: bool) -> Result<(), IdentityError> {
    ensure_may_manage(conn, caller, id)?;
    if !enabled {
        ensure_not_last_super_admin(conn, id, "disabled")?;
    }
    conn.execute("UPDATE account SET enabled = ?1, updated_at = ?2 WHERE id = ?3", params![enabled, now(), id])?;
    if !enabled {
        sessions::revoke_all(conn, id)?;
    }
    Ok(())
}

/// Bans or lifts the ban of an account; a ban ends all its sessions at once.
pub fn set_banned(conn: &Connection, caller: &Caller, id: i64, banned: bool) -> Result<(), IdentityError> {
    ensure_may_manage(conn, caller, id)?;
    let at = now();
    if banned {
        ensure_not_last_super_admin(conn, id, "banned")?;
        conn.execute(
            "UPDATE account SET banned = 1, banned_start = ?1, banned_end = NULL, updated_at = ?1 WHERE id = ?2",
            params![at, id],
        )?;
        sessions::revoke_all(conn, id)?;
    } else {
        conn.execute("UPDATE account SET banned = 0, banned_end = ?1, updated_at = ?1 WHERE id = ?2", params![at, id])?;
    }
    Ok(())
}

/// Replaces an account's roles. Only a super-administrator grants or removes 超级管理员,
/// and the last one keeps it.
pub fn set_roles(conn: &Connection, caller: &Caller, id: i64, wanted: &[i64]) -> Result<(), IdentityError> {
    ensure_may_manage(conn, caller, id)?;
    let had_super = roles::of_account(conn, id)?.contains(&roles::SUPER_ADMIN);
    if wanted.contains(&roles::SUPER_ADMIN) != had_super && !caller.is_super_admin() {
        return Err(IdentityError::Forbidden("only a super-administrator may grant or remove 超级管理员".into()));
    }
    if had_super && !wanted.contains(&roles::SUPER_ADMIN) {
        ensure_not_last_super_admin(conn, id, "demoted")?;
    }
    conn.execute("DELETE FROM account_role WHERE account_id = ?1", [id])?;
    for role in wanted {
        roles::grant(conn, id, *role)?;
    }
    Ok(())
}

/// Deletes an account (its sessions go with it). Nobody deletes their own account this
/// way, nor one that outranks them, nor the last super-administrator.
pub fn delete(conn: &Connection, caller: &Caller, id: i64) -> Result<(), IdentityError> {
    if caller.account_id == id {
        return Err(IdentityError::Invalid("you cannot delete your own account".into()));
    }
    ensure_may_manage(conn, caller, id)?;
    ensure_not_last_super_admin(conn, id, "deleted")?;
    sessions::revoke_all(conn, id)?;
    match conn.execute("DELETE FROM account WHERE id = ?1", [id]) {
        Err(rusqlite::Error::SqliteFailure(f, Some(m)))
            if f.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("FOREIGN KEY") =>
        {
            Err(IdentityError::Conflict("this account still owns data on other surfaces; disable it instead".into()))
        }
        other => Ok(other.map(|_| ())?),
    }
}

/// Creates or updates the named super-administrator: sets the password (which ends its
/// sessions), the phone when given, enables it and grants the role. Returns the account id.
/// Only the command line and the one-time setup link call this: they need no caller.
pub fn upsert_super_admin(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    phone: Option<&str>,
) -> Result<i64, IdentityError> {
    let id = match by_username(conn, username)? {
        Some(existing) => {
            set_password(conn, existing.id, password_hash)?;
            existing.id
        }
        None => {
            let new = NewAccount { username: Some(username), password_hash, name: username, ..Default::default() };
            create(conn, &new, &[])?
        }
    };
    if let Some(phone) = phone {
        ensure_unique(conn, None, Some(phone), id)?;
        conn.execute("UPDATE account SET phone = ?1 WHERE id = ?2", params![phone, id])?;
    }
    conn.execute("UPDATE account SET enabled = 1, banned = 0 WHERE id = ?1", [id])?;
    roles::grant(conn, id, roles::SUPER_ADMIN)?;
    Ok(id)
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Default, Debug, Clone)]
pub struct Profile {
    pub username: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub sex: Option<String>,
    pub remark: Option<String>,
    /// `Some(None)` takes the account out of its department.
    pub dept_id: Option<Option<i64>>,
    pub care_level: Option<i64>,
    pub music_phone: Option<String>,
    pub music_profile: Option<String>,
}

/// Changes an account's profile on `caller`'s behalf (which may be the account itself).
pub fn update_profile(conn: &Connection, caller: &Caller, id: i64, change: &Profile) -> Result<(), IdentityError> {
    ensure_may_manage(conn, caller, id)?;
    ensure_unique(conn, change.username.as_deref(), change.phone.as_deref(), id)?;
    let dept_given = change.dept_id.is_some();
    conn.execute(
        "UPDATE account SET username = COALESCE(?1, username), phone = COALESCE(?2, phone),
                name = COALESCE(?3, name), nickname = COALESCE(?4, nickname), email = COALESCE(?5, email),
                sex = COALESCE(?6, sex), remark = COALESCE(?7, remark),
                dept_id = CASE WHEN ?8 THEN ?9 ELSE dept_id END, care_level = COALESCE(?10, care_level),
                music_phone = COALESCE(?11, music_phone), music_profile = COALESCE(?12, music_profile),
                updated_at = ?13
         WHERE id = ?14",
        params![
            change.username,
            change.phone,
            change.name,
            change.nickname,
            change.email,
            change.sex,
            change.remark,
            dept_given,
            change.dept_id.flatten(),
            change.care_level,
            change.music_phone,
            change.music_profile,
            now(),
            id
        ],
    )?;
    Ok(())
}

/// Replaces an account's data roles (which rows it sees).
pub fn set_data_roles(conn: &Connection, caller: &Caller, id: i64, wanted: &[i64]) -> Result<(), IdentityError> {
    ensure_may_manage(conn, caller, id)?;
    conn.execute("DELETE FROM account_data_role WHERE account_id = ?1", [id])?;
    for role in wanted {
        conn.execute("INSERT INTO account_data_role (account_id, data_role_id) VALUES (?1, ?2)", [id, *role])?;
    }
    Ok(())
}
