//! Gives freed heap memory back to the system once a minute. glibc's allocator keeps what a
//! thread frees in that thread's arena for reuse (up to eight arenas per core), so a burst of
//! connections or of uploads leaves the process larger for good although nothing uses the
//! memory any more. A box that runs for years should stay at the size of what it holds.
//! Measured in the soak benchmark (bench/README.md). Once start is over, the pages of the
//! binary that only start ran are let go of as well (`release_start_pages`).

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

/// How long after start the background tasks' first rounds (expired sessions, retention, the
/// first alert, push and webhook rounds, the music scan's schedule) have run on a small box.
const SETTLE: Duration = Duration::from_secs(3);

/// `release_start_pages` once start and the background tasks' first rounds are over.
pub async fn release_start_pages_once_settled() {
    tokio::time::sleep(SETTLE).await;
    let released = release_start_pages();
    tracing::debug!(kib = released / 1024, "let go of the binary's pages mapped while starting");
}

/// Lets go of the pages of hearth's own code and read-only data that are mapped once start
/// is over. Starting runs much code that never runs again (the command line, the config, the
/// migrations, the permission catalogue), and the kernel maps a file's pages sixteen at a
/// time around each one touched, so an idle server kept megabytes of its binary mapped that it
/// would not execute again. The pages stay in the page cache and are now the kernel's to drop
/// first under memory pressure; code that runs later maps its pages back with a minor fault.
/// Returns the bytes that were resident in the mappings let go of.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_start_pages() -> u64 {
    let (Ok(exe), Ok(smaps)) = (std::fs::read_link("/proc/self/exe"), std::fs::read_to_string("/proc/self/smaps"))
    else {
        return 0;
    };
    let mut released = 0;
    for mapping in clean_file_mappings(&smaps, &exe.to_string_lossy()) {
        // SAFETY: the range is a whole mapping of the executable file that cannot be written
        // and holds no anonymous (copied-on-write, such as relocated) page, so dropping its
        // pages loses nothing: every access maps the same bytes back from the file.
        if unsafe { libc::madvise(mapping.start as *mut libc::c_void, mapping.len, libc::MADV_DONTNEED) } == 0 {
            released += mapping.resident;
        }
    }
    released
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_start_pages() -> u64 {
    0
}

/// A mapping of the executable file, from /proc/self/smaps.
#[derive(Debug, PartialEq)]
struct Mapping {
    start: usize,
    len: usize,
    resident: u64,
}

/// The mappings of `path` in `smaps` that are not writable and show no anonymous page.
fn clean_file_mappings(smaps: &str, path: &str) -> Vec<Mapping> {
    // A mapping's header line, then its fields ("Rss:", "Anonymous:", ...) until the next header.
    let mut found = Vec::new();
    let mut current: Option<Mapping> = None;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if !first.ends_with(':') {
            let perms = words.next().unwrap_or_default();
            let named = line.trim_end().strip_suffix(path).is_some_and(|head| head.ends_with(' '));
            current = first
                .split_once('-')
                .and_then(|(s, e)| Some((usize::from_str_radix(s, 16).ok()?, usize::from_str_radix(e, 16).ok()?)))
                .filter(|(s, e)| named && !perms.contains('w') && e > s)
                .map(|(start, end)| Mapping { start, len: end - start, resident: 0 });
            continue;
        }
        let Some(mapping) = current.as_mut() else { continue };
        let bytes = words.next().and_then(|v| v.parse::<u64>().ok()).map(|kib| kib * 1024);
        match first {
            "Rss:" => mapping.resident = bytes.unwrap_or(0),
            // The last field needed: the mapping counts only when it is known to hold none.
            "Anonymous:" => found.extend(current.take().filter(|_| bytes == Some(0))),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
5600a0000000-5600a0100000 r--p 00000000 fd:01 42    /usr/bin/hearth server
Size:               1024 kB
Rss:                 512 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
5600a0100000-5600a0900000 r-xp 00100000 fd:01 42    /usr/bin/hearth server
Rss:                4096 kB
Anonymous:             0 kB
5600a0900000-5600a0a00000 r--p 00900000 fd:01 42    /usr/bin/hearth server
Rss:                 300 kB
Anonymous:           300 kB
5600a0a00000-5600a0a10000 rw-p 00a00000 fd:01 42    /usr/bin/hearth server
Rss:                  64 kB
Anonymous:             0 kB
7f0000000000-7f0000100000 r-xp 00000000 fd:01 7     /usr/lib/libc.so.6
Rss:                 900 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 r-xp 00000000 fd:01 43    /usr/bin/hearth server (deleted)
Rss:                 100 kB
Anonymous:             0 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0     [stack]
Rss:                  16 kB
Anonymous:            16 kB
";

    #[test]
    fn only_read_only_mappings_of_the_binary_without_copied_pages_are_let_go_of() {
        let found = clean_file_mappings(SMAPS, "/usr/bin/hearth server");
        assert_eq!(
            found,
            vec![
                Mapping { start: 0x5600a0000000, len: 0x100000, resident: 512 * 1024 },
                Mapping { start: 0x5600a0100000, len: 0x800000, resident: 4096 * 1024 },
            ],
            "the relocated read-only part (anonymous pages), the writable data, another file and a replaced binary stay"
        );
    }

    #[test]
    fn a_mapping_whose_anonymous_pages_are_not_shown_is_kept() {
        let smaps = "5600a0000000-5600a0100000 r-xp 00000000 fd:01 42 /bin/h\nRss: 8 kB\n";
        assert!(clean_file_mappings(smaps, "/bin/h").is_empty());
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn letting_go_of_the_code_keeps_the_process_running_the_same() {
        let resident = || {
            let exe = std::fs::read_link("/proc/self/exe").unwrap();
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            clean_file_mappings(&smaps, &exe.to_string_lossy()).iter().map(|m| m.resident).sum::<u64>()
        };
        let before = format!("{:?}", (1..50).map(|i| i * i).collect::<Vec<u64>>());
        let released = release_start_pages();
        assert!(released > 0, "a running test binary has resident code pages");
        assert!(resident() < released, "the pages were unmapped; only those run since are back");
        let after = format!("{:?}", (1..50).map(|i| i * i).collect::<Vec<u64>>());
        assert_eq!(before, after);
    }
}
