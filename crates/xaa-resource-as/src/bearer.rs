//! Access-token authentication of the todo API and its MCP server (the header method only), as one
//! extractor: [`Authorized<A>`] yields the claims of a valid access token for the resource and
//! scopes the [`Access`] marker `A` names, or refuses the request with the challenge and the body
//! the resource answers refusals in.
//!
//! A Bearer token (RFC 6750 §2.1, §3) comes as `Authorization: Bearer <token>`. A DPoP-bound token
//! (one with `cnf.jkt`, RFC 9449 §6.1) comes as `Authorization: DPoP <token>` with a `DPoP` proof
//! of this request (its method and URL, the token's hash in `ath`) made with the key the token is
//! bound to (RFC 9449 §7.1, §4.3); sent as Bearer it is refused, and refusals concerning it carry
//! a `DPoP` challenge with the accepted `algs`.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Json;
use axum::extract::FromRef;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::JWT_LEEWAY;
use xaa_core::claims::AccessTokenClaims;
use xaa_core::dpop::{self, ProofExpectations};
use xaa_core::ids::ResourceUri;
use xaa_core::scope::Scope;
use xaa_core::spec::{self, Citation};
use xaa_core::urn;
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
        let request = Presented { method: &parts.method, headers: &parts.headers, uri: &parts.uri };
        let claims = authorize(&st, A::RESOURCE, request, A::SCOPES, slot.as_ref())?;
        Ok(Self { claims, access: PhantomData })
    }
}

/// The authentication scheme of a presented access token, and of a refusal's challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    /// `Bearer` (RFC 6750 §2.1, §3).
    Bearer,
    /// `DPoP` (RFC 9449 §7.1): a DPoP-bound token with a proof.
    Dpop,
}

/// The parts of a request that authenticate it.
#[derive(Clone, Copy, Debug)]
struct Presented<'a> {
    method: &'a Method,
    headers: &'a HeaderMap,
    uri: &'a Uri,
}

/// A refusal: status, `WWW-Authenticate` challenge (RFC 6750 §3, or RFC 9449 §7.1 for DPoP) and
/// a JSON body in the resource's shape (the todo envelope, or a JSON-RPC error with code -32000
/// as the MCP SDKs' servers send).
#[derive(Debug)]
pub(crate) struct BearerError {
    status: StatusCode,
    error: Option<&'static str>,
    description: String,
    scope: Option<String>,
    resource: Resource,
    resource_metadata: String,
    scheme: Scheme,
}

