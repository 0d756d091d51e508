//! Home Assistant over MQTT against a real mosquitto: discovery configs, the fall event,
//! the safety sensor, connectivity and hearth's last will.

use std::time::{Duration, Instant};

use crate::care_support::*;
use crate::common::TestServer;
use crate::mqtt_support::{free_port, Broker, Relay, Subscriber};
use serde_json::json;

async fn device_id(server: &TestServer, name: &str) -> i64 {
    server.sql().query_row("SELECT id FROM device WHERE name = ?1", [name], |r| r.get(0)).unwrap()
}

/// hearth connected to `broker` through `url` (the broker's own, or a relay's), with its
/// alert checks every `tick_secs`, and Home Assistant listening to `filters` once hearth is
/// online.
async fn online(broker: &Broker, url: String, tick_secs: u64, filters: &[&str]) -> (TestServer, Subscriber) {
    let server = TestServer::start_with(|c| {
        c.mqtt_url = Some(url);
        // The checks run every tenth of the offline time.
        c.care_offline_secs = tick_secs * 10;
    })
    .await;
    let ha = Subscriber::connect(broker, filters).await;
    ha.wait("hearth/status", Duration::from_secs(10), |m| m.text() == "online").await;
    (server, ha)
}

#[tokio::test]
async fn discovery_the_fall_event_acknowledgement_and_the_last_will() {
    let broker = Broker::start();
    let (server, ha) = online(&broker, broker.url(), 10, &["hearth/#", "homeassistant/#"]).await;

    // A camera added while hearth runs is announced at once.
    let alice = user(&server, "13700000001").await;
    let token = add_device(&server, &alice, "hall camera").await;
    let id = device_id(&server, "hall camera").await;
    let entities = [
        ("binary_sensor", "fall", Some("safety")),
        ("binary_sensor", "connectivity", Some("connectivity")),
        ("event", "event", None),
        ("image", "snapshot", None),
    ];
    for (component, object, class) in entities {
        let topic = format!("homeassistant/{component}/hearth_{id}/{object}/config");
        let config = ha.wait(&topic, Duration::from_secs(5), |m| !m.payload.is_empty()).await.json();
        assert_eq!(config["unique_id"], format!("hearth_{id}_{object}"), "{config}");
        assert_eq!(config["default_entity_id"], format!("{component}.hearth_{id}_{object}"), "{config}");
        assert_eq!(config.get("object_id"), None, "Home Assistant no longer reads object_id: {config}");
        assert_eq!(config["availability_topic"], "hearth/status");
        assert_eq!(config["device"]["name"], "hall camera");
        assert_eq!(config["device"]["identifiers"], json!([format!("hearth_{id}")]));
        if let Some(class) = class {
            assert_eq!(config["device_class"], class, "{config}");
        }
        match component {
            "event" => assert_eq!(config["event_types"], json!(["fall"])),
            "image" => assert_eq!(config["image_topic"], format!("hearth/camera/{id}/image")),
            _ => assert!(config["state_topic"].as_str().unwrap().starts_with(&format!("hearth/camera/{id}/"))),
        }
    }
    // Retained: a subscriber arriving later still gets them.
    let late = Subscriber::connect(&broker, &["homeassistant/#", "hearth/status"]).await;
    let topic = format!("homeassistant/binary_sensor/hearth_{id}/fall/config");
    assert!(late.wait(&topic, Duration::from_secs(5), |_| true).await.retain);
    assert!(late.wait("hearth/status", Duration::from_secs(5), |m| m.text() == "online").await.retain);
    ha.wait(&format!("hearth/camera/{id}/fall"), Duration::from_secs(5), |m| m.text() == "OFF").await;

    // The fall event within a second of the upload's answer.
    let pic = upload(&server, &token, "fell in the hall").await;
    let answered = Instant::now();
    let event_topic = format!("hearth/camera/{id}/event");
    let event = ha.wait(&event_topic, Duration::from_secs(1), |_| true).await;
    assert!(event.at.duration_since(answered) < Duration::from_secs(1));
    assert!(!event.retain);
    let event = event.json();
    assert_eq!(event["event_type"], "fall");
    assert_eq!(event["device"], "hall camera");
    assert_eq!(event["content"], "fell in the hall");
    assert_eq!(event["escalated"], false);
    assert_eq!(event["createtime"].as_str().unwrap().len(), 19);
    let event_id = event["event_id"].as_str().unwrap().to_owned();
    assert_eq!(event_id.len(), 32);
    assert_eq!(event["image_url"], format!("{}/open/api/care/notices/{event_id}/image", server.base));
    let safety = format!("hearth/camera/{id}/fall");
    ha.wait(&safety, Duration::from_secs(5), |m| m.text() == "ON" && m.at >= answered).await;
    let image = ha.wait(&format!("hearth/camera/{id}/image"), Duration::from_secs(5), |_| true).await;
    assert!(image.payload.starts_with(b"\x89PNG"), "the snapshot's bytes");
    assert!(!pic.is_empty());
    let all_topics: Vec<String> = ha.messages.lock().unwrap().iter().map(|m| m.topic.clone()).collect();
    assert!(all_topics.iter().all(|t| !t.contains(&token)), "no topic carries the device token");

    // Acknowledging (care `notice sign`) turns the safety sensor off.
    let signed = Instant::now();
    ok(call(&server, "/api/get/notice", Some(&alice), "notice", "sign", json!({"event_id": event_id})).await);
    ha.wait(&safety, Duration::from_secs(5), |m| m.text() == "OFF" && m.at >= signed).await;

    // hearth's connection dies without DISCONNECT: the broker publishes the last will.
    let stopped = Instant::now();
    server.stop().await;
    ha.wait("hearth/status", Duration::from_secs(10), |m| m.text() == "offline" && m.at >= stopped).await;
    let after = Subscriber::connect(&broker, &["hearth/status"]).await;
    let will = after.wait("hearth/status", Duration::from_secs(5), |_| true).await;
    assert_eq!((will.text().as_str(), will.retain), ("offline", true), "the last will is retained");
}

