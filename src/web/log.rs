//! One log line per request: method, path with secrets masked, status, latency, request id.
//! Bodies are never logged, and query values that may be secrets are replaced by `***`.
//! Every answer leaves here with the security headers of `headers.rs`, and is counted in
//! the request metrics (`metrics.rs`) when they are on.

use std::io::IsTerminal;
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::identity::tokens::random_hex;

const SECRET_PARAMS: &[&str] =
    &["token", "password", "pass", "pwd", "secret", "appsecret", "hash", "code", "access_token", "key", "signature"];

/// Lines the writer thread may fall behind by. The buffer is allocated and touched whole at
/// start (32 bytes a line): tracing-appender's default of 128,000 lines held 4 MB of an idle
/// box's memory. A second of a busy box's request lines fits in this many.
const BUFFERED_LINES: usize = 8192;

/// Sets the process's log output up: lines go to a background thread that writes stdout,
/// so a slow terminal, pipe or journald never holds up a request. Should that thread fall a
/// whole buffer behind, lines are dropped (and counted by tracing-appender) rather than
/// making requests wait. Colour codes only reach a terminal. Keep the guard until the process
/// ends: dropping it writes out what is still buffered.
pub fn init(filter: &str, format: &str) -> anyhow::Result<tracing_appender::non_blocking::WorkerGuard> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).map_err(|e| anyhow::anyhow!("log filter: {e}"))?;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    if format == "json" {
        // Flattened: `message` and the event's fields sit beside `level` and `target`.
        builder.json().flatten_event(true).with_ansi(false).try_init()
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        builder.with_ansi(colour).try_init()
    }
    .map_err(|e| anyhow::anyhow!("setting up the log: {e}"))?;
    Ok(guard)
}

pub async fn log_request<E: Endpoint>(ep: std::sync::Arc<E>, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let request_id = random_hex(6);
    let method = req.method().clone();
    let path = masked_path(req.uri());
    let metered = super::metrics::enabled().then(|| req.uri().path().to_owned());
    // Errors carry their own response (each surface's guard has already enveloped its own).
    let mut response = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    if let Some(raw_path) = metered {
        let label = response.extensions_mut().remove::<super::metrics::RouteLabel>();
        let label = label.unwrap_or_else(|| super::metrics::label_of(&raw_path));
        super::metrics::record_request(label, &method, response.status(), started.elapsed());
    }
    let headers = response.headers_mut();
    headers.insert("x-request-id", HeaderValue::from_str(&request_id).expect("hex"));
    super::headers::secure(headers);
    tracing::info!(
        target: "hearth::request",
        %method,
        path = %path,
        status = response.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        request_id = %request_id,
        "answered"
    );
    Ok(response)
}

pub fn masked_path(uri: &poem::http::Uri) -> String {
    let Some(query) = uri.query() else { return uri.path().to_owned() };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str()) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), masked.join("&"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_query_values_are_masked() {
        let uri: poem::http::Uri = "/care/api/notice?token=abc123&x=1&Hash=ff".parse().unwrap();
        assert_eq!(super::masked_path(&uri), "/care/api/notice?token=***&x=1&Hash=***");
    }
}
