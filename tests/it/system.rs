//! The system surface (seed 001): users, roles, permissions, data roles, departments, and
//! the authorization model every surface uses. Bodies are the document's own examples.

use crate::common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

struct Sys<'a> {
    server: &'a TestServer,
    token: String,
}

impl Sys<'_> {
    /// Calls a system path; always HTTP 200 with the {code, message, data} envelope.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req =
            self.server.client.request(method, self.server.url(&format!("/system{path}"))).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let (status, value) = common::read(req.send().await.unwrap()).await;
        assert_eq!(status, 200, "{path}: {value}");
        assert!(value["message"].is_string(), "{path}: {value}");
        value
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let value = self.call(method, path, body).await;
        assert_eq!(value["code"], 0, "{path}: {value}");
        assert_eq!(value["message"], "SUCC");
        value["data"].clone()
    }

    async fn fails(&self, method: Method, path: &str, body: Option<Value>) -> String {
        let value = self.call(method, path, body).await;
        assert_eq!(value["code"], -1, "{path} should fail: {value}");
        assert_eq!(value["data"], Value::Null);
        value["message"].as_str().unwrap().to_owned()
    }
}

async fn admin(server: &TestServer) -> Sys<'_> {
    server.create_admin("root", "root-password").await;
    Sys { server, token: server.system_login("root", "root-password").await }
}

async fn as_user<'a>(server: &'a TestServer, name: &str, password: &str) -> Sys<'a> {
    Sys { server, token: server.system_login(name, password).await }
}

fn qiumeng(name: &str, roles: Value) -> Value {
    json!({
        "name": name, "loginname": "qiumeng", "password": "123456", "sex": "男", "remark": "邱猛",
        "isAnalyst": true, "isEnable": true, "roleIdList": roles, "dataRoleIdList": []
    })
}

