//! Web Push for any signed-in account: the server's public key, and the caller's own
//! browser subscriptions. What is pushed, and to whom, is `alerts::push`.

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};

use super::{ok, page, Reply, SystemToken};
use crate::alerts::push::{self, NewSubscription};
use crate::clock::local_datetime;
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::Failure;
use crate::AppState;

pub struct PushApi(pub Arc<AppState>);

#[derive(Object)]
pub struct PushKey {
    /// The VAPID public key: an uncompressed P-256 point, unpadded base64url
    /// (`applicationServerKey` of `pushManager.subscribe`)
    #[oai(rename = "publicKey")]
    pub public_key: String,
}

#[derive(Object, serde::Deserialize)]
pub struct PushKeys {
    /// The browser's P-256 public key, base64url
    pub p256dh: String,
    /// The browser's 16-byte auth secret, base64url
    pub auth: String,
}

/// A browser's `PushSubscription.toJSON()`
#[derive(Object, serde::Deserialize)]
pub struct PushSubscriptionBody {
    /// The push service URL; its host must be in `push_endpoint_hosts`
    pub endpoint: String,
    pub keys: PushKeys,
}

impl PushSubscriptionBody {
    /// The subscription, checked against the allowed hosts and for usable keys.
    pub fn checked(self, app: &AppState) -> Result<NewSubscription, Failure> {
        let sub = NewSubscription { endpoint: self.endpoint, p256dh: self.keys.p256dh, auth: self.keys.auth };
        push::check(&sub, &app.config).map_err(Failure::Invalid)?;
        Ok(sub)
    }
}

#[derive(Object)]
pub struct PushSubscriptionInfo {
    pub id: i64,
    pub endpoint: String,
    /// yyyy-MM-dd HH:mm:ss, server local time
    #[oai(rename = "createTime")]
    pub create_time: String,
}

impl From<push::Subscription> for PushSubscriptionInfo {
    fn from(s: push::Subscription) -> Self {
        PushSubscriptionInfo { id: s.id, endpoint: s.endpoint, create_time: local_datetime(s.created_at) }
    }
}

pub fn no_subscription() -> Failure {
    Failure::NotFound("no such push subscription of yours".into())
}

#[OpenApi]
impl PushApi {
    /// The server's Web Push (VAPID) public key. Needs only a valid token
    #[oai(path = "/api/push/key", method = "get")]
    async fn key(&self, token: SystemToken) -> Reply<PushKey> {
        token.caller()?;
        ok(PushKey { public_key: self.0.vapid.public_key.clone() })
    }

    /// Subscribe a browser of the caller to fall alerts (a `PushSubscription`); answers its id
    #[oai(path = "/api/push/subscriptions", method = "post")]
    async fn subscribe(&self, token: SystemToken, body: JsonBody<PushSubscriptionBody>) -> Reply<i64> {
        let caller = token.caller()?;
        let sub = body.0.checked(&self.0)?;
        let id = self.0.db.write(move |tx| Ok::<_, Failure>(push::subscribe(tx, caller.account_id, &sub)?)).await?;
        ok(id)
    }

    /// The caller's own push subscriptions
    #[oai(path = "/api/push/subscriptions", method = "get")]
    async fn list(&self, token: SystemToken) -> Reply<Vec<PushSubscriptionInfo>> {
        let caller = token.caller()?;
        let found = self.0.db.read(move |c| Ok::<_, Failure>(push::list(c, caller.account_id)?)).await?;
        let total = found.len() as i64;
        page(found.into_iter().map(Into::into).collect(), total)
    }

    /// Remove one of the caller's own push subscriptions
    #[oai(path = "/api/push/subscriptions/:id", method = "delete")]
    async fn unsubscribe(&self, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        let caller = token.caller()?;
        let id = id.0 .0;
        let removed =
            self.0.db.write(move |tx| Ok::<_, Failure>(push::unsubscribe(tx, caller.account_id, id)?)).await?;
        if !removed {
            return Err(no_subscription().into());
        }
        ok(serde_json::Value::Null)
    }
}
