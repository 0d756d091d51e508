//! Helpers for the transit tests: accounts with the right roles, tokens from the transit
//! login, and requests in the document's shapes.
#![allow(dead_code)]

use serde_json::{json, Value};

pub use crate::common::{read, TestServer};

pub const PASSWORD: &str = "Secret123";

pub struct Transit {
    pub server: TestServer,
    pub admin: String,
    pub user: String,
    pub analyst: String,
}

pub async fn login(server: &TestServer, username: &str) -> String {
    let (_, body) = server
        .post_json("/transit/api/userprofile/login", &json!({ "username": username, "password": PASSWORD }))
        .await;
    assert_eq!(body["code"], 2000, "login of {username}: {body}");
    body["data"]["token"].as_str().unwrap().to_owned()
}

/// An account with the given built-in role (besides 普通用户).
pub async fn account_with_role(server: &TestServer, username: &str, role: i64) -> i64 {
    let id = server.create_user(username, PASSWORD).await;
    server
        .sql()
        .execute("INSERT OR IGNORE INTO account_role (account_id, role_id) VALUES (?1, ?2)", [id, role])
        .unwrap();
    id
}

/// Restricts an account to stations of these admin areas.
pub fn scope_to_areas(server: &TestServer, account: i64, areas: &[&str]) {
    let db = server.sql();
    db.execute("INSERT INTO data_role (name, created_at) VALUES (?1, 0)", [format!("areas-{account}")]).unwrap();
    let role = db.last_insert_rowid();
    for area in areas {
        db.execute(
            "INSERT INTO data_role_scope (data_role_id, kind, value) VALUES (?1, 'transit.area', ?2)",
            rusqlite::params![role, area],
        )
        .unwrap();
    }
    db.execute("INSERT INTO account_data_role (account_id, data_role_id) VALUES (?1, ?2)", [account, role]).unwrap();
}

impl Transit {
    pub async fn start() -> Transit {
        let server = TestServer::start().await;
        server.create_admin("boss", PASSWORD).await;
        server.create_user("rider", PASSWORD).await;
        account_with_role(&server, "analyst", hearth::identity::roles::ANALYST).await;
        let admin = login(&server, "boss").await;
        let user = login(&server, "rider").await;
        let analyst = login(&server, "analyst").await;
        Transit { server, admin, user, analyst }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(&format!("/transit{path}"))
    }

    /// GET with the token in the query, as the document sends it.
    pub async fn get(&self, path_and_query: &str, token: &str) -> Value {
        let sep = if path_and_query.contains('?') { '&' } else { '?' };
        let res =
            self.server.client.get(self.url(&format!("{path_and_query}{sep}token={token}"))).send().await.unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A JSON body with the token inside it, as the document sends it.
    pub async fn send(&self, method: reqwest::Method, path: &str, token: &str, mut body: Value) -> Value {
        body["token"] = json!(token);
        let res = self.server.client.request(method, self.url(path)).json(&body).send().await.unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, token, body).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Value {
        self.send(reqwest::Method::PUT, path, token, body).await
    }

    pub async fn delete(&self, path: &str, token: &str, body: Value) -> Value {
        self.send(reqwest::Method::DELETE, path, token, body).await
    }

    pub async fn ok(&self, method: reqwest::Method, path: &str, body: Value) {
        let answer = self.send(method, path, &self.admin.clone(), body).await;
        assert_eq!(answer, json!({ "code": 2000 }), "{path}");
    }

    pub async fn station(&self, id: i64, name: &str, area: &str) {
        let body = json!({ "action": "add_station", "station_id": id, "station_name": name, "station_route": "1号线", "admin_area": area });
        self.ok(reqwest::Method::POST, "/api/manage/station/create", body).await;
    }

    pub async fn passenger(&self, id: &str, birth: i64) {
        let body = json!({ "action": "add_passenger", "passenger_id": id, "dist": 5105, "brith": birth, "gender": 1 });
        self.ok(reqwest::Method::POST, "/api/manager/passenger/create", body).await;
    }

    pub async fn trip(&self, user: &str, from: &str, at: &str, to: &str, until: &str) {
        let body = json!({
            "action": "add_trip", "user_id": user, "in_station": from, "in_station_time": at,
            "out_station": to, "out_station_time": until, "channel": 3, "price": 200
        });
        self.ok(reqwest::Method::POST, "/api/manage/trip/create", body).await;
    }
}

pub fn failed(body: &Value) -> String {
    assert_eq!(body["code"], 1000, "{body}");
    body["message"].as_str().unwrap_or_else(|| body["msg"].as_str().unwrap()).to_owned()
}

/// The rows of `sql`, every column an integer.
pub fn rows(db: &rusqlite::Connection, sql: &str) -> Vec<Vec<i64>> {
    let mut stmt = db.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect()).unwrap().map(Result::unwrap).collect()
}

/// Asserts that each of the three trip rollups and the passengers' birth-year rollup equals
/// the GROUP BY it stands for.
pub fn assert_rollups_equal_group_by(db: &rusqlite::Connection) {
    assert_eq!(
        rows(db, "SELECT birth, n FROM transit_birth_year ORDER BY birth"),
        rows(db, "SELECT birth, count(*) FROM transit_passenger WHERE birth IS NOT NULL GROUP BY birth ORDER BY birth")
    );
    assert_eq!(
        rows(db, "SELECT day, n FROM transit_day_total ORDER BY day"),
        rows(db, "SELECT in_time / 86400 AS d, count(*) FROM transit_trip GROUP BY d ORDER BY d")
    );
    assert_eq!(
        rows(db, "SELECT day, origin, dest, n FROM transit_od_day ORDER BY 1, 2, 3"),
        rows(db, "SELECT in_time / 86400 AS d, in_station, out_station, count(*) FROM transit_trip GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    );
    assert_eq!(
        rows(db, "SELECT station, day, hour, n_in, n_out FROM transit_station_hour ORDER BY 1, 2, 3"),
        rows(db, "SELECT s, d, h, sum(i), sum(o) FROM (
                SELECT in_station AS s, in_time / 86400 AS d, in_time % 86400 / 3600 AS h, 1 AS i, 0 AS o FROM transit_trip
                UNION ALL SELECT out_station, out_time / 86400, out_time % 86400 / 3600, 0, 1 FROM transit_trip)
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    );
}
