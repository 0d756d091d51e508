//! `GET /api/notice/stream?token=`: new fall notices of the caller's devices as
//! Server-Sent Events, the moment they are stored. The event id is the notice's number, so
//! a client that reconnects with `Last-Event-ID` first gets what it missed. Cameras of the
//! caller going offline and back arrive as events named `device` (without an id); falls sent
//! again to the caller because nobody acknowledged them, as events named `escalation`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use poem::web::sse::Event;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::EventStream;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use tokio::sync::broadcast::{self, error::RecvError};

use super::notice::{sees_device, visible, Filter, NoticeItem};
use super::{care_token, signed_in, Care};
use crate::alerts::escalate::Escalation;
use crate::alerts::offline::DeviceChange;
use crate::alerts::record::{self, Delivery};
use crate::clock::local_datetime;
use crate::identity::authz::{DataScope, Operation};
use crate::surfaces::{ApiError, Failure};
use crate::AppState;

pub struct StreamApi(pub Arc<AppState>);

/// Comment lines keep proxies and phones from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often an open stream re-checks its token (revoked on password change, deletion…).
const RECHECK: Duration = Duration::from_secs(30);

#[derive(Object)]
pub struct LiveNotice {
    /// The notice's number: the event id to resume from with `Last-Event-ID`
    id: i64,
    #[oai(flatten)]
    notice: NoticeItem,
}

/// A camera of the caller went offline or came back.
#[derive(Object)]
pub struct DeviceEvent {
    /// The device's number
    id: i64,
    /// Its name
    device: String,
    /// false: silent for `care_offline_secs`; true: calling in again
    online: bool,
    /// yyyy-MM-dd HH:mm:ss, server local time, when the change was noticed
    time: String,
}

/// A fall nobody bound to the camera acknowledged in time, sent again.
#[derive(Object)]
pub struct EscalationEvent {
    /// The notice's number
    id: i64,
    /// The fall's event id
    event_id: String,
    /// The camera's name
    device: String,
    content: String,
    /// yyyy-MM-dd HH:mm:ss, server local time, when the fall was stored
    createtime: String,
    /// Always true
    escalated: bool,
    /// 1 for the first escalation, up to `care_escalate_repeat`
    round: u32,
}

#[derive(Union)]
#[oai(one_of)]
pub enum Live {
    Notice(LiveNotice),
    Device(DeviceEvent),
    Escalation(EscalationEvent),
}

struct Watch {
    app: Arc<AppState>,
    token: String,
    account: i64,
    scope: DataScope,
    after: i64,
    alerts: broadcast::Receiver<i64>,
    devices: broadcast::Receiver<DeviceChange>,
    escalations: broadcast::Receiver<Escalation>,
    pending: VecDeque<Live>,
    recheck: tokio::time::Interval,
}

impl Watch {
    /// Queues the caller's notices after the last one sent.
    async fn fetch(&mut self) -> Result<(), Failure> {
        let (account, scope, after) = (self.account, self.scope.clone(), self.after);
        let found =
            self.app.db.read(move |c| Ok::<_, Failure>(visible(c, account, &scope, Filter::After(after))?)).await?;
        for (id, _, notice) in found {
            self.after = self.after.max(id);
            self.pending.push_back(Live::Notice(LiveNotice { id, notice }));
        }
        Ok(())
    }

    /// Whether the caller sees the camera: bound to it, within its data scope.
    async fn sees(&self, device: i64) -> Result<bool, Failure> {
        let (account, scope) = (self.account, self.scope.clone());
        self.app.db.read(move |c| Ok::<_, Failure>(sees_device(c, account, &scope, device)?)).await
    }

    /// A fall handed to the connection goes into its delivery record; camera changes do not.
    fn record(&self, live: &Live) {
        let (notice, escalated) = match live {
            Live::Notice(notice) => (notice.id, false),
            Live::Escalation(escalation) => (escalation.id, true),
            Live::Device(_) => return,
        };
        let delivery = Delivery { notice, account: Some(self.account), channel: record::SSE, escalated, failure: None };
        record::spawn(&self.app, delivery);
    }

    async fn next(mut self) -> Option<(Live, Watch)> {
        loop {
            if let Some(live) = self.pending.pop_front() {
                self.record(&live);
                return Some((live, self));
            }
            tokio::select! {
                received = self.alerts.recv() => match received {
                    // Lagging only means several notices arrived at once: the fetch finds them all.
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                changed = self.devices.recv() => {
                    match changed {
                        Ok(change) => match self.sees(change.device).await {
                            Ok(true) => self.pending.push_back(Live::Device(DeviceEvent {
                                id: change.device,
                                device: change.name,
                                online: change.online,
                                time: change.at,
                            })),
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "live notice stream stopped");
                                return None;
                            }
                        },
                        // Missed changes are not replayed; the device list shows the state.
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    }
                    continue;
                }
                escalated = self.escalations.recv() => {
                    match escalated {
                        // The recipients were chosen, data scope included, when it was sent.
                        Ok(e) if e.accounts.contains(&self.account) => {
                            self.pending.push_back(Live::Escalation(EscalationEvent {
                                id: e.notice,
                                event_id: e.event_id,
                                device: e.device,
                                content: e.content,
                                createtime: local_datetime(e.created_at),
                                escalated: true,
                                round: e.round,
                            }))
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    }
                    continue;
                }
                _ = self.recheck.tick() => {
                    // The open stream counts as activity, so it keeps the token alive.
                    if self.app.identity.authenticate_session(self.token.clone()).await.is_err() {
                        return None;
                    }
                    continue;
                }
            }
            if let Err(e) = self.fetch().await {
                tracing::warn!(error = %e, "live notice stream stopped");
                return None;
            }
        }
    }
}

