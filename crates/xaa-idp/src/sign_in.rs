//! Signing in at the IdP: the single sign-on session's cookie, and the cookie and time limit of a
//! login in progress. The login pages (`routes::login`) and SAML's SSO (`saml::sso`) both sign a
//! user in with these.

use axum_extra::extract::cookie::{Cookie, SameSite};

/// Cookie holding the IdP's single sign-on session (names are unique across the lab's components).
pub const SESSION_COOKIE: &str = "xaa_idp_session";
/// A login must be finished within this many seconds of the authorization request.
pub(crate) const LOGIN_TTL: i64 = 15 * 60;

/// Cookie binding a login in progress to the browser that started it (CSRF double submit).
pub const LOGIN_COOKIE: &str = "xaa_idp_login";

/// The single sign-on session cookie.
pub(crate) fn session_cookie(session_id: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, session_id))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}
