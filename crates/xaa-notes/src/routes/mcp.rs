//! `GET /todos/mcp`: the todos read through the todo API's MCP server (both exchanges for the MCP
//! resource, then `resources/read todo0://todos`), on a page of their own.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::mcp_client::{self, MCP_SCOPE, McpListing, TODOS_URI};
use crate::pages::{PageError, Problem, ReuseLine};
use crate::session::SignedIn;
use crate::state::NotesState;

/// The page.
#[derive(Template, WebTemplate)]
#[template(path = "mcp.html")]
pub(crate) struct McpPage {
    name: String,
    email: String,
    csrf: String,
    server_url: String,
    scope: &'static str,
    uri: &'static str,
    listing: Option<McpListing>,
    /// The MCP server's ID-JAG re-use policy, with the listing.
    reuse: Option<ReuseLine>,
    problem: Option<Problem>,
}

pub(crate) async fn page(State(st): State<Arc<NotesState>>, s: SignedIn) -> Result<Response, PageError> {
    let (listing, problem) = match mcp_client::list(&st, &s.session).await {
        Ok(l) => (Some(l), None),
        Err(e) => {
            tracing::warn!(error = ?e, "Failed to fetch todos through MCP");
            (None, Some(Problem::from(&e)))
        }
    };
    Ok(McpPage {
        name: s.session.name.clone(),
        email: s.session.email.clone(),
        csrf: s.csrf.clone(),
        server_url: mcp_client::server_url(&st),
        scope: MCP_SCOPE,
        uri: TODOS_URI,
        reuse: listing.as_ref().map(|l| ReuseLine::from(&l.reuse)),
        listing,
        problem,
    }
    .into_response())
}
