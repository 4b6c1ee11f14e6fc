//! Bearer-token authentication (RFC 6750 §2.1, §3; the header method only) of the todo API and
//! its MCP server, as one extractor: [`Authorized<A>`] yields the claims of a valid access token
//! for the resource and scopes the [`Access`] marker `A` names, or refuses the request with the
//! RFC 6750 challenge and the body the resource answers refusals in.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Json;
use axum::extract::FromRef;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::JWT_LEEWAY;
use xaa_core::claims::AccessTokenClaims;
use xaa_core::ids::ResourceUri;
use xaa_core::scope::Scope;
use xaa_core::spec;
use xaa_core::validation::access_token::{AccessTokenExpectations, validate_access_token};
use xaa_core::validation::{CheckLog, CheckSlot};

use crate::state::TodoState;
use crate::{SCOPE_MCP, SCOPE_READ, SCOPE_WRITE};

/// The protected resource a token must be for: it fixes the token's audience, the challenge's
/// realm and metadata URL, and the shape of a refusal's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    /// The REST todo API (its base URL); refusals in the todo envelope.
    TodoApi,
    /// Its MCP server (`{todo_api}/mcp`); refusals as JSON-RPC errors.
    Mcp,
}

impl Resource {
    fn realm(self) -> &'static str {
        match self {
            Resource::TodoApi => "todo-api",
            Resource::Mcp => "todo-mcp",
        }
    }

    /// The resource identifier an access token's `aud` must be.
    fn identifier(self, st: &TodoState) -> ResourceUri {
        match self {
            Resource::TodoApi => st.config.resource.clone(),
            Resource::Mcp => crate::mcp::resource_id(st),
        }
    }

    /// Its RFC 9728 metadata URL, named in every challenge.
    fn metadata(self, st: &TodoState) -> String {
        match self {
            Resource::TodoApi => format!("{}/.well-known/oauth-protected-resource", st.config.resource),
            Resource::Mcp => crate::mcp::metadata_url(st),
        }
    }
}

/// What a route requires of its access token: the resource it is for and every scope it must carry.
pub(crate) trait Access: Send + Sync + 'static {
    /// The resource.
    const RESOURCE: Resource;
    /// The scopes, all needed.
    const SCOPES: &'static [&'static str];
}

/// Reading todos over the REST API: `todos.read`.
#[derive(Debug)]
pub(crate) struct ReadTodos;
impl Access for ReadTodos {
    const RESOURCE: Resource = Resource::TodoApi;
    const SCOPES: &'static [&'static str] = &[SCOPE_READ];
}

/// Creating, changing and deleting todos over the REST API: `todos.write`.
#[derive(Debug)]
pub(crate) struct WriteTodos;
impl Access for WriteTodos {
    const RESOURCE: Resource = Resource::TodoApi;
    const SCOPES: &'static [&'static str] = &[SCOPE_WRITE];
}

/// Using the MCP server: `todos.read` and `mcp.access`.
#[derive(Debug)]
pub(crate) struct UseMcp;
impl Access for UseMcp {
    const RESOURCE: Resource = Resource::Mcp;
    const SCOPES: &'static [&'static str] = &[SCOPE_READ, SCOPE_MCP];
}

/// Calling a writing MCP tool: `todos.write` as well (MCP's runtime scope challenge).
#[derive(Debug)]
pub(crate) struct WriteOverMcp;
impl Access for WriteOverMcp {
    const RESOURCE: Resource = Resource::Mcp;
    const SCOPES: &'static [&'static str] = &[SCOPE_READ, SCOPE_MCP, SCOPE_WRITE];
}

/// The claims of a valid access token for `A`'s resource carrying `A`'s scopes.
#[derive(Debug)]
pub(crate) struct Authorized<A> {
    /// The validated claims.
    pub(crate) claims: AccessTokenClaims,
    access: PhantomData<fn() -> A>,
}

impl<A: Access, S: Send + Sync> axum::extract::FromRequestParts<S> for Authorized<A>
where
    Arc<TodoState>: FromRef<S>,
{
    type Rejection = BearerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let st = Arc::<TodoState>::from_ref(state);
        let slot = parts.extensions.get::<CheckSlot>().cloned();
        let claims = authorize(&st, A::RESOURCE, &parts.headers, &parts.uri, A::SCOPES, slot.as_ref())?;
        Ok(Self { claims, access: PhantomData })
    }
}

