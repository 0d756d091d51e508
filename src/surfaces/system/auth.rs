//! Logging in to the system surface (with an image captcha once a login name has failed
//! too often), and creating the first administrator from the one-time setup link.

use std::sync::Arc;
use std::time::Duration;

use poem::web::RemoteAddr;
use poem_openapi::{Object, OpenApi};

use super::{ok, permitted, Reply, SystemToken};
use crate::identity::authz::Operation;
use crate::identity::password::Asker;
use crate::identity::ratelimit::FailureLimiter;
use crate::identity::{accounts, setup, IdentityError, IssuedToken};
use crate::surfaces::body::JsonBody;
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct AuthApi {
    app: Arc<AppState>,
    /// Failed logins per login name: past `CAPTCHA_AFTER` in the window, a login needs a captcha.
    failures: FailureLimiter,
}

impl AuthApi {
    pub fn new(app: Arc<AppState>) -> AuthApi {
        AuthApi { app, failures: FailureLimiter::new(CAPTCHA_AFTER as u32, CAPTCHA_WINDOW) }
    }
}

const CAPTCHA_AFTER: usize = 3;
const CAPTCHA_WINDOW: Duration = Duration::from_secs(15 * 60);
const CAPTCHA_NEEDED: &str = "a captcha is needed: this login name failed 3 times in 15 minutes; \
     get one from GET /system/api/auth/captcha and send hash = md5(lowercase(code) + rand)";
const CAPTCHA_WRONG: &str =
    "the captcha answer is wrong or has expired; a captcha is needed: get a new one and try again";
const CAPTCHA_NEXT: &str = "wrong login name or password; a captcha is needed for the next attempt";

#[derive(Object, serde::Deserialize)]
struct LoginRequest {
    /// Login name
    loginname: String,
    password: String,
    /// md5(lowercase(code) + rand) of a captcha from `GET /api/auth/captcha`; required once
    /// the login name has failed 3 times within 15 minutes
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Object)]
struct CaptchaData {
    /// 5 random characters, part of the hash
    rand: String,
    /// The PNG image, plain base64
    imgdata: String,
}

#[derive(Object)]
pub struct TokenData {
    /// JWT for `Authorization: Bearer …`
    token: String,
    /// yyyy-MM-dd HH:mm:ss, server local time
    #[oai(rename = "expirationTime")]
    expiration_time: String,
}

impl From<IssuedToken> for TokenData {
    fn from(t: IssuedToken) -> Self {
        TokenData { expiration_time: t.expiration_time(), token: t.token }
    }
}

#[derive(Object)]
struct CareSessionData {
    /// A 32-hex care token (`?token=` of the care surface) for the same account
    token: String,
}

#[derive(Object, serde::Deserialize)]
struct SetupRequest {
    /// The token from the one-time setup link printed at first start
    token: String,
    loginname: String,
    /// At least 8 characters
    password: String,
    /// Optional 11-digit mobile number, to log in to the care surface too
    phone: Option<String>,
}

fn invalid_setup_link() -> Failure {
    Failure::Forbidden(
        "this setup link is not valid: it was used, it expired, or an administrator already exists".into(),
    )
}

pub fn is_mainland_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

