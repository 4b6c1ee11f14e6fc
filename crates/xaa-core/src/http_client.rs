//! One outbound HTTP client per lab, built lazily: a TLS-capable `reqwest::Client` costs tens of
//! milliseconds to build (OpenSSL 3 context set-up), so it is built off the start-up path.

use std::error::Error;
use std::sync::{Arc, OnceLock};

/// Why the outbound client could not be built: the factory's own error, kept as the source (and
/// shared, since every later use of the client reports the same failure). Its text is the source's.
#[derive(Clone, Debug)]
pub struct HttpClientError {
    cause: Arc<dyn Error + Send + Sync>,
}

impl HttpClientError {
    /// The failure `cause` of a [`ClientFactory`].
    pub fn new(cause: impl Error + Send + Sync + 'static) -> Self {
        Self { cause: Arc::new(cause) }
    }
}

impl std::fmt::Display for HttpClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cause.fmt(f)
    }
}

impl Error for HttpClientError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.cause)
    }
}

/// Builds the client: redirects off, a timeout, the trusted roots of the caller's choice.
pub type ClientFactory = Box<dyn Fn() -> Result<reqwest::Client, HttpClientError> + Send + Sync>;

/// A `reqwest::Client` built on first use (or by [`LazyClient::warm`]).
pub struct LazyClient {
    make: ClientFactory,
    client: OnceLock<Result<reqwest::Client, HttpClientError>>,
}

impl std::fmt::Debug for LazyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient").field("built", &self.client.get().is_some()).finish()
    }
}

impl LazyClient {
    /// A client that `make` builds when first needed.
    pub fn new(make: ClientFactory) -> Self {
        Self { make, client: OnceLock::new() }
    }

    /// The client, building it now if needed (this blocks for the build).
    pub fn get(&self) -> Result<&reqwest::Client, HttpClientError> {
        self.client.get_or_init(|| (self.make)()).as_ref().map_err(Clone::clone)
    }

    /// Builds the client now, if not built yet.
    pub fn warm(&self) {
        let _ = self.get();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("HTTP client: no TLS backend")]
    struct NoTls;

    #[test]
    fn a_failed_build_keeps_its_text_and_its_source() {
        let client = LazyClient::new(Box::new(|| Err(HttpClientError::new(NoTls))));
        let err = client.get().unwrap_err();
        assert_eq!(err.to_string(), "HTTP client: no TLS backend");
        assert!(err.source().is_some_and(|s| s.is::<NoTls>()));
    }
}
