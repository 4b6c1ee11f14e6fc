//! The four token requests of the XAA flow, typed: each is read from a token request's form on
//! the server side ([`from_form`](TokenExchangeRequest::from_form), with the exact RFC 6749 §5.2
//! refusals) and written as one on the client side ([`GrantRequest::to_form`]), so no client
//! builds a `grant_type=…` form by hand and no server reads a parameter by name twice.
//!
//! | request | grant | spec |
//! | --- | --- | --- |
//! | [`AuthorizationCodeRequest`] | `authorization_code` | RFC 6749 §4.1.3, RFC 7636 §4.5 |
//! | [`RefreshTokenRequest`] | `refresh_token` | RFC 6749 §6 |
//! | [`TokenExchangeRequest`] | `urn:ietf:params:oauth:grant-type:token-exchange` for an ID-JAG | RFC 8693 §2.1, draft-04 §4.3 |
//! | [`JwtBearerRequest`] | `urn:ietf:params:oauth:grant-type:jwt-bearer` | RFC 7523 §2.1, draft-04 §4.4 |
//!
//! Client authentication is not part of them: the client adds it
//! ([`GrantRequest::to_form_posting`], or an `Authorization: Basic` header), the server reads it
//! with [`PresentedClient`](super::PresentedClient).

use super::{FormParams, OAuthError};
use crate::ids::{Issuer, ResourceUri};
use crate::spec::{self, Citation};
use crate::urn;

/// What the refusal of another `requested_token_type` cites: an IdP that issues only ID-JAGs is
/// lab decision A17 (-04 §4.5 defines another requested type).
const EXCHANGE: Citation = Citation::of(&[spec::LAB_A17, spec::IDJAG_4_3]);

/// A token request of one grant type, as a client sends it.
pub trait GrantRequest {
    /// Its `grant_type`.
    const GRANT_TYPE: &'static str;

    /// Its parameters after `grant_type`, in the order a reader expects them.
    fn parameters(&self) -> Vec<(&'static str, String)>;

    /// The form to post (RFC 6749 §3.2, `application/x-www-form-urlencoded`), `grant_type` first;
    /// client authentication is the caller's to add.
    fn to_form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("grant_type", Self::GRANT_TYPE.to_owned())];
        form.extend(self.parameters());
        form
    }

    /// [`to_form`](Self::to_form) with `client_secret_post` client authentication (RFC 6749
    /// §2.3.1): `client_id` and `client_secret` last.
    fn to_form_posting(&self, client_id: &str, client_secret: &str) -> Vec<(&'static str, String)> {
        let mut form = self.to_form();
        form.push(("client_id", client_id.to_owned()));
        form.push(("client_secret", client_secret.to_owned()));
        form
    }
}

/// The `authorization_code` grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCodeRequest {
    /// `code`: the authorization code.
    pub code: String,
    /// `redirect_uri`: the one of the authorization request.
    pub redirect_uri: String,
    /// `code_verifier`: the PKCE verifier.
    pub code_verifier: String,
}

impl AuthorizationCodeRequest {
    /// Reads the request; PKCE is required.
    pub fn from_form(params: &FormParams) -> Result<Self, OAuthError> {
        let code = params.required("code")?.to_owned();
        let redirect_uri = params.required("redirect_uri")?.to_owned();
        let code_verifier = params.required("code_verifier").map_err(|_| {
            OAuthError::invalid_request(format!(
                "missing required parameter `code_verifier` (PKCE is required, {})",
                spec::RFC7636_4_5
            ))
        })?;
        Ok(Self { code, redirect_uri, code_verifier: code_verifier.to_owned() })
    }
}

impl GrantRequest for AuthorizationCodeRequest {
    const GRANT_TYPE: &'static str = urn::GRANT_AUTHORIZATION_CODE;

    fn parameters(&self) -> Vec<(&'static str, String)> {
        vec![
            ("code", self.code.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", self.code_verifier.clone()),
        ]
    }
}

/// The `refresh_token` grant (RFC 6749 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRequest {
    /// `refresh_token`.
    pub refresh_token: String,
    /// `scope`: at most the original grant's.
    pub scope: Option<String>,
}

