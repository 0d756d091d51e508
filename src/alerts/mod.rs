//! Care alerts beyond the care surface's own SSE stream: Home Assistant over MQTT, Web Push,
//! cameras going offline and back (told to the SSE stream as `event: device`), and
//! escalation of falls nobody acknowledged (`event: escalation`).
//!
//! Care's handlers call one function per happening (`fall`, `acknowledged`,
//! `devices_changed`); it hands a small message to a bounded channel and returns at once.
//! One background task does the slow part (database reads, the broker, queueing pushes), so
//! a broker or push service that is down or slow never holds up a camera's upload.

pub mod escalate;
pub mod mqtt;
pub mod offline;
pub mod push;
pub mod record;

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::AppState;

/// What care reports. Only ids travel: the task reads the rest when it gets to it.
#[derive(Debug, Clone, Copy)]
pub enum Alert {
    /// A fall notice was stored (the notice's row id).
    Fall(i64),
    /// Whether the newest fall of the notice's camera is acknowledged may have changed:
    /// someone marked it read, or who is bound to the camera changed (the notice's row id).
    FallStateChanged(i64),
    /// A camera was added, or may have gone.
    DevicesChanged,
    /// An unacknowledged fall was sent again (the notice's row id); its pushes are queued.
    Escalated(i64),
}

/// Alerts waiting for the background task. A burst beyond this is dropped with a warning;
/// the notices themselves are stored either way.
const QUEUE: usize = 1024;

pub struct Alerts {
    /// Cameras going offline and back, for the live streams.
    pub devices: tokio::sync::broadcast::Sender<offline::DeviceChange>,
    /// Falls sent again, for the live streams of those they went to.
    pub escalations: tokio::sync::broadcast::Sender<escalate::Escalation>,
    /// Wakes the push worker when messages were queued.
    pub push_queued: tokio::sync::Notify,
    sender: mpsc::Sender<Alert>,
    receiver: Mutex<Option<mpsc::Receiver<Alert>>>,
}

impl Default for Alerts {
    fn default() -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Alerts {
            devices: tokio::sync::broadcast::channel(256).0,
            escalations: tokio::sync::broadcast::channel(256).0,
            push_queued: tokio::sync::Notify::new(),
            sender,
            receiver: Mutex::new(Some(receiver)),
        }
    }
}

impl Alerts {
    /// Never waits.
    fn send(&self, alert: Alert) {
        if let Err(mpsc::error::TrySendError::Full(alert)) = self.sender.try_send(alert) {
            metrics::counter!(crate::web::metrics::ALERT_MESSAGES, "outcome" => "dropped").increment(1);
            tracing::warn!(?alert, "the alert queue is full; this alert reaches only the live stream");
        }
    }

    /// Alerts waiting for the background task.
    pub fn queued(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }
}

pub fn fall(app: &AppState, notice: i64) {
    app.alerts.send(Alert::Fall(notice));
}

pub fn acknowledged(app: &AppState, notice: i64) {
    app.alerts.send(Alert::FallStateChanged(notice));
}

/// Who is bound to the notice's camera changed (an unbinding): a read mark counts only from
/// an account still bound, so whether its newest fall is acknowledged is worked out again.
pub fn bindings_changed(app: &AppState, notice: i64) {
    app.alerts.send(Alert::FallStateChanged(notice));
}

pub fn devices_changed(app: &AppState) {
    app.alerts.send(Alert::DevicesChanged);
}

fn escalated(app: &AppState, notice: i64) {
    app.alerts.send(Alert::Escalated(notice));
}

/// The task that fans alerts out, until the server stops. `base_url` makes links absolute.
pub async fn run(app: Arc<AppState>, base_url: String) {
    let Some(mut receiver) = app.alerts.receiver.lock().expect("alerts lock").take() else { return };
    let (to_mqtt, mqtt_receiver) = mpsc::channel(QUEUE);
    let fan_out = async {
        while let Some(alert) = receiver.recv().await {
            // MQTT first: queueing pushes waits for a database write.
            if to_mqtt.try_send(alert).is_err() {
                tracing::warn!(?alert, "the MQTT queue is full; this alert is not published");
            }
            if let Alert::Fall(notice) = alert {
                queue_push(&app, notice, "fall", &base_url).await;
                schedule_escalation(&app, notice).await;
            }
        }
    };
    tokio::join!(
        fan_out,
        offline::watch(app.clone(), base_url.clone()),
        mqtt::run(app.clone(), base_url.clone(), mqtt_receiver),
        push::deliver::deliver_forever(app.clone()),
        escalate::watch(app.clone(), base_url.clone()),
    );
}

/// Queues pushes of a fall notice to everyone who sees its camera, and wakes the worker.
async fn queue_push(app: &AppState, notice: i64, kind: &'static str, base_url: &str) {
    let base = base_url.to_owned();
    let queued =
        app.db.write(move |tx| Ok::<_, crate::db::DbError>(push::enqueue_fall(tx, notice, kind, &base)?)).await;
    match queued {
        Ok(0) => {}
        Ok(_) => app.alerts.push_queued.notify_one(),
        Err(e) => tracing::warn!(error = %e, notice, "queueing push messages failed"),
    }
}

async fn schedule_escalation(app: &AppState, notice: i64) {
    let after = app.config.care_escalate_after_secs;
    if after == 0 {
        return;
    }
    let scheduled = app.db.write(move |tx| Ok::<_, crate::db::DbError>(escalate::schedule(tx, notice, after)?)).await;
    if let Err(e) = scheduled {
        tracing::warn!(error = %e, notice, "scheduling the escalation of a fall failed");
    }
}
