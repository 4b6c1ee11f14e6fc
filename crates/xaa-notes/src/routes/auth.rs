//! Sign-in and logout. `/auth/login` starts the code flow (the `state` is also put in the
//! `xaa_notes_login` cookie, so a callback only completes in the browser that started it);
//! `/auth/callback` redeems the code and verifies the ID token; `/auth/logout` ends the session here
//! and at the IdP (RP-Initiated Logout).

use std::sync::Arc;

use axum::extract::rejection::RawFormRejection;
use axum::extract::{Query, RawForm, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use xaa_core::secret::{random_token, sha256_b64};
use xaa_web::csrf::{CsrfForm, CsrfRejection};
use xaa_web::redirect::SeeOther;

use crate::pages::PageError;
use crate::session::{self, SESSION_TTL, SignedIn};
use crate::state::NotesState;
use crate::store::{PendingLogin, Session};
use crate::{LOGIN_COOKIE, SESSION_COOKIE};

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    return_to: Option<String>,
}

pub(crate) async fn login(
    State(st): State<Arc<NotesState>>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let request = crate::oidc::login_request(&st).await.map_err(|e| {
        PageError(
            axum::http::StatusCode::BAD_GATEWAY,
            crate::pages::ErrorPage {
                title: "The IdP cannot be reached".into(),
                message: e.to_string(),
                retry: Some("/auth/login".into()),
            },
        )
    })?;
    let pending = PendingLogin {
        nonce: request.nonce,
        pkce_verifier: request.pkce_verifier,
        return_to: safe_return(q.return_to.as_deref()),
        created_at: st.clock.now(),
    };
    st.store.insert_login(request.state.clone(), pending).await.map_err(PageError::internal)?;
    let cookie = xaa_web::cookie::http_only(LOGIN_COOKIE, request.state, SameSite::Lax, st.config.secure_cookies);
    Ok((jar.add(cookie), SeeOther::to(&request.url)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub(crate) async fn callback(
    State(st): State<Arc<NotesState>>,
    jar: CookieJar,
    Query(cb): Query<Callback>,
) -> Result<Response, PageError> {
    let retry = Some("/auth/login");
    if let Some(error) = cb.error {
        let description = cb.error_description.unwrap_or_default();
        return Err(PageError::bad_request(
            "Sign-in did not complete",
            format!("The IdP answered {error}: {description}"),
            retry,
        ));
    }
    // RFC 9207: the authorization response names its issuer; it must be ours.
    if cb.iss.as_deref().is_some_and(|iss| iss != st.config.idp_issuer) {
        return Err(PageError::bad_request("Sign-in refused", "The response came from an unexpected issuer.", retry));
    }
    let (Some(code), Some(state)) = (cb.code, cb.state) else {
        return Err(PageError::bad_request(
            "Sign-in did not complete",
            "The IdP's answer has no code or state.",
            retry,
        ));
    };
    if jar.get(LOGIN_COOKIE).map(|c| c.value()) != Some(state.as_str()) {
        return Err(PageError::bad_request(
            "Sign-in expired",
            "This sign-in was started in another browser or tab, or already used.",
            retry,
        ));
    }
    let Some(pending) = st.store.take_login(state).await.map_err(PageError::internal)? else {
        return Err(PageError::bad_request("Sign-in expired", "This sign-in was already used or is too old.", retry));
    };
    let signed_in = crate::oidc::redeem(&st, &code, &pending.pkce_verifier, &pending.nonce)
        .await
        .map_err(|e| PageError::bad_request("Sign-in failed", e.to_string(), retry))?;
    let session_id = random_token(32);
    let now = st.clock.now();
    let session = Session {
        id_hash: sha256_b64(&session_id),
        sub: signed_in.sub,
        email: signed_in.email,
        name: signed_in.name,
        id_token: signed_in.id_token,
        id_token_exp: signed_in.expires_at,
        access_token: None,
    };
    tracing::info!(user.sub = %session.sub, "signed in to Lab Notes");
    st.store.insert_session(session, now + SESSION_TTL).await.map_err(PageError::internal)?;
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/")).add(session::cookie(&st, session_id));
    Ok((jar, SeeOther::to(&pending.return_to)?).into_response())
}

pub(crate) async fn logout(
    State(st): State<Arc<NotesState>>,
    jar: CookieJar,
    session: Option<SignedIn>,
    form: Result<CsrfForm<RawForm>, CsrfRejection<RawForm, RawFormRejection>>,
) -> Result<Response, PageError> {
    let Some(SignedIn { session, .. }) = session else {
        return Ok(SeeOther::to("/")?.into_response());
    };
    if form.is_err() {
        return Err(PageError::bad_request(
            "Log out failed",
            "The form expired. Reload the page and try again.",
            Some("/notes"),
        ));
    }
    let target = match crate::oidc::end_session_endpoint(&st).await {
        Some(end) => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("id_token_hint", &session.id_token)
                .append_pair("client_id", st.config.client_id.as_str())
                .append_pair("post_logout_redirect_uri", &format!("{}/", st.config.base_url))
                .finish();
            format!("{end}?{q}")
        }
        None => "/".to_owned(),
    };
    // Checked before the session ends: an IdP endpoint the redirect cannot carry leaves it intact.
    let to = SeeOther::to(&target)?;
    st.store.delete_session(session.id_hash.clone()).await.map_err(PageError::internal)?;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, to).into_response())
}

/// Only local paths are followed after sign-in (no open redirect): printable ASCII, one leading
/// `/`, no `//` or `/\` (which browsers read as another host), else `/notes`.
fn safe_return(return_to: Option<&str>) -> String {
    match return_to {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            p.to_owned()
        }
        _ => "/notes".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_return(Some("/notes?id=3")), "/notes?id=3");
        for bad in
            ["https://evil.example", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/x", "/a b", "notes"]
        {
            assert_eq!(safe_return(Some(bad)), "/notes", "{bad:?}");
        }
        assert_eq!(safe_return(None), "/notes");
    }
}
