//! JWTs for the music, transit and system surfaces, signed with HS256 under a secret that
//! is generated on first start and kept in the data folder (mode 0600).

use std::fs;
use std::io::Write;
use std::path::Path;

use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::tokens::random_hex;
use super::IdentityError;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: i64,
    /// Random per token, so two logins in the same second give distinct tokens (and hashes).
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn load_or_create(secrets: &Path) -> anyhow::Result<JwtKeys> {
        let secret = read_or_create_secret(&secrets.join("jwt.key"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        })
    }

    pub fn sign(&self, account_id: i64, iat: i64, exp: i64) -> Result<String, IdentityError> {
        let claims = Claims { sub: account_id, jti: random_hex(8), iat, exp };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| IdentityError::Internal(format!("signing a token failed: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, IdentityError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                ErrorKind::ExpiredSignature => IdentityError::TokenExpired,
                _ => IdentityError::BadToken,
            }
        })
    }
}

/// Reads a secret file, or creates it with owner-only permissions.
pub fn read_or_create_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(text) = fs::read_to_string(path) {
        let text = text.trim().to_owned();
        anyhow::ensure!(text.len() >= 32, "{} is too short to be a secret", path.display());
        return Ok(text);
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let secret = random_hex(32);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(secret)
}
