//! Departments (`dept`): a tree whose codes spell the path, 3 digits per level ("001",
//! "001002"). Moving a department rewrites its subtree's codes in one transaction, so a
//! code's prefix is always its parent's code. Deletion is soft (`delete_flag`) and refused
//! while live children or members remain.

use std::collections::HashMap;
use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{ok, page, permitted, Reply, SystemToken};
use crate::clock::now;
use crate::identity::authz::Operation;
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::Failure;
use crate::AppState;

pub struct DeptsApi(pub Arc<AppState>);

const CODE_DIGITS: usize = 3;

#[derive(Object, Clone)]
pub struct Dept {
    id: i64,
    /// Reserved, always null
    #[oai(rename = "groupId")]
    group_id: Option<i64>,
    #[oai(rename = "deptId")]
    dept_id: String,
    /// Depth in the tree, "1" for a top-level department
    level: String,
    name: String,
    #[oai(rename = "aliasName")]
    alias_name: String,
    #[oai(rename = "orderNum")]
    order_num: i64,
    /// Epoch milliseconds
    #[oai(rename = "createTime")]
    create_time: Option<i64>,
    #[oai(rename = "updateTime")]
    update_time: Option<i64>,
    #[oai(rename = "createUserId")]
    create_user_id: i64,
    /// 1 enabled, 0 disabled
    enabled: i64,
    /// 1 deleted, 0 live
    #[oai(rename = "deleteFlag")]
    delete_flag: i64,
    #[oai(skip)]
    parent: Option<i64>,
}

#[derive(Object)]
struct DeptNode {
    id: i64,
    #[oai(rename = "deptId")]
    dept_id: String,
    label: String,
    children: Vec<DeptNode>,
}

#[derive(Object, serde::Deserialize)]
struct NewDept {
    /// The parent's deptId code; empty or absent for a top-level department
    #[oai(rename = "parentDeptId")]
    #[serde(rename = "parentDeptId", default)]
    parent_dept_id: Option<String>,
    name: String,
    #[oai(rename = "aliasName")]
    #[serde(rename = "aliasName", default)]
    alias_name: Option<String>,
    /// Ignored: the creator is the signed-in account
    #[oai(rename = "createUserId")]
    #[serde(rename = "createUserId", default)]
    create_user_id: Option<LenientId>,
    #[oai(rename = "orderNum")]
    #[serde(rename = "orderNum", default)]
    order_num: Option<LenientId>,
    /// 1 enabled (default), 0 disabled
    #[serde(default)]
    enabled: Option<LenientBool>,
    /// Ignored: a new department is live
    #[oai(rename = "deleteFlag")]
    #[serde(rename = "deleteFlag", default)]
    delete_flag: Option<LenientBool>,
}

#[derive(Object, serde::Deserialize)]
struct DeptChange {
    name: String,
    #[oai(rename = "aliasName")]
    #[serde(rename = "aliasName", default)]
    alias_name: Option<String>,
    #[serde(default)]
    enabled: Option<LenientBool>,
    #[oai(rename = "orderNum")]
    #[serde(rename = "orderNum", default)]
    order_num: Option<LenientId>,
    /// Moves the department (and its subtree) under this parent code; "" moves it to the top
    #[oai(rename = "parentDeptId")]
    #[serde(rename = "parentDeptId", default)]
    parent_dept_id: Option<String>,
}

fn load(conn: &Connection, include_deleted: bool) -> rusqlite::Result<Vec<Dept>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, dept_code, name, alias_name, order_num, created_at, updated_at, create_user_id, enabled, delete_flag, parent_id
         FROM dept WHERE ?1 OR delete_flag = 0 ORDER BY dept_code, id",
    )?;
    let rows = stmt.query_map([include_deleted], |r| {
        let code: String = r.get(1)?;
        Ok(Dept {
            id: r.get(0)?,
            group_id: None,
            level: (code.len() / CODE_DIGITS).to_string(),
            dept_id: code,
            name: r.get(2)?,
            alias_name: r.get(3)?,
            order_num: r.get(4)?,
            create_time: r.get::<_, Option<i64>>(5)?.map(|t| t * 1000),
            update_time: r.get::<_, Option<i64>>(6)?.map(|t| t * 1000),
            create_user_id: r.get(7)?,
            enabled: r.get(8)?,
            delete_flag: r.get(9)?,
            parent: r.get(10)?,
        })
    })?;
    rows.collect()
}

fn by_id(conn: &Connection, id: i64) -> Result<Dept, Failure> {
    load(conn, true)?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| Failure::NotFound(format!("department {id} does not exist")))
}

