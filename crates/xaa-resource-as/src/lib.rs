//! # xaa-resource-as: the resource authorization server and the todo API
//!
//! One trust domain, two routers on two origins:
//!
//! - [`authz_router`]: the resource authorization server. It accepts ID-JAGs through the RFC 7523
//!   jwt-bearer grant (draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4) and issues RFC 9068
//!   access tokens. Paths: `/.well-known/oauth-authorization-server`, `/.well-known/openid-configuration`,
//!   `/jwks`, `POST /token`, `POST /token/introspection` (RFC 7662), `POST /register` (RFC 7591).
//! - [`todo_router`]: the todo API (xaa.dev's "Todo0"), a protected resource (RFC 6750, RFC 9728).
//!   It validates access tokens only with the authorization server's *public* keys, never by
//!   reading the authorization server's tables. Paths: `/.well-known/oauth-protected-resource`,
//!   `GET|POST /api/todos`, `GET /api/todos/{completed,incomplete,stats}`, `GET|PATCH|DELETE /api/todos/{id}`,
//!   `GET /health`; and the same todos over MCP: `POST /mcp` with its metadata at
//!   `/.well-known/oauth-protected-resource/mcp`.
//!
//! It knows the IdP only by issuer: keys come over HTTP through a [`xaa_core::key_source::KeySource`].

mod authz;
mod bearer;
mod config;
mod governed;
mod mcp;
mod reuse;
#[cfg(test)]
mod reuse_tests;
mod state;
mod store;
#[cfg(test)]
mod test_support;
mod todos;

pub use authz::replay::RESUBMISSION;
pub use authz::router as authz_router;
pub use config::{AsClient, ProtectedResource, ResourceAsConfig, SamlTrust, SeedTodo, TodoApiConfig};
pub use mcp::MCP_PATH;
pub use reuse::{ResourceReuse, ReuseError, ReusePolicy};
pub use state::{AsState, Shared, TodoState};
pub use store::{Store, Todo, reset_database};
pub use todos::router as todo_router;

/// Scope needed to read todos.
pub const SCOPE_READ: &str = "todos.read";
/// Scope needed to create, change and delete todos.
pub const SCOPE_WRITE: &str = "todos.write";
/// Scope needed, with [`SCOPE_READ`], to use the todo API over MCP (as xaa.dev's MCP server).
pub const SCOPE_MCP: &str = "mcp.access";
