//! Home Assistant's side of the MQTT connection: the discovery configs announced per camera
//! and the states, events and snapshots published for them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rumqttc::{AsyncClient, QoS};
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};

use super::super::record::{self, Delivery};
use super::super::Alert;
use crate::clock::{local_datetime, now};
use crate::db::DbError;
use crate::files::Bucket;
use crate::AppState;

/// A camera as last announced.
pub(super) struct Camera {
    name: String,
    online: bool,
    /// The safety sensor as last published: the newest fall is unacknowledged.
    fall: bool,
    image_type: &'static str,
}

pub(super) struct Ha {
    pub(super) app: Arc<AppState>,
    pub(super) client: AsyncClient,
    pub(super) base_url: String,
    pub(super) prefix: String,
    pub(super) discovery: String,
    /// What this installation's ids start with, made from `prefix` (see `node_stem`).
    pub(super) node: String,
    /// What they started with before, whose configs are cleared (see `retired_node`).
    pub(super) retired: Option<String>,
    pub(super) known: HashMap<i64, Camera>,
    /// Whether the broker session is up, for the delivery record.
    pub(super) online: Arc<AtomicBool>,
}

/// The newest notice of a camera: (row id, file, acknowledged by someone bound to it).
fn newest(c: &Connection, device: i64) -> rusqlite::Result<Option<(i64, String, bool)>> {
    c.query_row(
        "SELECT n.id, n.file, EXISTS (SELECT 1 FROM notice_read r JOIN device_binding b
             ON b.account_id = r.account_id AND b.device_id = n.device_id WHERE r.notice_id = n.id)
         FROM notice n WHERE n.device_id = ?1 ORDER BY n.id DESC LIMIT 1",
        [device],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

struct Fall {
    device: i64,
    name: String,
    event_id: String,
    content: String,
    created_at: i64,
    file: String,
}

fn fall(c: &Connection, notice: i64) -> rusqlite::Result<Option<Fall>> {
    c.query_row(
        "SELECT n.device_id, d.name, n.event_id, n.content, n.created_at, n.file
         FROM notice n JOIN device d ON d.id = n.device_id WHERE n.id = ?1",
        [notice],
        |r| {
            Ok(Fall {
                device: r.get(0)?,
                name: r.get(1)?,
                event_id: r.get(2)?,
                content: r.get(3)?,
                created_at: r.get(4)?,
                file: r.get(5)?,
            })
        },
    )
    .optional()
}

fn content_type(file: &str) -> &'static str {
    if file.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "ON"
    } else {
        "OFF"
    }
}

