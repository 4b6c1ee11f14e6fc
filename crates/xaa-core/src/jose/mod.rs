//! JOSE: signing keys and JWKS ([`keys`]), compact JWS signing ([`SigningKey::sign`]), the public
//! keys that verify signatures ([`public_key`]) and the unverified view of a compact JWT
//! ([`unverified`]), and the tokens a validator must refuse, made on purpose ([`forge`]).
//! `josekit` and `rsa` are used only here.

pub mod forge;
pub mod keys;
pub mod public_key;
mod rs256;
pub mod unverified;

pub use keys::{KeySet, SigningKey, generate_rsa_pem};
pub use public_key::PublicKey;
pub use unverified::{JoseHeader, JwsPart, JwtFormatError, UnverifiedJwt};

/// Signature algorithms a validator accepts (RFC 8725 §3.1): asymmetric only, never `none` or HS*.
pub const ALLOWED_ALGS: &[&str] = &["RS256", "ES256"];

/// Failure to load, generate or use a key. Each text is the one the refusals quote.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    /// `josekit` refused a key, a signature or a JWS (its text as it is).
    #[error("{0}")]
    Josekit(#[source] josekit::JoseError),
    /// The RSA key could not be generated (boxed: `rsa`'s errors are large and this one is rare).
    #[error("RSA key generation failed: {0}")]
    RsaGeneration(#[source] Box<rsa::Error>),
    /// The generated RSA key could not be encoded as PKCS#8 PEM.
    #[error("PEM encoding failed: {0}")]
    PemEncoding(#[source] Box<rsa::pkcs8::Error>),
    /// The claims to sign do not serialize to JSON.
    #[error("{0}")]
    Claims(#[source] serde_json::Error),
    /// A JWKS document without a `keys` array (RFC 7517 §5).
    #[error("the JWKS has no \"keys\" array")]
    NoKeysArray,
    /// The key's own `alg` is not the token's (no RS/ES or RS/HS confusion).
    #[error("the key is for {key_alg}, the token says {alg}")]
    AlgorithmMismatch {
        /// The `alg` member of the JWK.
        key_alg: String,
        /// The `alg` of the token's header.
        alg: String,
    },
    /// The token's `alg` is not in [`ALLOWED_ALGS`].
    #[error("algorithm {alg} is not allowed")]
    AlgorithmNotAllowed {
        /// The `alg` of the token's header.
        alg: String,
    },
}

impl From<josekit::JoseError> for JoseError {
    fn from(e: josekit::JoseError) -> Self {
        JoseError::Josekit(e)
    }
}
