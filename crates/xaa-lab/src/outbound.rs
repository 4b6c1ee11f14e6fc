//! The lab's own HTTP clients: the one the resource AS and the notes app use to call the lab's
//! servers, and the TLS connector every client of the lab (tests included) shares.

use std::time::Duration;

/// Why the lab's outbound client could not be built, or an answer could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutboundError {
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The answer's body broke off.
    #[error("{0}")]
    Body(#[source] reqwest::Error),
    /// The answer is longer than the lab reads.
    #[error("the answer is longer than {kib} KiB")]
    TooLong {
        /// The most the lab reads, in KiB.
        kib: usize,
    },
}

/// The client the resource AS and the notes app use to call the lab: no redirects, a timeout, and
/// only the lab CA as a trusted root (it calls nothing but the lab's own servers).
pub(crate) fn outbound_client(lab_ca_pem: Option<&[u8]>) -> Result<reqwest::Client, OutboundError> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .user_agent(concat!("xaa-lab/", env!("CARGO_PKG_VERSION")));
    let builder = match connector(lab_ca_pem) {
        Some(tls) => builder.tls_backend_preconfigured(tls),
        None => builder,
    };
    builder.build().map_err(OutboundError::Client)
}

/// The client of `lab check`, which calls servers anywhere: the system's trusted roots and
/// `extra_ca` (PEM, e.g. the lab CA or the server under test's own), no redirects, 10 s per request.
pub(crate) fn checker_client(extra_ca: Option<&[u8]>) -> Result<reqwest::Client, OutboundError> {
    let mut tls = native_tls::TlsConnector::builder();
    if let Some(cert) = extra_ca.and_then(|pem| native_tls::Certificate::from_pem(pem).ok()) {
        tls.add_root_certificate(cert);
    }
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("xaa-lab-check/", env!("CARGO_PKG_VERSION")));
    let builder = match tls.build() {
        Ok(tls) => builder.tls_backend_preconfigured(tls),
        Err(_) => builder,
    };
    builder.build().map_err(OutboundError::Client)
}

/// The TLS connector trusting only `ca` (PEM). Building one costs ~100 ms of CPU (an OpenSSL
/// context), so the one without a CA is built once per process and shared by every client.
pub(crate) fn connector(ca: Option<&[u8]>) -> Option<native_tls::TlsConnector> {
    static PLAIN: std::sync::OnceLock<Option<native_tls::TlsConnector>> = std::sync::OnceLock::new();
    let build = |ca: Option<&[u8]>| {
        let mut b = native_tls::TlsConnector::builder();
        b.disable_built_in_roots(true);
        if let Some(cert) = ca.and_then(|pem| native_tls::Certificate::from_pem(pem).ok()) {
            b.add_root_certificate(cert);
        }
        b.build().ok()
    };
    match ca {
        None => PLAIN.get_or_init(|| build(None)).clone(),
        Some(pem) => build(Some(pem)),
    }
}

/// Reads at most `cap` bytes of a response body; `Err` when the body is longer or breaks off
/// (answers of servers people name in the console, never trusted to be small).
pub(crate) async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, OutboundError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(OutboundError::Body)? {
        if body.len() + chunk.len() > cap {
            return Err(OutboundError::TooLong { kib: cap / 1024 });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