/// The start of this installation's discovery ids, node ids and entity ids: `mqtt_prefix`
/// in the characters all three allow (lowercase letters, digits, `_`). Two installations on
/// one broker already need different prefixes for their topics, and so get different ids;
/// the default `hearth` gives the ids hearth has always announced.
pub(super) fn node_stem(prefix: &str) -> String {
    prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

impl Ha {
    /// Whether the message was handed to the client's queue.
    pub(super) fn publish(&self, topic: String, retain: bool, payload: impl Into<Vec<u8>>) -> bool {
        // A full request queue means a long outage; the state is published again on reconnect.
        if let Err(e) = self.client.try_publish(topic, QoS::AtLeastOnce, retain, payload) {
            metrics::counter!(crate::web::metrics::ALERT_MESSAGES, "outcome" => "dropped").increment(1);
            tracing::debug!(error = %e, "an MQTT message was dropped");
            return false;
        }
        true
    }

    fn camera_topic(&self, device: i64, leaf: &str) -> String {
        format!("{}/camera/{device}/{leaf}", self.prefix)
    }

    /// (component, object) of each entity a camera has.
    const ENTITIES: [(&'static str, &'static str); 4] =
        [("binary_sensor", "fall"), ("binary_sensor", "connectivity"), ("event", "event"), ("image", "snapshot")];

    fn config_topic(&self, node: &str, device: i64, component: &str, object: &str) -> String {
        format!("{}/{component}/{node}_{device}/{object}/config", self.discovery)
    }

    /// Clears the camera's configs announced under `node` (empty retained payloads); false
    /// when any could not be queued.
    fn clear(&self, node: &str, device: i64) -> bool {
        let mut cleared = true;
        for (component, object) in Self::ENTITIES {
            cleared &= self.publish(self.config_topic(node, device, component, object), true, Vec::new());
        }
        cleared
    }

    /// Publishes the camera's discovery configs; false when any could not be queued.
    fn announce(&self, device: i64, name: &str, image_type: &str) -> bool {
        let common = |object: &str, title: &str| {
            json!({
                "name": title,
                "unique_id": format!("{}_{device}_{object}", self.node),
                "availability_topic": format!("{}/status", self.prefix),
                "device": {
                    "identifiers": [format!("{}_{device}", self.node)],
                    "name": name,
                    "manufacturer": "hearth",
                    "model": "Fall camera",
                },
            })
        };
        let with = |mut base: Value, extra: Value| {
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                base.extend(extra.clone());
            }
            base
        };
        let configs = [
            with(
                common("fall", "Fall"),
                json!({"device_class": "safety", "state_topic": self.camera_topic(device, "fall")}),
            ),
            with(
                common("connectivity", "Online"),
                json!({"device_class": "connectivity", "state_topic": self.camera_topic(device, "connectivity"),
                       "entity_category": "diagnostic"}),
            ),
            with(
                common("event", "Fall event"),
                json!({"event_types": ["fall"], "state_topic": self.camera_topic(device, "event")}),
            ),
            with(
                common("snapshot", "Snapshot"),
                json!({"image_topic": self.camera_topic(device, "image"), "content_type": image_type}),
            ),
        ];
        let mut queued = true;
        for ((component, object), mut config) in Self::ENTITIES.iter().zip(configs) {
            // The entity id Home Assistant gives the entity when it first sees it. It replaced
            // `object_id`, which Home Assistant 2025.10 warned about and 2026.4 stopped reading.
            config["default_entity_id"] = json!(format!("{component}.{}_{device}_{object}", self.node));
            queued &= self.publish(self.config_topic(&self.node, device, component, object), true, config.to_string());
        }
        queued
    }

    /// Announces new cameras, clears those gone and publishes connectivity changes.
    pub(super) async fn sync(&mut self) {
        let offline_after = self.app.config.care_offline_secs as i64;
        let found = self
            .app
            .db
            .read(move |c| {
                let mut stmt = c.prepare_cached("SELECT id, name, last_seen FROM device ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)))?;
                let mut cameras = Vec::new();
                let time = now();
                for row in rows {
                    let (id, name, last_seen): (i64, String, Option<i64>) = row?;
                    let online = last_seen.is_some_and(|t| time - t < offline_after);
                    cameras.push((id, name, online, newest(c, id)?));
                }
                Ok::<_, DbError>(cameras)
            })
            .await;
        let cameras = match found {
            Ok(cameras) => cameras,
            Err(e) => return tracing::warn!(error = %e, "reading cameras for MQTT failed"),
        };
        let present: Vec<i64> = cameras.iter().map(|(id, ..)| *id).collect();
        let gone: Vec<i64> = self.known.keys().filter(|id| !present.contains(id)).copied().collect();
        // A camera counts as announced, or as cleared, only once all its messages were queued:
        // at start or after a long outage the queue can be full, and the next check tries again.
        for device in gone {
            if self.clear(&self.node, device) {
                self.known.remove(&device);
            }
        }
        for (id, name, online, newest) in cameras {
            let image_type = newest.as_ref().map_or("image/jpeg", |(_, file, _)| content_type(file));
            let fall = newest.is_some_and(|(_, _, acknowledged)| !acknowledged);
            match self.known.get_mut(&id) {
                Some(camera) if camera.name == name => {
                    let fall_changed = camera.fall != fall;
                    if camera.online != online {
                        camera.online = online;
                        self.publish(self.camera_topic(id, "connectivity"), true, on_off(online));
                    }
                    // Bindings change without an alert too (an account deleted with its
                    // read marks, a binding made again): the sensor follows within a tick.
                    if fall_changed {
                        self.show_fall(id, fall);
                    }
                }
                _ => {
                    let retired_cleared = self.retired.as_deref().is_none_or(|old| self.clear(old, id));
                    let queued = retired_cleared
                        & self.announce(id, &name, image_type)
                        & self.publish(self.camera_topic(id, "fall"), true, on_off(fall))
                        & self.publish(self.camera_topic(id, "connectivity"), true, on_off(online));
                    if queued {
                        self.known.insert(id, Camera { name, online, fall, image_type });
                    }
                }
            }
        }
    }

    pub(super) async fn handle(&mut self, alert: Alert) {
        match alert {
            Alert::DevicesChanged => self.sync().await,
            Alert::Fall(notice) => self.fall(notice, false).await,
            Alert::Escalated(notice) => self.fall(notice, true).await,
            Alert::FallStateChanged(notice) => {
                let state = self
                    .app
                    .db
                    .read(move |c| {
                        let device: Option<i64> = c
                            .query_row("SELECT device_id FROM notice WHERE id = ?1", [notice], |r| r.get(0))
                            .optional()?;
                        let Some(device) = device else { return Ok(None) };
                        Ok::<_, DbError>(Some((device, newest(c, device)?)))
                    })
                    .await;
                match state {
                    Ok(Some((device, newest))) => {
                        self.show_fall(device, newest.is_some_and(|(_, _, acknowledged)| !acknowledged))
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "reading an acknowledged notice for MQTT failed"),
                }
            }
        }
    }

    /// Publishes the camera's safety sensor, and remembers it so the checks publish only a change.
    fn show_fall(&mut self, device: i64, fall: bool) {
        if let Some(camera) = self.known.get_mut(&device) {
            camera.fall = fall;
        }
        self.publish(self.camera_topic(device, "fall"), true, on_off(fall));
    }

    /// An escalation repeats only the event: the sensors and the image already show the fall.
    async fn fall(&mut self, notice: i64, escalated: bool) {
        let found = self.app.db.read(move |c| Ok::<_, DbError>(fall(c, notice)?)).await;
        let fall = match found {
            Ok(Some(fall)) => fall,
            Ok(None) => return,
            Err(e) => return tracing::warn!(error = %e, "reading a fall notice for MQTT failed"),
        };
        if !self.known.contains_key(&fall.device) {
            self.sync().await;
        }
        let device = fall.device;
        let event = json!({
            "event_type": "fall",
            "event_id": fall.event_id,
            "device": fall.name,
            "device_id": device,
            "content": fall.content,
            "createtime": local_datetime(fall.created_at),
            "escalated": escalated,
            "image_url": format!("{}/open/api/care/notices/{}/image", self.base_url, fall.event_id),
        });
        // The event first: it is what a Home Assistant automation waits for.
        let queued = self.publish(self.camera_topic(device, "event"), false, event.to_string());
        let failure = match (queued, self.online.load(Ordering::Relaxed)) {
            (false, _) => Some("the MQTT client's queue is full: the event was dropped".to_owned()),
            // QoS 1: the client sends it when the session is back, unless hearth stops first.
            (true, false) => Some("the MQTT broker was unreachable: the event waits for the connection".to_owned()),
            (true, true) => None,
        };
        let delivery = Delivery { notice, account: None, channel: record::MQTT, escalated, failure };
        record::spawn(&self.app, delivery);
        if escalated {
            return;
        }
        self.show_fall(device, true);
        let files = self.app.files.clone();
        let file = fall.file.clone();
        match tokio::task::spawn_blocking(move || files.read(Bucket::Notices, &file)).await {
            Ok(Ok(bytes)) => {
                // The image entity declares one content type: announce again when a camera switches.
                let image_type = content_type(&fall.file);
                if let Some(camera) = self.known.get_mut(&device).filter(|c| c.image_type != image_type) {
                    camera.image_type = image_type;
                    let name = camera.name.clone();
                    self.announce(device, &name, image_type);
                }
                self.publish(self.camera_topic(device, "image"), true, bytes);
            }
            _ => tracing::warn!(notice, "the snapshot of a fall notice could not be read for MQTT"),
        }
    }
}
