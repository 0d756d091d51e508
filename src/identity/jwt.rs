//! JWTs for the music, transit and system surfaces, signed with HS256 under a secret that
//! is generated on first start and kept in the data folder (mode 0600).

use std::fs;
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

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
        // Fails only when already installed, by an earlier server in the same process.
        let _ = HS256_ONLY.install_default();
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

/// The only algorithm hearth signs or accepts. jsonwebtoken's bundled providers carry every
/// JWS algorithm (RSA, ECDSA, EdDSA) and are all reachable through its run-time dispatch,
/// about 0.3 MB of code a token of ours never uses; `Validation` already refuses any other
/// `alg` before a verifier is asked for.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: |alg, key| match alg {
        Algorithm::HS256 => Ok(Box::new(Hs256(hmac_of(key.as_bytes())?))),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    },
    verifier_factory: |alg, key| match alg {
        Algorithm::HS256 => Ok(Box::new(Hs256(hmac_of(key.try_get_as_bytes()?)?))),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    },
    key_utils: KeyUtils::new_unimplemented(),
};

struct Hs256(Hmac<Sha256>);

fn hmac_of(secret: &[u8]) -> jsonwebtoken::errors::Result<Hmac<Sha256>> {
    Hmac::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.0.clone().chain_update(message).finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    /// In constant time (`verify_slice`), so a forger learns nothing from how long a refusal takes.
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        self.0.clone().chain_update(message).verify_slice(signature).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
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
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};

    use super::{IdentityError, JwtKeys};
    use crate::clock::now;

    fn fresh_keys() -> (tempfile::TempDir, JwtKeys) {
        let dir = tempfile::tempdir().unwrap();
        let keys = JwtKeys::load_or_create(dir.path()).unwrap();
        (dir, keys)
    }

    /// A token whose header says `alg`, signed with `secret` by HMAC-SHA-512 (or not at all).
    fn token_with(alg: &str, secret: Option<&[u8]>) -> String {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#));
        let claims = format!(r#"{{"sub":1,"jti":"x","iat":{},"exp":{}}}"#, now(), now() + 600);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let signature = secret.map_or_else(String::new, |secret| {
            let mac = Hmac::<sha2::Sha512>::new_from_slice(secret).unwrap().chain_update(message.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        });
        format!("{message}.{signature}")
    }

    #[test]
    fn a_signed_token_verifies_and_an_expired_one_says_so() {
        let (_dir, keys) = fresh_keys();
        let token = keys.sign(7, now(), now() + 600).unwrap();
        assert_eq!(keys.verify(&token).unwrap().sub, 7);
        let expired = keys.sign(7, now() - 600, now() - 1).unwrap();
        assert!(matches!(keys.verify(&expired), Err(IdentityError::TokenExpired)));
    }

    #[test]
    fn altered_foreign_and_other_algorithm_tokens_are_refused() {
        let (dir, keys) = fresh_keys();
        let token = keys.sign(7, now(), now() + 600).unwrap();
        let (message, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let altered = format!("{message}.{flipped}{}", &signature[1..]);
        assert!(matches!(keys.verify(&altered), Err(IdentityError::BadToken)));

        let (_other_dir, other) = fresh_keys();
        assert!(matches!(other.verify(&token), Err(IdentityError::BadToken)));

        let secret = std::fs::read(dir.path().join("jwt.key")).unwrap();
        let forgeries =
            [token_with("HS512", Some(&secret)), token_with("none", None), token_with("RS256", Some(&secret))];
        for forged in forgeries {
            assert!(matches!(keys.verify(&forged), Err(IdentityError::BadToken)), "{forged} was accepted");
        }
    }
}