#[tokio::test]
async fn users_are_created_listed_edited_and_deleted_with_the_documented_bodies() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let dept = sys.ok(Method::POST, "/api/auth/dept/saveDept", Some(json!({"parentDeptId": "", "name": "拓安信", "aliasName": "拓安信", "createUserId": 8, "orderNum": 0, "enabled": 1}))).await;
    let mut body = qiumeng("测试1", json!(["2", "3"]));
    body["deptid"] = json!(dept.to_string());
    let id = sys.ok(Method::POST, "/api/auth/user/save", Some(body.clone())).await;
    assert!(id.as_i64().unwrap() > 0);

    let again = sys.fails(Method::POST, "/api/auth/user/save", Some(body)).await;
    assert_eq!(again, "the login name qiumeng is taken; choose another");

    let users = sys.ok(Method::GET, "/api/auth/user/userList", None).await;
    let user = users.as_array().unwrap().iter().find(|u| u["loginname"] == "qiumeng").unwrap().clone();
    assert_eq!(user["name"], "测试1");
    assert_eq!(user["deptid"], dept);
    assert_eq!(user["isAnalyst"], true);
    let roles: Vec<i64> = user["roleInfoList"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(roles, vec![2, 3, 5], "isAnalyst grants 分析员 (5)");
    assert_eq!(user["roleInfoList"][0]["name"], "管理员");
    assert_eq!(user["roleInfoList"][0]["enable"], true);
    assert_eq!(user["dataroleInfoList"], json!([]));

    // The documented edit body: string ids, a new role set; isAnalyst "false" as a string.
    let mut edit = qiumeng("测试2", json!(["3", "4"]));
    edit["isAnalyst"] = json!("false");
    edit["password"] = json!("");
    sys.ok(Method::PUT, &format!("/api/auth/user/edit/{id}"), Some(edit)).await;
    let users = sys.ok(Method::GET, "/api/auth/user/userList?pageNum=1&pageSize=10", None).await;
    let user = users.as_array().unwrap().iter().find(|u| u["id"] == id).unwrap().clone();
    assert_eq!(user["name"], "测试2");
    let roles: Vec<i64> = user["roleInfoList"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(roles, vec![3, 4]);
    assert_eq!(user["isAnalyst"], false);
    assert_eq!(user["deptid"], Value::Null, "the edit body had no deptid");
    as_user(&server, "qiumeng", "123456").await; // the empty password kept the old one

    sys.ok(Method::DELETE, &format!("/api/auth/user/delete/{id}"), None).await;
    let gone = sys.fails(Method::DELETE, &format!("/api/auth/user/delete/{id}"), None).await;
    assert_eq!(gone, format!("user {id} does not exist"));
    let count: i64 =
        server.sql().query_row("SELECT count(*) FROM account WHERE username = 'qiumeng'", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn user_input_is_checked_field_by_field() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let mut short = qiumeng("x", json!(["3"]));
    short["password"] = json!("12345");
    assert_eq!(
        sys.fails(Method::POST, "/api/auth/user/save", Some(short)).await,
        "password must have at least 6 characters"
    );
    let mut no_role = qiumeng("x", json!(["99"]));
    no_role["loginname"] = json!("someone");
    assert_eq!(sys.fails(Method::POST, "/api/auth/user/save", Some(no_role)).await, "no role with id 99");
    let mut no_dept = qiumeng("x", json!(["3"]));
    no_dept["deptid"] = json!("481");
    assert_eq!(sys.fails(Method::POST, "/api/auth/user/save", Some(no_dept)).await, "department 481 does not exist");
    let mut bad_flag = qiumeng("x", json!(["3"]));
    bad_flag["isEnable"] = json!("maybe");
    let message = sys.fails(Method::POST, "/api/auth/user/save", Some(bad_flag)).await;
    assert!(message.starts_with("isEnable: invalid type: string \"maybe\""), "{message}");
    let missing =
        sys.fails(Method::POST, "/api/auth/user/save", Some(json!({"name": "x", "password": "123456"}))).await;
    assert_eq!(missing, "missing field `loginname`");
    let count: i64 = server.sql().query_row("SELECT count(*) FROM account", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1, "nothing but the administrator was created");
}

#[tokio::test]
async fn password_update_and_disabling_end_sessions_at_once() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let id = server.create_user("walker", "walker-pass").await;
    let walker = as_user(&server, "walker", "walker-pass").await;
    let (_, me) = server.get_auth("/system/api/auth/role/roleList", &walker.token).await;
    assert_eq!(me["code"], -1, "a 普通用户 may not list roles");

    let wrong = sys
        .fails(
            Method::PUT,
            &format!("/api/auth/user/update/{id}"),
            Some(json!({"loginname": "someone", "password": "new-pass-1"})),
        )
        .await;
    assert_eq!(wrong, format!("loginname someone is not the login name of user {id}"));
    sys.ok(
        Method::PUT,
        &format!("/api/auth/user/update/{id}"),
        Some(json!({"loginname": "walker", "password": "new-pass-1"})),
    )
    .await;
    let (_, revoked) = server.get_auth("/system/api/auth/role/roleList", &walker.token).await;
    assert_eq!(revoked["message"], "the token is not valid or was revoked; log in again");
    let walker = as_user(&server, "walker", "new-pass-1").await;

    let mut disable = qiumeng("walker", json!(["3"]));
    disable["loginname"] = json!("walker");
    disable["isEnable"] = json!("false");
    disable["password"] = json!(null);
    sys.ok(Method::PUT, &format!("/api/auth/user/edit/{id}"), Some(disable)).await;
    let (_, after) = server.get_auth("/system/api/auth/role/roleList", &walker.token).await;
    assert_eq!(after["code"], -1);
    assert_eq!(after["message"], "the token is not valid or was revoked; log in again");
    let (_, login) =
        server.post_json("/system/api/auth/login", &json!({"loginname": "walker", "password": "new-pass-1"})).await;
    assert_eq!(login["message"], "this account is disabled");
}

#[tokio::test]
async fn the_last_super_administrator_stays() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let root: i64 = server.sql().query_row("SELECT id FROM account WHERE username = 'root'", [], |r| r.get(0)).unwrap();
    let delete = sys.fails(Method::DELETE, &format!("/api/auth/user/delete/{root}"), None).await;
    // Only a super-administrator may delete one, so the last one can only try it on itself.
    assert_eq!(delete, "you cannot delete your own account");
    let mut demote = qiumeng("root", json!(["2"]));
    demote["loginname"] = json!("root");
    assert_eq!(
        sys.fails(Method::PUT, &format!("/api/auth/user/edit/{root}"), Some(demote.clone())).await,
        "this is the last super-administrator: it cannot be demoted"
    );
    let mut disable = qiumeng("root", json!(["1"]));
    disable["loginname"] = json!("root");
    disable["isEnable"] = json!(false);
    assert_eq!(
        sys.fails(Method::PUT, &format!("/api/auth/user/edit/{root}"), Some(disable)).await,
        "this is the last super-administrator: it cannot be disabled"
    );

    // A 管理员 cannot make anyone a super-administrator, nor touch one.
    let mut helper = qiumeng("helper", json!([2]));
    helper["loginname"] = json!("helper");
    sys.ok(Method::POST, "/api/auth/user/save", Some(helper)).await;
    let manager = as_user(&server, "helper", "123456").await;
    let mut escalate = qiumeng("sneaky", json!([1]));
    escalate["loginname"] = json!("sneaky");
    assert_eq!(
        manager.fails(Method::POST, "/api/auth/user/save", Some(escalate)).await,
        "only a super-administrator may grant or remove 超级管理员"
    );
    assert_eq!(
        manager.fails(Method::DELETE, &format!("/api/auth/user/delete/{root}"), None).await,
        "that account outranks yours: only a super-administrator may change it"
    );

    // With a second super-administrator, the first may be demoted.
    let mut second = qiumeng("second", json!(["1"]));
    second["loginname"] = json!("second");
    sys.ok(Method::POST, "/api/auth/user/save", Some(second)).await;
    sys.ok(Method::PUT, &format!("/api/auth/user/edit/{root}"), Some(demote)).await;
    let roles: i64 = server
        .sql()
        .query_row("SELECT count(*) FROM account_role WHERE account_id = ?1 AND role_id = 1", [root], |r| r.get(0))
        .unwrap();
    assert_eq!(roles, 0);
}

