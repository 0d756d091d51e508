//! Counts failures per key (a client address, a phone) in a sliding window. Only failures
//! are recorded, so a person who types the password right is never slowed down; a key with
//! too many recent failures is refused until the oldest of them leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max: usize,
    window: Duration,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Above this many tracked keys, keys with no failure inside the window are dropped.
const PRUNE_ABOVE: usize = 10_000;

impl FailureLimiter {
    pub fn new(max: u32, window: Duration) -> FailureLimiter {
        FailureLimiter { max: max as usize, window, seen: Mutex::new(HashMap::new()) }
    }

    /// Err(seconds to wait) when `key` has used up its failures.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = seen.get_mut(key) else { return Ok(()) };
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.len() < self.max {
            return Ok(());
        }
        let oldest = *times.front().expect("max is at least one");
        Err((self.window - now.duration_since(oldest)).as_secs().max(1))
    }

    pub fn count(&self, key: &str) -> usize {
        let now = Instant::now();
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(key).map_or(0, |times| times.iter().filter(|t| now.duration_since(**t) < self.window).count())
    }

    /// Forgets `key`'s failures (a successful login where failures only add a captcha).
    pub fn clear(&self, key: &str) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > PRUNE_ABOVE {
            let window = self.window;
            seen.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let times = seen.entry(key.to_owned()).or_default();
        times.push_back(now);
        while times.len() > self.max {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_and_says_how_long_to_wait() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.check("1.2.3.4").is_ok());
            limiter.fail("1.2.3.4");
        }
        let wait = limiter.check("1.2.3.4").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("5.6.7.8").is_ok());
        assert_eq!(limiter.count("1.2.3.4"), 3);
    }

    #[test]
    fn failures_leave_the_window() {
        let limiter = FailureLimiter::new(1, Duration::from_millis(30));
        limiter.fail("k");
        assert!(limiter.check("k").is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.check("k").is_ok());
    }
}
