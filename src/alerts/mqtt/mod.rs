//! Home Assistant over MQTT. hearth keeps one connection to the broker (`mqtt_url`),
//! announces itself at `<prefix>/status` (`online`; the broker publishes the last will
//! `offline` when the connection dies) and, per camera, retained discovery configs for four
//! entities: a safety sensor (a fall nobody has acknowledged), a connectivity sensor, an
//! event entity (`fall`) and an image entity (the latest snapshot). Topics carry the
//! camera's numeric id, never its token. This file holds the connection; what is announced and
//! published for each camera is in `home_assistant.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

use super::Alert;
use crate::identity::tokens::random_hex;
use crate::AppState;

mod home_assistant;
use home_assistant::Ha;

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
    // The URL may hold the broker's password, and this message reaches the log at start:
    // it says what is wrong without repeating the URL.
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        anyhow::anyhow!(
            "mqtt_url is not a URL ({e}): write it as mqtt://user:password@host:1883, with any @ : / ? # % \
             in the user or password percent-encoded (%40 %3A %2F %3F %23 %25)"
        )
    })?;
    if !matches!(parsed.scheme(), "mqtt" | "tcp") {
        bail!("mqtt_url must start with mqtt:// (TLS is not supported), not {:?}", parsed.scheme());
    }
    // A `/`, `?` or `#` in a password ends the host part early and can still leave a URL
    // that parses, naming the wrong host and no login: refused rather than tried forever.
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("mqtt_url has text after host:port: percent-encode any / ? # in the user or password (%2F %3F %23)");
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

/// The data folder's own client id, the same at every start: the broker resumes its session
/// rather than keep one per start forever. After a power cut or a dropped network the
/// broker has not yet seen the old connection go (up to 1.5 × keep-alive); the new one,
/// with the same id and a kept session, takes it over at once without its last will. With
/// a new id the will (`offline`, retained) landed later, after the new `online`, and left
/// every entity unavailable. Not in backups, so a restored copy running beside the
/// original gets an id of its own.
fn client_id(data: &std::path::Path) -> String {
    let path = data.join("mqtt-client-id");
    let kept = std::fs::read_to_string(&path).ok().map(|id| id.trim().to_owned());
    // MQTT 3.1.1 brokers must take 1 to 23 letters and digits (§3.1.3.1); ours adds a dash.
    let usable =
        |id: &String| (1..=23).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    kept.filter(usable).unwrap_or_else(|| {
        let id = format!("hearth-{}", random_hex(6));
        if let Err(e) = std::fs::write(&path, &id) {
            tracing::warn!(error = %e, "the MQTT client id could not be kept; the next start uses another");
        }
        id
    })
}

/// The id stem this installation announced its cameras under until now, when it is not
/// `node` (`mqtt_prefix` was changed, or set before ids followed it): Home Assistant would
/// keep those entities beside the new ones, so their configs are cleared as the cameras are
/// announced. The stem in use is kept in `<data>/mqtt-node`; without that file, an
/// installation that has spoken MQTT before (it has a client id) announced under `hearth`.
/// Call before `client_id`, which makes that file.
fn retired_node(data: &std::path::Path, node: &str) -> Option<String> {
    let path = data.join("mqtt-node");
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => Some(home_assistant::node_stem(text.trim())),
        Err(_) => data.join("mqtt-client-id").exists().then(|| "hearth".to_owned()),
    };
    if before.as_deref() != Some(node) {
        if let Err(e) = std::fs::write(&path, node) {
            tracing::warn!(error = %e, "the MQTT id stem could not be kept");
        }
    }
    before.filter(|old| old != node && !old.is_empty())
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

