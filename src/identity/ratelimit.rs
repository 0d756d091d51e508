//! Counts failures per key (a client address, a phone) in a sliding window. Only failures
//! are recorded, so a person who types the password right is never slowed down; a key with
//! too many recent failures is refused until the oldest of them leaves the window.
//!
//! A check that does work (an Argon2 verification, a token lookup) takes its attempt with
//! `reserve` before the work: the check and the count are one step under the lock, so
//! parallel requests cannot all pass the check before any of them is counted. A success
//! hands its attempt back with `release` where successes are not counted. A cheap lookup
//! that many good requests make at once (a camera's device token, a Subsonic app's
//! credential) runs after `check` and takes its attempt only before its outcome is decided
//! and told: guesses are still counted before any is answered, and requests waiting for the
//! database hold no attempt.

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

    /// Takes one attempt for `key` now, or Err(seconds to wait) when none is left. The
    /// attempt counts as a failure until `release` gives it back.
    pub fn reserve(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let times = self.recent(&mut seen, key, now);
        if times.len() >= self.max {
            let oldest = *times.front().expect("max is at least one");
            return Err((self.window - now.duration_since(oldest)).as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }

    /// Gives back an attempt taken with `reserve` (the work succeeded and successes are
    /// not counted).
    pub fn release(&self, key: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(times) = seen.get_mut(key) {
            times.pop_back();
            if times.is_empty() {
                seen.remove(key);
            }
        }
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

    /// `key`'s failures inside the window; keys with none are dropped once there are many.
    fn recent<'a>(
        &self,
        seen: &'a mut HashMap<String, VecDeque<Instant>>,
        key: &str,
        now: Instant,
    ) -> &'a mut VecDeque<Instant> {
        if seen.len() > PRUNE_ABOVE {
            let window = self.window;
            seen.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let times = seen.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        times
    }

    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let times = self.recent(&mut seen, key, now);
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
    fn reservations_count_until_released() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        assert!(limiter.reserve("k").is_ok());
        assert!(limiter.reserve("k").is_ok());
        assert!(limiter.reserve("k").is_err());
        limiter.release("k");
        assert_eq!(limiter.count("k"), 1);
        assert!(limiter.reserve("k").is_ok());
        assert!(limiter.check("k").is_err());
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
