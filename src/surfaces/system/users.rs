//! User management: accounts with their roles, data roles and department, as the document
//! writes them. Every change goes through the account core (`identity::accounts`), which
//! holds the rules: ranks, the last super-administrator, unique names.

use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};
use rusqlite::{Connection, Transaction};

use super::auth::is_mainland_mobile;
use super::roles::{ids, DATA_ROLES, ROLES};
use super::{ok, page, permitted, Reply, SystemToken};
use crate::identity::authz::Operation;
use crate::identity::password::Asker;
use crate::identity::roles::{ANALYST, USER};
use crate::identity::{accounts, Caller};
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::paging::window;
use crate::surfaces::Failure;
use crate::AppState;

pub struct UsersApi(pub Arc<AppState>);

const MIN_PASSWORD: usize = 6;

#[derive(Object, serde::Deserialize)]
struct UserForm {
    /// Display name
    name: String,
    /// Login name (unique)
    loginname: String,
    /// At least 6 characters; on edit, empty or absent keeps the current password
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    sex: Option<String>,
    /// Department id (the `id` of a department, not its deptId code)
    #[serde(default)]
    deptid: Option<LenientId>,
    #[serde(default)]
    remark: Option<String>,
    /// Grants the 分析员 role
    #[oai(rename = "isAnalyst")]
    #[serde(rename = "isAnalyst", default)]
    is_analyst: Option<LenientBool>,
    /// A disabled account cannot log in; disabling ends its sessions at once
    #[oai(rename = "isEnable")]
    #[serde(rename = "isEnable", default)]
    is_enable: Option<LenientBool>,
    /// Role ids; absent or empty on create gives 普通用户, absent on edit keeps the roles
    #[oai(rename = "roleIdList")]
    #[serde(rename = "roleIdList", default)]
    role_id_list: Option<Vec<LenientId>>,
    #[oai(rename = "dataRoleIdList")]
    #[serde(rename = "dataRoleIdList", default)]
    data_role_id_list: Option<Vec<LenientId>>,
    /// Optional 11-digit mobile number, to log in to the care surface too
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Object, serde::Deserialize)]
struct PasswordForm {
    /// Must be the account's login name
    loginname: String,
    password: String,
}

#[derive(Object)]
struct RoleBrief {
    id: i64,
    name: String,
    remark: String,
    enable: bool,
}

#[derive(Object)]
struct UserInfo {
    id: i64,
    loginname: Option<String>,
    name: String,
    phone: Option<String>,
    sex: String,
    remark: String,
    deptid: Option<i64>,
    #[oai(rename = "isAnalyst")]
    is_analyst: bool,
    #[oai(rename = "isEnable")]
    is_enable: bool,
    #[oai(rename = "roleInfoList")]
    role_info_list: Vec<RoleBrief>,
    #[oai(rename = "dataroleInfoList")]
    datarole_info_list: Vec<RoleBrief>,
    /// Epoch milliseconds
    #[oai(rename = "createTime")]
    create_time: i64,
}

fn briefs(conn: &Connection, sql: &str, account: i64) -> rusqlite::Result<Vec<RoleBrief>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([account], |r| {
        Ok(RoleBrief { id: r.get(0)?, name: r.get(1)?, remark: r.get(2)?, enable: r.get(3)? })
    })?;
    rows.collect()
}

