//! The todo API's validation of an RFC 9068 access token (RFC 9068 §4).

use super::checks::{self, CheckLog};
use super::rejection::{Rejection, Token, spec};
use crate::claims::AccessTokenClaims;
use crate::ids::{Issuer, ResourceUri};
use crate::jose::KeySet;
use crate::spec::Citation;
use crate::urn::TYP_ACCESS_TOKEN;

const WHAT: Token = Token::AccessToken;
const SEC: Citation = spec::ACCESS_TOKEN;

/// What the resource server expects of an access token.
#[derive(Clone, Copy, Debug)]
pub struct AccessTokenExpectations<'a> {
    /// The authorization server's issuer identifier.
    pub issuer: &'a Issuer,
    /// The resource server's own identifier.
    pub audience: &'a ResourceUri,
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
    let jwt = checks::parse(raw, |raw| keys.parse(raw), WHAT, log)?;
    checks::algorithm(&jwt, WHAT, log)?;
    checks::typ(&jwt, TYP_ACCESS_TOKEN, WHAT, SEC, log, |found| Rejection::NotAnAccessToken { found })?;
    match jwt.unverified_issuer() {
        Some(iss) if iss == expect.issuer => log.pass("iss", SEC, format!("issuer \"{iss}\"")),
        found => {
            let found = found.map(str::to_owned);
            return Err(log.reject(Rejection::Issuer { found, expected: expect.issuer.to_string() }));
        }
    }
    let kid = jwt.header().kid.clone().unwrap_or_default();
    let Some(key) = keys.find(&kid) else {
        return Err(log.reject(Rejection::UnknownAuthorizationServerKey { kid }));
    };
    checks::signature(&jwt, key, WHAT, SEC, log)?;
    let claims = jwt.unverified_claims();
    checks::audience(claims, expect.audience.as_str(), WHAT, SEC, log)?;
    checks::times(claims, expect.now, expect.leeway, WHAT, log)?;
    for name in ["sub", "client_id", "jti"] {
        checks::required_str(claims, name, WHAT, spec::ACCESS_TOKEN_CLAIMS, log)?;
    }
    // Straight from the parsed claims: no copy of the map.
    serde::Deserialize::deserialize(claims).map_err(|source| log.reject(Rejection::Claims { token: WHAT, source }))
}

#[cfg(test)]
#[path = "access_token_tests.rs"]
mod tests;
