//! The five surfaces. Each declares how it speaks (`Surface`): its name and how a `Failure`
//! looks in its envelope. Everything else is shared: `ApiError<S>` for handler errors and
//! `guard` for the mount, which limits bodies, contains panics and renders every error
//! raised under the mount (parse errors, unknown routes, wrong methods, 413s) in the
//! surface's envelope.

pub mod body;
pub mod care;
pub mod client;
pub mod documents;
pub mod failure;
pub mod lenient;
pub mod music;
pub mod open;
pub mod operations;
pub mod paging;
pub mod pictures;
pub mod system;
pub mod transit;

use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use poem::http::{header, StatusCode};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;

pub use failure::Failure;

use crate::identity::authz::Audience;
use crate::AppState;

pub trait Surface: Send + Sync + 'static {
    const NAME: &'static str;
    /// The surface's name in the permission catalogue (its MODULE entry).
    const TITLE: &'static str;
    /// The documented shape of a failure, for the OpenAPI document.
    type ErrorBody: Type;
    /// A failure as this surface's HTTP status and JSON body.
    fn render(failure: &Failure) -> (StatusCode, serde_json::Value);
    /// The HTTP statuses failures may use (documented per operation).
    fn failure_statuses() -> &'static [u16] {
        &[200]
    }
    /// Who an operation is granted to when it first appears in the catalogue.
    fn audience(method: &str, path: &str) -> Audience;
    /// The surface's token always travels in `Authorization` (music), so an upload to an
    /// operation that needs a caller is refused before its body is read when the token
    /// does not work: nobody can make the server take in 64 MiB without signing in.
    const TOKEN_IN_HEADER: bool = false;
    /// Failures echo something of the request body (care's `id`), also when no handler ran.
    const ECHOES_REQUEST: bool = false;
    /// Copies what the envelope echoes from the request body into a rendered failure.
    fn echo(_answer: &mut serde_json::Value, _request_body: &[u8]) {}
}

/// The stored file names rows refer to, per bucket: the queries of the surfaces that own
/// those rows. A bucket no surface claims is never swept.
fn file_references(bucket: crate::files::Bucket) -> &'static [&'static str] {
    use crate::files::Bucket;
    match bucket {
        Bucket::Notices => &["SELECT file FROM notice"],
        Bucket::Portraits => &[
            "SELECT care_portrait FROM account WHERE care_portrait IS NOT NULL",
            "SELECT avatar FROM account WHERE avatar IS NOT NULL",
        ],
        Bucket::Songs => &["SELECT res_file FROM music_song"],
        Bucket::Covers => &[
            "SELECT cover_file FROM music_song WHERE cover_file IS NOT NULL",
            "SELECT cover_file FROM music_playlist WHERE cover_file IS NOT NULL",
        ],
    }
}

/// Removes upload files no row refers to (see `FileStore::sweep`); answers how many.
pub async fn sweep_orphan_files(app: &AppState) -> Result<usize, Failure> {
    let files = app.files.clone();
    app.db
        .read(move |conn| {
            let mut removed = 0;
            for bucket in crate::files::Bucket::ALL {
                let queries = file_references(bucket);
                if queries.is_empty() {
                    continue;
                }
                let mut referenced = std::collections::HashSet::new();
                for sql in queries {
                    let mut stmt = conn.prepare(sql)?;
                    for name in stmt.query_map([], |r| r.get::<_, String>(0))? {
                        referenced.insert(name?);
                    }
                }
                removed += files
                    .sweep(bucket, &referenced)
                    .map_err(|e| Failure::Internal(format!("sweeping uploads: {e}")))?;
            }
            Ok(removed)
        })
        .await
}

/// `Surface::TITLE` by surface name.
pub fn title(surface: &str) -> &'static str {
    match surface {
        "care" => care::Care::TITLE,
        "music" => music::Music::TITLE,
        "transit" => transit::Transit::TITLE,
        "system" => system::System::TITLE,
        "open" => open::Open::TITLE,
        _ => "",
    }
}

