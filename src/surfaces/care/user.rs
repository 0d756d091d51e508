//! Phone accounts: login, registration, passwords, nickname, profile, and `doki`, the
//! token heartbeat.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::captcha::{check_phone, check_sms};
use super::envelope::{Answer, CareBody, Empty};
use super::{signed_in, status, CAPTCHA_AFTER};
use crate::clock::now;
use crate::identity::accounts::{self, NewAccount};
use crate::identity::authz::Operation;
use crate::identity::password::Asker;
use crate::identity::tokens::random_hex;
use crate::identity::{roles, sessions, Caller, IdentityError};
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct UserApi(pub Arc<AppState>);

/// Idle minutes after which an ordinary care token dies (the document's 10 minutes).
pub const IDLE_SECS: i64 = 600;
/// However active, an ordinary token lasts at most a week and an enduring one 180 days.
const SHORT_LIFETIME_SECS: i64 = 7 * 86_400;
const ENDURING_LIFETIME_SECS: i64 = 180 * 86_400;
/// Tokens one account may hold; logging in again drops the oldest.
const MAX_TOKENS: i64 = 10;

#[derive(Object, serde::Deserialize)]
pub struct LoginData {
    /// 11-digit mobile number
    phone: String,
    pass: String,
    /// 1: a long-lived token; 0 (default, and any value that is not 1/true): dies after
    /// 10 idle minutes
    #[serde(default, deserialize_with = "loose_flag")]
    enduring: Option<i64>,
    /// Needed after 5 failed logins for this phone within 15 minutes:
    /// md5(lowercase(image captcha code) + rand)
    #[serde(default)]
    hash: Option<String>,
}

fn loose_flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = <Value as serde::Deserialize>::deserialize(d)?;
    let on = matches!(&value, Value::Bool(true))
        || value.as_i64() == Some(1)
        || value.as_str().is_some_and(|s| s == "1" || s.eq_ignore_ascii_case("true"));
    Ok(Some(on as i64))
}

#[derive(Object)]
pub struct TokenData {
    /// 32 hex digits, for `?token=` on every signed-in call
    token: String,
}

#[derive(Object, serde::Deserialize)]
pub struct RegisterData {
    phone: String,
    /// md5(SMS code + rand), from sms/generate with command_type 1 (2 for `forget`)
    hash: String,
    pass: String,
}

#[derive(Object, serde::Deserialize)]
pub struct PasswordData {
    phone: String,
    /// forget: md5(SMS code + rand) of an SMS sent with command_type 2; change: the image
    /// captcha's md5(lowercase(code) + rand), needed after 5 failed logins for the phone
    hash: Option<String>,
    /// forget: the new password
    pass: Option<String>,
    /// change: the current password
    old: Option<String>,
    /// change: the new password
    new: Option<String>,
}

#[derive(serde::Deserialize)]
struct Forget {
    phone: String,
    hash: String,
    pass: String,
}

#[derive(serde::Deserialize)]
struct Change {
    phone: String,
    old: String,
    new: String,
    /// The image-captcha hash, needed as for login after 5 failed logins for the phone.
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Object, serde::Deserialize)]
pub struct NicknameData {
    /// The account's phone (also accepted as `phone`)
    user_id: Option<String>,
    phone: Option<String>,
}

#[derive(Object)]
pub struct NicknameAnswer {
    nickname: Option<String>,
}

/// A care profile; empty texts are null, as the document shows them.
#[derive(Object)]
pub struct Profile {
    phone: Option<String>,
    name: Option<String>,
    nickname: Option<String>,
    email: Option<String>,
    level: i64,
}

#[derive(Object, serde::Deserialize)]
pub struct ProfileData {
    /// Must be the account's own phone; it cannot be changed
    phone: String,
    /// At most 20 characters; null clears it
    name: Option<String>,
    /// At most 20 characters; null clears it
    nickname: Option<String>,
    /// At most 50 characters; null clears it
    email: Option<String>,
    /// Only administrators may change it
    level: Option<i64>,
}

fn nonempty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

pub fn profile(conn: &Connection, account_id: i64) -> rusqlite::Result<Option<Profile>> {
    conn.query_row("SELECT phone, name, nickname, email, care_level FROM account WHERE id = ?1", [account_id], |r| {
        Ok(Profile {
            phone: r.get(0)?,
            name: nonempty(r.get(1)?),
            nickname: nonempty(r.get(2)?),
            email: nonempty(r.get(3)?),
            level: r.get(4)?,
        })
    })
    .optional()
}

pub fn profiles_with_phone(conn: &Connection) -> rusqlite::Result<Vec<Profile>> {
    let mut stmt = conn.prepare("SELECT id FROM account WHERE phone IS NOT NULL ORDER BY phone")?;
    let ids: Vec<i64> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    ids.into_iter().filter_map(|id| profile(conn, id).transpose()).collect()
}

