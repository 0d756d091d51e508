//! Accounts as the music document sees them: signup, login, the caller's details, avatar,
//! password, and the permission and ban requests that become administrator tasks.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension};

use super::fields::{Fields, FilePart};
use super::media::{discard, file_url, store_image, FileKind};
use super::tasks::{self, TaskKind};
use super::{base_url, done, ok, permission_of, signed_in, Done, MusicToken, Reply};
use crate::clock::{local_datetime, now};
use crate::files::Bucket;
use crate::identity::accounts::{self, NewAccount};
use crate::identity::authz::Operation;
use crate::identity::password::Asker;
use crate::identity::{roles, Caller, IdentityError};
use crate::surfaces::client::client_key;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::Failure;
use crate::AppState;

pub struct UserApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
struct Credentials {
    /// 6–20 letters, digits or underscores
    username: String,
    /// 8–25 characters with an upper case letter, a lower case letter and a digit
    password: String,
}

#[derive(Object)]
#[allow(non_snake_case)]
struct UserDetail {
    uid: i64,
    username: String,
    nickname: String,
    emailAddress: String,
    phoneNumber: String,
    /// Absolute URL, or "" when none was set
    avatarUrl: String,
    /// admin | creator | user
    permission: String,
    /// JSON text
    profile: String,
    /// yyyy-MM-dd HH:mm:ss
    createdTime: String,
    /// yyyy-MM-dd HH:mm:ss
    updatedTime: String,
    isBanned: bool,
    /// yyyy-MM-dd HH:mm:ss of the last ban, or null
    bannedStart: Option<String>,
    /// yyyy-MM-dd HH:mm:ss of the last lifting of a ban, or null
    bannedEnd: Option<String>,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct UserUpdate {
    /// Whose details: the caller's own (administrators: anyone's)
    uid: LenientId,
    /// 1–20 characters
    nickname: Option<String>,
    emailAddress: Option<String>,
    /// Up to 20 digits
    phoneNumber: Option<String>,
    /// JSON text (a JSON object is accepted too)
    profile: Option<serde_json::Value>,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct AvatarForm {
    /// An http(s) URL of the new avatar (also accepted as a query parameter)
    avatarUrl: Option<String>,
    /// Or upload the image itself (PNG or JPEG), as `file` …
    file: Option<FilePart>,
    /// … or as `avatar`
    avatar: Option<FilePart>,
}

#[derive(Object, serde::Deserialize)]
struct PasswordChange {
    old_pwd: String,
    /// 8–25 characters with an upper case letter, a lower case letter and a digit
    new_pwd: String,
    /// The new password again
    re_pwd: String,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct PermissionRequest {
    /// Whose permission group should change (non-administrators: their own)
    uid: LenientId,
    /// admin | creator | user
    newPermission: String,
}

#[derive(Object, serde::Deserialize)]
#[allow(non_snake_case)]
struct BanRequest {
    /// Whom to ban (non-administrators: only themselves)
    uid: LenientId,
    /// true bans, false lifts a ban
    isBanned: LenientBool,
}

pub fn check_username(username: &str) -> Result<(), Failure> {
    let ok = (6..=20).contains(&username.len()) && username.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some(()).ok_or_else(|| Failure::Invalid("username must be 6 to 20 letters, digits or underscores".into()))
}

pub fn check_password(field: &str, password: &str) -> Result<(), Failure> {
    let chars = password.chars().count();
    let ok = (8..=25).contains(&chars)
        && !password.chars().any(char::is_whitespace)
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_digit());
    ok.then_some(()).ok_or_else(|| {
        Failure::Invalid(format!(
            "{field} must be 8 to 25 characters without spaces, with an upper case letter, a lower case letter and a digit"
        ))
    })
}

pub fn check_email(email: &str) -> Result<(), Failure> {
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|part| !part.is_empty())
        });
    valid.then_some(()).ok_or_else(|| Failure::Invalid("emailAddress is not a valid e-mail address".into()))
}

pub fn check_phone(phone: &str) -> Result<(), Failure> {
    (phone.len() <= 20 && phone.bytes().all(|b| b.is_ascii_digit()))
        .then_some(())
        .ok_or_else(|| Failure::Invalid("phoneNumber must be at most 20 digits".into()))
}

