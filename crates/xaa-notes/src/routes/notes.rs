//! The notes page and note actions. A form whose CSRF token does not match re-renders the editor
//! with what was typed, so nothing is lost; saving always happens before a todo is created.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xaa_web::csrf::{CsrfForm, CsrfRejection};
use xaa_web::redirect::SeeOther;

use crate::pages::{Editor, NoteItem, NotesPage, PageError, Problem, ReuseLine};
use crate::session::{NotSignedIn, SignedIn};
use crate::state::NotesState;
use crate::todo_client::{self, ApiCall};
use crate::xaa::XaaError;

/// Longest title, in characters.
const MAX_TITLE: usize = 200;
/// Largest note body, in bytes.
const MAX_BODY: usize = 256 * 1024;
/// Longest todo title the todo API accepts.
const MAX_TODO_TITLE: usize = 500;

/// What to show besides the stored notes.
#[derive(Default)]
pub(crate) struct View {
    pub(crate) selected: Option<i64>,
    pub(crate) new_note: bool,
    pub(crate) editor: Option<Editor>,
    pub(crate) flash: Option<String>,
    pub(crate) note_error: Option<String>,
    pub(crate) problem: Option<XaaError>,
}

/// Renders the notes page. With `reauth`, an expired sign-in redirects to the IdP instead of
/// showing the problem (a page view re-authenticates; an action after saving shows it).
pub(crate) async fn render(st: &NotesState, s: &SignedIn, view: View, reauth: bool) -> Result<Response, PageError> {
    let session = &s.session;
    let notes = st.store.notes(session.sub.clone()).await.map_err(PageError::internal)?;
    let editor = match (view.editor, view.selected) {
        (Some(e), _) => Some(e),
        (None, Some(id)) => notes.iter().find(|n| n.id == id).map(|n| Editor {
            id: Some(n.id),
            title: n.title.clone(),
            body: n.body.clone(),
        }),
        (None, None) if view.new_note => Some(Editor { id: None, title: String::new(), body: String::new() }),
        (None, None) => None,
    };
    let active = editor.as_ref().and_then(|e| e.id);
    let (mut todos, mut token_scope, mut token_minutes, mut reuse, mut problem) = (None, String::new(), 0, None, None);
    match view.problem {
        Some(p) => problem = Some(Problem::from(&p)),
        None => match todo_client::list(st, session).await {
            Ok(listing) => {
                todos = Some(listing.todos);
                token_scope = listing.scope;
                token_minutes = ((listing.expires_at - st.clock.now()) / 60).max(0);
                reuse = Some(ReuseLine::from(&listing.reuse));
            }
            Err(XaaError::SignInAgain) if reauth => {
                let back = active.map(|id| format!("/notes?id={id}")).unwrap_or_else(|| "/notes".into());
                return Ok(NotSignedIn::SignIn { return_to: back }.into_response());
            }
            Err(e) => problem = Some(Problem::from(&e)),
        },
    }
    let page = NotesPage {
        name: session.name.clone(),
        email: session.email.clone(),
        csrf: s.csrf.clone(),
        notes: notes
            .iter()
            .map(|n| NoteItem {
                id: n.id,
                title: if n.title.is_empty() { "Untitled".into() } else { n.title.clone() },
                snippet: n.body.lines().next().unwrap_or("").chars().take(80).collect(),
                active: Some(n.id) == active,
            })
            .collect(),
        return_id: active.map(|id| id.to_string()).unwrap_or_default(),
        editor,
        flash: view.flash,
        note_error: view.note_error,
        todos,
        token_scope,
        token_minutes,
        reuse,
        problem,
    };
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    id: Option<String>,
    new: Option<String>,
    flash: Option<String>,
}

pub(crate) async fn page(
    State(st): State<Arc<NotesState>>,
    Query(q): Query<PageQuery>,
    s: SignedIn,
) -> Result<Response, PageError> {
    let flash = q.flash.as_deref().and_then(|f| match f {
        "created" => Some("Note created."),
        "saved" => Some("Saved."),
        "deleted" => Some("Note deleted."),
        "sent" => Some("Sent to your todos."),
        _ => None,
    });
    let view = View {
        selected: q.id.and_then(|i| i.parse().ok()),
        new_note: q.new.is_some(),
        flash: flash.map(str::to_owned),
        ..View::default()
    };
    render(&st, &s, view, true).await
}

#[derive(Deserialize)]
pub(crate) struct NoteForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// A note's form, with whether its CSRF token is this session's.
type NoteInput = Result<CsrfForm<Form<NoteForm>>, CsrfRejection<Form<NoteForm>>>;

/// The form as typed, and whether its token was this session's (a stale one is shown again).
fn note_form(form: NoteInput) -> Result<(NoteForm, bool), PageError> {
    match form {
        Ok(CsrfForm(Form(f))) => Ok((f, true)),
        Err(CsrfRejection::Forged(Form(f))) => Ok((f, false)),
        Err(CsrfRejection::Unreadable(e)) => Err(PageError::bad_request(
            "The note could not be read",
            format!("The form was not complete: {}", e.body_text()),
            Some("/notes"),
        )),
    }
}