/// An RFC 6750 refusal: status, `WWW-Authenticate` challenge and a JSON body in the resource's
/// shape (the todo envelope, or a JSON-RPC error with code -32000 as the MCP SDKs' servers send).
#[derive(Debug)]
pub(crate) struct BearerError {
    status: StatusCode,
    error: Option<&'static str>,
    description: String,
    scope: Option<String>,
    resource: Resource,
    resource_metadata: String,
}

impl BearerError {
    /// The `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1).
    fn challenge(&self) -> Option<HeaderValue> {
        let mut challenge =
            format!("Bearer realm=\"{}\", resource_metadata=\"{}\"", self.resource.realm(), self.resource_metadata);
        if let Some(e) = self.error {
            let d = xaa_core::oauth::wire_safe(&self.description);
            challenge.push_str(&format!(", error=\"{e}\", error_description=\"{d}\""));
        }
        if let Some(s) = &self.scope {
            challenge.push_str(&format!(", scope=\"{s}\""));
        }
        HeaderValue::from_str(&challenge).ok()
    }

    /// The body of the todo API's refusal.
    fn todo_api_body(&self) -> Response {
        let body = json!({
            "success": false,
            "error": self.error.unwrap_or("unauthorized"),
            "error_description": self.description,
        });
        (self.status, Json(body)).into_response()
    }

    /// The body of the MCP server's refusal: a JSON-RPC error.
    fn mcp_body(&self) -> Response {
        let message = match (self.status, self.error) {
            (StatusCode::UNAUTHORIZED, None) => "Unauthorized: No access token provided".to_owned(),
            (StatusCode::UNAUTHORIZED, _) => "Invalid or expired access token".to_owned(),
            (StatusCode::FORBIDDEN, _) => format!("Forbidden: insufficient scope: {}", self.description),
            _ => format!("Bad Request: {}", self.description),
        };
        let data = self.error.map(|code| json!({ "error": code, "error_description": self.description }));
        crate::mcp::rpc_error(self.status, &message, data)
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let mut resp = match self.resource {
            Resource::TodoApi => self.todo_api_body(),
            Resource::Mcp => self.mcp_body(),
        };
        if let Some(v) = self.challenge() {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// Authenticates a request to `resource` and checks the token carries every scope in `needed`.
fn authorize(
    st: &TodoState,
    resource: Resource,
    headers: &HeaderMap,
    uri: &Uri,
    needed: &[&'static str],
    slot: Option<&CheckSlot>,
) -> Result<AccessTokenClaims, BearerError> {
    let audience = resource.identifier(st);
    let refuse = |status, error, description: String, scope| BearerError {
        status,
        error,
        description,
        scope,
        resource,
        resource_metadata: resource.metadata(st),
    };
    let in_query = uri.query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token"));
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, t)| t))
        .collect::<Vec<_>>();
    let token = match (bearer.as_slice(), in_query) {
        ([one], false) => one.trim(),
        ([], false) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                None,
                "an access token is required: send Authorization: Bearer <access token>".into(),
                None,
            ));
        }
        ([], true) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                format!(
                    "send the access token in the Authorization header; the access_token query parameter is not supported ({})",
                    spec::RFC6750_2_3
                ),
                None,
            ));
        }
        _ => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                format!("more than one access token was sent; use exactly one method ({})", spec::RFC6750_2),
                None,
            ));
        }
    };
    let expect = AccessTokenExpectations {
        issuer: &st.config.authorization_server,
        audience: &audience,
        now: st.clock.now(),
        leeway: JWT_LEEWAY,
    };
    let mut checks = CheckLog::new();
    let validated = validate_access_token(token, expect, &st.as_keys, &mut checks);
    let scope_spec = &spec::RFC6750_3_1;
    let needed_scope = needed.join(" ");
    let missing = |c: &AccessTokenClaims| {
        let has = Scope::parse(&c.scope);
        needed.iter().any(|n| !has.contains(n))
    };
    if let Ok(c) = &validated {
        if missing(c) {
            checks.fail("scope", scope_spec, format!("the token lacks '{needed_scope}' (it has '{}')", c.scope));
        } else {
            checks.pass("scope", scope_spec, format!("the token carries '{needed_scope}'"));
        }
    }
    // What the todo API checked, for the response (and so the lab's trace).
    if let Some(slot) = slot {
        slot.put(checks);
    }
    let claims = validated.map_err(|r| refuse(StatusCode::UNAUTHORIZED, Some("invalid_token"), r.to_string(), None))?;
    if missing(&claims) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            format!(
                "this request needs scope \"{needed_scope}\"; the access token has \"{}\" ({})",
                claims.scope,
                spec::RFC6750_3_1
            ),
            Some(needed_scope),
        ));
    }
    Ok(claims)
}
