//! The permission catalogue (`permission`, kept equal to the code by
//! `identity::catalogue`) and which roles hold which permissions (`role_permission`).

use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use rusqlite::Connection;

use super::roles::{ids, ROLES};
use super::{ok, page, permitted, Reply, SystemToken};
use crate::identity::accounts;
use crate::identity::authz::Operation;
use crate::identity::roles::SUPER_ADMIN;
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct PermissionsApi(pub Arc<AppState>);

#[derive(Object)]
pub struct PermissionInfo {
    id: i64,
    name: String,
    icon: String,
    /// MENU (an admin UI page), MODULE (a surface) or BUTTON (an API operation)
    #[oai(rename = "type")]
    kind: String,
    uri: String,
    method: String,
    /// `<surface>:<METHOD>:<path>` for operations, the surface for modules, `admin:<page>` for pages
    #[oai(rename = "permissionValue")]
    permission_value: String,
    #[oai(rename = "parentId")]
    parent_id: i64,
    #[oai(rename = "treeId")]
    tree_id: i64,
    #[oai(rename = "pageId")]
    page_id: i64,
    #[oai(rename = "orderNum")]
    order_num: i64,
    #[oai(rename = "isEnable")]
    is_enable: bool,
    remark: String,
    /// Epoch milliseconds
    #[oai(rename = "createTime")]
    create_time: i64,
    #[oai(rename = "updateTime")]
    update_time: Option<i64>,
}

#[derive(Object)]
struct RolePermissions {
    id: i64,
    name: String,
    remark: String,
    #[oai(rename = "isEnable")]
    is_enable: bool,
    /// 超级管理员 holds every permission
    #[oai(rename = "rolePermissionInfoList")]
    role_permission_info_list: Vec<PermissionInfo>,
}

/// The signed-in account and what its roles let it do, for the admin UI's navigation.
#[derive(Object)]
struct MyPermissions {
    id: i64,
    loginname: Option<String>,
    name: String,
    /// Names of the account's enabled roles
    roles: Vec<String>,
    /// 超级管理员: every permission
    #[oai(rename = "superAdmin")]
    super_admin: bool,
    /// `permissionValue`s of every enabled permission the account's enabled roles hold
    /// (`admin:<page>` for admin UI pages)
    permissions: Vec<String>,
}

#[derive(Object, serde::Deserialize)]
struct GrantForm {
    /// Permission ids; replaces the role's permissions
    #[oai(rename = "permissionList")]
    #[serde(rename = "permissionList")]
    permission_list: Vec<LenientId>,
}

fn mine(conn: &Connection, account_id: i64, roles: &[i64], super_admin: bool) -> Result<MyPermissions, Failure> {
    let account = accounts::by_id(conn, account_id)?.ok_or(Failure::BadToken)?;
    let list = serde_json::to_string(roles).expect("ids serialize");
    let every = super_admin.then_some(1);
    let mut stmt = conn.prepare_cached(
        "SELECT p.permission_value FROM permission p
         WHERE p.enabled = 1 AND (?2 IS NOT NULL OR EXISTS (SELECT 1 FROM role_permission rp
               WHERE rp.permission_id = p.id AND rp.role_id IN (SELECT value FROM json_each(?1))))
         ORDER BY p.order_num, p.id",
    )?;
    let held = stmt.query_map(rusqlite::params![list, every], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    let mut stmt =
        conn.prepare_cached("SELECT name FROM role WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id")?;
    let names = stmt.query_map([&list], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(MyPermissions {
        id: account.id,
        loginname: account.username,
        name: account.name,
        roles: names,
        super_admin,
        permissions: held,
    })
}

/// Permissions in catalogue order; with `role`, only those the role holds.
fn permissions(conn: &Connection, role: Option<i64>, kind: Option<&str>) -> rusqlite::Result<Vec<PermissionInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, icon, type, uri, method, permission_value, parent_id, tree_id, page_id, order_num, enabled,
                remark, created_at, updated_at
         FROM permission p
         WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM role_permission rp WHERE rp.role_id = ?1 AND rp.permission_id = p.id))
           AND (?2 IS NULL OR type = ?2)
         ORDER BY order_num, id",
    )?;
    let rows = stmt.query_map(rusqlite::params![role, kind], |r| {
        Ok(PermissionInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            icon: r.get(2)?,
            kind: r.get(3)?,
            uri: r.get(4)?,
            method: r.get(5)?,
            permission_value: r.get(6)?,
            parent_id: r.get(7)?,
            tree_id: r.get(8)?,
            page_id: r.get(9)?,
            order_num: r.get(10)?,
            is_enable: r.get(11)?,
            remark: r.get(12)?,
            create_time: r.get::<_, i64>(13)? * 1000,
            update_time: r.get::<_, Option<i64>>(14)?.map(|t| t * 1000),
        })
    })?;
    rows.collect()
}