/// A live department by code; `""` is the root (None).
fn live_by_code(conn: &Connection, code: &str) -> Result<Option<(i64, String)>, Failure> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let found = conn
        .query_row("SELECT id, dept_code FROM dept WHERE dept_code = ?1 AND delete_flag = 0", [code], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    found.map(Some).ok_or_else(|| Failure::NotFound(format!("no department has deptId {code}")))
}

/// The next code under `parent`. Deleted departments keep theirs, so a code once given
/// never names another department.
fn next_code(conn: &Connection, parent: &str) -> Result<String, Failure> {
    let width = parent.len() + CODE_DIGITS;
    let last: Option<String> = conn.query_row(
        "SELECT max(dept_code) FROM dept WHERE length(dept_code) = ?1 AND substr(dept_code, 1, ?2) = ?3",
        params![width as i64, parent.len() as i64, parent],
        |r| r.get(0),
    )?;
    let next = last
        .map_or(Ok(1), |code| code[parent.len()..].parse::<u32>().map(|n| n + 1))
        .map_err(|_| Failure::Internal(format!("department code under {parent:?} is not numeric")))?;
    if next > 999 {
        return Err(Failure::Invalid(format!("department {parent} already has 999 sub-departments")));
    }
    Ok(format!("{parent}{next:03}"))
}

fn check_name(name: &str) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(Failure::Invalid("department name must have 1 to 50 characters".into()));
    }
    Ok(name.to_owned())
}

