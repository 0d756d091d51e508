//! `/system` (seed 001): users, roles, permissions, departments. Envelope
//! `{"code":0,"message":"SUCC","data"}`, code -1 on any failure, always HTTP 200.

mod app_passwords;
mod auth;
mod backups;
mod data_roles;
mod depts;
mod music_scan;
mod open_apps;
mod permissions;
mod push;
mod roles;
mod sms;
mod users;

pub use auth::is_mainland_mobile;
pub use push::{no_subscription, PushKey, PushSubscriptionBody, PushSubscriptionInfo};

use std::sync::Arc;

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use poem_openapi::{auth::ApiKey, Object, OpenApiService, SecurityScheme};

use super::documents::{Declared, ErrorCode};
use super::{ApiError, Failure, Surface};
use crate::identity::authz::Operation;
use crate::identity::Caller;
use crate::AppState;

pub struct System;

impl Surface for System {
    const NAME: &'static str = "system";
    const TITLE: &'static str = "系统设置 System";

    fn spec(app: &Arc<AppState>) -> String {
        service(app.clone()).spec()
    }

    fn routes(app: Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response> {
        use poem::EndpointExt;
        super::documents::mount(apis(app)).map_to_response().boxed()
    }
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        let http = if matches!(failure, Failure::TooLarge(_)) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
        (http, serde_json::json!({ "code": -1, "message": failure.message(), "data": null }))
    }

    /// `Authorization: Bearer <jwt>`, or the raw JWT as music takes it.
    fn credential(req: &Request, _body: Option<&[u8]>) -> Result<Option<String>, Failure> {
        Ok(super::authorization(req))
    }
}

#[derive(Object)]
#[oai(rename = "SystemFailure")]
pub struct FailureBody {
    /// -1
    code: ErrorCode<0>,
    /// What went wrong
    message: String,
    /// null
    data: Option<serde_json::Value>,
}

#[derive(Object)]
pub struct Envelope<T: Type + ParseFromJSON + ToJSON> {
    /// 0: failures are answered in the `SystemFailure` shape
    #[oai(validator(minimum(value = "0"), maximum(value = "0")))]
    pub code: i64,
    /// "SUCC"
    pub message: String,
    pub data: Option<T>,
    /// Number of rows in all pages, on list answers
    #[oai(skip_serializing_if_is_none)]
    pub total: Option<i64>,
}

pub type Reply<T> = Result<Json<Envelope<T>>, ApiError<System>>;

pub fn ok<T: Type + ParseFromJSON + ToJSON>(data: T) -> Reply<T> {
    Ok(Json(Envelope { code: 0, message: "SUCC".into(), data: Some(data), total: None }))
}

pub fn page<T: Type + ParseFromJSON + ToJSON>(data: T, total: i64) -> Reply<T> {
    Ok(Json(listed(data, total)))
}

/// A list answer's envelope: the rows and how many there are in all pages.
fn listed<T: Type + ParseFromJSON + ToJSON>(data: T, total: i64) -> Envelope<T> {
    Envelope { code: 0, message: "SUCC".into(), data: Some(data), total: Some(total) }
}

pub use super::paging::paging;

/// A list answer rendered once and then answered as the same bytes for as long as the
/// watched tables it was read from stay unchanged (`Db::generation`): a list of roles is
/// read far more often than roles change. Documented exactly as `Json<Envelope<T>>`.
pub struct Rendered<T>(bytes::Bytes, std::marker::PhantomData<fn() -> T>);

pub type RenderedReply<T> = Result<Rendered<T>, ApiError<System>>;

/// The kept rendering of a list of watched rows.
pub type KeptList = crate::db::Snapshot<bytes::Bytes>;

