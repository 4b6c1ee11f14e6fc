//! The wizard's calls to the developer's servers: the health check, and the discovery of their
//! authorization server's token endpoint — RFC 8414 metadata (path-aware, §3.1), then OpenID
//! Connect discovery, then `{issuer}/token`. The lab's outbound client follows no redirects and
//! gives up after 5 s; answers are read up to [`MAX_METADATA_BYTES`].
//!
//! So that the wizard cannot serve as a port scanner in a shared room: every call counts against
//! one [`Budget`] of [`PROBES_PER_MINUTE`] (a refused registration's calls too), an answer says
//! only whether the server was reachable (never why not: refused, timed out or reset all read
//! "not reachable"), and link-local and metadata addresses are never called (see
//! [`crate::outbound::check_destination`]).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;

use crate::outbound::{OutboundError, read_capped};

/// The most of a metadata document or health answer the lab reads.
pub(crate) const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Calls the wizard makes to people's servers per minute of the lab clock, all together: a
/// registration takes one (its health check), or three with its own authorization server.
pub(crate) const PROBES_PER_MINUTE: usize = 20;

/// The wizard's calls in the last minute (lab clock), oldest first.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    sent: Mutex<VecDeque<i64>>,
}

impl Budget {
    /// Takes `calls` of this minute's [`PROBES_PER_MINUTE`] at `now`; when fewer are left, takes
    /// none and says in how many seconds enough will be.
    pub(crate) fn take(&self, calls: usize, now: i64) -> Result<(), i64> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        while sent.front().is_some_and(|t| *t <= now - 60) {
            sent.pop_front();
        }
        if sent.len() + calls > PROBES_PER_MINUTE {
            // The call that must age out first before `calls` fit.
            let oldest = sent.get(sent.len() + calls - PROBES_PER_MINUTE - 1).copied().unwrap_or(now);
            return Err((oldest + 60 - now).max(1));
        }
        sent.extend(std::iter::repeat_n(now, calls));
        Ok(())
    }
}

/// What the health check found.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    pub(crate) ok: bool,
    /// `GET <url>: 200 OK`, or why there was no good answer.
    pub(crate) text: String,
}

/// Calls `GET url` once; any 2xx answer is healthy.
pub(crate) async fn health(http: &reqwest::Client, url: &str) -> Health {
    match http.get(url).send().await {
        Ok(resp) => {
            let status = resp.status();
            let text = format!("GET {url}: {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
            Health { ok: status.is_success(), text: text.trim_end().to_owned() }
        }
        Err(_) => Health { ok: false, text: format!("GET {url}: not reachable") },
    }
}

/// The token endpoint found for an issuer, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Discovered {
    pub(crate) token_endpoint: String,
    /// Which document named it (or the fallback), as the page says it.
    pub(crate) source: String,
    /// The JWKS the metadata names (empty without metadata).
    pub(crate) jwks_uri: String,
    /// Each URL tried and what it gave, in order.
    pub(crate) tried: Vec<String>,
}

/// The RFC 8414 §3.1 metadata URL: the well-known segment goes between host and path
/// (`https://as.example/tenant` → `https://as.example/.well-known/oauth-authorization-server/tenant`).
pub(crate) fn rfc8414_url(issuer: &str) -> String {
    let (scheme, rest) = issuer.split_once("://").unwrap_or(("https", issuer));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.trim_end_matches('/');
    format!("{scheme}://{authority}/.well-known/oauth-authorization-server{path}")
}

/// The OpenID Connect Discovery 1.0 §4 URL: appended to the issuer.
pub(crate) fn oidc_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// Finds the token endpoint of `issuer`: RFC 8414 metadata, then OpenID Connect discovery, then
/// `{issuer}/token`. A document counts only when its `issuer` is exactly `issuer` (RFC 8414 §3.3)
/// and it names a `token_endpoint`.
pub(crate) async fn discover(http: &reqwest::Client, issuer: &str) -> Discovered {
    let mut tried = Vec::new();
    let documents = [
        (rfc8414_url(issuer), "RFC 8414 authorization server metadata"),
        (oidc_url(issuer), "OpenID Connect discovery"),
    ];
    for (url, source) in documents {
        match metadata(http, &url, issuer).await {
            Ok(doc) => {
                tried.push(format!("{url}: found"));
                let token_endpoint = doc["token_endpoint"].as_str().unwrap_or_default().to_owned();
                let jwks_uri = doc["jwks_uri"].as_str().unwrap_or_default().to_owned();
                return Discovered { token_endpoint, source: format!("{source} ({url})"), jwks_uri, tried };
            }
            Err(why) => tried.push(format!("{url}: {why}")),
        }
    }
    let token_endpoint = format!("{}/token", issuer.trim_end_matches('/'));
    Discovered {
        source: format!("fallback: no metadata found, so {{issuer}}/token ({token_endpoint})"),
        token_endpoint,
        jwks_uri: String::new(),
        tried,
    }
}