fn create(tx: &Transaction, form: &NewDept, creator: i64) -> Result<i64, Failure> {
    let name = check_name(&form.name)?;
    let parent = live_by_code(tx, form.parent_dept_id.as_deref().unwrap_or_default())?;
    let code = next_code(tx, parent.as_ref().map_or("", |(_, c)| c))?;
    tx.execute(
        "INSERT INTO dept (dept_code, parent_id, name, alias_name, order_num, enabled, create_user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            code,
            parent.map(|(id, _)| id),
            name,
            form.alias_name.as_deref().unwrap_or(&name),
            form.order_num.map_or(0, |n| n.0),
            form.enabled.is_none_or(|e| e.0),
            creator,
            now()
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn change(tx: &Transaction, id: i64, form: &DeptChange) -> Result<(), Failure> {
    let current = by_id(tx, id)?;
    if current.delete_flag == 1 {
        return Err(Failure::Invalid(format!("department {id} is deleted")));
    }
    let name = check_name(&form.name)?;
    tx.execute(
        "UPDATE dept SET name = ?1, alias_name = ?2, enabled = ?3, order_num = ?4, updated_at = ?5 WHERE id = ?6",
        params![
            name,
            form.alias_name.clone().unwrap_or_else(|| current.alias_name.clone()),
            form.enabled.map_or(current.enabled == 1, |e| e.0),
            form.order_num.map_or(current.order_num, |n| n.0),
            now(),
            id
        ],
    )?;
    if let Some(parent_code) = &form.parent_dept_id {
        move_subtree(tx, &current, parent_code)?;
    }
    Ok(())
}

fn move_subtree(tx: &Transaction, dept: &Dept, parent_code: &str) -> Result<(), Failure> {
    let parent = live_by_code(tx, parent_code)?;
    if parent.as_ref().map(|(id, _)| *id) == dept.parent {
        return Ok(());
    }
    if let Some((_, code)) = &parent {
        if code.starts_with(&dept.dept_id) {
            return Err(Failure::Invalid("a department cannot move under itself or its own sub-department".into()));
        }
    }
    let new_code = next_code(tx, parent.as_ref().map_or("", |(_, c)| c))?;
    let old = &dept.dept_id;
    // Descendants keep their suffix below the moved department.
    tx.execute(
        "UPDATE dept SET dept_code = ?1 || substr(dept_code, ?2), updated_at = ?3
         WHERE delete_flag = 0 AND substr(dept_code, 1, ?4) = ?5",
        params![new_code, old.len() as i64 + 1, now(), old.len() as i64, old],
    )?;
    tx.execute("UPDATE dept SET parent_id = ?1 WHERE id = ?2", params![parent.map(|(id, _)| id), dept.id])?;
    Ok(())
}

fn soft_delete(tx: &Transaction, id: i64) -> Result<(), Failure> {
    let dept = by_id(tx, id)?;
    if dept.delete_flag == 1 {
        return Err(Failure::Invalid(format!("department {id} is already deleted")));
    }
    let children: i64 =
        tx.query_row("SELECT count(*) FROM dept WHERE parent_id = ?1 AND delete_flag = 0", [id], |r| r.get(0))?;
    if children > 0 {
        return Err(Failure::Invalid(format!(
            "department {} has {children} sub-department(s); delete or move them first",
            dept.name
        )));
    }
    let members: i64 = tx.query_row("SELECT count(*) FROM account WHERE dept_id = ?1", [id], |r| r.get(0))?;
    if members > 0 {
        return Err(Failure::Invalid(format!("department {} has {members} member(s); move them first", dept.name)));
    }
    tx.execute("UPDATE dept SET delete_flag = 1, updated_at = ?1 WHERE id = ?2", params![now(), id])?;
    Ok(())
}

/// Nests departments under their parents, siblings by orderNum then code.
fn tree(depts: Vec<Dept>) -> Vec<DeptNode> {
    let mut children: HashMap<Option<i64>, Vec<Dept>> = HashMap::new();
    for d in depts {
        children.entry(d.parent).or_default().push(d);
    }
    fn build(parent: Option<i64>, children: &mut HashMap<Option<i64>, Vec<Dept>>) -> Vec<DeptNode> {
        let mut level = children.remove(&parent).unwrap_or_default();
        level.sort_by(|a, b| (a.order_num, &a.dept_id).cmp(&(b.order_num, &b.dept_id)));
        level
            .into_iter()
            .map(|d| DeptNode { id: d.id, children: build(Some(d.id), children), dept_id: d.dept_id, label: d.name })
            .collect()
    }
    build(None, &mut children)
}

#[OpenApi]
impl DeptsApi {
    /// Live departments as a tree, siblings by orderNum
    #[oai(path = "/api/auth/dept/getDeptTree", method = "get")]
    async fn get_tree(&self, op: &Operation, token: SystemToken) -> Reply<Vec<DeptNode>> {
        permitted(&self.0, op, &token).await?;
        ok(tree(self.0.db.read_small(|c| Ok::<_, Failure>(load(c, false)?)).await?))
    }

    /// Departments by code (live ones unless includeDeleted)
    #[oai(path = "/api/auth/dept/getDeptList", method = "get")]
    async fn get_list(
        &self,
        op: &Operation,
        token: SystemToken,
        #[oai(name = "includeDeleted")] include_deleted: Query<Option<LenientBool>>,
    ) -> Reply<Vec<Dept>> {
        permitted(&self.0, op, &token).await?;
        let all = include_deleted.0.is_some_and(|b| b.0);
        let depts = self.0.db.read_small(move |c| Ok::<_, Failure>(load(c, all)?)).await?;
        let total = depts.len() as i64;
        page(depts, total)
    }

    /// One department, deleted ones included
    #[oai(path = "/api/auth/dept/getDeptById/:id", method = "get")]
    async fn get_by_id(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<Dept> {
        permitted(&self.0, op, &token).await?;
        ok(self.0.db.read_small(move |c| by_id(c, id.0 .0)).await?)
    }

    /// Add a department under parentDeptId; answers its id
    #[oai(path = "/api/auth/dept/saveDept", method = "post")]
    async fn save(&self, op: &Operation, token: SystemToken, body: JsonBody<NewDept>) -> Reply<i64> {
        let caller = permitted(&self.0, op, &token).await?;
        ok(self.0.db.write(move |tx| create(tx, &body, caller.account_id)).await?)
    }

    /// Delete a department without live sub-departments or members (soft: deleteFlag 1)
    #[oai(path = "/api/auth/dept/deleteDept/:id", method = "delete")]
    async fn delete(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        self.0.db.write(move |tx| soft_delete(tx, id.0 .0)).await?;
        ok(serde_json::Value::Null)
    }

    /// Change a department; parentDeptId moves it with its subtree
    #[oai(path = "/api/auth/dept/edit/:id", method = "put")]
    async fn edit(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<DeptChange>,
    ) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        self.0.db.write(move |tx| change(tx, id.0 .0, &body)).await?;
        ok(serde_json::Value::Null)
    }
}

pub fn exists_live(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM dept WHERE id = ?1 AND delete_flag = 0)", [id], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(id: i64, code: &str, parent: Option<i64>, order: i64) -> Dept {
        Dept {
            id,
            group_id: None,
            dept_id: code.into(),
            level: (code.len() / 3).to_string(),
            name: format!("d{id}"),
            alias_name: String::new(),
            order_num: order,
            create_time: None,
            update_time: None,
            create_user_id: 0,
            enabled: 1,
            delete_flag: 0,
            parent,
        }
    }

    #[test]
    fn tree_nests_by_parent_and_orders_siblings_by_order_num() {
        let nodes = tree(vec![
            dept(1, "001", None, 0),
            dept(2, "001001", Some(1), 5),
            dept(3, "001002", Some(1), 1),
            dept(4, "002", None, 0),
        ]);
        let shape: Vec<(i64, Vec<i64>)> =
            nodes.iter().map(|n| (n.id, n.children.iter().map(|c| c.id).collect())).collect();
        assert_eq!(shape, vec![(1, vec![3, 2]), (4, vec![])]);
    }
}
