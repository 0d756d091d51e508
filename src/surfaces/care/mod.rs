//! `/care` (seed 004): fall alerts from camera devices. Envelope `{"id","status","message",
//! "data"}`, status 0 = ok, negative = the document's global table, positive = an
//! endpoint's local table; always HTTP 200 (413 for an oversized body).

mod admin;
mod captcha;
mod delivery;
pub mod device;
pub(crate) mod envelope;
mod notice;
pub mod partner;
pub(crate) mod pictures;
mod portrait;
mod push;
pub mod retention;
mod stream;
mod user;

pub use notice::watchers;
pub use user::open_console_session;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::{Object, OpenApiService};
use tokio::sync::broadcast;

use super::documents::{Declared, ErrorCode};
use super::{Failure, Refusal, Surface};
use crate::config::Config;
use crate::identity::authz::Operation;
use crate::identity::ratelimit::FailureLimiter;
use crate::identity::Caller;
use crate::AppState;

pub struct Care;

/// The document's global status table.
pub mod status {
    pub const MISSING_JSON_KEY: i64 = -1;
    pub const BAD_HASH: i64 = -4;
    pub const EMPTY_VALUE: i64 = -201;
    pub const BAD_DEVICE_TOKEN: i64 = -104;
    pub const STORAGE: i64 = -500;
    pub const BAD_JSON_VALUE: i64 = -2;
    pub const MISSING_DATA_KEY: i64 = -3;
    pub const WRONG_TYPE: i64 = -203;
    pub const NO_TOKEN: i64 = -100;
    pub const BAD_TOKEN: i64 = -101;
    pub const NO_PERMISSION: i64 = -103;
    pub const DATABASE: i64 = -200;
    pub const BAD_VALUE: i64 = -204;
}

#[derive(Object)]
#[oai(rename = "CareFailure")]
pub struct FailureBody {
    /// The request's id, or -1
    id: i64,
    /// Negative: the global status table; positive: the endpoint's local table
    status: ErrorCode<0>,
    message: String,
    data: envelope::Empty,
}

impl Surface for Care {
    const NAME: &'static str = "care";
    const TITLE: &'static str = "跌倒警报 Care";

    fn spec(app: &Arc<AppState>) -> String {
        service(app.clone()).spec()
    }

    fn routes(app: Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response> {
        use poem::EndpointExt;
        super::documents::mount(apis(app)).map_to_response().boxed()
    }
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        use status::*;
        let code = match failure {
            Failure::Code(code, _) => *code,
            Failure::Malformed(_) | Failure::UnknownRoute | Failure::MethodNotAllowed | Failure::TooLarge(_) => {
                BAD_JSON_VALUE
            }
            Failure::Missing(_) => MISSING_DATA_KEY,
            Failure::WrongType(_) => WRONG_TYPE,
            Failure::Invalid(_) | Failure::Conflict(_) | Failure::NotFound(_) => BAD_VALUE,
            Failure::NoToken => NO_TOKEN,
            Failure::BadToken | Failure::TokenExpired => BAD_TOKEN,
            Failure::WrongCredentials => 101,
            Failure::AccountDisabled
            | Failure::AccountBanned
            | Failure::Forbidden(_)
            | Failure::RateLimited(_)
            | Failure::Busy => NO_PERMISSION,
            Failure::Internal(_) => DATABASE,
        };
        let http = if matches!(failure, Failure::TooLarge(_)) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
        (http, serde_json::json!({ "id": -1, "status": code, "message": failure.message(), "data": {} }))
    }

    fn failure_statuses() -> &'static [u16] {
        &[200, 413]
    }

    const ECHOES_REQUEST: bool = true;

    fn echo(answer: &mut serde_json::Value, request_body: &[u8]) {
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(request_body) {
            if let Some(id) = fields.get("id") {
                answer["id"] = envelope::echo_id(id).into();
            }
        }
    }

    /// Care session tokens travel in the query (`?token=`).
    fn credential(req: &Request, _body: Option<&[u8]>) -> Result<Option<String>, Failure> {
        Ok(query_token(req))
    }

    /// `user/info` and `user/doki` answer a bad token with status 1, as their tables say.
    fn refusal(op: &Operation, failure: Failure) -> Refusal {
        Refusal::Envelope(match op.path.as_str() {
            "/api/user/info" if op.method == "GET" => user::own_token_status(failure, user::INFO_TOKEN_REFUSAL),
            "/api/user/doki" => user::own_token_status(failure, user::DOKI_TOKEN_REFUSAL),
            _ => failure,
        })
    }

    #[allow(clippy::manual_async_fn)] // the trait asks for a Send future, which `async fn` cannot promise
    fn authenticate(
        app: &AppState,
        credential: Option<String>,
    ) -> impl Future<Output = Result<Caller, Failure>> + Send {
        async move { Ok(app.identity.authenticate_session(care_token(credential.as_deref())?).await?) }
    }

    /// A camera's snapshot may be megabytes: its device token is checked before the body is read.
    fn admit_upload(
        app: &AppState,
        req: &Request,
        op: &Operation,
    ) -> impl Future<Output = Option<Result<(), Failure>>> + Send {
        let (upload, client, token) =
            (op.path == "/api/notice", super::client::client_key(req.remote_addr()), query_token(req));
        async move {
            if !upload {
                return None;
            }
            Some(device::authenticate(app, &client, token.as_deref()).await.map(|_| ()))
        }
    }
}

