//! Closed-loop HTTP load for the in-process benchmarks: a number of clients send requests
//! back to back for a while; throughput and latency percentiles of the answers.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` quantile (0..=1) of sorted latencies, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub struct Load {
    pub requests: u64,
    pub failures: u64,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Load {
    pub fn per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn report(&self, name: &str) {
        println!(
            "{name:<34} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} ok, {} failed, {:.1} s)",
            self.per_sec(),
            percentile(&self.latencies, 0.5),
            percentile(&self.latencies, 0.99),
            self.requests,
            self.failures,
            self.elapsed.as_secs_f64()
        );
    }
}

/// What one answer must look like to count as a success.
pub type Check = fn(u16, &[u8]) -> bool;

pub fn http_ok(status: u16, _body: &[u8]) -> bool {
    status == 200
}

/// `connections` clients send `request(i)` back to back for `secs` seconds (client `c`
/// sends i = c, c + connections, …, so requests can vary).
pub async fn load<F>(connections: u64, secs: u64, request: F, check: Check) -> Load
where
    F: Fn(u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (request, stop) = (request.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bad, mut latencies, mut i) = (0u64, 0u64, Vec::new(), worker);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let good = match request(i).send().await {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        res.bytes().await.is_ok_and(|body| check(status, &body))
                    }
                    Err(_) => false,
                };
                latencies.push(t.elapsed());
                if good {
                    ok += 1
                } else {
                    bad += 1
                }
                i += connections;
            }
            (ok, bad, latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut result = Load { requests: 0, failures: 0, latencies: Vec::new(), elapsed: Duration::ZERO };
    for task in tasks {
        let (ok, bad, latencies) = task.await.expect("a load client");
        result.requests += ok;
        result.failures += bad;
        result.latencies.extend(latencies);
    }
    result.elapsed = started.elapsed();
    result.latencies.sort();
    result
}

/// A camera snapshot: a noisy 4:3 JPEG within 10 % of `target` bytes (noise keeps JPEG
/// from compressing it to nothing, as a real photo would not compress either).
pub fn jpeg_of_about(target: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(4);
    let (mut width, mut bytes) = (480u32, Vec::new());
    for _ in 0..8 {
        let height = width * 3 / 4;
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            let base = ((x + y) % 200) as u8;
            image::Rgb([
                base.wrapping_add(rng.gen_range(0..40)),
                base / 2 + rng.gen_range(0..40),
                90 + rng.gen_range(0..40),
            ])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&picture).expect("jpeg");
        bytes = out.into_inner();
        let ratio = bytes.len() as f64 / target as f64;
        if (0.9..1.1).contains(&ratio) {
            break;
        }
        width = (width as f64 / ratio.sqrt()) as u32;
    }
    bytes
}

/// An 8 kHz mono 16-bit WAV of a square wave.
pub fn wav(samples: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(b"RIFF");
    out.extend((36 + samples * 2).to_le_bytes());
    out.extend(b"WAVEfmt ");
    for v in [
        16u32.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
        8000u32.to_le_bytes().to_vec(),
        16000u32.to_le_bytes().to_vec(),
        2u16.to_le_bytes().to_vec(),
        16u16.to_le_bytes().to_vec(),
    ] {
        out.extend(v);
    }
    out.extend(b"data");
    out.extend((samples * 2).to_le_bytes());
    for i in 0..samples {
        out.extend((if (i / 20) % 2 == 0 { 8000i16 } else { -8000 }).to_le_bytes());
    }
    out
}

/// Whether a JSON answer holds `"key":value` exactly (the next byte ends the value), without
/// parsing it: the load clients should cost the machine as little as possible.
pub fn has_field(body: &[u8], field: &str) -> bool {
    let field = field.as_bytes();
    body.windows(field.len() + 1).any(|w| w.starts_with(field) && matches!(w[field.len()], b',' | b'}'))
}
