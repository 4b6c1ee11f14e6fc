//! RS256 signing and verification (RFC 7518 §3.3) for josekit with OpenSSL contexts kept between
//! operations.
//!
//! josekit's own RS256 signer and verifier build a fresh OpenSSL digest context for every signature
//! (`EVP_DigestSignInit`, `EVP_DigestVerifyInit`: an algorithm fetch and a key context each time,
//! more work than the RSA verification itself). These hash the signing input with SHA-256 and sign
//! or verify the digest with an `EVP_PKEY_CTX` initialised once for PKCS#1 v1.5 and SHA-256 and
//! kept in a small pool, as `openssl speed` does: the same signature, byte for byte (PKCS#1 v1.5 is
//! deterministic), and the same verdicts, for less work per token. Contexts are never shared by two
//! operations at once: each call takes one from the pool (or makes one) and gives it back.

use std::sync::Mutex;

use josekit::JoseError;
use josekit::jws::{JwsAlgorithm, JwsSigner, JwsVerifier, RS256};
use openssl::md::Md;
use openssl::pkey::{HasPublic, PKey, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

/// How many idle contexts the pool keeps: one per thread that signs at once is enough.
const POOL: usize = 8;

/// An RS256 [`JwsSigner`] over one RSA private key.
pub(crate) struct Rs256Signer {
    key_id: Option<String>,
    contexts: Contexts<Private>,
}

impl std::fmt::Debug for Rs256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rs256Signer").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Rs256Signer {
    /// The signer of an RSA private key in PEM (PKCS#8 or PKCS#1).
    pub(crate) fn from_pem(pem: &[u8]) -> Result<Self, JoseError> {
        let key = PKey::private_key_from_pem(pem).map_err(|e| JoseError::InvalidKeyFormat(e.into()))?;
        key.rsa().map_err(|e| JoseError::InvalidKeyFormat(e.into()))?;
        Ok(Self { key_id: None, contexts: Contexts::new(key, |c| c.sign_init()) })
    }
}

impl JwsSigner for Rs256Signer {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &RS256
    }

    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    fn signature_len(&self) -> usize {
        self.contexts.key.size()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let mut ctx = self.contexts.take().map_err(|e| JoseError::InvalidSignature(e.into()))?;
        let digest = openssl::sha::sha256(message);
        let mut signature = Vec::with_capacity(self.signature_len());
        ctx.sign_to_vec(&digest, &mut signature).map_err(|e| JoseError::InvalidSignature(e.into()))?;
        self.contexts.give_back(ctx);
        Ok(signature)
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(Self { key_id: self.key_id.clone(), contexts: self.contexts.fresh() })
    }
}

/// A signature that does not verify (josekit's words for it).
#[derive(Debug, thiserror::Error)]
#[error("The signature does not match.")]
struct Mismatch;

/// How a context is readied for its operation (`sign_init` or `verify_init`).
type Init<T> = fn(&mut PkeyCtx<T>) -> Result<(), openssl::error::ErrorStack>;

/// The contexts of one key for one operation, SHA-256 digests with PKCS#1 v1.5 padding: made on
/// demand, at most [`POOL`] idle ones kept.
struct Contexts<T> {
    key: PKey<T>,
    init: Init<T>,
    idle: Mutex<Vec<PkeyCtx<T>>>,
}

impl<T: HasPublic> Contexts<T> {
    fn new(key: PKey<T>, init: Init<T>) -> Self {
        Self { key, init, idle: Mutex::new(Vec::new()) }
    }

    /// The same key and operation, with no idle context (a josekit `box_clone`).
    fn fresh(&self) -> Self {
        Self::new(self.key.clone(), self.init)
    }

    /// An idle context, or a new one.
    fn take(&self) -> Result<PkeyCtx<T>, openssl::error::ErrorStack> {
        if let Some(ctx) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(ctx);
        }
        let mut ctx = PkeyCtx::new(&self.key)?;
        (self.init)(&mut ctx)?;
        ctx.set_rsa_padding(Padding::PKCS1)?;
        ctx.set_signature_md(Md::sha256())?;
        Ok(ctx)
    }

    /// Gives back a context whose last operation succeeded (one that failed is dropped).
    fn give_back(&self, ctx: PkeyCtx<T>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL {
            idle.push(ctx);
        }
    }

    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

/// An RS256 [`JwsVerifier`] over one RSA public key.
pub(crate) struct Rs256Verifier {
    key_id: Option<String>,
    contexts: Contexts<Public>,
}

impl Rs256Verifier {
    /// The verifier of a JWK (RFC 7517) that josekit's own RS256 verifier accepts: the same checks
    /// of `kty`, `use`, `key_ops`, `alg` and key size, then its public key.
    pub(crate) fn from_jwk(jwk: &josekit::jwk::Jwk) -> Result<Self, JoseError> {
        RS256.verifier_from_jwk(jwk)?;
        let component = |name: &str| -> Result<openssl::bn::BigNum, JoseError> {
            use base64::Engine as _;
            let text = jwk.parameter(name).and_then(serde_json::Value::as_str).unwrap_or_default();
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|e| JoseError::InvalidKeyFormat(e.into()))?;
            openssl::bn::BigNum::from_slice(&bytes).map_err(|e| JoseError::InvalidKeyFormat(e.into()))
        };
        let rsa = openssl::rsa::Rsa::from_public_components(component("n")?, component("e")?)
            .map_err(|e| JoseError::InvalidKeyFormat(e.into()))?;
        let key = PKey::from_rsa(rsa).map_err(|e| JoseError::InvalidKeyFormat(e.into()))?;
        Ok(Self { key_id: jwk.key_id().map(str::to_owned), contexts: Contexts::new(key, |c| c.verify_init()) })
    }
}

