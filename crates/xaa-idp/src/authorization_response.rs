//! The authorization response (RFC 6749 §4.1.2): the code issued for a signed-in user, or an error,
//! sent back to the client's redirect URI with `state` and the IdP's `iss` (RFC 9207). The
//! authorize, login and consent pages all end here.

use axum::response::{IntoResponse, Response};
use xaa_core::ids::Issuer;
use xaa_core::secret::sha256_b64;
use xaa_web::redirect::SeeOther;

use crate::pages::PageError;
use crate::state::IdpState;
use crate::store::{AuthRequest, CodeGrant};

/// Stores a fresh authorization code for `email` and returns it.
pub(crate) async fn issue_code(
    st: &IdpState,
    request: AuthRequest,
    email: String,
    auth_time: i64,
) -> Result<String, PageError> {
    let code = st.entropy.token(32);
    let grant = CodeGrant {
        request,
        email,
        auth_time,
        expires_at: st.clock.now() + st.config.lifetimes.code,
        already_used: false,
    };
    st.store.insert_code(sha256_b64(&code), grant).await.map_err(PageError::internal)?;
    Ok(code)
}

/// The successful authorization response: `code`, `state` (only if sent) and `iss` (RFC 9207).
pub(crate) fn code_response(st: &IdpState, request: &AuthRequest, code: &str) -> Result<Response, PageError> {
    authorization_response(&request.redirect_uri, &[("code", code)], request.state.as_deref(), st.issuer())
}

/// An error authorization response (RFC 6749 §4.1.2.1) for a request already checked.
pub(crate) fn error_response(
    st: &IdpState,
    request: &AuthRequest,
    error: &str,
    description: &str,
) -> Result<Response, PageError> {
    let params = [("error", error), ("error_description", description)];
    authorization_response(&request.redirect_uri, &params, request.state.as_deref(), st.issuer())
}

/// A redirect to `redirect_uri` carrying `params`, `state` (only if sent) and `iss`.
pub(crate) fn authorization_response(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    iss: &Issuer,
) -> Result<Response, PageError> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    if let Some(s) = state {
        query.append_pair("state", s);
    }
    query.append_pair("iss", iss.as_str());
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Ok(SeeOther::to(&format!("{redirect_uri}{sep}{}", query.finish()))?.into_response())
}