#[tokio::test]
async fn roles_are_managed_at_both_documented_edit_paths() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let id = sys
        .ok(Method::POST, "/api/auth/role/save", Some(json!({"name": "质检员", "remark": "支连媛", "isEnable": true})))
        .await;
    let id = id.as_i64().unwrap();
    assert!(id > 5);
    assert_eq!(
        sys.fails(Method::POST, "/api/auth/role/save", Some(json!({"name": "质检员", "remark": "", "isEnable": true})))
            .await,
        "a role named 质检员 already exists"
    );

    sys.ok(
        Method::PUT,
        &format!("/api/auth/user/{id}"),
        Some(json!({"name": "质检员", "remark": "sfaf", "isEnable": true})),
    )
    .await;
    let role = sys.ok(Method::GET, &format!("/api/auth/role/{id}"), None).await;
    assert_eq!((role["remark"].as_str(), role["isEnable"].as_bool()), (Some("sfaf"), Some(true)));
    let created = role["createTime"].as_i64().unwrap();
    assert!(created > 1_600_000_000_000, "epoch milliseconds: {created}");
    assert!(role["updateTime"].as_i64().unwrap() >= created);

    sys.ok(
        Method::PUT,
        &format!("/api/auth/role/edit/{id}"),
        Some(json!({"name": "质检员2", "remark": "r", "isEnable": "false"})),
    )
    .await;
    let list = sys.ok(Method::GET, "/api/auth/role/roleList", None).await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["超级管理员", "管理员", "普通用户", "创作者", "分析员", "质检员2"]);
    assert_eq!(list[5]["isEnable"], false);
    assert_eq!(list[0]["updateTime"], Value::Null);

    assert_eq!(
        sys.fails(Method::DELETE, "/api/auth/role/delete/3", None).await,
        "普通用户 is built in and cannot be deleted"
    );
    assert_eq!(
        sys.fails(
            Method::PUT,
            "/api/auth/role/edit/1",
            Some(json!({"name": "超级管理员", "remark": "", "isEnable": false}))
        )
        .await,
        "超级管理员 cannot be disabled"
    );
    assert_eq!(
        sys.fails(Method::PUT, "/api/auth/user/2", Some(json!({"name": "boss", "remark": "", "isEnable": true}))).await,
        "管理员 is built in: its name cannot change"
    );
    assert_eq!(sys.fails(Method::GET, "/api/auth/role/77", None).await, "role 77 does not exist");

    let mut member = qiumeng("m", json!([id.to_string()]));
    member["isAnalyst"] = json!(false);
    let user = sys.ok(Method::POST, "/api/auth/user/save", Some(member)).await;
    assert_eq!(
        sys.fails(Method::DELETE, &format!("/api/auth/role/delete/{id}"), None).await,
        "role 质检员2 is still assigned to 1 account(s); remove it from them first"
    );
    sys.ok(Method::DELETE, &format!("/api/auth/user/delete/{user}"), None).await;
    sys.ok(Method::DELETE, &format!("/api/auth/role/delete/{id}"), None).await;
    assert_eq!(
        sys.fails(Method::GET, &format!("/api/auth/role/{id}"), None).await,
        format!("role {id} does not exist")
    );
}

