//! `GET /health`: 200 only after a real round trip to the database.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{handler, IntoResponse, Response};

use crate::AppState;

/// The healthy answer never changes while the process runs.
const HEALTHY: &str = concat!(r#"{"status":"ok","version":""#, env!("CARGO_PKG_VERSION"), r#""}"#);

#[handler]
pub async fn health(app: Data<&Arc<AppState>>) -> Response {
    let answer = app.db.ping().await;
    let version = env!("CARGO_PKG_VERSION");
    match answer {
        Ok(1) => Response::builder().content_type("application/json; charset=utf-8").body(HEALTHY),
        other => {
            let reason = other.err().map_or_else(|| "unexpected answer".to_owned(), |e| e.to_string());
            tracing::error!(%reason, "health check failed");
            Json(serde_json::json!({ "status": "unavailable", "version": version, "reason": reason }))
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_healthy_answer_is_the_documented_json() {
        let answer: serde_json::Value = serde_json::from_str(super::HEALTHY).unwrap();
        assert_eq!(answer, serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }));
    }
}
