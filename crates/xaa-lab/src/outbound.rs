//! The lab's own HTTP clients: the one the resource AS and the notes app use to call the lab's
//! servers, and the TLS connector every client of the lab (tests included) shares.
//!
//! The console also calls servers people name in it (the resource wizard's health check and
//! discovery, the explorer's steps against a registered resource app). Those never reach a
//! link-local address, where clouds keep their metadata services, unless the lab was started
//! with `--allow-link-local`: [`forbidden`] names the addresses, the client's resolver drops them
//! from every name it resolves, and [`check_destination`] refuses a URL naming one literally.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
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

/// Whether `ip` is an address the lab does not call for people in the room: IPv4 link-local
/// 169.254.0.0/16 (the metadata services of AWS, GCP, Azure and others at 169.254.169.254),
/// IPv6 link-local fe80::/10, AWS's IPv6 metadata address fd00:ec2::254, and those written as
/// IPv4-mapped IPv6.
pub(crate) fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_link_local(),
            None => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == AWS_IPV6_METADATA,
        },
    }
}

/// AWS's instance metadata service over IPv6.
const AWS_IPV6_METADATA: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

/// Why the lab will not call a URL someone named.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Destination {
    /// The URL is not an absolute http(s) URL with a host.
    #[error("{url} is not an http(s) URL with a host")]
    NotHttp { url: String },
    /// It names, or its host resolves to, a link-local or metadata address.
    #[error(
        "{url} reaches {ip}, a link-local or cloud metadata address: the lab does not call those (start it with --allow-link-local to allow them)"
    )]
    LinkLocal { url: String, ip: IpAddr },
}

/// Refuses `url` when it names a [`forbidden`] address or its host name resolves to one (unless
/// `allow_link_local`). A host that does not resolve passes: the call itself will say so.
pub(crate) async fn check_destination(url: &str, allow_link_local: bool) -> Result<(), Destination> {
    let parsed = reqwest::Url::parse(url).map_err(|_| Destination::NotHttp { url: url.to_owned() })?;
    let host = match parsed.host_str() {
        Some(h) if matches!(parsed.scheme(), "http" | "https") && !h.is_empty() => h,
        _ => return Err(Destination::NotHttp { url: url.to_owned() }),
    };
    if allow_link_local {
        return Ok(());
    }
    let link_local = |ip: IpAddr| Destination::LinkLocal { url: url.to_owned(), ip };
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return if forbidden(ip) { Err(link_local(ip)) } else { Ok(()) };
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs = tokio::net::lookup_host((host, port)).await.map(|a| a.collect::<Vec<_>>()).unwrap_or_default();
    match addrs.into_iter().map(|a| a.ip()).find(|ip| forbidden(*ip)) {
        Some(ip) => Err(link_local(ip)),
        None => Ok(()),
    }
}

/// The system resolver, less the [`forbidden`] addresses: a name that resolves only to those
/// fails to resolve, so no call (nor a later DNS answer) reaches them.
#[derive(Debug)]
struct NoLinkLocal;

impl reqwest::dns::Resolve for NoLinkLocal {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|a| !forbidden(a.ip())).collect();
            if kept.is_empty() {
                let why = format!("{} resolves only to link-local or metadata addresses", name.as_str());
                return Err(why.into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The client the resource AS and the notes app use to call the lab, and the console uses to call
/// the servers people name in it: no redirects, a timeout, only the lab CA as a trusted root, and
/// no link-local addresses unless `allow_link_local`.
pub(crate) fn outbound_client(
    lab_ca_pem: Option<&[u8]>,
    allow_link_local: bool,
) -> Result<reqwest::Client, OutboundError> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .user_agent(concat!("xaa-lab/", env!("CARGO_PKG_VERSION")));
    let builder = if allow_link_local { builder } else { builder.dns_resolver(Arc::new(NoLinkLocal)) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_and_metadata_addresses_are_forbidden_and_nothing_else() {
        for ip in ["169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            assert!(forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["127.0.0.1", "10.0.0.1", "192.168.1.20", "::1", "fd00:ec2::253", "2001:db8::1", "169.255.0.1"] {
            assert!(!forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_url_naming_a_metadata_address_is_refused_unless_allowed() {
        let refused = check_destination("http://169.254.169.254/latest/meta-data", false).await.unwrap_err();
        assert_eq!(
            refused.to_string(),
            "http://169.254.169.254/latest/meta-data reaches 169.254.169.254, a link-local or cloud metadata address: the lab does not call those (start it with --allow-link-local to allow them)"
        );
        assert!(check_destination("http://[fd00:ec2::254]/", false).await.is_err());
        assert_eq!(check_destination("http://169.254.169.254/", true).await, Ok(()));
        assert_eq!(check_destination("http://127.0.0.1:5000/health", false).await, Ok(()));
        assert_eq!(check_destination("http://localhost:5000/health", false).await, Ok(()));
        assert_eq!(
            check_destination("file:///etc/passwd", false).await.unwrap_err().to_string(),
            "file:///etc/passwd is not an http(s) URL with a host"
        );
    }

    #[tokio::test]
    async fn the_resolver_drops_forbidden_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let addrs: Vec<_> = NoLinkLocal.resolve(name).await.unwrap().collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
