//! Logging in to the system surface, and creating the first administrator from the
//! one-time setup link.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::{Object, OpenApi};

use super::{Reply, SystemToken, ok};
use crate::AppState;
use crate::identity::{IssuedToken, accounts, setup};
use crate::surfaces::Failure;
use crate::surfaces::body::JsonBody;

pub struct AuthApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
struct LoginRequest {
    /// Login name
    loginname: String,
    password: String,
}

#[derive(Object)]
pub struct TokenData {
    /// JWT for `Authorization: Bearer …`
    token: String,
    /// yyyy-MM-dd HH:mm:ss, server local time
    #[oai(rename = "expirationTime")]
    expiration_time: String,
}

impl From<IssuedToken> for TokenData {
    fn from(t: IssuedToken) -> Self {
        TokenData { expiration_time: t.expiration_time(), token: t.token }
    }
}

#[derive(Object, serde::Deserialize)]
struct SetupRequest {
    /// The token from the one-time setup link printed at first start
    token: String,
    loginname: String,
    /// At least 8 characters
    password: String,
    /// Optional 11-digit mobile number, to log in to the care surface too
    phone: Option<String>,
}

pub fn client_key(remote: &RemoteAddr) -> String {
    remote.as_socket_addr().map_or_else(|| remote.to_string(), |a| a.ip().to_string())
}

pub fn is_mainland_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

#[OpenApi]
impl AuthApi {
    /// Log in with a login name and password
    #[oai(path = "/api/auth/login", method = "post")]
    async fn login(&self, remote: &RemoteAddr, body: JsonBody<LoginRequest>) -> Reply<TokenData> {
        let issued = self.0.identity.login_with_username(&client_key(remote), "system", &body.loginname, &body.password).await?;
        ok(issued.into())
    }

    /// Log out: the token stops working at once
    #[oai(path = "/api/auth/logout", method = "post")]
    async fn logout(&self, token: SystemToken) -> Reply<serde_json::Value> {
        self.0.identity.logout(&token.0.token).await?;
        ok(serde_json::Value::Null)
    }

    /// Create the first super-administrator with the one-time setup link's token
    #[oai(path = "/api/setup", method = "post")]
    async fn setup(&self, body: JsonBody<SetupRequest>) -> Reply<TokenData> {
        let SetupRequest { token, loginname, password, phone } = body.0;
        if loginname.trim().is_empty() {
            return Err(Failure::Invalid("loginname must not be empty".into()).into());
        }
        if password.chars().count() < 8 {
            return Err(Failure::Invalid("password must have at least 8 characters".into()).into());
        }
        if phone.as_deref().is_some_and(|p| !is_mainland_mobile(p)) {
            return Err(Failure::Invalid("phone must be an 11-digit mobile number".into()).into());
        }
        let hash = self.0.identity.passwords.hash(&password).await?;
        let account_id = self
            .0
            .db
            .write(move |tx| {
                if !setup::redeem(tx, &token)? {
                    return Err(Failure::Forbidden(
                        "this setup link is not valid: it was used, it expired, or an administrator already exists".into(),
                    ));
                }
                Ok(accounts::upsert_super_admin(tx, loginname.trim(), &hash, phone.as_deref())?)
            })
            .await?;
        let issued = self.0.identity.open_jwt_session(account_id, "system").await?;
        ok(issued.into())
    }
}