impl RefreshTokenRequest {
    /// Reads the request.
    pub fn from_form(params: &FormParams) -> Result<Self, OAuthError> {
        let refresh_token = params.required("refresh_token")?.to_owned();
        Ok(Self { refresh_token, scope: params.single("scope")?.map(str::to_owned) })
    }
}

impl GrantRequest for RefreshTokenRequest {
    const GRANT_TYPE: &'static str = urn::GRANT_REFRESH_TOKEN;

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("refresh_token", self.refresh_token.clone())];
        form.extend(self.scope.clone().map(|s| ("scope", s)));
        form
    }
}

/// The subject tokens the IdP exchanges for an ID-JAG (draft-04 §4.3: an ID token, a SAML 2.0
/// assertion, or the IdP's own refresh token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectTokenType {
    /// `urn:ietf:params:oauth:token-type:id_token`.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:saml2`.
    Saml2,
    /// `urn:ietf:params:oauth:token-type:refresh_token`.
    RefreshToken,
}

impl SubjectTokenType {
    /// Its token-type URN (RFC 8693 §3).
    pub fn urn(self) -> &'static str {
        match self {
            SubjectTokenType::IdToken => urn::TOKEN_TYPE_ID_TOKEN,
            SubjectTokenType::Saml2 => urn::TOKEN_TYPE_SAML2,
            SubjectTokenType::RefreshToken => urn::TOKEN_TYPE_REFRESH_TOKEN,
        }
    }

    /// The type a URN names, if it is one of these.
    pub fn from_urn(urn: &str) -> Option<Self> {
        [SubjectTokenType::IdToken, SubjectTokenType::Saml2, SubjectTokenType::RefreshToken]
            .into_iter()
            .find(|t| t.urn() == urn)
    }
}

/// An RFC 8693 token exchange for an ID-JAG (draft-04 §4.3): `requested_token_type` is always
/// `urn:ietf:params:oauth:token-type:id-jag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenExchangeRequest {
    /// `subject_token`: the user's token.
    pub subject_token: String,
    /// `subject_token_type`.
    pub subject_token_type: SubjectTokenType,
    /// `audience`: the resource authorization server's issuer. The wire allows it to repeat; the
    /// IdP refuses anything but exactly one, after validating the subject token.
    pub audience: Vec<Issuer>,
    /// `resource`: RFC 8707 resource indicators (may repeat).
    pub resource: Vec<ResourceUri>,
    /// `scope`.
    pub scope: Option<String>,
}

impl TokenExchangeRequest {
    /// A request for an ID-JAG for one authorization server (its issuer, the `audience`), resource
    /// and scope.
    pub fn for_id_jag(
        subject_token: impl Into<String>,
        subject_token_type: SubjectTokenType,
        audience: Issuer,
        resource: ResourceUri,
        scope: impl Into<String>,
    ) -> Self {
        Self {
            subject_token: subject_token.into(),
            subject_token_type,
            audience: vec![audience],
            resource: vec![resource],
            scope: Some(scope.into()),
        }
    }

    /// Reads the request, refusing what this IdP cannot exchange: another `requested_token_type`,
    /// another `subject_token_type`, an actor token (lab decision A11).
    pub fn from_form(params: &FormParams) -> Result<Self, OAuthError> {
        match params.single("requested_token_type")? {
            Some(urn::TOKEN_TYPE_ID_JAG) => {}
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "requested_token_type \"{other}\" is not supported; this IdP issues \"{}\" ({EXCHANGE})",
                    urn::TOKEN_TYPE_ID_JAG
                )));
            }
            None => {
                return Err(OAuthError::invalid_request(format!(
                    "missing required parameter `requested_token_type` (must be \"{}\", {})",
                    urn::TOKEN_TYPE_ID_JAG,
                    spec::IDJAG_4_3
                )));
            }
        }
        let subject_token = params.required("subject_token")?.to_owned();
        let type_urn = params.required("subject_token_type")?;
        let subject_token_type = SubjectTokenType::from_urn(type_urn).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "subject_token_type \"{type_urn}\" is not supported; this IdP accepts \"{}\", \"{}\" or \"{}\" ({})",
                urn::TOKEN_TYPE_ID_TOKEN,
                urn::TOKEN_TYPE_SAML2,
                urn::TOKEN_TYPE_REFRESH_TOKEN,
                spec::RFC8693_2_2_2
            ))
        })?;
        if params.single("actor_token")?.is_some() || params.single("actor_token_type")?.is_some() {
            return Err(OAuthError::invalid_request(
                "actor_token is not supported: -04 defines no processing for it (lab decision A11)",
            ));
        }
        Ok(Self {
            subject_token,
            subject_token_type,
            audience: params.values("audience").map(Issuer::new).collect(),
            resource: params.values("resource").map(ResourceUri::new).collect(),
            scope: params.single("scope")?.map(str::to_owned),
        })
    }
}