#[tokio::test]
async fn the_catalogue_lists_every_operation_module_and_page() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let all = sys.ok(Method::GET, "/api/auth/permission/list", None).await;
    let all = all.as_array().unwrap();
    let find = |value: &str| {
        all.iter().find(|p| p["permissionValue"] == value).unwrap_or_else(|| panic!("{value} missing")).clone()
    };
    for surface in ["care", "music", "transit", "system", "open"] {
        assert_eq!(find(surface)["type"], "MODULE");
    }
    let role_list = find("system:GET:/api/auth/role/roleList");
    assert_eq!(
        (role_list["type"].as_str(), role_list["uri"].as_str(), role_list["method"].as_str()),
        (Some("BUTTON"), Some("/system/api/auth/role/roleList"), Some("GET"))
    );
    assert_eq!(role_list["parentId"], find("system")["id"]);
    assert_eq!(role_list["treeId"], find("system")["id"]);
    let documented = find("system:PUT:/api/auth/user/{id}");
    assert_eq!(documented["name"], "Change a role (the documented path)");
    assert_eq!(find("admin:alerts")["type"], "MENU");
    let orders: Vec<i64> = all.iter().map(|p| p["orderNum"].as_i64().unwrap()).collect();
    assert!(orders.windows(2).all(|w| w[0] < w[1]), "catalogue order");

    // Every operation in every committed spec is in the catalogue.
    let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    for surface in ["care", "music", "transit", "system", "open"] {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(specs.join(format!("{surface}.json"))).unwrap()).unwrap();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().unwrap().keys() {
                find(&format!("{surface}:{}:{path}", method.to_uppercase()));
            }
        }
    }
    let menus = sys.ok(Method::GET, "/api/auth/permission/list?type=menu", None).await;
    assert!(menus.as_array().unwrap().iter().all(|p| p["type"] == "MENU"));
    assert_eq!(
        sys.fails(Method::GET, "/api/auth/permission/list?type=PAGE", None).await,
        "type must be MENU, MODULE or BUTTON"
    );
}

#[tokio::test]
async fn role_permission_changes_take_effect_on_the_next_request_and_survive_restarts() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    server.create_user("reader", "reader-pass").await;
    let reader = as_user(&server, "reader", "reader-pass").await;
    let denied = reader.fails(Method::GET, "/api/auth/dept/getDeptTree", None).await;
    assert_eq!(denied, "no permission for GET /api/auth/dept/getDeptTree: none of your roles grants it");

    let all = sys.ok(Method::GET, "/api/auth/permission/list", None).await;
    let tree = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["permissionValue"] == "system:GET:/api/auth/dept/getDeptTree")
        .unwrap()["id"]
        .clone();
    let held = sys.ok(Method::GET, "/api/auth/permission/getPermissList/3", None).await;
    assert_eq!(held["name"], "普通用户");
    let mut ids: Vec<String> =
        held["rolePermissionInfoList"].as_array().unwrap().iter().map(|p| p["id"].to_string()).collect();
    assert!(!ids.contains(&tree.to_string()));
    ids.push(tree.to_string());
    sys.ok(Method::POST, "/api/auth/permission/rolePer/edit/3", Some(json!({ "permissionList": ids }))).await;
    assert_eq!(reader.ok(Method::GET, "/api/auth/dept/getDeptTree", None).await, json!([]));

    let server = {
        drop(sys);
        drop(reader);
        server.restart().await
    };
    let reader = as_user(&server, "reader", "reader-pass").await;
    reader.ok(Method::GET, "/api/auth/dept/getDeptTree", None).await;
    let sys = as_user(&server, "root", "root-password").await;
    let held = sys.ok(Method::GET, "/api/auth/permission/getPermissList/3", None).await;
    let tree = tree.to_string();
    let kept: Vec<String> =
        held["rolePermissionInfoList"].as_array().unwrap().iter().map(|p| p["id"].to_string()).collect();
    sys.ok(
        Method::POST,
        "/api/auth/permission/rolePer/edit/3",
        Some(json!({ "permissionList": kept.iter().filter(|id| **id != tree).collect::<Vec<_>>() })),
    )
    .await;
    reader.fails(Method::GET, "/api/auth/dept/getDeptTree", None).await;

    assert_eq!(
        sys.fails(Method::POST, "/api/auth/permission/rolePer/edit/3", Some(json!({"permissionList": ["999999"]})))
            .await,
        "no permission with id 999999"
    );
    assert!(sys
        .fails(Method::POST, "/api/auth/permission/rolePer/edit/1", Some(json!({"permissionList": []})))
        .await
        .starts_with("超级管理员 holds every permission"));
    let everything = sys.ok(Method::GET, "/api/auth/permission/getPermissList/1", None).await;
    assert_eq!(everything["rolePermissionInfoList"].as_array().unwrap().len(), all.as_array().unwrap().len());
}

