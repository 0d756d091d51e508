//! `/admin/`: the admin UI, embedded from `static/` so the binary needs no files beside it.

use poem::endpoint::EmbeddedFilesEndpoint;
use poem::http::header::CONTENT_SECURITY_POLICY;
use poem::http::HeaderValue;
use poem::{Endpoint, EndpointExt};
use rust_embed::RustEmbed;

use crate::identity::authz::Audience;

#[derive(RustEmbed)]
#[folder = "static/"]
struct AdminFiles;

pub fn endpoint() -> impl Endpoint {
    // On every answer, errors included: a 304 is one, and the browser keeps the policy of
    // the 304 for the page it revalidated.
    EmbeddedFilesEndpoint::<AdminFiles>::new().around(|inner, req| async move {
        let mut response = inner.get_response(req).await;
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::headers::ADMIN_CSP));
        Ok(response)
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
