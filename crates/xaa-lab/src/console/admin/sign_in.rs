//! Signing a browser in to the admin pages: the banner's `/admin?token=…` link or the token pasted
//! at `/admin/login`, which give the browser a random session id (never the token); and signing out.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use xaa_core::oauth::FormParams;
use xaa_core::secret::Secret;
use xaa_web::redirect::SeeOther;

use super::ADMIN_COOKIE;
use crate::console::{ConsoleState, csrf_cookie};

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

pub(crate) async fn login_form(State(st): State<Arc<ConsoleState>>, jar: CookieJar, Query(n): Query<Next>) -> Response {
    let (jar, csrf) = csrf_cookie(&st, jar);
    (
        jar,
        LoginPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf,
            next: safe_next(n.next.as_deref()),
            error: None,
        },
    )
        .into_response()
}

pub(super) fn sign_in(st: &ConsoleState, jar: CookieJar, presented: &str, next: &str) -> Response {
    if !Secret::new(st.admin_token.clone()).matches(presented.trim()) {
        let (jar, csrf) = csrf_cookie(st, jar);
        let error = Some(
            "That is not the admin token. It is in the lab's start-up banner and in the ready file (admin_token)."
                .into(),
        );
        return (
            StatusCode::UNAUTHORIZED,
            jar,
            LoginPage {
                lab_status: crate::console::lab_status::LabStatus::of(st),
                csrf,
                next: safe_next(Some(next)),
                error,
            },
        )
            .into_response();
    }
    let session = xaa_core::secret::random_token(24);
    if let Ok(mut set) = st.admin_sessions.lock() {
        set.insert(session.clone());
    }
    let cookie = Cookie::build((ADMIN_COOKIE, session))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(st.secure_cookies);
    (jar.add(cookie), SeeOther::to(&safe_next(Some(next)))).into_response()
}

pub(crate) async fn login(State(st): State<Arc<ConsoleState>>, jar: CookieJar, body: Bytes) -> Response {
    let form = FormParams::parse(&body);
    let (jar, csrf) = csrf_cookie(&st, jar);
    let next = safe_next(form.single("next").ok().flatten());
    if !form.single("csrf").ok().flatten().is_some_and(|c| Secret::new(csrf.clone()).matches(c)) {
        let error = Some("This page was open too long; try again.".into());
        return (
            StatusCode::BAD_REQUEST,
            jar,
            LoginPage { lab_status: crate::console::lab_status::LabStatus::of(&st), csrf, next, error },
        )
            .into_response();
    }
    sign_in(&st, jar, form.single("token").ok().flatten().unwrap_or(""), &next)
}

pub(crate) async fn logout(State(st): State<Arc<ConsoleState>>, jar: CookieJar, body: Bytes) -> Response {
    let form = FormParams::parse(&body);
    let (jar, csrf) = csrf_cookie(&st, jar);
    if !form.single("csrf").ok().flatten().is_some_and(|c| Secret::new(csrf).matches(c)) {
        return SeeOther::to("/admin").into_response();
    }
    if let (Some(c), Ok(mut set)) = (jar.get(ADMIN_COOKIE), st.admin_sessions.lock()) {
        set.remove(c.value());
    }
    (jar.remove(Cookie::build(ADMIN_COOKIE).path("/admin")), SeeOther::to("/admin/login")).into_response()
}
