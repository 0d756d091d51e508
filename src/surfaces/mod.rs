//! The five surfaces. Each declares how it speaks (`Surface`): its name and how a `Failure`
//! looks in its envelope. Everything else is shared: `ApiError<S>` for handler errors and
//! `guard` for the mount, which limits bodies, contains panics and renders every error
//! raised under the mount (parse errors, unknown routes, wrong methods, 413s) in the
//! surface's envelope.

pub mod access;
pub mod body;
pub mod care;
pub mod documents;
pub mod failure;
pub mod lenient;
pub mod music;
pub mod open;
pub mod operations;
pub mod pictures;
pub mod registry;
pub mod system;
pub mod transit;

use std::future::Future;
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

use crate::identity::authz::{Audience, Operation};
use crate::identity::Caller;
use crate::AppState;

/// The most an operation open to anonymous callers reads, whatever the content type: nobody
/// can make the server buffer more without signing in (or, for a camera, its device token).
pub const ANONYMOUS_BODY_LIMIT: u64 = 64 * 1024;

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
    /// The surface's OpenAPI document.
    fn spec(app: &Arc<AppState>) -> String;
    /// The surface's operations, before its guard.
    fn routes(app: Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, Response>;
    /// The account credential a request carries, where the document puts it. `body` is the
    /// request body (at most `ANONYMOUS_BODY_LIMIT`) on surfaces that may send it there; a
    /// body that cannot be read for it is refused as the handler would refuse it.
    fn credential(req: &Request, body: Option<&[u8]>) -> Result<Option<String>, Failure>;
    /// The credential may travel in a JSON body (transit's `token`).
    const CREDENTIAL_IN_BODY: bool = false;
    /// Who a credential belongs to: a JWT on most surfaces.
    fn authenticate(
        app: &AppState,
        credential: Option<String>,
    ) -> impl Future<Output = Result<Caller, Failure>> + Send {
        async move { Ok(app.identity.authenticate_jwt(credential.as_deref()).await?) }
    }
    /// How an operation answers a refusal before its handler: in the envelope by default;
    /// some documents word or shape it their own way for one operation.
    fn refusal(_op: &Operation, failure: Failure) -> Refusal {
        Refusal::Envelope(failure)
    }
    /// A public operation whose body may be larger than an anonymous one is admitted by this
    /// check before its body is read (care snapshots: the camera's device token). `None`: the
    /// operation is not such an upload.
    fn admit_upload(
        _app: &AppState,
        _req: &Request,
        _op: &Operation,
    ) -> impl Future<Output = Option<Result<(), Failure>>> + Send {
        async { None }
    }
    /// Failures echo something of the request body (care's `id`), also when no handler ran.
    const ECHOES_REQUEST: bool = false;
    /// Copies what the envelope echoes from the request body into a rendered failure.
    fn echo(_answer: &mut serde_json::Value, _request_body: &[u8]) {}
}

