//! The IdP's validation of a `subject_token` that claims to be one of its own ID tokens
//! (draft-ietf-oauth-identity-assertion-authz-grant-04 §4.3.3, post-04 candidate C3).

use serde_json::Value;

use super::checks::{self, CheckLog};
use super::rejection::{Rejection, Token, spec};
use crate::claims::IdTokenClaims;
use crate::ids::{ClientId, Issuer};
use crate::jose::KeySet;
use crate::spec::Citation;
use crate::urn::TYP_ID_TOKEN;

const WHAT: Token = Token::SubjectToken;
const SEC: Citation = spec::SUBJECT_TOKEN;

/// What the IdP expects of a subject token.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenExpectations<'a> {
    /// The IdP's own issuer identifier.
    pub issuer: &'a Issuer,
    /// The client that authenticated the token-exchange request (must be the ID token's `aud`).
    pub client_id: &'a ClientId,
    /// Current time (NumericDate).
    pub now: i64,
    /// Clock-skew leeway in seconds.
    pub leeway: i64,
}

/// Validates `raw` as an ID token issued by this IdP to the authenticated client.
pub fn validate_id_token(
    raw: &str,
    expect: IdTokenExpectations<'_>,
    own_keys: &KeySet,
    log: &mut CheckLog,
) -> Result<IdTokenClaims, Rejection> {
    let jwt = checks::parse(raw, |raw| own_keys.parse(raw), WHAT, log)?;
    checks::algorithm(&jwt, WHAT, log)?;
    if let Some(t) = jwt.header().typ.as_deref()
        && !checks::typ_matches(t, TYP_ID_TOKEN)
    {
        return Err(log.reject(Rejection::NotAnIdToken { found: t.to_owned() }));
    }
    log.pass("typ", spec::TYPE_CONFUSION, "typ is that of an ID token");
    match jwt.unverified_issuer() {
        Some(iss) if iss == expect.issuer => log.pass("iss", SEC, format!("issued by this IdP (\"{iss}\")")),
        found => {
            let found = found.map(str::to_owned);
            return Err(log.reject(Rejection::NotIssuedByThisIdp { found, expected: expect.issuer.to_string() }));
        }
    }
    let kid = jwt.header().kid.clone().unwrap_or_default();
    let Some(key) = own_keys.find(&kid) else {
        return Err(log.reject(Rejection::UnknownIdpKey { kid }));
    };
    checks::signature(&jwt, key, WHAT, spec::ID_TOKEN_VALIDATION, log)?;
    let claims = jwt.unverified_claims();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(s)) => *s == *expect.client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(expect.client_id.as_str())),
        _ => false,
    };
    if !aud_ok {
        let found = claims.get("aud").cloned();
        return Err(log.reject(Rejection::NotIssuedToClient { found, client_id: expect.client_id.to_string() }));
    }
    log.pass("aud", SEC, format!("issued to the authenticated client \"{}\"", expect.client_id));
    checks::times(claims, expect.now, expect.leeway, WHAT, log)?;
    checks::required_str(claims, "sub", WHAT, spec::ID_TOKEN_CLAIMS, log)?;
    // Straight from the parsed claims: no copy of the map.
    serde::Deserialize::deserialize(claims).map_err(|source| log.reject(Rejection::Claims { token: WHAT, source }))
}

#[cfg(test)]
#[path = "id_token_tests.rs"]
mod tests;
