//! The two pieces of cryptography Web Push needs: the VAPID signature that names hearth to
//! the push service (RFC 8292), and the `aes128gcm` encryption that keeps the message
//! readable only by the browser that subscribed (RFC 8291 over RFC 8188).

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

use crate::identity::jwt::read_or_create_secret;

/// One record holds the whole message; push services take at most 4096 bytes of body.
const RECORD_SIZE: u32 = 4096;
/// Body bytes before the ciphertext: salt, record size, key id length, key id.
const HEADER: usize = 16 + 4 + 1 + 65;
/// The largest plaintext that fits: 4096 minus the header, the tag and the delimiter.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER - 16 - 1;

/// hearth's VAPID key pair, kept in `secrets/vapid.key` (the private scalar in hex, 0600).
pub struct Vapid {
    key: SigningKey,
    /// The public key, uncompressed SEC1 point in unpadded base64url, as browsers take it.
    pub public_key: String,
}

impl Vapid {
    pub fn load_or_create(secrets: &Path) -> anyhow::Result<Vapid> {
        let path = secrets.join("vapid.key");
        let text = read_or_create_secret(&path)?;
        let bytes = hex::decode(&text).map_err(|_| anyhow::anyhow!("{} is not hex", path.display()))?;
        // 32 random bytes are a valid scalar except with probability about 2^-32.
        let secret = SecretKey::from_slice(&bytes).map_err(|_| {
            anyhow::anyhow!("{} is not a P-256 private key; delete it to make a new one", path.display())
        })?;
        let public_key = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(Vapid { key: SigningKey::from(&secret), public_key })
    }

    /// `Authorization: vapid t=<ES256 JWT>, k=<public key>` for a push service at `audience`
    /// (its origin), valid until `expires` (Unix seconds; at most 24 h ahead).
    pub fn authorization(&self, audience: &str, expires: i64, subject: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": expires, "sub": subject });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signed.as_bytes());
        format!("vapid t={signed}.{}, k={}", URL_SAFE_NO_PAD.encode(signature.to_bytes()), self.public_key)
    }
}

/// Browsers send keys in base64url, some padded; standard base64 is taken too.
pub fn decode_key(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
        .or_else(|| URL_SAFE_NO_PAD.decode(trimmed.replace('+', "-").replace('/', "_")).ok())
}

/// A browser's `p256dh`: an uncompressed point on P-256.
pub fn browser_key(bytes: &[u8]) -> Option<PublicKey> {
    if bytes.len() != 65 || bytes[0] != 4 {
        return None;
    }
    PublicKey::from_sec1_bytes(bytes).ok()
}

fn expand<const N: usize>(hkdf: &Hkdf<Sha256>, info: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    hkdf.expand(info, &mut out).expect("HKDF-SHA256 gives up to 8160 bytes");
    out
}

/// The `aes128gcm` body for one subscription: a fresh key pair and salt each time, the
/// whole plaintext in one record. `plaintext` must be at most `MAX_PLAINTEXT` bytes.
pub fn encrypt(browser: &PublicKey, auth: &[u8], plaintext: &[u8]) -> Vec<u8> {
    assert!(plaintext.len() <= MAX_PLAINTEXT, "the caller keeps payloads within one record");
    let ours = p256::ecdh::EphemeralSecret::random(&mut rand::rngs::OsRng);
    let our_public = ours.public_key().to_encoded_point(false);
    let their_public = browser.to_encoded_point(false);
    let shared = ours.diffie_hellman(browser);

    // RFC 8291 §3.4: the auth secret and both public keys go into the input keying material.
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(their_public.as_bytes());
    key_info.extend_from_slice(our_public.as_bytes());
    let ikm: [u8; 32] = expand(&Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()), &key_info);

    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let cek: [u8; 16] = expand(&prk, b"Content-Encoding: aes128gcm\0");
    let nonce: [u8; 12] = expand(&prk, b"Content-Encoding: nonce\0");

    let mut record = plaintext.to_vec();
    record.push(2); // the last (and only) record's delimiter
    let cipher = Aes128Gcm::new_from_slice(&cek).expect("a 16-byte key");
    let sealed = cipher.encrypt(&Nonce::from(nonce), record.as_slice()).expect("AES-GCM takes this length");

    let mut body = Vec::with_capacity(HEADER + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(our_public.as_bytes());
    body.extend_from_slice(&sealed);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8291 §5 decryption, written out independently of `encrypt`.
    fn decrypt(secret: &SecretKey, auth: &[u8], body: &[u8]) -> Vec<u8> {
        let (salt, rest) = body.split_at(16);
        let id_len = rest[4] as usize;
        let (sender, sealed) = rest[5..].split_at(id_len);
        let sender = PublicKey::from_sec1_bytes(sender).unwrap();
        let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(secret.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(sender.to_encoded_point(false).as_bytes());
        let ikm: [u8; 32] = expand(&Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()), &info);
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let cek: [u8; 16] = expand(&prk, b"Content-Encoding: aes128gcm\0");
        let nonce: [u8; 12] = expand(&prk, b"Content-Encoding: nonce\0");
        let mut plain = Aes128Gcm::new_from_slice(&cek).unwrap().decrypt(&Nonce::from(nonce), sealed).unwrap();
        assert_eq!(plain.pop(), Some(2));
        plain
    }

    #[test]
    fn a_message_decrypts_with_the_browser_key_only() {
        let browser = SecretKey::random(&mut rand::rngs::OsRng);
        let auth = [7u8; 16];
        let body = encrypt(&browser.public_key(), &auth, b"{\"type\":\"fall\"}");
        assert_eq!(&body[16..20], &4096u32.to_be_bytes());
        assert_eq!(decrypt(&browser, &auth, &body), b"{\"type\":\"fall\"}");
        let other = SecretKey::random(&mut rand::rngs::OsRng);
        let wrong = std::panic::catch_unwind(|| decrypt(&other, &auth, &body));
        assert!(wrong.is_err(), "another key must not open the message");
    }

    #[test]
    fn keys_are_read_in_base64url_padded_or_not() {
        let browser = SecretKey::random(&mut rand::rngs::OsRng).public_key();
        let point = browser.to_encoded_point(false);
        let text = URL_SAFE_NO_PAD.encode(point.as_bytes());
        assert!(browser_key(&decode_key(&text).unwrap()).is_some());
        assert!(browser_key(&decode_key(&format!("{text}=")).unwrap()).is_some());
        let mut off_curve = point.as_bytes().to_vec();
        off_curve[64] ^= 1;
        assert!(browser_key(&off_curve).is_none());
        assert!(browser_key(browser.to_encoded_point(true).as_bytes()).is_none());
    }
}
