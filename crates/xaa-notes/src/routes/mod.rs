//! Every path of the notes app is wired here.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /` | landing page |
//! | `GET /auth/login`, `GET /auth/callback`, `POST /auth/logout` | sign-in at the IdP, RP-initiated logout |
//! | `GET /notes`, `POST /notes` | the notes page; create a note |
//! | `POST /notes/{id}`, `/notes/{id}/delete`, `/notes/{id}/todo` | save, delete, send to todos |
//! | `POST /todos/{id}/toggle`, `POST /todos/refresh` | complete/reopen a todo; drop the cached token |
//! | `GET /todos/mcp` | the todos read through the todo API's MCP server |

mod auth;
mod mcp;
mod notes;
mod todos;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::pages::LandingPage;
use crate::session::SignedIn;
use crate::state::NotesState;

/// Largest form the notes app accepts (a note may be a few hundred KB).
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The notes app's router.
pub fn router(state: Arc<NotesState>) -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/logout", post(auth::logout))
        .route("/notes", get(notes::page).post(notes::create))
        .route("/notes/{id}", post(notes::save))
        .route("/notes/{id}/delete", post(notes::delete))
        .route("/notes/{id}/todo", post(notes::send_to_todos))
        .route("/todos/{id}/toggle", post(todos::toggle))
        .route("/todos/refresh", post(todos::refresh))
        .route("/todos/mcp", get(mcp::page))
        .route("/favicon.ico", get(|| async { xaa_web::not_found::favicon('N', "#0f766e") }))
        .fallback(crate::pages::not_found)
        .layer(axum::middleware::from_fn(xaa_web::not_found::redirect_trailing_slash))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn(xaa_web::same_origin::same_origin))
        .layer(axum::middleware::map_response(xaa_web::nosniff::nosniff))
        .with_state(state)
}

async fn landing(session: Option<SignedIn>) -> LandingPage {
    LandingPage { signed_in_as: session.map(|s| s.session.email) }
}