fn user_list(conn: &Connection, limit: i64, offset: i64) -> rusqlite::Result<(Vec<UserInfo>, i64)> {
    let total = conn.query_row("SELECT count(*) FROM account", [], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, name, phone, sex, remark, dept_id, enabled, created_at FROM account ORDER BY id LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt.query_map([limit, offset], |r| {
        Ok(UserInfo {
            id: r.get(0)?,
            loginname: r.get(1)?,
            name: r.get(2)?,
            phone: r.get(3)?,
            sex: r.get(4)?,
            remark: r.get(5)?,
            deptid: r.get(6)?,
            is_enable: r.get(7)?,
            create_time: r.get::<_, i64>(8)? * 1000,
            is_analyst: false,
            role_info_list: vec![],
            datarole_info_list: vec![],
        })
    })?;
    let mut users = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    for user in &mut users {
        user.role_info_list = briefs(
            conn,
            "SELECT r.id, r.name, r.remark, r.enabled FROM account_role ar JOIN role r ON r.id = ar.role_id WHERE ar.account_id = ?1 ORDER BY r.id",
            user.id,
        )?;
        user.datarole_info_list = briefs(
            conn,
            "SELECT d.id, d.name, d.remark, d.enabled FROM account_data_role a JOIN data_role d ON d.id = a.data_role_id WHERE a.account_id = ?1 ORDER BY d.id",
            user.id,
        )?;
        user.is_analyst = user.role_info_list.iter().any(|r| r.id == ANALYST);
    }
    Ok((users, total))
}

fn roles_of(conn: &Connection, account: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT role_id FROM account_role WHERE account_id = ?1")?;
    let roles = stmt.query_map([account], |r| r.get(0))?.collect();
    roles
}

/// Validated fields of a user form, with its role set worked out.
struct Checked {
    loginname: String,
    name: String,
    phone: Option<String>,
    roles: Option<Vec<i64>>,
    data_roles: Option<Vec<i64>>,
    /// None on edit without isEnable: unchanged
    enabled: Option<bool>,
}

fn check_form(conn: &Connection, form: &UserForm, account: i64, creating: bool) -> Result<Checked, Failure> {
    let loginname = form.loginname.trim().to_owned();
    if loginname.is_empty() || loginname.chars().count() > 50 || loginname.contains(char::is_whitespace) {
        return Err(Failure::Invalid("loginname must have 1 to 50 characters and no spaces".into()));
    }
    accounts::ensure_unique(conn, Some(&loginname), None, account)?;
    let name = form.name.trim().to_owned();
    if name.chars().count() > 50 {
        return Err(Failure::Invalid("name must have at most 50 characters".into()));
    }
    let phone = form.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
    if let Some(phone) = &phone {
        if !is_mainland_mobile(phone) {
            return Err(Failure::Invalid("phone must be an 11-digit mobile number".into()));
        }
        accounts::ensure_unique(conn, None, Some(phone), account)?;
    }
    if let Some(dept) = form.deptid {
        if !super::depts::exists_live(conn, dept.0)? {
            return Err(Failure::NotFound(format!("department {} does not exist", dept.0)));
        }
    }
    let mut roles = match (&form.role_id_list, creating) {
        (Some(list), _) if !list.is_empty() => Some(ids(list)),
        (_, true) => Some(vec![USER]),
        (Some(_), false) => Some(vec![]),
        (None, false) => None,
    };
    if let Some(analyst) = form.is_analyst {
        let set = roles.get_or_insert_with(|| roles_of(conn, account).unwrap_or_default());
        set.retain(|r| *r != ANALYST);
        if analyst.0 {
            set.push(ANALYST);
        }
    }
    if let Some(roles) = &roles {
        ROLES.check_ids(conn, roles)?;
    }
    let data_roles = form.data_role_id_list.as_deref().map(ids);
    if let Some(list) = &data_roles {
        DATA_ROLES.check_ids(conn, list)?;
    }
    let enabled = form.is_enable.map(|e| e.0).or(creating.then_some(true));
    Ok(Checked { loginname, name, phone, roles, data_roles, enabled })
}

/// Roles, data roles and the enabled state, through the account core's rules.
fn set_memberships(tx: &Transaction, caller: &Caller, account: i64, checked: &Checked) -> Result<(), Failure> {
    if let Some(roles) = &checked.roles {
        accounts::set_roles(tx, caller, account, roles)?;
    }
    if let Some(data_roles) = &checked.data_roles {
        accounts::set_data_roles(tx, caller, account, data_roles)?;
    }
    if let Some(enabled) = checked.enabled {
        accounts::set_enabled(tx, caller, account, enabled)?;
    }
    Ok(())
}

/// The profile part of a checked user form.
fn profile_of(form: &UserForm, checked: &Checked) -> accounts::Profile {
    accounts::Profile {
        username: Some(checked.loginname.clone()),
        phone: checked.phone.clone(),
        name: Some(checked.name.clone()),
        sex: form.sex.clone(),
        remark: form.remark.clone(),
        dept_id: Some(form.deptid.map(|d| d.0)),
        ..Default::default()
    }
}

fn account_exists(conn: &Connection, id: i64) -> Result<(), Failure> {
    accounts::by_id(conn, id)?.map(|_| ()).ok_or_else(|| Failure::NotFound(format!("user {id} does not exist")))
}

fn check_password(password: &str) -> Result<(), Failure> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(Failure::Invalid(format!("password must have at least {MIN_PASSWORD} characters")));
    }
    Ok(())
}

impl UsersApi {
    async fn hash_if_given(&self, password: Option<&str>) -> Result<Option<String>, Failure> {
        match password.filter(|p| !p.is_empty()) {
            Some(password) => {
                check_password(password)?;
                Ok(Some(self.0.identity.passwords.hash(Asker::SignedIn, password).await?))
            }
            None => Ok(None),
        }
    }
}

