//! An injectable clock: every issued and validated timestamp goes through [`Clock::now`], so tests
//! and the lab clock can move time without sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time as a NumericDate (seconds since the epoch, RFC 7519 §2).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
    /// Milliseconds since the Unix epoch on the same clock (for showing when something happened
    /// to the millisecond; every rule about time uses [`Clock::now`]). A clock without a finer
    /// reading than seconds gives `now() * 1000`.
    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
    /// Moves this clock by `seconds` (negative moves it back): the lab clock, for tokens and
    /// validation alike, so expiry shows without waiting.
    fn advance(&self, seconds: i64);
}

/// A clock shared by every component of one lab.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock, shifted by an offset that can be advanced (the "lab clock").
#[derive(Debug, Default)]
pub struct SystemClock {
    offset: AtomicI64,
}

impl SystemClock {
    /// A wall clock with no offset.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        wall + self.offset.load(Ordering::SeqCst)
    }
    fn now_ms(&self) -> i64 {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        wall + self.offset.load(Ordering::SeqCst).saturating_mul(1000)
    }
    fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// A clock that only moves when told: for tests and deterministic runs.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `now`.
    pub fn new(now: i64) -> Self {
        Self { now: AtomicI64::new(now) }
    }
    /// Moves the clock by `seconds` (the [`Clock::advance`] of this clock, callable without the trait).
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
    /// Sets the clock.
    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn advance(&self, seconds: i64) {
        ManualClock::advance(self, seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_on_the_same_clock_as_seconds() {
        let manual = ManualClock::new(1_800_000_000);
        assert_eq!(manual.now_ms(), 1_800_000_000_000);
        let system = SystemClock::new();
        system.advance(3600);
        let (s, ms) = (system.now(), system.now_ms());
        assert!((ms / 1000 - s).abs() <= 1, "{ms} ms, {s} s: the offset moves both");
    }
}
