//! `GET /session/end` (and the same request as a form POST): OpenID Connect RP-Initiated Logout
//! 1.0. Everything is checked before anything ends: an `id_token_hint` must be an ID token this IdP
//! signed, and the browser is sent on only to a `post_logout_redirect_uri` registered for the
//! client named by `client_id` or the hint, one the redirect can carry. Then:
//!
//! - with no session here, or with an `id_token_hint` of the signed-in user, the session (if any)
//!   ends at once;
//! - otherwise (no hint, or another user's) the request may be a forgery (§6: logout CSRF), so the
//!   user confirms first: the page's form posts to `POST /session/end/confirm`, which only ends the
//!   session it was shown in, and only with the IdP's CSRF token.

use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;
use xaa_core::jose::UnverifiedJwt;
use xaa_core::oauth::FormParams;
use xaa_core::secret::sha256_b64;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};
use xaa_web::redirect::SeeOther;

use crate::authorization_request::LOGIN_TTL;
use crate::logout::PendingLogout;
use crate::pages::{LogoutConfirmPage, PageError, SignedOutPage};
use crate::session::{SESSION_COOKIE, SignedIn};
use crate::state::IdpState;

pub(crate) async fn end_session(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    end(&st, jar, session, csrf, FormParams::parse(query.unwrap_or_default().as_bytes())).await
}

/// The same request sent as a form POST (RP-Initiated Logout 1.0 §2: GET and POST).
pub(crate) async fn end_session_form(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    body: Bytes,
) -> Result<Response, PageError> {
    end(&st, jar, session, csrf, FormParams::parse(&body)).await
}

/// A logout request, checked.
struct LogoutRequest {
    /// The client named by `client_id` or the hint's `aud`.
    client_id: Option<String>,
    /// The `sub` of a valid `id_token_hint`.
    hinted_sub: Option<String>,
    /// The registered `post_logout_redirect_uri`, with `state`.
    redirect_to: Option<String>,
}

/// The logout request `params` from a browser signed in as `session` (if at all); `csrf` is the
/// token for the confirmation page's form.
async fn end(
    st: &IdpState,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    params: FormParams,
) -> Result<Response, PageError> {
    let request = checked(st, &params)?;
    // Built now, so a target the redirect could not carry is refused before the session ends.
    let redirect = request.redirect_to.as_deref().map(SeeOther::to).transpose()?;
    let Some(SignedIn { id_hash: session_hash, email, .. }) = session else {
        return Ok(signed_out(jar, redirect));
    };
    if request.hinted_sub.is_some_and(|sub| sub == st.user(&email).sub()) {
        st.store.delete_session(session_hash).await.map_err(PageError::internal)?;
        return Ok(signed_out(jar, redirect));
    }
    let logout_id = st.entropy.token(24);
    let pending = PendingLogout { session_hash, redirect_to: request.redirect_to, created_at: st.clock.now() };
    st.store.insert_logout(logout_id.clone(), pending).await.map_err(PageError::internal)?;
    let client_name = request.client_id.and_then(|c| st.client(&c)).map(|c| c.name);
    let page = LogoutConfirmPage { client_name, email, logout_id, csrf: csrf.value().to_owned() };
    Ok((csrf, page).into_response())
}

