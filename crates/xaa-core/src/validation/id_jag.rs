//! The resource AS's validation of an ID-JAG presented as a jwt-bearer `assertion`, in the order
//! of draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1 and RFC 7523 §3.
//! Replay (`jti`) and resource/scope policy are the caller's steps, since they need its storage.

use serde_json::{Map, Value};

use super::checks::{self, CheckLog};
use super::rejection::{Rejection, Token, spec};
use crate::claims::IdJagClaims;
use crate::ids::{Issuer, ResourceClientId};
use crate::jose::UnverifiedJwt;
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
    /// The thumbprint (`jkt`) of the key of the DPoP proof the request carried, once the proof
    /// passed every check of RFC 9449 §4.3; `None` when the request carried no proof. A proof that
    /// failed is refused before the ID-JAG is validated.
    pub jkt: Option<&'a str>,
}

/// Validates `raw` and returns its claims, or the first failed check.
pub async fn validate_id_jag(
    raw: &str,
    expect: IdJagExpectations<'_>,
    keys: &dyn KeySource,
    log: &mut CheckLog,
) -> Result<IdJagClaims, Rejection> {
    let jwt = checks::parse(raw, UnverifiedJwt::parse, WHAT, log)?;
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
    confirmation(claims, expect.jkt, log)?;
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
    // Straight from the parsed claims: no copy of the map.
    serde::Deserialize::deserialize(claims).map_err(|source| log.reject(Rejection::Claims { token: WHAT, source }))
}

/// Step: sender constraint (checklist §5.2 step 15), the four cases of draft-04 §9.8.1.2, each
/// recorded under its own section. `jkt` is the thumbprint of the request's validated DPoP proof.
/// - §9.8.1.2.1, `cnf.jkt` and a proof: the proof's key must be the one `cnf.jkt` names.
/// - §9.8.1.2.2, `cnf.jkt` and no proof: refused.
/// - §9.8.1.2.3, a proof and no `cnf`: passes (the proof was validated, as this case requires).
/// - §9.8.1.2.4, neither: passes.
///
/// A `cnf` with another confirmation method than `jkt` is refused.
fn confirmation(claims: &Map<String, Value>, jkt: Option<&str>, log: &mut CheckLog) -> Result<(), Rejection> {
    let Some(cnf) = claims.get("cnf") else {
        match jkt {
            None => log.pass(
                "cnf",
                spec::NO_CNF_NO_PROOF,
                "no cnf claim and no DPoP proof: the ID-JAG is not sender-constrained, so a Bearer token can be issued",
            ),
            Some(jkt) => log.pass(
                "cnf",
                spec::PROOF_WITHOUT_CNF,
                format!(
                    "no cnf claim, and the DPoP proof sent along passed its checks (key thumbprint \"{jkt}\"): a token bound to that key can be issued"
                ),
            ),
        }
        return Ok(());
    };
    let Some(bound) = cnf.get("jkt").and_then(Value::as_str) else {
        return Err(log.reject(Rejection::UnsupportedConfirmation { cnf: cnf.clone() }));
    };
    match jkt {
        None => Err(log.reject(Rejection::DpopProofMissing { jkt: bound.to_owned() })),
        Some(proof) if proof != bound => {
            Err(log.reject(Rejection::DpopKeyMismatch { jkt: bound.to_owned(), proof_jkt: proof.to_owned() }))
        }
        Some(_) => {
            log.pass(
                "cnf",
                spec::CNF_WITH_PROOF,
                format!("cnf.jkt \"{bound}\" is the thumbprint of the DPoP proof's key: the ID-JAG is presented by the key it is bound to"),
            );
            Ok(())
        }
    }
}

#[cfg(test)]
#[path = "id_jag_tests.rs"]
mod tests;
