//! The todo API's validation of an RFC 9068 access token (RFC 9068 §4).

use serde_json::Value;

use super::checks::{self, CheckLog, Rejection};
use crate::claims::AccessTokenClaims;
use crate::jose::KeySet;
use crate::urn::TYP_ACCESS_TOKEN;

const WHAT: &str = "the access token";
const SEC: &str = "RFC 9068 §4";

/// What the resource server expects of an access token.
#[derive(Clone, Copy, Debug)]
pub struct AccessTokenExpectations<'a> {
    /// The authorization server's issuer identifier.
    pub issuer: &'a str,
    /// The resource server's own identifier.
    pub audience: &'a str,
    /// Current time (NumericDate).
    pub now: i64,
    /// Clock-skew leeway in seconds.
    pub leeway: i64,
}

/// Validates `raw` against the authorization server's `keys`.
pub fn validate_access_token(
    raw: &str,
    expect: AccessTokenExpectations<'_>,
    keys: &KeySet,
    log: &mut CheckLog,
) -> Result<AccessTokenClaims, Rejection> {
    let jwt = checks::parse(raw, WHAT, log)?;
    checks::algorithm(&jwt, WHAT, log)?;
    if jwt.header().typ.as_deref().is_some_and(|t| !checks::typ_matches(t, TYP_ACCESS_TOKEN)) {
        let kind = checks::describe_typ(jwt.header().typ.as_deref());
        return Err(log.fail(
            "typ",
            "RFC 9068 §4, RFC 8725 §3.11",
            format!("the bearer token is {kind}, not an access token (typ must be \"{TYP_ACCESS_TOKEN}\")"),
        ));
    }
    checks::typ(&jwt, TYP_ACCESS_TOKEN, WHAT, "RFC 9068 §4", log)?;
    match jwt.unverified_issuer() {
        Some(iss) if iss == expect.issuer => log.pass("iss", SEC, format!("issuer \"{iss}\"")),
        other => {
            return Err(log.fail(
                "iss",
                SEC,
                format!("the access token issuer is {other:?}; it must be \"{}\"", expect.issuer),
            ));
        }
    }
    let kid = jwt.header().kid.clone().unwrap_or_default();
    let Some(jwk) = keys.find(&kid) else {
        return Err(log.fail("kid", SEC, format!("no key with kid \"{kid}\" in the authorization server's JWKS")));
    };
    checks::signature(&jwt, jwk, WHAT, SEC, log)?;
    let claims = jwt.unverified_claims();
    checks::audience(claims, expect.audience, WHAT, SEC, log)?;
    checks::times(claims, expect.now, expect.leeway, WHAT, log)?;
    for name in ["sub", "client_id", "jti"] {
        checks::required_str(claims, name, WHAT, "RFC 9068 §2.2", log)?;
    }
    serde_json::from_value(Value::Object(claims.clone()))
        .map_err(|e| log.fail("claims", "RFC 9068 §2.2", format!("the access token claims are malformed: {e}")))
}

#[cfg(test)]
#[path = "access_token_tests.rs"]
mod tests;
