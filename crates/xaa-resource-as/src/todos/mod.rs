//! The todo API: a protected resource (RFC 6750 bearer tokens, RFC 9728 metadata) answering in the
//! xaa.dev envelope `{"success": true, "count": N, "user": {...}, "data": [...]}`.

#[cfg(test)]
mod dpop_router_tests;
mod handlers;
mod outage;
#[cfg(test)]
mod router_tests;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::TodoState;
use crate::{SCOPE_READ, SCOPE_WRITE};

/// The todo API's router.
pub fn router(state: Arc<TodoState>) -> Router {
    let api = Router::new()
        .route("/api/todos", get(handlers::list).post(handlers::create))
        .route("/api/todos/completed", get(handlers::completed))
        .route("/api/todos/incomplete", get(handlers::incomplete))
        .route("/api/todos/stats", get(handlers::stats))
        .route("/api/todos/{id}", get(handlers::get).patch(handlers::update).delete(handlers::delete))
        .layer(axum::middleware::from_fn_with_state(state.clone(), outage::outage));
    Router::new()
        .route("/.well-known/oauth-protected-resource", get(protected_resource))
        .route("/health", get(health))
        .merge(api)
        .merge(crate::mcp::router(state.clone()))
        .route("/favicon.ico", get(|| async { xaa_web::not_found::favicon('T', "#c2410c") }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(xaa_web::not_found::redirect_trailing_slash))
        .layer(axum::middleware::from_fn(xaa_core::validation::carry_checks))
        .layer(axum::middleware::map_response(xaa_web::nosniff::nosniff))
        .with_state(state)
}

/// A path the todo API does not serve: a page for a browser, JSON for a program.
async fn not_found(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    xaa_web::not_found::answer(&method, &uri, &headers, |path| xaa_web::not_found::ApiNotFound {
        server: "todo API",
        about: "It answers /api/todos and the MCP server at /mcp, for an access token of its authorization server.",
        path,
        links: &[("its metadata (RFC 9728)", "/.well-known/oauth-protected-resource"), ("its health", "/health")],
    })
}

/// `GET /health`: unauthenticated liveness (as xaa.dev's resource servers).
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /.well-known/oauth-protected-resource` (RFC 9728 §3).
async fn protected_resource(State(st): State<Arc<TodoState>>) -> Json<Value> {
    Json(json!({
        "resource": st.config.resource,
        "authorization_servers": [st.config.authorization_server],
        "scopes_supported": [SCOPE_READ, SCOPE_WRITE],
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": xaa_core::dpop::DPOP_ALGS,
        "resource_name": "Lab Todo API",
    }))
}
