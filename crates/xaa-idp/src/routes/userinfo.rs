//! `GET|POST /userinfo` (OIDC Core §5.3) with the IdP access token; RFC 6750 errors.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::secret::sha256_b64;

use crate::state::IdpState;

pub(crate) async fn userinfo(State(st): State<Arc<IdpState>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token);
    let Some(token) = token else {
        return challenge(None);
    };
    match st.store.access_token(sha256_b64(token.trim()), st.clock.now()).await {
        Ok(Some((email, _scope))) => {
            let u = st.user(&email);
            let tenant = &st.tenant_of(&email).id;
            let claims =
                json!({ "sub": u.sub(), "email": u.email, "email_verified": true, "name": u.name, "tenant": tenant });
            Json(claims).into_response()
        }
        Ok(None) => challenge(Some("the access token is unknown or expired")),
        Err(e) => {
            tracing::error!(error = %e, "userinfo lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn challenge(error: Option<&str>) -> Response {
    let value = match error {
        Some(d) => {
            format!("Bearer realm=\"idp\", error=\"invalid_token\", error_description=\"{d}\"")
        }
        None => "Bearer realm=\"idp\"".to_owned(),
    };
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}