#[tokio::test]
async fn two_installations_on_one_broker_keep_their_cameras_apart() {
    // The family's own box keeps the default prefix; grandma's sets its own. Each has a
    // camera with row id 1, which must become two devices in Home Assistant.
    let broker = Broker::start();
    let (home, ha) = online(&broker, broker.url(), 10, &["hearth/#", "Grandma/#", "homeassistant/#"]).await;
    let grandma = TestServer::start_with(|c| {
        c.mqtt_url = Some(broker.url());
        c.mqtt_prefix = "Grandma/Home".into();
    })
    .await;
    ha.wait("Grandma/Home/status", Duration::from_secs(10), |m| m.text() == "online").await;
    for (server, phone) in [(&home, "13700000011"), (&grandma, "13700000012")] {
        let owner = user(server, phone).await;
        add_device(server, &owner, "hall camera").await;
        assert_eq!(device_id(server, "hall camera").await, 1);
    }
    for (node, prefix) in [("hearth_1", "hearth"), ("grandma_home_1", "Grandma/Home")] {
        let topic = format!("homeassistant/binary_sensor/{node}/fall/config");
        let config = ha.wait(&topic, Duration::from_secs(5), |m| !m.payload.is_empty()).await.json();
        assert_eq!(config["unique_id"], format!("{node}_fall"), "{config}");
        assert_eq!(config["default_entity_id"], format!("binary_sensor.{node}_fall"), "{config}");
        assert_eq!(config["device"]["identifiers"], json!([node]), "{config}");
        assert_eq!(config["availability_topic"], format!("{prefix}/status"), "{config}");
        assert_eq!(config["state_topic"], format!("{prefix}/camera/1/fall"), "{config}");
    }
}

#[tokio::test]
async fn a_changed_prefix_moves_the_entities_without_leaving_the_old_ones_behind() {
    let broker = Broker::start();
    let (server, ha) = online(&broker, broker.url(), 10, &["hearth/#", "homeassistant/#"]).await;
    let owner = user(&server, "13700000013").await;
    add_device(&server, &owner, "hall camera").await;
    let old = "homeassistant/binary_sensor/hearth_1/fall/config";
    ha.wait(old, Duration::from_secs(5), |m| !m.payload.is_empty()).await;

    let _server = server.restart_with(|c| c.mqtt_prefix = "Grandma".into()).await;
    for object in ["fall", "connectivity"] {
        let topic = format!("homeassistant/binary_sensor/hearth_1/{object}/config");
        ha.wait(&topic, Duration::from_secs(10), |m| m.payload.is_empty()).await;
    }
    ha.wait("homeassistant/image/hearth_1/snapshot/config", Duration::from_secs(5), |m| m.payload.is_empty()).await;
    let new = "homeassistant/binary_sensor/grandma_1/fall/config";
    let config = ha.wait(new, Duration::from_secs(5), |m| !m.payload.is_empty()).await.json();
    assert_eq!(config["availability_topic"], "Grandma/status", "{config}");
    // Retained: what a Home Assistant starting now reads holds the new entities only.
    let late = Subscriber::connect(&broker, &["homeassistant/#"]).await;
    late.settle("homeassistant/test/settled").await;
    let topics: Vec<String> = late.topics().into_iter().take_while(|t| t != "homeassistant/test/settled").collect();
    assert_eq!(topics.iter().filter(|t| t.contains("/grandma_1/")).count(), 4, "{topics:?}");
    assert!(!topics.iter().any(|t| t.contains("/hearth_1/")), "old configs left: {topics:?}");
}

