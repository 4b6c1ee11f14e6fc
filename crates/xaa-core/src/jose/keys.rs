//! Signing keys (RSA, RS256) with stable `kid`s, and public key sets (JWKS, RFC 7517).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::unverified::ReadTokens;
use super::{JoseError, JwtFormatError, PublicKey, UnverifiedJwt};

/// A fresh 2048-bit RSA private key as PKCS#8 PEM: the one generator of every RSA key the lab
/// makes (JWS signing keys, rotated keys, the SAML signing key), with the `rsa` crate.
pub fn generate_rsa_pem() -> Result<String, JoseError> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::PrivateKey::new(&mut rand::rng(), 2048).map_err(|e| JoseError::RsaGeneration(Box::new(e)))?;
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| JoseError::PemEncoding(Box::new(e)))?;
    Ok(pem.to_string())
}

/// A private signing key and the public JWK derived from it.
pub struct SigningKey {
    kid: String,
    signer: Box<dyn josekit::jws::JwsSigner>,
    public_jwk: Map<String, Value>,
    /// The public key as SPKI PEM (what an HS256 confusion attack keys its HMAC with).
    public_pem: Vec<u8>,
    pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads an RSA private key (PKCS#8 or PKCS#1 PEM) as an RS256 signer with key id `kid`.
    pub fn from_pem(kid: &str, pem: &str) -> Result<Self, JoseError> {
        let signer = super::rs256::Rs256Signer::from_pem(pem.as_bytes())?;
        let pair = josekit::jws::RS256.key_pair_from_pem(pem.as_bytes())?;
        let mut jwk = pair.to_jwk_public_key();
        jwk.set_key_id(kid);
        jwk.set_key_use("sig");
        jwk.set_algorithm("RS256");
        Ok(Self {
            kid: kid.to_owned(),
            signer: Box::new(signer),
            public_jwk: jwk.into(),
            public_pem: josekit::jwk::KeyPair::to_pem_public_key(&pair),
            pem: pem.to_owned(),
        })
    }

    /// Generates a fresh 2048-bit RSA key ([`generate_rsa_pem`]) and returns it with its PKCS#8 PEM.
    pub fn generate(kid: &str) -> Result<Self, JoseError> {
        Self::from_pem(kid, &generate_rsa_pem()?)
    }

    /// The key id published in the JWKS and put in every JWS header this key signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The PKCS#8 PEM of the private key. Security: lab keys only; never log it.
    pub fn private_pem(&self) -> &str {
        &self.pem
    }

    /// The public JWK (`kty`, `n`, `e`, `kid`, `use`, `alg`): the only part that is published.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.public_jwk
    }

    /// The public key as SPKI PEM.
    pub fn public_pem(&self) -> &[u8] {
        &self.public_pem
    }

    /// The RS256 signature of `input` (the JWS signing input), for [`super::forge`].
    pub(super) fn sign_input(&self, input: &[u8]) -> Result<Vec<u8>, JoseError> {
        Ok(self.signer.sign(input)?)
    }

    /// Signs `claims` as a compact JWS with header `{"typ":typ,"alg":"RS256","kid":kid}`.
    pub fn sign<T: serde::Serialize>(&self, typ: &str, claims: &T) -> Result<String, JoseError> {
        let payload = serde_json::to_vec(claims).map_err(JoseError::Claims)?;
        let mut header = josekit::jws::JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(&self.kid);
        Ok(josekit::jws::serialize_compact(&payload, &header, self.signer.as_ref())?)
    }
}

/// A JSON Web Key Set: public keys looked up by `kid`. Each key builds its verifier on first use
/// and keeps it (and its memo of verified signatures) as long as a set holds it, and the set
/// remembers the tokens it read ([`KeySet::parse`]); clones of a set share both.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<PublicKey>>,
    read: Arc<ReadTokens>,
}

impl KeySet {
    /// The public keys of `signers`.
    pub fn from_signing_keys<'a>(signers: impl IntoIterator<Item = &'a SigningKey>) -> Self {
        let keys = signers.into_iter().map(|k| Arc::new(PublicKey::from_jwk(k.public_jwk().clone()))).collect();
        Self { keys, read: Arc::default() }
    }

    /// Parses a JWKS document (`{"keys":[...]}`), keeping only entries that are JSON objects.
    pub fn from_jwks(doc: &Value) -> Result<Self, JoseError> {
        let keys = doc.get("keys").and_then(Value::as_array).ok_or(JoseError::NoKeysArray)?;
        let keys = keys.iter().filter_map(Value::as_object).map(|k| Arc::new(PublicKey::from_jwk(k.clone()))).collect();
        Ok(Self { keys, read: Arc::default() })
    }

    /// [`UnverifiedJwt::parse`] for a token these keys are to verify, remembering what it decoded:
    /// the same token read again (a client calls an API with one access token until it expires)
    /// shares those parts instead of decoding them again. Nothing is trusted the more for it.
    pub fn parse<'a>(&self, raw: &'a str) -> Result<UnverifiedJwt<'a>, JwtFormatError> {
        self.read.parse(raw)
    }

    /// The key whose `kid` equals `kid`.
    pub fn find(&self, kid: &str) -> Option<&Arc<PublicKey>> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }

    /// The `kid`s in this set, for error messages.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|k| k.kid()).collect()
    }

    /// The JWKS document.
    pub fn to_jwks(&self) -> Value {
        let keys: Vec<&Map<String, Value>> = self.keys.iter().map(|k| k.jwk()).collect();
        serde_json::json!({ "keys": keys })
    }
}
