//! `/saml/sso`: the IdP side of the Web Browser SSO profile (SAML 2.0 Profiles §4.1). An
//! AuthnRequest arrives by the HTTP-Redirect binding (`GET`, deflated and base64-encoded
//! `SAMLRequest`, Bindings §3.4) or the HTTP-POST binding (`POST`, base64, Bindings §3.5) from a
//! registered service provider; the user signs in with the IdP's login pages (or their session);
//! the answer is a page that posts the signed `SAMLResponse` and `RelayState` to the SP's
//! registered ACS URL. Every mistake gets an error page, never a redirect or post elsewhere.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use xaa_core::oauth::FormParams;
use xaa_core::secret::sha256_b64;
use xaa_web::csrf::CsrfToken;

use super::SamlServiceProvider;
use super::authn_request::{AuthnRequest, Binding};
use super::records::SamlLogin;
use crate::pages::{LoginEmailPage, PageError};
use crate::session::LOGIN_COOKIE;
use crate::session::SignedIn;
use crate::state::IdpState;
use crate::store::AuthRequest;

/// `RelayState` is opaque to the IdP; this is the most it carries back (Bindings §3.4.3 asks
/// SPs for 80 bytes at most; deployed SPs send more).
const MAX_RELAY_STATE_BYTES: usize = 1024;

/// The page that posts the `SAMLResponse` to the SP (HTTP-POST binding, Bindings §3.5.4).
#[derive(Template, WebTemplate)]
#[template(path = "saml_post.html")]
struct SamlPostPage {
    client_name: String,
    acs_url: String,
    saml_response: String,
    relay_state: Option<String>,
}

/// `GET /saml/sso`: HTTP-Redirect binding.
pub(crate) async fn redirect_binding(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = FormParams::parse(query.unwrap_or_default().as_bytes());
    sso(&st, jar, session, csrf, &params, Binding::Redirect).await
}

/// `POST /saml/sso`: HTTP-POST binding.
pub(crate) async fn post_binding(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let params = FormParams::parse(&body);
    sso(&st, jar, session, csrf, &params, Binding::Post).await
}

fn invalid(message: impl Into<String>) -> PageError {
    PageError::bad_request("Invalid SAML request", message, Some("Go back to the application and try again."))
}

/// The AuthnRequest in `params` from a browser signed in as `session` (if at all); `csrf` is the
/// token for the login page's forms.
async fn sso(
    st: &IdpState,
    jar: CookieJar,
    session: Option<SignedIn>,
    csrf: CsrfToken,
    params: &FormParams,
    binding: Binding,
) -> Result<Response, PageError> {
    let one = |name: &str| params.single(name).map_err(|e| invalid(e.description));
    let Some(encoded) = one("SAMLRequest")? else {
        return Err(invalid("The request has no SAMLRequest parameter."));
    };
    let relay_state = one("RelayState")?.map(str::to_owned);
    if relay_state.as_ref().is_some_and(|r| r.len() > MAX_RELAY_STATE_BYTES) {
        return Err(invalid(format!("The RelayState is longer than {MAX_RELAY_STATE_BYTES} bytes.")));
    }
    let request = AuthnRequest::decode(encoded, binding).map_err(|e| invalid(e.to_string()))?;
    let Some(issuer) = request.issuer.as_ref() else {
        return Err(invalid("The AuthnRequest has no Issuer: the IdP cannot tell which service provider sent it."));
    };
    let Some(sp) = st.saml_service_provider(issuer).await.map_err(PageError::internal)? else {
        return Err(PageError::bad_request(
            "Unknown SAML service provider",
            format!("No SAML service provider with entityID \"{issuer}\" is registered at this IdP."),
            Some(
                "Check the entityID in the application's SAML settings, or register it in the lab's fixtures (saml.json).",
            ),
        ));
    };
    if let Some(acs) = request.acs_url.as_deref().filter(|a| *a != sp.acs_url) {
        return Err(PageError::bad_request(
            "ACS URL not registered",
            format!("\"{acs}\" is not the registered Assertion Consumer Service URL of \"{}\".", sp.entity_id),
            Some(&format!("Registered (exact match required): {}", sp.acs_url)),
        ));
    }
    let saml = SamlLogin { sp_entity_id: sp.entity_id.clone(), request_id: request.id, relay_state };
    let now = st.clock.now();
    if !request.force_authn
        && let Some(SignedIn { email, auth_time, .. }) = session
    {
        return respond(st, &sp, &saml, &email, auth_time).await;
    }
    // Sign in first: the IdP's login pages, with the SP's client as the application.
    let login_id = st.entropy.token(24);
    let login = AuthRequest {
        client_id: sp.client_id.clone(),
        redirect_uri: sp.acs_url.clone(),
        state: None,
        nonce: None,
        code_challenge: String::new(),
        scope: String::new(),
        consent_prompt: false,
    };
    st.store.insert_login(login_id.clone(), login, now).await.map_err(PageError::internal)?;
    st.store.insert_saml_login(login_id.clone(), saml, now).await.map_err(PageError::internal)?;
    let cookie = crate::session::login_cookie(st, login_id.clone());
    let client_name = st.client(&sp.client_id).map(|c| c.name).unwrap_or_default();
    let token = csrf.value().to_owned();
    let page = LoginEmailPage { client_name, login_id, csrf: token, email: String::new(), error: None };
    Ok((jar.add(cookie), csrf, page).into_response())
}

/// The login in progress `login_id`, if a SAML AuthnRequest started it.
pub(crate) async fn pending(st: &IdpState, login_id: &str) -> Result<Option<SamlLogin>, PageError> {
    st.store.saml_login(login_id.to_owned()).await.map_err(PageError::internal)
}

/// Ends a SAML login once the user proved their email: starts the session and answers the SP.
pub(crate) async fn finish_login(
    st: &IdpState,
    jar: CookieJar,
    login_id: String,
    saml: SamlLogin,
    email: String,
) -> Result<Response, PageError> {
    let Some(sp) = st.saml_service_provider(&saml.sp_entity_id).await.map_err(PageError::internal)? else {
        return Err(PageError::bad_request(
            "Unknown SAML service provider",
            "The application is no longer registered.",
            None,
        ));
    };
    let now = st.clock.now();
    let session_id = st.entropy.token(32);
    let session = (sha256_b64(&session_id), email.clone(), now, now + st.config.lifetimes.session);
    st.store.complete_saml_login(login_id, session).await.map_err(PageError::internal)?;
    tracing::info!(sp = %sp.entity_id, user.email = %email, "user signed in at the IdP for a SAML SP");
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/")).add(crate::session::session_cookie(st, session_id));
    Ok((jar, respond(st, &sp, &saml, &email, now).await?).into_response())
}

/// The auto-posting page carrying the signed `SAMLResponse` to the SP's ACS URL.
async fn respond(
    st: &IdpState,
    sp: &SamlServiceProvider,
    saml: &SamlLogin,
    email: &str,
    auth_time: i64,
) -> Result<Response, PageError> {
    let request = super::assertion::AssertionRequest { sp, in_response_to: &saml.request_id, email, auth_time };
    let xml = super::assertion::issue(st, request).await.map_err(PageError::internal)?;
    Ok(SamlPostPage {
        client_name: st.client(&sp.client_id).map(|c| c.name).unwrap_or_default(),
        acs_url: sp.acs_url.clone(),
        saml_response: STANDARD.encode(xml),
        relay_state: saml.relay_state.clone(),
    }
    .into_response())
}
