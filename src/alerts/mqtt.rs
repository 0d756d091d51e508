//! Home Assistant over MQTT. hearth keeps one connection to the broker (`mqtt_url`),
//! announces itself at `<prefix>/status` (`online`; the broker publishes the last will
//! `offline` when the connection dies) and, per camera, retained discovery configs for four
//! entities: a safety sensor (a fall nobody has acknowledged), a connectivity sensor, an
//! event entity (`fall`) and an image entity (the latest snapshot). Topics carry the
//! camera's numeric id, never its token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::record::{self, Delivery};
use super::Alert;
use crate::clock::{local_datetime, now};
use crate::db::DbError;
use crate::files::Bucket;
use crate::identity::tokens::random_hex;
use crate::AppState;

/// Snapshots are up to 8 MiB; the client's default packet limit is 10 KiB.
const MAX_PACKET: usize = 16 * 1024 * 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The broker a `mqtt_url` names.
pub struct Broker {
    host: String,
    port: u16,
    /// (user, password)
    login: Option<(String, String)>,
}

/// Parses `mqtt_url`; checked when settings load.
pub fn broker(url: &str) -> anyhow::Result<Broker> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("mqtt_url {url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "mqtt" | "tcp") {
        bail!("mqtt_url must start with mqtt:// (TLS is not supported), not {:?}", parsed.scheme());
    }
    let host = parsed.host_str().filter(|h| !h.is_empty()).context("mqtt_url names no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let login = (!parsed.username().is_empty())
        .then(|| (decode(parsed.username()), decode(parsed.password().unwrap_or_default())));
    Ok(Broker { host, port: parsed.port().unwrap_or(1883), login })
}

