//! A real mosquitto broker per test on a free loopback port, and a subscriber that records
//! everything published under a few topic filters.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

pub struct Broker {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// Starts `mosquitto` (Debian package `mosquitto`, installed by scripts/test.sh) and
    /// waits until it accepts connections.
    pub fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(&config, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"))
            .unwrap();
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("mosquitto");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed (scripts/test.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start listening on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, port, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Debug)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
    pub at: Instant,
}

impl Message {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}: {}", self.topic, self.text()))
    }
}

/// Records every message on `filters`, in arrival order.
pub struct Subscriber {
    pub messages: Arc<Mutex<Vec<Message>>>,
    task: tokio::task::JoinHandle<()>,
    _client: AsyncClient,
}

impl Subscriber {
    pub async fn connect(broker: &Broker, filters: &[&str]) -> Subscriber {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        // Client ids must differ: the broker drops the older session of a repeated id.
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("test-{}-{}-{n}", std::process::id(), broker.port);
        let mut options = MqttOptions::new(id, "127.0.0.1", broker.port);
        options.set_max_packet_size(16 << 20, 16 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        for filter in filters {
            client.subscribe(*filter, QoS::AtLeastOnce).await.unwrap();
        }
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => sink.lock().unwrap().push(Message {
                        topic: p.topic.clone(),
                        payload: p.payload.to_vec(),
                        retain: p.retain,
                        at: Instant::now(),
                    }),
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Subscriber { messages, task, _client: client }
    }

    /// The newest message on `topic` that satisfies `wanted`, waiting up to `within`.
    pub async fn wait(&self, topic: &str, within: Duration, wanted: impl Fn(&Message) -> bool) -> Message {
        let deadline = Instant::now() + within;
        loop {
            let found = self.messages.lock().unwrap().iter().rev().find(|m| m.topic == topic && wanted(m)).cloned();
            if let Some(m) = found {
                return m;
            }
            if Instant::now() > deadline {
                let seen: Vec<String> =
                    self.messages.lock().unwrap().iter().map(|m| format!("{} = {}", m.topic, m.text())).collect();
                panic!("nothing wanted on {topic} within {within:?}; seen: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The newest message on `topic`, if any.
    pub fn last(&self, topic: &str) -> Option<Message> {
        self.messages.lock().unwrap().iter().rev().find(|m| m.topic == topic).cloned()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}