#[tokio::test]
async fn a_silent_camera_turns_the_connectivity_sensor_off() {
    let broker = Broker::start();
    let url = broker.url();
    let server = TestServer::start_with(|c| {
        c.mqtt_url = Some(url);
        c.care_offline_secs = 2;
    })
    .await;
    let ha = Subscriber::connect(&broker, &["hearth/#"]).await;
    let alice = user(&server, "13700000002").await;
    let token = add_device(&server, &alice, "porch").await;
    let id = device_id(&server, "porch").await;
    let topic = format!("hearth/camera/{id}/connectivity");
    ha.wait(&topic, Duration::from_secs(5), |m| m.text() == "OFF").await;
    let beat = Instant::now();
    ok(get(&server, &format!("/api/device/heartbeat?token={token}")).await);
    ha.wait(&topic, Duration::from_secs(5), |m| m.text() == "ON" && m.at >= beat).await;
    let on = ha.last(&topic).unwrap();
    ha.wait(&topic, Duration::from_secs(10), |m| m.text() == "OFF" && m.at > on.at).await;
    server.stop().await;
}

#[tokio::test]
async fn a_fall_sent_as_the_connection_dies_reaches_home_assistant_after_reconnecting() {
    let broker = Broker::start();
    let relay = Relay::to(&broker).await;
    let (server, ha) = online(&broker, relay.url(), 10, &["hearth/#"]).await;
    let alice = user(&server, "13700000009").await;
    let token = add_device(&server, &alice, "landing").await;
    let id = device_id(&server, "landing").await;
    ha.wait(&format!("hearth/camera/{id}/connectivity"), Duration::from_secs(5), |_| true).await;

    // The link goes quiet: hearth sends the fall's event, the broker never sees it, and no
    // acknowledgement comes back. Then the connection breaks.
    relay.swallow();
    upload(&server, &token, "fell on the landing").await;
    let event_topic = format!("hearth/camera/{id}/event");
    relay.wait_swallowed(event_topic.as_bytes(), Duration::from_secs(5)).await;
    relay.cut();

    // hearth reconnects to the session the broker kept and sends the event again.
    let event = ha.wait(&event_topic, Duration::from_secs(20), |_| true).await.json();
    assert_eq!((event["event_type"].as_str(), event["content"].as_str()), (Some("fall"), Some("fell on the landing")));
    server.stop().await;
}

#[tokio::test]
async fn the_safety_sensor_follows_who_is_bound_to_the_camera() {
    let broker = Broker::start();
    let (server, ha) = online(&broker, broker.url(), 1, &["hearth/#"]).await;
    let (alice, bob) = (user(&server, "13700000011").await, user(&server, "13700000012").await);
    let token = add_device(&server, &alice, "porch").await;
    bind(&server, &bob, &token).await;
    let id = device_id(&server, "porch").await;
    let safety = format!("hearth/camera/{id}/fall");

    let fell = Instant::now();
    upload(&server, &token, "fell on the porch").await;
    let event = ha.wait(&format!("hearth/camera/{id}/event"), Duration::from_secs(5), |_| true).await.json();
    ha.wait(&safety, Duration::from_secs(5), |m| m.text() == "ON" && m.at >= fell).await;
    let signed = Instant::now();
    ok(call(&server, "/api/get/notice", Some(&alice), "notice", "sign", json!({"event_id": event["event_id"]})).await);
    ha.wait(&safety, Duration::from_secs(5), |m| m.text() == "OFF" && m.at >= signed).await;

    // Alice lets go of the camera: her mark no longer counts, and Bob has not seen the fall.
    let unbound = Instant::now();
    ok(call(&server, "/api/device", Some(&alice), "device", "unbind", json!({"device_id": token})).await);
    ha.wait(&safety, Duration::from_secs(5), |m| m.text() == "ON" && m.at >= unbound).await;
    // Bound again, her mark counts again: binding sends no alert, the next check sees it.
    let bound = Instant::now();
    bind(&server, &alice, &token).await;
    ha.wait(&safety, Duration::from_secs(5), |m| m.text() == "OFF" && m.at >= bound).await;
    server.stop().await;
}