#[tokio::test]
async fn membership_changes_take_effect_on_the_next_request() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let id = server.create_user("climber", "climber-pass").await;
    let climber = as_user(&server, "climber", "climber-pass").await;
    climber.fails(Method::GET, "/api/auth/user/userList", None).await;
    let mut promote = qiumeng("climber", json!([2, 3]));
    promote["loginname"] = json!("climber");
    promote["password"] = json!(null); // a new password would end the session (tested above)
    sys.ok(Method::PUT, &format!("/api/auth/user/edit/{id}"), Some(promote)).await;
    climber.ok(Method::GET, "/api/auth/user/userList", None).await;
    // Disabling the role itself takes its grants away too.
    sys.ok(Method::PUT, "/api/auth/role/edit/2", Some(json!({"name": "管理员", "remark": "", "isEnable": false})))
        .await;
    climber.fails(Method::GET, "/api/auth/user/userList", None).await;
}

#[tokio::test]
async fn data_roles_carry_scopes_that_the_identity_core_exposes() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let id = sys
        .ok(
            Method::POST,
            "/api/auth/dataRole/save",
            Some(json!({"name": "dataRole1", "remark": "dataRole1", "isEnable": true})),
        )
        .await;
    let wing = sys.ok(Method::POST, "/api/auth/dataRole/save", Some(json!({"name": "east wing", "remark": "", "isEnable": "1", "scopes": ["care.device:7", "transit.area:朝阳区"]}))).await;
    let bad = sys
        .fails(
            Method::POST,
            "/api/auth/dataRole/save",
            Some(json!({"name": "bad", "remark": "", "isEnable": true, "scopes": ["care.device:seven"]})),
        )
        .await;
    assert!(bad.starts_with("scope \"care.device:seven\" is not valid"), "{bad}");
    assert_eq!(
        sys.ok(Method::GET, "/api/auth/dataRole/dataRoleList", None).await.as_array().unwrap().len(),
        2,
        "the bad one left nothing behind"
    );

    sys.ok(
        Method::PUT,
        &format!("/api/auth/dataRole/edit/{id}"),
        Some(json!({"name": "dataRole1", "remark": "changed", "isEnable": true})),
    )
    .await;
    let one = sys.ok(Method::GET, &format!("/api/auth/dataRole/getRoleById/{id}"), None).await;
    assert_eq!((one["remark"].as_str(), one["scopes"].clone()), (Some("changed"), json!([])));
    let list = sys.ok(Method::GET, "/api/auth/dataRole/dataRoleList", None).await;
    assert_eq!(list[1]["scopes"], json!(["care.device:7", "transit.area:朝阳区"]));

    let mut member = qiumeng("scoped", json!([2]));
    member["dataRoleIdList"] = json!([wing.to_string()]);
    let user = sys.ok(Method::POST, "/api/auth/user/save", Some(member)).await.as_i64().unwrap();
    let app = &server.running().app;
    let caller = app.identity.authenticate_jwt(Some(&server.system_login("qiumeng", "123456").await)).await.unwrap();
    assert_eq!(caller.account_id, user);
    let scope = app.identity.data_scope(&caller).await.unwrap();
    assert_eq!(scope.care_devices, Some(vec![7]));
    assert_eq!(scope.transit_areas, Some(vec!["朝阳区".to_owned()]));

    sys.ok(
        Method::PUT,
        &format!("/api/auth/dataRole/edit/{wing}"),
        Some(
            json!({"name": "east wing", "remark": "", "isEnable": true, "scopes": ["care.device:8", "care.device:9"]}),
        ),
    )
    .await;
    let scope = app.identity.data_scope(&caller).await.unwrap();
    assert_eq!((scope.care_devices, scope.transit_areas), (Some(vec![8, 9]), None));
    sys.ok(
        Method::PUT,
        &format!("/api/auth/dataRole/edit/{wing}"),
        Some(json!({"name": "east wing", "remark": "", "isEnable": false})),
    )
    .await;
    assert_eq!(
        app.identity.data_scope(&caller).await.unwrap().care_devices,
        None,
        "a disabled data role restricts nothing"
    );

    assert!(sys
        .fails(Method::DELETE, &format!("/api/auth/dataRole/delete/{wing}"), None)
        .await
        .contains("still assigned to 1 account(s)"));
    sys.ok(Method::DELETE, &format!("/api/auth/dataRole/delete/{id}"), None).await;
    assert_eq!(
        sys.fails(Method::GET, &format!("/api/auth/dataRole/getRoleById/{id}"), None).await,
        format!("data role {id} does not exist")
    );
}

