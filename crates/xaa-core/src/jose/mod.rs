//! JOSE: signing keys and JWKS ([`keys`]), compact JWS signing ([`SigningKey::sign`]) and the
//! unverified view of a compact JWT ([`unverified`]). `josekit` and `rsa` are used only here.

pub mod keys;
pub mod unverified;

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, OnceLock};

pub use keys::{KeySet, SigningKey, generate_rsa_pem};
pub use unverified::{JoseHeader, JwsPart, JwtFormatError, UnverifiedJwt};

/// Signature algorithms a validator accepts (RFC 8725 §3.1): asymmetric only, never `none` or HS*.
pub const ALLOWED_ALGS: &[&str] = &["RS256", "ES256"];

/// Failure to load, generate or use a key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JoseError(pub String);

impl From<josekit::JoseError> for JoseError {
    fn from(e: josekit::JoseError) -> Self {
        JoseError(e.to_string())
    }
}

/// Verifies the signature of `unverified` with the public `jwk` (a JWKS entry).
///
/// The caller has already checked that the header `alg` is in [`ALLOWED_ALGS`]; the key's own
/// `alg`, when present, must agree with it (no RS/ES or RS/HS confusion).
pub fn verify_signature(
    unverified: &UnverifiedJwt<'_>,
    jwk: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), JoseError> {
    let alg = unverified.header().alg.as_str();
    if let Some(key_alg) = jwk.get("alg").and_then(|v| v.as_str())
        && key_alg != alg
    {
        return Err(JoseError(format!("the key is for {key_alg}, the token says {alg}")));
    }
    let (verifier, key_id) = verifier_for(alg, jwk)?;
    let (message, signature) = unverified.signing_input_and_signature();
    // A requestor presents the same ID token for every exchange until it expires: remember the
    // exact (key, signed bytes, signature) triples that verified, never the failures.
    let seen = {
        let mut h = Sha256::new();
        h.update(key_id.as_bytes());
        h.update([0]);
        h.update(message.as_bytes());
        h.update([0]);
        h.update(&signature);
        <[u8; 32]>::from(h.finalize())
    };
    static VERIFIED: OnceLock<Mutex<HashSet<[u8; 32]>>> = OnceLock::new();
    let verified = VERIFIED.get_or_init(Default::default);
    if verified.lock().is_ok_and(|v| v.contains(&seen)) {
        return Ok(());
    }
    verifier.verify(message.as_bytes(), &signature)?;
    if let Ok(mut v) = verified.lock() {
        if v.len() >= 4096 {
            v.clear();
        }
        v.insert(seen);
    }
    Ok(())
}

/// The verifier of `jwk` for `alg`, built once per key: turning a JWK into an OpenSSL public key
/// costs about ten times the RSA verification itself, so every process keeps the few it has met.
fn verifier_for(
    alg: &str,
    jwk: &serde_json::Map<String, serde_json::Value>,
) -> Result<(Arc<dyn josekit::jws::JwsVerifier>, String), JoseError> {
    type Cache = Mutex<HashMap<String, Arc<dyn josekit::jws::JwsVerifier>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = format!("{alg} {}", serde_json::Value::Object(jwk.clone()));
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok((v, key));
    }
    let parsed = josekit::jwk::Jwk::from_map(jwk.clone())?;
    let verifier: Arc<dyn josekit::jws::JwsVerifier> = match alg {
        "RS256" => Arc::new(josekit::jws::RS256.verifier_from_jwk(&parsed)?),
        "ES256" => Arc::new(josekit::jws::ES256.verifier_from_jwk(&parsed)?),
        other => return Err(JoseError(format!("algorithm {other} is not allowed"))),
    };
    if let Ok(mut c) = cache.lock() {
        // Keys rotate rarely; a bound keeps a stream of forged keys from growing the cache.
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(key.clone(), verifier.clone());
    }
    Ok((verifier, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es256_token() -> (String, serde_json::Map<String, serde_json::Value>) {
        let pair = josekit::jws::ES256.generate_key_pair().unwrap();
        let signer = josekit::jws::ES256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
        let mut header = josekit::jws::JwsHeader::new();
        header.set_token_type("oauth-id-jag+jwt");
        header.set_key_id("ec-1");
        let jwt = josekit::jws::serialize_compact(br#"{"iss":"x"}"#, &header, &signer).unwrap();
        let mut jwk = pair.to_jwk_public_key();
        jwk.set_key_id("ec-1");
        (jwt, jwk.into())
    }

    #[test]
    fn es256_is_accepted_and_keys_are_pinned_to_their_alg() {
        let (jwt, jwk) = es256_token();
        let unverified = UnverifiedJwt::parse(&jwt).unwrap();
        assert_eq!(unverified.header().alg, "ES256");
        verify_signature(&unverified, &jwk).unwrap();

        let rsa = SigningKey::from_pem("rs-1", include_str!("../../../../keys/idp-2026-01.pem")).unwrap();
        let err = verify_signature(&unverified, rsa.public_jwk()).unwrap_err();
        assert!(err.0.contains("the key is for RS256, the token says ES256"), "{err}");
    }

    #[test]
    fn rs256_signs_and_verifies_with_the_derived_jwk() {
        let key = SigningKey::from_pem("idp-2026-01", include_str!("../../../../keys/idp-2026-01.pem")).unwrap();
        let jwt = key.sign("JWT", &serde_json::json!({ "sub": "a" })).unwrap();
        let unverified = UnverifiedJwt::parse(&jwt).unwrap();
        assert_eq!(unverified.header().kid.as_deref(), Some("idp-2026-01"));
        verify_signature(&unverified, key.public_jwk()).unwrap();
        // Another payload under this token's signature does not verify.
        let other = key.sign("JWT", &serde_json::json!({ "sub": "b" })).unwrap();
        let spliced = format!("{}.{}", &other[..other.rfind('.').unwrap()], &jwt[jwt.rfind('.').unwrap() + 1..]);
        let spliced = UnverifiedJwt::parse(&spliced).unwrap();
        assert!(verify_signature(&spliced, key.public_jwk()).is_err());
    }
}