/// `Surface::audience` by surface name.
pub fn audience(surface: &str, method: &str, path: &str) -> Audience {
    match surface {
        "care" => care::Care::audience(method, path),
        "music" => music::Music::audience(method, path),
        "transit" => transit::Transit::audience(method, path),
        "system" => system::System::audience(method, path),
        "open" => open::Open::audience(method, path),
        _ => Audience::Admin,
    }
}

/// A handler error that answers in surface `S`'s envelope.
pub struct ApiError<S: Surface> {
    pub failure: Failure,
    surface: PhantomData<fn() -> S>,
}

pub type ApiResult<S, T> = Result<T, ApiError<S>>;

impl<S: Surface> ApiError<S> {
    pub fn new(failure: Failure) -> Self {
        ApiError { failure, surface: PhantomData }
    }
}

impl<S: Surface, F: Into<Failure>> From<F> for ApiError<S> {
    fn from(f: F) -> Self {
        ApiError::new(f.into())
    }
}

impl<S: Surface> std::fmt::Debug for ApiError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", S::NAME, self.failure)
    }
}

impl<S: Surface> std::fmt::Display for ApiError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.failure.message())
    }
}

impl<S: Surface> std::error::Error for ApiError<S> {}

pub fn render<S: Surface>(failure: &Failure) -> Response {
    let (status, body) = S::render(failure);
    let mut response =
        Response::builder().status(status).content_type("application/json; charset=utf-8").body(body.to_string());
    match failure {
        Failure::RateLimited(secs) => {
            response.headers_mut().insert(header::RETRY_AFTER, secs.to_string().parse().expect("digits"));
        }
        Failure::Busy => {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}

fn render_echoing<S: Surface>(failure: &Failure, request_body: &[u8]) -> Response {
    let (status, mut body) = S::render(failure);
    S::echo(&mut body, request_body);
    Response::builder().status(status).content_type("application/json; charset=utf-8").body(body.to_string())
}

/// A failure of this kind with a more precise message.
fn render_saying<S: Surface>(failure: &Failure, message: &str) -> Response {
    let (status, mut body) = S::render(failure);
    body["message"] = message.into();
    Response::builder().status(status).content_type("application/json; charset=utf-8").body(body.to_string())
}

impl<S: Surface> poem::error::ResponseError for ApiError<S> {
    fn status(&self) -> StatusCode {
        S::render(&self.failure).0
    }

    fn as_response(&self) -> Response {
        render::<S>(&self.failure)
    }
}

impl<S: Surface> ApiResponse for ApiError<S> {
    fn meta() -> MetaResponses {
        let responses = S::failure_statuses()
            .iter()
            .map(|status| MetaResponse {
                description: "Failure, in this surface's envelope",
                status: Some(*status),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/json; charset=utf-8",
                    schema: S::ErrorBody::schema_ref(),
                }],
                headers: vec![],
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        S::ErrorBody::register(registry);
    }
}

/// Wraps a surface's endpoint: body limits, the request's catalogue operation (for
/// `authorize`), panics and every error in the envelope.
pub fn guard<S: Surface, E: Endpoint + 'static>(inner: E, app: Arc<AppState>) -> impl Endpoint<Output = Response> {
    inner.around(move |ep, req| {
        let app = app.clone();
        async move {
            let op = app.operations.get().and_then(|ops| ops.resolve(S::NAME, req.method(), req.uri().path())).cloned();
            if let Some(op) = &op {
                if S::TOKEN_IN_HEADER && is_upload(&req) && S::audience(&op.method, &op.path) != Audience::Public {
                    let token = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                    if let Err(refused) = app.identity.authenticate_jwt(token).await {
                        return Ok(render::<S>(&Failure::from(refused)));
                    }
                }
            }
            let mut req = match limit_body(req, &app).await {
                Ok(req) => req,
                Err(failure) => return Ok(render::<S>(&failure)),
            };
            // No operation means no handler will read the body: keep it (bounded by the
            // limit above) so the failure can echo what the envelope echoes.
            let mut sent = None;
            if S::ECHOES_REQUEST && op.is_none() && !is_upload(&req) {
                match req.take_body().into_bytes_limit(app.config.json_limit as usize).await {
                    Ok(bytes) => {
                        req.set_body(Body::from(bytes.clone()));
                        sent = Some(bytes);
                    }
                    Err(_) => return Ok(render::<S>(&Failure::TooLarge(app.config.json_limit))),
                }
            }
            if let Some(op) = op {
                req.extensions_mut().insert(op);
            }
            let path = req.uri().path().to_owned();
            // A Bearer scheme sees no token in `Authorization: <token>` or `Token <token>`.
            let bearer_hint =
                req.headers().get(header::AUTHORIZATION).is_some_and(|v| !v.as_bytes().starts_with(b"Bearer "));
            let outcome = AssertUnwindSafe(ep.call(req)).catch_unwind().await;
            let mut response = match outcome {
                Ok(Ok(response)) => response.into_response(),
                Ok(Err(err)) if err.is::<ApiError<S>>() => err.into_response(),
                Ok(Err(err)) => match (Failure::from_poem(&err), &sent) {
                    (Failure::NoToken, _) if bearer_hint => render_saying::<S>(
                        &Failure::NoToken,
                        "the Authorization header must be `Bearer <token>` (the word Bearer, a space, the token)",
                    ),
                    (failure, Some(bytes)) => render_echoing::<S>(&failure, bytes),
                    (failure, None) => render::<S>(&failure),
                },
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(surface = S::NAME, panic = %what, "handler panicked");
                    render::<S>(&Failure::Internal(what))
                }
            };
            // RFC 9110: a 405 says which methods the path does serve.
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                let methods = app.operations.get().map(|ops| ops.methods(S::NAME, &path)).unwrap_or_default();
                let allow = methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
                if let Ok(value) = allow.parse() {
                    response.headers_mut().insert(header::ALLOW, value);
                }
            }
            Ok(response)
        }
    })
}

