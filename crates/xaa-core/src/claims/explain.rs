//! One line on what each claim means, with the section that defines it, per kind of token:
//! what the console shows next to every decoded claim.

use serde::Serialize;

use crate::spec::*;

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
pub fn explain(kind: TokenKind, name: &str) -> (&'static str, Citation) {
    use TokenKind::*;
    const JAG: Citation = Citation::of(&[IDJAG_3_1]);
    let c = Citation::from;
    match (kind, name) {
        (IdJag, "iss") => ("The IdP that issued the ID-JAG; the resource AS must trust it.", JAG),
        (AccessToken, "iss") => ("The resource authorization server that issued the token.", c(&RFC9068_2_2)),
        (_, "iss") => ("Issuer: who signed this token.", c(&RFC7519_4_1_1)),
        (IdJag, "sub") => ("The user, as the IdP would name them to the resource AS.", JAG),
        (AccessToken, "sub") => ("The user, as the resource authorization server resolved them.", c(&RFC9068_2_2)),
        (_, "sub") => ("Subject: the user this token is about.", c(&OIDC_2)),
        (IdJag, "aud") => ("The resource AS's issuer identifier: the only server that may accept it.", JAG),
        (AccessToken, "aud") => ("The resource server (todo API) the token is for.", c(&RFC9068_2_2)),
        (IdToken, "aud") => (
            "The client the ID token was issued to; the IdP exchanges it only for that client.",
            Citation::of(&[OIDC_2, IDJAG_4_3_3]),
        ),
        (_, "aud") => ("Audience: who must accept this token.", c(&RFC7519_4_1_3)),
        (IdJag, "client_id") => {
            ("The requesting app's client id at the resource AS; it must authenticate as this client.", JAG)
        }
        (_, "client_id") => ("The client the token was issued to.", Citation::of(&[RFC9068_2_2, RFC8693_4_3])),
        (_, "exp") => ("Expiry time (seconds since 1970); refused after this, with a small leeway.", c(&RFC7519_4_1_4)),
        (_, "iat") => ("When it was issued.", c(&RFC7519_4_1_6)),
        (_, "nbf") => ("Not valid before this time.", c(&RFC7519_4_1_5)),
        (IdJag, "jti") => (
            "Unique id; the resource AS refuses it a second time, unless the resource allows re-use until exp.",
            Citation::of(&[LAB_A2, RFC7519_4_1_7, RFC7523_3_ITEM_7]),
        ),
        (_, "jti") => ("Unique token id.", c(&RFC7519_4_1_7)),
        (IdJag, "scope") => ("The scopes the IdP granted at the resource, space-separated.", JAG),
        (_, "scope") => ("Granted scopes, space-separated.", c(&RFC9068_2_2_3)),
        (IdJag, "resource") => {
            ("The protected resource (todo API) the grant is for; becomes the access token's aud.", JAG)
        }
        (_, "resource") => ("Resource indicator.", c(&RFC8707_2)),
        (_, "cnf") => (
            "Confirmation: the key the token is bound to (DPoP: jkt, its thumbprint); only a proof of that key may present it.",
            Citation::of(&[RFC7800_3_1, RFC9449_6]),
        ),
        (_, "auth_time") => ("When the user actually authenticated at the IdP.", c(&OIDC_2)),
        (_, "nonce") => ("Echo of the client's nonce, binding the ID token to its sign-in request.", c(&OIDC_2)),
        (_, "email") => ("The user's email address.", c(&OIDC_5_1)),
        (_, "email_verified") => ("Whether the IdP verified the email (the one-time code did).", c(&OIDC_5_1)),
        (_, "name") => ("The user's display name.", c(&OIDC_5_1)),
        (AccessToken, "app_org") => {
            ("The user's IdP tenant (organisation); sub is {app_org}:{user}, so tenants never share data.", c(&LAB_A20))
        }
        (_, "tenant") => (
            "The IdP tenant the user belongs to: iss + tenant + sub identify them at a multi-tenant IdP.",
            Citation::of(&[IDJAG_3_1, IDJAG_6_1]),
        ),
        (_, "azp") => ("Authorized party: the client the token was issued to.", c(&OIDC_2)),
        _ => ("A claim the lab does not define.", c(&RFC7519_4_2)),
    }
}
