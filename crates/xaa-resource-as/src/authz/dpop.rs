//! DPoP at the token endpoint (RFC 9449 §5): the proof a jwt-bearer request carries in its `DPoP`
//! header is validated before the ID-JAG (§4.3: one proof, `htm` `POST`, `htu` this server's token
//! endpoint, the `iat` window, and its `jti` used once), each check recorded in the request's check
//! log. Its key's thumbprint then decides the `cnf` case of draft-04 §9.8.1.2 and the key the access
//! token is bound to. A refused proof is `400 invalid_dpop_proof`. No nonces are given out (§8 is
//! optional).

use xaa_core::dpop::{self, DpopError, ProofExpectations, ValidProof};
use xaa_core::oauth::{ErrorCode, OAuthError, TokenRequest};
use xaa_core::validation::CheckLog;

use crate::state::AsState;

/// The validated proof of `req`, or `None` when it carries no `DPoP` header.
pub(super) fn token_request_proof(
    st: &AsState,
    req: &TokenRequest,
    checks: &mut CheckLog,
) -> Result<Option<ValidProof>, OAuthError> {
    let proof = match dpop::single_proof(req.dpop.iter().map(String::as_str)) {
        Ok(None) => return Ok(None),
        Ok(Some(proof)) => proof,
        Err(e) => {
            checks.reject(e.rejection());
            return Err(refusal(&e));
        }
    };
    let htu = super::token_endpoint(st);
    let expect = ProofExpectations::new("POST", &htu);
    let proof = st.dpop_proofs.validate(proof, &expect, st.clock.now(), checks).map_err(|e| refusal(&e))?;
    Ok(Some(proof))
}

/// The refusal of a proof: `invalid_dpop_proof` (RFC 9449 §5), or `server_error` when this server
/// failed (its replay store is full). The description is the check's text and its section.
fn refusal(e: &DpopError) -> OAuthError {
    let code = match e.error_code() {
        dpop::INVALID_DPOP_PROOF => ErrorCode::InvalidDpopProof,
        _ => ErrorCode::ServerError,
    };
    OAuthError::new(code, e.rejection().to_string())
}
