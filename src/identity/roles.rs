//! The built-in roles (created by migration 1) and what they mean for access.

use rusqlite::Connection;

pub const SUPER_ADMIN: i64 = 1;
pub const ADMIN: i64 = 2;
pub const USER: i64 = 3;
pub const CREATOR: i64 = 4;
pub const ANALYST: i64 = 5;

pub fn of_account(conn: &Connection, account_id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ar.role_id FROM account_role ar JOIN role r ON r.id = ar.role_id
         WHERE ar.account_id = ?1 AND r.enabled = 1 ORDER BY ar.role_id",
    )?;
    let roles = stmt.query_map([account_id], |r| r.get(0))?.collect();
    roles
}

/// Enabled accounts holding an enabled role with one of these names.
pub fn holders(conn: &Connection, names: &[String]) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT ar.account_id FROM account_role ar JOIN role r ON r.id = ar.role_id
         JOIN account a ON a.id = ar.account_id
         WHERE r.name = ?1 AND r.enabled = 1 AND a.enabled = 1",
    )?;
    let mut accounts = Vec::new();
    for name in names {
        for id in stmt.query_map([name.trim()], |r| r.get(0))? {
            accounts.push(id?);
        }
    }
    accounts.sort_unstable();
    accounts.dedup();
    Ok(accounts)
}

pub fn grant(conn: &Connection, account_id: i64, role_id: i64) -> rusqlite::Result<()> {
    conn.execute("INSERT OR IGNORE INTO account_role (account_id, role_id) VALUES (?1, ?2)", [account_id, role_id])?;
    Ok(())
}

pub fn super_admin_exists(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM account_role ar JOIN account a ON a.id = ar.account_id
                        WHERE ar.role_id = ?1 AND a.enabled = 1)",
        [SUPER_ADMIN],
        |r| r.get(0),
    )
}

/// Nobody but a super-administrator weakens a role they hold: takes a permission from it
/// (`keeping` is the permission set it would have; `None` disables the role). Otherwise an
/// administrator could empty 管理员 and lock every administrator out, itself included.
pub fn ensure_may_weaken(
    conn: &Connection,
    caller: &super::Caller,
    role_id: i64,
    keeping: Option<&[i64]>,
) -> Result<(), super::IdentityError> {
    if caller.is_super_admin() || !caller.has_role(role_id) {
        return Ok(());
    }
    let weakened = match keeping {
        None => true,
        Some(kept) => {
            let mut stmt = conn.prepare_cached("SELECT permission_id FROM role_permission WHERE role_id = ?1")?;
            let held = stmt.query_map([role_id], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            held.iter().any(|p| !kept.contains(p))
        }
    };
    if weakened {
        return Err(super::IdentityError::Forbidden(
            "you hold this role: only a super-administrator may take permissions from it or disable it".into(),
        ));
    }
    Ok(())
}
