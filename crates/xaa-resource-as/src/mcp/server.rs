//! The MCP server handler: the signed-in user's todos as MCP resources (`todo0://todos`, …) and
//! tools (`list_todos`, `create_todo`, `complete_todo`), on the same store and user key (`sub`)
//! as the REST API. The [`super::gate`] has already authenticated the request; its claims ride in
//! the HTTP request's extensions; it also required `todos.write` for the writing tools.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource, ResourceContents,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;
use xaa_core::claims::AccessTokenClaims;

use crate::state::TodoState;
use crate::store::Todo;

/// Longest accepted title, in characters (as the REST API).
const MAX_TITLE: usize = 500;

/// The resources: URI, name, description and which todos it lists.
const RESOURCES: [(&str, &str, &str, Filter); 3] = [
    ("todo0://todos", "todos", "All of your todos", Filter::All),
    ("todo0://todos/completed", "completed-todos", "Your completed todos", Filter::Completed),
    ("todo0://todos/incomplete", "incomplete-todos", "Your todos still to do", Filter::Incomplete),
];

/// Which todos a listing keeps.
#[derive(Clone, Copy, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Filter {
    /// Every todo.
    #[default]
    All,
    /// Only completed ones.
    Completed,
    /// Only the ones still to do.
    Incomplete,
}

impl Filter {
    fn keeps(self, t: &Todo) -> bool {
        match self {
            Filter::All => true,
            Filter::Completed => t.completed,
            Filter::Incomplete => !t.completed,
        }
    }
}

/// `list_todos` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListArgs {
    /// `all` (default), `completed` or `incomplete`.
    #[serde(default)]
    filter: Filter,
}

/// `create_todo` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct CreateArgs {
    /// The title of the new todo.
    title: String,
}

/// `complete_todo` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct CompleteArgs {
    /// The id of the todo to mark completed.
    id: i64,
}

/// The todo MCP server (one per request: the transport is stateless).
#[derive(Clone, Debug)]
pub(crate) struct TodoMcp {
    st: Arc<TodoState>,
    tool_router: ToolRouter<Self>,
}

type Parts = axum::http::request::Parts;

fn claims(parts: &Parts) -> Result<&AccessTokenClaims, ErrorData> {
    // The gate admits no request without claims; this is the belt to its braces.
    parts.extensions.get::<AccessTokenClaims>().ok_or_else(|| ErrorData::internal_error("not authenticated", None))
}

fn storage(e: xaa_core::sqlite::DbError) -> ErrorData {
    tracing::error!(error = %e, "todo storage failed");
    ErrorData::internal_error("the todo API could not read or write its storage", None)
}

fn refused(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

fn json_result(v: serde_json::Value) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::json(v)?]))
}

#[tool_router]
impl TodoMcp {
    /// A server answering from `st`.
    pub(crate) fn new(st: Arc<TodoState>) -> Self {
        Self { st, tool_router: Self::tool_router() }
    }

    async fn todos(&self, c: &AccessTokenClaims, filter: Filter) -> Result<Vec<Todo>, ErrorData> {
        let all = self.st.store.todos(c.sub.clone(), &self.st.config.seed_todos, self.st.clock.now()).await;
        Ok(all.map_err(storage)?.iter().filter(|t| filter.keeps(t)).cloned().collect())
    }

    #[tool(description = "List your todos (filter: all, completed or incomplete). Needs scope todos.read.")]
    async fn list_todos(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let c = claims(&parts)?;
        let todos = self.todos(c, args.filter).await?;
        json_result(json!({ "count": todos.len(), "todos": todos }))
    }

    #[tool(description = "Create a todo with this title. Needs scope todos.write.")]
    async fn create_todo(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(args): Parameters<CreateArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let c = claims(&parts)?;
        let title = args.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Ok(refused(format!("title must be 1 to {MAX_TITLE} characters")));
        }
        let todo = self
            .st
            .store
            .create(c.sub.clone(), title.to_owned(), self.st.config.seed_todos.clone(), self.st.clock.now())
            .await
            .map_err(storage)?;
        tracing::info!(user.sub = %c.sub, todo.id = todo.id, "todo created over MCP");
        json_result(json!({ "todo": todo }))
    }

    #[tool(description = "Mark the todo with this id completed. Needs scope todos.write.")]
    async fn complete_todo(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(args): Parameters<CompleteArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let c = claims(&parts)?;
        match self.st.store.update(c.sub.clone(), args.id, None, Some(true)).await.map_err(storage)? {
            Some(todo) => json_result(json!({ "todo": todo })),
            None => Ok(refused(format!("no todo with id {}", args.id))),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TodoMcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build());
        info.server_info = Implementation::new("todo0-mcp", env!("CARGO_PKG_VERSION"));
        info.instructions = Some("The XAA lab's todo API over MCP: your todos as resources and tools.".into());
        info
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let items = RESOURCES
            .iter()
            .map(|(uri, name, description, _)| {
                Resource::new(*uri, *name).with_description(*description).with_mime_type("application/json")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(items))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some((uri, _, _, filter)) = RESOURCES.iter().find(|r| r.0 == request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource \"{}\" (this server has todo0://todos, todo0://todos/completed, todo0://todos/incomplete)",
                    request.uri
                ),
                None,
            ));
        };
        let parts =
            context.extensions.get::<Parts>().ok_or_else(|| ErrorData::internal_error("no HTTP request", None))?;
        let todos = self.todos(claims(parts)?, *filter).await?;
        let text = serde_json::to_string(&todos).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, *uri).with_mime_type("application/json")]).into())
    }
}
