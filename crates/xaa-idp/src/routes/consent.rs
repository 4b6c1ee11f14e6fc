//! The consent page of an openly registered client (see [`crate::consent`]) and `POST /consent`,
//! the user's answer. The page belongs to one pending authorization request (a login row, named by
//! the form and by the `xaa_idp_login` cookie; the form carries the CSRF token) and to the signed-in user it was
//! shown to, so an answer cannot be replayed for another client, request, browser or user. Allow
//! continues to the code; Deny sends `error=access_denied` (RFC 6749 §4.1.2.1).

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;
use xaa_core::secret::sha256_b64;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};

use crate::authorization_response::{code_response, error_response};
use crate::pages::{ConsentPage, PageError};
use crate::session::{LOGIN_COOKIE, SignedIn};
use crate::state::IdpState;
use crate::store::{AuthRequest, CodeGrant};

#[derive(Deserialize)]
pub(crate) struct ConsentForm {
    login: String,
    decision: String,
}

/// The consent page for a signed-in user (single sign-on): the request becomes a pending login
/// of this browser, answered by `POST /consent`.
pub(crate) async fn ask_signed_in(
    st: &IdpState,
    jar: CookieJar,
    csrf: CsrfToken,
    request: AuthRequest,
    email: String,
) -> Result<Response, PageError> {
    let login_id = st.entropy.token(24);
    let now = st.clock.now();
    st.store.insert_login(login_id.clone(), request.clone(), now).await.map_err(PageError::internal)?;
    st.store.set_login_email(login_id.clone(), email.clone()).await.map_err(PageError::internal)?;
    let cookie = crate::session::login_cookie(st, login_id.clone());
    let consent = page(st, &request, email, login_id, csrf.value().to_owned());
    Ok((jar.add(cookie), csrf, consent).into_response())
}

/// The consent page for `request`, answered with the pending login `login_id` and the CSRF token `csrf`.
pub(crate) fn page(st: &IdpState, request: &AuthRequest, email: String, login_id: String, csrf: String) -> ConsentPage {
    let client = st.client(&request.client_id);
    ConsentPage {
        client_name: client.map(|c| c.name).unwrap_or_else(|| request.client_id.to_string()),
        client_id: request.client_id.to_string(),
        redirect_host: host(&request.redirect_uri).to_owned(),
        scopes: request.scope.split(' ').filter(|s| !s.is_empty()).map(|s| (s.to_owned(), describe(s))).collect(),
        email,
        login_id,
        csrf,
    }
}

pub(crate) async fn decide(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    form: Result<CsrfForm<Form<ConsentForm>>, CsrfRejection<Form<ConsentForm>>>,
) -> Result<Response, PageError> {
    let f = match form {
        Ok(CsrfForm(Form(f))) => f,
        Err(CsrfRejection::Forged(_)) => return Err(crate::session::expired()),
        Err(CsrfRejection::Unreadable(_)) => {
            return Err(PageError::bad_request(
                "Incomplete form",
                "The consent form was not submitted completely.",
                Some("Go back and try again."),
            ));
        }
    };
    let login = crate::session::pending_login(&st, &jar, &f.login).await?;
    // The answer counts only from the user the page was shown to, still signed in.
    let signed_in = session.map(|s| (s.email, s.auth_time));
    let Some((email, auth_time)) = signed_in.filter(|(email, _)| login.email.as_ref() == Some(email)) else {
        return Err(PageError::bad_request(
            "This sign-in has expired",
            "You are no longer signed in as the user this page was shown to.",
            Some("Go back to the application and sign in again."),
        ));
    };
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/"));
    let request = login.request;
    match f.decision.as_str() {
        "allow" => {
            crate::consent::grant(&st, &request, &email).await.map_err(PageError::internal)?;
            let code = st.entropy.token(32);
            let grant = CodeGrant {
                request: request.clone(),
                email: email.clone(),
                auth_time,
                expires_at: st.clock.now() + st.config.lifetimes.code,
                already_used: false,
            };
            st.store.complete_login(f.login, None, sha256_b64(&code), grant).await.map_err(PageError::internal)?;
            tracing::info!(client.id = %request.client_id, user.email = %email, "user allowed a self-registered client");
            Ok((jar, code_response(&st, &request, &code)?).into_response())
        }
        "deny" => {
            st.store.delete_login(f.login).await.map_err(PageError::internal)?;
            tracing::info!(client.id = %request.client_id, user.email = %email, "user denied a self-registered client");
            Ok((jar, error_response(&st, &request, "access_denied", "the user did not allow the application")?)
                .into_response())
        }
        _ => Err(PageError::bad_request("Incomplete form", "Choose Allow or Deny.", Some("Go back and try again."))),
    }
}

/// The host (and port) of an absolute URI, as the consent page names where the code goes.
fn host(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

/// What a scope gives the app, in words (empty for a scope the IdP does not describe).
fn describe(scope: &str) -> &'static str {
    match scope {
        "openid" => "sign you in with your user identifier",
        "profile" => "your name",
        "email" => "your email address",
        "offline_access" => "keep access while you are away (a refresh token)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_names_the_redirect_host() {
        assert_eq!(super::host("http://localhost:3000/cb?x=1"), "localhost:3000");
        assert_eq!(super::host("https://user@app.example"), "app.example");
        assert_eq!(super::host("https://app.example#f"), "app.example");
    }
}