/// The list `read` answers, from `kept` while no watched row has changed since it was read.
/// `read` must read watched tables only (`identity::callers::affects_callers`).
pub async fn kept_list<T, F>(app: &AppState, kept: &KeptList, read: F) -> RenderedReply<Vec<T>>
where
    T: Type + ParseFromJSON + ToJSON + Send + 'static,
    F: FnOnce(&rusqlite::Connection) -> Result<Vec<T>, Failure> + Send + 'static,
{
    // Read before the rows: a change committed after this was read under a newer number.
    let generation = app.db.generation();
    if let Some(body) = kept.current(generation) {
        return Ok(Rendered(bytes::Bytes::clone(&body), std::marker::PhantomData));
    }
    let rows = app.db.read_small(read).await?;
    let total = rows.len() as i64;
    let body = bytes::Bytes::from(
        serde_json::to_vec(&listed(rows, total).to_json()).map_err(|e| Failure::Internal(e.to_string()))?,
    );
    kept.keep(Arc::new(body.clone()), generation);
    Ok(Rendered(body, std::marker::PhantomData))
}

impl<T: Send> poem::IntoResponse for Rendered<T> {
    fn into_response(self) -> poem::Response {
        // The content type `Json` answers with, so a kept answer is the answer byte for byte.
        poem::Response::builder().content_type("application/json; charset=utf-8").body(self.0)
    }
}

impl<T: Type + ParseFromJSON + ToJSON + Send> poem_openapi::ApiResponse for Rendered<T> {
    fn meta() -> poem_openapi::registry::MetaResponses {
        <Json<Envelope<T>> as poem_openapi::ApiResponse>::meta()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <Json<Envelope<T>> as poem_openapi::ApiResponse>::register(registry);
    }
}

/// `Authorization: Bearer <jwt>` from `POST /system/api/auth/login` (the raw JWT is accepted
/// too, as on music).
// The guard has authenticated the token before any handler runs; the scheme carries the
// caller the guard admitted, so a handler never checks the token a second time.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "Authorization", key_in = "header", checker = "admitted")]
pub struct SystemToken(Admitted);

pub struct Admitted {
    /// None on a public operation (logout), whose handler checks the token itself.
    caller: Option<Caller>,
    /// The header as sent.
    key: String,
}

async fn admitted(req: &Request, key: ApiKey) -> Option<Admitted> {
    Some(Admitted { caller: req.extensions().get::<Caller>().cloned(), key: key.key })
}

impl SystemToken {
    /// The caller the guard admitted.
    pub fn caller(&self) -> Result<Caller, ApiError<System>> {
        self.0.caller.clone().ok_or_else(|| Failure::NoToken.into())
    }

    pub fn key(&self) -> &str {
        &self.0.key
    }
}

/// The caller behind a system token, if its roles grant the operation. The guard has checked
/// this already for operations granted by permission; checking again costs a look-up in the
/// kept grants and keeps a handler safe if its operation's audience is ever declared wrong.
async fn permitted(app: &AppState, op: &Operation, token: &SystemToken) -> Result<Caller, ApiError<System>> {
    let caller = token.caller()?;
    app.identity.authorize(&caller, op).await?;
    Ok(caller)
}

type Apis = (
    auth::AuthApi,
    users::UsersApi,
    roles::RolesApi,
    permissions::PermissionsApi,
    data_roles::DataRolesApi,
    depts::DeptsApi,
    sms::SmsApi,
    open_apps::OpenAppsApi,
    backups::BackupsApi,
    music_scan::MusicScanApi,
    push::PushApi,
    app_passwords::AppPasswordsApi,
);

/// The surface's operations: mounted by `routes`, described by `service`.
fn apis(app: Arc<AppState>) -> Declared<Apis> {
    Declared((
        auth::AuthApi::new(app.clone()),
        users::UsersApi(app.clone()),
        roles::RolesApi(app.clone(), KeptList::default()),
        permissions::PermissionsApi(app.clone()),
        data_roles::DataRolesApi(app.clone(), KeptList::default()),
        depts::DeptsApi(app.clone()),
        sms::SmsApi(app.clone()),
        open_apps::OpenAppsApi(app.clone()),
        backups::BackupsApi(app.clone()),
        music_scan::MusicScanApi(app.clone()),
        push::PushApi(app.clone()),
        app_passwords::AppPasswordsApi(app),
    ))
}

pub fn service(app: Arc<AppState>) -> OpenApiService<Declared<Apis>, ()> {
    OpenApiService::new(apis(app), "hearth system", env!("CARGO_PKG_VERSION"))
        .description("Users, roles, permissions, data roles and departments (seed 001). Every answer is {code, message, data}: code 0 success, -1 failure, HTTP 200.")
        .server("/system")
}
