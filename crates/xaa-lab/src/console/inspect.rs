//! The token inspector page. Its form carries the console's CSRF token (bound to the
//! `xaa_console_csrf` cookie), like every form in the lab.

use std::sync::Arc;

use crate::observe::inspect::{Inspection, LabContext, inspect};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};

use super::ConsoleState;

#[derive(Template, WebTemplate)]
#[template(path = "inspect.html")]
struct InspectPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    token: String,
    error: Option<String>,
    result: Option<Inspection>,
}

pub(crate) async fn form(State(st): State<Arc<ConsoleState>>, csrf: CsrfToken) -> Response {
    let page = InspectPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        token: String::new(),
        error: None,
        result: None,
    };
    (csrf, page).into_response()
}

#[derive(Deserialize)]
pub(crate) struct InspectForm {
    token: String,
}

pub(crate) async fn analyse(
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    form: Result<CsrfForm<Form<InspectForm>>, CsrfRejection<Form<InspectForm>>>,
) -> Response {
    let refused = |token: String, error: &str| {
        let page = InspectPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf: csrf.value().to_owned(),
            token,
            error: Some(error.to_owned()),
            result: None,
        };
        (axum::http::StatusCode::BAD_REQUEST, page)
    };
    let f = match form {
        Ok(CsrfForm(Form(f))) => f,
        Err(CsrfRejection::Forged(Form(f))) => {
            let page = refused(f.token, "This page was open too long; press Inspect again.");
            return (csrf, page).into_response();
        }
        Err(CsrfRejection::Unreadable(_)) => {
            let page = refused(String::new(), "The form was incomplete.");
            return (csrf, page).into_response();
        }
    };
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
    let page = InspectPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        token: f.token,
        error,
        result,
    };
    (csrf, page).into_response()
}
