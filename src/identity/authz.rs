//! Authorization for every surface: may this caller run this operation, and which rows may
//! it see. Operations are rows of the permission catalogue (`catalogue.rs`); a role holds a
//! set of them. The role → permissions map is cached and rebuilt after any committed change
//! to grants, roles or the catalogue, whoever made it (`Db::generation`). Membership
//! (account → roles) is cached with the caller's session (`callers.rs`) under the same rule.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use poem::http::StatusCode;
use poem::{FromRequest, Request, RequestBody};
use rusqlite::Connection;

use super::{roles, Caller, IdentityError};

/// The API operation a request resolved to, put on the request by the surface's guard.
#[derive(Debug, Clone)]
pub struct Operation {
    pub permission_id: i64,
    pub surface: &'static str,
    pub method: String,
    /// The documented path under the surface's mount, e.g. `/api/auth/role/{id}`.
    pub path: String,
    /// Who may call it, as declared; the surface's guard enforces it before the handler runs.
    pub audience: Audience,
}

impl<'a> FromRequest<'a> for &'a Operation {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        // A plain 500: the surface's guard renders it as its own internal failure.
        req.extensions().get::<Arc<Operation>>().map(|op| op.as_ref()).ok_or_else(|| {
            let missing =
                IdentityError::Internal(format!("no catalogue entry for {} {}", req.method(), req.uri().path()));
            poem::Error::from_string(missing.to_string(), StatusCode::INTERNAL_SERVER_ERROR)
        })
    }
}

/// Who a new catalogue entry is granted to by default. Applied once, when the permission
/// row is created; administrators may change grants afterwards and those changes stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Needs no account (login, captcha, device calls); never checked. Bodies are small.
    Public,
    /// Every signed-in built-in role.
    Everyone,
    /// Any signed-in account whatever its roles grant (reading its own permissions); never
    /// checked against grants.
    SignedIn,
    /// 创作者 and 管理员.
    Creator,
    /// 分析员 and 管理员.
    Analyst,
    /// 管理员 only.
    Admin,
    /// Open-platform apps, by their token and its scopes (checked by the handler's token parameter).
    App,
    /// Not declared: refused to every caller.
    Nobody,
}

impl Audience {
    pub fn default_roles(self) -> &'static [i64] {
        match self {
            Audience::Public | Audience::Everyone | Audience::SignedIn | Audience::App => {
                &[roles::ADMIN, roles::USER, roles::CREATOR, roles::ANALYST]
            }
            Audience::Creator => &[roles::ADMIN, roles::CREATOR],
            Audience::Analyst => &[roles::ADMIN, roles::ANALYST],
            Audience::Admin => &[roles::ADMIN],
            Audience::Nobody => &[],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Everyone => "everyone",
            Audience::SignedIn => "any signed-in account",
            Audience::Creator => "creators",
            Audience::Analyst => "analysts",
            Audience::Admin => "administrators",
            Audience::App => "open-platform apps",
            Audience::Nobody => "nobody (undeclared)",
        }
    }
}

type RoleGrants = HashMap<i64, HashSet<i64>>;

/// The cached role → permission map, with the database generation it was read under
/// (`Db::generation`): any committed change to roles, grants or the catalogue retires it.
pub type Grants = crate::db::Snapshot<RoleGrants>;

fn load_grants(conn: &Connection) -> rusqlite::Result<RoleGrants> {
    let mut stmt = conn.prepare(
        "SELECT rp.role_id, rp.permission_id FROM role_permission rp
         JOIN permission p ON p.id = rp.permission_id WHERE p.enabled = 1",
    )?;
    let mut grants = RoleGrants::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (role, permission) = row?;
        grants.entry(role).or_default().insert(permission);
    }
    Ok(grants)
}

impl super::Identity {
    /// The single authorization check: the caller's enabled roles must hold the operation's
    /// permission (超级管理员 holds every permission).
    pub async fn authorize(&self, caller: &Caller, op: &Operation) -> Result<(), IdentityError> {
        if caller.is_super_admin() {
            return Ok(());
        }
        let generation = self.db.generation();
        let grants = match self.grants.current(generation) {
            Some(grants) => grants,
            None => {
                let loaded = Arc::new(self.db.read(|c| Ok::<_, IdentityError>(load_grants(c)?)).await?);
                self.grants.keep(loaded.clone(), generation);
                loaded
            }
        };
        let allowed = caller.roles.iter().any(|role| grants.get(role).is_some_and(|p| p.contains(&op.permission_id)));
        if allowed {
            Ok(())
        } else {
            Err(IdentityError::Forbidden(format!(
                "no permission for {} {}: none of your roles grants it",
                op.method, op.path
            )))
        }
    }

    /// The rows the caller may see, from the scopes of its enabled data roles.
    pub async fn data_scope(&self, caller: &Caller) -> Result<DataScope, IdentityError> {
        if caller.is_super_admin() {
            return Ok(DataScope::default());
        }
        let account = caller.account_id;
        let generation = self.db.generation();
        if let Some(scope) = self.callers.scope(account, generation) {
            return Ok(scope);
        }
        let scope = self.db.read(move |c| Ok::<_, IdentityError>(DataScope::of_account(c, account)?)).await?;
        self.callers.keep_scope(account, scope.clone(), generation);
        Ok(scope)
    }
}