/// What the care surface keeps between requests, per running app.
pub struct CareState {
    /// The id of each new notice, sent after its row is committed; streams wake on it.
    pub alerts: broadcast::Sender<i64>,
    /// Failed logins per phone: past `CAPTCHA_AFTER` the login also needs an image captcha.
    login_failures: FailureLimiter,
    /// Wrong SMS hashes per phone, so a 5-digit code cannot be guessed in its 3 minutes.
    sms_failures: FailureLimiter,
    /// SMS codes sent per phone, so nobody can flood a phone with messages.
    sms_sends: FailureLimiter,
    /// SMS codes asked for per client address, so nobody can flood many phones either.
    sms_clients: FailureLimiter,
    /// Wrong device tokens per client address, so the LAN cannot guess a camera's token.
    device_failures: FailureLimiter,
}

/// Failed logins for one phone within 15 minutes before an image captcha is required.
const CAPTCHA_AFTER: u32 = 5;

impl CareState {
    pub fn new(config: &Config) -> CareState {
        let quarter = Duration::from_secs(900);
        let sms_window = Duration::from_secs(config.sms_window_secs);
        CareState {
            alerts: broadcast::channel(256).0,
            login_failures: FailureLimiter::new(CAPTCHA_AFTER, quarter),
            sms_failures: FailureLimiter::new(10, quarter),
            sms_sends: FailureLimiter::new(config.sms_max_per_phone, sms_window),
            sms_clients: FailureLimiter::new(config.sms_max_per_client, sms_window),
            device_failures: FailureLimiter::new(
                config.device_max_failures,
                Duration::from_secs(config.device_window_secs),
            ),
        }
    }
}

impl Default for CareState {
    fn default() -> Self {
        CareState::new(&Config::default())
    }
}

fn query_token(req: &Request) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct TokenQuery {
        token: Option<String>,
    }
    req.params::<TokenQuery>().ok()?.token
}

/// Care tokens are 32 hex digits; anything else (a JWT of another surface) is not one.
fn care_token(token: Option<&str>) -> Result<String, Failure> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(Failure::NoToken)?;
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::BadToken);
    }
    Ok(token.to_ascii_lowercase())
}

/// The caller behind a care session token, if its roles grant the operation. Any
/// authenticated call slides the token's idle expiry.
pub async fn signed_in(app: &AppState, op: &Operation, token: Option<&str>) -> Result<Caller, Failure> {
    let caller = app.identity.authenticate_session(care_token(token)?).await?;
    app.identity.authorize(&caller, op).await?;
    Ok(caller)
}

type Apis = (
    captcha::CaptchaApi,
    user::UserApi,
    portrait::PortraitApi,
    device::DeviceApi,
    notice::NoticeApi,
    stream::StreamApi,
    admin::AdminApi,
    push::PushApi,
);

/// The surface's operations: mounted by `routes`, described by `service`.
fn apis(app: Arc<AppState>) -> Declared<Apis> {
    Declared((
        captcha::CaptchaApi(app.clone()),
        user::UserApi(app.clone()),
        portrait::PortraitApi(app.clone()),
        device::DeviceApi(app.clone()),
        notice::NoticeApi(app.clone()),
        stream::StreamApi(app.clone()),
        admin::AdminApi(app.clone()),
        push::PushApi(app),
    ))
}

pub fn service(app: Arc<AppState>) -> OpenApiService<Declared<Apis>, ()> {
    OpenApiService::new(apis(app), "hearth care", env!("CARGO_PKG_VERSION"))
        .description("Elderly fall alerts from camera devices (seed 004). Every answer is {id, status, message, data}, HTTP 200.")
        .server("/care")
}
