//! The signed-in session: a random id in the `xaa_notes_session` cookie (HttpOnly, SameSite=Lax),
//! its SHA-256 in SQLite, and a per-session CSRF token every form carries.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use xaa_core::secret::{Secret, sha256_b64};

use crate::SESSION_COOKIE;
use crate::state::NotesState;
use crate::store::Session;

/// How long a notes session lasts.
pub(crate) const SESSION_TTL: i64 = 8 * 3600;

/// The session of this browser, if signed in.
pub(crate) async fn current(st: &NotesState, jar: &CookieJar) -> Result<Option<Session>, xaa_core::sqlite::DbError> {
    match jar.get(SESSION_COOKIE) {
        Some(c) => st.store.session(sha256_b64(c.value()), st.clock.now()).await,
        None => Ok(None),
    }
}

/// The session cookie for `id`.
pub(crate) fn cookie(st: &NotesState, id: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, id))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(st.config.secure_cookies)
        .build()
}

/// Whether a submitted CSRF token is the session's.
pub(crate) fn csrf_ok(session: &Session, submitted: &str) -> bool {
    Secret::new(session.csrf.clone()).matches(submitted)
}