/// `Identity::data_scope` for an account that is not the caller (whom to tell about a
/// camera): a super-administrator sees everything whatever its data roles.
pub fn data_scope_of(conn: &Connection, account_id: i64) -> rusqlite::Result<DataScope> {
    if roles::of_account(conn, account_id)?.contains(&roles::SUPER_ADMIN) {
        return Ok(DataScope::default());
    }
    DataScope::of_account(conn, account_id)
}

pub const SCOPE_CARE_DEVICE: &str = "care.device";
pub const SCOPE_TRANSIT_AREA: &str = "transit.area";
pub const SCOPE_KINDS: [&str; 2] = [SCOPE_CARE_DEVICE, SCOPE_TRANSIT_AREA];

/// Row restrictions from data roles. A kind is restricted when at least one of the
/// account's enabled data roles has a scope of that kind; the account then sees the union
/// of those scopes' values. `None` means unrestricted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataScope {
    /// Care device ids (`device.id`).
    pub care_devices: Option<Vec<i64>>,
    /// Transit administrative areas (a station's district, as stored).
    pub transit_areas: Option<Vec<String>>,
}

impl DataScope {
    pub fn of_account(conn: &Connection, account_id: i64) -> rusqlite::Result<DataScope> {
        let mut stmt = conn.prepare_cached(
            "SELECT s.kind, s.value FROM account_data_role a
             JOIN data_role d ON d.id = a.data_role_id AND d.enabled = 1
             JOIN data_role_scope s ON s.data_role_id = d.id
             WHERE a.account_id = ?1 ORDER BY s.kind, s.value",
        )?;
        let mut scope = DataScope::default();
        let rows = stmt.query_map([account_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (kind, value) = row?;
            match kind.as_str() {
                SCOPE_CARE_DEVICE => {
                    if let Ok(id) = value.parse() {
                        scope.care_devices.get_or_insert_with(Vec::new).push(id);
                    }
                }
                SCOPE_TRANSIT_AREA => scope.transit_areas.get_or_insert_with(Vec::new).push(value),
                _ => {}
            }
        }
        Ok(scope)
    }

    pub fn allows_device(&self, device_id: i64) -> bool {
        self.care_devices.as_ref().is_none_or(|ids| ids.contains(&device_id))
    }

    pub fn allows_area(&self, area: &str) -> bool {
        self.transit_areas.as_ref().is_none_or(|areas| areas.iter().any(|a| a == area))
    }

    /// `AND <column> IN (…)` for a device-id column, or "" when unrestricted. Ids are
    /// integers, so the list is written inline.
    pub fn device_filter(&self, column: &str) -> String {
        match &self.care_devices {
            None => String::new(),
            Some(ids) => {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!(" AND {column} IN ({})", list.join(","))
            }
        }
    }

    /// `AND <column> IN (…)` for an area column, or "" when unrestricted; values are
    /// quoted as SQL string literals.
    pub fn area_filter(&self, column: &str) -> String {
        match &self.transit_areas {
            None => String::new(),
            Some(areas) => {
                let list: Vec<String> = areas.iter().map(|a| format!("'{}'", a.replace('\'', "''"))).collect();
                format!(" AND {column} IN ({})", list.join(","))
            }
        }
    }
}

/// Parses a scope written as `<kind>:<value>`.
pub fn parse_scope(text: &str) -> Option<(&'static str, String)> {
    let (kind, value) = text.split_once(':')?;
    let kind = SCOPE_KINDS.into_iter().find(|k| *k == kind.trim())?;
    let value = value.trim();
    if value.is_empty() || (kind == SCOPE_CARE_DEVICE && value.parse::<i64>().is_err()) {
        return None;
    }
    Some((kind, value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_only_known_kinds_with_values() {
        assert_eq!(parse_scope("care.device:12"), Some((SCOPE_CARE_DEVICE, "12".into())));
        assert_eq!(parse_scope("transit.area: 朝阳区 "), Some((SCOPE_TRANSIT_AREA, "朝阳区".into())));
        assert_eq!(parse_scope("care.device:abc"), None);
        assert_eq!(parse_scope("music.song:1"), None);
        assert_eq!(parse_scope("transit.area:"), None);
    }

    #[test]
    fn filters_are_empty_when_unrestricted_and_quote_values() {
        let open = DataScope::default();
        assert_eq!(open.device_filter("d.id"), "");
        assert!(open.allows_area("anywhere"));
        let narrow = DataScope { care_devices: Some(vec![3, 5]), transit_areas: Some(vec!["O'Hare".into()]) };
        assert_eq!(narrow.device_filter("d.id"), " AND d.id IN (3,5)");
        assert_eq!(narrow.area_filter("s.area"), " AND s.area IN ('O''Hare')");
        assert!(narrow.allows_device(5) && !narrow.allows_device(4));
    }
}