/// Percent-decoding of the user and password (a `@` or `:` in a password is written `%40`, `%3A`).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Stops the connection's task when the alert task stops (the server stopping): the
/// socket closes without DISCONNECT, so the broker publishes the last will.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Drives the connection; rumqttc reconnects on the next poll after an error.
async fn poll(mut eventloop: EventLoop, connected: mpsc::Sender<()>, online: Arc<AtomicBool>) {
    let mut backoff = Duration::from_secs(1);
    let mut down = false;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) if ack.code == ConnectReturnCode::Success => {
                tracing::info!("connected to the MQTT broker");
                backoff = Duration::from_secs(1);
                down = false;
                online.store(true, Ordering::Relaxed);
                let _ = connected.try_send(());
            }
            // Every message is sent at least once (QoS 1): the broker's PUBACK is delivery.
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                metrics::counter!(crate::web::metrics::ALERT_MESSAGES, "outcome" => "delivered").increment(1);
            }
            Ok(_) => {}
            Err(e) => {
                online.store(false, Ordering::Relaxed);
                // Once per outage, not once per retry.
                if !down {
                    tracing::warn!(error = %e, "the MQTT broker is unreachable; retrying with backoff");
                    down = true;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A camera as last announced.
struct Camera {
    name: String,
    online: bool,
    image_type: &'static str,
}

struct Ha {
    app: Arc<AppState>,
    client: AsyncClient,
    base_url: String,
    prefix: String,
    discovery: String,
    known: HashMap<i64, Camera>,
    /// Whether the broker session is up, for the delivery record.
    online: Arc<AtomicBool>,
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

impl Ha {
    /// Whether the message was handed to the client's queue.
    fn publish(&self, topic: String, retain: bool, payload: impl Into<Vec<u8>>) -> bool {
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

    fn config_topic(&self, device: i64, component: &str, object: &str) -> String {
        format!("{}/{component}/hearth_{device}/{object}/config", self.discovery)
    }

    fn announce(&self, device: i64, name: &str, image_type: &str) {
        let common = |object: &str, title: &str| {
            json!({
                "name": title,
                "unique_id": format!("hearth_{device}_{object}"),
                "object_id": format!("hearth_{device}_{object}"),
                "availability_topic": format!("{}/status", self.prefix),
                "device": {
                    "identifiers": [format!("hearth_{device}")],
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
        for ((component, object), config) in Self::ENTITIES.iter().zip(configs) {
            self.publish(self.config_topic(device, component, object), true, config.to_string());
        }
    }

    /// Announces new cameras, clears those gone and publishes connectivity changes.
    async fn sync(&mut self) {
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
        for device in gone {
            for (component, object) in Self::ENTITIES {
                self.publish(self.config_topic(device, component, object), true, Vec::new());
            }
            self.known.remove(&device);
        }
        for (id, name, online, newest) in cameras {
            match self.known.get_mut(&id) {
                Some(camera) if camera.name == name => {
                    if camera.online != online {
                        camera.online = online;
                        self.publish(self.camera_topic(id, "connectivity"), true, on_off(online));
                    }
                }
                _ => {
                    let image_type = newest.as_ref().map_or("image/jpeg", |(_, file, _)| content_type(file));
                    self.announce(id, &name, image_type);
                    let unacknowledged = newest.is_some_and(|(_, _, acknowledged)| !acknowledged);
                    self.publish(self.camera_topic(id, "fall"), true, on_off(unacknowledged));
                    self.publish(self.camera_topic(id, "connectivity"), true, on_off(online));
                    self.known.insert(id, Camera { name, online, image_type });
                }
            }
        }
    }

    async fn handle(&mut self, alert: Alert) {
        match alert {
            Alert::DevicesChanged => self.sync().await,
            Alert::Fall(notice) => self.fall(notice, false).await,
            Alert::Escalated(notice) => self.fall(notice, true).await,
            Alert::Acknowledged(notice) => {
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
                        let unacknowledged = newest.is_some_and(|(_, _, acknowledged)| !acknowledged);
                        self.publish(self.camera_topic(device, "fall"), true, on_off(unacknowledged));
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "reading an acknowledged notice for MQTT failed"),
                }
            }
        }
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
        self.publish(self.camera_topic(device, "fall"), true, "ON");
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

/// Serves Home Assistant until the server stops; without `mqtt_url` it only empties the queue.
pub async fn run(app: Arc<AppState>, base_url: String, mut alerts: mpsc::Receiver<Alert>) {
    let Some(url) = app.config.mqtt_url.clone() else {
        while alerts.recv().await.is_some() {}
        return;
    };
    let Ok(Broker { host, port, login }) = broker(&url) else { return };
    let prefix = app.config.mqtt_prefix.clone();
    let mut options = MqttOptions::new(format!("hearth-{}", random_hex(4)), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    options.set_last_will(LastWill::new(format!("{prefix}/status"), "offline", QoS::AtLeastOnce, true));
    if let Some((user, password)) = login {
        options.set_credentials(user, password);
    }
    let (client, eventloop) = AsyncClient::new(options, 256);
    let (connected_sender, mut connected) = mpsc::channel(4);
    let online = Arc::new(AtomicBool::new(false));
    let _connection = AbortOnDrop(tokio::spawn(poll(eventloop, connected_sender, online.clone())));
    let discovery = app.config.mqtt_discovery_prefix.clone();
    let tick_secs = (app.config.care_offline_secs / 10).clamp(1, 10);
    let mut ha = Ha { app, client, base_url, prefix, discovery, known: HashMap::new(), online };
    let mut tick = tokio::time::interval(Duration::from_secs(tick_secs));
    loop {
        tokio::select! {
            Some(()) = connected.recv() => {
                // A new session: announce everything again (the broker may have restarted empty).
                ha.known.clear();
                ha.publish(format!("{}/status", ha.prefix), true, "online");
                ha.sync().await;
            }
            alert = alerts.recv() => match alert {
                Some(alert) => ha.handle(alert).await,
                None => return,
            },
            _ = tick.tick() => ha.sync().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broker_url_gives_host_port_and_decoded_credentials() {
        let b = broker("mqtt://ha%40home:p%3Ass@192.168.1.5:1884").unwrap();
        assert_eq!((b.host.as_str(), b.port), ("192.168.1.5", 1884));
        assert_eq!(b.login, Some(("ha@home".to_owned(), "p:ss".to_owned())));
        let b = broker("mqtt://broker.lan").unwrap();
        assert_eq!((b.host.as_str(), b.port, b.login), ("broker.lan", 1883, None));
        // Broker has no Debug on purpose (it holds the password), hence no unwrap_err.
        let Err(refused) = broker("mqtts://broker.lan") else { panic!("TLS URLs are refused") };
        assert!(refused.to_string().contains("mqtt://"));
        assert!(broker("broker.lan:1883").is_err());
    }
}
