//! App passwords: named secrets an account creates for the music apps that speak Subsonic.
//! Subsonic's token check (`t = md5(password + s)`) needs the secret itself, which an Argon2
//! hash cannot give back, so each one is kept encrypted with AES-256-GCM under a key in the
//! data folder's `secrets/` (the account id is the associated data, so a ciphertext moved
//! to another account's row does not open). A SHA-256 of the secret finds it when it comes
//! as a plain password or an API key. Changing the account's password deletes them all.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::Rng;
use rusqlite::types::Value;
use rusqlite::{params, Connection};

use super::accounts::{self, Account};
use super::tokens::{md5_hex, random_alphanumeric, token_hash};
use super::IdentityError;
use crate::clock::now;

/// Characters of a new app password (alphanumeric: about 143 bits).
const LENGTH: usize = 24;
/// `last_used_at` is written at most this often per app password, so a streaming client does
/// not turn every request into a write.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone)]
pub struct Cipher(Aes256Gcm);

impl Cipher {
    pub fn load_or_create(secrets: &Path) -> anyhow::Result<Cipher> {
        let text = super::jwt::read_or_create_secret(&secrets.join("app-passwords.key"))?;
        let key = hex::decode(&text).ok().filter(|k| k.len() == 32);
        let key = key.ok_or_else(|| anyhow::anyhow!("secrets/app-passwords.key must hold 64 hex digits"))?;
        Ok(Cipher(Aes256Gcm::new_from_slice(&key).expect("a 32-byte key")))
    }

    fn seal(&self, account_id: i64, secret: &str) -> Result<(Vec<u8>, Vec<u8>), IdentityError> {
        let nonce: [u8; 12] = rand::thread_rng().gen();
        let aad = account_id.to_be_bytes();
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), Payload { msg: secret.as_bytes(), aad: &aad })
            .map_err(|_| IdentityError::Internal("encrypting an app password failed".into()))?;
        Ok((nonce.to_vec(), sealed))
    }

    fn open(&self, account_id: i64, nonce: &[u8], sealed: &[u8]) -> Option<String> {
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let aad = account_id.to_be_bytes();
        let plain = self.0.decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: &aad }).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// An app password as its owner sees it in a list: never the secret.
#[derive(Debug, Clone)]
pub struct AppPasswordInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// How a Subsonic client proved who it is.
pub enum AppCredential {
    /// `u` + `t` + `s`: `t` = md5(app password + `s`).
    Token { username: String, token: String, salt: String },
    /// `u` + `p`: the app password itself.
    Password { username: String, password: String },
    /// OpenSubsonic `apiKey`: the app password alone names its account.
    ApiKey(String),
}

pub fn create(conn: &Connection, cipher: &Cipher, account_id: i64, name: &str) -> Result<(i64, String), IdentityError> {
    let secret = random_alphanumeric(LENGTH);
    let (nonce, sealed) = cipher.seal(account_id, &secret)?;
    conn.execute(
        "INSERT INTO app_password (account_id, name, nonce, sealed, lookup, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![account_id, name, nonce, sealed, token_hash(&secret), now()],
    )?;
    Ok((conn.last_insert_rowid(), secret))
}

pub fn list(conn: &Connection, account_id: i64) -> rusqlite::Result<Vec<AppPasswordInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, created_at, last_used_at FROM app_password WHERE account_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([account_id], |r| {
        Ok(AppPasswordInfo { id: r.get(0)?, name: r.get(1)?, created_at: r.get(2)?, last_used_at: r.get(3)? })
    })?;
    rows.collect()
}

/// Deletes one of the account's own app passwords; false when it has none with that id.
pub fn revoke(conn: &Connection, account_id: i64, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM app_password WHERE id = ?1 AND account_id = ?2", [id, account_id])? > 0)
}

/// Ends every app password of the account (its password changed).
pub fn revoke_all(conn: &Connection, account_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM app_password WHERE account_id = ?1", [account_id])
}

/// Where a credential's app passwords are found: under its login name, or (an API key)
/// under the key's hash.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum KeyringKey {
    Username(String),
    Lookup(Vec<u8>),
}

