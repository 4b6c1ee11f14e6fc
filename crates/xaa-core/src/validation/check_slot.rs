//! How a request's checks reach whoever shows them (the lab's trace): in the response's
//! extensions. A token endpoint puts its [`CheckLog`] there itself; an extractor, which never
//! sees the response, puts it in the request's [`CheckSlot`], and the [`carry_checks`] layer that
//! made the slot moves it into the response. Nothing global, nothing task-local.

use std::sync::{Arc, Mutex};

use super::CheckLog;

/// A request's place for the checks an extractor ran (in the request's extensions).
#[derive(Clone, Debug, Default)]
pub struct CheckSlot(Arc<Mutex<Option<CheckLog>>>);

impl CheckSlot {
    /// Leaves `checks` for the response.
    pub fn put(&self, checks: CheckLog) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(checks);
        }
    }

    /// The checks left, if any.
    pub fn take(&self) -> Option<CheckLog> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Middleware: gives the request a [`CheckSlot`] and moves what is left in it into the
/// response's extensions (unless the handler attached a [`CheckLog`] itself).
#[cfg(feature = "axum")]
pub async fn carry_checks(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let slot = CheckSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut resp = next.run(req).await;
    if let Some(checks) = slot.take()
        && resp.extensions().get::<CheckLog>().is_none()
    {
        resp.extensions_mut().insert(checks);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_hands_its_checks_over_once() {
        let slot = CheckSlot::default();
        let shared = slot.clone();
        let mut checks = CheckLog::new();
        checks.pass("typ", &crate::spec::RFC9068_4, "typ is at+jwt");
        shared.put(checks);
        assert_eq!(slot.take().map(|c| c.checks().len()), Some(1));
        assert!(slot.take().is_none());
    }
}
