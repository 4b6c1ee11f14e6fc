//! RFC 7591 dynamic client registration: the client metadata both lab servers accept, including
//! the ID-JAG grant profile metadata of draft-ietf-oauth-identity-assertion-authz-grant-04 §8.

use crate::spec::{self, Citation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::urn;

/// Which server registers the client: each supports different grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registrar {
    /// The IdP: `authorization_code` (sign-in) and token exchange (ID-JAG).
    IdentityProvider,
    /// The resource authorization server: the jwt-bearer grant with an ID-JAG.
    ResourceAuthorizationServer,
}

/// An RFC 7591 §3.2.2 error: `invalid_redirect_uri` or `invalid_client_metadata` (HTTP 400), or
/// `access_denied` (HTTP 403) when open registration is full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistrationError {
    /// The error code.
    pub error: &'static str,
    /// What was wrong.
    pub error_description: String,
    /// The HTTP status: 400 (RFC 7591 §3.2.2) unless the error says otherwise.
    #[serde(skip)]
    pub status: u16,
}

impl RegistrationError {
    pub(super) fn metadata(d: impl Into<String>) -> Self {
        Self { error: "invalid_client_metadata", error_description: super::wire_safe(&d.into()), status: 400 }
    }
    pub(super) fn redirect(d: impl Into<String>) -> Self {
        Self { error: "invalid_redirect_uri", error_description: super::wire_safe(&d.into()), status: 400 }
    }
}

