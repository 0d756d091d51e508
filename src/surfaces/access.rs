//! Who may call each operation, for every surface, in one place. The guard reads this before
//! any handler runs: an operation that is not listed here is refused to every caller, the
//! super-administrator included, so a handler added without a declaration can do nothing.
//! For account operations the audience is also who the permission is granted to when it first
//! appears in the catalogue; administrators may change those grants afterwards.

use crate::identity::authz::Audience;
use Audience::*;

type Declared = &'static [(&'static str, &'static str, Audience)];

/// The declared audience of an operation (method in capitals, documented path); `Nobody` when
/// it is not declared.
pub fn audience(surface: &str, method: &str, path: &str) -> Audience {
    let table: Declared = match surface {
        "care" => CARE,
        "music" => MUSIC,
        "transit" => TRANSIT,
        "system" => SYSTEM,
        "open" => OPEN,
        _ => &[],
    };
    table.iter().find(|(m, p, _)| *m == method && *p == path).map_or(Nobody, |(_, _, audience)| *audience)
}

const CARE: Declared = &[
    ("POST", "/api/admin/notice", Admin),
    ("POST", "/api/admin/user", Admin),
    ("POST", "/api/captcha", Public),
    ("POST", "/api/device", Everyone),
    ("GET", "/api/device/heartbeat", Public),
    ("POST", "/api/get/notice", Everyone),
    ("GET", "/api/get/portrait/{user_id}", Public),
    ("POST", "/api/notice", Public),
    ("GET", "/api/notice/stream", Everyone),
    ("POST", "/api/portrait", Everyone),
    ("GET", "/api/user/doki", Everyone),
    ("GET", "/api/user/info", Everyone),
    ("POST", "/api/user/info", Everyone),
    ("POST", "/api/user/login", Public),
    ("POST", "/api/user/nickname", Everyone),
    ("POST", "/api/user/password", Public),
    ("POST", "/api/user/register", Public),
];

const MUSIC: Declared = &[
    ("GET", "/api/files/{kind}/{name}", Public),
    ("GET", "/api/music", Everyone),
    ("POST", "/api/music", Creator),
    ("PUT", "/api/music", Creator),
    ("PUT", "/api/music/avatar", Creator),
    ("DELETE", "/api/music/fav", Everyone),
    ("PUT", "/api/music/fav", Everyone),
    ("DELETE", "/api/music/listed", Everyone),
    ("POST", "/api/music/listed", Everyone),
    ("PUT", "/api/music/res", Creator),
    ("DELETE", "/api/music/shelve", Creator),
    ("PATCH", "/api/music/shelve", Creator),
    ("DELETE", "/api/music/unshelve", Creator),
    ("DELETE", "/api/musiclist", Everyone),
    ("GET", "/api/musiclist", Everyone),
    ("POST", "/api/musiclist", Everyone),
    ("PUT", "/api/musiclist", Everyone),
    ("GET", "/api/musiclist/detail", Everyone),
    ("DELETE", "/api/musiclist/fav", Everyone),
    ("POST", "/api/musiclist/fav", Everyone),
    ("PUT", "/api/musiclist/name", Everyone),
    ("GET", "/api/musiclist/recommend", Everyone),
    ("GET", "/api/musiclist/recommend/list", Everyone),
    ("PATCH", "/api/univer/banuser", Admin),
    ("PATCH", "/api/univer/permission", Admin),
    ("PATCH", "/api/univer/reject", Admin),
    ("GET", "/api/univer/tasklist", Everyone),
    ("GET", "/api/user", Everyone),
    ("PUT", "/api/user", Everyone),
    ("PATCH", "/api/user/avatar", Everyone),
    ("PATCH", "/api/user/ban", Everyone),
    ("POST", "/api/user/login", Public),
    ("POST", "/api/user/logout", Everyone),
    ("PATCH", "/api/user/password", Everyone),
    ("PATCH", "/api/user/permission", Everyone),
    ("POST", "/api/user/signup", Public),
];

