//! Web Push for phone accounts, in care's request shape (type `push`): the server's key,
//! and the caller's own browser subscriptions. The system surface offers the same to
//! accounts with a login name; both keep subscriptions through `alerts::push`.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi, Union};

use super::envelope::{Answer, CareBody, Empty};
use super::signed_in;
use crate::alerts::push;
use crate::identity::authz::Operation;
use crate::surfaces::lenient::LenientId;
use crate::surfaces::system::{no_subscription, PushKey, PushSubscriptionBody, PushSubscriptionInfo};
use crate::surfaces::Failure;
use crate::AppState;

pub struct PushApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
pub struct PushKeysData {
    p256dh: String,
    auth: String,
}

/// key, list: `{}`; subscribe: a browser's `PushSubscription`; unsubscribe: `{"id"}`.
#[derive(Object, serde::Deserialize)]
pub struct PushData {
    /// subscribe: the push service URL; its host must be in `push_endpoint_hosts`
    endpoint: Option<String>,
    /// subscribe: the browser's `p256dh` and `auth`, base64url
    keys: Option<PushKeysData>,
    /// unsubscribe: the subscription's id
    id: Option<i64>,
}

#[derive(Object)]
pub struct SubscriptionId {
    id: i64,
}

#[derive(serde::Deserialize)]
struct IdOnly {
    id: LenientId,
}

/// key: the public key; subscribe: the id; list: the caller's subscriptions; unsubscribe: `{}`.
#[derive(Union)]
#[oai(one_of)]
pub enum PushAnswer {
    Key(PushKey),
    Subscribed(SubscriptionId),
    List(Vec<PushSubscriptionInfo>),
    Done(Empty),
}

impl PushApi {
    async fn handle(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<PushData>,
    ) -> Result<PushAnswer, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        let account = caller.account_id;
        let (_, subtype) =
            body.kind(&[("push", "key"), ("push", "subscribe"), ("push", "unsubscribe"), ("push", "list")])?;
        match subtype {
            "key" => Ok(PushAnswer::Key(PushKey { public_key: self.0.vapid.public_key.clone() })),
            "subscribe" => {
                let sub = body.data::<PushSubscriptionBody>()?.checked(&self.0)?;
                let id = self.0.db.write(move |tx| Ok::<_, Failure>(push::subscribe(tx, account, &sub)?)).await?;
                Ok(PushAnswer::Subscribed(SubscriptionId { id }))
            }
            "list" => {
                let found = self.0.db.read(move |c| Ok::<_, Failure>(push::list(c, account)?)).await?;
                Ok(PushAnswer::List(found.into_iter().map(Into::into).collect()))
            }
            _ => {
                let IdOnly { id } = body.data()?;
                let removed =
                    self.0.db.write(move |tx| Ok::<_, Failure>(push::unsubscribe(tx, account, id.0)?)).await?;
                if !removed {
                    return Err(no_subscription());
                }
                Ok(PushAnswer::Done(Empty {}))
            }
        }
    }
}

#[OpenApi]
impl PushApi {
    /// Web Push on this phone: the server's key, subscribe, unsubscribe, list (type push)
    #[oai(path = "/api/push", method = "post")]
    async fn push(&self, op: &Operation, token: Query<Option<String>>, body: CareBody<PushData>) -> Answer<PushAnswer> {
        Answer::new(body.id, self.handle(op, token.0.as_deref(), &body).await)
    }
}
