//! Signing a browser in to the admin pages: the banner's `/admin?token=…` link or the token pasted
//! at `/admin/login`, which give the browser a random session id (never the token); and signing out.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use xaa_core::oauth::FormParams;
use xaa_core::secret::Secret;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};
use xaa_web::redirect::SeeOther;

use super::ADMIN_COOKIE;
use crate::console::ConsoleState;

#[derive(Template, WebTemplate)]
#[template(path = "admin_login.html")]
struct LoginPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    next: String,
    error: Option<String>,
}

/// A local admin path to return to: printable ASCII only (no header injection), no other site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin") && n.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\') => {
            n.to_owned()
        }
        _ => "/admin".into(),
    }
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

pub(crate) async fn login_form(
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    Query(n): Query<Next>,
) -> Response {
    let page = LoginPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        next: safe_next(n.next.as_deref()),
        error: None,
    };
    (csrf, page).into_response()
}

/// Signs this browser in with the admin token `presented`; a wrong one shows the login page again
/// (with `csrf`, the token for its form).
pub(super) fn sign_in(st: &ConsoleState, jar: CookieJar, csrf: CsrfToken, presented: &str, next: &str) -> Response {
    if !Secret::new(st.admin_token.clone()).matches(presented.trim()) {
        let error = Some(
            "That is not the admin token. It is in the lab's start-up banner and in the ready file (admin_token)."
                .into(),
        );
        let page = LoginPage {
            lab_status: crate::console::lab_status::LabStatus::of(st),
            csrf: csrf.value().to_owned(),
            next: safe_next(Some(next)),
            error,
        };
        return (StatusCode::UNAUTHORIZED, csrf, page).into_response();
    }
    let session = xaa_core::secret::random_token(24);
    if let Ok(mut set) = st.admin_sessions.lock() {
        set.insert(session.clone());
    }
    let mut cookie = xaa_web::cookie::http_only(ADMIN_COOKIE, session, SameSite::Strict, st.secure_cookies);
    cookie.set_path("/admin");
    (jar.add(cookie), SeeOther::to(&safe_next(Some(next)))).into_response()
}

/// A sign-in or sign-out form, with whether its CSRF token is this browser's.
type SignInForm = Result<CsrfForm<Bytes>, CsrfRejection<Bytes, BytesRejection>>;

pub(crate) async fn login(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    csrf: CsrfToken,
    form: SignInForm,
) -> Response {
    let (body, genuine) = match form {
        Ok(CsrfForm(body)) => (body, true),
        Err(CsrfRejection::Forged(body)) => (body, false),
        Err(CsrfRejection::Unreadable(e)) => return e.into_response(),
    };
    let form = FormParams::parse(&body);
    let next = safe_next(form.single("next").ok().flatten());
    if !genuine {
        let error = Some("This page was open too long; try again.".into());
        let page = LoginPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf: csrf.value().to_owned(),
            next,
            error,
        };
        return (StatusCode::BAD_REQUEST, csrf, page).into_response();
    }
    sign_in(&st, jar, csrf, form.single("token").ok().flatten().unwrap_or(""), &next)
}

pub(crate) async fn logout(State(st): State<Arc<ConsoleState>>, jar: CookieJar, form: SignInForm) -> Response {
    match form {
        Ok(_) => {}
        Err(CsrfRejection::Forged(_)) => return SeeOther::to("/admin").into_response(),
        Err(CsrfRejection::Unreadable(e)) => return e.into_response(),
    }
    if let (Some(c), Ok(mut set)) = (jar.get(ADMIN_COOKIE), st.admin_sessions.lock()) {
        set.remove(c.value());
    }
    (jar.remove(Cookie::build(ADMIN_COOKIE).path("/admin")), SeeOther::to("/admin/login")).into_response()
}
