//! The resource AS's validation of an ID-JAG presented as a jwt-bearer `assertion`, in the order
//! of draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1 and RFC 7523 §3.
//! Replay (`jti`) and resource/scope policy are the caller's steps, since they need its storage.

use serde_json::{Map, Value};

use super::checks::{self, CheckLog};
use super::rejection::{Rejection, Token, spec};
use crate::claims::IdJagClaims;
use crate::ids::{Issuer, ResourceClientId};
use crate::key_source::KeySource;
use crate::spec::Citation;
use crate::urn::TYP_ID_JAG;

const WHAT: Token = Token::IdJag;
const SEC: Citation = spec::ID_JAG;
const CLAIMS: Citation = spec::ID_JAG_CLAIMS;

/// What the receiving resource AS expects of an ID-JAG.
#[derive(Clone, Copy, Debug)]
pub struct IdJagExpectations<'a> {
    /// The resource AS's own issuer identifier (the only acceptable `aud`).
    pub audience: &'a Issuer,
    /// Issuers (IdPs) this resource AS trusts, compared as exact strings.
    pub trusted_issuers: &'a [Issuer],
    /// The client id the request authenticated as, at this resource AS (the ID-JAG's `client_id`).
    pub client_id: &'a ResourceClientId,
    /// Current time (NumericDate).
    pub now: i64,
    /// Clock-skew leeway in seconds.
    pub leeway: i64,
    /// Whether the request carried a `DPoP` proof header (RFC 9449 §4.1).
    pub dpop_proof: bool,
}

/// Validates `raw` and returns its claims, or the first failed check.
pub async fn validate_id_jag(
    raw: &str,
    expect: IdJagExpectations<'_>,
    keys: &dyn KeySource,
    log: &mut CheckLog,
) -> Result<IdJagClaims, Rejection> {
    let jwt = checks::parse(raw, WHAT, log)?;
    checks::algorithm(&jwt, WHAT, log)?;
    checks::typ(&jwt, TYP_ID_JAG, WHAT, spec::ID_JAG_TYP, log, |found| Rejection::NotAnIdJag { found })?;

    let issuer = match jwt.unverified_issuer() {
        Some(iss) if expect.trusted_issuers.iter().any(|t| t == iss) => iss.to_owned(),
        Some(iss) => return Err(log.reject(Rejection::UntrustedIssuer { found: iss.to_owned() })),
        None => {
            return Err(log.reject(Rejection::MissingClaim { token: WHAT, claim: "iss", spec: spec::ID_JAG_ISS }));
        }
    };
    log.pass("iss", spec::ID_JAG_ISS, format!("issuer \"{issuer}\" is trusted"));

    let Some(kid) = jwt.header().kid.clone() else {
        return Err(log.reject(Rejection::MissingKeyId));
    };
    let key = match keys.key(&issuer, &kid).await {
        Ok(Some(key)) => key,
        Ok(None) => return Err(log.reject(Rejection::UnknownKey { issuer, kid })),
        Err(cause) => return Err(log.reject(Rejection::KeysUnavailable { issuer, cause })),
    };
    log.pass("kid", spec::ID_JAG_KID, format!("key \"{kid}\" found in the JWKS of \"{issuer}\""));
    checks::signature(&jwt, &key, WHAT, spec::ID_JAG_SIGNATURE, log)?;

    let claims = jwt.unverified_claims();
    checks::audience(claims, expect.audience.as_str(), WHAT, SEC, log)?;
    let client_id = checks::required_str(claims, "client_id", WHAT, SEC, log)?;
    if client_id != expect.client_id {
        let (found, expected) = (client_id.to_owned(), expect.client_id.to_string());
        return Err(log.reject(Rejection::ClientId { found, expected }));
    }
    log.pass("client_id", SEC, format!("client_id \"{client_id}\" is the authenticated client"));
    checks::times(claims, expect.now, expect.leeway, WHAT, log)?;
    let jti = checks::required_str(claims, "jti", WHAT, CLAIMS, log)?;
    log.pass("jti", CLAIMS, format!("jti \"{jti}\" present"));
    let sub = checks::required_str(claims, "sub", WHAT, CLAIMS, log)?;
    log.pass("sub", CLAIMS, format!("subject \"{sub}\""));
    confirmation(claims, expect.dpop_proof, log)?;
    if let Some(scope) = claims.get("scope")
        && !scope.is_string()
    {
        return Err(log.reject(Rejection::Scope));
    }
    if let Some(resource) = claims.get("resource") {
        let ok = resource.is_string()
            || resource.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
        if !ok {
            return Err(log.reject(Rejection::Resource));
        }
    }
    serde_json::from_value(Value::Object(claims.clone()))
        .map_err(|source| log.reject(Rejection::Claims { token: WHAT, source }))
}

/// Step: sender constraint (checklist §5.2 step 15). An ID-JAG with `cnf` is bound to a key and
/// must come with a proof of it (draft-04 §9.8.1.2.2); this lab's AS validates no DPoP proof and
/// issues only Bearer tokens, so it refuses every bound ID-JAG, saying which case it was.
fn confirmation(claims: &Map<String, Value>, dpop_proof: bool, log: &mut CheckLog) -> Result<(), Rejection> {
    let Some(cnf) = claims.get("cnf") else {
        let (spec, detail) = match dpop_proof {
            false => (
                Citation::from(&crate::spec::IDJAG_9_8_1_2_4),
                "no cnf claim: the ID-JAG is not sender-constrained, so a Bearer token can be issued",
            ),
            true => (
                Citation::from(&crate::spec::IDJAG_9_8_1_2_3),
                "no cnf claim: the ID-JAG is not sender-constrained; the DPoP proof sent along is not used (this lab's AS issues Bearer tokens only)",
            ),
        };
        log.pass("cnf", spec, detail);
        return Ok(());
    };
    let Some(jkt) = cnf.get("jkt").and_then(Value::as_str) else {
        return Err(log.reject(Rejection::UnsupportedConfirmation { cnf: cnf.clone() }));
    };
    let jkt = jkt.to_owned();
    Err(log.reject(match dpop_proof {
        false => Rejection::DpopProofMissing { jkt },
        true => Rejection::DpopBound { jkt },
    }))
}

#[cfg(test)]
#[path = "id_jag_tests.rs"]
mod tests;