async fn save_dept(sys: &Sys<'_>, parent: &str, name: &str, order: i64) -> i64 {
    let body = json!({"parentDeptId": parent, "name": name, "aliasName": name, "createUserId": 8, "orderNum": order, "enabled": 1});
    sys.ok(Method::POST, "/api/auth/dept/saveDept", Some(body)).await.as_i64().unwrap()
}

fn tree_shape(nodes: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for node in nodes.as_array().unwrap() {
        out.push(format!("{} {}", node["deptId"].as_str().unwrap(), node["label"].as_str().unwrap()));
        out.extend(tree_shape(&node["children"]).into_iter().map(|line| format!("  {line}")));
    }
    out
}

#[tokio::test]
async fn departments_form_a_coded_tree_that_moves_and_deletes_consistently() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let top = save_dept(&sys, "", "拓安信", 0).await;
    let dev = save_dept(&sys, "001", "开发部", 1).await;
    let sales = save_dept(&sys, "001", "销售部", 0).await;
    save_dept(&sys, "001001", "前端组", 0).await;
    let backend = save_dept(&sys, "001001", "后端组", 0).await;
    save_dept(&sys, "001001002", "Java", 0).await;
    let other = save_dept(&sys, "", "前海达信", 0).await;
    assert_eq!(
        sys.fails(Method::POST, "/api/auth/dept/saveDept", Some(json!({"parentDeptId": "009", "name": "x"}))).await,
        "no department has deptId 009"
    );

    let tree = sys.ok(Method::GET, "/api/auth/dept/getDeptTree", None).await;
    assert_eq!(tree[0]["id"], top);
    assert_eq!(
        tree_shape(&tree),
        vec![
            "001 拓安信",
            "  001002 销售部",
            "  001001 开发部",
            "    001001001 前端组",
            "    001001002 后端组",
            "      001001002001 Java",
            "002 前海达信",
        ],
        "siblings by orderNum: 销售部 (0) before 开发部 (1)"
    );

    let one = sys.ok(Method::GET, &format!("/api/auth/dept/getDeptById/{backend}"), None).await;
    assert_eq!(one["deptId"], "001001002");
    assert_eq!(one["level"], "3");
    assert_eq!(
        (one["enabled"].as_i64(), one["deleteFlag"].as_i64(), one["groupId"].clone()),
        (Some(1), Some(0), Value::Null)
    );
    assert_eq!(one["aliasName"], "后端组");
    let list = sys.ok(Method::GET, "/api/auth/dept/getDeptList", None).await;
    assert_eq!(list.as_array().unwrap().len(), 7);
    assert_eq!(list[0]["level"], "1");

    // Move 后端组 (with Java) under 前海达信: codes follow, the tree stays consistent.
    sys.ok(
        Method::PUT,
        &format!("/api/auth/dept/edit/{backend}"),
        Some(json!({"name": "后端", "aliasName": "BE", "enabled": 1, "parentDeptId": "002"})),
    )
    .await;
    let tree = sys.ok(Method::GET, "/api/auth/dept/getDeptTree", None).await;
    assert_eq!(
        tree_shape(&tree),
        vec![
            "001 拓安信",
            "  001002 销售部",
            "  001001 开发部",
            "    001001001 前端组",
            "002 前海达信",
            "  002001 后端",
            "    002001001 Java",
        ]
    );
    let moved = sys.ok(Method::GET, &format!("/api/auth/dept/getDeptById/{backend}"), None).await;
    assert_eq!((moved["level"].as_str(), moved["aliasName"].as_str()), (Some("2"), Some("BE")));
    let cycle = sys
        .fails(
            Method::PUT,
            &format!("/api/auth/dept/edit/{other}"),
            Some(json!({"name": "前海达信", "parentDeptId": "002001"})),
        )
        .await;
    assert_eq!(cycle, "a department cannot move under itself or its own sub-department");
    // The documented edit body (with "remark" instead of aliasName) renames and disables.
    sys.ok(
        Method::PUT,
        &format!("/api/auth/dept/edit/{sales}"),
        Some(json!({"name": "dataRole1", "remark": "dataRole1", "enabled": "0"})),
    )
    .await;
    let renamed = sys.ok(Method::GET, &format!("/api/auth/dept/getDeptById/{sales}"), None).await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["enabled"].as_i64(), renamed["aliasName"].as_str()),
        (Some("dataRole1"), Some(0), Some("销售部"))
    );

    // Deleting is refused while children or members remain.
    let refused = sys.fails(Method::DELETE, &format!("/api/auth/dept/deleteDept/{dev}"), None).await;
    assert_eq!(refused, "department 开发部 has 1 sub-department(s); delete or move them first");
    let mut member = qiumeng("m", json!([3]));
    member["deptid"] = json!(sales);
    let user = sys.ok(Method::POST, "/api/auth/user/save", Some(member)).await;
    let refused = sys.fails(Method::DELETE, &format!("/api/auth/dept/deleteDept/{sales}"), None).await;
    assert_eq!(refused, "department dataRole1 has 1 member(s); move them first");
    sys.ok(Method::DELETE, &format!("/api/auth/user/delete/{user}"), None).await;
    sys.ok(Method::DELETE, &format!("/api/auth/dept/deleteDept/{sales}"), None).await;
    let deleted = sys.ok(Method::GET, &format!("/api/auth/dept/getDeptById/{sales}"), None).await;
    assert_eq!(deleted["deleteFlag"], 1);
    assert_eq!(sys.ok(Method::GET, "/api/auth/dept/getDeptList", None).await.as_array().unwrap().len(), 6);
    assert_eq!(
        sys.ok(Method::GET, "/api/auth/dept/getDeptList?includeDeleted=true", None).await.as_array().unwrap().len(),
        7
    );
    // The soft-deleted code stays its own: a new department gets the next one.
    let next = save_dept(&sys, "001", "售后", 5).await;
    assert_eq!(sys.ok(Method::GET, &format!("/api/auth/dept/getDeptById/{next}"), None).await["deptId"], "001003");
    assert!(!sys.fails(Method::DELETE, "/api/auth/dept/deleteDept/abc", None).await.is_empty());
}

