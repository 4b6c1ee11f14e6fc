//! Where a validator finds an issuer's public keys: a fixed set ([`StaticKeySource`]) or the
//! issuer's own metadata and JWKS over HTTP (`HttpKeySource`), cached and refetched once when an
//! unknown `kid` appears (key rotation, RFC 8725 §3.10). Never from `jku`/`x5u`/`jwk` headers.
//! The HTTP source needs the `http` feature.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

#[cfg(feature = "http")]
use crate::http_client::HttpClientError;
use crate::jose::{JoseError, KeySet, PublicKey};

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
pub use http::HttpKeySource;

/// A future returned by [`KeySource::key`].
pub type KeyFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Arc<PublicKey>>, KeySourceError>> + Send + 'a>>;

/// Why an issuer's keys cannot be fetched. Each text completes "the keys of … could not be
/// fetched: " in a refusal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    /// The outbound HTTP client could not be built.
    #[cfg(feature = "http")]
    #[error("{0}")]
    Client(#[source] HttpClientError),
    /// The request got no answer (connection, TLS, timeout).
    #[cfg(feature = "http")]
    #[error("GET {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// Why there was no answer.
        source: reqwest::Error,
    },
    /// The answer's status is not a success.
    #[cfg(feature = "http")]
    #[error("GET {url} answered {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status answered.
        status: reqwest::StatusCode,
    },
    /// The answer's body is not JSON (or broke off).
    #[cfg(feature = "http")]
    #[error("GET {url} did not return JSON: {source}")]
    NotJson {
        /// The URL requested.
        url: String,
        /// Why the body could not be read as JSON (its source is the JSON error, if any).
        source: reqwest::Error,
    },
    /// The metadata document names another issuer (RFC 8414 §3.3, OIDC Discovery §4.3).
    #[error("{url} names issuer {found:?}, not \"{expected}\"")]
    DiscoveryIssuer {
        /// The metadata URL.
        url: String,
        /// Its `issuer` member, if any (boxed: it is any JSON value).
        found: Option<Box<Value>>,
        /// The issuer whose keys are wanted.
        expected: String,
    },
    /// The metadata document has no string `jwks_uri`.
    #[error("{url} has no jwks_uri")]
    NoJwksUri {
        /// The metadata URL.
        url: String,
    },
    /// The document at `jwks_uri` is not a JWKS.
    #[error("{url}: {source}")]
    Jwks {
        /// The `jwks_uri`.
        url: String,
        /// Why it is not a JWKS.
        source: JoseError,
    },
    /// Another [`KeySource`]'s failure, its text as it is.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// Finds the public key `kid` of a trusted `issuer`.
pub trait KeySource: Send + Sync {
    /// `Ok(None)` when the issuer has no such key; `Err` when its keys cannot be fetched.
    fn key<'a>(&'a self, issuer: &'a str, kid: &'a str) -> KeyFuture<'a>;
}

/// Keys known up front, per issuer.
#[derive(Clone, Debug, Default)]
pub struct StaticKeySource {
    by_issuer: HashMap<String, KeySet>,
}

impl StaticKeySource {
    /// Adds (or replaces) the keys of `issuer`.
    pub fn with_issuer(mut self, issuer: impl Into<String>, keys: KeySet) -> Self {
        self.by_issuer.insert(issuer.into(), keys);
        self
    }
}

impl KeySource for StaticKeySource {
    fn key<'a>(&'a self, issuer: &'a str, kid: &'a str) -> KeyFuture<'a> {
        let found = self.by_issuer.get(issuer).and_then(|k| k.find(kid)).cloned();
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::test_keys::TestKey;

    #[tokio::test]
    async fn a_static_source_hands_out_the_sets_own_key() {
        let keys = TestKey::A.key_set();
        let source = StaticKeySource::default().with_issuer("https://idp.example", keys.clone());
        let found = source.key("https://idp.example", TestKey::A.kid()).await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&found, keys.find(TestKey::A.kid()).unwrap()));
        assert!(source.key("https://idp.example", "other").await.unwrap().is_none());
        assert!(source.key("https://other.example", TestKey::A.kid()).await.unwrap().is_none());
    }

    #[test]
    fn the_texts_are_those_the_refusals_quote() {
        let url = || "https://idp.example/.well-known/openid-configuration".to_owned();
        let found = Some(Box::new(Value::from("https://evil.example")));
        let e = KeySourceError::DiscoveryIssuer { url: url(), found, expected: "https://idp.example".into() };
        assert_eq!(
            e.to_string(),
            r#"https://idp.example/.well-known/openid-configuration names issuer Some(String("https://evil.example")), not "https://idp.example""#
        );
        let e = KeySourceError::NoJwksUri { url: url() };
        assert_eq!(e.to_string(), "https://idp.example/.well-known/openid-configuration has no jwks_uri");
        #[cfg(feature = "http")]
        {
            let e = KeySourceError::Status { url: url(), status: reqwest::StatusCode::NOT_FOUND };
            assert_eq!(
                e.to_string(),
                "GET https://idp.example/.well-known/openid-configuration answered 404 Not Found"
            );
        }
        let source = KeySet::from_jwks(&serde_json::json!({})).unwrap_err();
        let e = KeySourceError::Jwks { url: "https://idp.example/jwks".into(), source };
        assert_eq!(e.to_string(), r#"https://idp.example/jwks: the JWKS has no "keys" array"#);
        assert!(e.source().is_some_and(|s| matches!(s.downcast_ref(), Some(JoseError::NoKeysArray))));
    }
}