impl GrantRequest for TokenExchangeRequest {
    const GRANT_TYPE: &'static str = urn::GRANT_TOKEN_EXCHANGE;

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("requested_token_type", urn::TOKEN_TYPE_ID_JAG.to_owned())];
        form.extend(self.audience.iter().map(|a| ("audience", a.to_string())));
        form.extend(self.resource.iter().map(|r| ("resource", r.to_string())));
        form.extend(self.scope.clone().map(|s| ("scope", s)));
        form.push(("subject_token", self.subject_token.clone()));
        form.push(("subject_token_type", self.subject_token_type.urn().to_owned()));
        form
    }
}

/// The RFC 7523 jwt-bearer grant presenting an ID-JAG (draft-04 §4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtBearerRequest {
    /// `assertion`: the ID-JAG.
    pub assertion: String,
    /// `resource`: the one resource the access token is for, when the ID-JAG names several.
    pub resource: Option<ResourceUri>,
    /// `scope`: at most the ID-JAG's.
    pub scope: Option<String>,
}

impl JwtBearerRequest {
    /// A request presenting `assertion` as it is.
    pub fn new(assertion: impl Into<String>) -> Self {
        Self { assertion: assertion.into(), resource: None, scope: None }
    }

    /// Reads the request.
    pub fn from_form(params: &FormParams) -> Result<Self, OAuthError> {
        let assertion = params.required("assertion")?.to_owned();
        Ok(Self {
            assertion,
            resource: params.single("resource")?.map(ResourceUri::new),
            scope: params.single("scope")?.map(str::to_owned),
        })
    }
}

impl GrantRequest for JwtBearerRequest {
    const GRANT_TYPE: &'static str = urn::GRANT_JWT_BEARER;