#[OpenApi]
impl UsersApi {
    /// Create a user; answers its id
    #[oai(path = "/api/auth/user/save", method = "post")]
    async fn save(&self, op: &Operation, token: SystemToken, body: JsonBody<UserForm>) -> Reply<i64> {
        let caller = permitted(&self.0, op, &token).await?;
        let hash = self
            .hash_if_given(body.password.as_deref())
            .await?
            .ok_or_else(|| Failure::Invalid(format!("password must have at least {MIN_PASSWORD} characters")))?;
        let form = body.0;
        let id = self
            .0
            .db
            .write(move |tx| {
                let checked = check_form(tx, &form, 0, true)?;
                let new = accounts::NewAccount {
                    username: Some(&checked.loginname),
                    phone: checked.phone.as_deref(),
                    password_hash: &hash,
                    name: &checked.name,
                    enabled: true,
                    ..Default::default()
                };
                let id = accounts::create(tx, &new, &[])?;
                accounts::update_profile(tx, &caller, id, &profile_of(&form, &checked))?;
                set_memberships(tx, &caller, id, &checked)?;
                Ok::<_, Failure>(id)
            })
            .await?;
        ok(id)
    }

    /// Delete a user and end its sessions
    #[oai(path = "/api/auth/user/delete/:id", method = "delete")]
    async fn delete(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        let caller = permitted(&self.0, op, &token).await?;
        let id = id.0 .0;
        self.0
            .db
            .write(move |tx| {
                account_exists(tx, id)?;
                Ok::<_, Failure>(accounts::delete(tx, &caller, id)?)
            })
            .await?;
        ok(serde_json::Value::Null)
    }

    /// Change a user; roleIdList and dataRoleIdList replace the memberships, effective on the next request
    #[oai(path = "/api/auth/user/edit/:id", method = "put")]
    async fn edit(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<UserForm>,
    ) -> Reply<serde_json::Value> {
        let caller = permitted(&self.0, op, &token).await?;
        let id = id.0 .0;
        let hash = self.hash_if_given(body.password.as_deref()).await?;
        let form = body.0;
        self.0
            .db
            .write(move |tx| {
                account_exists(tx, id)?;
                accounts::ensure_may_manage(tx, &caller, id)?;
                let checked = check_form(tx, &form, id, false)?;
                accounts::update_profile(tx, &caller, id, &profile_of(&form, &checked))?;
                set_memberships(tx, &caller, id, &checked)?;
                if let Some(hash) = &hash {
                    accounts::reset_password(tx, &caller, id, hash)?;
                }
                Ok::<_, Failure>(())
            })
            .await?;
        ok(serde_json::Value::Null)
    }

    /// Every user with roles and data roles, by id (pageNum/pageSize optional)
    #[oai(path = "/api/auth/user/userList", method = "get")]
    async fn user_list(
        &self,
        op: &Operation,
        token: SystemToken,
        #[oai(name = "pageNum")] page_num: Query<Option<i64>>,
        #[oai(name = "pageSize")] page_size: Query<Option<i64>>,
    ) -> Reply<Vec<UserInfo>> {
        permitted(&self.0, op, &token).await?;
        // Without pageSize the whole list is one page.
        let (size, offset) = window(page_num.0, page_size.0, i64::MAX, i64::MAX)
            .map_err(|_| Failure::Invalid("pageNum and pageSize must be at least 1".into()))?;
        let (users, total) = self.0.db.read(move |c| Ok::<_, Failure>(user_list(c, size, offset)?)).await?;
        page(users, total)
    }

    /// Set a user's password; ends all of its sessions
    #[oai(path = "/api/auth/user/update/:id", method = "put")]
    async fn set_password(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<PasswordForm>,
    ) -> Reply<serde_json::Value> {
        let caller = permitted(&self.0, op, &token).await?;
        let id = id.0 .0;
        check_password(&body.password)?;
        let hash = self.0.identity.passwords.hash(Asker::SignedIn, &body.password).await?;
        let loginname = body.0.loginname;
        self.0
            .db
            .write(move |tx| {
                let account =
                    accounts::by_id(tx, id)?.ok_or_else(|| Failure::NotFound(format!("user {id} does not exist")))?;
                if account.username.as_deref() != Some(loginname.trim()) {
                    return Err(Failure::Invalid(format!("loginname {loginname} is not the login name of user {id}")));
                }
                Ok(accounts::reset_password(tx, &caller, id, &hash)?)
            })
            .await?;
        ok(serde_json::Value::Null)
    }
}