impl AppCredential {
    pub fn keyring_key(&self) -> KeyringKey {
        match self {
            AppCredential::ApiKey(key) => KeyringKey::Lookup(token_hash(key)),
            AppCredential::Password { username, .. } | AppCredential::Token { username, .. } => {
                KeyringKey::Username(username.clone())
            }
        }
    }
}

/// App passwords of one account as stored, so that a credential can be checked in memory:
/// the secrets stay sealed until a token credential needs them.
pub struct Keyring {
    account_id: i64,
    apps: Vec<StoredApp>,
}

struct StoredApp {
    id: i64,
    lookup: Vec<u8>,
    nonce: Vec<u8>,
    sealed: Vec<u8>,
    last_used: AtomicI64,
}

/// The app passwords a credential can name, with their account: every one of the named
/// account, or the one with the API key's hash. None when there is no such account or key.
pub fn keyring(conn: &Connection, key: &KeyringKey) -> rusqlite::Result<Option<(Account, Keyring)>> {
    let (account, apps) = match key {
        KeyringKey::Username(name) => {
            let Some(account) = accounts::by_username(conn, name)? else { return Ok(None) };
            let apps = stored_apps(conn, "account_id = ?1", Value::Integer(account.id))?;
            (account, apps)
        }
        KeyringKey::Lookup(hash) => {
            let apps = stored_apps(conn, "lookup = ?1", Value::Blob(hash.clone()))?;
            let Some((owner, _)) = apps.first() else { return Ok(None) };
            let Some(account) = accounts::by_id(conn, *owner)? else { return Ok(None) };
            (account, apps)
        }
    };
    let keyring = Keyring { account_id: account.id, apps: apps.into_iter().map(|(_, app)| app).collect() };
    Ok(Some((account, keyring)))
}

/// The app passwords `filter` picks (one parameter, `?1`), each with its account's id.
fn stored_apps(conn: &Connection, filter: &str, value: Value) -> rusqlite::Result<Vec<(i64, StoredApp)>> {
    let sql = format!(
        "SELECT account_id, id, lookup, nonce, sealed, coalesce(last_used_at, 0) FROM app_password WHERE {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let apps = stmt.query_map([value], |r| {
        let app = StoredApp {
            id: r.get(1)?,
            lookup: r.get(2)?,
            nonce: r.get(3)?,
            sealed: r.get(4)?,
            last_used: AtomicI64::new(r.get(5)?),
        };
        Ok((r.get(0)?, app))
    })?;
    apps.collect()
}

impl Keyring {
    /// The id of the app password `credential` proves, if any.
    pub fn matching(&self, cipher: &Cipher, credential: &AppCredential) -> Option<i64> {
        let by_secret = |secret: &str| {
            let hash = token_hash(secret);
            self.apps.iter().find(|app| constant_time_eq(&app.lookup, &hash)).map(|app| app.id)
        };
        match credential {
            AppCredential::ApiKey(secret) | AppCredential::Password { password: secret, .. } => by_secret(secret),
            AppCredential::Token { token, salt, .. } => {
                let wanted = token.to_ascii_lowercase();
                self.apps.iter().map(|app| (app, cipher.open(self.account_id, &app.nonce, &app.sealed))).find_map(
                    |(app, secret)| {
                        let hash = md5_hex(&format!("{}{salt}", secret?));
                        constant_time_eq(hash.as_bytes(), wanted.as_bytes()).then_some(app.id)
                    },
                )
            }
        }
    }

    /// Whether app password `id`'s use should be recorded at `now` (at most once a minute);
    /// the first caller to ask claims it.
    pub fn claim_touch(&self, id: i64, now: i64) -> bool {
        let Some(app) = self.apps.iter().find(|app| app.id == id) else { return false };
        let last = app.last_used.load(Ordering::Relaxed);
        now - last >= TOUCH_EVERY_SECS
            && app.last_used.compare_exchange(last, now, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }
}

/// Records a use (`Keyring::claim_touch` keeps this to once a minute per app password).
pub fn touch(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute("UPDATE app_password SET last_used_at = ?1 WHERE id = ?2", params![now(), id])?;
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
