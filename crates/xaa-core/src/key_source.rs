//! Where a validator finds an issuer's public keys: a fixed set ([`StaticKeySource`]) or the
//! issuer's own metadata and JWKS over HTTP ([`HttpKeySource`]), cached and refetched once when an
//! unknown `kid` appears (key rotation, RFC 8725 §3.10). Never from `jku`/`x5u`/`jwk` headers.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::http_client::LazyClient;
use crate::jose::{KeySet, PublicKey};

/// A future returned by [`KeySource::key`].
pub type KeyFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Arc<PublicKey>>, String>> + Send + 'a>>;

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

    async fn fetch(&self, issuer: &str) -> Result<KeySet, String> {
        let mut last_error = String::new();
        for well_known in ["openid-configuration", "oauth-authorization-server"] {
            let url = format!("{issuer}/.well-known/{well_known}");
            let meta: Value = match self.get_json(&url).await {
                Ok(m) => m,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            // RFC 8414 §3.3 / OIDC Discovery §4.3: the document must name the same issuer.
            if meta.get("issuer").and_then(Value::as_str) != Some(issuer) {
                return Err(format!("{url} names issuer {:?}, not \"{issuer}\"", meta.get("issuer")));
            }
            let jwks_uri =
                meta.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| format!("{url} has no jwks_uri"))?;
            let jwks = self.get_json(jwks_uri).await?;
            return KeySet::from_jwks(&jwks).map_err(|e| format!("{jwks_uri}: {e}"));
        }
        Err(last_error)
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get()
            .map_err(|e| e.to_string())?
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url} failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GET {url} answered {}", resp.status()));
        }
        resp.json().await.map_err(|e| format!("GET {url} did not return JSON: {e}"))
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
