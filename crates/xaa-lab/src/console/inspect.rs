//! The token inspector page. Its form carries a CSRF token (double submit with the
//! `xaa_console_csrf` cookie), like every form in the lab.

use std::sync::Arc;

use crate::observe::inspect::{Inspection, LabContext, inspect};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use xaa_core::secret::Secret;

use super::{ConsoleState, csrf_cookie};

#[derive(Template, WebTemplate)]
#[template(path = "inspect.html")]
struct InspectPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    token: String,
    error: Option<String>,
    result: Option<Inspection>,
}

pub(crate) async fn form(State(st): State<Arc<ConsoleState>>, jar: CookieJar) -> Response {
    let (jar, csrf) = csrf_cookie(&st, jar);
    (
        jar,
        InspectPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf,
            token: String::new(),
            error: None,
            result: None,
        },
    )
        .into_response()
}

#[derive(Deserialize)]
pub(crate) struct InspectForm {
    csrf: String,
    token: String,
}

pub(crate) async fn analyse(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    form: Result<Form<InspectForm>, FormRejection>,
) -> Response {
    let (jar, csrf) = csrf_cookie(&st, jar);
    let Ok(Form(f)) = form else {
        let page = InspectPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf,
            token: String::new(),
            error: Some("The form was incomplete.".into()),
            result: None,
        };
        return (axum::http::StatusCode::BAD_REQUEST, jar, page).into_response();
    };
    if !Secret::new(csrf.clone()).matches(&f.csrf) {
        let error = Some("This page was open too long; press Inspect again.".into());
        let page = InspectPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf,
            token: f.token,
            error,
            result: None,
        };
        return (axum::http::StatusCode::BAD_REQUEST, jar, page).into_response();
    }
    let idp_keys = st.admin.idp.public_keys();
    let lab = LabContext {
        idp: &st.urls.idp,
        idp_keys: &idp_keys,
        authorization_server: &st.urls.authorization_server,
        as_keys: &st.as_keys,
        todo_api: &st.urls.todo_api,
        now: st.clock.now(),
        leeway: xaa_core::JWT_LEEWAY,
    };
    let (result, error) = match inspect(&f.token, lab).await {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    (
        jar,
        InspectPage { lab_status: crate::console::lab_status::LabStatus::of(&st), csrf, token: f.token, error, result },
    )
        .into_response()
}