#[tokio::test]
async fn every_management_operation_is_refused_to_an_ordinary_user() {
    let server = TestServer::start().await;
    let _sys = admin(&server).await;
    server.create_user("plain", "plain-pass").await;
    let plain = as_user(&server, "plain", "plain-pass").await;
    let calls: [(Method, &str, Option<Value>); 12] = [
        (Method::POST, "/api/auth/user/save", Some(qiumeng("x", json!([3])))),
        (Method::DELETE, "/api/auth/user/delete/1", None),
        (Method::PUT, "/api/auth/user/edit/1", Some(qiumeng("x", json!([3])))),
        (Method::GET, "/api/auth/user/userList", None),
        (Method::PUT, "/api/auth/user/update/1", Some(json!({"loginname": "root", "password": "hijacked"}))),
        (Method::POST, "/api/auth/role/save", Some(json!({"name": "x", "remark": "", "isEnable": true}))),
        (Method::PUT, "/api/auth/user/1", Some(json!({"name": "x", "remark": "", "isEnable": true}))),
        (Method::GET, "/api/auth/permission/getPermissList/3", None),
        (Method::POST, "/api/auth/permission/rolePer/edit/3", Some(json!({"permissionList": []}))),
        (Method::POST, "/api/auth/dataRole/save", Some(json!({"name": "x", "remark": "", "isEnable": true}))),
        (Method::POST, "/api/auth/dept/saveDept", Some(json!({"parentDeptId": "", "name": "x"}))),
        (Method::GET, "/api/sms/outbox", None),
    ];
    for (method, path, body) in calls {
        let message = plain.fails(method, path, body).await;
        assert!(message.starts_with("no permission for "), "{path}: {message}");
    }
    let count: i64 = server.sql().query_row("SELECT count(*) FROM role", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 5, "nothing was written");
    let anonymous = server.client.get(server.url("/system/api/auth/role/roleList")).send().await.unwrap();
    let (_, body) = common::read(anonymous).await;
    assert_eq!(body["code"], -1);
}

