//! One log line per request: method, path with secrets masked, status, latency, request id.
//! Bodies are never logged, and query values that may be secrets are replaced by `***`.
//! Every answer leaves here with the security headers of `headers.rs`.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::identity::tokens::random_hex;

const SECRET_PARAMS: &[&str] =
    &["token", "password", "pass", "pwd", "secret", "appsecret", "hash", "code", "access_token", "key", "signature"];

pub async fn log_request<E: Endpoint>(ep: std::sync::Arc<E>, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let request_id = random_hex(6);
    let method = req.method().clone();
    let path = masked_path(req.uri());
    // Errors carry their own response (each surface's guard has already enveloped its own).
    let mut response = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
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
