//! Identity core shared by every surface: accounts, Argon2id passwords, sessions and JWTs,
//! image captchas, SMS codes, failed-login limits and the first-run setup link.

pub mod accounts;
pub mod app_passwords;
pub mod authz;
pub mod callers;
pub mod captcha;
pub mod catalogue;
pub mod jwt;
pub mod password;
pub mod ratelimit;
pub mod roles;
pub mod sessions;
pub mod setup;
pub mod sms;
pub mod tokens;

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use crate::clock::{local_datetime, now};
use crate::config::Config;
use crate::db::{Db, DbError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("no token was sent")]
    NoToken,
    #[error("the token is not valid or was revoked")]
    BadToken,
    #[error("the token has expired")]
    TokenExpired,
    #[error("wrong login name or password")]
    WrongCredentials,
    #[error("this account is disabled")]
    Disabled,
    #[error("this account is banned")]
    Banned,
    #[error("{0}")]
    Forbidden(String),
    /// A change the account invariants refuse (the last super-administrator, one's own account).
    #[error("{0}")]
    Invalid(String),
    /// A login name or phone another account already uses.
    #[error("{0}")]
    Conflict(String),
    #[error("too many failed logins from this address; retry in {0} s")]
    RateLimited(u64),
    #[error("too many password checks are waiting; retry in a moment")]
    Busy,
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

impl From<rusqlite::Error> for IdentityError {
    fn from(e: rusqlite::Error) -> Self {
        IdentityError::Db(DbError::Sql(e))
    }
}

/// Who is calling, once a token has been checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: i64,
    pub session_id: i64,
    pub roles: Vec<i64>,
}

impl Caller {
    /// The box's operator at the command line (or a test setting up data): outranks every
    /// account. No request ever becomes this caller.
    pub fn operator() -> Caller {
        Caller { account_id: 0, session_id: 0, roles: vec![roles::SUPER_ADMIN] }
    }

    /// 超级管理员 or 管理员: sees and manages other accounts' data where a surface has such
    /// operations (which operations it may call at all is `Identity::authorize`'s).
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| *r == roles::SUPER_ADMIN || *r == roles::ADMIN)
    }

    pub fn is_super_admin(&self) -> bool {
        self.roles.contains(&roles::SUPER_ADMIN)
    }

    pub fn has_role(&self, role: i64) -> bool {
        self.roles.contains(&role)
    }
}

pub struct IssuedToken {
    pub token: String,
    pub account_id: i64,
    pub expires_at: i64,
}

impl IssuedToken {
    pub fn expiration_time(&self) -> String {
        local_datetime(self.expires_at)
    }
}

pub struct Identity {
    pub db: Db,
    pub passwords: password::Passwords,
    jwt: jwt::JwtKeys,
    /// Seals app passwords (secrets/app-passwords.key).
    app_cipher: app_passwords::Cipher,
    /// Failed logins per client address, shared by every surface.
    pub login_failures: ratelimit::FailureLimiter,
    /// Accounts created per client address (music signup, care register together).
    pub signups: ratelimit::FailureLimiter,
    /// Image captchas drawn per client address, on every surface together.
    captcha_draws: ratelimit::FailureLimiter,
    sms_gateway: Option<(reqwest::Client, String)>,
    token_secs: i64,
    /// The cached role → permission map.
    grants: authz::Grants,
    /// Signed-in callers and data scopes, dropped by any change to who they are.
    callers: callers::Callers,
}

impl Identity {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Identity> {
        let secrets = config.data.join("secrets");
        db.watch(callers::affects_callers);
        let sms_gateway = config.sms_webhook.as_ref().map(|url| {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client");
            (client, url.clone())
        });
        Ok(Identity {
            db,
            passwords: password::Passwords::new(config.password_queue)?,
            jwt: jwt::JwtKeys::load_or_create(&secrets)?,
            app_cipher: app_passwords::Cipher::load_or_create(&secrets)?,
            login_failures: ratelimit::FailureLimiter::new(
                config.login_max_failures,
                Duration::from_secs(config.login_window_secs),
            ),
            signups: ratelimit::FailureLimiter::new(
                config.signup_max_per_client,
                Duration::from_secs(config.signup_window_secs),
            ),
            captcha_draws: ratelimit::FailureLimiter::new(
                config.captcha_max_draws,
                Duration::from_secs(config.captcha_window_secs),
            ),
            sms_gateway,
            token_secs: config.token_hours as i64 * 3600,
            grants: authz::Grants::default(),
            callers: callers::Callers::default(),
        })
    }

