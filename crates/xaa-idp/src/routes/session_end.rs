//! `GET /session/end`: OpenID Connect RP-Initiated Logout 1.0. Ends the IdP session; redirects only
//! to a `post_logout_redirect_uri` registered for the client named by `client_id` or `id_token_hint`,
//! one the redirect can carry. Everything is checked before the session ends.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use xaa_core::jose::UnverifiedJwt;
use xaa_core::oauth::FormParams;
use xaa_core::redirect::SeeOther;
use xaa_core::secret::sha256_b64;

use crate::SESSION_COOKIE;
use crate::pages::{PageError, SignedOutPage};
use crate::state::IdpState;

pub(crate) async fn end_session(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    end(&st, jar, FormParams::parse(query.unwrap_or_default().as_bytes())).await
}

/// The same request sent as a form POST (RP-Initiated Logout 1.0 §2: GET and POST).
pub(crate) async fn end_session_form(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    body: Bytes,
) -> Result<Response, PageError> {
    end(&st, jar, FormParams::parse(&body)).await
}

async fn end(st: &IdpState, jar: CookieJar, params: FormParams) -> Result<Response, PageError> {
    let one = |name: &str| {
        params
            .single(name)
            .map(|v| v.map(str::to_owned))
            .map_err(|e| PageError::bad_request("Invalid sign-out request", e.description, None))
    };
    let hinted_client = match one("id_token_hint")? {
        Some(hint) => Some(own_id_token_audience(st, &hint).ok_or_else(|| {
            PageError::bad_request(
                "Invalid sign-out request",
                "id_token_hint is not an ID token issued by this IdP.",
                None,
            )
        })?),
        None => None,
    };
    let client_id = match (one("client_id")?, hinted_client) {
        (Some(c), Some(h)) if c != h => {
            return Err(PageError::bad_request(
                "Invalid sign-out request",
                "client_id does not match the audience of id_token_hint.",
                None,
            ));
        }
        (c, h) => c.or(h),
    };
    let redirect = match one("post_logout_redirect_uri")? {
        None => None,
        Some(uri) => {
            let client = client_id.as_deref().and_then(|c| st.client(c)).ok_or_else(|| {
                PageError::bad_request(
                    "Invalid sign-out request",
                    "post_logout_redirect_uri needs client_id or id_token_hint to identify the application.",
                    None,
                )
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
            let target = match one("state")? {
                Some(state) => {
                    let q = form_urlencoded::Serializer::new(String::new()).append_pair("state", &state).finish();
                    format!("{uri}{}{q}", if uri.contains('?') { '&' } else { '?' })
                }
                None => uri,
            };
            // Built now, so a target the redirect could not carry is refused before the session ends.
            Some(SeeOther::to(&target)?)
        }
    };
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        st.store.delete_session(sha256_b64(cookie.value())).await.map_err(PageError::internal)?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    match redirect {
        Some(to) => Ok((jar, to).into_response()),
        None => Ok((jar, SignedOutPage).into_response()),
    }
}

/// The `aud` of an ID token this IdP signed (expired tokens are fine as hints).
fn own_id_token_audience(st: &IdpState, hint: &str) -> Option<String> {
    let jwt = UnverifiedJwt::parse(hint).ok()?;
    let keys = st.public_keys();
    let key = keys.find(jwt.header().kid.as_deref()?)?;
    xaa_core::jose::verify_signature(&jwt, key).ok()?;
    if jwt.unverified_issuer() != Some(st.issuer()) {
        return None;
    }
    jwt.unverified_claims().get("aud")?.as_str().map(str::to_owned)
}