/// Checks the form; on a problem, re-renders the editor with the typed text and the reason.
async fn checked(
    st: &NotesState,
    s: &SignedIn,
    (form, genuine): (&NoteForm, bool),
    id: Option<i64>,
) -> Result<Option<Response>, PageError> {
    let problem = if !genuine {
        Some("This page was open too long to save safely. Your text is below: press Save again.".to_owned())
    } else if form.title.chars().count() > MAX_TITLE {
        Some(format!("The title is longer than {MAX_TITLE} characters."))
    } else if form.body.len() > MAX_BODY {
        Some(format!("The note is larger than {} KB; split it into smaller notes.", MAX_BODY / 1024))
    } else {
        None
    };
    match problem {
        None => Ok(None),
        Some(msg) => {
            let editor = Editor { id, title: form.title.clone(), body: form.body.clone() };
            let view = View { editor: Some(editor), note_error: Some(msg), ..View::default() };
            let mut resp = render(st, s, view, false).await?;
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(Some(resp))
        }
    }
}

pub(crate) async fn create(
    State(st): State<Arc<NotesState>>,
    s: SignedIn,
    form: NoteInput,
) -> Result<Response, PageError> {
    let (form, genuine) = note_form(form)?;
    if let Some(resp) = checked(&st, &s, (&form, genuine), None).await? {
        return Ok(resp);
    }
    let id = st
        .store
        .create_note(s.session.sub.clone(), form.title.trim().to_owned(), form.body, st.clock.now())
        .await
        .map_err(PageError::internal)?;
    Ok(SeeOther::to(&format!("/notes?id={id}&flash=created"))?.into_response())
}

/// Saves the note `id` from the form; `Ok(None)` when saved.
async fn save_note(
    st: &NotesState,
    s: &SignedIn,
    id: i64,
    (form, genuine): (NoteForm, bool),
) -> Result<Option<Response>, PageError> {
    if let Some(resp) = checked(st, s, (&form, genuine), Some(id)).await? {
        return Ok(Some(resp));
    }
    let saved = st
        .store
        .update_note(s.session.sub.clone(), id, form.title.trim().to_owned(), form.body, st.clock.now())
        .await
        .map_err(PageError::internal)?;
    if saved { Ok(None) } else { Err(not_found(id)) }
}

fn not_found(id: i64) -> PageError {
    PageError(
        axum::http::StatusCode::NOT_FOUND,
        crate::pages::ErrorPage {
            title: "Note not found".into(),
            message: format!("You have no note {id}."),
            retry: Some("/notes".into()),
        },
    )
}

pub(crate) async fn save(
    State(st): State<Arc<NotesState>>,
    Path(id): Path<i64>,
    s: SignedIn,
    form: NoteInput,
) -> Result<Response, PageError> {
    if let Some(resp) = save_note(&st, &s, id, note_form(form)?).await? {
        return Ok(resp);
    }
    Ok(SeeOther::to(&format!("/notes?id={id}&flash=saved"))?.into_response())
}

pub(crate) async fn delete(
    State(st): State<Arc<NotesState>>,
    Path(id): Path<i64>,
    s: SignedIn,
    form: NoteInput,
) -> Result<Response, PageError> {
    let (form, genuine) = note_form(form)?;
    if !genuine {
        return checked(&st, &s, (&form, genuine), Some(id))
            .await
            .map(|r| r.unwrap_or_else(|| SeeOther::to("/notes").into_response()));
    }
    if st.store.delete_note(s.session.sub.clone(), id).await.map_err(PageError::internal)? {
        Ok(SeeOther::to("/notes?flash=deleted")?.into_response())
    } else {
        Err(not_found(id))
    }
}

/// Saves the note, then creates a todo titled after it (needs `todos.write`).
pub(crate) async fn send_to_todos(
    State(st): State<Arc<NotesState>>,
    Path(id): Path<i64>,
    s: SignedIn,
    form: NoteInput,
) -> Result<Response, PageError> {
    let (form, genuine) = note_form(form)?;
    let title = todo_title(&form.title, &form.body);
    if let Some(resp) = save_note(&st, &s, id, (form, genuine)).await? {
        return Ok(resp);
    }
    match todo_client::call(&st, &s.session, &ApiCall::Create(title)).await {
        Ok(_) => Ok(SeeOther::to(&format!("/notes?id={id}&flash=sent"))?.into_response()),
        Err(problem) => {
            let view = View {
                selected: Some(id),
                flash: Some("The note is saved, but the todo was not created (see Todos).".into()),
                problem: Some(problem),
                ..View::default()
            };
            render(&st, &s, view, false).await
        }
    }
}

/// The todo's title: the note's title, or the first line of its text.
fn todo_title(title: &str, body: &str) -> String {
    let source = if title.trim().is_empty() {
        body.lines().find(|l| !l.trim().is_empty()).unwrap_or("Untitled note")
    } else {
        title
    };
    source.trim().chars().take(MAX_TODO_TITLE).collect()
}
