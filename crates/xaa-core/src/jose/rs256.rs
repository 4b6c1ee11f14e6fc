//! RS256 signing (RFC 7518 §3.3) for josekit with OpenSSL contexts kept between signatures.
//!
//! josekit's own RS256 signer builds a fresh OpenSSL digest-and-sign context for every signature
//! (`EVP_DigestSignInit`: an algorithm fetch and a key context each time). This one hashes the
//! signing input with SHA-256 and signs the digest with an `EVP_PKEY_CTX` initialised once for
//! PKCS#1 v1.5 and SHA-256 and kept in a small pool, as `openssl speed` does: the same signature,
//! byte for byte (PKCS#1 v1.5 is deterministic), for less work per token. Contexts are never shared
//! by two signatures at once: each call takes one from the pool (or makes one) and gives it back.

use std::sync::Mutex;

use josekit::JoseError;
use josekit::jws::{JwsAlgorithm, JwsSigner, RS256};
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

/// How many idle contexts the pool keeps: one per thread that signs at once is enough.
const POOL: usize = 8;

/// An RS256 [`JwsSigner`] over one RSA private key.
pub(crate) struct Rs256Signer {
    key: PKey<Private>,
    key_id: Option<String>,
    idle: Mutex<Vec<PkeyCtx<Private>>>,
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
        Ok(Self { key, key_id: None, idle: Mutex::new(Vec::new()) })
    }

    /// A context ready to sign SHA-256 digests with PKCS#1 v1.5 padding.
    fn context(&self) -> Result<PkeyCtx<Private>, openssl::error::ErrorStack> {
        let mut ctx = PkeyCtx::new(&self.key)?;
        ctx.sign_init()?;
        ctx.set_rsa_padding(Padding::PKCS1)?;
        ctx.set_signature_md(Md::sha256())?;
        Ok(ctx)
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
        self.key.size()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut ctx = match pooled {
            Some(ctx) => ctx,
            None => self.context().map_err(|e| JoseError::InvalidSignature(e.into()))?,
        };
        let digest = openssl::sha::sha256(message);
        let mut signature = Vec::with_capacity(self.key.size());
        ctx.sign_to_vec(&digest, &mut signature).map_err(|e| JoseError::InvalidSignature(e.into()))?;
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL {
            idle.push(ctx);
        }
        Ok(signature)
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(Self { key: self.key.clone(), key_id: self.key_id.clone(), idle: Mutex::new(Vec::new()) })
    }
}

#[cfg(test)]
mod tests {
    use josekit::jws::JwsVerifier;

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
        assert_eq!(ours.idle.lock().unwrap().len(), 1, "one context, reused");
        assert_eq!(ours.signature_len(), 256);
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
