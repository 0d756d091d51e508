//! `/transit` (seed 000): metro ridership. Success `{"code":2000,"data"}`, failure
//! `{"code":1000,"message"}`, HTTP 200 (413 for an oversized body).

use std::sync::Arc;

use poem::http::StatusCode;
use poem_openapi::{Object, OpenApiService};

use super::operations::audience_by_rules;
use super::{Failure, Surface};
use crate::identity::authz::Audience;
use crate::AppState;

pub struct Transit;

#[derive(Object)]
#[oai(rename = "TransitFailure")]
pub struct FailureBody {
    /// 1000 on failure
    code: i64,
    message: String,
}

impl Surface for Transit {
    const NAME: &'static str = "transit";
    const TITLE: &'static str = "地铁客流 Transit";
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        let http = if matches!(failure, Failure::TooLarge(_)) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::OK };
        (http, serde_json::json!({ "code": 1000, "message": failure.message() }))
    }

    fn audience(_method: &str, path: &str) -> Audience {
        if path.starts_with("/api/echarts/") {
            return Audience::Analyst;
        }
        audience_by_rules(path, &["/api/user/login", "/api/user/logout"], &["/api/manage", "/api/exports"])
    }
}

pub fn service(_app: Arc<AppState>) -> OpenApiService<(), ()> {
    OpenApiService::new((), "hearth transit", env!("CARGO_PKG_VERSION"))
        .description("Metro trips, stations, passengers and ECharts analytics (seed 000). Success {code: 2000, data}; failure {code: 1000, message}.")
        .server("/transit")
}