    /// Checks a login name and password and opens a JWT session for `surface`. Failures
    /// count against `client`; a client over its limit is refused before any check.
    pub async fn login_with_username(
        &self,
        client: &str,
        surface: &'static str,
        username: &str,
        password: &str,
    ) -> Result<IssuedToken, IdentityError> {
        self.login_failures.reserve(client).map_err(IdentityError::RateLimited)?;
        let name = username.to_owned();
        let account = self.db.read(move |c| Ok::<_, IdentityError>(accounts::by_username(c, &name)?)).await;
        let account = account.inspect_err(|_| self.login_failures.release(client))?;
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let matched = self.passwords.verify(password::Asker::Anonymous, password, stored).await;
        if !matches!(matched, Ok(false)) {
            self.login_failures.release(client);
        }
        if !matched? {
            return Err(IdentityError::WrongCredentials);
        }
        let account = account.expect("verify is false without an account");
        if !account.enabled {
            return Err(IdentityError::Disabled);
        }
        if account.banned {
            return Err(IdentityError::Banned);
        }
        self.open_jwt_session(account.id, surface).await
    }

    pub async fn open_jwt_session(&self, account_id: i64, surface: &'static str) -> Result<IssuedToken, IdentityError> {
        let issued_at = now();
        let expires_at = issued_at + self.token_secs;
        let token = self.jwt.sign(account_id, issued_at, expires_at)?;
        let stored = token.clone();
        let lifetime = self.token_secs;
        self.db
            .write(move |tx| {
                let new = sessions::NewSession {
                    account_id,
                    surface,
                    idle_secs: None,
                    lifetime_secs: lifetime,
                    keep_at_most: None,
                    issued_by: None,
                };
                sessions::create(tx, &new, &stored)?;
                Ok::<_, IdentityError>(())
            })
            .await?;
        Ok(IssuedToken { token, account_id, expires_at })
    }

    /// A JWT for something other than an account session (the open platform's apps, whose
    /// tokens are stored in their own table): `subject` is that thing's row id.
    pub fn sign_jwt(&self, subject: i64, issued_at: i64, expires_at: i64) -> Result<String, IdentityError> {
        self.jwt.sign(subject, issued_at, expires_at)
    }

    /// Checks a JWT's signature and expiry only; answers its subject.
    pub fn verify_jwt(&self, token: &str) -> Result<i64, IdentityError> {
        Ok(self.jwt.verify(token)?.sub)
    }

