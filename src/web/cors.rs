//! CORS for the origins listed in `cors_origins`, and only when some are. A request from
//! any other origin goes through untouched: without CORS headers the browser keeps the
//! answer from that page anyway, and refusing it outright would also refuse the admin UI's
//! own requests, which browsers send with an `Origin` header too.

use std::collections::HashSet;
use std::sync::Arc;

use poem::http::header::{self, HeaderValue};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, Middleware, Request, Response};

const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// What the documents' clients send: tokens, bodies, SSE resumption, ranged audio.
const REQUEST_HEADERS: &str = "Authorization, Content-Type, Last-Event-ID, Range, If-None-Match";
/// What a partner page may read besides the simple headers.
const EXPOSED: &str = "Retry-After, X-Request-Id, Content-Disposition, Content-Range";
const MAX_AGE_SECS: &str = "600";

pub struct Cors {
    allowed: Arc<HashSet<HeaderValue>>,
}

impl Cors {
    pub fn new(origins: &[String]) -> Cors {
        Cors { allowed: Arc::new(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect()) }
    }
}

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> CorsEndpoint<E> {
        CorsEndpoint { inner, allowed: self.allowed.clone() }
    }
}

pub struct CorsEndpoint<E> {
    inner: E,
    allowed: Arc<HashSet<HeaderValue>>,
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let origin = req.headers().get(header::ORIGIN).filter(|o| self.allowed.contains(*o)).cloned();
        let preflight =
            req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut response = match (&origin, preflight) {
            (Some(_), true) => {
                let mut answer = Response::builder().status(StatusCode::NO_CONTENT).finish();
                let headers = answer.headers_mut();
                headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(REQUEST_HEADERS));
                headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
                answer
            }
            _ => self.inner.get_response(req).await,
        };
        let headers = response.headers_mut();
        // Answers differ by Origin, so shared caches must not mix them up.
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            if !preflight {
                headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
            }
        }
        Ok(response)
    }
}
