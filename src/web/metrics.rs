//! `GET /metrics` in the Prometheus text format. Off unless `metrics_token` is set: then the
//! recorder is installed at start, the series below are kept, and a scrape must send
//! `Authorization: Bearer <metrics_token>`. Without the setting nothing is recorded at all
//! (the `metrics` macros are no-ops without a recorder) and the path answers 404 like any
//! unknown one.
//!
//! Requests are labelled by surface and by the operation's documented *template* path
//! (`/music/api/music/{id}`), never by the raw path, so the number of series stays bounded by
//! the catalogue whatever clients send.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::{header, StatusCode};
use poem::web::Data;
use poem::{handler, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};

use crate::AppState;

pub const REQUESTS: &str = "hearth_http_requests_total";
pub const REQUEST_SECONDS: &str = "hearth_http_request_duration_seconds";
pub const POOL_WAIT_SECONDS: &str = "hearth_db_pool_wait_seconds";
pub const DB_CALLS_WAITING: &str = "hearth_db_calls_waiting";
pub const DB_CALLS_IN_FLIGHT: &str = "hearth_db_calls_in_flight";
pub const ALERT_MESSAGES: &str = "hearth_alert_messages_total";
pub const ALERTS_QUEUED: &str = "hearth_alerts_queued";
pub const WEBHOOK_ATTEMPTS: &str = "hearth_webhook_attempts_total";
pub const WEBHOOKS_PENDING: &str = "hearth_webhooks_pending";
pub const RSS_BYTES: &str = "hearth_process_resident_memory_bytes";

/// Request latencies on a small box: from a cached read to a slow upload.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Waiting for a database connection is normally nothing; a queue shows in the upper buckets.
const WAIT_BUCKETS: &[f64] = &[0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The recorder's handle, once a server with `metrics_token` has started in this process.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get()
}

/// Whether series are being recorded (callers skip building labels otherwise).
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// Installs the process-wide recorder (once; later servers in the same process share it).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(POOL_WAIT_SECONDS.into()), WAIT_BUCKETS))
            .expect("the bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder can only be there if an embedding program installed its own: then
        // hearth's series go to that one and /metrics shows what this handle holds.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only its own series");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(REQUESTS, "HTTP requests answered, by surface, method, operation template and status class");
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to the answer's headers, by surface, method and operation"
    );
    describe_histogram!(POOL_WAIT_SECONDS, Unit::Seconds, "Time a database call waited for a pooled connection");
    describe_gauge!(DB_CALLS_WAITING, "Database calls waiting for a pooled connection");
    describe_gauge!(DB_CALLS_IN_FLIGHT, "Database calls begun and not finished (waiting or on a blocking thread)");
    describe_counter!(ALERT_MESSAGES, "MQTT messages to Home Assistant: delivered (acknowledged) or dropped");
    describe_gauge!(ALERTS_QUEUED, "Care alerts waiting for the alert task");
    describe_counter!(
        WEBHOOK_ATTEMPTS,
        "Webhook delivery attempts: delivered, retry (failed, will retry), failed (gave up)"
    );
    describe_gauge!(WEBHOOKS_PENDING, "Webhook events waiting for delivery");
    describe_gauge!(RSS_BYTES, Unit::Bytes, "Resident set size of the process");
}

/// Drains histogram samples into their buckets, so memory stays flat between scrapes.
pub async fn upkeep_forever(handle: &'static PrometheusHandle) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// What the request log labels a request with: set by a surface's guard on its answers
/// (the resolved operation), else derived from the path by `label_of`.
#[derive(Clone)]
pub struct RouteLabel {
    pub surface: &'static str,
    /// `/surface/template`, or `unmatched` where no documented operation fits.
    pub operation: String,
}

/// Labels for the answers no surface guard labelled: hearth's own pages, by their first
/// segment, and everything else as one `other` series.
pub fn label_of(path: &str) -> RouteLabel {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let operation = match first {
        "" => "/",
        "health" => "/health",
        "metrics" => "/metrics",
        "admin" => "/admin",
        "docs" => "/docs",
        "openapi" => "/openapi",
        _ => "other",
    };
    RouteLabel { surface: "web", operation: operation.into() }
}

pub fn record_request(label: RouteLabel, method: &poem::http::Method, status: StatusCode, elapsed: Duration) {
    let class = match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    // Only the methods HTTP defines: anything else a client invents is one series.
    let method = match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    };
    let operation = label.operation;
    metrics::histogram!(REQUEST_SECONDS, "surface" => label.surface, "method" => method, "operation" => operation.clone())
        .record(elapsed.as_secs_f64());
    metrics::counter!(REQUESTS, "surface" => label.surface, "method" => method, "operation" => operation, "status" => class)
        .increment(1);
}

/// `GET /metrics`: 404 without `metrics_token`, 401 without the right Bearer token.
#[handler]
pub async fn scrape(req: &Request, app: Data<&Arc<AppState>>) -> Response {
    let (Some(token), Some(handle)) = (app.config.metrics_token.as_deref(), handle()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sent = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "));
    if !sent.is_some_and(|sent| same_secret(sent, token)) {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")
            .content_type("text/plain; charset=utf-8")
            .body("GET /metrics needs `Authorization: Bearer <metrics_token>`\n");
    }
    sample_gauges(&app).await;
    Response::builder().content_type("text/plain; version=0.0.4; charset=utf-8").body(handle.render())
}

/// Compares digests of both, byte by byte without an early exit, so the time taken says
/// nothing about how much of the token a guess got right (nor its length).
fn same_secret(sent: &str, token: &str) -> bool {
    let (a, b) = (Sha256::digest(sent.as_bytes()), Sha256::digest(token.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The gauges that are read at scrape time rather than kept up to date.
async fn sample_gauges(app: &AppState) {
    if let Some(rss) = crate::memory::rss_bytes() {
        metrics::gauge!(RSS_BYTES).set(rss as f64);
    }
    metrics::gauge!(ALERTS_QUEUED).set(app.alerts.queued() as f64);
    match app.db.read(|c| Ok::<_, crate::db::DbError>(crate::surfaces::open::webhooks::pending(c)?)).await {
        Ok(pending) => metrics::gauge!(WEBHOOKS_PENDING).set(pending as f64),
        Err(e) => tracing::warn!(error = %e, "counting pending webhooks for /metrics failed"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_by_content_only() {
        assert!(super::same_secret("abcdefghijklmnop", "abcdefghijklmnop"));
        assert!(!super::same_secret("abcdefghijklmnoq", "abcdefghijklmnop"));
        assert!(!super::same_secret("abc", "abcdefghijklmnop"));
        assert!(!super::same_secret("", "abcdefghijklmnop"));
    }
}