const TRANSIT: Declared = &[
    ("GET", "/api/echarts/agestruct", Analyst),
    ("GET", "/api/echarts/daily", Analyst),
    ("GET", "/api/echarts/month", Analyst),
    ("GET", "/api/echarts/od", Analyst),
    ("GET", "/api/echarts/realtime", Analyst),
    ("GET", "/api/exports", Admin),
    ("GET", "/api/manage/passenger", Admin),
    ("POST", "/api/manage/passenger/create", Admin),
    ("DELETE", "/api/manage/passenger/delete", Admin),
    ("GET", "/api/manage/passenger/list", Admin),
    ("PUT", "/api/manage/passenger/update", Admin),
    ("POST", "/api/manage/station/create", Admin),
    ("DELETE", "/api/manage/station/delete", Admin),
    ("GET", "/api/manage/station/list", Admin),
    ("PUT", "/api/manage/station/update", Admin),
    ("POST", "/api/manage/trip/create", Admin),
    ("DELETE", "/api/manage/trip/delete", Admin),
    ("GET", "/api/manage/trip/list", Admin),
    ("PUT", "/api/manage/trip/update", Admin),
    ("POST", "/api/manage/workday/create", Admin),
    ("DELETE", "/api/manage/workday/delete", Admin),
    ("GET", "/api/manage/workday/list", Admin),
    ("PUT", "/api/manage/workday/update", Admin),
    ("POST", "/api/manager/passenger/create", Admin),
    ("GET", "/api/userprofile/info", Everyone),
    ("POST", "/api/userprofile/login", Public),
    ("POST", "/api/userprofile/logout", Public),
];

const SYSTEM: Declared = &[
    ("GET", "/api/auth/appPasswords", SignedIn),
    ("POST", "/api/auth/appPasswords", SignedIn),
    ("DELETE", "/api/auth/appPasswords/{id}", SignedIn),
    ("GET", "/api/auth/captcha", Public),
    ("POST", "/api/auth/careSession", Everyone),
    ("GET", "/api/auth/dataRole/dataRoleList", Admin),
    ("DELETE", "/api/auth/dataRole/delete/{id}", Admin),
    ("PUT", "/api/auth/dataRole/edit/{id}", Admin),
    ("GET", "/api/auth/dataRole/getRoleById/{id}", Admin),
    ("POST", "/api/auth/dataRole/save", Admin),
    ("DELETE", "/api/auth/dept/deleteDept/{id}", Admin),
    ("PUT", "/api/auth/dept/edit/{id}", Admin),
    ("GET", "/api/auth/dept/getDeptById/{id}", Admin),
    ("GET", "/api/auth/dept/getDeptList", Admin),
    ("GET", "/api/auth/dept/getDeptTree", Admin),
    ("POST", "/api/auth/dept/saveDept", Admin),
    ("POST", "/api/auth/login", Public),
    ("POST", "/api/auth/logout", Public),
    ("GET", "/api/auth/permission/getPermissList/{id}", Admin),
    ("GET", "/api/auth/permission/list", Admin),
    ("GET", "/api/auth/permission/mine", SignedIn),
    ("POST", "/api/auth/permission/rolePer/edit/{id}", Admin),
    ("DELETE", "/api/auth/role/delete/{id}", Admin),
    ("PUT", "/api/auth/role/edit/{id}", Admin),
    ("GET", "/api/auth/role/roleList", Admin),
    ("POST", "/api/auth/role/save", Admin),
    ("GET", "/api/auth/role/{id}", Admin),
    ("DELETE", "/api/auth/user/delete/{id}", Admin),
    ("PUT", "/api/auth/user/edit/{id}", Admin),
    ("POST", "/api/auth/user/save", Admin),
    ("PUT", "/api/auth/user/update/{id}", Admin),
    ("GET", "/api/auth/user/userList", Admin),
    ("PUT", "/api/auth/user/{id}", Admin),
    ("POST", "/api/backup/create", Admin),
    ("GET", "/api/backup/download/{name}", Admin),
    ("GET", "/api/backup/list", Admin),
    ("GET", "/api/backup/runs", Admin),
    ("DELETE", "/api/open/app/delete/{id}", Admin),
    ("GET", "/api/open/app/deliveries/{id}", Admin),
    ("PUT", "/api/open/app/edit/{id}", Admin),
    ("GET", "/api/open/app/list", Admin),
    ("POST", "/api/open/app/rotate/{id}", Admin),
    ("POST", "/api/open/app/save", Admin),
    ("POST", "/api/setup", Public),
    ("GET", "/api/sms/outbox", Admin),
];

/// Open-platform operations are called by apps, not accounts: each handler takes the app's
/// token as a parameter and checks its scope.
const OPEN: Declared = &[
    ("GET", "/api/app", App),
    ("GET", "/api/care/devices", App),
    ("GET", "/api/care/notices", App),
    ("GET", "/api/care/notices/{event_id}", App),
    ("GET", "/api/care/notices/{event_id}/image", App),
    ("GET", "/api/music/songs", App),
    ("POST", "/api/token", Public),
    ("GET", "/api/transit/agestruct", App),
    ("GET", "/api/transit/daily", App),
    ("GET", "/api/transit/month", App),
    ("GET", "/api/transit/od", App),
    ("GET", "/api/transit/realtime", App),
    ("GET", "/api/transit/stations", App),
];
