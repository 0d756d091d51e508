//! Roles (`role`): what an account may do. Data roles (`data_roles.rs`) have the same
//! shape, so the table-level pieces here serve both through `RoleTable`.

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{ok, permitted, RenderedReply, Reply, SystemToken};
use crate::clock::now;
use crate::identity::authz::Operation;
use crate::identity::roles::SUPER_ADMIN;
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::Failure;
use crate::AppState;

pub struct RolesApi(pub Arc<AppState>, pub super::KeptList);

/// `role` or `data_role`: the same columns, named differently in messages.
#[derive(Clone, Copy)]
pub struct RoleTable {
    pub table: &'static str,
    pub noun: &'static str,
    /// The membership table, for "still assigned" checks.
    pub members: &'static str,
    pub member_column: &'static str,
}

pub const ROLES: RoleTable =
    RoleTable { table: "role", noun: "role", members: "account_role", member_column: "role_id" };
pub const DATA_ROLES: RoleTable =
    RoleTable { table: "data_role", noun: "data role", members: "account_data_role", member_column: "data_role_id" };

#[derive(Object, serde::Deserialize)]
pub struct RoleForm {
    pub name: String,
    #[serde(default)]
    pub remark: Option<String>,
    #[oai(rename = "isEnable")]
    #[serde(rename = "isEnable", default)]
    pub is_enable: Option<LenientBool>,
    /// Data roles only: scopes as `kind:value` (`care.device:<device id>`,
    /// `transit.area:<district>`); absent keeps the current scopes
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

#[derive(Object, Clone)]
pub struct RoleInfo {
    pub id: i64,
    pub name: String,
    pub remark: String,
    #[oai(rename = "isEnable")]
    pub is_enable: bool,
    /// Epoch milliseconds
    #[oai(rename = "createTime")]
    pub create_time: i64,
    /// Epoch milliseconds, null until first changed
    #[oai(rename = "updateTime")]
    pub update_time: Option<i64>,
    /// Built-in roles cannot be deleted or renamed
    pub builtin: bool,
    /// Data roles only: their scopes
    #[oai(skip_serializing_if_is_none)]
    pub scopes: Option<Vec<String>>,
}

impl RoleTable {
    fn not_found(&self, id: i64) -> Failure {
        Failure::NotFound(format!("{} {id} does not exist", self.noun))
    }

    pub fn list(&self, conn: &Connection) -> rusqlite::Result<Vec<RoleInfo>> {
        let builtin = if self.table == "role" { "builtin" } else { "0" };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, name, remark, enabled, created_at, updated_at, {builtin} FROM {} ORDER BY id",
            self.table
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(RoleInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                remark: r.get(2)?,
                is_enable: r.get(3)?,
                create_time: r.get::<_, i64>(4)? * 1000,
                update_time: r.get::<_, Option<i64>>(5)?.map(|t| t * 1000),
                builtin: r.get(6)?,
                scopes: None,
            })
        })?;
        rows.collect()
    }

    pub fn get(&self, conn: &Connection, id: i64) -> Result<RoleInfo, Failure> {
        self.list(conn)?.into_iter().find(|r| r.id == id).ok_or_else(|| self.not_found(id))
    }

    fn check_name(&self, conn: &Connection, name: &str, except: i64) -> Result<String, Failure> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(Failure::Invalid(format!("{} name must have 1 to 50 characters", self.noun)));
        }
        let taken: Option<i64> = conn
            .query_row(
                &format!("SELECT id FROM {} WHERE name = ?1 AND id != ?2", self.table),
                params![name, except],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(Failure::Conflict(format!("a {} named {name} already exists", self.noun)));
        }
        Ok(name.to_owned())
    }

    pub fn create(&self, tx: &Transaction, form: &RoleForm) -> Result<i64, Failure> {
        let name = self.check_name(tx, &form.name, 0)?;
        let enabled = form.is_enable.is_none_or(|b| b.0);
        tx.execute(
            &format!("INSERT INTO {} (name, remark, enabled, created_at) VALUES (?1, ?2, ?3, ?4)", self.table),
            params![name, form.remark.as_deref().unwrap_or_default(), enabled, now()],
        )?;
        Ok(tx.last_insert_rowid())
    }

    pub fn update(&self, tx: &Transaction, id: i64, form: &RoleForm) -> Result<(), Failure> {
        let current = self.get(tx, id)?;
        let name = self.check_name(tx, &form.name, id)?;
        if current.builtin && name != current.name {
            return Err(Failure::Invalid(format!("{} is built in: its name cannot change", current.name)));
        }
        let enabled = form.is_enable.map_or(current.is_enable, |b| b.0);
        if self.table == "role" && id == SUPER_ADMIN && !enabled {
            return Err(Failure::Invalid("超级管理员 cannot be disabled".into()));
        }
        let remark = form.remark.clone().unwrap_or(current.remark);
        tx.execute(
            &format!("UPDATE {} SET name = ?1, remark = ?2, enabled = ?3, updated_at = ?4 WHERE id = ?5", self.table),
            params![name, remark, enabled, now(), id],
        )?;
        Ok(())
    }

    /// Deleting a role that is still assigned would silently change what those accounts
    /// may do or see, so it is refused with the number of accounts.
    pub fn delete(&self, tx: &Transaction, id: i64) -> Result<(), Failure> {
        let current = self.get(tx, id)?;
        if current.builtin {
            return Err(Failure::Invalid(format!("{} is built in and cannot be deleted", current.name)));
        }
        let members: i64 = tx.query_row(
            &format!("SELECT count(*) FROM {} WHERE {} = ?1", self.members, self.member_column),
            [id],
            |r| r.get(0),
        )?;
        if members > 0 {
            return Err(Failure::Invalid(format!(
                "{} {} is still assigned to {members} account(s); remove it from them first",
                self.noun, current.name
            )));
        }
        tx.execute(&format!("DELETE FROM {} WHERE id = ?1", self.table), [id])?;
        Ok(())
    }

    /// Checks that every id names an existing row.
    pub fn check_ids(&self, conn: &Connection, ids: &[i64]) -> Result<(), Failure> {
        let mut stmt = conn.prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", self.table))?;
        let missing: Vec<String> =
            ids.iter().filter(|id| !stmt.exists([**id]).unwrap_or(false)).map(i64::to_string).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Failure::NotFound(format!("no {} with id {}", self.noun, missing.join(", "))))
        }
    }
}

