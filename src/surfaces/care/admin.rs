//! Administrators' operations: the document's user management, and keeping chosen fall
//! notices past retention.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi, Union};
use rusqlite::{params, OptionalExtension};

use super::delivery::{self, DeliveryData, DeliveryRecord};
use super::envelope::{Answer, CareBody, Empty};
use super::signed_in;
use super::user::{profile, profiles_with_phone, PhoneOnly, Profile, ProfileChange};
use crate::files::Bucket;
use crate::identity::authz::Operation;
use crate::identity::{accounts, IdentityError};
use crate::surfaces::lenient::LenientBool;
use crate::surfaces::Failure;
use crate::AppState;

pub struct AdminApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
pub struct AdminUserData {
    /// info, update, delete: the account's phone
    phone: Option<String>,
    /// update: at most 20 characters; null clears it
    name: Option<String>,
    /// update: at most 20 characters; null clears it
    nickname: Option<String>,
    /// update: at most 50 characters; null clears it
    email: Option<String>,
    /// update: the user's level
    level: Option<i64>,
}

/// list: every phone account; info: one; update, delete: `{}`.
#[derive(Union)]
#[oai(one_of)]
pub enum AdminUserAnswer {
    List(Vec<Profile>),
    User(Profile),
    Done(Empty),
}

#[derive(Object, serde::Deserialize)]
pub struct KeepData {
    /// The notice's event_id
    event_id: String,
    /// true: never deleted by retention; false: deleted when it is old enough
    keep: LenientBool,
}

fn no_user() -> Failure {
    Failure::Code(100, "user not existed: no account has this phone".into())
}

impl AdminApi {
    async fn account_by_phone(&self, phone: String) -> Result<i64, Failure> {
        let id = self
            .0
            .db
            .read(move |c| {
                Ok::<_, Failure>(
                    c.query_row("SELECT id FROM account WHERE phone = ?1", [phone], |r| r.get(0)).optional()?,
                )
            })
            .await?;
        id.ok_or_else(no_user)
    }

    async fn users(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<AdminUserData>,
    ) -> Result<AdminUserAnswer, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        let (_, subtype) = body.kind(&[("user", "list"), ("user", "info"), ("user", "update"), ("user", "delete")])?;
        if subtype == "list" {
            let all = self.0.db.read(|c| Ok::<_, Failure>(profiles_with_phone(c)?)).await?;
            return Ok(AdminUserAnswer::List(all));
        }
        let PhoneOnly { phone } = body.data()?;
        let target = self.account_by_phone(phone).await?;
        match subtype {
            "info" => {
                let found = self.0.db.read(move |c| Ok::<_, Failure>(profile(c, target)?)).await?;
                Ok(AdminUserAnswer::User(found.ok_or_else(no_user)?))
            }
            "update" => {
                let change = ProfileChange::read(body.raw()?)?;
                self.0.db.write(move |tx| Ok::<_, Failure>(change.apply(tx, &caller, target)?)).await?;
                Ok(AdminUserAnswer::Done(Empty {}))
            }
            _ => {
                let portrait = self
                    .0
                    .db
                    .write(move |tx| {
                        let portrait: Option<String> =
                            tx.query_row("SELECT care_portrait FROM account WHERE id = ?1", [target], |r| r.get(0))?;
                        accounts::delete(tx, &caller, target).map_err(|e| match e {
                            IdentityError::Db(_) => Failure::from(e),
                            other => Failure::Invalid(format!("Arg's value error: {other}")),
                        })?;
                        Ok::<_, Failure>(portrait)
                    })
                    .await?;
                if let Some(file) = portrait {
                    if let Err(e) = self.0.files.remove(Bucket::Portraits, &file) {
                        tracing::warn!(error = %e, %file, "removing a deleted account's portrait failed");
                    }
                }
                Ok(AdminUserAnswer::Done(Empty {}))
            }
        }
    }

    async fn keep(&self, op: &Operation, token: Option<&str>, body: &CareBody<KeepData>) -> Result<Empty, Failure> {
        signed_in(&self.0, op, token).await?;
        body.kind(&[("notice", "keep")])?;
        let KeepData { event_id, keep } = body.data()?;
        let changed = self
            .0
            .db
            .write(move |tx| {
                Ok::<_, Failure>(
                    tx.execute("UPDATE notice SET keep = ?1 WHERE event_id = ?2", params![keep.0, event_id])?,
                )
            })
            .await?;
        if changed == 0 {
            return Err(Failure::Code(100, "Error event_id: no such notice".into()));
        }
        Ok(Empty {})
    }

    async fn deliveries(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<DeliveryData>,
    ) -> Result<DeliveryRecord, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        body.kind(&[("notice", "delivery")])?;
        let DeliveryData { event_id } = body.data()?;
        let scope = self.0.identity.data_scope(&caller).await?;
        self.0.db.read(move |c| delivery::read(c, &scope, &event_id)).await
    }
}

#[OpenApi]
impl AdminApi {
    /// Administrators: user list, info, update, delete (type user)
    #[oai(path = "/api/admin/user", method = "post")]
    async fn users_op(
        &self,
        op: &Operation,
        token: Query<Option<String>>,
        body: CareBody<AdminUserData>,
    ) -> Answer<AdminUserAnswer> {
        Answer::new(body.id, self.users(op, token.0.as_deref(), &body).await)
    }

    /// Administrators: keep a fall notice past retention, or let it expire again (type notice, subtype keep)
    #[oai(path = "/api/admin/notice", method = "post")]
    async fn keep_op(&self, op: &Operation, token: Query<Option<String>>, body: CareBody<KeepData>) -> Answer<Empty> {
        Answer::new(body.id, self.keep(op, token.0.as_deref(), &body).await)
    }

    /// Administrators: how a fall alert went out — who was told on which channel (push, sse, mqtt), when, delivered or failed — and who acknowledged it when, for cameras within their data scope (type notice, subtype delivery)
    #[oai(path = "/api/admin/delivery", method = "post")]
    async fn delivery_op(
        &self,
        op: &Operation,
        token: Query<Option<String>>,
        body: CareBody<DeliveryData>,
    ) -> Answer<DeliveryRecord> {
        Answer::new(body.id, self.deliveries(op, token.0.as_deref(), &body).await)
    }
}
