//! One log line per request: method, path with secrets masked, status, latency, request id.
//! Bodies are never logged, and query values that may be secrets are replaced by `***`.
//! Every answer leaves here with the security headers of `headers.rs`, and is counted in
//! the request metrics (`metrics.rs`) when they are on.

use std::io::IsTerminal;
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};

use rand::Rng;

const SECRET_PARAMS: &[&str] =
    &["token", "password", "pass", "pwd", "secret", "appsecret", "hash", "code", "access_token", "key", "signature"];

/// Sets the process's log output up: lines are buffered and written to stdout by a thread
/// of their own (`log_buffer.rs`), so a slow terminal, pipe or journald never holds up a
/// request. Colour codes only reach a terminal. Keep the guard until the process ends:
/// dropping it writes out what is still buffered.
pub fn init(filter: &str, format: &str) -> anyhow::Result<super::log_buffer::FlushOnDrop> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).map_err(|e| anyhow::anyhow!("log filter: {e}"))?;
    let (writer, guard) = super::log_buffer::buffered(std::io::stdout())?;
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
    let id = RequestId::new();
    let method = req.method().clone();
    let path = MaskedPath(req.uri().clone());
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
    headers.insert("x-request-id", HeaderValue::from_str(id.as_str()).expect("hex"));
    super::headers::secure(headers);
    tracing::info!(
        target: "hearth::request",
        %method,
        path = %path,
        status = response.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        request_id = %id.as_str(),
        "answered"
    );
    Ok(response)
}

/// Twelve random hex digits naming a request in its answer and its log line, written on the
/// stack: the request path allocates nothing it does not send.
struct RequestId([u8; 12]);

impl RequestId {
    fn new() -> RequestId {
        let mut digits = [0u8; 12];
        hex::encode_to_slice(rand::thread_rng().gen::<[u8; 6]>(), &mut digits).expect("6 bytes are 12 digits");
        RequestId(digits)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits")
    }
}

/// A request's path and query as logged: values of query parameters that may be secrets
/// are replaced by `***`. Written straight into the log line, without a copy of its own.
pub struct MaskedPath(pub poem::http::Uri);

impl std::fmt::Display for MaskedPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.path())?;
        let Some(query) = self.0.query() else { return Ok(()) };
        for (n, pair) in query.split('&').enumerate() {
            f.write_str(if n == 0 { "?" } else { "&" })?;
            match pair.split_once('=') {
                Some((name, _)) if SECRET_PARAMS.iter().any(|secret| name.eq_ignore_ascii_case(secret)) => {
                    write!(f, "{name}=***")?
                }
                _ => f.write_str(pair)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_query_values_are_masked() {
        let uri: poem::http::Uri = "/care/api/notice?token=abc123&x=1&Hash=ff".parse().unwrap();
        assert_eq!(super::MaskedPath(uri).to_string(), "/care/api/notice?token=***&x=1&Hash=***");
        let plain: poem::http::Uri = "/health".parse().unwrap();
        assert_eq!(super::MaskedPath(plain).to_string(), "/health");
    }
}
