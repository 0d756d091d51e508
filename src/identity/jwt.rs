//! JWTs for the music, transit and system surfaces, signed with HS256 under a secret that
//! is generated on first start and kept in the data folder (mode 0600).

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::tokens::random_hex;
use super::IdentityError;

/// The header of every token hearth signs, as JWT libraries write it.
const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: i64,
    /// Random per token, so two logins in the same second give distinct tokens (and hashes).
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// HS256 only, written out here: a JWT library verifies every algorithm it knows (RSA,
/// ECDSA, EdDSA), and all of that code came into the binary for tokens hearth signs itself.
pub struct JwtKeys {
    mac: Hmac<Sha256>,
}

impl JwtKeys {
    pub fn load_or_create(secrets: &Path) -> anyhow::Result<JwtKeys> {
        let secret = read_or_create_secret(&secrets.join("jwt.key"))?;
        Ok(JwtKeys::new(secret.as_bytes()))
    }

    fn new(secret: &[u8]) -> JwtKeys {
        JwtKeys { mac: Hmac::new_from_slice(secret).expect("HMAC takes a key of any length") }
    }

    pub fn sign(&self, account_id: i64, iat: i64, exp: i64) -> Result<String, IdentityError> {
        let claims = Claims { sub: account_id, jti: random_hex(8), iat, exp };
        let payload =
            serde_json::to_vec(&claims).map_err(|e| IdentityError::Internal(format!("signing a token failed: {e}")))?;
        let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(payload));
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
    }

    /// The claims of a token this box signed with HS256 whose `exp` has not passed (a token
    /// is good through its `exp` second).
    pub fn verify(&self, token: &str) -> Result<Claims, IdentityError> {
        let (message, signature) = token.rsplit_once('.').ok_or(IdentityError::BadToken)?;
        let (header, payload) = message.rsplit_once('.').ok_or(IdentityError::BadToken)?;
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| IdentityError::BadToken);
        let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| IdentityError::BadToken)?;
        if header.alg != "HS256" {
            return Err(IdentityError::BadToken);
        }
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        // Compared in constant time.
        mac.verify_slice(&decode(signature)?).map_err(|_| IdentityError::BadToken)?;
        let claims: Claims = serde_json::from_slice(&decode(payload)?).map_err(|_| IdentityError::BadToken)?;
        if claims.exp < crate::clock::now() {
            return Err(IdentityError::TokenExpired);
        }
        Ok(claims)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now;

    fn verified(keys: &JwtKeys, token: &str) -> Result<i64, String> {
        keys.verify(token).map(|c| c.sub).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn tokens_verify_under_their_key_until_they_expire() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys.sign(7, now(), now() + 60).unwrap();
        assert_eq!(verified(&keys, &token), Ok(7));
        assert_eq!(token.split('.').next(), Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"));
        let other = JwtKeys::new(b"another secret, just as long as the first");
        assert!(verified(&other, &token).unwrap_err().contains("BadToken"));
        let through = keys.sign(7, now() - 60, now()).unwrap();
        assert_eq!(verified(&keys, &through), Ok(7), "good through its exp second");
        let expired = keys.sign(7, now() - 60, now() - 1).unwrap();
        assert!(verified(&keys, &expired).unwrap_err().contains("TokenExpired"));
    }

    #[test]
    fn altered_and_foreign_tokens_are_refused() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys.sign(7, now(), now() + 60).unwrap();
        let (message, signature) = token.rsplit_once('.').unwrap();
        let (header, _) = message.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":1,"jti":"x","iat":0,"exp":{}}}"#, now() + 60));
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let payload = message.split_once('.').unwrap().1;
        for bad in [
            format!("{header}.{forged}.{signature}"),
            format!("{none}.{payload}."),
            format!("{none}.{payload}.{signature}"),
            format!("{message}.{signature}="),
            format!("{message}"),
            format!("x.{token}"),
            String::new(),
        ] {
            assert!(verified(&keys, &bad).unwrap_err().contains("BadToken"), "{bad}");
        }
    }

    /// Tokens signed before (by the jsonwebtoken crate) still verify, and the other way round.
    #[test]
    fn tokens_are_those_a_jwt_library_writes_and_reads() {
        use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
        let secret = b"0123456789abcdef0123456789abcdef";
        let keys = JwtKeys::new(secret);
        let claims = Claims { sub: 9, jti: "abc".into(), iat: now(), exp: now() + 60 };
        let theirs =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(verified(&keys, &theirs), Ok(9));
        let ours = keys.sign(9, now(), now() + 60).unwrap();
        let read = jsonwebtoken::decode::<Claims>(
            &ours,
            &DecodingKey::from_secret(secret),
            &Validation::new(Algorithm::HS256),
        );
        assert_eq!(read.unwrap().claims.sub, 9);
    }
}