/// Why a metadata document does not count (the wizard lists each URL tried with this text).
#[derive(Debug, thiserror::Error)]
pub(crate) enum MetadataError {
    /// The request got no answer (why is not said: see the module's note).
    #[error("not reachable")]
    NoAnswer(#[source] reqwest::Error),
    /// The answer's status is not 2xx.
    #[error("{}", status_line(*.0))]
    Status(reqwest::StatusCode),
    /// The body broke off or is too long.
    #[error("{0}")]
    Body(#[source] OutboundError),
    /// The body is not JSON.
    #[error("not a JSON document")]
    NotJson(#[source] serde_json::Error),
    /// The document names another issuer (RFC 8414 §3.3).
    #[error("its issuer is {named}, not exactly {issuer} ({})", xaa_core::spec::RFC8414_3_3)]
    WrongIssuer {
        /// The `issuer` it names (JSON, `null` when absent).
        named: Value,
        /// The issuer asked for.
        issuer: String,
    },
    /// The document names no http(s) token endpoint.
    #[error("it names no token_endpoint URL")]
    NoTokenEndpoint,
}

/// `404 Not Found`, or only the code for a status without a reason phrase.
fn status_line(status: reqwest::StatusCode) -> String {
    format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")).trim_end().to_owned()
}

async fn metadata(http: &reqwest::Client, url: &str, issuer: &str) -> Result<Value, MetadataError> {
    let resp = http.get(url).header("accept", "application/json").send().await.map_err(MetadataError::NoAnswer)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(MetadataError::Status(status));
    }
    let body = read_capped(resp, MAX_METADATA_BYTES).await.map_err(MetadataError::Body)?;
    let doc: Value = serde_json::from_slice(&body).map_err(MetadataError::NotJson)?;
    if doc["issuer"].as_str() != Some(issuer) {
        return Err(MetadataError::WrongIssuer { named: doc["issuer"].clone(), issuer: issuer.to_owned() });
    }
    match doc["token_endpoint"].as_str() {
        Some(t) if t.starts_with("http://") || t.starts_with("https://") => Ok(doc),
        _ => Err(MetadataError::NoTokenEndpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_takes_twenty_calls_a_minute_and_says_when_more_fit() {
        let budget = Budget::default();
        for t in 0..PROBES_PER_MINUTE as i64 {
            assert_eq!(budget.take(1, t), Ok(()), "call {t}");
        }
        assert_eq!(budget.take(1, 20), Err(40), "the first call ages out at 60");
        assert_eq!(budget.take(3, 59), Err(3), "three fit once the calls of 0, 1 and 2 age out");
        assert_eq!(budget.take(1, 60), Ok(()));
        assert_eq!(budget.take(1, 60), Err(1));
        assert_eq!(budget.take(2, 62), Ok(()), "the calls of 1 and 2 aged out");
    }

    #[tokio::test]
    async fn an_unreachable_server_reads_not_reachable_whatever_the_reason() {
        // A port with no listener: bound, then dropped.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let http = crate::outbound::outbound_client(None, false).unwrap();
        let url = format!("http://127.0.0.1:{port}/health");
        let h = health(&http, &url).await;
        assert!(!h.ok);
        assert_eq!(h.text, format!("GET {url}: not reachable"));
    }

    #[test]
    fn the_well_known_segment_goes_where_each_spec_puts_it() {
        assert_eq!(rfc8414_url("https://as.example"), "https://as.example/.well-known/oauth-authorization-server");
        assert_eq!(rfc8414_url("https://as.example/"), "https://as.example/.well-known/oauth-authorization-server");
        assert_eq!(
            rfc8414_url("http://127.0.0.1:9000/tenants/a"),
            "http://127.0.0.1:9000/.well-known/oauth-authorization-server/tenants/a"
        );
        assert_eq!(
            oidc_url("http://127.0.0.1:9000/tenants/a/"),
            "http://127.0.0.1:9000/tenants/a/.well-known/openid-configuration"
        );
    }
}
