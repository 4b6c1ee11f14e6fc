//! Credentials shown once, after a redirect: a registration (`POST /join`, `POST /resources`)
//! answers `303 See Other` to a page the browser then loads with `GET` (post/redirect/get), so a
//! refresh reloads that page instead of registering again. The secrets it shows are handed over
//! here, to the browser that registered and no other: its own random cookie names them, for
//! [`SHOWN_FOR`] seconds of the lab clock. Nothing is written to disk, and past [`MAX_KEPT`]
//! hand-overs the oldest is dropped.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;

use crate::admin::Registered;

/// The cookie naming this browser's hand-overs (the console's own name: cookies ignore ports).
pub(crate) const COOKIE: &str = "xaa_console_shown";
/// How long a registration page shows its secrets again on a refresh (lab clock seconds).
pub(crate) const SHOWN_FOR: i64 = 10 * 60;
/// The most hand-overs kept (a room registers tens of apps).
pub(crate) const MAX_KEPT: usize = 500;

/// What a registration hands over to the page after its redirect.
#[derive(Clone, Debug)]
pub(crate) enum Shown {
    /// A participant's requestor, registered at `/join`: both credential pairs and its `.env`.
    Joined(Box<Registered>),
    /// A resource app registered at `/resources`, with the discovery attempts of its own AS.
    ResourceApp { id: String, tried: Vec<String> },
}

#[derive(Debug)]
struct Entry {
    browser: String,
    until: i64,
    shown: Shown,
}

/// The hand-overs not yet expired, oldest first.
#[derive(Debug, Default)]
pub(crate) struct ShownOnce {
    entries: Mutex<VecDeque<Entry>>,
}

impl ShownOnce {
    /// Keeps `shown` for the browser of `jar` (giving it its cookie when it has none) until
    /// `now` + [`SHOWN_FOR`].
    pub(crate) fn hand_over(&self, jar: CookieJar, secure: bool, now: i64, shown: Shown) -> CookieJar {
        let (jar, browser) = match jar.get(COOKIE).map(|c| c.value().to_owned()) {
            Some(id) if !id.is_empty() => (jar, id),
            _ => {
                let id = xaa_core::secret::random_token(16);
                let cookie = xaa_web::cookie::http_only(COOKIE, id.clone(), SameSite::Strict, secure);
                (jar.add(cookie), id)
            }
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.until > now);
        while entries.len() >= MAX_KEPT {
            entries.pop_front();
        }
        entries.push_back(Entry { browser, until: now + SHOWN_FOR, shown });
        jar
    }

    /// The latest hand-over to the browser of `jar` that `pick` accepts, while it lasts.
    pub(crate) fn find<T>(&self, jar: &CookieJar, now: i64, pick: impl Fn(&Shown) -> Option<T>) -> Option<T> {
        let browser = jar.get(COOKIE)?.value();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().rev().filter(|e| e.browser == browser && e.until > now).find_map(|e| pick(&e.shown))
    }

    /// The participant registration last handed over to this browser.
    pub(crate) fn joined(&self, jar: &CookieJar, now: i64) -> Option<Registered> {
        self.find(jar, now, |s| match s {
            Shown::Joined(r) => Some((**r).clone()),
            Shown::ResourceApp { .. } => None,
        })
    }

    /// The discovery attempts of resource app `id`, when this browser registered it just now.
    pub(crate) fn resource_app(&self, jar: &CookieJar, now: i64, id: &str) -> Option<Vec<String>> {
        self.find(jar, now, |s| match s {
            Shown::ResourceApp { id: shown, tried } if shown == id => Some(tried.clone()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use axum_extra::extract::cookie::Cookie;

    use super::*;

    fn app(id: &str) -> Shown {
        Shown::ResourceApp { id: id.into(), tried: vec![format!("{id} tried")] }
    }

    fn browser(jar: &CookieJar) -> CookieJar {
        CookieJar::new().add(Cookie::new(COOKIE, jar.get(COOKIE).unwrap().value().to_owned()))
    }

    #[test]
    fn only_the_browser_that_registered_sees_the_secrets_and_only_for_a_while() {
        let store = ShownOnce::default();
        let mine = browser(&store.hand_over(CookieJar::new(), false, 100, app("items")));
        assert_eq!(store.resource_app(&mine, 100, "items"), Some(vec!["items tried".to_owned()]));
        assert_eq!(store.resource_app(&mine, 100 + SHOWN_FOR - 1, "items").map(|t| t.len()), Some(1));
        assert_eq!(store.resource_app(&mine, 100 + SHOWN_FOR, "items"), None, "expired");
        assert_eq!(store.resource_app(&mine, 100, "other"), None, "another app");
        let stranger = CookieJar::new().add(Cookie::new(COOKIE, "guessed"));
        assert_eq!(store.resource_app(&stranger, 100, "items"), None);
        assert_eq!(store.resource_app(&CookieJar::new(), 100, "items"), None);
        assert!(store.joined(&mine, 100).is_none());
    }

    #[test]
    fn a_browser_keeps_its_cookie_and_the_store_stays_bounded() {
        let store = ShownOnce::default();
        let first = store.hand_over(CookieJar::new(), false, 0, app("a"));
        let cookie = first.get(COOKIE).unwrap().clone();
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        let again = store.hand_over(browser(&first), false, 1, app("b"));
        assert_eq!(again.get(COOKIE).unwrap().value(), cookie.value(), "the same browser id");
        let mine = browser(&first);
        assert!(store.resource_app(&mine, 1, "a").is_some() && store.resource_app(&mine, 1, "b").is_some());
        for i in 0..MAX_KEPT {
            let _ = store.hand_over(CookieJar::new(), false, 2, app(&i.to_string()));
        }
        assert_eq!(store.entries.lock().unwrap().len(), MAX_KEPT);
        assert!(store.resource_app(&mine, 2, "a").is_none(), "the oldest went first");
    }
}
