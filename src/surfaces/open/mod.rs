//! `/open` (seed 003): the open platform for partner companies. Envelope `{"code","message",
//! "data","timestamp"}`, code 1 success, errors from the document's table, HTTP 200 (413
//! for an oversized body); `timestamp` is a 13-digit millisecond string.

pub mod access;
pub mod apps;
mod care;
mod music;
mod token;
mod transit;
pub mod webhooks;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use poem_openapi::{Object, OpenApiService};

use super::documents::{Declared, ErrorCode};
use super::{Failure, Surface};
use crate::clock::now_millis;
use crate::AppState;

pub struct Open;

/// The document's global error codes.
pub mod code {
    pub const BUSY: i64 = -1;
    pub const SERVER_ERROR: i64 = -30;
    pub const NOT_FOUND: i64 = 404;
    pub const TOKEN_EXPIRED: i64 = 10002;
    pub const BAD_TOKEN: i64 = 10003;
    pub const BAD_PARAMETERS: i64 = 12004;
    pub const NO_SUCH_USER: i64 = 15000;
    pub const NOT_AUTHORIZED: i64 = 16000;
}

#[derive(Object)]
#[oai(rename = "OpenFailure")]
pub struct FailureBody {
    /// An error code from the document's table
    code: ErrorCode<1>,
    message: String,
    data: serde_json::Value,
    /// 13-digit millisecond timestamp
    timestamp: String,
}

impl Surface for Open {
    const NAME: &'static str = "open";
    const TITLE: &'static str = "开放平台 Open platform";

    fn spec(app: &Arc<AppState>) -> String {
        service(app.clone()).spec()
    }

    fn routes(app: Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response> {
        use poem::EndpointExt;
        super::documents::mount(apis(app)).map_to_response().boxed()
    }
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        use code::*;
        let code = match failure {
            Failure::Code(code, _) => *code,
            Failure::Malformed(_)
            | Failure::Missing(_)
            | Failure::WrongType(_)
            | Failure::Invalid(_)
            | Failure::TooLarge(_)
            | Failure::Conflict(_) => BAD_PARAMETERS,
            Failure::NoToken | Failure::BadToken => BAD_TOKEN,
            Failure::TokenExpired => TOKEN_EXPIRED,
            Failure::WrongCredentials | Failure::AccountDisabled | Failure::AccountBanned => NO_SUCH_USER,
            Failure::Forbidden(_) => NOT_AUTHORIZED,
            Failure::NotFound(_) | Failure::UnknownRoute | Failure::MethodNotAllowed => NOT_FOUND,
            Failure::RateLimited(_) | Failure::Busy => BUSY,
            Failure::Internal(_) => SERVER_ERROR,
        };
        let http = if matches!(failure, Failure::TooLarge(_)) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
        let body = serde_json::json!({ "code": code, "message": failure.message(), "data": null, "timestamp": now_millis().to_string() });
        (http, body)
    }

    /// Partner apps authenticate with client credentials and scopes, not accounts: their
    /// operations are declared for apps (`access.rs`) and each handler takes the app token.
    fn credential(_req: &Request, _body: Option<&[u8]>) -> Result<Option<String>, Failure> {
        Ok(None)
    }
}

#[derive(Object)]
pub struct Envelope<T: Type + ParseFromJSON + ToJSON> {
    /// 1: failures are answered in the `OpenFailure` shape
    #[oai(validator(minimum(value = "1"), maximum(value = "1")))]
    pub code: i64,
    /// "成功" on success
    pub message: String,
    pub data: T,
    /// 13-digit millisecond timestamp
    pub timestamp: String,
    /// Number of rows in all pages, on list answers
    #[oai(skip_serializing_if_is_none)]
    pub total: Option<i64>,
}

pub type Reply<T> = Result<Json<Envelope<T>>, super::ApiError<Open>>;

pub fn ok<T: Type + ParseFromJSON + ToJSON>(data: T) -> Reply<T> {
    Ok(Json(Envelope { code: 1, message: "成功".into(), data, timestamp: now_millis().to_string(), total: None }))
}

pub fn page<T: Type + ParseFromJSON + ToJSON>(data: T, total: i64) -> Reply<T> {
    Ok(Json(Envelope {
        code: 1,
        message: "成功".into(),
        data,
        timestamp: now_millis().to_string(),
        total: Some(total),
    }))
}

/// `pageNum`/`pageSize` with this surface's default page of 50.
pub fn paging(page_num: Option<i64>, page_size: Option<i64>) -> Result<(i64, i64), Failure> {
    super::paging::paging(page_num, page_size, 50)
}

type Apis = (token::TokenApi, care::CareReadApi, music::MusicReadApi, transit::TransitReadApi);

/// The surface's operations: mounted by `routes`, described by `service`.
fn apis(app: Arc<AppState>) -> Declared<Apis> {
    Declared((
        token::TokenApi(app.clone()),
        care::CareReadApi(app.clone()),
        music::MusicReadApi(app.clone()),
        transit::TransitReadApi(app),
    ))
}

pub fn service(app: Arc<AppState>) -> OpenApiService<Declared<Apis>, ()> {
    OpenApiService::new(apis(app), "hearth open platform", env!("CARGO_PKG_VERSION"))
        .description("Read API for partner companies (seed 003): client-credential JWTs, every answer {code, message, data, timestamp}, code 1 success.")
        .server("/open")
}
