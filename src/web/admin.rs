//! `/admin/`: the admin UI, embedded from `static/` so the binary needs no files beside it.
//! The files are stored gzipped (`build.rs`) and sent so with `Content-Encoding: gzip`; a
//! client that does not accept gzip gets them unpacked.

use std::io::Read;

use poem::http::header::{self, HeaderValue};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, Request, Response};

use crate::identity::authz::Audience;

/// A file embedded by build.rs (the admin UI's, and Swagger UI's for `/docs`).
pub(super) struct StoredFile {
    /// Under its folder (`static/`, `assets/swagger-ui/`), with `/` separators.
    pub(super) path: &'static str,
    pub(super) stored: &'static [u8],
    pub(super) gzipped: bool,
    pub(super) etag: &'static str,
}

static FILES: &[StoredFile] = include!(concat!(env!("OUT_DIR"), "/admin_files.rs"));

fn file(path: &str) -> Option<&'static StoredFile> {
    FILES.iter().find(|f| f.path == path)
}

pub fn endpoint() -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(|req| {
        let mut response = answer(&req);
        // On every answer, errors included: a 304 is one, and the browser keeps the policy of
        // the 304 for the page it revalidated.
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::headers::ADMIN_CSP));
        response
    })
}

fn answer(req: &Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into();
    }
    let path = req.uri().path().trim_start_matches('/');
    let asked = req.original_uri().path();
    let redirect = |to: String| Response::builder().status(StatusCode::FOUND).header(header::LOCATION, to).finish();
    let wanted = if asked.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
    let Some(found) = file(&wanted) else {
        return if path.is_empty() || file(&format!("{path}/index.html")).is_some() {
            redirect(format!("{asked}/"))
        } else {
            StatusCode::NOT_FOUND.into()
        };
    };
    serve(req, found)
}

/// A stored file as the client can take it: gzip-encoded when it accepts gzip, else
/// unpacked; `304 Not Modified` when it already has this version.
pub(super) fn serve(req: &Request, found: &StoredFile) -> Response {
    let builder = Response::builder()
        .header(header::ETAG, found.etag)
        .header(header::VARY, "Accept-Encoding")
        .header(header::CONTENT_TYPE, mime_guess::from_path(found.path).first_or_octet_stream().as_ref());
    let revalidated =
        req.headers().get_all(header::IF_NONE_MATCH).iter().any(|v| {
            v.to_str().is_ok_and(|v| v.split(',').any(|tag| tag.trim().trim_start_matches("W/") == found.etag))
        });
    if revalidated {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    if !found.gzipped {
        return builder.body(found.stored);
    }
    if accepts_gzip(req) {
        return builder.header(header::CONTENT_ENCODING, "gzip").body(found.stored);
    }
    match unpacked(found) {
        Ok(bytes) => builder.body(bytes),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into(),
    }
}

/// A stored file's bytes as they were before build.rs stored it.
pub(super) fn unpacked(found: &StoredFile) -> std::io::Result<Vec<u8>> {
    if !found.gzipped {
        return Ok(found.stored.to_vec());
    }
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(found.stored).read_to_end(&mut unpacked)?;
    Ok(unpacked)
}

/// `Accept-Encoding` names gzip (or `*`) without `q=0`.
fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// A page of the admin UI; each is a MENU entry of the permission catalogue, so roles decide
/// which pages a person sees.
pub struct Page {
    pub path: &'static str,
    pub title: &'static str,
    pub icon: &'static str,
    pub audience: Audience,
}

const fn page(path: &'static str, title: &'static str, icon: &'static str, audience: Audience) -> Page {
    Page { path, title, icon, audience }
}

pub const PAGES: &[Page] = &[
    page("dashboard", "概览 Dashboard", "home", Audience::Everyone),
    page("alerts", "跌倒警报 Fall alerts", "bell", Audience::Everyone),
    page("devices", "设备 Devices", "camera", Audience::Everyone),
    page("users", "用户 Users", "user", Audience::Admin),
    page("roles", "角色 Roles", "shield", Audience::Admin),
    page("data-roles", "数据角色 Data roles", "filter", Audience::Admin),
    page("departments", "部门 Departments", "tree", Audience::Admin),
    page("sms", "短信发件箱 SMS outbox", "message", Audience::Admin),
    page("music", "曲库 Music library", "music", Audience::Everyone),
    page("playlists", "歌单 Playlists", "list", Audience::Everyone),
    page("app-passwords", "应用密码 App passwords", "key", Audience::Everyone),
    page("tasks", "审批 Approval tasks", "check", Audience::Everyone),
    page("transit", "客流分析 Transit analytics", "chart", Audience::Analyst),
    page("open-apps", "开放平台 Open platform", "key", Audience::Admin),
    page("backups", "备份 Backups", "archive", Audience::Admin),
];
