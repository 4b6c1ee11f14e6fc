//! The claim sets of the three JWTs of XAA, in the order they are serialized, and what each
//! claim means ([`explain`]).

mod explain;

pub use explain::{TokenKind, explain, numeric_date, shown_value};

use serde::{Deserialize, Serialize};

use crate::ids::{ClientId, Issuer, Jti, ResourceClientId, ResourceUri, Subject};

/// A claim that may be one value or an array of them (`aud`, `resource`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value, serialized as a JSON string.
    One(T),
    /// Several values, serialized as a JSON array.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// One value as a string, several as an array; `None` when empty.
    pub fn from_values(mut values: Vec<T>) -> Option<Self> {
        match values.len() {
            0 => None,
            1 => values.pop().map(OneOrMany::One),
            _ => Some(OneOrMany::Many(values)),
        }
    }

    /// The values, typed.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(v) => v,
        }
    }
}

impl<T: AsRef<str>> OneOrMany<T> {
    /// The values as text.
    pub fn values(&self) -> Vec<&str> {
        self.as_slice().iter().map(AsRef::as_ref).collect()
    }
}

/// OpenID Connect ID token claims (OIDC Core §2) as the lab's IdP issues them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer: the IdP's issuer identifier.
    pub iss: Issuer,
    /// Subject: the user's stable identifier at the IdP.
    pub sub: Subject,
    /// Audience: the client id of the relying party at the IdP (one audience: the lab's IdP
    /// never issues an ID token to several clients).
    pub aud: ClientId,
    /// Expiry (NumericDate).
    pub exp: i64,
    /// Issued at (NumericDate).
    pub iat: i64,
    /// When the user authenticated (NumericDate).
    pub auth_time: i64,
    /// The `nonce` of the authorization request, echoed only when one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The user's email address.
    pub email: String,
    /// Whether the IdP verified the email (the one-time code did).
    pub email_verified: bool,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The IdP tenant the user belongs to (OpenID Connect Enterprise Extensions; the lab's IdP is
    /// one multi-tenant issuer, so `iss` + `tenant` + `sub` identify the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// ID-JAG claims (draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdJagClaims {
    /// The IdP's issuer identifier.
    pub iss: Issuer,
    /// The subject the IdP would put in an ID token issued to the resource AS.
    pub sub: Subject,
    /// The resource AS's issuer identifier.
    pub aud: OneOrMany<Issuer>,
    /// The client's id **at the resource AS**.
    pub client_id: ResourceClientId,
    /// Unique token id: the resource AS accepts it once, unless the resource allows re-use until
    /// `exp` (lab decision A2).
    pub jti: Jti,
    /// Expiry (NumericDate).
    pub exp: i64,
    /// Issued at (NumericDate).
    pub iat: i64,
    /// Not before (NumericDate), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// RFC 8707 resource indicator(s) of the protected resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany<ResourceUri>>,
    /// Granted scopes at the resource, space-delimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the user authenticated at the IdP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The user's email, for subject resolution at the resource AS (RECOMMENDED, §3.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The IdP tenant of the subject (§3.1, §6.1): a multi-tenant issuer's `sub` is unique only
    /// within its tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// RFC 9493 subject identifier of a SAML-derived grant: format `saml-nameid` with `issuer`,
    /// `nameid` and optionally `nameid_format` (draft-04 §3.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_id: Option<serde_json::Value>,
}

/// RFC 9068 JWT access token claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The resource AS's issuer identifier.
    pub iss: Issuer,
    /// The user, as resolved by the resource AS.
    pub sub: Subject,
    /// The resource server's identifier (the one resource the token is for).
    pub aud: ResourceUri,
    /// The client's id at the resource AS.
    pub client_id: ResourceClientId,
    /// Granted scopes, space-delimited.
    pub scope: String,
    /// Unique token id.
    pub jti: Jti,
    /// Issued at (NumericDate).
    pub iat: i64,
    /// Expiry (NumericDate).
    pub exp: i64,
    /// When the user authenticated at the IdP, carried from the ID-JAG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The user's email, carried from the ID-JAG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The IdP tenant (organisation) the user belongs to, as xaa.dev's AS names it; `sub` is
    /// `{app_org}:{user}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_org: Option<String>,
    /// The key the token is bound to (RFC 9449 §6.1): only a request with a DPoP proof of that
    /// key may present it; absent on a Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// A token's confirmation claim `cnf` (RFC 7800 §3.1) with the one method the lab binds tokens
/// with: `jkt`, the RFC 7638 SHA-256 thumbprint of a DPoP key (RFC 9449 §6.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The thumbprint of the key, base64url without padding.
    pub jkt: String,
}
