//! `lab check`: the lab grades someone else's server against the specifications.
//!
//! - [`as_server`]: the lab plays the IdP that an ID-JAG authorization server trusts and sends it
//!   the valid ID-JAG, then one ID-JAG per defect the specs require it to refuse (draft-04, RFC
//!   7523, RFC 7519, RFC 8725), a replay, a misspelled grant type and client authentication
//!   failures.
//! - [`resource`]: the lab plays the authorization server a protected resource (REST or MCP)
//!   trusts and calls it without a token, with a valid access token and with one defective access
//!   token per rule of RFC 6750 and RFC 9068; it reads the RFC 9728 metadata.
//! - [`report`]: the results as a table for people, JSON, and JUnit XML for CI.
//!
//! Each [`Case`] names its rule (a [`Citation`] of [`xaa_core::spec`]), what the lab sent, what the
//! specs expect back, what came back, and a [`Verdict`]: a MUST not met fails, a SHOULD, MAY, lab
//! decision or profile rule not met is a warning (a profile rule fails when the server says it
//! follows the profile: `--mcp`). Every token is minted by [`crate::mint`], with one [`Defect`].
//!
//! [`Defect`]: crate::mint::Defect

pub mod as_server;
pub(crate) mod grade;
pub mod report;
pub mod resource;

use std::time::Duration;

use serde::Serialize;
use xaa_core::spec::{Citation, Level};

use crate::config::Urls;
use crate::fixtures::Fixtures;
use crate::mint::{MintError, MintRequest, Signers, TokenKind};

pub use report::{Report, Summary};

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// What the specs expect came back.
    Pass,
    /// A MUST was not met.
    Fail,
    /// A SHOULD (or a MAY, a lab decision, a profile rule) was not met.
    Warning,
    /// Not run, and why is in `observed`.
    Skipped,
}

impl Verdict {
    /// Its name: `pass`, `fail`, `warning` or `skipped` (as in the JSON).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Warning => "warning",
            Verdict::Skipped => "skipped",
        }
    }

    /// The mark the table shows: ✓, ✗, ! or –.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::Warning => "!",
            Verdict::Skipped => "–",
        }
    }
}

/// One check: the rule, what was sent, what the specs expect, what came back, the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// Short stable id (`typ-jwt`).
    pub id: &'static str,
    /// What the lab sent.
    pub sent: &'static str,
    /// The rule.
    pub spec: Citation,
    /// How strongly the rule asks for it.
    pub level: Level,
    /// What the specs expect back.
    pub expected: String,
    /// What came back (or why the check did not run).
    pub observed: String,
    /// The verdict.
    pub verdict: Verdict,
    /// How long the exchange took, in milliseconds.
    pub millis: u64,
}

/// What a check is: its id, what it sends, the rule and the expectation. Each kind of check has a
/// catalogue of these (`as_server::CHECKS`, `resource::CHECKS`); docs/conformance.md shows them.
#[derive(Clone, Copy, Debug)]
pub struct Check<P: 'static> {
    /// Short stable id.
    pub id: &'static str,
    /// What the lab sends, in a few words.
    pub sends: &'static str,
    /// The rule.
    pub spec: Citation,
    /// What the specs expect back.
    pub expect: grade::Expect,
    /// How the request is made.
    pub(crate) probe: P,
}

impl<P> Check<P> {
    /// The case of this check with `graded`, the outcome of its exchange.
    pub(crate) fn case(&self, graded: grade::Graded, strict_profile: bool, took: Duration) -> Case {
        let level = self.spec.level();
        let (verdict, observed) = graded.verdict(level, strict_profile);
        Case {
            id: self.id,
            sent: self.sends,
            spec: self.spec,
            level,
            expected: self.expect.to_string(),
            observed,
            verdict,
            millis: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The case of this check when it did not run, saying why.
    pub(crate) fn skipped(&self, why: impl Into<String>) -> Case {
        self.case(grade::Graded::Skipped(why.into()), false, Duration::ZERO)
    }
}

/// The lab as the party the server under test trusts: its URLs, fixtures and signing keys, and
/// the clock and randomness its tokens take.
#[derive(Clone, Copy, Debug)]
pub struct LabParty<'a> {
    /// The lab's URLs (the IdP's and the authorization server's issuers).
    pub urls: &'a Urls,
    /// The fixtures (the user and the requestor the tokens name).
    pub fixtures: &'a Fixtures,
    /// The signing keys.
    pub keys: Signers<'a>,
    /// The time the tokens are issued at (NumericDate): the server under test's clock, not the lab's.
    pub now: i64,
    /// Where `jti`s come from.
    pub entropy: &'a dyn xaa_core::secret::Entropy,
}

impl LabParty<'_> {
    /// A token of `kind` as `req` says (its `access_token` member).
    pub(crate) fn mint(&self, kind: TokenKind, req: &MintRequest) -> Result<String, MintError> {
        let out = crate::mint::mint(kind, req, self.urls, self.fixtures, self.keys, self.now, self.entropy)?;
        Ok(out[if kind == TokenKind::IdToken { "id_token" } else { "access_token" }].as_str().unwrap_or("").to_owned())
    }