/// A profile update: `None` leaves a field as it is.
pub struct ProfileChange {
    texts: [(&'static str, Option<String>); 3],
    pub level: Option<i64>,
}

impl ProfileChange {
    /// Reads the update from the raw `data`, where an absent key and null differ.
    pub fn read(data: &Map<String, Value>) -> Result<ProfileChange, Failure> {
        let text = |key: &'static str, max: usize| -> Result<(&'static str, Option<String>), Failure> {
            let value = match data.get(key) {
                None => None,
                Some(Value::Null) => Some(String::new()),
                Some(Value::String(s)) if s.chars().count() > max => {
                    return Err(Failure::Invalid(format!(
                        "Arg's value error: {key} may have at most {max} characters"
                    )));
                }
                Some(Value::String(s)) => Some(s.trim().to_owned()),
                Some(_) => {
                    return Err(Failure::WrongType(format!(
                        "Arg's value type error: data.{key} must be a string or null"
                    )))
                }
            };
            Ok((key, value))
        };
        let texts = [text("name", 20)?, text("nickname", 20)?, text("email", 50)?];
        if let (_, Some(email)) = &texts[2] {
            if !email.is_empty() && !email.contains('@') {
                return Err(Failure::Invalid("Arg's value error: email is not an e-mail address".into()));
            }
        }
        let level = match data.get("level") {
            None => None,
            Some(v) => Some(v.as_i64().filter(|l| *l >= 0).ok_or_else(|| {
                Failure::WrongType("Arg's value type error: data.level must be a whole number of 0 or more".into())
            })?),
        };
        Ok(ProfileChange { texts, level })
    }

    /// Applies the change on `caller`'s behalf (the account itself, or an administrator).
    pub fn apply(self, conn: &Connection, caller: &Caller, account_id: i64) -> Result<(), IdentityError> {
        let [(_, name), (_, nickname), (_, email)] = self.texts;
        let change = accounts::Profile { name, nickname, email, care_level: self.level, ..Default::default() };
        accounts::update_profile(conn, caller, account_id, &change)
    }
}

/// A new care token for an account; the account's oldest beyond `MAX_TOKENS` are dropped.
async fn open_session(
    app: &AppState,
    account_id: i64,
    idle_secs: Option<i64>,
    lifetime_secs: i64,
    issued_by: Option<i64>,
) -> Result<String, Failure> {
    let token = random_hex(16);
    let stored = token.clone();
    app.db
        .write(move |tx| {
            let new = sessions::NewSession {
                account_id,
                surface: "care",
                idle_secs,
                lifetime_secs,
                keep_at_most: Some(MAX_TOKENS),
                issued_by,
            };
            Ok::<_, Failure>(sessions::create(tx, &new, &stored)?)
        })
        .await?;
    Ok(token)
}

/// A care token for an account already signed in to the admin console, so its alert pages
/// can call care: an ordinary token (10 idle minutes) that never outlives `until`, the
/// console session's own expiry, and ends with that session (`console_session`).
pub async fn open_console_session(
    app: &AppState,
    account_id: i64,
    console_session: Option<i64>,
    until: i64,
) -> Result<String, Failure> {
    let lifetime = (until - now()).clamp(1, SHORT_LIFETIME_SECS);
    open_session(app, account_id, Some(IDLE_SECS), lifetime, console_session).await
}

fn no_user() -> Failure {
    Failure::Code(100, "Incorrect user: no account has this phone; register first".into())
}

impl UserApi {
    /// Checks a phone and password, counting failures per client address and per phone.
    async fn check_password(
        &self,
        client: &str,
        phone: &str,
        pass: &str,
        hash: Option<&str>,
    ) -> Result<accounts::Account, Failure> {
        let app = &self.0;
        app.identity.login_failures.check(client).map_err(Failure::RateLimited)?;
        if app.care.login_failures.count(phone) >= CAPTCHA_AFTER as usize {
            // A wrong captcha counts as a failed login there.
            let solved = match hash {
                Some(hash) => app.identity.check_image_captcha(client, hash).await?,
                None => false,
            };
            if !solved {
                return Err(Failure::Code(
                    status::BAD_HASH,
                    "Error Hash: too many failed logins for this phone; solve an image captcha and send its hash"
                        .into(),
                ));
            }
        }
        app.identity.login_failures.reserve(client).map_err(Failure::RateLimited)?;
        let wanted = phone.to_owned();
        let account = app.db.read(move |c| Ok::<_, Failure>(accounts::by_phone(c, &wanted)?)).await;
        let account = account.inspect_err(|_| app.identity.login_failures.release(client))?;
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let matched = app.identity.passwords.verify(Asker::Anonymous, pass, stored).await;
        if matched.is_err() {
            app.identity.login_failures.release(client);
        }
        if !matched? {
            app.care.login_failures.fail(phone);
            return Err(match account {
                None => no_user(),
                Some(_) => Failure::Code(101, "Error password: the password is wrong".into()),
            });
        }
        // The right password ends the run of failures: no captcha until the next five.
        app.care.login_failures.clear(phone);
        app.identity.login_failures.release(client);
        let account = account.expect("verified");
        if !account.enabled {
            return Err(Failure::AccountDisabled);
        }
        if account.banned {
            return Err(Failure::AccountBanned);
        }
        Ok(account)
    }