#[OpenApi]
impl PermissionsApi {
    /// A role and the permissions it holds
    #[oai(path = "/api/auth/permission/getPermissList/:id", method = "get")]
    async fn of_role(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<RolePermissions> {
        permitted(&self.0, op, &token).await?;
        let id = id.0 .0;
        let answer = self
            .0
            .db
            .read(move |c| {
                let role = ROLES.get(c, id)?;
                let held = permissions(c, (id != SUPER_ADMIN).then_some(id), None)?;
                Ok::<_, Failure>(RolePermissions {
                    id: role.id,
                    name: role.name,
                    remark: role.remark,
                    is_enable: role.is_enable,
                    role_permission_info_list: held,
                })
            })
            .await?;
        ok(answer)
    }

    /// Replace the permissions a role holds
    #[oai(path = "/api/auth/permission/rolePer/edit/:id", method = "post")]
    async fn edit(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<GrantForm>,
    ) -> Reply<serde_json::Value> {
        let caller = permitted(&self.0, op, &token).await?;
        let role = id.0 .0;
        if role == SUPER_ADMIN {
            return Err(
                Failure::Invalid("超级管理员 holds every permission; its permissions cannot be edited".into()).into()
            );
        }
        let wanted = ids(&body.permission_list);
        self.0
            .db
            .write(move |tx| {
                ROLES.get(tx, role)?;
                crate::identity::roles::ensure_may_weaken(tx, &caller, role, Some(&wanted))?;
                let mut known = tx.prepare_cached("SELECT 1 FROM permission WHERE id = ?1")?;
                let unknown: Vec<String> =
                    wanted.iter().filter(|p| !known.exists([**p]).unwrap_or(false)).map(i64::to_string).collect();
                if !unknown.is_empty() {
                    return Err(Failure::NotFound(format!("no permission with id {}", unknown.join(", "))));
                }
                tx.execute("DELETE FROM role_permission WHERE role_id = ?1", [role])?;
                let mut grant =
                    tx.prepare_cached("INSERT INTO role_permission (role_id, permission_id) VALUES (?1, ?2)")?;
                for permission in &wanted {
                    grant.execute([role, *permission])?;
                }
                tx.execute("UPDATE role SET updated_at = ?1 WHERE id = ?2", [crate::clock::now(), role])?;
                Ok(())
            })
            .await?;
        ok(serde_json::Value::Null)
    }

    /// The caller's own account, roles and permission values. Needs only a valid token: it
    /// reveals nothing but the caller's own grants, and every page of the admin UI needs it
    #[oai(path = "/api/auth/permission/mine", method = "get")]
    async fn mine(&self, token: SystemToken) -> Reply<MyPermissions> {
        let caller = token.caller()?;
        let super_admin = caller.is_super_admin();
        let answer = self.0.db.read_small(move |c| mine(c, caller.account_id, &caller.roles, super_admin)).await?;
        ok(answer)
    }

    /// The whole permission catalogue in order: per surface its MODULE and operations, then the admin pages
    #[oai(path = "/api/auth/permission/list", method = "get")]
    async fn list(
        &self,
        op: &Operation,
        token: SystemToken,
        /// Only MENU, MODULE or BUTTON entries
        #[oai(name = "type")]
        kind: Query<Option<String>>,
    ) -> Reply<Vec<PermissionInfo>> {
        permitted(&self.0, op, &token).await?;
        let kind = kind.0.filter(|k| !k.is_empty()).map(|k| k.to_ascii_uppercase());
        if kind.as_deref().is_some_and(|k| !["MENU", "MODULE", "BUTTON"].contains(&k)) {
            return Err(Failure::Invalid("type must be MENU, MODULE or BUTTON".into()).into());
        }
        let all = self.0.db.read_small(move |c| Ok::<_, Failure>(permissions(c, None, kind.as_deref())?)).await?;
        let total = all.len() as i64;
        page(all, total)
    }
}