#[tokio::test]
async fn every_camera_is_announced_when_the_broker_comes_up_late() {
    // More cameras than the client's queue holds messages for (six each), added while the
    // broker is not there yet: the queue fills, and what could not be queued is sent later.
    let port = free_port();
    let server = TestServer::start_with(|c| {
        c.mqtt_url = Some(format!("mqtt://127.0.0.1:{port}"));
        c.care_offline_secs = 10;
    })
    .await;
    let alice = user(&server, "13700000021").await;
    const CAMERAS: usize = 60;
    for n in 0..CAMERAS {
        add_device(&server, &alice, &format!("room {n}")).await;
    }
    let broker = Broker::start_on(port);
    let ha = Subscriber::connect(&broker, &["homeassistant/#"]).await;
    let announced = |ha: &Subscriber| {
        let messages = ha.messages.lock().unwrap();
        let configs = messages.iter().filter(|m| m.topic.ends_with("/fall/config") && !m.payload.is_empty());
        configs.map(|m| m.topic.clone()).collect::<std::collections::HashSet<_>>().len()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while announced(&ha) < CAMERAS {
        assert!(Instant::now() < deadline, "{} of {CAMERAS} cameras announced", announced(&ha));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn uploads_succeed_while_the_broker_is_down() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = TestServer::start_with(|c| c.mqtt_url = Some(format!("mqtt://127.0.0.1:{port}"))).await;
    let alice = user(&server, "13700000003").await;
    let token = add_device(&server, &alice, "kitchen").await;
    for n in 0..5 {
        upload(&server, &token, &format!("fall {n}")).await;
    }
    assert_eq!(notices(&server, &alice, 0).await.len(), 5);
    server.stop().await;
}

#[tokio::test]
async fn a_camera_that_went_silent_while_hearth_was_down_is_reported_offline_at_start() {
    let broker = Broker::start();
    let url = broker.url();
    let server = TestServer::start_with(|c| c.mqtt_url = Some(url)).await;
    let ha = Subscriber::connect(&broker, &["hearth/#"]).await;
    let alice = user(&server, "13700000004").await;
    let token = add_device(&server, &alice, "garden").await;
    let id = device_id(&server, "garden").await;
    ok(get(&server, &format!("/api/device/heartbeat?token={token}")).await);
    let topic = format!("hearth/camera/{id}/connectivity");
    ha.wait(&topic, Duration::from_secs(15), |m| m.text() == "ON").await;

    // While hearth is stopped the camera stops calling in (its last call is now long ago).
    let stopped = Instant::now();
    let server = server
        .restart_after(|data| {
            let db = rusqlite::Connection::open(data.join("hearth.db")).unwrap();
            db.execute("UPDATE device SET last_seen = last_seen - 3600", []).unwrap();
        })
        .await;
    ha.wait(&topic, Duration::from_secs(15), |m| m.text() == "OFF" && m.at >= stopped).await;
    // The offline watcher recorded the change too (told once, not again at the next start).
    let deadline = Instant::now() + Duration::from_secs(15);
    let online = |server: &TestServer| -> bool {
        server
            .sql()
            .query_row("SELECT online FROM alert_device_state WHERE device_id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    while online(&server) {
        assert!(Instant::now() < deadline, "the watcher did not record the camera offline");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_camera_whose_row_is_gone_has_its_discovery_configs_cleared() {
    let broker = Broker::start();
    let url = broker.url();
    let server = TestServer::start_with(|c| {
        c.mqtt_url = Some(url);
        c.care_offline_secs = 10;
    })
    .await;
    let ha = Subscriber::connect(&broker, &["homeassistant/#"]).await;
    let alice = user(&server, "13700000005").await;
    add_device(&server, &alice, "attic").await;
    let id = device_id(&server, "attic").await;
    let topics: Vec<String> =
        ["binary_sensor/{}/fall", "binary_sensor/{}/connectivity", "event/{}/event", "image/{}/snapshot"]
            .iter()
            .map(|t| format!("homeassistant/{}/config", t.replace("{}", &format!("hearth_{id}"))))
            .collect();
    for topic in &topics {
        ha.wait(topic, Duration::from_secs(5), |m| !m.payload.is_empty()).await;
    }
    // No API deletes a camera today; the row can still go (an administrator's SQL, a restore).
    server.sql().execute("DELETE FROM device WHERE id = ?1", [id]).unwrap();
    // An empty retained payload removes the retained config, and Home Assistant the entity.
    for topic in &topics {
        ha.wait(topic, Duration::from_secs(5), |m| m.payload.is_empty()).await;
    }
    server.stop().await;
}