/// Serves Home Assistant until the server stops; without `mqtt_url` it only empties the queue.
pub async fn run(app: Arc<AppState>, base_url: String, mut alerts: mpsc::Receiver<Alert>) {
    let Some(url) = app.config.mqtt_url.clone() else {
        while alerts.recv().await.is_some() {}
        return;
    };
    let Ok(Broker { host, port, login }) = broker(&url) else { return };
    let prefix = app.config.mqtt_prefix.clone();
    let node = home_assistant::node_stem(&prefix);
    let retired = retired_node(&app.config.data, &node);
    let mut options = MqttOptions::new(client_id(&app.config.data), host, port);
    // A session the broker keeps while the connection is down: what was sent but not yet
    // acknowledged when it dropped (a fall's event, say) is sent again on reconnect. With a
    // clean session the broker answers with a new one and rumqttc discards all of it.
    options.set_clean_session(false);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    options.set_last_will(LastWill::new(format!("{prefix}/status"), "offline", QoS::AtLeastOnce, true));
    if let Some((user, password)) = login {
        options.set_credentials(user, password);
    }
    let (client, eventloop) = AsyncClient::new(options, 256);
    let (connected_sender, mut connected) = mpsc::channel(4);
    let online = Arc::new(AtomicBool::new(false));
    // The connection is driven in this task beside the serving below, so that when the
    // server stops it goes at once with this task (the socket closes without DISCONNECT,
    // and the broker publishes the last will); a connection left running for a moment would
    // reconnect and take the client id back from the next start's.
    let connection = poll(eventloop, connected_sender, online.clone());
    let discovery = app.config.mqtt_discovery_prefix.clone();
    let tick_secs = (app.config.care_offline_secs / 10).clamp(1, 10);
    let mut ha = Ha { app, client, base_url, prefix, discovery, node, retired, known: HashMap::new(), online };
    let mut tick = tokio::time::interval(Duration::from_secs(tick_secs));
    let serving = async {
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
    };
    // Both are polled whenever either is woken, so the connection keeps moving while the
    // serving waits on the database; the connection never ends by itself.
    tokio::select! {
        _ = connection => {}
        _ = serving => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_made_from_the_prefix_in_the_characters_home_assistant_allows() {
        assert_eq!(home_assistant::node_stem("hearth"), "hearth", "the default keeps the ids announced so far");
        assert_eq!(home_assistant::node_stem("Grandma/Home-2"), "grandma_home_2");
    }

    #[test]
    fn the_old_ids_are_retired_once_when_the_stem_changes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(retired_node(dir.path(), "grandma"), None, "a first start announced nothing before");
        assert_eq!(retired_node(dir.path(), "grandma"), None);
        assert_eq!(retired_node(dir.path(), "home"), Some("grandma".into()), "the prefix changed");
        assert_eq!(retired_node(dir.path(), "home"), None, "once");
        // Before ids followed the prefix, an installation that spoke MQTT announced `hearth_<id>`.
        let upgraded = tempfile::tempdir().unwrap();
        client_id(upgraded.path());
        assert_eq!(retired_node(upgraded.path(), "grandma"), Some("hearth".into()));
        let default = tempfile::tempdir().unwrap();
        client_id(default.path());
        assert_eq!(retired_node(default.path(), "hearth"), None);
    }

    #[test]
    fn the_client_id_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = client_id(dir.path());
        assert!(first.starts_with("hearth-") && first.len() == 19, "{first}");
        assert_eq!(client_id(dir.path()), first);
        std::fs::write(dir.path().join("mqtt-client-id"), "not/an id").unwrap();
        let replaced = client_id(dir.path());
        assert!(replaced != first && replaced.starts_with("hearth-"), "{replaced}");
        assert_eq!(client_id(dir.path()), replaced);
    }

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
        // A password with a character the URL syntax reads as a delimiter: refused by name,
        // and the message does not repeat the password.
        let Err(refused) = broker("mqtt://ha:se/cret#99@broker.lan:1883") else { panic!("not a URL") };
        let refused = format!("{refused:#}");
        assert!(refused.contains("mqtt_url is not a URL") && refused.contains("%2F"), "{refused}");
        assert!(!refused.contains("se/cret") && !refused.contains("cret#99"), "{refused}");
        // One that parses all the same, as host `ha`, port 2024 and a path.
        let Err(refused) = broker("mqtt://ha:2024/x@broker.lan:1883") else { panic!("a path is refused") };
        let refused = format!("{refused:#}");
        assert!(refused.contains("after host:port") && !refused.contains("2024/x"), "{refused}");
        assert!(broker("mqtt://broker.lan:1883/").is_ok());
    }
}
