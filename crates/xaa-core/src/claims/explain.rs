//! One line on what each claim means, with the section that defines it, per kind of token:
//! what the console shows next to every decoded claim.

use serde::Serialize;

/// The kinds of JWT in an XAA flow, told apart by `typ` and issuer (RFC 8725 §3.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// An OpenID Connect ID token from the IdP.
    IdToken,
    /// An Identity Assertion JWT Authorization Grant from the IdP.
    IdJag,
    /// An RFC 9068 access token from the resource authorization server.
    AccessToken,
    /// Anything else.
    Other,
}

impl TokenKind {
    /// A human name.
    pub fn label(self) -> &'static str {
        match self {
            TokenKind::IdToken => "ID token",
            TokenKind::IdJag => "ID-JAG (Identity Assertion JWT Authorization Grant)",
            TokenKind::AccessToken => "Access token (RFC 9068)",
            TokenKind::Other => "Other JWT",
        }
    }
}

/// What claim `name` means in a token of `kind`, and where that is defined.
pub fn explain(kind: TokenKind, name: &str) -> (&'static str, &'static str) {
    use TokenKind::*;
    const JAG: &str = "draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1";
    match (kind, name) {
        (IdJag, "iss") => ("The IdP that issued the ID-JAG; the resource AS must trust it.", JAG),
        (AccessToken, "iss") => ("The resource authorization server that issued the token.", "RFC 9068 §2.2"),
        (_, "iss") => ("Issuer: who signed this token.", "RFC 7519 §4.1.1"),
        (IdJag, "sub") => ("The user, as the IdP would name them to the resource AS.", JAG),
        (AccessToken, "sub") => ("The user, as the resource authorization server resolved them.", "RFC 9068 §2.2"),
        (_, "sub") => ("Subject: the user this token is about.", "OIDC Core §2"),
        (IdJag, "aud") => ("The resource AS's issuer identifier: the only server that may accept it.", JAG),
        (AccessToken, "aud") => ("The resource server (todo API) the token is for.", "RFC 9068 §2.2"),
        (IdToken, "aud") => {
            ("The client the ID token was issued to; the IdP exchanges it only for that client.", "OIDC Core §2")
        }
        (_, "aud") => ("Audience: who must accept this token.", "RFC 7519 §4.1.3"),
        (IdJag, "client_id") => {
            ("The requesting app's client id at the resource AS; it must authenticate as this client.", JAG)
        }
        (_, "client_id") => ("The client the token was issued to.", "RFC 9068 §2.2, RFC 8693 §4.3"),
        (_, "exp") => ("Expiry time (seconds since 1970); refused after this, with a small leeway.", "RFC 7519 §4.1.4"),
        (_, "iat") => ("When it was issued.", "RFC 7519 §4.1.6"),
        (_, "nbf") => ("Not valid before this time.", "RFC 7519 §4.1.5"),
        (IdJag, "jti") => ("Unique id; the resource AS accepts each ID-JAG once.", "RFC 7519 §4.1.7, RFC 7523 §3"),
        (_, "jti") => ("Unique token id.", "RFC 7519 §4.1.7"),
        (IdJag, "scope") => ("The scopes the IdP granted at the resource, space-separated.", JAG),
        (_, "scope") => ("Granted scopes, space-separated.", "RFC 9068 §2.2.3"),
        (IdJag, "resource") => {
            ("The protected resource (todo API) the grant is for; becomes the access token's aud.", JAG)
        }
        (_, "resource") => ("Resource indicator.", "RFC 8707 §2"),
        (_, "cnf") => (
            "Confirmation: the key the token is bound to (DPoP: jkt, its thumbprint); only a proof of that key may present it.",
            "RFC 7800 §3.1, RFC 9449 §6",
        ),
        (_, "auth_time") => ("When the user actually authenticated at the IdP.", "OIDC Core §2"),
        (_, "nonce") => ("Echo of the client's nonce, binding the ID token to its sign-in request.", "OIDC Core §2"),
        (_, "email") => ("The user's email address.", "OIDC Core §5.1"),
        (_, "email_verified") => ("Whether the IdP verified the email (the one-time code did).", "OIDC Core §5.1"),
        (_, "name") => ("The user's display name.", "OIDC Core §5.1"),
        (AccessToken, "app_org") => (
            "The user's IdP tenant (organisation); sub is {app_org}:{user}, so tenants never share data.",
            "xaa.dev access token",
        ),
        (_, "tenant") => (
            "The IdP tenant the user belongs to: iss + tenant + sub identify them at a multi-tenant IdP.",
            "draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1, §6.1",
        ),
        (_, "azp") => ("Authorized party: the client the token was issued to.", "OIDC Core §2"),
        _ => ("A claim the lab does not define.", "RFC 7519 §4.2"),
    }
}
