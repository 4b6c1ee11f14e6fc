//! One outbound HTTP client per lab, built lazily: a TLS-capable `reqwest::Client` costs tens of
//! milliseconds to build (OpenSSL 3 context set-up), so it is built off the start-up path.

use std::sync::OnceLock;

/// Builds the client: redirects off, a timeout, the trusted roots of the caller's choice.
pub type ClientFactory = Box<dyn Fn() -> Result<reqwest::Client, String> + Send + Sync>;

/// A `reqwest::Client` built on first use (or by [`LazyClient::warm`]).
pub struct LazyClient {
    make: ClientFactory,
    client: OnceLock<Result<reqwest::Client, String>>,
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
    pub fn get(&self) -> Result<&reqwest::Client, String> {
        self.client.get_or_init(|| (self.make)()).as_ref().map_err(Clone::clone)
    }

    /// Builds the client now, if not built yet.
    pub fn warm(&self) {
        let _ = self.get();
    }
}
