//! `POST /login/email` and `POST /login/code`: the two login steps. Each form carries the IdP's
//! CSRF token and the login id, which must also be in the `xaa_idp_login` cookie: a form is good
//! only in the browser, and for the login, it was shown for.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;
use xaa_core::secret::sha256_b64;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};

use crate::authorization_response::code_response;
use crate::pages::{LoginCodePage, LoginEmailPage, PageError};
use crate::session::{LOGIN_COOKIE, expired, pending_login};
use crate::state::IdpState;
use crate::store::Login;

#[derive(Deserialize)]
pub(crate) struct EmailForm {
    login: String,
    email: String,
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    login: String,
    code: String,
}

/// A login page's form, with whether its CSRF token is this browser's.
type LoginInput<F> = Result<CsrfForm<Form<F>>, CsrfRejection<Form<F>>>;

/// The form of a login step; an incomplete one, or one whose token is not this browser's, is refused.
fn login_form<F>(form: LoginInput<F>) -> Result<F, PageError> {
    match form {
        Ok(CsrfForm(Form(f))) => Ok(f),
        Err(CsrfRejection::Forged(_)) => Err(expired()),
        Err(CsrfRejection::Unreadable(_)) => Err(incomplete_form()),
    }
}

pub(crate) async fn email(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    csrf: CsrfToken,
    form: LoginInput<EmailForm>,
) -> Result<Response, PageError> {
    let f = login_form(form)?;
    // A login from `GET /authorize` is still in its signed cookie; SAML's and consent's are stored.
    let started = crate::login_transaction::open(&st, &jar, &f.login);
    let login = match &started {
        Some(login) => login.clone(),
        None => pending_login(&st, &jar, &f.login).await?,
    };
    let client_name = client_name(&st, &login);
    let email = f.email.trim().to_owned();
    if !plausible_email(&email) {
        return Ok(LoginEmailPage {
            client_name,
            login_id: f.login,
            csrf: csrf.value().to_owned(),
            email,
            error: Some("Enter an email address like name@company.example.".into()),
        }
        .into_response());
    }
    let jar = match started {
        Some(login) => {
            // The first write of this login: from here on it is a stored one, named by the login cookie.
            st.store
                .insert_login(f.login.clone(), login.request, login.created_at)
                .await
                .map_err(PageError::internal)?;
            jar.remove(crate::login_transaction::removal()).add(crate::session::login_cookie(&st, f.login.clone()))
        }
        None => jar,
    };
    st.store.set_login_email(f.login.clone(), email.clone()).await.map_err(PageError::internal)?;
    let tenant = tenant_label(&st, &email);
    let csrf = csrf.value().to_owned();
    Ok((jar, LoginCodePage { client_name, login_id: f.login, csrf, email, tenant, error: None }).into_response())
}

pub(crate) async fn code(
    State(st): State<Arc<IdpState>>,
    jar: CookieJar,
    csrf: CsrfToken,
    form: LoginInput<CodeForm>,
) -> Result<Response, PageError> {
    let f = login_form(form)?;
    let login = pending_login(&st, &jar, &f.login).await?;
    let Some(email) = login.email.clone() else {
        return Err(PageError::bad_request("Enter your email first", "This sign-in has no email address yet.", None));
    };
    let code = f.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(LoginCodePage {
            client_name: client_name(&st, &login),
            login_id: f.login,
            csrf: csrf.value().to_owned(),
            tenant: tenant_label(&st, &email),
            email,
            error: Some("The code is 6 digits, for example 123456.".into()),
        }
        .into_response());
    }
    if let Some(saml) = crate::saml::sso::pending(&st, &f.login).await? {
        return crate::saml::sso::finish_login(&st, jar, f.login, saml, email).await;
    }
    let now = st.clock.now();
    let session_id = st.entropy.token(32);
    if crate::consent::needed(&st, &login.request, &email).await.map_err(PageError::internal)? {
        // Signed in, but the app gets a code only once the user allows it: the login stays open.
        let expires_at = now + st.config.lifetimes.session;
        st.store
            .insert_session(sha256_b64(&session_id), email.clone(), now, expires_at)
            .await
            .map_err(PageError::internal)?;
        tracing::info!(client.id = %login.request.client_id, user.email = %email, "user signed in at the IdP; consent asked");
        let page = super::consent::page(&st, &login.request, email, f.login, csrf.value().to_owned());
        return Ok((jar.add(crate::session::session_cookie(&st, session_id)), page).into_response());
    }
    let authorization_code = st.entropy.token(32);
    let grant = crate::store::CodeGrant {
        request: login.request.clone(),
        email: email.clone(),
        auth_time: now,
        expires_at: now + st.config.lifetimes.code,
        already_used: false,
    };
    st.store
        .complete_login(
            f.login,
            Some((sha256_b64(&session_id), now + st.config.lifetimes.session)),
            sha256_b64(&authorization_code),
            grant,
        )
        .await
        .map_err(PageError::internal)?;
    tracing::info!(client.id = %login.request.client_id, user.email = %email, "user signed in at the IdP");
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/")).add(crate::session::session_cookie(&st, session_id));
    Ok((jar, code_response(&st, &login.request, &authorization_code)?).into_response())
}

/// The tenant the email signs in to, as the code page names it.
fn tenant_label(st: &IdpState, email: &str) -> String {
    let t = st.tenant_of(email);
    format!("{} ({})", t.name, t.id)
}

/// The name of the application the user is signing in to.
fn client_name(st: &IdpState, login: &Login) -> String {
    st.client(&login.request.client_id).map(|c| c.name).unwrap_or_default()
}

fn incomplete_form() -> PageError {
    PageError::bad_request(
        "Incomplete form",
        "The sign-in form was not submitted completely.",
        Some("Go back and try again."),
    )
}

fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254 && !local.is_empty() && domain.contains('.') && !email.chars().any(char::is_whitespace)
}
