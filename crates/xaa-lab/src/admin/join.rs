//! Self-service registration for a classroom: a participant who knows the join code registers
//! their own requestor through the same [`Admin::register`] IT uses. Joins are capped in number
//! (per lab run) and rate-limited per join code on the lab clock; a refused join creates nothing.

use std::collections::VecDeque;
use std::sync::Mutex;

use xaa_core::secret::Secret;

use super::{Admin, RegisterRequest, Registered};

/// The lab's join code and its limits.
#[derive(Debug)]
pub(crate) struct JoinDesk {
    code: Secret,
    max: usize,
    per_minute: usize,
    book: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    /// Registrations made through the join code in this run (and ones under way).
    joined: usize,
    /// When the recent ones were made (lab clock), oldest first.
    recent: VecDeque<i64>,
}

/// Why a join was refused; nothing was created.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JoinRefused {
    /// The code is not the lab's join code.
    WrongCode,
    /// `max` participants have registered already.
    Full { max: usize },
    /// `per_minute` registrations in the last minute; the next one is possible in `retry_in` s.
    TooFast { per_minute: usize, retry_in: i64 },
    /// The registration itself was refused (name, redirect URIs): the message says what to change.
    Invalid(String),
}

impl std::fmt::Display for JoinRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinRefused::WrongCode => f.write_str(
                "That is not this lab's join code. Ask your teacher for it (it is in the lab's start-up banner).",
            ),
            JoinRefused::Full { max } => write!(
                f,
                "This lab already has {max} participant apps, as many as it takes. Ask your teacher to register yours or to raise --max-joins."
            ),
            JoinRefused::TooFast { per_minute, retry_in } => write!(
                f,
                "Too many registrations with this join code right now (at most {per_minute} a minute). Try again in {retry_in} s."
            ),
            JoinRefused::Invalid(m) => write!(f, "The registration was refused: {m}."),
        }
    }
}

impl JoinDesk {
    pub(crate) fn new(code: String, max: usize, per_minute: usize) -> Self {
        Self { code: Secret::new(code), max, per_minute: per_minute.max(1), book: Mutex::default() }
    }

    /// The join code, to show IT and print in the banner.
    pub(crate) fn code(&self) -> &str {
        self.code.expose()
    }

    /// How many joined in this run, and the cap.
    pub(crate) fn count(&self) -> (usize, usize) {
        (self.book.lock().map(|b| b.joined).unwrap_or(0), self.max)
    }

    /// Takes a place for a registration made at `now`, or says why not.
    pub(super) fn reserve(&self, code: &str, now: i64) -> Result<(), JoinRefused> {
        if !self.code.matches(code.trim()) {
            return Err(JoinRefused::WrongCode);
        }
        let mut book = self.book.lock().map_err(|_| JoinRefused::Invalid("the lab is busy".into()))?;
        if book.joined >= self.max {
            return Err(JoinRefused::Full { max: self.max });
        }
        // A minute of the lab clock; entries "in the future" (the clock went back) count too.
        book.recent.retain(|t| *t > now - 60);
        if book.recent.len() >= self.per_minute {
            let oldest = book.recent.iter().min().copied().unwrap_or(now);
            return Err(JoinRefused::TooFast { per_minute: self.per_minute, retry_in: (oldest + 60 - now).max(1) });
        }
        book.joined += 1;
        book.recent.push_back(now);
        Ok(())
    }

    /// Gives back a place taken at `now` whose registration was refused.
    pub(super) fn release(&self, now: i64) {
        if let Ok(mut book) = self.book.lock() {
            book.joined = book.joined.saturating_sub(1);
            if let Some(i) = book.recent.iter().rposition(|t| *t == now) {
                book.recent.remove(i);
            }
        }
    }
}

impl Admin {
    /// A participant's registration with the join code: a requestor with every scope of the todo
    /// API, exactly as IT registers one (IT can narrow or revoke its connection afterwards).
    pub(crate) async fn join(
        &self,
        code: &str,
        name: String,
        redirect_uris: Vec<String>,
    ) -> Result<Registered, JoinRefused> {
        let now = self.clock.now();
        self.join.reserve(code, now)?;
        let req = RegisterRequest { name, redirect_uris, ..RegisterRequest::default() };
        match self.register(req).await {
            Ok(r) => {
                tracing::info!(client.id = %r.client_id, "participant joined with the join code");
                Ok(r)
            }
            Err(e) => {
                self.join.release(now);
                Err(JoinRefused::Invalid(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desk_checks_the_code_the_cap_and_the_rate() {
        let desk = JoinDesk::new("room-42".into(), 3, 2);
        assert_eq!(desk.reserve("nope", 1000), Err(JoinRefused::WrongCode));
        assert_eq!(desk.reserve(" room-42 ", 1000), Ok(()));
        assert_eq!(desk.reserve("room-42", 1010), Ok(()));
        assert_eq!(desk.reserve("room-42", 1030), Err(JoinRefused::TooFast { per_minute: 2, retry_in: 30 }));
        desk.release(1010);
        assert_eq!(desk.count(), (1, 3));
        assert_eq!(desk.reserve("room-42", 1030), Ok(()));
        assert_eq!(desk.reserve("room-42", 1061), Ok(()), "a minute later");
        assert_eq!(desk.reserve("room-42", 2000), Err(JoinRefused::Full { max: 3 }));
        assert_eq!(desk.count(), (3, 3));
    }
}
