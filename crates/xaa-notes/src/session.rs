//! The signed-in session: a random id in the `xaa_notes_session` cookie (HttpOnly, SameSite=Lax),
//! its SHA-256 in SQLite. Every form's CSRF token is bound to that cookie (`xaa_web::csrf`), so a
//! form is good only in the session it was shown in.
//!
//! Handlers take [`SignedIn`] as an extractor: without a session, the browser is sent to sign in
//! and then back to the page it asked for, or to the page a form was posted from
//! ([`return_to`]). `Option<SignedIn>` is for the two paths that work signed out too.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use xaa_core::secret::sha256_b64;
use xaa_web::csrf::{Csrf, CsrfConfig};
use xaa_web::redirect::SeeOther;

use crate::SESSION_COOKIE;
use crate::pages::PageError;
use crate::state::NotesState;
use crate::store::Session;

/// How long a notes session lasts.
pub(crate) const SESSION_TTL: i64 = 8 * 3600;

/// Lab Notes' forms are bound to its session cookie.
impl CsrfConfig for NotesState {
    fn csrf(&self) -> Csrf {
        Csrf::session_cookie(SESSION_COOKIE)
    }
}

/// The session cookie for `id`.
pub(crate) fn cookie(st: &NotesState, id: String) -> Cookie<'static> {
    xaa_web::cookie::http_only(SESSION_COOKIE, id, SameSite::Lax, st.config.secure_cookies)
}

/// The signed-in user of this browser, with the CSRF token of its session's forms.
pub(crate) struct SignedIn {
    pub(crate) session: Session,
    pub(crate) csrf: String,
}

/// Why a handler got no [`SignedIn`].
pub(crate) enum NotSignedIn {
    /// No session (or an expired one): sign in, then come back to `return_to` (a local path).
    SignIn { return_to: String },
    /// The sessions could not be read.
    Failed(PageError),
}

impl NotSignedIn {
    /// Comes back to `back` after signing in, for a form whose page is in its body, not its path.
    pub(crate) fn returning_to(self, back: &str) -> Self {
        match self {
            Self::SignIn { .. } => Self::SignIn { return_to: back.to_owned() },
            failed => failed,
        }
    }
}

/// A redirect to sign in (and back), or the error page.
impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { return_to } => {
                let q = form_urlencoded::Serializer::new(String::new()).append_pair("return_to", &return_to).finish();
                match SeeOther::to(&format!("/auth/login?{q}")) {
                    Ok(to) => to.into_response(),
                    Err(bad) => PageError::from(bad).into_response(),
                }
            }
            Self::Failed(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<Arc<NotesState>> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<NotesState>) -> Result<Self, Self::Rejection> {
        match current(parts, st).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) => Err(NotSignedIn::SignIn { return_to: return_to(parts) }),
            Err(e) => Err(NotSignedIn::Failed(e)),
        }
    }
}

impl OptionalFromRequestParts<Arc<NotesState>> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<NotesState>) -> Result<Option<Self>, Self::Rejection> {
        current(parts, st).await
    }
}

/// The session of the browser that sent `parts`, if it is signed in.
async fn current(parts: &Parts, st: &NotesState) -> Result<Option<SignedIn>, PageError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(id) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else { return Ok(None) };
    let session = st.store.session(sha256_b64(&id), st.clock.now()).await.map_err(PageError::internal)?;
    Ok(session.map(|session| SignedIn { session, csrf: st.csrf().token(&id) }))
}

/// Where to come back to after signing in: the page asked for, or the page a form was on (a new
/// note for `POST /notes`, the note for `POST /notes/{id}` and `…/todo`, else `/notes`).
fn return_to(parts: &Parts) -> String {
    if parts.method == Method::GET {
        return parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str()).to_owned();
    }
    let segments: Vec<&str> = parts.uri.path().trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["notes"] => "/notes?new=1".to_owned(),
        ["notes", id] | ["notes", id, "todo"] => match id.parse::<i64>() {
            Ok(id) => format!("/notes?id={id}"),
            Err(_) => "/notes".to_owned(),
        },
        _ => "/notes".to_owned(),
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
