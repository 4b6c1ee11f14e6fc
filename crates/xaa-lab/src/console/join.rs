//! The participants' page (`/join`, no admin token): with the join code the teacher printed,
//! someone registers their own requestor as on xaa.dev's "Register Client" (name, redirect URIs)
//! and gets both credential pairs, the `.env` and a connection to the todo API that IT can still
//! narrow or revoke. The form carries the console's CSRF token; refusals are pages. A registration
//! answers `303` to `/join/registered`, which shows the credentials to the browser that registered
//! (see [`super::shown_once`]), with copy buttons and "Run the four steps as {name}": the app's
//! redirect URIs also get the explorer's callback, so the explorer can run the steps as the app.

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

use axum_extra::extract::CookieJar;
use xaa_web::redirect::SeeOther;

use super::lab_status::LabStatus;
use super::shown_once::Shown;
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
    /// `/join/registered` without a registration this browser may still see.
    gone: bool,
}

impl JoinPage {
    /// The form, empty but for its CSRF token and the tutorial app's redirect URI.
    fn form(st: &ConsoleState, csrf: &str) -> Self {
        JoinPage {
            lab_status: LabStatus::of(st),
            csrf: csrf.to_owned(),
            error: None,
            name: String::new(),
            redirect_uris: "http://localhost:3000/auth/callback".into(),
            done: None,
            gone: false,
        }
    }
}

pub(crate) async fn form(State(st): State<Arc<ConsoleState>>, csrf: CsrfToken) -> Response {
    let page = JoinPage::form(&st, csrf.value());
    (csrf, page).into_response()
}

/// `GET /join/registered`: the registration this browser just made, while it may see it; else a
/// page saying the secrets were shown once.
pub(crate) async fn registered(State(st): State<Arc<ConsoleState>>, jar: CookieJar, csrf: CsrfToken) -> Response {
    let done = st.shown_once.joined(&jar, st.clock.now());
    let page = JoinPage { gone: done.is_none(), done, ..JoinPage::form(&st, csrf.value()) };
    let mut resp = (csrf, page).into_response();
    // The page holds both client secrets.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) async fn join(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
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
    let page = |error: String| JoinPage {
        error: Some(error),
        name: name.clone(),
        redirect_uris: redirect_uris.join("\n"),
        ..JoinPage::form(&st, &token)
    };
    if !genuine {
        let page = page("This page was open too long; press Register again.".into());
        return (StatusCode::BAD_REQUEST, csrf, page).into_response();
    }
    // The explorer's callback, so the explorer can run the four steps as this app.
    let mut uris = redirect_uris.clone();
    let callback = super::explorer::callback_uri(&st);
    if !uris.is_empty() && !uris.contains(&callback) {
        uris.push(callback);
    }
    match st.admin.join(&field("join_code"), name.clone(), uris).await {
        Ok(r) => {
            let jar = st.shown_once.hand_over(jar, st.secure_cookies, st.clock.now(), Shown::Joined(Box::new(r)));
            (jar, SeeOther::to("/join/registered")).into_response()
        }
        Err(e) => refused(e, |status, message| (status, csrf, page(message)).into_response()),
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