    /// Checks a JWT from any of the JWT surfaces: signature and expiry, then that its session
    /// still exists (logout and revocation delete it) and the account may still log in. A
    /// token already seen in a current session skips the signature check: it passed it when
    /// it was cached, and its expiry is the session's.
    pub async fn authenticate_jwt(&self, token: Option<&str>) -> Result<Caller, IdentityError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(IdentityError::NoToken)?;
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        let hash = tokens::token_hash(token);
        let generation = self.db.generation();
        if let Some(entry) = self.callers.session(&hash, generation).filter(|e| e.alive_at(now())) {
            return Ok(entry.caller.clone());
        }
        self.jwt.verify(token)?;
        self.authenticate_hashed(hash, generation).await
    }

    /// Checks an opaque session token (care) or an already verified JWT. The check itself
    /// only reads; it writes only to slide an idle expiry or to delete an expired session.
    pub async fn authenticate_session(&self, token: String) -> Result<Caller, IdentityError> {
        let hash = tokens::token_hash(&token);
        let generation = self.db.generation();
        self.authenticate_hashed(hash, generation).await
    }

    /// The caller behind a token's hash: from memory while nothing that decides it has
    /// changed since `generation` (read before any lookup), else from the database.
    async fn authenticate_hashed(&self, hash: Vec<u8>, generation: u64) -> Result<Caller, IdentityError> {
        let now = now();
        let entry = match self.callers.session(&hash, generation).filter(|e| e.alive_at(now)) {
            Some(entry) => entry,
            None => self.load_session(hash, generation).await?,
        };
        let last_used = entry.last_used.load(std::sync::atomic::Ordering::Relaxed);
        let won = entry.wants_slide(now) && entry.last_used.compare_exchange(last_used, now, SeqCst, SeqCst).is_ok();
        if won {
            let id = entry.caller.session_id;
            self.db.write(move |tx| Ok::<_, IdentityError>(sessions::slide(tx, id)?)).await?;
        }
        Ok(entry.caller.clone())
    }

    async fn load_session(
        &self,
        hash: Vec<u8>,
        generation: u64,
    ) -> Result<std::sync::Arc<callers::SessionEntry>, IdentityError> {
        let key = hash.clone();
        let found = self
            .db
            .read(move |c| {
                let lookup = sessions::find(c, &key)?;
                let holder = match &lookup {
                    sessions::Lookup::Live { session, .. } => match accounts::by_id(c, session.account_id)? {
                        Some(account) => Some((roles::of_account(c, account.id)?, account)),
                        None => None,
                    },
                    _ => None,
                };
                Ok::<_, IdentityError>((lookup, holder))
            })
            .await?;
        match found {
            (sessions::Lookup::Unknown, _) | (sessions::Lookup::Live { .. }, None) => Err(IdentityError::BadToken),
            (sessions::Lookup::Expired { session_id }, _) => {
                self.callers.forget_session(&hash);
                self.db.write(move |tx| Ok::<_, IdentityError>(sessions::delete(tx, session_id)?)).await?;
                Err(IdentityError::TokenExpired)
            }
            (sessions::Lookup::Live { session, idle_secs, last_used_at }, Some((roles, account))) => {
                if !account.enabled {
                    return Err(IdentityError::Disabled);
                }
                if account.banned {
                    return Err(IdentityError::Banned);
                }
                let caller = Caller { account_id: account.id, session_id: session.id, roles };
                let entry = callers::SessionEntry::new(caller, session.expires_at, idle_secs, last_used_at, generation);
                Ok(self.callers.keep_session(hash, entry))
            }
        }
    }

    /// Forgets every cached caller, for a change to the database made outside this server
    /// (which its update hook cannot see): the next request of each reads its session again.
    pub fn forget_callers(&self) {
        self.callers.forget_all();
    }

    pub async fn logout(&self, token: &str) -> Result<bool, IdentityError> {
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim().to_owned();
        self.db.write(move |tx| Ok(sessions::revoke(tx, &token)?)).await
    }

    /// Draws and stores a new image captcha.
    pub async fn new_image_captcha(&self) -> Result<captcha::ImageCaptcha, IdentityError> {
        let drawn = tokio::task::spawn_blocking(captcha::draw)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| IdentityError::Internal("drawing the captcha failed".into()))?;
        self.db
            .write(move |tx| {
                captcha::store(tx, &drawn)?;
                Ok(drawn)
            })
            .await
    }

    /// Draws an image captcha for `client`, which may draw `captcha_max_draws` per window:
    /// drawing costs CPU and a row, and an unlimited supply would let a script farm them.
    pub async fn draw_image_captcha(&self, client: &str) -> Result<captcha::ImageCaptcha, IdentityError> {
        self.captcha_draws.reserve(client).map_err(IdentityError::RateLimited)?;
        self.new_image_captcha().await
    }

    /// Checks an image captcha's answer. A wrong answer counts as a failed login of
    /// `client`, reserved before the check like every other credential check.
    pub async fn check_image_captcha(&self, client: &str, hash: &str) -> Result<bool, IdentityError> {
        self.login_failures.reserve(client).map_err(IdentityError::RateLimited)?;
        let hash = hash.to_owned();
        let solved = self.db.write(move |tx| Ok::<_, IdentityError>(captcha::check(tx, &hash)?)).await;
        if !matches!(solved, Ok(false)) {
            self.login_failures.release(client);
        }
        solved
    }

    /// Checks the signed-in account's current password before a change. A wrong one counts
    /// as a failed login of `client`, reserved before the Argon2 work.
    pub async fn check_own_password(
        &self,
        client: &str,
        account_id: i64,
        password: &str,
    ) -> Result<bool, IdentityError> {
        self.login_failures.reserve(client).map_err(IdentityError::RateLimited)?;
        let stored = self
            .db
            .read(move |c| Ok::<_, IdentityError>(accounts::by_id(c, account_id)?.map(|a| a.password_hash)))
            .await
            .inspect_err(|_| self.login_failures.release(client))?;
        let matched = self.passwords.verify(password::Asker::SignedIn, password, stored).await;
        if !matches!(matched, Ok(false)) {
            self.login_failures.release(client);
        }
        matched
    }

    /// A new app password for the account: its id and the secret, which is shown only now.
    pub async fn create_app_password(&self, account_id: i64, name: String) -> Result<(i64, String), IdentityError> {
        let cipher = self.app_cipher.clone();
        self.db.write(move |tx| app_passwords::create(tx, &cipher, account_id, &name)).await
    }

    pub async fn app_passwords(&self, account_id: i64) -> Result<Vec<app_passwords::AppPasswordInfo>, IdentityError> {
        self.db.read(move |c| Ok(app_passwords::list(c, account_id)?)).await
    }

    /// Revokes one of the account's own app passwords; false when it has none with that id.
    pub async fn revoke_app_password(&self, account_id: i64, id: i64) -> Result<bool, IdentityError> {
        self.db.write(move |tx| Ok(app_passwords::revoke(tx, account_id, id)?)).await
    }

    /// Checks a Subsonic client's credential like every other login: failures count against
    /// `client`. The caller has no session (`session_id` 0): an app password is its own
    /// credential. The credential's app passwords come from memory while nothing that
    /// decides them has changed (see `callers`), so a cover grid's burst of requests costs
    /// no database call and no write beyond a use recorded once a minute.
    pub async fn authenticate_app(
        &self,
        client: &str,
        credential: app_passwords::AppCredential,
    ) -> Result<Caller, IdentityError> {
        // A client over its limit is refused before it costs a lookup.
        self.login_failures.check(client).map_err(IdentityError::RateLimited)?;
        let key = credential.keyring_key();
        let generation = self.db.generation();
        let keys = match self.callers.app_keys(&key, generation) {
            Some(keys) => Some(keys),
            None => self.load_app_keys(key, generation).await?,
        };
        // The attempt is taken, decided and given back with no wait in between: parallel
        // guesses still cannot pass the limit, and requests waiting for the database above
        // hold no attempt, so a burst of good ones is never taken for failed logins.
        self.login_failures.reserve(client).map_err(IdentityError::RateLimited)?;
        let matched = keys.as_ref().and_then(|k| Some((k, k.keyring.matching(&self.app_cipher, &credential)?)));
        let Some((keys, app_id)) = matched else { return Err(IdentityError::WrongCredentials) };
        self.login_failures.release(client);
        if !keys.enabled {
            return Err(IdentityError::Disabled);
        }
        if keys.banned {
            return Err(IdentityError::Banned);
        }
        if keys.keyring.claim_touch(app_id, now()) {
            self.db.write(move |tx| Ok::<_, IdentityError>(app_passwords::touch(tx, app_id)?)).await?;
        }
        Ok(keys.caller.clone())
    }

    async fn load_app_keys(
        &self,
        key: app_passwords::KeyringKey,
        generation: u64,
    ) -> Result<Option<std::sync::Arc<callers::AppKeys>>, IdentityError> {
        let lookup = key.clone();
        let loaded = self
            .db
            .read(move |c| {
                let Some((account, keyring)) = app_passwords::keyring(c, &lookup)? else { return Ok(None) };
                let caller = Caller { account_id: account.id, session_id: 0, roles: roles::of_account(c, account.id)? };
                Ok::<_, IdentityError>(Some(callers::AppKeys::new(
                    keyring,
                    caller,
                    account.enabled,
                    account.banned,
                    generation,
                )))
            })
            .await?;
        Ok(loaded.map(|keys| self.callers.keep_app_keys(key, keys)))
    }

    /// Issues an SMS code and sends it; answers the code's `rand`.
    pub async fn send_sms_code(&self, phone: &str, command_type: i64) -> Result<String, IdentityError> {
        let sms = sms::SmsCode::new(phone, command_type);
        let to_outbox = self.sms_gateway.is_none();
        let sms = self
            .db
            .write(move |tx| {
                sms::store(tx, &sms, to_outbox)?;
                Ok::<_, IdentityError>(sms)
            })
            .await?;
        if let Some((client, url)) = &self.sms_gateway {
            if let Err(e) = sms::post_to_gateway(client, url, &sms).await {
                let rand = sms.rand.clone();
                self.db.write(move |tx| Ok::<_, IdentityError>(sms::forget(tx, &rand)?)).await?;
                return Err(e);
            }
        }
        Ok(sms.rand)
    }

    pub async fn check_sms_code(
        &self,
        phone: &str,
        command_type: i64,
        hash: &str,
    ) -> Result<sms::SmsCheck, IdentityError> {
        let (phone, hash) = (phone.to_owned(), hash.to_owned());
        self.db.write(move |tx| Ok(sms::check(tx, &phone, command_type, &hash)?)).await
    }
}