/// Client metadata as registered (RFC 7591 §2), with the server's defaults filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// Exact redirect URIs (required for `authorization_code`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// OIDC RP-initiated logout: exact post-logout redirect URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// Grant types the client will use.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Response types (`code`).
    #[serde(default)]
    pub response_types: Vec<String>,
    /// Human-readable name.
    #[serde(default)]
    pub client_name: Option<String>,
    /// Space-separated scopes the client may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// draft-04 §8: grant profiles the client supports (`urn:ietf:params:oauth:grant-profile:id-jag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_grant_profiles_supported: Vec<String>,
    /// Every other member, kept and echoed (RFC 7591 §3.2.1: the server returns what it registered).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ClientMetadata {
    /// Parses a registration request body.
    pub fn parse(body: &[u8]) -> Result<Self, RegistrationError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            RegistrationError::metadata(format!("the body is not a JSON object: {e} ({})", spec::RFC7591_3_1))
        })?;
        if !value.is_object() {
            return Err(RegistrationError::metadata(format!(
                "the body must be a JSON object of client metadata ({})",
                spec::RFC7591_3_1
            )));
        }
        serde_json::from_value(value).map_err(|e| {
            RegistrationError::metadata(format!("client metadata has a wrong type: {e} ({})", spec::RFC7591_2))
        })
    }

    /// Checks the metadata for `registrar`, sizes first (see [`super::MAX_LIST_MEMBERS`] and the
    /// other limits), and fills in its defaults (RFC 7591 §2, §3.2.2).
    pub fn validate(mut self, registrar: Registrar) -> Result<Self, RegistrationError> {
        self.check_limits()?;
        let supported: &[&str] = match registrar {
            // jwt-bearer and token exchange are both accepted at both servers: draft-04 §8 makes a
            // client declaring the ID-JAG profile list both, wherever it registers.
            Registrar::IdentityProvider => &[
                urn::GRANT_AUTHORIZATION_CODE,
                urn::GRANT_REFRESH_TOKEN,
                urn::GRANT_TOKEN_EXCHANGE,
                urn::GRANT_JWT_BEARER,
            ],
            Registrar::ResourceAuthorizationServer => &[urn::GRANT_JWT_BEARER, urn::GRANT_TOKEN_EXCHANGE],
        };
        if self.grant_types.is_empty() {
            self.grant_types = vec![match registrar {
                Registrar::IdentityProvider => urn::GRANT_AUTHORIZATION_CODE.to_owned(),
                Registrar::ResourceAuthorizationServer => urn::GRANT_JWT_BEARER.to_owned(),
            }];
        }
        if let Some(g) = self.grant_types.iter().find(|g| !supported.contains(&g.as_str())) {
            return Err(RegistrationError::metadata(format!(
                "grant type \"{g}\" is not supported here (supported: {}) ({})",
                supported.join(", "),
                spec::RFC7591_2
            )));
        }
        let has = |g: &str| self.grant_types.iter().any(|x| x == g);
        if self.authorization_grant_profiles_supported.iter().any(|p| p == urn::GRANT_PROFILE_ID_JAG)
            && !(has(urn::GRANT_TOKEN_EXCHANGE) && has(urn::GRANT_JWT_BEARER))
        {
            return Err(RegistrationError::metadata(format!(
                "a client supporting \"{}\" must list both \"{}\" and \"{}\" in grant_types ({})",
                urn::GRANT_PROFILE_ID_JAG,
                urn::GRANT_TOKEN_EXCHANGE,
                urn::GRANT_JWT_BEARER,
                spec::IDJAG_8
            )));
        }
        let code = has(urn::GRANT_AUTHORIZATION_CODE);
        if self.response_types.is_empty() && code {
            self.response_types = vec!["code".into()];
        }
        match (code, self.response_types.as_slice()) {
            (true, [one]) if one == "code" => {}
            (false, []) => {}
            _ => {
                return Err(RegistrationError::metadata(format!(
                    "response_types must be [\"code\"] with the authorization_code grant and empty without it ({})",
                    spec::RFC7591_2_1
                )));
            }
        }
        match self.token_endpoint_auth_method.as_deref() {
            None => self.token_endpoint_auth_method = Some("client_secret_basic".into()),
            Some("client_secret_basic" | "client_secret_post") => {}
            Some(other) => {
                return Err(RegistrationError::metadata(format!(
                    "token_endpoint_auth_method \"{other}\" is not supported: use client_secret_basic or client_secret_post (XAA clients are confidential here: {})",
                    Citation::of(&[spec::LAB_A18, spec::IDJAG_9_1])
                )));
            }
        }
        if code && self.redirect_uris.is_empty() {
            return Err(RegistrationError::redirect(format!(
                "redirect_uris is required for the authorization_code grant ({})",
                spec::RFC7591_2
            )));
        }
        for uri in self.redirect_uris.iter().chain(&self.post_logout_redirect_uris) {
            check_redirect_uri(uri)?;
        }
        let name = self.client_name.as_deref().map(str::trim).unwrap_or("");
        self.client_name = Some(if name.is_empty() { "Unnamed client".into() } else { name.to_owned() });
        Ok(self)
    }
}

/// An absolute `http` or `https` URI without a fragment (RFC 6749 §3.1.2), written with an
/// authority that names a host and carries no userinfo (RFC 3986 §3.2, §3.2.1).
///
/// The URI is judged as written, not as parsed: a WHATWG parser (the `url` crate, browsers) reads
/// `http:evil.example/cb` as `http://evil.example/cb` and drops or keeps `user:pw@` silently, so a
/// registration that looks odd here still sends the browser to a host. RFC 8252 §7.3 and §8.3 and
/// the OAuth Security BCP (RFC 9700 §4.1) expect exact, ordinary redirect URIs: `scheme://host…`.
pub fn check_redirect_uri(uri: &str) -> Result<(), RegistrationError> {
    check_redirect_uri_characters(uri)?;
    let parsed = url::Url::parse(uri)
        .map_err(|e| RegistrationError::redirect(format!("redirect URI \"{uri}\" is not an absolute URI: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(RegistrationError::redirect(format!(
            "redirect URI \"{uri}\" must use http or https ({})",
            spec::RFC6749_3_1_2
        )));
    }
    // The scheme parsed as http or https, so the URI starts with it and a colon (ASCII).
    let Some(rest) = uri[parsed.scheme().len() + 1..].strip_prefix("//") else {
        return Err(RegistrationError::redirect(format!(
            "redirect URI \"{uri}\" has no authority: write \"//\" and the host after \"{}:\" ({})",
            parsed.scheme(),
            spec::RFC3986_3_2
        )));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(RegistrationError::redirect(format!(
            "redirect URI \"{uri}\" must not carry userinfo (a user name or password before \"@\") ({})",
            spec::RFC3986_3_2_1
        )));
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err(RegistrationError::redirect(format!(
            "redirect URI \"{uri}\" has no host after \"//\" ({})",
            spec::RFC3986_3_2
        )));
    }
    if parsed.fragment().is_some() {
        return Err(RegistrationError::redirect(format!(
            "redirect URI \"{uri}\" must not contain a fragment ({})",
            spec::RFC6749_3_1_2
        )));
    }
    Ok(())
}

