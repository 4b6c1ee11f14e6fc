//! The IdP's browser state: the single sign-on session (a random id in the `xaa_idp_session`
//! cookie, its SHA-256 in SQLite), the login in progress (`xaa_idp_login` once it is stored; a
//! login from `GET /authorize` waits in `xaa_idp_authorize` until its email is submitted, see
//! `login_transaction`), and the cookie its
//! forms' CSRF tokens are bound to (`xaa_idp_csrf`, see `xaa_web::csrf`). All three are HttpOnly
//! and SameSite=Lax: the IdP's pages are reached from the applications' sites.
//!
//! Handlers that work signed in or out (authorize, consent, RP-initiated logout, SAML SSO) take
//! `Option<SignedIn>` as an extractor.

use std::sync::Arc;

use axum::extract::OptionalFromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use xaa_core::secret::sha256_b64;
use xaa_core::sqlite::DbError;
use xaa_web::csrf::{Csrf, CsrfConfig};

use crate::authorization_request::LOGIN_TTL;
use crate::pages::PageError;
use crate::state::IdpState;
use crate::store::{Login, Store};

/// Cookie holding the IdP's single sign-on session (names are unique across the lab's components).
pub const SESSION_COOKIE: &str = "xaa_idp_session";
/// Cookie binding a login in progress to the browser that started it (its forms name it too).
pub const LOGIN_COOKIE: &str = "xaa_idp_login";
/// Cookie the CSRF tokens of the IdP's forms are bound to (see `xaa_web::csrf`).
pub const CSRF_COOKIE: &str = "xaa_idp_csrf";

/// The user signed in at the IdP in this browser.
#[derive(Clone, Debug)]
pub(crate) struct SignedIn {
    /// The SHA-256 of the session id (how the session is stored).
    pub(crate) id_hash: String,
    pub(crate) email: String,
    /// When the user proved their email (OIDC `auth_time`).
    pub(crate) auth_time: i64,
}

impl OptionalFromRequestParts<Arc<IdpState>> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<IdpState>) -> Result<Option<Self>, Self::Rejection> {
        Self::of(&st.store, &parts.headers, st.clock.now()).await.map_err(PageError::internal)
    }
}

impl SignedIn {
    /// The session the browser that sent `headers` holds at `now`, if any (an expired one is none).
    async fn of(store: &Store, headers: &HeaderMap, now: i64) -> Result<Option<Self>, DbError> {
        let jar = CookieJar::from_headers(headers);
        let Some(id) = jar.get(SESSION_COOKIE) else { return Ok(None) };
        let id_hash = sha256_b64(id.value());
        let session = store.session(id_hash.clone(), now).await?;
        Ok(session.map(|(email, auth_time)| Self { id_hash, email, auth_time }))
    }
}

/// The page for a sign-in form that cannot be used: its token or login is not this browser's, or
/// the login ended or is too old.
pub(crate) fn expired() -> PageError {
    PageError::bad_request(
        "This sign-in has expired",
        "The sign-in page is no longer valid (it expired, was already used, or was opened in another browser).",
        Some("Go back to the application and sign in again."),
    )
}

/// The login in progress a form names, checked: the `xaa_idp_login` cookie names it too, and it is
/// not older than [`LOGIN_TTL`].
pub(crate) async fn pending_login(st: &IdpState, jar: &CookieJar, login_id: &str) -> Result<Login, PageError> {
    if jar.get(LOGIN_COOKIE).map(|c| c.value()) != Some(login_id) {
        return Err(expired());
    }
    let login = st.store.login(login_id.to_owned()).await.map_err(PageError::internal)?.ok_or_else(expired)?;
    if st.clock.now() > login.created_at + LOGIN_TTL {
        return Err(expired());
    }
    Ok(login)
}

/// The IdP's forms are bound to a CSRF cookie of its own (a login page is shown before any session).
impl CsrfConfig for IdpState {
    fn csrf(&self) -> Csrf {
        Csrf::own_cookie(CSRF_COOKIE, SameSite::Lax, self.config.secure_cookies)
    }
}

/// The single sign-on session cookie.
pub(crate) fn session_cookie(st: &IdpState, session_id: String) -> Cookie<'static> {
    cookie(st, SESSION_COOKIE, session_id)
}

/// The cookie naming the login in progress `login_id` (its forms name it too).
pub(crate) fn login_cookie(st: &IdpState, login_id: String) -> Cookie<'static> {
    cookie(st, LOGIN_COOKIE, login_id)
}

fn cookie(st: &IdpState, name: &'static str, value: String) -> Cookie<'static> {
    xaa_web::cookie::http_only(name, value, SameSite::Lax, st.config.secure_cookies)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};
    use xaa_core::secret::sha256_b64;

    use super::SignedIn;
    use crate::store::Store;

    const NOW: i64 = 1_800_000_000;

    fn browser(cookie: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(c) = cookie {
            headers.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        headers
    }

    #[tokio::test]
    async fn a_browser_is_signed_in_only_with_a_live_session() {
        let store = Store::open(None).unwrap();
        store.insert_session(sha256_b64("alice-id"), "alice@acme.example".into(), NOW - 60, NOW + 3600).await.unwrap();
        store.insert_session(sha256_b64("old-id"), "bob@acme.example".into(), NOW - 7200, NOW - 1).await.unwrap();

        let alice = SignedIn::of(&store, &browser(Some("xaa_idp_session=alice-id")), NOW).await.unwrap().unwrap();
        assert_eq!(
            (alice.id_hash, alice.email, alice.auth_time),
            (sha256_b64("alice-id"), "alice@acme.example".into(), NOW - 60)
        );
        for (cookie, why) in [
            (None, "no cookie"),
            (Some("xaa_idp_session=unknown-id"), "an unknown session"),
            (Some("xaa_idp_session=old-id"), "an expired session"),
            (Some("xaa_notes_session=alice-id"), "another component's cookie"),
        ] {
            assert!(SignedIn::of(&store, &browser(cookie), NOW).await.unwrap().is_none(), "{why}");
        }
        assert!(
            SignedIn::of(&store, &browser(Some("xaa_idp_session=alice-id")), NOW + 3600).await.unwrap().is_none(),
            "at its expiry"
        );
    }
}
