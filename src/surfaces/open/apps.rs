//! Partner apps (`open_app`) and their tokens (`open_token`). Administrators manage apps on
//! the system surface (`system/open_apps.rs`); apps exchange their credentials for a token
//! here and present it on every read.

use rusqlite::{params, Connection, OptionalExtension};

use crate::clock::now;
use crate::identity::tokens::{random_hex, token_hash};
use crate::surfaces::Failure;

pub const SCOPES: [&str; 3] = ["care:read", "transit:read", "music:read"];

#[derive(Debug, Clone)]
pub struct App {
    pub id: i64,
    pub app_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub webhook_url: Option<String>,
    pub webhook_secret: String,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl App {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// What an administrator sees once, at creation or rotation.
pub struct Credentials {
    pub id: i64,
    pub app_id: String,
    pub app_secret: String,
    pub webhook_secret: String,
}

const COLUMNS: &str = "id, app_id, name, scopes, webhook_url, webhook_secret, enabled, created_at, updated_at";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<App> {
    let scopes: String = r.get(3)?;
    Ok(App {
        id: r.get(0)?,
        app_id: r.get(1)?,
        name: r.get(2)?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        webhook_url: r.get(4)?,
        webhook_secret: r.get(5)?,
        enabled: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// Checks and normalises scopes: known ones only, each once, in catalogue order.
pub fn check_scopes(scopes: &[String]) -> Result<String, Failure> {
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.trim())) {
        return Err(Failure::Invalid(format!("unknown scope {unknown:?}: use {}", SCOPES.join(", "))));
    }
    Ok(SCOPES.iter().filter(|s| scopes.iter().any(|x| x.trim() == **s)).copied().collect::<Vec<_>>().join(" "))
}

/// Webhook targets are operator-configured LAN or internet services: any http(s) URL.
pub fn check_webhook_url(url: Option<&str>) -> Result<Option<String>, Failure> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return Ok(None) };
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(Some(url.to_owned()))
        }
        _ => Err(Failure::Invalid(format!("webhookUrl {url:?} is not an http(s) URL"))),
    }
}

pub fn check_name(name: &str) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Failure::Invalid("name must have 1 to 100 characters".into()));
    }
    Ok(name.to_owned())
}

pub fn create(
    conn: &Connection,
    name: &str,
    scopes: &str,
    webhook_url: Option<&str>,
    by: i64,
) -> rusqlite::Result<Credentials> {
    let credentials = Credentials {
        id: 0,
        app_id: format!("app{}", random_hex(8)),
        app_secret: random_hex(20),
        webhook_secret: format!("whsec_{}", random_hex(16)),
    };
    conn.execute(
        "INSERT INTO open_app (app_id, name, app_secret_hash, scopes, webhook_url, webhook_secret, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![credentials.app_id, name, token_hash(&credentials.app_secret), scopes, webhook_url, credentials.webhook_secret, by, now()],
    )?;
    Ok(Credentials { id: conn.last_insert_rowid(), ..credentials })
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<App>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM open_app ORDER BY id"))?;
    let apps = stmt.query_map([], from_row)?.collect();
    apps
}

pub fn by_id(conn: &Connection, id: i64) -> Result<App, Failure> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM open_app WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Failure::NotFound(format!("open app {id} does not exist")))
}

pub fn update(conn: &Connection, app: &App) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE open_app SET name = ?1, scopes = ?2, webhook_url = ?3, enabled = ?4, updated_at = ?5 WHERE id = ?6",
        params![app.name, app.scopes.join(" "), app.webhook_url, app.enabled, now(), app.id],
    )?;
    if !app.enabled {
        conn.execute("DELETE FROM open_token WHERE app = ?1", [app.id])?;
    }
    Ok(())
}

/// A new appSecret; every token issued under the old one stops working.
pub fn rotate(conn: &Connection, id: i64) -> Result<Credentials, Failure> {
    let app = by_id(conn, id)?;
    let app_secret = random_hex(20);
    conn.execute(
        "UPDATE open_app SET app_secret_hash = ?1, updated_at = ?2 WHERE id = ?3",
        params![token_hash(&app_secret), now(), id],
    )?;
    conn.execute("DELETE FROM open_token WHERE app = ?1", [id])?;
    Ok(Credentials { id, app_id: app.app_id, app_secret, webhook_secret: app.webhook_secret })
}

pub fn delete(conn: &Connection, id: i64) -> Result<(), Failure> {
    by_id(conn, id)?;
    conn.execute("DELETE FROM open_app WHERE id = ?1", [id])?;
    Ok(())
}

/// The app whose credentials these are, if they are right.
pub fn by_credentials(conn: &Connection, app_id: &str, app_secret: &str) -> rusqlite::Result<Option<App>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM open_app WHERE app_id = ?1 AND app_secret_hash = ?2"),
        params![app_id, token_hash(app_secret)],
        from_row,
    )
    .optional()
}

pub fn store_token(conn: &Connection, app: i64, token: &str, expires_at: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM open_token WHERE app = ?1 AND expires_at <= ?2", params![app, now()])?;
    conn.execute(
        "INSERT INTO open_token (app, token_hash, expires_at) VALUES (?1, ?2, ?3)",
        params![app, token_hash(token), expires_at],
    )?;
    Ok(())
}

/// The app holding this (signature-checked) token, while the token is stored.
pub fn by_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<App>> {
    conn.query_row(
        &format!(
            "SELECT {} FROM open_token t JOIN open_app a ON a.id = t.app WHERE t.token_hash = ?1",
            COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
        ),
        [token_hash(token)],
        from_row,
    )
    .optional()
}
