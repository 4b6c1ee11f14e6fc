//! axum adapter for the token endpoints of both servers: the OAuth error response and the
//! token-request extractor (content type, body limit, form parameters, `Authorization` header).

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{FormParams, MAX_TOKEN_REQUEST_BYTES, OAuthError};

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = (status, axum::Json(self.body())).into_response();
        no_store(resp.headers_mut());
        if self.basic_challenge {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"token\""));
        }
        resp.extensions_mut().insert(self);
        resp
    }
}

/// A JSON success response with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store_json<T: serde::Serialize>(body: &T) -> Response {
    let mut resp = axum::Json(body).into_response();
    no_store(resp.headers_mut());
    resp
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A token request: its form parameters, `Authorization` header and `DPoP` proofs.
#[derive(Debug)]
pub struct TokenRequest {
    /// The decoded form.
    pub params: FormParams,
    /// The `Authorization` header, if any (client_secret_basic).
    pub authorization: Option<String>,
    /// The value of every `DPoP` header field, in order (RFC 9449 §4.1): none without a proof;
    /// [`crate::dpop::single_proof`] takes the one a request may carry. A value that is not
    /// visible ASCII is kept with its other bytes replaced, so that it fails as a malformed JWT.
    pub dpop: Vec<String>,
}

impl<S: Send + Sync> FromRequest<S> for TokenRequest {
    type Rejection = OAuthError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(format!(
                "the token request must be application/x-www-form-urlencoded ({}), not {:?}",
                crate::spec::RFC6749_3_2,
                if content_type.is_empty() { "no content type" } else { content_type }
            )));
        }
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned))
            .transpose()
            .map_err(|_| OAuthError::invalid_request("the Authorization header is not valid text"))?;
        let dpop =
            req.headers().get_all("dpop").iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
        let body = axum::body::to_bytes(req.into_body(), MAX_TOKEN_REQUEST_BYTES).await.map_err(|_| {
            let mut e = OAuthError::invalid_request(format!(
                "the request body is larger than {} KiB or could not be read",
                MAX_TOKEN_REQUEST_BYTES / 1024
            ));
            e.status = 413;
            e
        })?;
        Ok(Self { params: FormParams::parse(&body), authorization, dpop })
    }
}

impl IntoResponse for super::RegistrationError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = (status, axum::Json(&self)).into_response();
        no_store(resp.headers_mut());
        resp
    }
}

/// An RFC 7591 registration request: a JSON object of client metadata (at most
/// [`super::MAX_REGISTRATION_BYTES`]), parsed
/// but not yet validated for a registrar.
#[derive(Debug)]
pub struct RegistrationRequest(pub super::ClientMetadata);

impl<S: Send + Sync> FromRequest<S> for RegistrationRequest {
    type Rejection = super::RegistrationError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(super::RegistrationError::metadata(format!(
                "a registration request is application/json ({})",
                crate::spec::RFC7591_3_1
            )));
        }
        let body = axum::body::to_bytes(req.into_body(), super::MAX_REGISTRATION_BYTES).await.map_err(|_| {
            super::RegistrationError::metadata(format!(
                "the client metadata is larger than {} KiB or could not be read",
                super::MAX_REGISTRATION_BYTES / 1024
            ))
        })?;
        super::ClientMetadata::parse(&body).map(Self)
    }
}

/// `201 Created` with the registered client (RFC 7591 §3.2.1), `Cache-Control: no-store`.
pub fn registered(body: serde_json::Map<String, serde_json::Value>) -> Response {
    let mut resp = (StatusCode::CREATED, axum::Json(body)).into_response();
    no_store(resp.headers_mut());
    resp
}
