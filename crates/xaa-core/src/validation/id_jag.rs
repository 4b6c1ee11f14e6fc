//! The resource AS's validation of an ID-JAG presented as a jwt-bearer `assertion`, in the order
//! of draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1 and RFC 7523 §3.
//! Replay (`jti`) and resource/scope policy are the caller's steps, since they need its storage.

use serde_json::{Map, Value};

use super::checks::{self, CheckLog, Rejection};
use crate::claims::IdJagClaims;
use crate::key_source::KeySource;
use crate::urn::TYP_ID_JAG;

const WHAT: &str = "the ID-JAG";
const SEC: &str = "draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1";
const CLAIMS: &str = "draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1";

/// What the receiving resource AS expects of an ID-JAG.
#[derive(Clone, Copy, Debug)]
pub struct IdJagExpectations<'a> {
    /// The resource AS's own issuer identifier (the only acceptable `aud`).
    pub audience: &'a str,
    /// Issuers (IdPs) this resource AS trusts, compared as exact strings.
    pub trusted_issuers: &'a [String],
    /// The client id the request authenticated as.
    pub client_id: &'a str,
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
    let typ_spec = "draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1, RFC 8725 §3.11";
    if jwt.header().typ.as_deref().is_some_and(|t| !checks::typ_matches(t, TYP_ID_JAG)) {
        let kind = checks::describe_typ(jwt.header().typ.as_deref());
        let t = jwt.header().typ.clone().unwrap_or_default();
        return Err(log.fail(
            "typ",
            typ_spec,
            format!("the assertion header typ is \"{t}\" ({kind}); an ID-JAG must have typ \"{TYP_ID_JAG}\""),
        ));
    }
    checks::typ(&jwt, TYP_ID_JAG, WHAT, typ_spec, log)?;

    let iss_spec = "RFC 7523 §3 item 1, RFC 8725 §3.8";
    let issuer = match jwt.unverified_issuer() {
        Some(iss) if expect.trusted_issuers.iter().any(|t| t == iss) => iss.to_owned(),
        Some(iss) => {
            return Err(log.fail(
                "iss",
                iss_spec,
                format!("issuer \"{iss}\" is not a trusted identity provider of this authorization server"),
            ));
        }
        None => return Err(log.fail("iss", iss_spec, "the ID-JAG has no `iss` claim")),
    };
    log.pass("iss", iss_spec, format!("issuer \"{issuer}\" is trusted"));

    let kid_spec = "RFC 7515 §4.1.4, RFC 8725 §3.10";
    let Some(kid) = jwt.header().kid.clone() else {
        return Err(log.fail("kid", kid_spec, "the ID-JAG header has no kid, so no key of the issuer can be selected"));
    };
    let jwk = match keys.key(&issuer, &kid).await {
        Ok(Some(jwk)) => jwk,
        Ok(None) => {
            return Err(log.fail(
                "kid",
                kid_spec,
                format!("no key with kid \"{kid}\" in the JWKS of \"{issuer}\" (refetched once)"),
            ));
        }
        Err(e) => {
            return Err(log.fail("kid", kid_spec, format!("the keys of \"{issuer}\" could not be fetched: {e}")));
        }
    };
    log.pass("kid", kid_spec, format!("key \"{kid}\" found in the JWKS of \"{issuer}\""));
    checks::signature(&jwt, &jwk, WHAT, "RFC 7523 §3 item 9", log)?;

    let claims = jwt.unverified_claims();
    checks::audience(claims, expect.audience, WHAT, SEC, log)?;
    let client_id = checks::required_str(claims, "client_id", WHAT, SEC, log)?;
    if client_id != expect.client_id {
        return Err(log.fail(
            "client_id",
            SEC,
            format!(
                "the ID-JAG was issued for client_id \"{client_id}\" but the request authenticated as \"{}\"",
                expect.client_id
            ),
        ));
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
        return Err(log.fail("scope", CLAIMS, "the ID-JAG `scope` claim must be a space-delimited string"));
    }
    if let Some(resource) = claims.get("resource") {
        let ok = resource.is_string()
            || resource.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
        if !ok {
            return Err(log.fail("resource", CLAIMS, "the ID-JAG `resource` claim must be a URI or an array of URIs"));
        }
    }
    serde_json::from_value(Value::Object(claims.clone()))
        .map_err(|e| log.fail("claims", CLAIMS, format!("the ID-JAG claims are malformed: {e}")))
}

/// Step: sender constraint (checklist §5.2 step 15). An ID-JAG with `cnf` is bound to a key and
/// must come with a proof of it (draft-04 §9.8.1.2.2); this lab's AS validates no DPoP proof and
/// issues only Bearer tokens, so it refuses every bound ID-JAG, saying which case it was.
fn confirmation(claims: &Map<String, Value>, dpop_proof: bool, log: &mut CheckLog) -> Result<(), Rejection> {
    const CNF: &str = "draft-ietf-oauth-identity-assertion-authz-grant-04 §9.8.1.2.2, RFC 9449 §4.3";
    let Some(cnf) = claims.get("cnf") else {
        let detail = match dpop_proof {
            false => "no cnf claim: the ID-JAG is not sender-constrained, so a Bearer token can be issued",
            true => {
                "no cnf claim: the ID-JAG is not sender-constrained; the DPoP proof sent along is not used (this lab's AS issues Bearer tokens only)"
            }
        };
        log.pass("cnf", CNF, detail);
        return Ok(());
    };
    let Some(jkt) = cnf.get("jkt").and_then(Value::as_str) else {
        return Err(log.fail(
            "cnf",
            CNF,
            format!("the ID-JAG's cnf claim is {cnf} and names no DPoP key thumbprint (jkt); this lab's AS supports no other confirmation method"),
        ));
    };
    Err(match dpop_proof {
        false => log.fail(
            "cnf",
            CNF,
            format!("the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\" but the request carries no DPoP proof; a DPoP-bound ID-JAG must be presented with a proof of that key"),
        ),
        true => log.fail(
            "cnf",
            CNF,
            format!("the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt \"{jkt}\"; this lab's AS does not support DPoP-bound ID-JAGs (it validates no DPoP proof and issues no DPoP-bound token)"),
        ),
    })
}

#[cfg(test)]
#[path = "id_jag_tests.rs"]
mod tests;