fn checked(st: &IdpState, params: &FormParams) -> Result<LogoutRequest, PageError> {
    let invalid = |message: &str| PageError::bad_request("Invalid sign-out request", message, None);
    let one = |name: &str| {
        params
            .single(name)
            .map(|v| v.map(str::to_owned))
            .map_err(|e| PageError::bad_request("Invalid sign-out request", e.description, None))
    };
    let hint = match one("id_token_hint")? {
        Some(hint) => Some(
            own_id_token(st, &hint).ok_or_else(|| invalid("id_token_hint is not an ID token issued by this IdP."))?,
        ),
        None => None,
    };
    let (hinted_client, hinted_sub) = hint.unzip();
    let client_id = match (one("client_id")?, hinted_client) {
        (Some(c), Some(h)) if c != h => return Err(invalid("client_id does not match the audience of id_token_hint.")),
        (c, h) => c.or(h),
    };
    let redirect_to = match one("post_logout_redirect_uri")? {
        None => None,
        Some(uri) => {
            let client = client_id.as_deref().and_then(|c| st.client(c)).ok_or_else(|| {
                invalid("post_logout_redirect_uri needs client_id or id_token_hint to identify the application.")
            })?;
            if !client.post_logout_redirect_uris.iter().any(|u| u == &uri) {
                return Err(PageError::bad_request(
                    "Post-logout redirect URI not registered",
                    format!("\"{uri}\" is not a registered post-logout redirect URI of {}.", client.name),
                    Some(&format!("Registered: {}", client.post_logout_redirect_uris.join(", "))),
                ));
            }
            // Registered before registration refused control characters and whitespace.
            xaa_core::oauth::check_redirect_uri(&uri).map_err(|e| {
                PageError::bad_request(
                    "Post-logout redirect URI cannot be used",
                    format!(
                        "{} is registered with a post-logout redirect URI the IdP cannot redirect to: {}.",
                        client.name, e.error_description
                    ),
                    Some("You are still signed in. The application's registration must be corrected."),
                )
            })?;
            Some(match one("state")? {
                Some(state) => {
                    let q = form_urlencoded::Serializer::new(String::new()).append_pair("state", &state).finish();
                    format!("{uri}{}{q}", if uri.contains('?') { '&' } else { '?' })
                }
                None => uri,
            })
        }
    };
    Ok(LogoutRequest { client_id, hinted_sub, redirect_to })
}

#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    logout: String,
}

/// `POST /session/end/confirm`: the user confirmed on the page; the session the page was shown in
/// ends, and the browser goes where the logout request asked.
pub(crate) async fn confirm(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    form: Result<CsrfForm<Form<ConfirmForm>>, CsrfRejection<Form<ConfirmForm>>>,
) -> Result<Response, PageError> {
    let expired = || {
        PageError::bad_request(
            "This sign-out has expired",
            "The sign-out page is no longer valid (it expired, was already used, or was opened in another browser).",
            Some("If you still want to sign out, do it again from the application."),
        )
    };
    let CsrfForm(Form(f)) = form.map_err(|_| expired())?;
    let logout = st.store.logout(f.logout.clone()).await.map_err(PageError::internal)?.ok_or_else(expired)?;
    // The session the page was shown in, even if it has just expired: ending it is still right.
    let same_session = jar.get(SESSION_COOKIE).is_some_and(|c| sha256_b64(c.value()) == logout.session_hash);
    let fresh = st.clock.now() <= logout.created_at + LOGIN_TTL;
    if !same_session || !fresh {
        return Err(expired());
    }
    let redirect = logout.redirect_to.as_deref().map(SeeOther::to).transpose()?;
    st.store.finish_logout(f.logout, logout.session_hash).await.map_err(PageError::internal)?;
    Ok(signed_out(jar, redirect))
}

/// The session cookie cleared, then the redirect or the signed-out page.
fn signed_out(jar: CookieJar, redirect: Option<SeeOther>) -> Response {
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    match redirect {
        Some(to) => (jar, to).into_response(),
        None => (jar, SignedOutPage).into_response(),
    }
}

/// The `aud` and `sub` of an ID token this IdP signed (expired tokens are fine as hints).
fn own_id_token(st: &IdpState, hint: &str) -> Option<(String, String)> {
    let jwt = UnverifiedJwt::parse(hint).ok()?;
    let keys = st.public_keys();
    let key = keys.find(jwt.header().kid.as_deref()?)?;
    key.verify(&jwt).ok()?;
    if jwt.unverified_issuer() != Some(st.issuer().as_str()) {
        return None;
    }
    let claims = jwt.unverified_claims();
    Some((claims.get("aud")?.as_str()?.to_owned(), claims.get("sub")?.as_str()?.to_owned()))
}
