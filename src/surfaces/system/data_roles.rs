//! Data roles (`data_role`, `data_role_scope`): which rows an account sees. The scopes'
//! meaning is `identity::authz::DataScope`'s.

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::OpenApi;
use rusqlite::{Connection, Transaction};

use super::roles::{RoleForm, RoleInfo, DATA_ROLES};
use super::{ok, permitted, RenderedReply, Reply, SystemToken};
use crate::identity::authz::{parse_scope, Operation};
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct DataRolesApi(pub Arc<AppState>, pub super::KeptList);

fn scopes_of(conn: &Connection, id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind || ':' || value FROM data_role_scope WHERE data_role_id = ?1 ORDER BY kind, value",
    )?;
    let scopes = stmt.query_map([id], |r| r.get(0))?.collect();
    scopes
}

fn with_scopes(conn: &Connection, mut role: RoleInfo) -> rusqlite::Result<RoleInfo> {
    role.scopes = Some(scopes_of(conn, role.id)?);
    Ok(role)
}

fn set_scopes(tx: &Transaction, id: i64, scopes: &[String]) -> Result<(), Failure> {
    let mut parsed = Vec::with_capacity(scopes.len());
    for text in scopes {
        parsed.push(parse_scope(text).ok_or_else(|| {
            Failure::Invalid(format!(
                "scope {text:?} is not valid: write care.device:<device id> or transit.area:<district>"
            ))
        })?);
    }
    tx.execute("DELETE FROM data_role_scope WHERE data_role_id = ?1", [id])?;
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO data_role_scope (data_role_id, kind, value) VALUES (?1, ?2, ?3)")?;
    for (kind, value) in parsed {
        insert.execute(rusqlite::params![id, kind, value])?;
    }
    Ok(())
}

#[OpenApi]
impl DataRolesApi {
    /// Create a data role, optionally with scopes
    #[oai(path = "/api/auth/dataRole/save", method = "post")]
    async fn save(&self, op: &Operation, token: SystemToken, body: JsonBody<RoleForm>) -> Reply<i64> {
        permitted(&self.0, op, &token).await?;
        let id = self
            .0
            .db
            .write(move |tx| {
                let id = DATA_ROLES.create(tx, &body)?;
                set_scopes(tx, id, body.scopes.as_deref().unwrap_or_default())?;
                Ok::<_, Failure>(id)
            })
            .await?;
        ok(id)
    }

    /// Delete a data role that is assigned to no account
    #[oai(path = "/api/auth/dataRole/delete/:id", method = "delete")]
    async fn delete(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        self.0.db.write(move |tx| DATA_ROLES.delete(tx, id.0 .0)).await?;
        ok(serde_json::Value::Null)
    }

    /// Change a data role; `scopes`, when sent, replaces its scopes
    #[oai(path = "/api/auth/dataRole/edit/:id", method = "put")]
    async fn edit(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<RoleForm>,
    ) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        let id = id.0 .0;
        self.0
            .db
            .write(move |tx| {
                DATA_ROLES.update(tx, id, &body)?;
                if let Some(scopes) = &body.scopes {
                    set_scopes(tx, id, scopes)?;
                }
                Ok::<_, Failure>(())
            })
            .await?;
        ok(serde_json::Value::Null)
    }

    /// Every data role with its scopes (times in epoch milliseconds)
    #[oai(path = "/api/auth/dataRole/dataRoleList", method = "get")]
    async fn list(&self, op: &Operation, token: SystemToken) -> RenderedReply<Vec<RoleInfo>> {
        permitted(&self.0, op, &token).await?;
        super::kept_list(&self.0, &self.1, |c| {
            Ok(DATA_ROLES.list(c)?.into_iter().map(|r| with_scopes(c, r)).collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// One data role with its scopes
    #[oai(path = "/api/auth/dataRole/getRoleById/:id", method = "get")]
    async fn get(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<RoleInfo> {
        permitted(&self.0, op, &token).await?;
        let role =
            self.0.db.read_small(move |c| Ok::<_, Failure>(with_scopes(c, DATA_ROLES.get(c, id.0 .0)?)?)).await?;
        ok(role)
    }
}
