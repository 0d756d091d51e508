//! App passwords: named secrets an account creates for the music apps that speak Subsonic.
//! Subsonic's token check (`t = md5(password + s)`) needs the secret itself, which an Argon2
//! hash cannot give back, so each one is kept encrypted with AES-256-GCM under a key in the
//! data folder's `secrets/` (the account id is the associated data, so a ciphertext moved
//! to another account's row does not open). A SHA-256 of the secret finds it when it comes
//! as a plain password or an API key. Changing the account's password deletes them all.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};

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

/// The account and app password a credential matches, if any.
pub fn find(conn: &Connection, cipher: &Cipher, credential: &AppCredential) -> rusqlite::Result<Option<(i64, i64)>> {
    let by_secret = |secret: &str| {
        conn.query_row("SELECT id, account_id FROM app_password WHERE lookup = ?1", [token_hash(secret)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .optional()
    };
    let account_named = |username: &str| super::accounts::by_username(conn, username).map(|a| a.map(|a| a.id));
    match credential {
        AppCredential::ApiKey(key) => by_secret(key).map(|found| found.map(|(id, account)| (account, id))),
        AppCredential::Password { username, password } => {
            let Some(account) = account_named(username)? else { return Ok(None) };
            Ok(by_secret(password)?.filter(|(_, owner)| *owner == account).map(|(id, _)| (account, id)))
        }
        AppCredential::Token { username, token, salt } => {
            let Some(account) = account_named(username)? else { return Ok(None) };
            let mut stmt = conn.prepare_cached("SELECT id, nonce, sealed FROM app_password WHERE account_id = ?1")?;
            let rows = stmt.query_map([account], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?))
            })?;
            let wanted = token.to_ascii_lowercase();
            for row in rows {
                let (id, nonce, sealed) = row?;
                let Some(secret) = cipher.open(account, &nonce, &sealed) else { continue };
                if constant_time_eq(md5_hex(&format!("{secret}{salt}")).as_bytes(), wanted.as_bytes()) {
                    return Ok(Some((account, id)));
                }
            }
            Ok(None)
        }
    }
}

/// Records a use, at most once a minute per app password.
pub fn touch(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    let at = now();
    conn.execute(
        "UPDATE app_password SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
        params![at, id, at - TOUCH_EVERY_SECS],
    )?;
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