#[OpenApi]
impl StreamApi {
    /// Live fall alerts (Server-Sent Events, event type `notice`; `device` when a camera goes offline or comes back; `escalation` when an unacknowledged fall is sent again); resumes after `Last-Event-ID`
    #[oai(path = "/api/notice/stream", method = "get")]
    async fn stream(
        &self,
        op: &Operation,
        token: Query<Option<String>>,
        /// The id of the last event received; notices after it are sent first
        #[oai(name = "Last-Event-ID")]
        last_event_id: Header<Option<String>>,
    ) -> Result<Alerts, ApiError<Care>> {
        let caller = signed_in(&self.0, op, token.0.as_deref()).await?;
        let scope = self.0.identity.data_scope(&caller).await?;
        // Subscribe before reading where to start, so nothing falls in between.
        let alerts = self.0.care.alerts.subscribe();
        let devices = self.0.alerts.devices.subscribe();
        let escalations = self.0.alerts.escalations.subscribe();
        let resume = last_event_id.0.and_then(|id| id.trim().parse::<i64>().ok());
        let after = match resume {
            Some(id) => id,
            None => {
                self.0
                    .db
                    .read(|c| {
                        Ok::<_, Failure>(c.query_row("SELECT COALESCE(MAX(id), 0) FROM notice", [], |r| r.get(0))?)
                    })
                    .await?
            }
        };
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.reset();
        let mut watch = Watch {
            app: self.0.clone(),
            token: care_token(token.0.as_deref())?,
            account: caller.account_id,
            scope,
            after,
            alerts,
            devices,
            escalations,
            pending: VecDeque::new(),
            recheck,
        };
        if resume.is_some() {
            watch.fetch().await?;
        }
        let events = futures_util::stream::unfold(watch, Watch::next).boxed();
        Ok(Alerts(EventStream::new(events).keep_alive(KEEP_ALIVE).to_event(|live| match live {
            Live::Notice(notice) => {
                Event::message(notice.to_json_string()).id(notice.id.to_string()).event_type(EVENT_TYPE)
            }
            Live::Device(device) => Event::message(device.to_json_string()).event_type(DEVICE_EVENT),
            Live::Escalation(escalation) => Event::message(escalation.to_json_string()).event_type(ESCALATION_EVENT),
        })))
    }
}

const EVENT_TYPE: &str = "notice";
const DEVICE_EVENT: &str = "device";
const ESCALATION_EVENT: &str = "escalation";

/// The stream, declared one event at a time as OpenAPI 3.2 reads a `text/event-stream`
/// schema (and schemathesis reads it in 3.0 documents): poem-openapi would declare an array
/// of `LiveNotice`, which no event on the wire is.
pub struct Alerts(EventStream<BoxStream<'static, Live>>);

impl IntoResponse for Alerts {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl ApiResponse for Alerts {
    fn meta() -> MetaResponses {
        let text = |description| {
            let mut schema = MetaSchema::new("string");
            schema.description = Some(description);
            MetaSchemaRef::Inline(Box::new(schema))
        };
        let mut event = MetaSchema::new("string");
        event.enum_items = vec![EVENT_TYPE.into(), DEVICE_EVENT.into(), ESCALATION_EVENT.into()];
        let mut schema = MetaSchema::new("object");
        schema.required = vec!["event", "data"];
        schema.properties = vec![
            ("event", MetaSchemaRef::Inline(Box::new(event))),
            ("id", text("The notice's id, to send back as `Last-Event-ID` (`notice` events only)")),
            ("data", text("`notice`: the notice as JSON, a `LiveNotice`; `device`: a `DeviceEvent`; `escalation`: an `EscalationEvent`")),
        ];
        let content =
            vec![MetaMediaType { content_type: "text/event-stream", schema: MetaSchemaRef::Inline(Box::new(schema)) }];
        MetaResponses {
            responses: vec![MetaResponse {
                description: "One event per new fall notice, one per camera going offline or back, one per escalation",
                status: Some(200),
                status_range: None,
                content,
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        LiveNotice::register(registry);
        DeviceEvent::register(registry);
        EscalationEvent::register(registry);
    }
}
