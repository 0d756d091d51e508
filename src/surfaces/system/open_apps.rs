//! Open-platform app management for administrators: `/system/api/open/app/…`. The
//! appSecret is shown once (on save and rotate) and stored only as a hash.

use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};

use super::{ok, page, permitted, Reply, SystemToken};
use crate::identity::authz::Operation;
use crate::surfaces::body::JsonBody;
use crate::surfaces::lenient::{LenientBool, LenientId};
use crate::surfaces::open::{apps, webhooks};
use crate::surfaces::Failure;
use crate::AppState;

pub struct OpenAppsApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
struct NewApp {
    name: String,
    /// Any of care:read, transit:read, music:read
    scopes: Vec<String>,
    /// New fall notices are POSTed here, signed (optional)
    #[oai(rename = "webhookUrl")]
    #[serde(rename = "webhookUrl", default)]
    webhook_url: Option<String>,
}

#[derive(Object, serde::Deserialize)]
struct AppChange {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// "" removes the webhook
    #[oai(rename = "webhookUrl")]
    #[serde(rename = "webhookUrl", default)]
    webhook_url: Option<String>,
    /// A disabled app gets no token and its tokens stop working
    #[serde(default)]
    enabled: Option<LenientBool>,
}

#[derive(Object)]
struct IssuedCredentials {
    id: i64,
    #[oai(rename = "appId")]
    app_id: String,
    /// Shown only now; store it safely
    #[oai(rename = "appSecret")]
    app_secret: String,
    /// Verifies the X-Hearth-Signature of webhook requests
    #[oai(rename = "webhookSecret")]
    webhook_secret: String,
}

impl From<apps::Credentials> for IssuedCredentials {
    fn from(c: apps::Credentials) -> Self {
        IssuedCredentials { id: c.id, app_id: c.app_id, app_secret: c.app_secret, webhook_secret: c.webhook_secret }
    }
}

#[derive(Object)]
struct AppInfo {
    id: i64,
    #[oai(rename = "appId")]
    app_id: String,
    name: String,
    scopes: Vec<String>,
    #[oai(rename = "webhookUrl")]
    webhook_url: Option<String>,
    #[oai(rename = "webhookSecret")]
    webhook_secret: String,
    enabled: bool,
    /// Epoch milliseconds
    #[oai(rename = "createTime")]
    create_time: i64,
    #[oai(rename = "updateTime")]
    update_time: Option<i64>,
}

#[derive(Object)]
struct DeliveryInfo {
    #[oai(rename = "eventId")]
    event_id: String,
    kind: String,
    /// pending, delivered or failed
    status: String,
    attempts: i64,
    /// Epoch milliseconds
    #[oai(rename = "createTime")]
    create_time: i64,
    /// Epoch milliseconds of the next attempt while pending
    #[oai(rename = "nextAttemptTime")]
    next_attempt_time: Option<i64>,
    #[oai(rename = "deliveredTime")]
    delivered_time: Option<i64>,
    #[oai(rename = "lastError")]
    last_error: Option<String>,
    #[oai(rename = "lastHttpStatus")]
    last_http_status: Option<i64>,
}

#[OpenApi]
impl OpenAppsApi {
    /// Create an app; the answer holds its appSecret, shown only this once
    #[oai(path = "/api/open/app/save", method = "post")]
    async fn save(&self, op: &Operation, token: SystemToken, body: JsonBody<NewApp>) -> Reply<IssuedCredentials> {
        let caller = permitted(&self.0, op, &token).await?;
        let name = apps::check_name(&body.name)?;
        let scopes = apps::check_scopes(&body.scopes)?;
        let url = apps::check_webhook_url(body.webhook_url.as_deref())?;
        let created = self
            .0
            .db
            .write(move |tx| Ok::<_, Failure>(apps::create(tx, &name, &scopes, url.as_deref(), caller.account_id)?))
            .await?;
        ok(created.into())
    }

