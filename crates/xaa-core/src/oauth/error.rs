//! RFC 6749 §5.2 error responses.

use serde::Serialize;

/// The `error` codes of RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 8707 §2 and RFC 9449 §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed request: missing, repeated or unsupported parameter.
    InvalidRequest,
    /// Client authentication failed (HTTP 401).
    InvalidClient,
    /// The grant (code, subject token, assertion) is invalid, expired or not for this client.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported.
    UnsupportedGrantType,
    /// The requested scope is invalid, unknown or exceeds what is allowed.
    InvalidScope,
    /// The audience or resource is unknown or not allowed (RFC 8693 §2.2.2, RFC 8707 §2).
    InvalidTarget,
    /// The DPoP proof sent with the request is invalid (RFC 9449 §5).
    InvalidDpopProof,
    /// The server failed (never used for client mistakes).
    ServerError,
}

impl ErrorCode {
    /// The exact wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidDpopProof => crate::dpop::INVALID_DPOP_PROOF,
            ErrorCode::ServerError => "server_error",
        }
    }
}

/// An OAuth error response: `{"error": ..., "error_description": ...}` with its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// The error code.
    pub code: ErrorCode,
    /// What exactly was wrong, and the section that requires it.
    pub description: String,
    /// HTTP status: 401 for `invalid_client`, 500 for `server_error`, 400 otherwise (413 for oversized bodies).
    pub status: u16,
    /// Whether the client tried HTTP Basic, so a 401 must carry `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    pub basic_challenge: bool,
}

impl OAuthError {
    /// An error with the status RFC 6749 §5.2 gives its code.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let status = match code {
            ErrorCode::InvalidClient => 401,
            ErrorCode::ServerError => 500,
            _ => 400,
        };
        Self { code, description: wire_safe(&description.into()), status, basic_challenge: false }
    }
    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }
    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }
    /// `invalid_client` (401).
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }
    /// `server_error` (500): the lab itself failed.
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServerError, description)
    }
    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code.as_str(), "error_description": self.description })
    }
}

/// Makes a description fit RFC 6749 §5.2 / RFC 6750 §3 (`%x20-21 / %x23-5B / %x5D-7E`):
/// `"` becomes `'`, `\` becomes `/`, `§` becomes `Section `, other characters become `?`.
/// Descriptions echo request values, so this is applied to every one.
pub fn wire_safe(description: &str) -> String {
    let mut out = String::with_capacity(description.len());
    for c in description.chars() {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            '\u{a7}' => out.push_str("Section "),
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_wire_safe() {
        let e = OAuthError::invalid_request("audience \"a\\b\" is unknown (RFC 8693 §2.2.2) ✓\n");
        assert_eq!(e.description, "audience 'a/b' is unknown (RFC 8693 Section 2.2.2) ??");
        assert!(e.description.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'));
    }
}