/// No control character (C0, DEL, C1) and no whitespace: the URI must fit in a `Location` header
/// as registered (see [`crate::redirect`]). Checked before parsing, which would silently drop a
/// tab or line break and accept a URI the redirect could never send.
fn check_redirect_uri_characters(uri: &str) -> Result<(), RegistrationError> {
    match crate::redirect::unsafe_char(uri) {
        None => Ok(()),
        Some(c) => Err(RegistrationError::redirect(format!(
            "redirect URI \"{uri}\" contains {}: a redirect URI has no control characters or whitespace ({}, Appendix C)",
            crate::redirect::describe_unsafe_char(c),
            spec::RFC3986_2
        ))),
    }
}

/// `unauthorized_client` when a client registered for `registered` grant types (RFC 7591 §2)
/// uses another one; an empty list allows every grant the server supports.
pub fn check_registered_grant(
    client_id: &str,
    registered: &[String],
    grant_type: &str,
) -> Result<(), super::OAuthError> {
    if registered.is_empty() || registered.iter().any(|g| g == grant_type) {
        return Ok(());
    }
    Err(super::OAuthError::new(
        super::ErrorCode::UnauthorizedClient,
        format!(
            "client \"{client_id}\" registered the grant types {} and may not use \"{grant_type}\" ({})",
            registered.join(", "),
            Citation::of(&[spec::RFC6749_5_2, spec::RFC7591_2])
        ),
    ))
}

