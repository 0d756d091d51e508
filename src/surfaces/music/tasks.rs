//! Administrator tasks: permission and ban requests wait as `TOC` until an administrator
//! approves (`DONE`) or rejects (`REJECTED`) them. Approving a permission change grants or
//! revokes built-in roles; roles are read with the session on every request, so the change
//! holds from the account's next request. Approving a ban ends all the account's sessions.
//! 超级管理员 accounts are managed on the system surface, and only a 超级管理员 may approve a
//! change that makes or concerns a 管理员.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension};

use super::fields::Fields;
use super::{done, page, permission_of, signed_in, Done, MusicToken, Reply};
use crate::clock::now_millis;
use crate::identity::authz::Operation;
use crate::identity::{accounts, roles, Caller};
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct TaskApi(pub Arc<AppState>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Permission,
    Ban,
}

impl TaskKind {
    fn operation(self) -> &'static str {
        match self {
            TaskKind::Permission => "updatePermission",
            TaskKind::Ban => "banUser",
        }
    }

    fn approve_path(self) -> &'static str {
        match self {
            TaskKind::Permission => "/api/univer/permission",
            TaskKind::Ban => "/api/univer/banuser",
        }
    }
}

#[derive(Object)]
struct TaskDetail {
    /// Milliseconds since the epoch
    created_time: i64,
    updated_time: Option<i64>,
    finished_time: Option<i64>,
    /// updatePermission | banUser
    operation: String,
    /// TOC (to check) | DONE | REJECTED
    status: String,
    /// The requested permission group, or true/false for a ban
    #[oai(rename = "update-to")]
    update_to: serde_json::Value,
}

#[derive(Object)]
#[allow(non_snake_case)]
struct TaskItem {
    taskId: i64,
    /// The permission group of the account concerned, as the document spells the key
    perimission: String,
    /// The same, spelled correctly
    permission: String,
    /// The administrator who approved or rejected it
    operator: Option<i64>,
    /// The account concerned
    beOperator: i64,
    /// The account that asked
    requester: i64,
    detail: TaskDetail,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct TaskRef {
    taskId: Option<LenientId>,
    /// Accepted spelling of taskId
    taskid: Option<LenientId>,
}

impl TaskRef {
    fn id(&self) -> Result<i64, Failure> {
        self.taskId.or(self.taskid).map(|t| t.0).ok_or_else(|| Failure::Missing("taskId is required".into()))
    }
}

/// Records a request; one waiting request per account and kind.
pub async fn request(
    app: &AppState,
    caller: &Caller,
    target: i64,
    kind: TaskKind,
    update_to: String,
) -> Result<i64, Failure> {
    let requester = caller.account_id;
    app.db
        .write(move |tx| {
            let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM account WHERE id = ?1)", [target], |r| r.get(0))?;
            if !exists {
                return Err(Failure::NotFound(format!("no user with uid {target}")));
            }
            let waiting: Option<i64> = tx
                .query_row(
                    "SELECT id FROM music_task WHERE target_id = ?1 AND operation = ?2 AND status = 'TOC'",
                    params![target, kind.operation()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = waiting {
                return Err(Failure::Conflict(format!("task {id} for this account is still waiting for an administrator")));
            }
            tx.execute(
                "INSERT INTO music_task (requester_id, target_id, operation, update_to, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![requester, target, kind.operation(), update_to, now_millis()],
            )?;
            Ok(tx.last_insert_rowid())
        })
        .await
}

fn list(conn: &Connection, only: Option<i64>) -> Result<Vec<TaskItem>, Failure> {
    let mut stmt = conn.prepare(
        "SELECT id, requester_id, target_id, operation, update_to, status, operator_id, created_at, updated_at, finished_at
         FROM music_task WHERE ?1 IS NULL OR requester_id = ?1 OR target_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([only], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<i64>>(6)?,
            (r.get::<_, i64>(7)?, r.get::<_, Option<i64>>(8)?, r.get::<_, Option<i64>>(9)?),
        ))
    })?;
    let mut items = Vec::new();
    for row in rows {
        let (id, requester, target, operation, update_to, status, operator, (created, updated, finished)) = row?;
        let permission = permission_of(&roles::of_account(conn, target)?).to_owned();
        let update_to = match operation.as_str() {
            "banUser" => serde_json::Value::Bool(update_to == "true"),
            _ => serde_json::Value::String(update_to),
        };
        items.push(TaskItem {
            taskId: id,
            perimission: permission.clone(),
            permission,
            operator,
            beOperator: target,
            requester,
            detail: TaskDetail {
                created_time: created,
                updated_time: updated,
                finished_time: finished,
                operation,
                status,
                update_to,
            },
        });
    }
    Ok(items)
}

