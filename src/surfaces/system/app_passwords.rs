//! The signed-in account's own app passwords, for music apps that speak Subsonic (`/rest`):
//! create (the secret is shown once), list (never the secret) and revoke.

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};

use super::{ok, page, Reply, SystemToken};
use crate::clock::local_datetime;
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct AppPasswordsApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
struct NewAppPassword {
    /// What the password is for ("Symfonium on my phone"), 1 to 50 characters
    name: String,
}

#[derive(Object)]
struct CreatedAppPassword {
    id: i64,
    /// The app password; it is shown only in this answer
    password: String,
}

#[derive(Object)]
#[allow(non_snake_case)]
struct AppPasswordItem {
    id: i64,
    name: String,
    /// yyyy-MM-dd HH:mm:ss
    createdTime: String,
    /// yyyy-MM-dd HH:mm:ss of the last use (to the minute), null when never used
    lastUsedTime: Option<String>,
}

#[OpenApi]
impl AppPasswordsApi {
    /// Create an app password for the signed-in account; `data.password` is shown only now
    #[oai(path = "/api/auth/appPasswords", method = "post")]
    async fn create(&self, token: SystemToken, body: JsonBody<NewAppPassword>) -> Reply<CreatedAppPassword> {
        let caller = token.caller()?;
        let name = body.0.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(Failure::Invalid("name must be 1 to 50 characters".into()).into());
        }
        let (id, password) = self.0.identity.create_app_password(caller.account_id, name).await?;
        ok(CreatedAppPassword { id, password })
    }

    /// The signed-in account's app passwords, oldest first (never the secrets)
    #[oai(path = "/api/auth/appPasswords", method = "get")]
    async fn list(&self, token: SystemToken) -> Reply<Vec<AppPasswordItem>> {
        let caller = token.caller()?;
        let items: Vec<AppPasswordItem> = self
            .0
            .identity
            .app_passwords(caller.account_id)
            .await?
            .into_iter()
            .map(|a| AppPasswordItem {
                id: a.id,
                name: a.name,
                createdTime: local_datetime(a.created_at),
                lastUsedTime: a.last_used_at.map(local_datetime),
            })
            .collect();
        let total = items.len() as i64;
        page(items, total)
    }

    /// Revoke one of the signed-in account's app passwords: it stops working at once
    #[oai(path = "/api/auth/appPasswords/:id", method = "delete")]
    async fn revoke(&self, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        let caller = token.caller()?;
        let id = id.0 .0;
        if !self.0.identity.revoke_app_password(caller.account_id, id).await? {
            return Err(Failure::NotFound(format!("you have no app password {id}")).into());
        }
        ok(serde_json::Value::Null)
    }
}