    async fn login_inner(&self, remote: &RemoteAddr, body: &CareBody<LoginData>) -> Result<TokenData, Failure> {
        body.kind(&[("login", "pass")])?;
        let data: LoginData = body.data()?;
        let account = self.check_password(&client_key(remote), &data.phone, &data.pass, data.hash.as_deref()).await?;
        let enduring = data.enduring == Some(1);
        let lifetime = if enduring { ENDURING_LIFETIME_SECS } else { SHORT_LIFETIME_SECS };
        let token = open_session(&self.0, account.id, (!enduring).then_some(IDLE_SECS), lifetime, None).await?;
        Ok(TokenData { token })
    }

    async fn register_inner(&self, client: &str, body: &CareBody<RegisterData>) -> Result<Empty, Failure> {
        body.kind(&[("register", "phone")])?;
        let RegisterData { phone, hash, pass } = body.data()?;
        check_phone(&phone)?;
        if pass.is_empty() {
            return Err(Failure::Code(status::EMPTY_VALUE, "Necessary key-value can't be empty: pass".into()));
        }
        let taken = phone.clone();
        let exists = self.0.db.read(move |c| Ok::<_, Failure>(accounts::by_phone(c, &taken)?)).await?.is_some();
        let existed = || Failure::Code(101, "Phone number existed: log in, or recover the password".into());
        if exists {
            return Err(existed());
        }
        check_sms(&self.0, &phone, 1, &hash, 400).await?;
        let signups = &self.0.identity.signups;
        signups.reserve(client).map_err(Failure::RateLimited)?;
        let password_hash = self.0.identity.passwords.hash(Asker::Anonymous, &pass).await;
        let password_hash = password_hash.inspect_err(|_| signups.release(client))?;
        self.0
            .db
            .write(move |tx| {
                let new = NewAccount {
                    phone: Some(&phone),
                    password_hash: &password_hash,
                    enabled: true,
                    ..Default::default()
                };
                match accounts::create(tx, &new, &[roles::USER]) {
                    Err(IdentityError::Conflict(_)) => Err(existed()),
                    other => other.map(|_| Empty {}).map_err(Failure::from),
                }
            })
            .await
            .inspect_err(|_| signups.release(client))
    }

    async fn password_inner(&self, remote: &RemoteAddr, body: &CareBody<PasswordData>) -> Result<Empty, Failure> {
        let (_, subtype) = body.kind(&[("password", "forget"), ("password", "change")])?;
        let (account_id, new) = if subtype == "forget" {
            let Forget { phone, hash, pass } = body.data()?;
            let wanted = phone.clone();
            let account = self.0.db.read(move |c| Ok::<_, Failure>(accounts::by_phone(c, &wanted)?)).await?;
            let account = account.ok_or_else(no_user)?;
            if pass.is_empty() {
                return Err(Failure::Code(status::EMPTY_VALUE, "Necessary key-value can't be empty: pass".into()));
            }
            check_sms(&self.0, &phone, 2, &hash, 400).await?;
            (account.id, pass)
        } else {
            let Change { phone, old, new, hash } = body.data()?;
            if new.is_empty() {
                return Err(Failure::Code(status::EMPTY_VALUE, "Necessary key-value can't be empty: new".into()));
            }
            (self.check_password(&client_key(remote), &phone, &old, hash.as_deref()).await?.id, new)
        };
        let password_hash = self.0.identity.passwords.hash(Asker::Anonymous, &new).await?;
        self.0
            .db
            .write(move |tx| {
                accounts::set_password(tx, account_id, &password_hash)?;
                Ok(Empty {})
            })
            .await
    }

    async fn nickname_inner(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<NicknameData>,
    ) -> Result<NicknameAnswer, Failure> {
        signed_in(&self.0, op, token).await?;
        body.kind(&[("info", "nickname")])?;
        let NicknameData { user_id, phone } = body.data()?;
        let phone = user_id
            .or(phone)
            .ok_or_else(|| Failure::Missing("Error data key: missing field `user_id` in `data`".into()))?;
        let nickname = self
            .0
            .db
            .read(move |c| {
                let found =
                    c.query_row("SELECT nickname FROM account WHERE phone = ?1", [&phone], |r| r.get::<_, String>(0));
                Ok::<_, Failure>(found.optional()?)
            })
            .await?;
        let nickname =
            nickname.ok_or_else(|| Failure::Code(100, "user not existed: no account has this phone".into()))?;
        Ok(NicknameAnswer { nickname: nonempty(nickname) })
    }

