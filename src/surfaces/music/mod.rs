//! `/music` (seed 002): music recommendation. Envelope `{"code","status","message","data"}`:
//! code 0 success, 1 failure; `status` repeats the HTTP status, which is a real one here
//! (401 when not logged in, 403 when not allowed, …).

pub mod collection;
mod fields;
mod folder;
mod library;
mod media;
pub mod partner;
mod playlists;
pub(crate) mod recommend;
pub mod scan;
pub mod song_list;
mod songs;
mod tasks;
mod users;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::auth::ApiKey;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use poem_openapi::{Object, OpenApiService, SecurityScheme};

use super::documents::{Declared, ErrorCode};
use super::paging::OutOfRange;
use super::{ApiError, Failure, Surface};
use crate::identity::authz::Operation;
use crate::identity::{roles, Caller};
use crate::AppState;

pub use fields::form_body_into_query;
pub use media::{file_url, FileKind};

pub struct Music;

#[derive(Object)]
#[oai(rename = "MusicFailure")]
pub struct FailureBody {
    /// 1 on failure
    code: ErrorCode<0>,
    /// The HTTP status
    status: i64,
    message: String,
    data: serde_json::Value,
}

impl Surface for Music {
    const NAME: &'static str = "music";
    const TITLE: &'static str = "音乐 Music";

    fn spec(app: &Arc<AppState>) -> String {
        service(app.clone()).spec()
    }

    fn routes(app: Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response> {
        use poem::EndpointExt;
        super::documents::mount(apis(app)).before(fields::form_body_into_query).map_to_response().boxed()
    }
    type ErrorBody = FailureBody;

    fn render(failure: &Failure) -> (StatusCode, serde_json::Value) {
        let http = failure.http_status();
        (http, serde_json::json!({ "code": 1, "status": http.as_u16(), "message": failure.message(), "data": null }))
    }

    fn failure_statuses() -> &'static [u16] {
        &[400, 401, 403, 404, 409, 413, 429, 500, 503]
    }

    /// The JWT travels raw in `Authorization` (or as `Bearer <jwt>`).
    fn credential(req: &Request, _body: Option<&[u8]>) -> Result<Option<String>, Failure> {
        Ok(super::authorization(req))
    }
}

/// The success envelope. Lists add the number of rows in all pages as `total`.
#[derive(Object)]
pub struct Envelope<T: Type + ParseFromJSON + ToJSON> {
    /// 0 on success
    #[oai(validator(minimum(value = "0"), maximum(value = "0")))]
    pub code: i64,
    /// The HTTP status, 200
    pub status: i64,
    pub message: String,
    pub data: Option<T>,
    /// Rows in all pages, on list answers
    #[oai(skip_serializing_if_is_none)]
    pub total: Option<i64>,
}

pub type Reply<T> = Result<Json<Envelope<T>>, ApiError<Music>>;
/// An answer whose `data` is null.
pub type Done = Reply<serde_json::Value>;

const OK: &str = "操作成功";

pub fn ok<T: Type + ParseFromJSON + ToJSON>(data: T) -> Reply<T> {
    Ok(Json(Envelope { code: 0, status: 200, message: OK.into(), data: Some(data), total: None }))
}

pub fn done() -> Done {
    Ok(Json(Envelope { code: 0, status: 200, message: OK.into(), data: None, total: None }))
}

pub fn page<T: Type + ParseFromJSON + ToJSON>(data: T, total: i64) -> Reply<T> {
    Ok(Json(Envelope { code: 0, status: 200, message: OK.into(), data: Some(data), total: Some(total) }))
}

/// The JWT from `/api/user/login`, sent raw in `Authorization` as documented
/// (`Bearer <jwt>` is accepted too).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "Authorization", key_in = "header")]
pub struct MusicToken(ApiKey);

/// The caller behind a music token, if its roles grant the operation.
pub async fn signed_in(app: &AppState, op: &Operation, token: &MusicToken) -> Result<Caller, ApiError<Music>> {
    let caller = app.identity.authenticate_jwt(Some(&token.0.key)).await?;
    app.identity.authorize(&caller, op).await?;
    Ok(caller)
}

/// The caller when a valid token came along, for public reads that show more to owners.
pub async fn maybe_signed_in(app: &AppState, req: &Request) -> Option<Caller> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    app.identity.authenticate_jwt(Some(header)).await.ok()
}

/// The documented `permission` view of an account's roles.
pub fn permission_of(roles_held: &[i64]) -> &'static str {
    if roles_held.iter().any(|r| *r == roles::SUPER_ADMIN || *r == roles::ADMIN) {
        "admin"
    } else if roles_held.contains(&roles::CREATOR) {
        "creator"
    } else {
        "user"
    }
}

/// Where this surface is reachable from the client's side, for absolute file URLs:
/// `public_url` when configured, else the Host the request came to.
pub fn base_url(app: &AppState, req: &Request) -> String {
    if let Some(public) = &app.config.public_url {
        return format!("{}/music", public.trim_end_matches('/'));
    }
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .or_else(|| req.local_addr().as_socket_addr().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    format!("http://{host}/music")
}

/// `pageNum`/`pageSize` as LIMIT and OFFSET; the document requires both (some lists give
/// `pageSize` a default) and refuses each value in its own words.
pub fn paging(page_num: Option<i64>, page_size: Option<i64>, default_size: Option<i64>) -> Result<(i64, i64), Failure> {
    let number = page_num.ok_or_else(|| Failure::Missing("pageNum is required (the page number, from 1)".into()))?;
    let size = page_size
        .or(default_size)
        .ok_or_else(|| Failure::Missing("pageSize is required (rows per page, 1 to 500)".into()))?;
    super::paging::window(Some(number), Some(size), size, 500).map_err(|bad| {
        Failure::Invalid(match bad {
            OutOfRange::Number => "pageNum must be at least 1".into(),
            OutOfRange::Size => "pageSize must be between 1 and 500".into(),
        })
    })
}

pub type MusicApis =
    (users::UserApi, songs::SongApi, playlists::PlaylistApi, tasks::TaskApi, media::FileApi, library::LibraryApi);

/// The surface's operations: mounted by `routes`, described by `service`.
fn apis(app: Arc<AppState>) -> Declared<MusicApis> {
    Declared((
        users::UserApi(app.clone()),
        songs::SongApi(app.clone()),
        playlists::PlaylistApi(app.clone()),
        tasks::TaskApi(app.clone()),
        media::FileApi(app.clone()),
        library::LibraryApi(app),
    ))
}

pub fn service(app: Arc<AppState>) -> OpenApiService<Declared<MusicApis>, ()> {
    OpenApiService::new(apis(app), "hearth music", env!("CARGO_PKG_VERSION"))
        .description(
            "Music library, playlists and recommendations (seed 002). Every answer is {code, status, message, data}; \
             status is the HTTP status. Log in with /api/user/login and send the token raw in `Authorization`.",
        )
        .server("/music")
}