pub fn check_nickname(nickname: &str) -> Result<(), Failure> {
    let chars = nickname.trim().chars().count();
    (1..=20)
        .contains(&chars)
        .then_some(())
        .ok_or_else(|| Failure::Invalid("nickname must be 1 to 20 characters".into()))
}

/// The largest `profile` kept: it is returned with every user detail.
const PROFILE_MAX: usize = 64 * 1024;

/// `profile` as stored: JSON text.
fn profile_text(profile: serde_json::Value) -> Result<String, Failure> {
    let text = match profile {
        serde_json::Value::String(text) => serde_json::from_str::<serde_json::Value>(&text)
            .map(|_| text)
            .map_err(|_| Failure::Invalid("profile must be JSON text, e.g. \"{}\"".into()))?,
        other => other.to_string(),
    };
    if text.len() > PROFILE_MAX {
        return Err(Failure::Invalid(format!(
            "profile must be at most 64 KiB ({PROFILE_MAX} bytes), not {}",
            text.len()
        )));
    }
    Ok(text)
}

/// Whether the caller may act on `uid`'s account: their own, or any as an administrator.
pub fn may_act_on(caller: &Caller, uid: i64) -> Result<(), Failure> {
    if caller.account_id == uid || caller.is_admin() {
        Ok(())
    } else {
        Err(Failure::Forbidden("you may only change your own account".into()))
    }
}

fn account_exists(conn: &Connection, uid: i64) -> Result<(), Failure> {
    let found: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM account WHERE id = ?1)", [uid], |r| r.get(0))?;
    found.then_some(()).ok_or_else(|| Failure::NotFound(format!("no user with uid {uid}")))
}

/// An avatar as stored (an uploaded file's name, or a URL) as the URL a client can load.
fn avatar_url(base: &str, stored: Option<String>) -> String {
    match stored {
        Some(name) if crate::files::is_safe_name(&name) => file_url(base, FileKind::Avatars, Some(&name)),
        Some(url) => url,
        None => String::new(),
    }
}

fn detail(conn: &Connection, uid: i64, base: &str) -> Result<UserDetail, Failure> {
    let held = roles::of_account(conn, uid)?;
    conn.query_row(
        "SELECT id, COALESCE(username, ''), nickname, email, CASE WHEN music_phone <> '' THEN music_phone ELSE COALESCE(phone, '') END,
                avatar, music_profile, created_at, updated_at, banned, banned_start, banned_end
         FROM account WHERE id = ?1",
        [uid],
        |r| {
            Ok(UserDetail {
                uid: r.get(0)?,
                username: r.get(1)?,
                nickname: r.get(2)?,
                emailAddress: r.get(3)?,
                phoneNumber: r.get(4)?,
                avatarUrl: avatar_url(base, r.get(5)?),
                permission: permission_of(&held).into(),
                profile: r.get(6)?,
                createdTime: local_datetime(r.get(7)?),
                updatedTime: local_datetime(r.get(8)?),
                isBanned: r.get(9)?,
                bannedStart: r.get::<_, Option<i64>>(10)?.map(local_datetime),
                bannedEnd: r.get::<_, Option<i64>>(11)?.map(local_datetime),
            })
        },
    )
    .optional()?
    .ok_or_else(|| Failure::NotFound(format!("no user with uid {uid}")))
}

#[OpenApi]
impl UserApi {
    /// Sign up (x-www-form-urlencoded); the new account is a 普通用户 (permission `user`)
    #[oai(path = "/api/user/signup", method = "post")]
    async fn signup(&self, remote: &RemoteAddr, body: Fields<Credentials>) -> Done {
        check_username(&body.username)?;
        check_password("password", &body.password)?;
        let taken = |username: &str| Failure::Conflict(format!("the username {username} is taken; choose another"));
        // The cheap refusals come before the Argon2 work and before the address's quota.
        let wanted = body.username.clone();
        if self.0.db.read(move |c| Ok::<_, Failure>(accounts::by_username(c, &wanted)?)).await?.is_some() {
            return Err(taken(&body.username).into());
        }
        let client = client_key(remote);
        let signups = &self.0.identity.signups;
        signups.reserve(&client).map_err(Failure::RateLimited)?;
        let hash = self.0.identity.passwords.hash(Asker::Anonymous, &body.password).await;
        let hash = hash.inspect_err(|_| signups.release(&client))?;
        let username = body.value.username;
        self.0
            .db
            .write(move |tx| {
                let new = NewAccount {
                    username: Some(&username),
                    password_hash: &hash,
                    name: &username,
                    nickname: &username,
                    enabled: true,
                    ..Default::default()
                };
                match accounts::create(tx, &new, &[roles::USER]) {
                    Err(IdentityError::Conflict(_)) => Err(taken(&username)),
                    other => other.map(|_| ()).map_err(Failure::from),
                }
            })
            .await
            .inspect_err(|_| signups.release(&client))?;
        done()
    }

