//! The five surfaces. Each declares how it speaks (`Surface`): its name, how a `Failure`
//! looks in its envelope and where its callers put their credential. Everything else is
//! shared: `ApiError<S>` for handler errors, `access` for who may call what, `registry` for
//! the list of surfaces and `guard` for the mount.

pub mod access;
pub mod body;
pub mod care;
pub mod client;
pub mod documents;
pub mod failure;
mod guard;
pub mod lenient;
pub mod music;
pub mod open;
pub mod operations;
pub mod paging;
pub mod pictures;
pub mod registry;
pub mod subsonic;
pub mod system;
pub mod transit;

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use poem::http::{header, StatusCode};
use poem::{Request, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;

pub use failure::Failure;
pub use guard::guard;

use crate::identity::authz::Operation;
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

#[cfg(test)]
mod tests {
    use poem::Endpoint;

    use super::*;
    use crate::config::Config;
    use crate::identity::authz::Audience;

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
        let mut declared = operations::catalogue();
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
