//! `POST /open/api/token`: an app's credentials for a token, in the document's exact shape.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::{Object, OpenApi};

use super::access::{calling_app, AppToken};
use super::{apps, code, ok, Reply};
use crate::clock::{local_datetime, now};
use crate::surfaces::body::JsonBody;
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct TokenApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
struct Credentials {
    #[oai(rename = "appId")]
    #[serde(rename = "appId")]
    app_id: String,
    #[oai(rename = "appSecret")]
    #[serde(rename = "appSecret")]
    app_secret: String,
}

#[derive(Object)]
struct TokenData {
    /// Send as `Authorization: Bearer <token>`
    token: String,
    /// yyyy-MM-dd HH:mm:ss, server local time
    #[oai(rename = "expirationTime")]
    expiration_time: String,
}

#[derive(Object)]
struct AppInfo {
    #[oai(rename = "appId")]
    app_id: String,
    name: String,
    /// What this app may read
    scopes: Vec<String>,
    /// Whether new fall notices are posted to a webhook
    webhook: bool,
}

#[OpenApi]
impl TokenApi {
    /// The calling app: its appId, name and scopes
    #[oai(path = "/api/app", method = "get")]
    async fn app(&self, token: AppToken) -> Reply<AppInfo> {
        let app = calling_app(&self.0, &token).await?;
        ok(AppInfo { app_id: app.app_id, name: app.name, scopes: app.scopes, webhook: app.webhook_url.is_some() })
    }

    /// Exchange an app's appId and appSecret for a token
    #[oai(path = "/api/token", method = "post")]
    async fn token(&self, remote: &RemoteAddr, body: JsonBody<Credentials>) -> Reply<TokenData> {
        let client = client_key(remote);
        let limiter = &self.0.identity.login_failures;
        limiter.reserve(&client).map_err(Failure::RateLimited)?;
        let Credentials { app_id, app_secret } = body.0;
        let app = self
            .0
            .db
            .read(move |c| Ok::<_, Failure>(apps::by_credentials(c, app_id.trim(), app_secret.trim())?))
            .await
            .inspect_err(|_| limiter.release(&client))?;
        let Some(app) = app else {
            return Err(Failure::Code(code::NO_SUCH_USER, "unknown appId or wrong appSecret".into()).into());
        };
        limiter.release(&client);
        if !app.enabled {
            return Err(Failure::Code(code::NOT_AUTHORIZED, "this app is disabled".into()).into());
        }
        let issued_at = now();
        let expires_at = issued_at + self.0.config.open_token_secs as i64;
        let token = self.0.identity.sign_jwt(app.id, issued_at, expires_at)?;
        let stored = token.clone();
        self.0.db.write(move |tx| Ok::<_, Failure>(apps::store_token(tx, app.id, &stored, expires_at)?)).await?;
        ok(TokenData { token, expiration_time: local_datetime(expires_at) })
    }
}
