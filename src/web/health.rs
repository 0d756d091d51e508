//! `GET /health`: 200 only after a real round trip to the database.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{handler, IntoResponse, Response};

use crate::db::DbError;
use crate::AppState;

#[handler]
pub async fn health(app: Data<&Arc<AppState>>) -> Response {
    let answer = app.db.read(|c| Ok::<i64, DbError>(c.query_row("SELECT 1", [], |r| r.get(0))?)).await;
    let version = env!("CARGO_PKG_VERSION");
    match answer {
        Ok(1) => Json(serde_json::json!({ "status": "ok", "version": version })).into_response(),
        other => {
            let reason = other.err().map_or_else(|| "unexpected answer".to_owned(), |e| e.to_string());
            tracing::error!(%reason, "health check failed");
            Json(serde_json::json!({ "status": "unavailable", "version": version, "reason": reason }))
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
                .into_response()
        }
    }
}
