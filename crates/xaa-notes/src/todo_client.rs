//! Calls to the todo API with the session's access token. A 401 makes one retry with a fresh
//! token (both exchanges again), since a cached token may have been refused.

use serde::Deserialize;
use serde_json::{Value, json};
use xaa_core::id_jag_reuse::Published;

use crate::oauth_http::OAuthHttp;
use crate::state::NotesState;
use crate::store::Session;
use crate::xaa::{self, Step, XaaError};

/// A todo as the API returns it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Todo {
    pub(crate) id: i64,
    pub(crate) title: String,
    pub(crate) completed: bool,
}

/// One call to the todo API.
#[derive(Clone, Debug)]
pub(crate) enum ApiCall {
    /// `GET /api/todos`.
    List,
    /// `POST /api/todos`.
    Create(String),
    /// `PATCH /api/todos/{id}`.
    SetCompleted(i64, bool),
}

/// Todos, and the token facts the pane shows.
#[derive(Clone, Debug)]
pub(crate) struct Listing {
    pub(crate) todos: Vec<Todo>,
    pub(crate) scope: String,
    pub(crate) expires_at: i64,
    /// The ID-JAG re-use policy the authorization server published for the todo API at the grant.
    pub(crate) reuse: Published,
}

/// Lists the user's todos.
pub(crate) async fn list(st: &NotesState, session: &Session) -> Result<Listing, XaaError> {
    let (body, token) = call(st, session, &ApiCall::List).await?;
    let todos = serde_json::from_value(body["data"].clone())
        .map_err(|e| XaaError::Unreachable { step: Step::TodoApi, detail: format!("unexpected todo list: {e}") })?;
    Ok(Listing { todos, scope: token.scope, expires_at: token.expires_at, reuse: token.reuse })
}

/// Runs `api_call`, returning the JSON body and the token used.
pub(crate) async fn call(
    st: &NotesState,
    session: &Session,
    api_call: &ApiCall,
) -> Result<(Value, crate::store::CachedToken), XaaError> {
    let mut token = xaa::access_token(st, session, false).await?;
    let mut retried = false;
    loop {
        match request(st, &token.token, api_call).await {
            Err(XaaError::Refused { status: 401, .. }) if !retried => {
                retried = true;
                token = xaa::access_token(st, session, true).await?;
            }
            other => return other.map(|body| (body, token)),
        }
    }
}

async fn request(st: &NotesState, token: &str, api_call: &ApiCall) -> Result<Value, XaaError> {
    let step = Step::TodoApi;
    let unreachable = |detail: String| XaaError::Unreachable { step, detail };
    let http = OAuthHttp::of(st).map_err(|e| unreachable(e.to_string()))?;
    let client = http.client();
    let base = &st.config.todo_api;
    let builder = match api_call {
        ApiCall::List => client.get(format!("{base}/api/todos")),
        ApiCall::Create(title) => client.post(format!("{base}/api/todos")).json(&json!({ "title": title })),
        ApiCall::SetCompleted(id, done) => {
            client.patch(format!("{base}/api/todos/{id}")).json(&json!({ "completed": done }))
        }
    };
    let req = builder.bearer_auth(token).build().map_err(|e| unreachable(e.to_string()))?;
    let resp = http.send(req).await.map_err(|e| unreachable(e.to_string()))?;
    xaa::answer(step, resp).await
}
