//! Who may call each operation, written from the API documents and CONTRACT §3, §5–§8 (not
//! read from the server's grants, which is what the matrix checks). An operation the
//! served documents list but this table does not, or the reverse, fails the matrix.

/// Who passes an operation's gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Nobody needs to sign in: logins, sign-ups, captchas, portraits, song files.
    Public,
    /// A camera's device token (care heartbeat and snapshot upload).
    Device,
    /// Any signed-in account.
    Signed,
    /// 创作者 and administrators (music uploads and song management).
    Creators,
    /// 分析员 and administrators (transit charts).
    Analysts,
    /// Administrators only.
    Admins,
    /// Any open-platform app token.
    App,
    /// An app token holding this scope.
    Scope(&'static str),
}

pub struct Row {
    pub surface: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub who: Who,
    /// Owner-or-administrator: on someone else's resource the gate passes but the answer
    /// refuses or hides it (checked by tests/ownership.rs).
    pub owned: bool,
    /// Care requests: type, subtype and data (JSON) of a harmless call.
    pub care: Option<(&'static str, &'static str, &'static str)>,
}

const fn op(surface: &'static str, method: &'static str, path: &'static str, who: Who) -> Row {
    Row { surface, method, path, who, owned: false, care: None }
}

impl Row {
    const fn owned(mut self) -> Row {
        self.owned = true;
        self
    }