    /// Every app (without secrets)
    #[oai(path = "/api/open/app/list", method = "get")]
    async fn list(&self, op: &Operation, token: SystemToken) -> Reply<Vec<AppInfo>> {
        permitted(&self.0, op, &token).await?;
        let list: Vec<AppInfo> = self
            .0
            .db
            .read(|c| Ok::<_, Failure>(apps::list(c)?))
            .await?
            .into_iter()
            .map(|a| AppInfo {
                id: a.id,
                app_id: a.app_id,
                name: a.name,
                scopes: a.scopes,
                webhook_url: a.webhook_url,
                webhook_secret: a.webhook_secret,
                enabled: a.enabled,
                create_time: a.created_at * 1000,
                update_time: a.updated_at.map(|t| t * 1000),
            })
            .collect();
        let total = list.len() as i64;
        page(list, total)
    }

    /// Change an app's name, scopes, webhook or enabled state
    #[oai(path = "/api/open/app/edit/:id", method = "put")]
    async fn edit(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        body: JsonBody<AppChange>,
    ) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        let name = body.name.as_deref().map(apps::check_name).transpose()?;
        let scopes = body.scopes.as_deref().map(apps::check_scopes).transpose()?;
        let url = body.webhook_url.as_deref().map(|u| apps::check_webhook_url(Some(u))).transpose()?;
        let enabled = body.enabled.map(|e| e.0);
        self.0
            .db
            .write(move |tx| {
                let mut app = apps::by_id(tx, id.0 .0)?;
                app.name = name.unwrap_or(app.name);
                if let Some(scopes) = scopes {
                    app.scopes = scopes.split_whitespace().map(str::to_owned).collect();
                }
                app.webhook_url = url.unwrap_or(app.webhook_url);
                app.enabled = enabled.unwrap_or(app.enabled);
                apps::update(tx, &app)?;
                Ok::<_, Failure>(())
            })
            .await?;
        ok(serde_json::Value::Null)
    }

    /// Issue a new appSecret (shown only now); tokens from the old one stop working
    #[oai(path = "/api/open/app/rotate/:id", method = "post")]
    async fn rotate(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<IssuedCredentials> {
        permitted(&self.0, op, &token).await?;
        let rotated = self.0.db.write(move |tx| apps::rotate(tx, id.0 .0)).await?;
        ok(rotated.into())
    }

    /// Delete an app with its tokens and webhook history
    #[oai(path = "/api/open/app/delete/:id", method = "delete")]
    async fn delete(&self, op: &Operation, token: SystemToken, id: Path<LenientId>) -> Reply<serde_json::Value> {
        permitted(&self.0, op, &token).await?;
        self.0.db.write(move |tx| apps::delete(tx, id.0 .0)).await?;
        ok(serde_json::Value::Null)
    }

    /// An app's webhook deliveries, newest first
    #[oai(path = "/api/open/app/deliveries/:id", method = "get")]
    async fn deliveries(
        &self,
        op: &Operation,
        token: SystemToken,
        id: Path<LenientId>,
        #[oai(name = "pageNum")] page_num: Query<Option<i64>>,
        #[oai(name = "pageSize")] page_size: Query<Option<i64>>,
    ) -> Reply<Vec<DeliveryInfo>> {
        permitted(&self.0, op, &token).await?;
        let (size, offset) = super::paging(page_num.0, page_size.0, 50)?;
        let id = id.0 .0;
        let (rows, total) = self
            .0
            .db
            .read(move |c| {
                apps::by_id(c, id)?;
                Ok::<_, Failure>(webhooks::history(c, id, size, offset)?)
            })
            .await?;
        let rows = rows
            .into_iter()
            .map(|d| DeliveryInfo {
                next_attempt_time: (d.status == "pending").then_some(d.next_attempt_at * 1000),
                event_id: d.event_id,
                kind: d.kind,
                status: d.status,
                attempts: d.attempts,
                create_time: d.created_at * 1000,
                delivered_time: d.delivered_at.map(|t| t * 1000),
                last_error: d.last_error,
                last_http_status: d.last_http_status,
            })
            .collect();
        page(rows, total)
    }
}
