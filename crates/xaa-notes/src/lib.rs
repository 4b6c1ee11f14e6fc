//! # xaa-notes: the lab's requestor app
//!
//! A notes app sold to an enterprise that turns a note into a task in the todo app, without API
//! keys and without per-user consent prompts, governed by the enterprise IdP. It is the reference
//! requestor of the lab:
//!
//! 1. signs users in at the IdP with the `openidconnect` crate (discovery, code + PKCE + `state` +
//!    `nonce`, full ID token verification), keeping a server-side session in SQLite;
//! 2. exchanges the ID token for an ID-JAG at the IdP (RFC 8693, [`xaa`]);
//! 3. trades the ID-JAG for an access token at the resource authorization server (RFC 7523) with
//!    its own resource-AS credentials, and caches it until shortly before expiry;
//! 4. calls the todo API.
//!
//! Every outbound call is written to the terminal as the tutorial's "OAuth HTTP" log
//! ([`oauth_http`]), with secrets and tokens masked unless `reveal_secrets` is set.
//!
//! It knows the IdP, the authorization server and the todo API only by URL.

mod config;
mod mcp_client;
mod oauth_http;
mod oidc;
mod pages;
mod routes;
mod session;
mod state;
mod store;
mod todo_client;
mod xaa;

pub use config::NotesConfig;
pub use oauth_http::{CallLog, SentCall};
pub use routes::router;
pub use state::NotesState;

/// The session cookie (names are unique across the lab's components).
pub const SESSION_COOKIE: &str = "xaa_notes_session";
/// The cookie binding a sign-in in progress to this browser.
pub const LOGIN_COOKIE: &str = "xaa_notes_login";