    const fn care(mut self, kind: &'static str, subtype: &'static str, data: &'static str) -> Row {
        self.care = Some((kind, subtype, data));
        self
    }
}

use Who::*;

/// A 1×1 PNG, so a camera's probe upload is a real snapshot.
const PNG: &str = r#"{"base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "content": "matrix"}"#;
const NOBODY: &str = r#"{"phone": "13000000009", "pass": "wrong-pass", "hash": "00000000000000000000000000000000"}"#;

pub const TABLE: &[Row] = &[
    // care (seed 004 and CONTRACT §5)
    op("care", "POST", "/api/admin/delivery", Admins).care(
        "notice",
        "delivery",
        r#"{"event_id": "00000000000000000000000000000000"}"#,
    ),
    op("care", "POST", "/api/admin/notice", Admins).care(
        "notice",
        "keep",
        r#"{"event_id": "00000000000000000000000000000000", "keep": true}"#,
    ),
    op("care", "POST", "/api/admin/user", Admins).care("user", "list", "{}"),
    op("care", "POST", "/api/captcha", Public).care(
        "img",
        "validate",
        r#"{"hash": "00000000000000000000000000000000"}"#,
    ),
    op("care", "POST", "/api/device", Signed).owned().care("device", "list", "{}"),
    op("care", "GET", "/api/device/heartbeat", Device),
    op("care", "POST", "/api/get/notice", Signed).owned().care("notice", "get", r#"{"mode": 2}"#),
    op("care", "GET", "/api/get/portrait/{user_id}", Public),
    op("care", "POST", "/api/notice", Device).care("notice", "upload", PNG),
    op("care", "GET", "/api/notice/stream", Signed).owned(),
    op("care", "POST", "/api/portrait", Signed).care("portrait", "upload", r#"{"base64": "AAAA"}"#),
    op("care", "POST", "/api/push", Signed).care("push", "list", "{}"),
    op("care", "GET", "/api/user/doki", Signed),
    op("care", "GET", "/api/user/info", Signed),
    op("care", "POST", "/api/user/info", Signed).care("info", "update", r#"{"phone": "13000000009"}"#),
    op("care", "POST", "/api/user/login", Public).care("login", "pass", NOBODY),
    op("care", "POST", "/api/user/nickname", Signed).care("info", "nickname", r#"{"user_id": "13000000009"}"#),
    op("care", "POST", "/api/user/password", Public).care("password", "forget", NOBODY),
    op("care", "POST", "/api/user/register", Public).care("register", "phone", NOBODY),
    // music (seed 002 and CONTRACT §6)
    op("music", "GET", "/api/albums", Signed),
    op("music", "GET", "/api/artists", Signed),
    op("music", "GET", "/api/files/{kind}/{name}", Public).owned(),
    op("music", "GET", "/api/music", Signed).owned(),
    op("music", "POST", "/api/music", Creators),
    op("music", "PUT", "/api/music", Creators).owned(),
    op("music", "PUT", "/api/music/avatar", Creators).owned(),
    op("music", "DELETE", "/api/music/fav", Signed),
    op("music", "PUT", "/api/music/fav", Signed).owned(),
    op("music", "DELETE", "/api/music/listed", Signed).owned(),
    op("music", "POST", "/api/music/listed", Signed).owned(),
    op("music", "PUT", "/api/music/res", Creators).owned(),
    op("music", "DELETE", "/api/music/shelve", Creators).owned(),
    op("music", "PATCH", "/api/music/shelve", Creators).owned(),
    op("music", "DELETE", "/api/music/unshelve", Creators).owned(),
    op("music", "DELETE", "/api/musiclist", Signed).owned(),
    op("music", "GET", "/api/musiclist", Signed),
    op("music", "POST", "/api/musiclist", Signed),
    op("music", "PUT", "/api/musiclist", Signed).owned(),
    op("music", "GET", "/api/musiclist/detail", Signed).owned(),
    op("music", "DELETE", "/api/musiclist/fav", Signed),
    op("music", "POST", "/api/musiclist/fav", Signed),
    op("music", "PUT", "/api/musiclist/name", Signed).owned(),
    op("music", "GET", "/api/musiclist/recommend", Signed).owned(),
    op("music", "GET", "/api/musiclist/recommend/list", Signed),
    op("music", "PATCH", "/api/univer/banuser", Admins),
    op("music", "PATCH", "/api/univer/permission", Admins),
    op("music", "PATCH", "/api/univer/reject", Admins),
    op("music", "GET", "/api/univer/tasklist", Signed).owned(),
    op("music", "GET", "/api/user", Signed),
    op("music", "PUT", "/api/user", Signed).owned(),
    op("music", "PATCH", "/api/user/avatar", Signed),
    op("music", "PATCH", "/api/user/ban", Signed).owned(),
    op("music", "POST", "/api/user/login", Public),
    op("music", "POST", "/api/user/logout", Signed),
    op("music", "PATCH", "/api/user/password", Signed),
    op("music", "PATCH", "/api/user/permission", Signed).owned(),
    op("music", "POST", "/api/user/signup", Public),
    // transit (seed 000 and CONTRACT §7): management and exports for administrators
    op("transit", "GET", "/api/echarts/agestruct", Analysts),
    op("transit", "GET", "/api/echarts/daily", Analysts),
    op("transit", "GET", "/api/echarts/month", Analysts),
    op("transit", "GET", "/api/echarts/od", Analysts),
    op("transit", "GET", "/api/echarts/realtime", Analysts),
    op("transit", "GET", "/api/exports", Admins),
    op("transit", "GET", "/api/manage/passenger", Admins),
    op("transit", "POST", "/api/manage/passenger/create", Admins),
    op("transit", "DELETE", "/api/manage/passenger/delete", Admins),
    op("transit", "GET", "/api/manage/passenger/list", Admins),
    op("transit", "PUT", "/api/manage/passenger/update", Admins),
    op("transit", "POST", "/api/manage/station/create", Admins),
    op("transit", "DELETE", "/api/manage/station/delete", Admins),
    op("transit", "GET", "/api/manage/station/list", Admins),
    op("transit", "PUT", "/api/manage/station/update", Admins),
    op("transit", "POST", "/api/manage/trip/create", Admins),
    op("transit", "DELETE", "/api/manage/trip/delete", Admins),
    op("transit", "GET", "/api/manage/trip/list", Admins),
    op("transit", "PUT", "/api/manage/trip/update", Admins),
    op("transit", "POST", "/api/manage/workday/create", Admins),
    op("transit", "DELETE", "/api/manage/workday/delete", Admins),
    op("transit", "GET", "/api/manage/workday/list", Admins),
    op("transit", "PUT", "/api/manage/workday/update", Admins),
    op("transit", "POST", "/api/manager/passenger/create", Admins),
    op("transit", "GET", "/api/userprofile/info", Signed),
    op("transit", "POST", "/api/userprofile/login", Public),
    op("transit", "POST", "/api/userprofile/logout", Signed),
    // system (seed 001 and CONTRACT §8): everything but signing in is administration
    op("system", "GET", "/api/auth/appPasswords", Signed),
    op("system", "POST", "/api/auth/appPasswords", Signed),
    op("system", "DELETE", "/api/auth/appPasswords/{id}", Signed),
    op("system", "GET", "/api/auth/captcha", Public),
    op("system", "POST", "/api/auth/careSession", Signed),
    op("system", "GET", "/api/auth/dataRole/dataRoleList", Admins),
    op("system", "DELETE", "/api/auth/dataRole/delete/{id}", Admins),
    op("system", "PUT", "/api/auth/dataRole/edit/{id}", Admins),
    op("system", "GET", "/api/auth/dataRole/getRoleById/{id}", Admins),
    op("system", "POST", "/api/auth/dataRole/save", Admins),
    op("system", "DELETE", "/api/auth/dept/deleteDept/{id}", Admins),
    op("system", "PUT", "/api/auth/dept/edit/{id}", Admins),
    op("system", "GET", "/api/auth/dept/getDeptById/{id}", Admins),
    op("system", "GET", "/api/auth/dept/getDeptList", Admins),
    op("system", "GET", "/api/auth/dept/getDeptTree", Admins),
    op("system", "POST", "/api/auth/dept/saveDept", Admins),
    op("system", "POST", "/api/auth/login", Public),
    op("system", "POST", "/api/auth/logout", Signed),
    op("system", "GET", "/api/auth/permission/getPermissList/{id}", Admins),
    op("system", "GET", "/api/auth/permission/list", Admins),
    op("system", "GET", "/api/auth/permission/mine", Signed),
    op("system", "POST", "/api/auth/permission/rolePer/edit/{id}", Admins),
    op("system", "DELETE", "/api/auth/role/delete/{id}", Admins),
    op("system", "PUT", "/api/auth/role/edit/{id}", Admins),
    op("system", "GET", "/api/auth/role/roleList", Admins),
    op("system", "POST", "/api/auth/role/save", Admins),
    op("system", "GET", "/api/auth/role/{id}", Admins),
    op("system", "DELETE", "/api/auth/user/delete/{id}", Admins),
    op("system", "PUT", "/api/auth/user/edit/{id}", Admins),
    op("system", "POST", "/api/auth/user/save", Admins),
    op("system", "PUT", "/api/auth/user/update/{id}", Admins),
    op("system", "GET", "/api/auth/user/userList", Admins),
    op("system", "PUT", "/api/auth/user/{id}", Admins),
    op("system", "POST", "/api/backup/create", Admins),
    op("system", "GET", "/api/backup/download/{name}", Admins),
    op("system", "GET", "/api/backup/list", Admins),
    op("system", "GET", "/api/backup/runs", Admins),
    op("system", "GET", "/api/music/scan", Admins),
    op("system", "POST", "/api/music/scan", Admins),
    op("system", "DELETE", "/api/open/app/delete/{id}", Admins),
    op("system", "GET", "/api/open/app/deliveries/{id}", Admins),
    op("system", "PUT", "/api/open/app/edit/{id}", Admins),
    op("system", "GET", "/api/open/app/list", Admins),
    op("system", "POST", "/api/open/app/rotate/{id}", Admins),
    op("system", "POST", "/api/open/app/save", Admins),
    op("system", "GET", "/api/push/key", Signed),
    op("system", "GET", "/api/push/subscriptions", Signed),
    op("system", "POST", "/api/push/subscriptions", Signed),
    op("system", "DELETE", "/api/push/subscriptions/{id}", Signed),
    op("system", "POST", "/api/setup", Public),
    op("system", "GET", "/api/sms/outbox", Admins),
    // open (seed 003 and CONTRACT §8): app tokens, each read behind its scope
    op("open", "GET", "/api/app", App),
    op("open", "GET", "/api/care/devices", Scope("care:read")),
    op("open", "GET", "/api/care/notices", Scope("care:read")),
    op("open", "GET", "/api/care/notices/{event_id}", Scope("care:read")),
    op("open", "GET", "/api/care/notices/{event_id}/image", Scope("care:read")),
    op("open", "GET", "/api/music/songs", Scope("music:read")),
    op("open", "POST", "/api/token", Public),
    op("open", "GET", "/api/transit/agestruct", Scope("transit:read")),
    op("open", "GET", "/api/transit/daily", Scope("transit:read")),
    op("open", "GET", "/api/transit/month", Scope("transit:read")),
    op("open", "GET", "/api/transit/od", Scope("transit:read")),
    op("open", "GET", "/api/transit/realtime", Scope("transit:read")),
    op("open", "GET", "/api/transit/stations", Scope("transit:read")),
];

pub fn row(surface: &str, method: &str, path: &str) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.surface == surface && r.method == method && r.path == path)
}