impl std::fmt::Debug for Rs256Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rs256Verifier").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl JwsVerifier for Rs256Verifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &RS256
    }

    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let mut ctx = self.contexts.take().map_err(|e| JoseError::InvalidSignature(e.into()))?;
        let digest = openssl::sha::sha256(message);
        let verdict = ctx.verify(&digest, signature);
        if verdict.is_ok() {
            self.contexts.give_back(ctx);
        }
        // OpenSSL's words for a bad signature ("ossl_rsa_verify:bad signature") help no one: it
        // does not match, as josekit says.
        match verdict {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(JoseError::InvalidSignature(Mismatch.into())),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(Self { key_id: self.key_id.clone(), contexts: self.contexts.fresh() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same bytes as josekit's own RS256 signer (PKCS#1 v1.5 is deterministic), and they verify;
    /// a pooled context signs the next message as correctly as a fresh one.
    #[test]
    fn signs_exactly_as_josekit_does_with_a_fresh_or_a_pooled_context() {
        let pem = crate::test_keys::TEST_KEY_A_PEM.as_bytes();
        let ours = Rs256Signer::from_pem(pem).unwrap();
        let theirs = RS256.signer_from_pem(pem).unwrap();
        let verifier = RS256.verifier_from_pem(RS256.key_pair_from_pem(pem).unwrap().to_pem_public_key()).unwrap();
        for message in [&b"eyJhbGciOiJSUzI1NiJ9.e30"[..], b"another signing input", b""] {
            let signature = ours.sign(message).unwrap();
            assert_eq!(signature, theirs.sign(message).unwrap());
            verifier.verify(message, &signature).unwrap();
        }
        assert_eq!(ours.contexts.idle(), 1, "one context, reused");
        assert_eq!(ours.signature_len(), 256);
    }

    /// The verdicts of josekit's own RS256 verifier on a good signature, a changed message, a
    /// changed, a short and an empty signature; a context whose check failed is not kept.
    #[test]
    fn verifies_exactly_as_josekit_does() {
        let pem = crate::test_keys::TEST_KEY_A_PEM.as_bytes();
        let signer = RS256.signer_from_pem(pem).unwrap();
        let mut jwk = RS256.key_pair_from_pem(pem).unwrap().to_jwk_public_key();
        jwk.set_key_id("k-1");
        let ours = Rs256Verifier::from_jwk(&jwk).unwrap();
        let theirs = RS256.verifier_from_jwk(&jwk).unwrap();
        assert_eq!(ours.key_id(), Some("k-1"));
        let message = b"eyJhbGciOiJSUzI1NiJ9.e30";
        let good = signer.sign(message).unwrap();
        let mut flipped = good.clone();
        flipped[10] ^= 1;
        let cases: [(&[u8], &[u8]); 5] = [
            (message, &good),
            (b"eyJhbGciOiJSUzI1NiJ9.e31", &good),
            (message, &flipped),
            (message, &good[..255]),
            (message, b""),
        ];
        for (m, sig) in cases {
            let (a, b) = (ours.verify(m, sig), theirs.verify(m, sig));
            assert_eq!(a.is_ok(), b.is_ok(), "{:?} vs {:?}", a.err(), b.err());
        }
        assert!(ours.verify(message, &good).is_ok(), "still verifies after refusals");
        assert_eq!(ours.contexts.idle(), 1, "one context, reused");
        assert_eq!(
            ours.verify(b"changed", &good).unwrap_err().to_string(),
            theirs.verify(b"changed", &good).unwrap_err().to_string()
        );
    }

    /// josekit's checks of the JWK apply: a key for another use, or a short key, is refused.
    #[test]
    fn refuses_the_jwks_josekit_refuses() {
        let pem = crate::test_keys::TEST_KEY_A_PEM.as_bytes();
        let mut enc = RS256.key_pair_from_pem(pem).unwrap().to_jwk_public_key();
        enc.set_key_use("enc");
        assert!(Rs256Verifier::from_jwk(&enc).is_err());
        let rsa = openssl::rsa::Rsa::generate(1024).unwrap();
        let b64 = |n: &openssl::bn::BigNumRef| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n.to_vec())
        };
        let short = serde_json::json!({ "kty": "RSA", "n": b64(rsa.n()), "e": b64(rsa.e()) });
        let short = josekit::jwk::Jwk::from_map(short.as_object().unwrap().clone()).unwrap();
        assert!(RS256.verifier_from_jwk(&short).is_err(), "josekit refuses a 1024-bit key");
        assert!(Rs256Verifier::from_jwk(&short).is_err());
    }

    #[test]
    fn refuses_a_key_that_is_not_rsa() {
        let ec = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let pem = PKey::from_ec_key(ec).unwrap().private_key_to_pem_pkcs8().unwrap();
        assert!(Rs256Signer::from_pem(&pem).is_err());
    }
}
