//! What is not a surface: health, metrics, the API documentation, the admin UI.

pub mod admin;
pub mod connections;
pub mod cors;
pub mod docs;
pub mod headers;
mod health;
pub mod log;
pub mod log_buffer;
pub mod metrics;

use std::sync::Arc;

use poem::{get, web::Redirect, EndpointExt, Route};

use crate::AppState;

pub fn routes(app: Arc<AppState>) -> Route {
    let names = crate::surfaces::registry::surfaces().iter().map(|s| s.name).collect();
    Route::new()
        .at("/", get(poem::endpoint::make_sync(|_| Redirect::see_other("/admin/"))))
        .at("/health", get(health::health).data(app.clone()))
        .at("/metrics", get(metrics::scrape).data(app))
        .nest("/docs", docs::endpoint(names))
        .at("/openapi/:file", get(docs::spec_file))
        .nest("/admin", admin::endpoint())
}
