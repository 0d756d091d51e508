//! Gives freed heap memory back to the system once a minute. glibc's allocator keeps what a
//! thread frees in that thread's arena for reuse (up to eight arenas per core), so a burst of
//! connections or of uploads leaves the process larger for good although nothing uses the
//! memory any more. A box that runs for years should stay at the size of what it holds.
//! Measured in the soak benchmark (bench/README.md).

use std::time::Duration;

const EVERY: Duration = Duration::from_secs(60);

pub async fn trim_forever() {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    let started = std::time::Instant::now();
    // SAFETY: malloc_trim takes no pointers; it only walks the allocator's own free lists,
    // under the allocator's own locks.
    let released = unsafe { libc::malloc_trim(0) } == 1;
    tracing::debug!(released, us = started.elapsed().as_micros() as u64, "returned freed heap memory to the system");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Caps glibc's allocator at two arenas before any thread starts. Each thread that allocates
/// while another holds an arena would otherwise get one of its own, up to eight per core, and
/// the database pool's blocking threads alone are eight: an idle box carried megabytes of
/// nearly empty arenas. Two cores' worth of request work contends little for two arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_arenas() {
    // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas() {}

/// The process's resident set size in bytes (`VmRSS` of /proc/self/status), where the
/// system tells it.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}