    async fn profile_of(&self, account_id: i64) -> Result<Profile, Failure> {
        let found = self.0.db.read(move |c| Ok::<_, Failure>(profile(c, account_id)?)).await?;
        found.ok_or(Failure::BadToken)
    }

    async fn update_inner(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<ProfileData>,
    ) -> Result<Empty, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        body.kind(&[("info", "update")])?;
        let phone: PhoneOnly = body.data()?;
        let change = ProfileChange::read(body.raw()?)?;
        let own = self.profile_of(caller.account_id).await?;
        if own.phone.as_deref() != Some(phone.phone.as_str()) {
            return Err(Failure::Invalid(
                "Arg's value error: phone must be this account's own phone; it cannot be changed".into(),
            ));
        }
        if change.level.is_some_and(|l| l != own.level) && !caller.is_admin() {
            return Err(Failure::Forbidden("No permission to operate: only administrators may change level".into()));
        }
        let id = caller.account_id;
        self.0.db.write(move |tx| Ok::<_, Failure>(change.apply(tx, &caller, id)?)).await?;
        Ok(Empty {})
    }
}

#[derive(serde::Deserialize)]
pub struct PhoneOnly {
    pub phone: String,
}

pub const INFO_TOKEN_REFUSAL: &str = "Error Token: log in again";
pub const DOKI_TOKEN_REFUSAL: &str = "Token not existed: log in again";

/// On the endpoints whose own tables say so, a bad token is status 1.
pub fn own_token_status(failure: Failure, message: &str) -> Failure {
    match failure {
        Failure::BadToken | Failure::TokenExpired => Failure::Code(1, message.into()),
        other => other,
    }
}

#[OpenApi]
impl UserApi {
    /// Log in with phone and password (type login, subtype pass)
    #[oai(path = "/api/user/login", method = "post")]
    async fn login(&self, remote: &RemoteAddr, body: CareBody<LoginData>) -> Answer<TokenData> {
        Answer::new(body.id, self.login_inner(remote, &body).await)
    }

    /// Register a phone account with an SMS code (type register, subtype phone)
    #[oai(path = "/api/user/register", method = "post")]
    async fn register(&self, remote: &RemoteAddr, body: CareBody<RegisterData>) -> Answer<Empty> {
        Answer::new(body.id, self.register_inner(&client_key(remote), &body).await)
    }

    /// Forgotten password with an SMS code (subtype forget), or change it (subtype change); ends every session
    #[oai(path = "/api/user/password", method = "post")]
    async fn password(&self, remote: &RemoteAddr, body: CareBody<PasswordData>) -> Answer<Empty> {
        Answer::new(body.id, self.password_inner(remote, &body).await)
    }

    /// A user's nickname by phone (type info, subtype nickname)
    #[oai(path = "/api/user/nickname", method = "post")]
    async fn nickname(
        &self,
        op: &Operation,
        token: Query<Option<String>>,
        body: CareBody<NicknameData>,
    ) -> Answer<NicknameAnswer> {
        Answer::new(body.id, self.nickname_inner(op, token.0.as_deref(), &body).await)
    }

    /// The caller's profile
    #[oai(path = "/api/user/info", method = "get")]
    async fn info(&self, op: &Operation, token: Query<Option<String>>) -> Answer<Profile> {
        let outcome = match signed_in(&self.0, op, token.0.as_deref()).await {
            Ok(caller) => self.profile_of(caller.account_id).await,
            Err(failure) => Err(own_token_status(failure, INFO_TOKEN_REFUSAL)),
        };
        Answer::get(outcome)
    }

    /// Update the caller's profile (type info, subtype update)
    #[oai(path = "/api/user/info", method = "post")]
    async fn update(&self, op: &Operation, token: Query<Option<String>>, body: CareBody<ProfileData>) -> Answer<Empty> {
        Answer::new(body.id, self.update_inner(op, token.0.as_deref(), &body).await)
    }

    /// Token heartbeat: checks the token and restarts its 10-minute idle clock
    #[oai(path = "/api/user/doki", method = "get")]
    async fn doki(&self, op: &Operation, token: Query<Option<String>>) -> Answer<Empty> {
        let outcome = signed_in(&self.0, op, token.0.as_deref()).await.map(|_| Empty {});
        Answer::get(outcome.map_err(|f| own_token_status(f, DOKI_TOKEN_REFUSAL)))
    }
}
