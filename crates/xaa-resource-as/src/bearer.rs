//! Bearer-token authentication of the todo API (RFC 6750 §2.1, §3): the header method only.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::JWT_LEEWAY;
use xaa_core::claims::AccessTokenClaims;
use xaa_core::scope::Scope;
use xaa_core::validation::CheckLog;
use xaa_core::validation::access_token::{AccessTokenExpectations, validate_access_token};

use crate::state::TodoState;

/// An RFC 6750 refusal: status, `WWW-Authenticate` challenge and a JSON body.
#[derive(Debug)]
pub(crate) struct BearerError {
    pub(crate) status: StatusCode,
    pub(crate) error: Option<&'static str>,
    pub(crate) description: String,
    scope: Option<String>,
    realm: &'static str,
    resource_metadata: String,
}

impl BearerError {
    /// The `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1).
    pub(crate) fn challenge(&self) -> Option<HeaderValue> {
        let mut challenge =
            format!("Bearer realm=\"{}\", resource_metadata=\"{}\"", self.realm, self.resource_metadata);
        if let Some(e) = self.error {
            let d = xaa_core::oauth::wire_safe(&self.description);
            challenge.push_str(&format!(", error=\"{e}\", error_description=\"{d}\""));
        }
        if let Some(s) = &self.scope {
            challenge.push_str(&format!(", scope=\"{s}\""));
        }
        HeaderValue::from_str(&challenge).ok()
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let body = json!({
            "success": false,
            "error": self.error.unwrap_or("unauthorized"),
            "error_description": self.description,
        });
        let challenge = self.challenge();
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(v) = challenge {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// The protected resource a bearer check is for: the REST API or its MCP server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Audience<'a> {
    /// The `realm` of the challenge.
    pub(crate) realm: &'static str,
    /// The resource identifier the token's `aud` must be.
    pub(crate) resource: &'a str,
    /// Its RFC 9728 metadata URL, named in every challenge.
    pub(crate) metadata: &'a str,
}

/// Authenticates a request to the REST API and checks it carries `needed` scope.
pub(crate) fn authorize(
    st: &TodoState,
    headers: &HeaderMap,
    uri: &Uri,
    needed: &'static str,
) -> Result<AccessTokenClaims, BearerError> {
    let metadata = format!("{}/.well-known/oauth-protected-resource", st.config.resource);
    let audience = Audience { realm: "todo-api", resource: &st.config.resource, metadata: &metadata };
    authorize_for(st, audience, headers, uri, &[needed])
}

/// Authenticates a request to `audience` and checks the token carries every scope in `needed`.
pub(crate) fn authorize_for(
    st: &TodoState,
    audience: Audience<'_>,
    headers: &HeaderMap,
    uri: &Uri,
    needed: &[&'static str],
) -> Result<AccessTokenClaims, BearerError> {
    let refuse = |status, error, description: String, scope| BearerError {
        status,
        error,
        description,
        scope,
        realm: audience.realm,
        resource_metadata: audience.metadata.to_owned(),
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
                "send the access token in the Authorization header; the access_token query parameter is not supported (RFC 6750 §2.3)".into(),
                None,
            ));
        }
        _ => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                "more than one access token was sent; use exactly one method (RFC 6750 §2)".into(),
                None,
            ));
        }
    };
    let expect = AccessTokenExpectations {
        issuer: &st.config.authorization_server,
        audience: audience.resource,
        now: st.clock.now(),
        leeway: JWT_LEEWAY,
    };
    let mut checks = CheckLog::new();
    let validated = validate_access_token(token, expect, &st.as_keys, &mut checks);
    let scope_spec = "RFC 6750 §3.1";
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
    xaa_core::trace::report(&checks);
    let claims = validated.map_err(|r| refuse(StatusCode::UNAUTHORIZED, Some("invalid_token"), r.to_string(), None))?;
    if missing(&claims) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            format!(
                "this request needs scope \"{needed_scope}\"; the access token has \"{}\" (RFC 6750 §3.1)",
                claims.scope
            ),
            Some(needed_scope),
        ));
    }
    Ok(claims)
}
