//! One line on what each claim means, with the section that defines it, per kind of token:
//! what the console shows next to every decoded claim.

use serde::Serialize;
use serde_json::Value;

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

/// A NumericDate (RFC 7519 §2: seconds since 1970) as `YYYY-MM-DD HH:MM:SS UTC` (civil from days,
/// proleptic Gregorian).
pub fn numeric_date(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// A claim's value as a page shows it: its JSON, and after a NumericDate (`exp`, `iat`, `nbf`,
/// `auth_time`) the date it stands for.
pub fn shown_value(name: &str, value: &Value) -> String {
    match (name, value.as_i64()) {
        ("exp" | "iat" | "nbf" | "auth_time", Some(t)) => format!("{t} ({})", numeric_date(t)),
        _ => value.to_string(),
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
        (AccessToken, "aud") => (
            "The resource the token is for (the resource indicator asked for); any other resource refuses it.",
            c(&RFC9068_2_2),
        ),
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
        (IdJag, "resource") => ("The protected resource the grant is for; becomes the access token's aud.", JAG),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_numeric_date_is_shown_with_its_date() {
        assert_eq!(numeric_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(numeric_date(1_798_761_599), "2026-12-31 23:59:59 UTC");
        assert_eq!(numeric_date(951_782_400), "2000-02-29 00:00:00 UTC", "a leap day");
        assert_eq!(shown_value("exp", &json!(1_798_761_599)), "1798761599 (2026-12-31 23:59:59 UTC)");
        assert_eq!(shown_value("iat", &json!(0)), "0 (1970-01-01 00:00:00 UTC)");
        assert_eq!(shown_value("exp", &json!("soon")), "\"soon\"", "not a NumericDate: as sent");
        assert_eq!(shown_value("jti", &json!(7)), "7");
    }
}
