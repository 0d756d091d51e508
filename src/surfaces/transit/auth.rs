//! Logging in and out, and who is signed in. The document only specifies login; logout
//! and user info follow its conventions (token in query, body or header).

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::OptionalExtension;

use super::JsonBody;
use super::LooseBody;
use super::{ack, data, signed_in, token_of, Ack, Data, Reply, Sent};
use crate::identity::authz::Operation;
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct AuthApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Object)]
struct TokenData {
    /// Send it back as `token` (query or JSON body) or `Authorization: Bearer`
    token: String,
}

#[derive(Object)]
struct UserInfo {
    id: i64,
    username: String,
    name: String,
    /// Names of the account's roles
    roles: Vec<String>,
    /// Whether the account may manage data and export (管理员 or 超级管理员)
    is_admin: bool,
}

#[OpenApi]
impl AuthApi {
    /// Log in with a username and password
    #[oai(path = "/api/userprofile/login", method = "post")]
    async fn login(&self, remote: &RemoteAddr, body: JsonBody<LoginRequest>) -> Reply<Data<TokenData>> {
        let issued =
            self.0.identity.login_with_username(&client_key(remote), "transit", &body.username, &body.password).await?;
        data(TokenData { token: issued.token })
    }

    /// Log out: the token stops working at once
    #[oai(path = "/api/userprofile/logout", method = "post")]
    async fn logout(
        &self,
        req: &Request,
        /// The token (or in the body, or `Authorization: Bearer`)
        #[oai(name = "token")]
        _token: Query<Option<String>>,
        body: LooseBody,
    ) -> Reply<Ack> {
        let body_token = body.text("token");
        let token = token_of(req, body_token.as_deref()).ok_or(Failure::NoToken)?;
        self.0.identity.authenticate_jwt(Some(&token)).await?;
        self.0.identity.logout(&token).await?;
        ack()
    }

    /// The signed-in account
    #[oai(path = "/api/userprofile/info", method = "get")]
    async fn info(
        &self,
        op: &Operation,
        req: &Request,
        /// The token (or `Authorization: Bearer`)
        #[oai(name = "token")]
        _token: Query<Option<String>>,
    ) -> Reply<Data<UserInfo>> {
        let (caller, _) = signed_in(&self.0, op, req, Sent::NONE, &[]).await?;
        let id = caller.account_id;
        let is_admin = caller.is_admin();
        let (username, name, roles) = self
            .0
            .db
            .read(move |c| {
                let row: Option<(Option<String>, String)> = c
                    .query_row("SELECT username, name FROM account WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let mut stmt = c.prepare(
                    "SELECT r.name FROM account_role ar JOIN role r ON r.id = ar.role_id WHERE ar.account_id = ?1 ORDER BY r.id",
                )?;
                let roles = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
                let (username, name) = row.ok_or(Failure::BadToken)?;
                Ok::<_, Failure>((username.unwrap_or_default(), name, roles))
            })
            .await?;
        data(UserInfo { id, username, name, roles, is_admin })
    }
}
