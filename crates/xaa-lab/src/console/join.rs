//! The participants' page (`/join`, no admin token): with the join code the teacher printed,
//! someone registers their own requestor as on xaa.dev's "Register Client" (name, redirect URIs)
//! and gets both credential pairs, the `.env` and a connection to the todo API that IT can still
//! narrow or revoke. The form carries the console's CSRF token (double submit); refusals are pages.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use xaa_core::oauth::FormParams;

use super::lab_status::LabStatus;
use super::{ConsoleState, csrf_cookie, csrf_matches, form_lines};
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

pub(crate) async fn form(State(st): State<Arc<ConsoleState>>, jar: CookieJar) -> Response {
    let (jar, csrf) = csrf_cookie(&st, jar);
    let page = JoinPage {
        lab_status: LabStatus::of(&st),
        csrf,
        error: None,
        name: String::new(),
        redirect_uris: "http://localhost:3000/auth/callback".into(),
        done: None,
    };
    (jar, page).into_response()
}

pub(crate) async fn join(State(st): State<Arc<ConsoleState>>, jar: CookieJar, body: Bytes) -> Response {
    let form = FormParams::parse(&body);
    let field = |name: &str| form.single(name).ok().flatten().unwrap_or("").trim().to_owned();
    let csrf_ok = csrf_matches(&jar, &form);
    let (jar, csrf) = csrf_cookie(&st, jar);
    let name = field("name");
    let redirect_uris = form_lines(&form, "redirect_uris");
    let refuse = |status: StatusCode, error: String, jar: CookieJar| {
        let page = JoinPage {
            lab_status: LabStatus::of(&st),
            csrf: csrf.clone(),
            error: Some(error),
            name: name.clone(),
            redirect_uris: redirect_uris.join("\n"),
            done: None,
        };
        (status, jar, page).into_response()
    };
    if !csrf_ok {
        return refuse(StatusCode::BAD_REQUEST, "This page was open too long; press Register again.".into(), jar);
    }
    match st.admin.join(&field("join_code"), name.clone(), redirect_uris.clone()).await {
        Ok(r) => {
            let page = JoinPage {
                lab_status: LabStatus::of(&st),
                csrf: csrf.clone(),
                error: None,
                name: String::new(),
                redirect_uris: String::new(),
                done: Some(r),
            };
            let mut resp = (jar, page).into_response();
            // The page holds both client secrets.
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => refused(e, |status, message| refuse(status, message, jar)),
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