    /// The requestor whose tokens the lab mints (the bring-your-own client of the fixtures).
    pub(crate) fn requestor(&self) -> String {
        self.fixtures
            .requestor(crate::ClientRole::BringYourOwn)
            .or_else(|| self.fixtures.requestors.first())
            .map(|r| r.idp.client_id.to_string())
            .unwrap_or_default()
    }
}

/// Why `lab check` could not run at all (a refusal of the server under test is a [`Case`]).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A token could not be minted.
    #[error("minting a token: {0}")]
    Mint(#[from] MintError),
    /// A key could not be generated.
    #[error("generating a key: {0}")]
    Key(#[from] xaa_core::jose::JoseError),
    /// What to check is not well named.
    #[error("{0}")]
    Target(String),
}

/// The HTTP client `lab check` calls the server under test with: the system's trusted roots and
/// `extra_ca` (PEM), no redirects (a redirect is an answer to grade), 10 s per request.
pub fn http_client(extra_ca: Option<&[u8]>) -> Result<reqwest::Client, CheckError> {
    crate::outbound::checker_client(extra_ca).map_err(|e| CheckError::Target(e.to_string()))
}

/// What came back from one request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The body, when it is JSON.
    pub(crate) json: Option<serde_json::Value>,
    /// Every `WWW-Authenticate` header.
    pub(crate) challenges: Vec<String>,
    /// The `Cache-Control` header.
    pub(crate) cache_control: Option<String>,
    /// Why there was no answer (the request failed).
    pub(crate) failed: Option<String>,
}

/// The most of an answer `lab check` reads.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Sends `request` and reads the answer (no answer is an [`Answer`] with `failed` set).
pub(crate) async fn exchange(request: reqwest::RequestBuilder) -> Answer {
    let resp = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                "no answer in time"
            } else if e.is_connect() {
                "connection refused or host unreachable"
            } else {
                "the request failed"
            };
            return Answer { failed: Some(why.into()), ..Answer::default() };
        }
    };
    let header =
        |name: reqwest::header::HeaderName| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let challenges = resp
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let cache_control = header(reqwest::header::CACHE_CONTROL);
    let status = resp.status().as_u16();
    let body = crate::outbound::read_capped(resp, MAX_ANSWER_BYTES).await;
    let json = body.as_deref().ok().and_then(|b| serde_json::from_slice(b).ok());
    Answer { status, json, challenges, cache_control, failed: None }
}

#[cfg(test)]
mod docs_tests {
    use super::*;

    /// The markdown table of `checks`, as docs/conformance.md shows it.
    fn table<P: 'static>(checks: impl Iterator<Item = &'static Check<P>>) -> String {
        let mut out =
            String::from("| check | the lab sends | expected | level | rule |\n| --- | --- | --- | --- | --- |\n");
        for c in checks {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                c.id,
                c.sends,
                c.expect,
                c.spec.level().label(),
                c.spec
            ));
        }
        out
    }

    #[test]
    fn docs_conformance_lists_every_check_with_its_rule() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/conformance.md");
        let mut doc = std::fs::read_to_string(&path).unwrap();
        // `XAA_UPDATE_DOCS=1 cargo test -p xaa-lab docs_conformance` writes the tables in.
        let update = std::env::var_os("XAA_UPDATE_DOCS").is_some();
        let blocks = [
            ("as", table(as_server::CHECKS.iter())),
            ("resource-rest", table(resource::checks(false))),
            ("resource-mcp", table(resource::checks(true))),
        ];
        for (name, expected) in blocks {
            let (open, close) = (format!("<!-- checks:{name} -->\n"), format!("<!-- /checks:{name} -->"));
            let start = doc.find(&open).unwrap_or_else(|| panic!("no {open} in {}", path.display())) + open.len();
            let mut end = doc[start..].find(&close).map(|e| start + e).unwrap();
            if update {
                doc.replace_range(start..end, &expected);
                std::fs::write(&path, &doc).unwrap();
                end = start + expected.len();
            }
            assert_eq!(&doc[start..end], expected, "docs/conformance.md, block {name}");
        }
    }
}
