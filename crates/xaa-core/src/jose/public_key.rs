//! A public key of a [`KeySet`](super::KeySet): its JWK (RFC 7517), the verifier built from it on
//! first use, and its memo of the signatures it verified. Nothing here is process-global: a key's
//! verifier and memo live and die with the sets that hold it.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{JoseError, UnverifiedJwt};

/// How many verified signatures one key remembers (the oldest is forgotten first).
const MEMO_CAPACITY: usize = 1024;

type Verifier = Box<dyn josekit::jws::JwsVerifier>;

/// A public key (one JWKS entry) that verifies compact JWS signatures.
///
/// Turning a JWK into an OpenSSL public key costs about ten times the RSA verification itself, so
/// the verifier is built once, on first use, and kept. A requestor presents the same ID token for
/// every exchange until it expires, so the key also remembers the exact (signed bytes, signature)
/// pairs that verified (never the failures), a bounded number of them.
pub struct PublicKey {
    jwk: Map<String, Value>,
    kid: Option<String>,
    alg: Option<String>,
    /// The verifier for each allowed `alg` (a JWK without `alg` is tried with the token's).
    rs256: OnceLock<Verifier>,
    es256: OnceLock<Verifier>,
    verified: Mutex<Memo>,
    /// How many verifiers were built (tests only).
    #[cfg(test)]
    builds: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("kty", &self.jwk.get("kty"))
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// The key of a JWKS entry; nothing is parsed until it first verifies a signature.
    pub fn from_jwk(jwk: Map<String, Value>) -> Self {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            kid: text("kid"),
            alg: text("alg"),
            jwk,
            rs256: OnceLock::new(),
            es256: OnceLock::new(),
            verified: Mutex::new(Memo::default()),
            #[cfg(test)]
            builds: Default::default(),
        }
    }

    /// The JWK as published.
    pub fn jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The JWK's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The JWK's `alg`, if it is a string: the only algorithm this key verifies.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// Verifies the signature of `jwt` with this key.
    ///
    /// The caller has already checked that the header `alg` is in [`ALLOWED_ALGS`](super::ALLOWED_ALGS);
    /// the key's own `alg`, when present, must agree with it (no RS/ES or RS/HS confusion).
    pub fn verify(&self, jwt: &UnverifiedJwt<'_>) -> Result<(), JoseError> {
        let alg = jwt.header().alg.as_str();
        if let Some(key_alg) = self.alg()
            && key_alg != alg
        {
            return Err(JoseError::AlgorithmMismatch { key_alg: key_alg.to_owned(), alg: alg.to_owned() });
        }
        let verifier = self.verifier(alg)?;
        let (message, signature) = jwt.signing_input_and_signature();
        let seen = {
            let mut h = Sha256::new();
            h.update(alg.as_bytes());
            h.update([0]);
            h.update(message.as_bytes());
            h.update([0]);
            h.update(signature);
            <[u8; 32]>::from(h.finalize())
        };
        if self.verified.lock().is_ok_and(|m| m.contains(&seen)) {
            return Ok(());
        }
        verifier.verify(message.as_bytes(), signature)?;
        if let Ok(mut m) = self.verified.lock() {
            m.insert(seen);
        }
        Ok(())
    }

    /// The verifier for `alg`, built on first use (a JWK that does not parse is not remembered).
    fn verifier(&self, alg: &str) -> Result<&Verifier, JoseError> {
        let cell = match alg {
            "RS256" => &self.rs256,
            "ES256" => &self.es256,
            other => return Err(JoseError::AlgorithmNotAllowed { alg: other.to_owned() }),
        };
        if let Some(v) = cell.get() {
            return Ok(v);
        }
        let parsed = josekit::jwk::Jwk::from_map(self.jwk.clone())?;
        let built: Verifier = match alg {
            "RS256" => Box::new(super::rs256::Rs256Verifier::from_jwk(&parsed)?),
            _ => Box::new(josekit::jws::ES256.verifier_from_jwk(&parsed)?),
        };
        #[cfg(test)]
        self.builds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Two threads may both build it; the first one stored is the one every caller uses.
        Ok(cell.get_or_init(|| built))
    }
}

/// The digests of the (signed bytes, signature) pairs a key verified, oldest first out.
#[derive(Debug, Default)]
struct Memo {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl Memo {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        self.seen.contains(digest)
    }

