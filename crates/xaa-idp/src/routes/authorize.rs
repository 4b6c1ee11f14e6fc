//! `GET /authorize`: the OIDC authorization code flow with PKCE S256 required (RFC 7636).
//! An unknown client or unregistered `redirect_uri` gets an error page, never a redirect.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use xaa_core::oauth::FormParams;
use xaa_web::csrf::CsrfToken;

use crate::authorization_response::{authorization_response, code_response, issue_code};
use crate::config::IdpClient;
use crate::pages::{LoginEmailPage, PageError};
use crate::session::SignedIn;
use crate::state::IdpState;
use crate::store::AuthRequest;

pub(crate) async fn authorize(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = FormParams::parse(query.unwrap_or_default().as_bytes());
    let one = |name: &str| {
        params.single(name).map(|v| v.map(str::to_owned)).map_err(|e| {
            PageError::bad_request(
                "Invalid sign-in request",
                e.description,
                Some("Go back to the application and try again."),
            )
        })
    };
    let Some(client_id) = one("client_id")? else {
        return Err(PageError::bad_request("Invalid sign-in request", "The request has no client_id.", None));
    };
    let Some(client) = st.client(&client_id) else {
        return Err(PageError::bad_request(
            "Unknown application",
            format!("No application with client_id \"{client_id}\" is registered at this IdP."),
            Some("Check CLIENT_ID in the application's configuration."),
        ));
    };
    let Some(redirect_uri) = one("redirect_uri")? else {
        return Err(PageError::bad_request("Invalid sign-in request", "The request has no redirect_uri.", None));
    };
    if !client.redirect_uris.iter().any(|r| r == &redirect_uri) {
        return Err(PageError::bad_request(
            "Redirect URI not registered",
            format!("\"{redirect_uri}\" is not a registered redirect URI of {}.", client.name),
            Some(&format!("Registered (exact match required): {}", client.redirect_uris.join(", "))),
        ));
    }
    usable_redirect_uri(&client, &redirect_uri)?;
    let state = one("state")?;
    // Size limits: an oversized state gets the error page, the others an error redirect.
    crate::authorization_request::check_state(state.as_deref())?;
    let fail = |error: &str, description: &str| {
        authorization_response(
            &redirect_uri,
            &[("error", error), ("error_description", description)],
            state.as_deref(),
            st.issuer(),
        )
    };
    if let Some(description) = crate::authorization_request::oversized(&params) {
        return fail("invalid_request", &description);
    }
    if one("response_type")?.as_deref() != Some("code") {
        return fail("unsupported_response_type", "response_type must be \"code\"");
    }
    let scope = one("scope")?.unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return fail("invalid_scope", "scope must include \"openid\"");
    }
    let Some(code_challenge) = one("code_challenge")? else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256 (RFC 7636)",
        );
    };
    if one("code_challenge_method")?.as_deref() != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256 (plain is not allowed)");
    }
    let valid_challenge = code_challenge.len() == 43
        && code_challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_challenge {
        return fail(
            "invalid_request",
            &format!(
                "code_challenge must be the 43-character base64url SHA-256 of the code_verifier, without padding ({})",
                xaa_core::spec::RFC7636_4_2
            ),
        );
    }
    let prompt = one("prompt")?.unwrap_or_default();
    let request = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        nonce: one("nonce")?,
        code_challenge,
        scope,
        consent_prompt: prompt.split(' ').any(|p| p == "consent"),
    };
    let now = st.clock.now();

    if prompt != "login" {
        if let Some(SignedIn { email, auth_time, .. }) = session {
            if crate::consent::needed(&st, &request, &email).await.map_err(PageError::internal)? {
                if prompt == "none" {
                    return fail("consent_required", "the user has not allowed this application yet");
                }
                return super::consent::ask_signed_in(&st, jar, csrf, request, email).await;
            }
            let code = issue_code(&st, request.clone(), email, auth_time).await?;
            return code_response(&st, &request, &code);
        }
        if prompt == "none" {
            return fail("login_required", "the user is not signed in at the IdP");
        }
    }
    // Nothing is stored until the email form is submitted: the request waits in a signed cookie.
    let login_id = st.entropy.token(24);
    let transaction = match crate::login_transaction::seal(&st, &login_id, &request, now) {
        Ok(value) => value,
        Err(len) => {
            return fail(
                "invalid_request",
                &format!(
                    "state, nonce and scope are too long together: the login in progress would take {len} bytes; this IdP keeps at most {}",
                    crate::login_transaction::MAX_COOKIE_VALUE_BYTES
                ),
            );
        }
    };
    let page = LoginEmailPage {
        client_name: client.name.clone(),
        login_id: login_id.clone(),
        csrf: csrf.value().to_owned(),
        email: one("login_hint")?.unwrap_or_default(),
        error: None,
    };
    Ok((jar.add(crate::login_transaction::cookie(&st, transaction)), csrf, page).into_response())
}

/// A registered redirect URI the IdP cannot send (stored before registration refused control
/// characters and whitespace) gets an error page before any login, never a broken redirect.
fn usable_redirect_uri(client: &IdpClient, redirect_uri: &str) -> Result<(), PageError> {
    xaa_core::oauth::check_redirect_uri(redirect_uri).map_err(|e| {
        PageError::bad_request(
            "Redirect URI cannot be used",
            format!(
                "{} is registered with a redirect URI the IdP cannot redirect to: {}.",
                client.name, e.error_description
            ),
            Some("The application's registration must be corrected (IT can delete it and register it again)."),
        )
    })
}