    fn parameters(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("assertion", self.assertion.clone())];
        form.extend(self.resource.clone().map(|r| ("resource", r.into_string())));
        form.extend(self.scope.clone().map(|s| ("scope", s)));
        form
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_body(form: &[(&'static str, String)]) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish().into_bytes()
    }

    fn refusal(body: &str, read: fn(&FormParams) -> Result<(), OAuthError>) -> String {
        let e = read(&FormParams::parse(body.as_bytes())).unwrap_err();
        format!("{} {}: {}", e.status, e.code.as_str(), e.description)
    }

    #[test]
    fn every_request_reads_back_what_it_writes() {
        let exchange = TokenExchangeRequest::for_id_jag(
            "eyJ.a.b",
            SubjectTokenType::Saml2,
            Issuer::new("http://as"),
            ResourceUri::new("http://api"),
            "todos.read",
        );
        let form = exchange.to_form();
        assert_eq!(form[0], ("grant_type", urn::GRANT_TOKEN_EXCHANGE.to_owned()));
        assert_eq!(form[1], ("requested_token_type", urn::TOKEN_TYPE_ID_JAG.to_owned()));
        assert_eq!(TokenExchangeRequest::from_form(&FormParams::parse(&form_body(&form))).unwrap(), exchange);

        let bearer = JwtBearerRequest {
            assertion: "eyJ.c.d".into(),
            resource: Some(ResourceUri::new("http://api")),
            scope: None,
        };
        let form = bearer.to_form();
        assert_eq!(form[0].1, urn::GRANT_JWT_BEARER);
        assert_eq!(JwtBearerRequest::from_form(&FormParams::parse(&form_body(&form))).unwrap(), bearer);

        let code =
            AuthorizationCodeRequest { code: "c".into(), redirect_uri: "http://cb".into(), code_verifier: "v".into() };
        assert_eq!(AuthorizationCodeRequest::from_form(&FormParams::parse(&form_body(&code.to_form()))).unwrap(), code);

        let refresh = RefreshTokenRequest { refresh_token: "r".into(), scope: Some("openid".into()) };
        assert_eq!(
            RefreshTokenRequest::from_form(&FormParams::parse(&form_body(&refresh.to_form()))).unwrap(),
            refresh
        );
        let posted = refresh.to_form_posting("id", "s");
        assert_eq!(posted[posted.len() - 2..], [("client_id", "id".to_owned()), ("client_secret", "s".to_owned())]);
    }

    #[test]
    fn token_exchange_refusals_are_exact() {
        let read = |p: &FormParams| TokenExchangeRequest::from_form(p).map(drop);
        let cases = [
            (
                "subject_token=x",
                "400 invalid_request: missing required parameter `requested_token_type` (must be 'urn:ietf:params:oauth:token-type:id-jag', draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3)",
            ),
            (
                "requested_token_type=urn:ietf:params:oauth:token-type:access_token",
                "400 invalid_request: requested_token_type 'urn:ietf:params:oauth:token-type:access_token' is not supported; this IdP issues 'urn:ietf:params:oauth:token-type:id-jag' (lab decision A17, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3)",
            ),
            (
                "requested_token_type=urn:ietf:params:oauth:token-type:id-jag",
                "400 invalid_request: missing required parameter `subject_token`",
            ),
            (
                "requested_token_type=urn:ietf:params:oauth:token-type:id-jag&subject_token=x&subject_token_type=urn:ietf:params:oauth:token-type:jwt",
                "400 invalid_request: subject_token_type 'urn:ietf:params:oauth:token-type:jwt' is not supported; this IdP accepts 'urn:ietf:params:oauth:token-type:id_token', 'urn:ietf:params:oauth:token-type:saml2' or 'urn:ietf:params:oauth:token-type:refresh_token' (RFC 8693 Section 2.2.2)",
            ),
            (
                "requested_token_type=urn:ietf:params:oauth:token-type:id-jag&subject_token=x&subject_token_type=urn:ietf:params:oauth:token-type:id_token&actor_token=y",
                "400 invalid_request: actor_token is not supported: -04 defines no processing for it (lab decision A11)",
            ),
            (
                "requested_token_type=urn:ietf:params:oauth:token-type:id-jag&subject_token=x&subject_token_type=urn:ietf:params:oauth:token-type:id_token&scope=a&scope=b",
                "400 invalid_request: parameter `scope` is repeated; request parameters must not be included more than once (RFC 6749 Section 3.2)",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(refusal(body, read), expected, "{body}");
        }
    }

    #[test]
    fn the_other_grants_refuse_missing_and_repeated_parameters() {
        let code = |p: &FormParams| AuthorizationCodeRequest::from_form(p).map(drop);
        assert_eq!(
            refusal("code=c&redirect_uri=x", code),
            "400 invalid_request: missing required parameter `code_verifier` (PKCE is required, RFC 7636 Section 4.5)"
        );
        assert_eq!(refusal("redirect_uri=x", code), "400 invalid_request: missing required parameter `code`");
        let bearer = |p: &FormParams| JwtBearerRequest::from_form(p).map(drop);
        assert_eq!(refusal("scope=a", bearer), "400 invalid_request: missing required parameter `assertion`");
        assert_eq!(
            refusal("assertion=a&resource=r&resource=s", bearer),
            "400 invalid_request: parameter `resource` is repeated; request parameters must not be included more than once (RFC 6749 Section 3.2)"
        );
        let refresh = |p: &FormParams| RefreshTokenRequest::from_form(p).map(drop);
        assert_eq!(refusal("scope=a", refresh), "400 invalid_request: missing required parameter `refresh_token`");
    }
}
