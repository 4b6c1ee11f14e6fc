//! Todo actions from the pane: complete/reopen, and "get a fresh token" (drops the cached access
//! token so the next view runs both exchanges again).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use xaa_web::redirect::SeeOther;

use super::notes::{View, render, require};
use crate::pages::PageError;
use crate::session;
use crate::state::NotesState;
use crate::todo_client::{self, ApiCall};

#[derive(Deserialize)]
pub(crate) struct PaneForm {
    csrf: String,
    #[serde(default)]
    note: String,
    completed: Option<bool>,
}

fn back_to(note: &str) -> String {
    match note.parse::<i64>() {
        Ok(id) => format!("/notes?id={id}"),
        Err(_) => "/notes".to_owned(),
    }
}

fn expired_form() -> PageError {
    PageError::bad_request("The page expired", "Reload the page and try again.", Some("/notes"))
}

/// The session and form of a pane action: a stale form is refused, a signed-out browser is sent
/// to sign in (back to the note afterwards).
async fn signed_in(
    st: &NotesState,
    jar: &CookieJar,
    form: Result<Form<PaneForm>, axum::extract::rejection::FormRejection>,
) -> Result<Result<(crate::store::Session, PaneForm, String), Response>, PageError> {
    let Ok(Form(form)) = form else { return Err(expired_form()) };
    let back = back_to(&form.note);
    let session = match require(st, jar, &back).await? {
        Ok(s) => s,
        Err(redirect) => return Ok(Err(redirect)),
    };
    if !session::csrf_ok(&session, &form.csrf) {
        return Err(expired_form());
    }
    Ok(Ok((session, form, back)))
}

pub(crate) async fn toggle(
    State(st): State<Arc<NotesState>>,
    jar: CookieJar,
    Path(id): Path<i64>,
    form: Result<Form<PaneForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let (session, form, back) = match signed_in(&st, &jar, form).await? {
        Ok(parts) => parts,
        Err(redirect) => return Ok(redirect),
    };
    let call = ApiCall::SetCompleted(id, form.completed.unwrap_or(true));
    match todo_client::call(&st, &session, &call).await {
        Ok(_) => Ok(SeeOther::to(&back)?.into_response()),
        Err(problem) => {
            let view = View { selected: form.note.parse().ok(), problem: Some(problem), ..View::default() };
            render(&st, &session, view, false).await
        }
    }
}

pub(crate) async fn refresh(
    State(st): State<Arc<NotesState>>,
    jar: CookieJar,
    form: Result<Form<PaneForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let (session, _, back) = match signed_in(&st, &jar, form).await? {
        Ok(parts) => parts,
        Err(redirect) => return Ok(redirect),
    };
    crate::xaa::forget_token(&st, &session).await.map_err(PageError::internal)?;
    Ok(SeeOther::to(&back)?.into_response())
}