impl BearerError {
    /// The `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1; a `DPoP` challenge names the
    /// proof algorithms accepted, RFC 9449 §7.1).
    fn challenge(&self) -> Option<HeaderValue> {
        let scheme = match self.scheme {
            Scheme::Bearer => urn::TOKEN_TYPE_BEARER,
            Scheme::Dpop => urn::TOKEN_TYPE_DPOP,
        };
        let mut challenge =
            format!("{scheme} realm=\"{}\", resource_metadata=\"{}\"", self.resource.realm(), self.resource_metadata);
        if let Some(e) = self.error {
            let d = xaa_core::oauth::wire_safe(&self.description);
            challenge.push_str(&format!(", error=\"{e}\", error_description=\"{d}\""));
        }
        if let Some(s) = &self.scope {
            challenge.push_str(&format!(", scope=\"{s}\""));
        }
        if self.scheme == Scheme::Dpop {
            challenge.push_str(&format!(", algs=\"{}\"", dpop::DPOP_ALGS.join(" ")));
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
            (StatusCode::UNAUTHORIZED, Some(dpop::INVALID_DPOP_PROOF)) => "Invalid DPoP proof".to_owned(),
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

/// How a DPoP-bound token is refused when presented wrongly (RFC 9449 §7.1).
const DPOP_SCHEME: Citation = Citation::of(&[spec::RFC9449_7_1]);
/// The proof's key must be the one the token is bound to (RFC 9449 §4.3 item 12, §6.1).
const DPOP_BINDING: Citation = Citation::of(&[spec::RFC9449_4_3_ITEM_12, spec::RFC9449_6]);

/// Authenticates a request to `resource` and checks the token carries every scope in `needed`.
fn authorize(
    st: &TodoState,
    resource: Resource,
    request: Presented<'_>,
    needed: &[&'static str],
    slot: Option<&CheckSlot>,
) -> Result<AccessTokenClaims, BearerError> {
    let audience = resource.identifier(st);
    let refuse = |scheme, status, error, description: String, scope| BearerError {
        status,
        error,
        description,
        scope,
        resource,
        resource_metadata: resource.metadata(st),
        scheme,
    };
    let in_query =
        request.uri.query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token"));
    let presented = request
        .headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once(' '))
        .filter_map(|(scheme, token)| match scheme {
            s if s.eq_ignore_ascii_case(urn::TOKEN_TYPE_BEARER) => Some((Scheme::Bearer, token)),
            s if s.eq_ignore_ascii_case(urn::TOKEN_TYPE_DPOP) => Some((Scheme::Dpop, token)),
            _ => None,
        })
        .collect::<Vec<_>>();
    let (scheme, token) = match (presented.as_slice(), in_query) {
        ([(scheme, token)], false) => (*scheme, token.trim()),
        ([], false) => {
            return Err(refuse(
                Scheme::Bearer,
                StatusCode::UNAUTHORIZED,
                None,
                "an access token is required: send Authorization: Bearer <access token>".into(),
                None,
            ));
        }
        ([], true) => {
            return Err(refuse(
                Scheme::Bearer,
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
                Scheme::Bearer,
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                format!("more than one access token was sent; use exactly one method ({})", spec::RFC6750_2),
                None,
            ));
        }
    };
    let now = st.clock.now();
    let expect = AccessTokenExpectations {
        issuer: &st.config.authorization_server,
        audience: &audience,
        now,
        leeway: JWT_LEEWAY,
    };
    let mut checks = CheckLog::new();
    let validated = validate_access_token(token, expect, &st.as_keys, &mut checks);
    // The sender constraint of a valid token: its scheme, and for a bound one the proof.
    let constrained = match &validated {
        Ok(claims) => sender_constraint(st, scheme, token, claims, request, now, &mut checks),
        Err(_) => Ok(()),
    };
    let scope_spec = &spec::RFC6750_3_1;
    let needed_scope = needed.join(" ");
    let missing = |c: &AccessTokenClaims| {
        let has = Scope::parse(&c.scope);
        needed.iter().any(|n| !has.contains(n))
    };
    if let (Ok(c), Ok(())) = (&validated, &constrained) {
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
    let claims =
        validated.map_err(|r| refuse(scheme, StatusCode::UNAUTHORIZED, Some("invalid_token"), r.to_string(), None))?;
    // A bound token's refusals challenge with DPoP, an unbound one's with Bearer.
    let scheme = if claims.cnf.is_some() { Scheme::Dpop } else { Scheme::Bearer };
    constrained.map_err(|(status, error, description)| refuse(scheme, status, Some(error), description, None))?;
    if missing(&claims) {
        return Err(refuse(
            scheme,
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

/// A sender-constraint refusal: status, `error` and `error_description`.
type Unconstrained = (StatusCode, &'static str, String);

/// The sender constraint of a valid access token (RFC 9449 §7.1): an unbound token is a Bearer
/// token (nothing to check); a bound one must come with the `DPoP` scheme and a proof of this
/// request, made with the key it is bound to. Each check is recorded in `log`.
fn sender_constraint(
    st: &TodoState,
    scheme: Scheme,
    token: &str,
    claims: &AccessTokenClaims,
    request: Presented<'_>,
    now: i64,
    log: &mut CheckLog,
) -> Result<(), Unconstrained> {
    let invalid_token = |log: &mut CheckLog, spec: Citation, description: String| {
        let r = log.fail("cnf", spec, description);
        (StatusCode::UNAUTHORIZED, "invalid_token", r.to_string())
    };
    let bound = match (scheme, &claims.cnf) {
        (Scheme::Bearer, None) => return Ok(()),
        (Scheme::Bearer, Some(cnf)) => {
            return Err(invalid_token(
                log,
                DPOP_SCHEME,
                format!(
                    "the access token is bound to the DPoP key with thumbprint cnf.jkt \"{}\": send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token",
                    cnf.jkt
                ),
            ));
        }
        (Scheme::Dpop, None) => {
            return Err(invalid_token(
                log,
                DPOP_SCHEME,
                "the access token is bound to no DPoP key (it has no cnf claim): send it as Authorization: Bearer <access token>".to_owned(),
            ));
        }
        (Scheme::Dpop, Some(cnf)) => cnf.jkt.as_str(),
    };
    let proof_refused = |e: dpop::DpopError| {
        let status = match e.error_code() {
            dpop::INVALID_DPOP_PROOF => StatusCode::UNAUTHORIZED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, e.error_code(), e.rejection().to_string())
    };
    let proof = match dpop::single_proof(request.headers.get_all("dpop").iter().map(|v| v.to_str().unwrap_or("?"))) {
        Ok(Some(proof)) => proof,
        Ok(None) => {
            let e = dpop::DpopError::MissingProof;
            log.reject(e.rejection());
            return Err(proof_refused(e));
        }
        Err(e) => {
            log.reject(e.rejection());
            return Err(proof_refused(e));
        }
    };
    let htu = format!("{}{}", st.config.resource, request.uri.path());
    let expect = ProofExpectations::new(request.method.as_str(), &htu).with_access_token(token);
    let proof = st.dpop_proofs.validate(proof, &expect, now, log).map_err(proof_refused)?;
    if proof.jkt != bound {
        return Err(invalid_token(
            log,
            DPOP_BINDING,
            format!(
                "the access token is bound to the DPoP key with thumbprint cnf.jkt \"{bound}\" but the DPoP proof is signed with the key with thumbprint \"{}\"; a DPoP-bound token is presented with a proof of the key it is bound to",
                proof.jkt
            ),
        ));
    }
    log.pass(
        "cnf",
        DPOP_BINDING,
        format!("the DPoP proof is made with the key the access token is bound to (cnf.jkt \"{bound}\")"),
    );
    Ok(())
}