/// Multipart bodies may be as large as the upload limit, all others the JSON limit. A
/// declared length over the limit is refused before reading; a body without a declared
/// length is read up to the limit and refused if it goes past it.
fn is_upload(req: &Request) -> bool {
    req.content_type().is_some_and(|ct| ct.starts_with("multipart/"))
}

async fn limit_body(mut req: Request, app: &AppState) -> Result<Request, Failure> {
    let limit = if is_upload(&req) { app.config.upload_limit } else { app.config.json_limit };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit => Err(Failure::TooLarge(limit)),
        Some(_) => Ok(req),
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req.take_body().into_bytes_limit(limit as usize).await;
            match body {
                Ok(bytes) => {
                    req.set_body(Body::from(bytes));
                    Ok(req)
                }
                Err(_) => Err(Failure::TooLarge(limit)),
            }
        }
        None => Ok(req),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    async fn answer<S: Surface>(endpoint: impl Endpoint + 'static) -> (StatusCode, serde_json::Value) {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::open(Config::for_tests(dir.path())).unwrap();
        let response = guard::<S, _>(endpoint, app).call(Request::default()).await.unwrap();
        let status = response.status();
        let body = response.into_body().into_vec().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_in_the_envelope() {
        let panics = poem::endpoint::make_sync(|_| -> &'static str { panic!("secret detail") });
        let (status, body) = answer::<care::Care>(panics).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], -200);
        assert_eq!(body["message"], "internal error; the server log has details");
    }

    #[tokio::test]
    async fn a_failure_raised_by_an_extractor_keeps_its_kind() {
        let fails = poem::endpoint::make(|_| async {
            Err::<&str, _>(poem::Error::from(Failure::WrongType("mode: invalid type".into())))
        });
        let (status, body) = answer::<care::Care>(fails).await;
        assert_eq!((status, body["status"].clone()), (StatusCode::OK, serde_json::json!(-203)));
        let fails = poem::endpoint::make(|_| async { Err::<&str, _>(poem::Error::from(Failure::NoToken)) });
        let (status, body) = answer::<music::Music>(fails).await;
        assert_eq!(
            (status, body["status"].clone(), body["code"].clone()),
            (StatusCode::UNAUTHORIZED, serde_json::json!(401), serde_json::json!(1))
        );
    }
}