/// `pageNum` (from 1) and `pageSize` (1 to 500, else `default_size`) as (limit, offset).
pub fn paging(page_num: Option<i64>, page_size: Option<i64>, default_size: i64) -> Result<(i64, i64), Failure> {
    let (number, size) = (page_num.unwrap_or(1), page_size.unwrap_or(default_size));
    if number < 1 || !(1..=500).contains(&size) {
        return Err(Failure::Invalid("pageNum must be at least 1 and pageSize between 1 and 500".into()));
    }
    Ok((size, (number - 1).saturating_mul(size)))
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

/// The `Authorization` header as sent; the identity core takes `Bearer <jwt>` or the raw JWT.
pub fn authorization(req: &Request) -> Option<String> {
    req.headers().get(header::AUTHORIZATION)?.to_str().ok().map(str::to_owned)
}

/// A refusal before the handler: a failure for the envelope, or a document's own answer.
pub enum Refusal {
    Envelope(Failure),
    Own(Response),
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
    respond(failure, status, body)
}

fn render_echoing<S: Surface>(failure: &Failure, request_body: &[u8]) -> Response {
    let (status, mut body) = S::render(failure);
    S::echo(&mut body, request_body);
    respond(failure, status, body)
}

/// A failure of this kind with a more precise message.
fn render_saying<S: Surface>(failure: &Failure, message: &str) -> Response {
    let (status, mut body) = S::render(failure);
    body["message"] = message.into();
    respond(failure, status, body)
}

/// A rendered failure as a response, telling when to retry where that is known.
fn respond(failure: &Failure, status: StatusCode, body: serde_json::Value) -> Response {
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

/// Wraps a surface's endpoint. Before any handler runs, the request is resolved to its
/// catalogue operation and admitted as `access.rs` declares it (`admit`), so no handler can
/// forget a check. It also contains panics and renders every error raised under the mount
/// (parse errors, unknown routes, wrong methods, 413s) in the surface's envelope.
pub fn guard<S: Surface, E: Endpoint + 'static>(inner: E, app: Arc<AppState>) -> impl Endpoint<Output = Response> {
    inner.around(move |ep, req| {
        let app = app.clone();
        async move {
            let op = app.operations.get().and_then(|ops| ops.resolve(S::NAME, req.method(), req.uri().path())).cloned();
            let mut req = match admit::<S>(&app, req, op.as_ref()).await {
                Ok(req) => req,
                Err(refusal) => return Ok(refusal),
            };
            // No operation means no handler will read the body: keep it (bounded by the
            // limit above) so the failure can echo what the envelope echoes.
            let mut sent = None;
            if S::ECHOES_REQUEST && op.is_none() && !is_upload(&req) {
                match req.take_body().into_bytes_limit(ANONYMOUS_BODY_LIMIT as usize).await {
                    Ok(bytes) => {
                        req.set_body(Body::from(bytes.clone()));
                        sent = Some(bytes);
                    }
                    Err(_) => return Ok(render::<S>(&Failure::TooLarge(ANONYMOUS_BODY_LIMIT))),
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

/// Admits a request by its operation's declared audience, before any of its body is read
/// beyond what an anonymous caller may send: an undeclared operation is refused to everyone;
/// an account operation needs a caller whose roles grant it (the caller goes on the request);
/// a public one gets at most `ANONYMOUS_BODY_LIMIT` unless the surface admits it as an upload.
async fn admit<S: Surface>(app: &AppState, mut req: Request, op: Option<&Operation>) -> Result<Request, Response> {
    let full_limit = if is_upload(&req) { app.config.upload_limit } else { app.config.json_limit };
    let anonymous_limit = ANONYMOUS_BODY_LIMIT.min(full_limit);
    let limit = match op {
        None => anonymous_limit,
        Some(op) if op.audience == Audience::Nobody => {
            let refused = Failure::Forbidden(format!("{} {} is not open to anyone", op.method, op.path));
            return Err(refuse::<S>(refused, req).await);
        }
        Some(op) if matches!(op.audience, Audience::Public | Audience::App) => {
            match S::admit_upload(app, &req, op).await {
                None => anonymous_limit,
                Some(Ok(())) => full_limit,
                Some(Err(refused)) => return Err(refuse::<S>(refused, req).await),
            }
        }
        Some(op) => {
            let caller = match credential::<S>(&mut req, anonymous_limit).await {
                Ok(credential) => match S::authenticate(app, credential).await {
                    Ok(caller) => app.identity.authorize(&caller, op).await.map(|()| caller).map_err(Failure::from),
                    Err(refused) => Err(refused),
                },
                Err(refused) => Err(refused),
            };
            match caller {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                    full_limit
                }
                Err(refused) => {
                    return Err(match S::refusal(op, refused) {
                        Refusal::Envelope(refused) => refuse::<S>(refused, req).await,
                        Refusal::Own(answer) => answer,
                    })
                }
            }
        }
    };
    limit_body(req, limit).await.map_err(|too_large| render::<S>(&too_large))
}

/// The request's credential, reading at most `limit` bytes of the body where the surface may
/// carry it there.
async fn credential<S: Surface>(req: &mut Request, limit: u64) -> Result<Option<String>, Failure> {
    let outside = S::credential(req, None)?;
    if outside.is_some() || !S::CREDENTIAL_IN_BODY || is_upload(req) {
        return Ok(outside);
    }
    let body = read_at_most(req, limit).await?;
    S::credential(req, Some(&body))
}

/// A refusal before the handler, echoing what the envelope echoes from a small body whose
/// length is declared (an endless body is not waited for).
async fn refuse<S: Surface>(refused: Failure, mut req: Request) -> Response {
    let small = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|len| len <= ANONYMOUS_BODY_LIMIT);
    if S::ECHOES_REQUEST && !is_upload(&req) && small {
        if let Ok(bytes) = read_at_most(&mut req, ANONYMOUS_BODY_LIMIT).await {
            return render_echoing::<S>(&refused, &bytes);
        }
    }
    render::<S>(&refused)
}

/// Reads the whole body if it is at most `limit` bytes and puts it back for the handler.
async fn read_at_most(req: &mut Request, limit: u64) -> Result<Vec<u8>, Failure> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(Failure::TooLarge(limit));
    }
    let bytes = req.take_body().into_bytes_limit(limit as usize).await.map_err(|_| Failure::TooLarge(limit))?;
    req.set_body(Body::from(bytes.clone()));
    Ok(bytes.to_vec())
}

/// Multipart bodies may be as large as the upload limit, all others the JSON limit, once
/// admitted. A declared length over the limit is refused before reading; a body without a
/// declared length is read up to the limit and refused if it goes past it.
fn is_upload(req: &Request) -> bool {
    req.content_type().is_some_and(|ct| ct.starts_with("multipart/"))
}

async fn limit_body(mut req: Request, limit: u64) -> Result<Request, Failure> {
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

    /// A handler someone adds to a surface without declaring it in `access.rs`: the guard
    /// must refuse it to everyone, the super-administrator included, before it runs.
    #[tokio::test]
    async fn an_undeclared_operation_is_refused_to_every_caller() {
        use std::sync::atomic::{AtomicBool, Ordering};

        use poem::IntoEndpoint;
        use poem_openapi::payload::PlainText;
        use poem_openapi::{OpenApi, OpenApiService};

        static RAN: AtomicBool = AtomicBool::new(false);
        struct Forgotten;
        #[OpenApi]
        impl Forgotten {
            #[oai(path = "/api/forgotten", method = "post")]
            async fn forgotten(&self) -> PlainText<&'static str> {
                RAN.store(true, Ordering::SeqCst);
                PlainText("ran")
            }
        }

        let dir = tempfile::tempdir().unwrap();
        let app = AppState::open(Config::for_tests(dir.path())).unwrap();
        let service = OpenApiService::new(Forgotten, "t", "1");
        let mut declared = operations::catalogue(&app);
        for op in operations::documented(music::Music::NAME, &service.spec()) {
            let audience = access::audience(op.surface, &op.method, &op.path);
            assert_eq!(audience, Audience::Nobody);
            let entry = crate::identity::catalogue::Entry::operation(op.surface, &op.method, &op.path, "", audience);
            declared.push((entry, Some(op)));
        }
        let _ = app.operations.set(operations::sync_entries(&app, declared).await.unwrap());

        let hash =
            app.identity.passwords.hash(crate::identity::password::Asker::SignedIn, "Root-pass-1").await.unwrap();
        app.db.write(move |tx| crate::identity::accounts::upsert_super_admin(tx, "root", &hash, None)).await.unwrap();
        let issued = app.identity.login_with_username("127.0.0.1", "music", "root", "Root-pass-1").await.unwrap();

        let endpoint = guard::<music::Music, _>(service.into_endpoint(), app.clone());
        for token in [None, Some("not-a-token".to_owned()), Some(issued.token)] {
            let mut req = Request::builder().method(poem::http::Method::POST).uri_str("/api/forgotten");
            if let Some(token) = &token {
                req = req.header(header::AUTHORIZATION, token.as_str());
            }
            let response = endpoint.call(req.finish()).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
            let body: serde_json::Value =
                serde_json::from_slice(&response.into_body().into_vec().await.unwrap()).unwrap();
            assert_eq!(body["message"], "POST /api/forgotten is not open to anyone");
        }
        assert!(!RAN.load(Ordering::SeqCst), "the undeclared handler ran");
    }

    /// Every operation the five surfaces document is declared.
    #[test]
    fn every_documented_operation_is_declared() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppState::open(Config::for_tests(dir.path())).unwrap();
        let undeclared: Vec<String> = crate::specs(&app)
            .into_iter()
            .flat_map(|(surface, spec)| operations::documented(surface, &spec))
            .filter(|op| access::audience(op.surface, &op.method, &op.path) == Audience::Nobody)
            .map(|op| format!("{} {} {}", op.surface, op.method, op.path))
            .collect();
        assert!(undeclared.is_empty(), "declare these in surfaces/access.rs: {undeclared:?}");
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