/// The RFC 7591 §3.2.1 response: the registered metadata plus the credentials.
pub fn registration_response(
    metadata: &ClientMetadata,
    client_id: &str,
    client_secret: &str,
    issued_at: i64,
) -> Map<String, Value> {
    let mut out = match serde_json::to_value(metadata) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    out.insert("client_id".into(), client_id.into());
    out.insert("client_secret".into(), client_secret.into());
    out.insert("client_id_issued_at".into(), issued_at.into());
    out.insert("client_secret_expires_at".into(), 0.into());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(v: Value) -> Result<ClientMetadata, RegistrationError> {
        ClientMetadata::parse(v.to_string().as_bytes())?.validate(Registrar::IdentityProvider)
    }

    #[test]
    fn defaults_and_refusals() {
        let m = meta(serde_json::json!({"redirect_uris": ["http://localhost:3000/cb"], "x": 1})).unwrap();
        assert_eq!(m.grant_types, vec!["authorization_code"]);
        assert_eq!(m.response_types, vec!["code"]);
        assert_eq!(m.token_endpoint_auth_method.as_deref(), Some("client_secret_basic"));
        assert_eq!(m.other.get("x"), Some(&Value::from(1)));
        let e = |v| meta(v).unwrap_err().error;
        assert_eq!(e(serde_json::json!({})), "invalid_redirect_uri");
        assert_eq!(e(serde_json::json!({"redirect_uris": ["http://a/#f"]})), "invalid_redirect_uri");
        assert_eq!(
            e(serde_json::json!({"redirect_uris": ["http://a/"], "token_endpoint_auth_method": "none"})),
            "invalid_client_metadata"
        );
        assert_eq!(
            e(serde_json::json!({"redirect_uris": ["http://a/"], "grant_types": ["authorization_code"],
                "authorization_grant_profiles_supported": [urn::GRANT_PROFILE_ID_JAG]})),
            "invalid_client_metadata"
        );
        assert_eq!(e(serde_json::json!({"grant_types": ["password"]})), "invalid_client_metadata");
    }

    #[test]
    fn redirect_uris_with_control_characters_or_whitespace_are_refused() {
        for bad in [
            "http://a/cb\r\nX-Injected: 1",
            "http://a/c\tb",
            "http://a/c\0b",
            "http://a/c\u{7f}b",
            "http://a/c\u{9b}b",
            "http://a/a b",
            " http://a/cb",
            "http://a/\u{3000}",
        ] {
            let refused = meta(serde_json::json!({"redirect_uris": [bad]})).unwrap_err();
            assert_eq!(refused.error, "invalid_redirect_uri", "{bad:?}");
            let logout =
                meta(serde_json::json!({"redirect_uris": ["http://a/cb"], "post_logout_redirect_uris": [bad]}));
            assert_eq!(logout.unwrap_err().error, "invalid_redirect_uri", "{bad:?}");
        }
        let refused = meta(serde_json::json!({"redirect_uris": ["http://a/cb\r\nX: 1"]})).unwrap_err();
        assert_eq!(
            refused.error_description,
            "redirect URI 'http://a/cb??X: 1' contains the control character U+000D: a redirect URI has no control characters or whitespace (RFC 3986 Section 2, Appendix C)"
        );
        assert!(meta(serde_json::json!({"redirect_uris": ["http://a/caf%C3%A9?q=a%20b"]})).is_ok());
    }

    /// A redirect URI is `scheme://host…` as written: no missing authority (which a WHATWG parser
    /// would quietly read as one), no empty host, no userinfo; the wire bodies are exact.
    #[test]
    fn redirect_uris_without_an_authority_or_with_userinfo_are_refused() {
        let refusal = |uri: &str| {
            let e = meta(serde_json::json!({"redirect_uris": [uri]})).unwrap_err();
            serde_json::to_string(&e).unwrap()
        };
        insta::assert_snapshot!(refusal("http:evil.example/cb"), @r#"{"error":"invalid_redirect_uri","error_description":"redirect URI 'http:evil.example/cb' has no authority: write '//' and the host after 'http:' (RFC 3986 Section 3.2)"}"#);
        insta::assert_snapshot!(refusal("http://user:pw@localhost/cb"), @r#"{"error":"invalid_redirect_uri","error_description":"redirect URI 'http://user:pw@localhost/cb' must not carry userinfo (a user name or password before '@') (RFC 3986 Section 3.2.1)"}"#);
        insta::assert_snapshot!(refusal("https:///cb"), @r#"{"error":"invalid_redirect_uri","error_description":"redirect URI 'https:///cb' has no host after '//' (RFC 3986 Section 3.2)"}"#);
        for odd in [
            "HTTP:evil.example/cb",
            "http:/evil.example/cb",
            "https:\\\\evil.example/cb",
            "http://@localhost/cb",
            "http://a@b@localhost/",
        ] {
            assert!(refusal(odd).contains("invalid_redirect_uri"), "{odd}");
            let logout =
                meta(serde_json::json!({"redirect_uris": ["http://a/cb"], "post_logout_redirect_uris": [odd]}));
            assert_eq!(logout.unwrap_err().error, "invalid_redirect_uri", "{odd}");
        }
        for fine in [
            "http://localhost:3000/cb",
            "https://app.example/cb?x=a@b",
            "http://127.0.0.1:8080",
            "HTTPS://App.Example/cb",
        ] {
            assert!(meta(serde_json::json!({"redirect_uris": [fine]})).is_ok(), "{fine}");
        }
    }
}
