//! Keys over HTTP (feature `http`): discovery, then the issuer's JWKS, cached per issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use super::{KeyFuture, KeySource, KeySourceError};
use crate::http_client::LazyClient;
use crate::jose::KeySet;

/// Keys fetched from `{issuer}/.well-known/openid-configuration` (then RFC 8414's
/// `oauth-authorization-server`) → `jwks_uri`, cached per issuer.
#[derive(Debug)]
pub struct HttpKeySource {
    http: Arc<LazyClient>,
    min_refetch: Duration,
    cache: Mutex<HashMap<String, (KeySet, Instant)>>,
}

impl HttpKeySource {
    /// A key source fetching with `http` (redirects off, timeout, trusted roots: the caller's
    /// choice). An unknown `kid` triggers at most one refetch per `min_refetch`.
    pub fn new(http: Arc<LazyClient>, min_refetch: Duration) -> Self {
        Self { http, min_refetch, cache: Mutex::new(HashMap::new()) }
    }

    async fn fetch(&self, issuer: &str) -> Result<KeySet, KeySourceError> {
        // OIDC Discovery first, then RFC 8414; when both fail, the second failure is reported.
        let oidc = format!("{issuer}/.well-known/openid-configuration");
        let (url, meta) = match self.get_json(&oidc).await {
            Ok(meta) => (oidc, meta),
            Err(_) => {
                let rfc8414 = format!("{issuer}/.well-known/oauth-authorization-server");
                let meta = self.get_json(&rfc8414).await?;
                (rfc8414, meta)
            }
        };
        // RFC 8414 §3.3 / OIDC Discovery §4.3: the document must name the same issuer.
        if meta.get("issuer").and_then(Value::as_str) != Some(issuer) {
            let found = meta.get("issuer").cloned().map(Box::new);
            return Err(KeySourceError::DiscoveryIssuer { url, found, expected: issuer.to_owned() });
        }
        let Some(jwks_uri) = meta.get("jwks_uri").and_then(Value::as_str) else {
            return Err(KeySourceError::NoJwksUri { url });
        };
        let jwks = self.get_json(jwks_uri).await?;
        KeySet::from_jwks(&jwks).map_err(|source| KeySourceError::Jwks { url: jwks_uri.to_owned(), source })
    }

    async fn get_json(&self, url: &str) -> Result<Value, KeySourceError> {
        let client = self.http.get().map_err(KeySourceError::Client)?;
        let resp =
            client.get(url).send().await.map_err(|source| KeySourceError::Http { url: url.to_owned(), source })?;
        if !resp.status().is_success() {
            return Err(KeySourceError::Status { url: url.to_owned(), status: resp.status() });
        }
        resp.json().await.map_err(|source| KeySourceError::NotJson { url: url.to_owned(), source })
    }
}

impl KeySource for HttpKeySource {
    fn key<'a>(&'a self, issuer: &'a str, kid: &'a str) -> KeyFuture<'a> {
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            if let Some((keys, fetched)) = cache.get(issuer) {
                if let Some(k) = keys.find(kid) {
                    return Ok(Some(Arc::clone(k)));
                }
                if fetched.elapsed() < self.min_refetch {
                    return Ok(None);
                }
            }
            let keys = self.fetch(issuer).await?;
            let found = keys.find(kid).cloned();
            cache.insert(issuer.to_owned(), (keys, Instant::now()));
            Ok(found)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_client::HttpClientError;

    #[tokio::test]
    async fn a_client_that_cannot_be_built_is_the_cause() {
        #[derive(Debug, thiserror::Error)]
        #[error("HTTP client: no TLS backend")]
        struct NoTls;
        let http = Arc::new(LazyClient::new(Box::new(|| Err(HttpClientError::new(NoTls)))));
        let source = HttpKeySource::new(http, Duration::from_secs(60));
        let err = source.key("https://idp.example", "k").await.unwrap_err();
        assert!(matches!(err, KeySourceError::Client(_)), "{err:?}");
        assert_eq!(err.to_string(), "HTTP client: no TLS backend");
    }
}
