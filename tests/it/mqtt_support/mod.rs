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
        Broker::start_on(free_port())
    }

    /// Starts one on `port`, for a hearth that was told of it before it ran.
    pub fn start_on(port: u16) -> Broker {
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

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
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
    client: AsyncClient,
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
        Subscriber { messages, task, client }
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

    /// Waits until every retained message of the subscriptions has arrived: the broker sends
    /// them when it takes a subscription, so a message this client publishes afterwards to
    /// `topic` (which its filters must match) comes back behind them.
    pub async fn settle(&self, topic: &str) {
        self.client.publish(topic, QoS::AtLeastOnce, false, "settled").await.unwrap();
        self.wait(topic, Duration::from_secs(5), |m| m.text() == "settled").await;
    }

    /// The topics of every message received so far.
    pub fn topics(&self) -> Vec<String> {
        self.messages.lock().unwrap().iter().map(|m| m.topic.clone()).collect()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback relay to the broker whose connections can go quiet and then break, as a Wi-Fi
/// drop does: while `swallow`ed, what the client sends never reaches the broker (so nothing
/// it publishes is acknowledged) and the client cannot tell; `cut` then closes every
/// connection, and later ones pass again.
pub struct Relay {
    pub port: u16,
    swallowing: Arc<std::sync::atomic::AtomicBool>,
    swallowed: Arc<Mutex<Vec<u8>>>,
    cuts: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    pub async fn to(broker: &Broker) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let swallowing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swallowed = Arc::new(Mutex::new(Vec::new()));
        let (cuts, _) = tokio::sync::watch::channel(0u64);
        let (target, quiet, watching) = (broker.port, swallowing.clone(), cuts.subscribe());
        let kept = swallowed.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else { continue };
                let (quiet, mut cut, kept) = (quiet.clone(), watching.clone(), kept.clone());
                cut.mark_unchanged();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    let up = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                            if quiet.load(Ordering::SeqCst) {
                                kept.lock().unwrap().extend_from_slice(&buf[..n]);
                            } else if to_server.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let down = tokio::io::copy(&mut from_server, &mut to_client);
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay { port, swallowing, swallowed, cuts }
    }

    /// Waits until bytes containing `wanted` were swallowed.
    pub async fn wait_swallowed(&self, wanted: &[u8], within: Duration) {
        let deadline = Instant::now() + within;
        while !self.swallowed.lock().unwrap().windows(wanted.len()).any(|w| w == wanted) {
            assert!(Instant::now() < deadline, "nothing with {:?} was sent", String::from_utf8_lossy(wanted));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn swallow(&self) {
        self.swallowing.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Closes every open connection; new ones pass everything again.
    pub fn cut(&self) {
        // Cut first, so that no tail of a swallowed packet reaches the broker.
        self.cuts.send_modify(|n| *n += 1);
        self.swallowing.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