pub fn ids(list: &[LenientId]) -> Vec<i64> {
    let mut ids: Vec<i64> = list.iter().map(|id| id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[OpenApi]
impl RolesApi {
    /// Create a role (disabled roles grant nothing)
    #[oai(path = "/api/auth/role/save", method = "post")]
    async fn save(&self, op: &Operation, token: SystemToken, body: JsonBody<RoleForm>) -> Reply<i64> {
        permitted(&self.0, op, &token).await?;
        let id = self.0.db.write(move |tx| ROLES.create(tx, &body)).await?;
        ok(id)
    }

    /// Delete a role; built-in roles and roles still assigned cannot be deleted
    #[oai(path = "/api/auth/role/delete/:id", method = "delete")]
    async fn delete(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        self.0.db.write(move |tx| ROLES.delete(tx, id.0 .0)).await?;
        ok(serde_json::Value::Null)
    }

    /// Change a role (the documented path)
    #[oai(path = "/api/auth/user/:id", method = "put")]
    async fn edit(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<RoleForm>,
    ) -> Reply<serde_json::Value> {
        self.update(op, token, id.0 .0, body.0).await
    }

    /// Change a role (same as `PUT /api/auth/user/{id}`)
    #[oai(path = "/api/auth/role/edit/:id", method = "put")]
    async fn edit_alias(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<RoleForm>,
    ) -> Reply<serde_json::Value> {
        self.update(op, token, id.0 .0, body.0).await
    }

    /// Every role, by id (times in epoch milliseconds)
    #[oai(path = "/api/auth/role/roleList", method = "get")]
    async fn role_list(&self, op: &Operation, token: SystemToken) -> RenderedReply<Vec<RoleInfo>> {
        permitted(&self.0, op, &token).await?;
        super::kept_list(&self.0, &self.1, |c| Ok(ROLES.list(c)?)).await
    }

    /// One role
    #[oai(path = "/api/auth/role/:id", method = "get")]
    async fn role(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<RoleInfo> {
        permitted(&self.0, op, &token).await?;
        ok(self.0.db.read_small(move |c| ROLES.get(c, id.0 .0)).await?)
    }
}

impl RolesApi {
    async fn update(&self, op: &Operation, token: SystemToken, id: i64, form: RoleForm) -> Reply<serde_json::Value> {
        let caller = permitted(&self.0, op, &token).await?;
        self.0
            .db
            .write(move |tx| {
                if form.is_enable.is_some_and(|e| !e.0) {
                    crate::identity::roles::ensure_may_weaken(tx, &caller, id, None)?;
                }
                ROLES.update(tx, id, &form)
            })
            .await?;
        ok(serde_json::Value::Null)
    }
}