#[OpenApi]
impl AuthApi {
    /// Log in with a login name and password (and a captcha hash after 3 failures)
    #[oai(path = "/api/auth/login", method = "post")]
    async fn login(&self, remote: &RemoteAddr, body: JsonBody<LoginRequest>) -> Reply<TokenData> {
        let LoginRequest { loginname, password, hash } = body.0;
        let key = loginname.trim().to_lowercase();
        let client = client_key(remote);
        // An address over its failure limit waits before anything else, captcha included.
        self.app.identity.login_failures.check(&client).map_err(IdentityError::RateLimited)?;
        if self.failures.count(&key) >= CAPTCHA_AFTER {
            let Some(hash) = hash.as_deref().map(str::trim).filter(|h| !h.is_empty()) else {
                return Err(Failure::Invalid(CAPTCHA_NEEDED.into()).into());
            };
            if !self.app.identity.check_image_captcha(&client, hash).await? {
                return Err(Failure::Invalid(CAPTCHA_WRONG.into()).into());
            }
        }
        match self.app.identity.login_with_username(&client, "system", &loginname, &password).await {
            Ok(issued) => {
                self.failures.clear(&key);
                ok(issued.into())
            }
            Err(IdentityError::WrongCredentials) => {
                self.failures.fail(&key);
                if self.failures.count(&key) >= CAPTCHA_AFTER {
                    Err(Failure::Invalid(CAPTCHA_NEXT.into()).into())
                } else {
                    Err(Failure::WrongCredentials.into())
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new image captcha for the login: 5 characters, valid 180 s, single use
    #[oai(path = "/api/auth/captcha", method = "get")]
    async fn captcha(&self, remote: &RemoteAddr) -> Reply<CaptchaData> {
        let drawn = self.app.identity.draw_image_captcha(&client_key(remote)).await?;
        ok(CaptchaData { imgdata: drawn.base64(), rand: drawn.rand })
    }

    /// Log out: the token stops working at once
    #[oai(path = "/api/auth/logout", method = "post")]
    async fn logout(&self, token: SystemToken) -> Reply<serde_json::Value> {
        // Like every other logout: a token that is not a live session is refused, not "done",
        // also when another logout of it ended the session after the guard admitted this one.
        self.app.identity.authenticate_jwt(Some(token.key())).await?;
        self.app.identity.logout(token.key()).await?;
        ok(serde_json::Value::Null)
    }

    /// A care session for the signed-in account, so the console's fall-alert and device
    /// pages can call the care surface: it dies after 10 idle minutes and never outlives
    /// this token
    #[oai(path = "/api/auth/careSession", method = "post")]
    async fn care_session(&self, op: &Operation, token: SystemToken) -> Reply<CareSessionData> {
        let caller = permitted(&self.app, op, &token).await?;
        let session = caller.session_id;
        let until: i64 = self
            .app
            .db
            .read(move |c| {
                Ok::<_, Failure>(c.query_row("SELECT expires_at FROM session WHERE id = ?1", [session], |r| r.get(0))?)
            })
            .await?;
        let token =
            crate::surfaces::care::open_console_session(&self.app, caller.account_id, Some(session), until).await?;
        ok(CareSessionData { token })
    }

    /// Create the first super-administrator with the one-time setup link's token
    #[oai(path = "/api/setup", method = "post")]
    async fn setup(&self, remote: &RemoteAddr, body: JsonBody<SetupRequest>) -> Reply<TokenData> {
        let SetupRequest { token, loginname, password, phone } = body.0;
        if loginname.trim().is_empty() {
            return Err(Failure::Invalid("loginname must not be empty".into()).into());
        }
        if password.chars().count() < 8 {
            return Err(Failure::Invalid("password must have at least 8 characters".into()).into());
        }
        if phone.as_deref().is_some_and(|p| !is_mainland_mobile(p)) {
            return Err(Failure::Invalid("phone must be an 11-digit mobile number".into()).into());
        }
        // The token is a credential: its attempt is reserved, and it is checked before any
        // Argon2 work so that bogus posts cost a lookup, not a hash.
        let client = client_key(remote);
        let failures = &self.app.identity.login_failures;
        failures.reserve(&client).map_err(IdentityError::RateLimited)?;
        let candidate = token.clone();
        let valid = self.app.db.read(move |c| Ok::<_, Failure>(setup::is_valid(c, &candidate)?)).await;
        if !matches!(valid, Ok(false)) {
            failures.release(&client);
        }
        if !valid? {
            return Err(invalid_setup_link().into());
        }
        let hash = self.app.identity.passwords.hash(Asker::Anonymous, &password).await?;
        let account_id = self
            .app
            .db
            .write(move |tx| {
                if !setup::redeem(tx, &token)? {
                    return Err(invalid_setup_link());
                }
                Ok(accounts::upsert_super_admin(tx, loginname.trim(), &hash, phone.as_deref())?)
            })
            .await?;
        let issued = self.app.identity.open_jwt_session(account_id, "system").await?;
        ok(issued.into())
    }
}
