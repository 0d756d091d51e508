//! `/music` (seed 002): music recommendation. Envelope `{"code","status","message","data"}`:
//! code 0 success, 1 failure; `status` repeats the HTTP status, which is a real one here
//! (401 when not logged in, 403 when not allowed, …).

use std::sync::Arc;

use poem::http::StatusCode;
use poem_openapi::{Object, OpenApiService};

use super::operations::audience_by_rules;
use super::{Failure, Surface};
use crate::identity::authz::Audience;
use crate::AppState;

pub struct Music;

#[derive(Object)]
#[oai(rename = "MusicFailure")]
pub struct FailureBody {
    /// 1 on failure
    code: i64,
    /// The HTTP status
    status: i64,
    message: String,
    data: serde_json::Value,
}

impl Surface for Music {
    const NAME: &'static str = "music";
    const TITLE: &'static str = "音乐 Music";
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        let http = failure.http_status();
        (http, serde_json::json!({ "code": 1, "status": http.as_u16(), "message": failure.message(), "data": null }))
    }

    fn failure_statuses() -> &'static [u16] {
        &[400, 401, 403, 404, 413, 429, 500]
    }

    fn audience(_method: &str, path: &str) -> Audience {
        audience_by_rules(path, &["/api/user/signup", "/api/user/login"], &["/api/univer/banuser", "/api/univer/permission", "/api/univer/reject"])
    }
}

pub fn service(_app: Arc<AppState>) -> OpenApiService<(), ()> {
    OpenApiService::new((), "hearth music", env!("CARGO_PKG_VERSION"))
        .description("Music library, playlists and recommendations (seed 002). Every answer is {code, status, message, data}; status is the HTTP status.")
        .server("/music")
}
