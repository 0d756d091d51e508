//! A loopback Web Push service and a browser's side of a subscription: the service records
//! every request and answers scripted statuses per path; the browser holds its own P-256
//! key pair and auth secret, verifies VAPID and decrypts `aes128gcm` as RFC 8291/8292 say.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{handler, EndpointExt, Request, Response, Server};
use serde_json::{json, Value};
use sha2::Sha256;

/// One request the push service received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// What the service answered.
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    /// Statuses to answer per path, in order; 201 once a path's script runs out.
    script: HashMap<String, VecDeque<u16>>,
    /// What an answer of a status says in its body (empty if not set).
    says: HashMap<u16, String>,
}

pub struct PushService {
    pub origin: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

#[handler]
async fn receive(req: &Request, body: poem::Body, shared: poem::web::Data<&Arc<Mutex<Shared>>>) -> Response {
    let body = body.into_vec().await.unwrap_or_default();
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    let path = req.uri().path().to_owned();
    let mut shared = shared.lock().unwrap();
    let status = shared.script.get_mut(&path).and_then(VecDeque::pop_front).unwrap_or(201);
    shared.received.push(Received { path, headers, body, status });
    let said = shared.says.get(&status).cloned().unwrap_or_default();
    Response::builder().status(poem::http::StatusCode::from_u16(status).unwrap()).body(said)
}

impl PushService {
    pub async fn start() -> PushService {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = receive.data(shared.clone());
        let task = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        PushService { origin: format!("http://{addr}"), shared, task }
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The next answers for `path`.
    pub fn answer(&self, path: &str, statuses: &[u16]) {
        self.shared.lock().unwrap().script.entry(path.to_owned()).or_default().extend(statuses);
    }

    /// The body of every answer with `status`, as Apple's service words its refusals.
    pub fn say(&self, status: u16, body: &str) {
        self.shared.lock().unwrap().says.insert(status, body.to_owned());
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.shared.lock().unwrap().received.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `path` has had `count` requests.
    pub async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.received(path);
            if got.len() >= count {
                return got;
            }
            assert!(Instant::now() < deadline, "{path} got {} of {count} pushes", got.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A browser's subscription keys.
pub struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    pub fn new() -> Browser {
        let mut auth = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut auth);
        Browser { secret: SecretKey::random(&mut rand::rngs::OsRng), auth }
    }

    /// `PushSubscription.toJSON()` for `endpoint`.
    pub fn subscription(&self, endpoint: &str) -> Value {
        let p256dh = URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes());
        json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": p256dh, "auth": URL_SAFE_NO_PAD.encode(self.auth)}})
    }

    /// RFC 8291 §3 on the receiving side: the payload as JSON.
    pub fn decrypt(&self, body: &[u8]) -> Value {
        assert!(body.len() > 86, "too short for an aes128gcm body");
        let (salt, rest) = body.split_at(16);
        let record_size = u32::from_be_bytes(rest[..4].try_into().unwrap());
        assert!(record_size as usize >= body.len() - 86, "the body fits one record");
        let id_len = rest[4] as usize;
        assert_eq!(id_len, 65, "the key id is the sender's uncompressed public key");
        let (sender, sealed) = rest[5..].split_at(id_len);
        let sender = PublicKey::from_sec1_bytes(sender).expect("a P-256 point");
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(self.secret.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(sender.to_encoded_point(false).as_bytes());
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(&Nonce::from(nonce), sealed)
            .expect("the body decrypts with this browser's key");
        assert_eq!(plain.pop(), Some(2), "the last record ends with delimiter 2");
        serde_json::from_slice(&plain).expect("the payload is JSON")
    }
}

/// Checks `Authorization: vapid t=<jwt>, k=<key>`: the key is the server's, the ES256
/// signature verifies under it, `aud` is the push service's origin, `exp` is ahead (≤ 24 h).
/// Answers the contact it names (`sub`).
pub fn verify_vapid(authorization: &str, public_key: &str, audience: &str) -> String {
    let rest = authorization.strip_prefix("vapid ").expect("vapid scheme");
    let mut token = None;
    let mut key = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    let (token, key) = (token.expect("t="), key.expect("k="));
    assert_eq!(key, public_key, "k= is the key the server publishes");
    let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(key).unwrap()).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).expect("a raw r||s signature");
    verifying.verify(signed.as_bytes(), &signature).expect("the VAPID signature verifies");
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["aud"], audience);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now && exp <= now + 86_400, "exp {exp} is ahead, within a day of {now}");
    let contact = claims["sub"].as_str().expect("a contact").to_owned();
    assert!(contact.starts_with("mailto:") || contact.starts_with("https:"), "{contact}");
    contact
}

/// One number from the database, e.g. a count of queued messages.
pub fn scalar(server: &crate::common::TestServer, sql: &str) -> i64 {
    server.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Waits until `done` holds, failing with `what` after 15 s.
pub async fn poll_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A loopback TLS listener whose certificate (for 127.0.0.1) no public authority signed:
/// what a man in the middle, or a push service on the LAN, would show.
pub fn self_signed_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(include_bytes!("self_signed_test_only.crt")).unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("self_signed_test_only.key")).unwrap();
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}