    /// Log in (x-www-form-urlencoded); `data` is the JWT to send in `Authorization`
    #[oai(path = "/api/user/login", method = "post")]
    async fn login(&self, remote: &RemoteAddr, body: Fields<Credentials>) -> Reply<String> {
        if body.username.is_empty() || body.password.is_empty() {
            return Err(Failure::Missing("username and password are required".into()).into());
        }
        let issued =
            self.0.identity.login_with_username(&client_key(remote), "music", &body.username, &body.password).await?;
        ok(issued.token)
    }

    /// The logged-in user's details
    #[oai(path = "/api/user", method = "get")]
    async fn me(&self, op: &Operation, req: &Request, token: MusicToken) -> Reply<UserDetail> {
        let caller = signed_in(&self.0, op, &token).await?;
        let base = base_url(&self.0, req);
        let uid = caller.account_id;
        ok(self.0.db.read(move |c| detail(c, uid, &base)).await?)
    }

    /// Update nickname, e-mail, phone number and profile (JSON); fields left out stay as they are
    #[oai(path = "/api/user", method = "put")]
    async fn update(&self, op: &Operation, token: MusicToken, body: Fields<UserUpdate>) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        let UserUpdate { uid, nickname, emailAddress: email, phoneNumber: phone, profile } = body.value;
        may_act_on(&caller, uid.0)?;
        if let Some(n) = &nickname {
            check_nickname(n)?;
        }
        if let Some(e) = &email {
            check_email(e)?;
        }
        if let Some(p) = &phone {
            check_phone(p)?;
        }
        let profile = profile.map(profile_text).transpose()?;
        self.0
            .db
            .write(move |tx| {
                account_exists(tx, uid.0)?;
                let change = accounts::Profile {
                    nickname: nickname.map(|n| n.trim().to_owned()),
                    email,
                    music_phone: phone,
                    music_profile: profile,
                    ..Default::default()
                };
                accounts::update_profile(tx, &caller, uid.0, &change)?;
                Ok::<_, Failure>(())
            })
            .await?;
        done()
    }

    /// Set the avatar: `avatarUrl` (query, as documented, or form field) or an uploaded image (multipart `file`); `data` is the avatar URL
    #[oai(path = "/api/user/avatar", method = "patch")]
    async fn avatar(
        &self,
        op: &Operation,
        req: &Request,
        token: MusicToken,
        /// An http(s) URL of the new avatar
        #[oai(name = "avatarUrl")]
        avatar_url_param: Query<Option<String>>,
        mut body: Fields<AvatarForm>,
    ) -> Reply<String> {
        let caller = signed_in(&self.0, op, &token).await?;
        let upload = body.file("file").or_else(|| body.file("avatar"));
        let (stored, new_file) = match (upload, avatar_url_param.0.or(body.value.avatarUrl.take())) {
            (Some(upload), _) => {
                let file = store_image(&self.0, "file", FileKind::Avatars, upload).await?;
                (file.name.clone(), Some(file))
            }
            (None, Some(url)) => {
                let url = url.trim().to_owned();
                let valid = (url.starts_with("http://") || url.starts_with("https://"))
                    && url.len() <= 2048
                    && !url.chars().any(char::is_whitespace);
                if !valid {
                    return Err(Failure::Invalid("avatarUrl must be an http:// or https:// URL".into()).into());
                }
                (url, None)
            }
            (None, None) => {
                return Err(
                    Failure::Missing("avatarUrl is required (or upload an image as multipart `file`)".into()).into()
                )
            }
        };
        let uid = caller.account_id;
        let value = stored.clone();
        let old: Option<String> = self
            .0
            .db
            .write(move |tx| {
                let old = tx.query_row("SELECT avatar FROM account WHERE id = ?1", [uid], |r| r.get(0))?;
                tx.execute(
                    "UPDATE account SET avatar = ?1, updated_at = ?2 WHERE id = ?3",
                    params![value, now(), uid],
                )?;
                Ok::<_, Failure>(old)
            })
            .await?;
        new_file.map(|f| f.keep());
        discard(&self.0, &[(Bucket::Portraits, old.filter(|o| crate::files::is_safe_name(o)))]);
        ok(avatar_url(&base_url(&self.0, req), Some(stored)))
    }

    /// Change the password; every session of the account ends, so log in again
    #[oai(path = "/api/user/password", method = "patch")]
    async fn password(
        &self,
        op: &Operation,
        remote: &RemoteAddr,
        token: MusicToken,
        body: Fields<PasswordChange>,
    ) -> Done {
        let caller = signed_in(&self.0, op, &token).await?;
        check_password("new_pwd", &body.new_pwd)?;
        if body.new_pwd != body.re_pwd {
            return Err(Failure::Invalid("re_pwd does not match new_pwd".into()).into());
        }
        let uid = caller.account_id;
        if !self.0.identity.check_own_password(&client_key(remote), uid, &body.old_pwd).await? {
            return Err(Failure::Invalid("old_pwd is not your current password".into()).into());
        }
        let hash = self.0.identity.passwords.hash(Asker::SignedIn, &body.new_pwd).await?;
        self.0.db.write(move |tx| Ok::<_, Failure>(accounts::set_password(tx, uid, &hash)?)).await?;
        done()
    }

    /// Ask administrators to change a permission group (admin | creator | user); creates a task
    #[oai(path = "/api/user/permission", method = "patch")]
    async fn permission(&self, op: &Operation, token: MusicToken, body: Fields<PermissionRequest>) -> Reply<i64> {
        let caller = signed_in(&self.0, op, &token).await?;
        let wanted = body.newPermission.trim().to_ascii_lowercase();
        if !["admin", "creator", "user"].contains(&wanted.as_str()) {
            return Err(Failure::Invalid("newPermission must be admin, creator or user".into()).into());
        }
        may_act_on(&caller, body.uid.0)?;
        ok(tasks::request(&self.0, &caller, body.uid.0, TaskKind::Permission, wanted).await?)
    }

    /// Ask administrators to ban (or lift the ban of) an account; non-administrators only themselves; creates a task
    #[oai(path = "/api/user/ban", method = "patch")]
    async fn ban(&self, op: &Operation, token: MusicToken, body: Fields<BanRequest>) -> Reply<i64> {
        let caller = signed_in(&self.0, op, &token).await?;
        if caller.account_id != body.uid.0 && !caller.is_admin() {
            return Err(
                Failure::Forbidden("non-administrators may only request a ban of their own account".into()).into()
            );
        }
        ok(tasks::request(&self.0, &caller, body.uid.0, TaskKind::Ban, body.isBanned.0.to_string()).await?)
    }

    /// Log out: the token stops working at once
    #[oai(path = "/api/user/logout", method = "post")]
    async fn logout(&self, op: &Operation, token: MusicToken) -> Done {
        signed_in(&self.0, op, &token).await?;
        self.0.identity.logout(&token.0.key).await?;
        done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_rules() {
        assert!(check_username("zhangsan").is_ok());
        assert!(check_username("user_01").is_ok());
        for bad in ["short", "has space1", "张三zhangsan", "a-b-c-d-e", &"x".repeat(21)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_password("password", "Ajm564237").is_ok());
        for bad in ["ajm564237", "AJM564237", "Ajmxxxxxx", "Aj5", "Ajm 564237", &format!("Aa1{}", "x".repeat(23))] {
            assert!(check_password("password", bad).is_err(), "{bad}");
        }
        assert!(check_email("wb@itcast.cn").is_ok());
        for bad in ["wb", "wb@", "@itcast.cn", "wb@itcast", "w b@itcast.cn", "wb@itcast..cn"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_phone("11122223333").is_ok() && check_phone("").is_ok());
        assert!(check_phone("123456789012345678901").is_err() && check_phone("+8613800").is_err());
        assert!(
            check_nickname("wb").is_ok() && check_nickname("  ").is_err() && check_nickname(&"字".repeat(21)).is_err()
        );
        assert!(profile_text(serde_json::json!("{}")).is_ok());
        assert!(profile_text(serde_json::json!("not json")).is_err());
        assert_eq!(profile_text(serde_json::json!({"a": 1})).unwrap(), r#"{"a":1}"#);
    }
}