    fn insert(&mut self, digest: [u8; 32]) {
        if !self.seen.insert(digest) {
            return;
        }
        self.order.push_back(digest);
        if self.order.len() > MEMO_CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::jose::{KeySet, SigningKey};

    const PEM: &str = include_str!("../../../../keys/idp-2026-01.pem");

    fn es256_token() -> (String, Map<String, Value>) {
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

    fn memo_len(key: &PublicKey) -> usize {
        key.verified.lock().unwrap().len()
    }

    #[test]
    fn es256_is_accepted_and_keys_are_pinned_to_their_alg() {
        let (jwt, jwk) = es256_token();
        let unverified = UnverifiedJwt::parse(&jwt).unwrap();
        assert_eq!(unverified.header().alg, "ES256");
        PublicKey::from_jwk(jwk).verify(&unverified).unwrap();

        let rsa = SigningKey::from_pem("rs-1", PEM).unwrap();
        let err = PublicKey::from_jwk(rsa.public_jwk().clone()).verify(&unverified).unwrap_err();
        assert!(matches!(err, JoseError::AlgorithmMismatch { .. }), "{err:?}");
        assert_eq!(err.to_string(), "the key is for RS256, the token says ES256");
    }

    #[test]
    fn rs256_signs_and_verifies_with_the_derived_jwk() {
        let key = SigningKey::from_pem("idp-2026-01", PEM).unwrap();
        let public = PublicKey::from_jwk(key.public_jwk().clone());
        let jwt = key.sign("JWT", &serde_json::json!({ "sub": "a" })).unwrap();
        let unverified = UnverifiedJwt::parse(&jwt).unwrap();
        assert_eq!(unverified.header().kid.as_deref(), Some("idp-2026-01"));
        public.verify(&unverified).unwrap();
        // Another payload under this token's signature does not verify.
        let other = key.sign("JWT", &serde_json::json!({ "sub": "b" })).unwrap();
        let spliced = format!("{}.{}", &other[..other.rfind('.').unwrap()], &jwt[jwt.rfind('.').unwrap() + 1..]);
        let spliced = UnverifiedJwt::parse(&spliced).unwrap();
        let err = public.verify(&spliced).unwrap_err();
        assert!(std::error::Error::source(&err).is_some_and(|s| s.is::<josekit::JoseError>()), "{err:?}");
        assert_eq!(memo_len(&public), 1, "failures are not remembered");
    }

    #[test]
    fn a_key_builds_its_verifier_once_and_sets_do_not_share_memos() {
        let key = SigningKey::from_pem("idp-2026-01", PEM).unwrap();
        let (first, second) = (KeySet::from_signing_keys([&key]), KeySet::from_signing_keys([&key]));
        let a = first.find("idp-2026-01").unwrap();
        let b = second.find("idp-2026-01").unwrap();
        assert!(!Arc::ptr_eq(a, b), "each set owns its keys");
        assert!(Arc::ptr_eq(a, first.clone().find("idp-2026-01").unwrap()), "a clone shares them");

        for sub in ["a", "b", "c"] {
            let jwt = key.sign("JWT", &serde_json::json!({ "sub": sub })).unwrap();
            a.verify(&UnverifiedJwt::parse(&jwt).unwrap()).unwrap();
            a.verify(&UnverifiedJwt::parse(&jwt).unwrap()).unwrap();
        }
        assert_eq!(a.builds.load(Ordering::Relaxed), 1, "one verifier for every token");
        assert_eq!(memo_len(a), 3);
        assert_eq!((b.builds.load(Ordering::Relaxed), memo_len(b)), (0, 0), "the other set's key is untouched");
    }

    #[test]
    fn the_memo_is_bounded_and_forgets_the_oldest_first() {
        let digest = |i: usize| {
            let mut d = [0; 32];
            d[..8].copy_from_slice(&(i as u64).to_le_bytes());
            d
        };
        let mut memo = Memo::default();
        for i in 0..=MEMO_CAPACITY {
            memo.insert(digest(i));
        }
        assert_eq!(memo.len(), MEMO_CAPACITY);
        assert!(!memo.contains(&digest(0)), "the first one is forgotten");
        assert!(memo.contains(&digest(1)) && memo.contains(&digest(MEMO_CAPACITY)));
    }
}
