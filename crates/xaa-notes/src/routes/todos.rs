//! Todo actions from the pane: complete/reopen, and "get a fresh token" (drops the cached access
//! token so the next view runs both exchanges again).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xaa_web::csrf::{CsrfForm, CsrfRejection};
use xaa_web::redirect::SeeOther;

use super::notes::{View, render};
use crate::pages::PageError;
use crate::session::{NotSignedIn, SignedIn};
use crate::state::NotesState;
use crate::todo_client::{self, ApiCall};

#[derive(Deserialize)]
pub(crate) struct PaneForm {
    #[serde(default)]
    note: String,
    completed: Option<bool>,
}

/// A pane form, with whether its CSRF token is this session's.
type PaneInput = Result<CsrfForm<Form<PaneForm>>, CsrfRejection<Form<PaneForm>>>;

fn back_to(note: &str) -> String {
    match note.parse::<i64>() {
        Ok(id) => format!("/notes?id={id}"),
        Err(_) => "/notes".to_owned(),
    }
}

fn expired_form() -> PageError {
    PageError::bad_request("The page expired", "Reload the page and try again.", Some("/notes"))
}

/// Why a pane action is refused.
enum Refused {
    /// Sign in first, then come back to the note.
    SignIn(NotSignedIn),
    /// The form is unreadable, or its token is not this session's.
    Expired,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn(to) => to.into_response(),
            Self::Expired => expired_form().into_response(),
        }
    }
}

/// The session and form of a pane action. Its page is in the form (the note shown), not in its
/// path: an unreadable form is refused first, a signed-out browser is sent to sign in and back to
/// that note, and a stale form is refused.
fn signed_in(session: Result<SignedIn, NotSignedIn>, form: PaneInput) -> Result<(SignedIn, PaneForm, String), Refused> {
    let (form, genuine) = match form {
        Ok(CsrfForm(Form(f))) => (f, true),
        Err(CsrfRejection::Forged(Form(f))) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => return Err(Refused::Expired),
    };
    let back = back_to(&form.note);
    let s = session.map_err(|e| Refused::SignIn(e.returning_to(&back)))?;
    if !genuine {
        return Err(Refused::Expired);
    }
    Ok((s, form, back))
}

pub(crate) async fn toggle(
    State(st): State<Arc<NotesState>>,
    Path(id): Path<i64>,
    session: Result<SignedIn, NotSignedIn>,
    form: PaneInput,
) -> Result<Response, PageError> {
    let (s, form, back) = match signed_in(session, form) {
        Ok(parts) => parts,
        Err(refused) => return Ok(refused.into_response()),
    };
    let call = ApiCall::SetCompleted(id, form.completed.unwrap_or(true));
    match todo_client::call(&st, &s.session, &call).await {
        Ok(_) => Ok(SeeOther::to(&back)?.into_response()),
        Err(problem) => {
            let view = View { selected: form.note.parse().ok(), problem: Some(problem), ..View::default() };
            render(&st, &s, view, false).await
        }
    }
}

pub(crate) async fn refresh(
    State(st): State<Arc<NotesState>>,
    session: Result<SignedIn, NotSignedIn>,
    form: PaneInput,
) -> Result<Response, PageError> {
    let (s, _, back) = match signed_in(session, form) {
        Ok(parts) => parts,
        Err(refused) => return Ok(refused.into_response()),
    };
    crate::xaa::forget_token(&st, &s.session).await.map_err(PageError::internal)?;
    Ok(SeeOther::to(&back)?.into_response())
}
