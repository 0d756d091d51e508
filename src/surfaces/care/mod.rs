//! `/care` (seed 004): fall alerts from camera devices. Envelope `{"id","status","message",
//! "data"}`, status 0 = ok, negative = the document's global table, positive = an
//! endpoint's local table; always HTTP 200 (413 for an oversized body).

use std::sync::Arc;

use poem::http::StatusCode;
use poem_openapi::{Object, OpenApiService};

use super::operations::audience_by_rules;
use super::{Failure, Surface};
use crate::identity::authz::Audience;
use crate::AppState;

pub struct Care;

/// The document's global status table.
pub mod status {
    pub const MISSING_JSON_KEY: i64 = -1;
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
    status: i64,
    message: String,
    data: serde_json::Value,
}

impl Surface for Care {
    const NAME: &'static str = "care";
    const TITLE: &'static str = "跌倒警报 Care";
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        use status::*;
        let code = match failure {
            Failure::Code(code, _) => *code,
            Failure::Malformed(_) | Failure::UnknownRoute | Failure::MethodNotAllowed | Failure::TooLarge(_) => BAD_JSON_VALUE,
            Failure::Missing(_) => MISSING_DATA_KEY,
            Failure::WrongType(_) => WRONG_TYPE,
            Failure::Invalid(_) | Failure::Conflict(_) | Failure::NotFound(_) => BAD_VALUE,
            Failure::NoToken => NO_TOKEN,
            Failure::BadToken | Failure::TokenExpired => BAD_TOKEN,
            Failure::WrongCredentials => 101,
            Failure::AccountDisabled | Failure::AccountBanned | Failure::Forbidden(_) | Failure::RateLimited(_) => NO_PERMISSION,
            Failure::Internal(_) => DATABASE,
        };
        let http = if matches!(failure, Failure::TooLarge(_)) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
        (http, serde_json::json!({ "id": -1, "status": code, "message": failure.message(), "data": {} }))
    }

    fn audience(_method: &str, path: &str) -> Audience {
        let public = ["/api/captcha", "/api/user/login", "/api/user/register", "/api/device/heartbeat", "/api/notice"];
        if path.starts_with("/api/get/portrait/") {
            return Audience::Public;
        }
        audience_by_rules(path, &public, &["/api/admin/"])
    }
}

pub fn service(_app: Arc<AppState>) -> OpenApiService<(), ()> {
    OpenApiService::new((), "hearth care", env!("CARGO_PKG_VERSION"))
        .description("Elderly fall alerts from camera devices (seed 004). Every answer is {id, status, message, data}, HTTP 200.")
        .server("/care")
}
