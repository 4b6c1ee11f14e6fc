//! JOSE: signing keys and JWKS ([`keys`]), compact JWS signing ([`SigningKey::sign`]) and the
//! unverified view of a compact JWT ([`unverified`]). `josekit` and `rsa` are used only here.

pub mod keys;
pub mod unverified;

pub use keys::{KeySet, SigningKey};
pub use unverified::{JoseHeader, UnverifiedJwt};

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
        return Err(JoseError(format!(
            "the key is for {key_alg}, the token says {alg}"
        )));
    }
    let jwk = josekit::jwk::Jwk::from_map(jwk.clone())?;
    let verifier: Box<dyn josekit::jws::JwsVerifier> = match alg {
        "RS256" => Box::new(josekit::jws::RS256.verifier_from_jwk(&jwk)?),
        "ES256" => Box::new(josekit::jws::ES256.verifier_from_jwk(&jwk)?),
        other => return Err(JoseError(format!("algorithm {other} is not allowed"))),
    };
    let (message, signature) = unverified.signing_input_and_signature();
    verifier.verify(message.as_bytes(), &signature)?;
    Ok(())
}
