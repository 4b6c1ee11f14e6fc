//! The participants' page (`/join`, no admin token): with the join code the teacher printed,
//! someone registers their own requestor as on xaa.dev's "Register Client" (name, redirect URIs)
//! and gets both credential pairs, the `.env` and a connection to the todo API that IT can still
//! narrow or revoke. The form carries the console's CSRF token; refusals are pages.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use xaa_core::oauth::FormParams;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};

use super::lab_status::LabStatus;
use super::{ConsoleState, form_lines};
use crate::admin::{JoinRefused, Registered};

#[derive(Template, WebTemplate)]
#[template(path = "join.html")]
struct JoinPage {
    lab_status: LabStatus,
    csrf: String,
    error: Option<String>,
    name: String,
    redirect_uris: String,
    /// The registration, once made.
    done: Option<Registered>,
}

pub(crate) async fn form(State(st): State<Arc<ConsoleState>>, csrf: CsrfToken) -> Response {
    let page = JoinPage {
        lab_status: LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        error: None,
        name: String::new(),
        redirect_uris: "http://localhost:3000/auth/callback".into(),
        done: None,
    };
    (csrf, page).into_response()
}

pub(crate) async fn join(
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    form: Result<CsrfForm<Bytes>, CsrfRejection<Bytes, BytesRejection>>,
) -> Response {
    let (body, genuine) = match form {
        Ok(CsrfForm(body)) => (body, true),
        Err(CsrfRejection::Forged(body)) => (body, false),
        Err(CsrfRejection::Unreadable(e)) => return e.into_response(),
    };
    let form = FormParams::parse(&body);
    let field = |name: &str| form.single(name).ok().flatten().unwrap_or("").trim().to_owned();
    let name = field("name");
    let redirect_uris = form_lines(&form, "redirect_uris");
    let token = csrf.value().to_owned();
    let page = |error: Option<String>, done: Option<Registered>| JoinPage {
        lab_status: LabStatus::of(&st),
        csrf: token.clone(),
        error,
        name: if done.is_some() { String::new() } else { name.clone() },
        redirect_uris: if done.is_some() { String::new() } else { redirect_uris.join("\n") },
        done,
    };
    if !genuine {
        let page = page(Some("This page was open too long; press Register again.".into()), None);
        return (StatusCode::BAD_REQUEST, csrf, page).into_response();
    }
    match st.admin.join(&field("join_code"), name.clone(), redirect_uris.clone()).await {
        Ok(r) => {
            let page = page(None, Some(r));
            let mut resp = (csrf, page).into_response();
            // The page holds both client secrets.
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => refused(e, |status, message| {
            let page = page(Some(message), None);
            (status, csrf, page).into_response()
        }),
    }
}

/// How a refused join (or another registration with the join code) answers: 403 for the code or
/// the cap, 429 with `Retry-After` when too fast, 400 for the registration itself; `page` renders
/// the message with that status.
pub(super) fn refused(e: JoinRefused, page: impl FnOnce(StatusCode, String) -> Response) -> Response {
    let status = match &e {
        JoinRefused::WrongCode | JoinRefused::Full { .. } => StatusCode::FORBIDDEN,
        JoinRefused::TooFast { .. } => StatusCode::TOO_MANY_REQUESTS,
        JoinRefused::Invalid(_) => StatusCode::BAD_REQUEST,
    };
    let mut resp = page(status, e.to_string());
    if let JoinRefused::TooFast { retry_in, .. } = e
        && let Ok(v) = HeaderValue::from_str(&retry_in.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}