// Conformance item 13: a deleted department's code is never given to a new one.
#[tokio::test]
async fn conformance_item13_a_deleted_departments_code_is_not_reused() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    save_dept(&sys, "", "拓安信", 0).await;
    let dev = save_dept(&sys, "001", "开发部", 0).await;
    sys.ok(Method::DELETE, &format!("/api/auth/dept/deleteDept/{dev}"), None).await;
    save_dept(&sys, "001", "测试部", 0).await;
    let tree = sys.ok(Method::GET, "/api/auth/dept/getDeptTree", None).await;
    assert_eq!(tree_shape(&tree), vec!["001 拓安信", "  001002 测试部"]);
}

/// The role lists are answered from a kept rendering; every change must show in the very
/// next list, also while other lists are being read (and kept) at the same time.
#[tokio::test]
async fn kept_role_lists_show_every_change_at_once() {
    let server = TestServer::start().await;
    let sys = admin(&server).await;
    let names = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&sys.ok(Method::GET, "/api/auth/role/roleList", None).await).len(), 5);
    let id = sys
        .ok(Method::POST, "/api/auth/role/save", Some(json!({"name": "夜班", "remark": "", "isEnable": true})))
        .await
        .as_i64()
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, token, stop) =
                (server.client.clone(), server.url("/system/api/auth/role/roleList"), sys.token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut lists = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = client.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert_eq!(answer.status(), 200);
                    lists += 1;
                }
                lists
            })
        })
        .collect();
    for round in 0..20 {
        let name = format!("夜班{round}");
        sys.ok(
            Method::PUT,
            &format!("/api/auth/role/edit/{id}"),
            Some(json!({"name": name, "remark": "", "isEnable": true})),
        )
        .await;
        let list = sys.ok(Method::GET, "/api/auth/role/roleList", None).await;
        assert_eq!(names(&list).last(), Some(&name), "round {round}: {list}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0, "each reader listed while the role changed");
    }
    sys.ok(Method::DELETE, &format!("/api/auth/role/delete/{id}"), None).await;
    assert!(!names(&sys.ok(Method::GET, "/api/auth/role/roleList", None).await).iter().any(|n| n.starts_with("夜班")));

    assert_eq!(sys.ok(Method::GET, "/api/auth/dataRole/dataRoleList", None).await, json!([]));
    let wing = sys
        .ok(
            Method::POST,
            "/api/auth/dataRole/save",
            Some(json!({"name": "east wing", "remark": "", "isEnable": true, "scopes": ["care.device:7"]})),
        )
        .await;
    let list = sys.ok(Method::GET, "/api/auth/dataRole/dataRoleList", None).await;
    assert_eq!(list[0]["scopes"], json!(["care.device:7"]));
    sys.ok(
        Method::PUT,
        &format!("/api/auth/dataRole/edit/{wing}"),
        Some(json!({"name": "east wing", "remark": "", "isEnable": true, "scopes": ["care.device:8"]})),
    )
    .await;
    let list = sys.ok(Method::GET, "/api/auth/dataRole/dataRoleList", None).await;
    assert_eq!(list[0]["scopes"], json!(["care.device:8"]), "a scope change alone shows too");
}