/// Approves (`Some(kind)`) or rejects (`None`) a waiting task.
async fn settle(app: &AppState, caller: &Caller, task_id: i64, approve: Option<TaskKind>) -> Result<(), Failure> {
    let operator = caller.account_id;
    let by_super_admin = caller.is_super_admin();
    let caller = caller.clone();
    app.db
        .write(move |tx| {
            let task: Option<(i64, String, String, String)> = tx
                .query_row(
                    "SELECT target_id, operation, update_to, status FROM music_task WHERE id = ?1",
                    [task_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let (target, operation, update_to, status) =
                task.ok_or_else(|| Failure::NotFound(format!("no task {task_id}")))?;
            if status != "TOC" {
                return Err(Failure::Conflict(format!("task {task_id} is already {status}")));
            }
            let kind = if operation == TaskKind::Ban.operation() { TaskKind::Ban } else { TaskKind::Permission };
            let outcome = match approve {
                None => "REJECTED",
                Some(wanted) if wanted != kind => {
                    return Err(Failure::Invalid(format!(
                        "task {task_id} is a {operation} request; approve it with {}",
                        kind.approve_path()
                    )));
                }
                Some(_) => {
                    let held = roles::of_account(tx, target)?;
                    if held.contains(&roles::SUPER_ADMIN) {
                        return Err(Failure::Forbidden("a 超级管理员 account is managed on the system surface".into()));
                    }
                    let touches_admin = held.contains(&roles::ADMIN) || update_to == "admin";
                    if touches_admin && !by_super_admin {
                        return Err(Failure::Forbidden(
                            "only a 超级管理员 may approve a change concerning a 管理员".into(),
                        ));
                    }
                    match kind {
                        TaskKind::Ban => accounts::set_banned(tx, &caller, target, update_to == "true")?,
                        TaskKind::Permission => set_permission(tx, &caller, target, &update_to)?,
                    }
                    "DONE"
                }
            };
            let at = now_millis();
            tx.execute(
                "UPDATE music_task SET status = ?1, operator_id = ?2, updated_at = ?3, finished_at = ?3 WHERE id = ?4",
                params![outcome, operator, at, task_id],
            )?;
            Ok(())
        })
        .await
}

/// Makes the account's built-in roles match a permission group; other roles stay.
fn set_permission(conn: &Connection, caller: &Caller, uid: i64, permission: &str) -> Result<(), Failure> {
    let (grant, revoke): (&[i64], &[i64]) = match permission {
        "admin" => (&[roles::ADMIN, roles::USER], &[]),
        "creator" => (&[roles::CREATOR, roles::USER], &[roles::ADMIN]),
        _ => (&[roles::USER], &[roles::ADMIN, roles::CREATOR]),
    };
    let mut wanted = roles::of_account(conn, uid)?;
    wanted.retain(|r| !revoke.contains(r));
    wanted.extend(grant.iter().filter(|r| !wanted.contains(r)).collect::<Vec<_>>());
    Ok(accounts::set_roles(conn, caller, uid, &wanted)?)
}

#[OpenApi]
impl TaskApi {
    /// Tasks: administrators see all (or one user's with `uid`), others the ones they asked for or that concern them
    #[oai(path = "/api/univer/tasklist", method = "get")]
    async fn tasklist(
        &self,
        op: &Operation,
        token: MusicToken,
        /// Only tasks asked by or concerning this user (non-administrators: themselves)
        uid: Query<Option<LenientId>>,
    ) -> Reply<Vec<TaskItem>> {
        let caller = signed_in(&self.0, op, &token).await?;
        let only = match uid.0.map(|u| u.0) {
            Some(uid) if uid != caller.account_id && !caller.is_admin() => {
                return Err(Failure::Forbidden("you may only list your own tasks".into()).into());
            }
            // Every client sends `uid` (the document requires it), usually the caller's own:
            // an administrator's own uid still means "everything waiting for me".
            Some(uid) if uid == caller.account_id && caller.is_admin() => None,
            Some(uid) => Some(uid),
            None if caller.is_admin() => None,
            None => Some(caller.account_id),
        };
        let items = self.0.db.read(move |c| list(c, only)).await?;
        let total = items.len() as i64;
        page(items, total)
    }

    /// Approve a ban request (administrators)
    #[oai(path = "/api/univer/banuser", method = "patch")]
    async fn approve_ban(&self, op: &Operation, token: MusicToken, body: Fields<TaskRef>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        settle(&self.0, &caller, body.id()?, Some(TaskKind::Ban)).await?;
        done()
    }

    /// Approve a permission request (administrators)
    #[oai(path = "/api/univer/permission", method = "patch")]
    async fn approve_permission(&self, op: &Operation, token: MusicToken, body: Fields<TaskRef>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        settle(&self.0, &caller, body.id()?, Some(TaskKind::Permission)).await?;
        done()
    }

    /// Reject a waiting request of either kind (administrators)
    #[oai(path = "/api/univer/reject", method = "patch")]
    async fn reject(&self, op: &Operation, token: MusicToken, body: Fields<TaskRef>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        settle(&self.0, &caller, body.id()?, None).await?;
        done()
    }
}
