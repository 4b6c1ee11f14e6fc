//! `lab check resource`: the lab plays the authorization server a protected resource (a REST API
//! or an MCP server) trusts. It calls the resource without a token (RFC 6750 §3: a `Bearer`
//! challenge; for MCP, naming the RFC 9728 metadata), reads that metadata, then calls it with a
//! valid access token and with one defective access token per rule of RFC 9068 §4 and RFC 6750
//! §3.1 ([`CHECKS`]). When the resource trusts only its own authorization server, the checks
//! that need no token run alone.

use std::time::Instant;

use serde_json::{Value, json};
use xaa_core::jose::forge::Signature;
use xaa_core::spec::{self, Citation};
use xaa_core::urn;

use super::grade::{Expect, Graded};
use super::{Answer, Case, Check, CheckError, LabParty, Report, exchange};
use crate::mint::{MintRequest, TokenKind};

/// The `aud` of `aud-other`.
pub const OTHER_RESOURCE: &str = "https://other-resource.lab-check.invalid";
/// The `iss` of `iss-other`: an authorization server the resource does not trust.
pub const OTHER_ISSUER: &str = "https://other-as.lab-check.invalid";
/// The scope of `scope-missing`'s token: not one the endpoint needs.
pub const UNRELATED_SCOPE: &str = "lab-check.unrelated";
/// The user every access token is for.
const USER: &str = "alice@acme.example";

/// The protected resource under test.
#[derive(Clone, Debug, Default)]
pub struct ResourceTarget {
    /// Its resource identifier: the access tokens' `aud`, the base of its RFC 9728 metadata URL.
    pub resource: String,
    /// The URL called (a REST endpoint, or the MCP endpoint); the resource identifier by default.
    pub endpoint: String,
    /// It is an MCP server (the call is a JSON-RPC `initialize`; the MCP authorization rules apply).
    pub mcp: bool,
    /// The scope the endpoint needs: the valid token carries it.
    pub scope: String,
    /// A sibling resource of the same authorization server (`{resource}/lab-check-sibling` by default).
    pub sibling: Option<String>,
    /// The lab is the authorization server the resource trusts, so the token checks run.
    pub with_tokens: bool,
}

impl ResourceTarget {
    fn sibling(&self) -> String {
        self.sibling.clone().unwrap_or_else(|| format!("{}/lab-check-sibling", self.resource.trim_end_matches('/')))
    }
}

/// What the tampering of an access token can use.
#[derive(Debug)]
pub(crate) struct Forgery {
    now: i64,
    sibling: String,
}

/// Changes the valid access token's request into a defective one.
pub(crate) type Tamper = fn(&mut MintRequest, &Forgery);

/// How a check's request is made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Probe {
    /// No `Authorization` header.
    NoToken,
    /// The RFC 9728 metadata document.
    Metadata,
    /// Its `resource`.
    MetadataResource,
    /// An access token (the valid one when the tamper changes nothing).
    Token(Tamper),
}

/// Which resources a check applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applies {
    /// REST and MCP.
    Both,
    /// A REST API only.
    Rest,
    /// An MCP server only.
    Mcp,
}

const INVALID_TOKEN: Expect = Expect::Challenge { status: 401, error: Some("invalid_token") };
const RFC9068: Citation = Citation::of(&[spec::RFC9068_4, spec::RFC6750_3_1]);
const RESOURCE_METADATA: Expect = Expect::ChallengeParam { param: "resource_metadata" };

macro_rules! check {
    ($applies:ident, $id:literal, $sends:literal, $spec:expr, $expect:expr, $probe:expr) => {
        (Applies::$applies, Check { id: $id, sends: $sends, spec: $spec, expect: $expect, probe: $probe })
    };
}

/// Every check `lab check resource` runs, with the resources it applies to, in order.
pub(crate) const CHECKS: &[(Applies, Check<Probe>)] = &[
    check!(
        Both,
        "no-token",
        "no Authorization header",
        Citation::of(&[spec::RFC6750_3]),
        Expect::Challenge { status: 401, error: None },
        Probe::NoToken
    ),
    check!(
        Rest,
        "challenge-metadata",
        "no Authorization header",
        Citation::of(&[spec::RFC9728_5_1]),
        RESOURCE_METADATA,
        Probe::NoToken
    ),
    check!(
        Mcp,
        "challenge-metadata",
        "no Authorization header",
        Citation::of(&[spec::MCP_AUTH_SERVER_LOCATION, spec::RFC9728_5_1]),
        RESOURCE_METADATA,
        Probe::NoToken
    ),
    check!(
        Rest,
        "metadata",
        "GET its RFC 9728 metadata",
        Citation::of(&[spec::RFC9728_3]),
        Expect::Metadata,
        Probe::Metadata
    ),
    check!(
        Mcp,
        "metadata",
        "GET its RFC 9728 metadata",
        Citation::of(&[spec::MCP_AUTH_SERVER_LOCATION, spec::RFC9728_3]),
        Expect::Metadata,
        Probe::Metadata
    ),
    check!(
        Both,
        "metadata-resource",
        "(the metadata's resource)",
        Citation::of(&[spec::RFC9728_3_3]),
        Expect::MetadataResource,
        Probe::MetadataResource
    ),
    check!(
        Both,
        "token-valid",
        "a valid access token",
        Citation::of(&[spec::RFC9068_4]),
        Expect::Served,
        Probe::Token(|_, _| {})
    ),
    check!(
        Both,
        "aud-other",
        "aud of another resource",
        RFC9068,
        INVALID_TOKEN,
        Probe::Token(|r, _| r.aud = Some(OTHER_RESOURCE.into()))
    ),
    check!(
        Both,
        "aud-sibling",
        "aud of a sibling resource of the same AS",
        RFC9068,
        INVALID_TOKEN,
        Probe::Token(|r, f| r.aud = Some(f.sibling.clone()))
    ),
    check!(
        Both,
        "exp-past",
        "exp an hour ago",
        Citation::of(&[spec::RFC9068_4, spec::RFC7519_4_1_4]),
        INVALID_TOKEN,
        Probe::Token(|r, f| {
            r.defect.set.insert("iat".into(), json!(f.now - 3900));
            r.defect.set.insert("exp".into(), json!(f.now - 3600));
        })
    ),
    check!(
        Both,
        "typ-jwt",
        "typ \"JWT\"",
        Citation::of(&[spec::RFC9068_4, spec::RFC8725_3_11]),
        INVALID_TOKEN,
        Probe::Token(|r, _| r.typ = Some("JWT".into()))
    ),
    check!(
        Both,
        "typ-id-jag",
        "an ID-JAG's typ (oauth-id-jag+jwt)",
        Citation::of(&[spec::RFC9068_4, spec::RFC8725_3_12]),
        INVALID_TOKEN,
        Probe::Token(|r, _| r.typ = Some(urn::TYP_ID_JAG.into()))
    ),
    check!(
        Both,
        "iss-other",
        "iss of an authorization server it does not trust",
        Citation::of(&[spec::RFC9068_4, spec::RFC8725_3_8]),
        INVALID_TOKEN,
        Probe::Token(|r, _| {
            r.defect.set.insert("iss".into(), OTHER_ISSUER.into());
        })
    ),
    check!(
        Both,
        "signature-bad",
        "one bit of the signature flipped",
        RFC9068,
        INVALID_TOKEN,
        Probe::Token(|r, _| r.defect.signature = Signature::Altered)
    ),
    check!(
        Both,
        "alg-none",
        "alg \"none\", no signature",
        Citation::of(&[spec::RFC8725_3_1, spec::RFC9068_4]),
        INVALID_TOKEN,
        Probe::Token(|r, _| r.defect.signature = Signature::Unsigned)
    ),
    check!(
        Both,
        "scope-missing",
        "a valid token without the scope the endpoint needs",
        Citation::of(&[spec::RFC6750_3_1]),
        Expect::Challenge { status: 403, error: Some("insufficient_scope") },
        Probe::Token(|r, _| r.scope = UNRELATED_SCOPE.into())
    ),
];

/// The checks for a REST API (`mcp` false) or an MCP server.
pub(crate) fn checks(mcp: bool) -> impl Iterator<Item = &'static Check<Probe>> {
    CHECKS.iter().filter(move |(a, _)| *a == Applies::Both || (*a == Applies::Mcp) == mcp).map(|(_, c)| c)
}

/// What the resource under test must be configured with, as `(what, value)` lines.
pub fn trust(lab: &LabParty<'_>, target: &ResourceTarget) -> Vec<(String, String)> {
    if !target.with_tokens {
        return vec![(
            "tokens".into(),
            "none sent: the resource trusts its own authorization server, so only the checks without a token run"
                .into(),
        )];
    }
    let authz = &lab.urls.authorization_server;
    vec![
        ("trusted authorization server (the lab's)".into(), authz.clone()),
        ("its JWKS".into(), format!("{authz}/jwks")),
        ("its metadata".into(), format!("{authz}/.well-known/oauth-authorization-server")),
        ("its signing key".into(), format!("kid {}, RS256, typ at+jwt", lab.keys.resource_as.kid())),
        ("access token aud (your resource identifier)".into(), target.resource.clone()),
        ("scope of the valid token".into(), target.scope.clone()),
    ]
}

/// The RFC 9728 §3.1 metadata URL of `resource`: the well-known segment between host and path.
pub fn metadata_url(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("https", resource));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    format!("{scheme}://{authority}/.well-known/oauth-protected-resource{}", path.trim_end_matches('/'))
}

fn call(http: &reqwest::Client, target: &ResourceTarget, token: Option<&str>) -> reqwest::RequestBuilder {
    let req = if target.mcp {
        let initialize = json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "lab-check", "version": env!("CARGO_PKG_VERSION") },
            },
        });
        http.post(&target.endpoint).header("accept", "application/json, text/event-stream").json(&initialize)
    } else {
        http.get(&target.endpoint).header("accept", "application/json")
    };
    match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    }
}

/// Grades the metadata document `answer` fetched from `url`.
fn metadata(answer: &Answer, url: &str) -> Graded {
    let seen = format!("GET {url}: {}", answer.summary());
    match &answer.json {
        Some(Value::Object(_)) if answer.status == 200 => Graded::Met(seen),
        _ => Graded::Missed(format!("{seen} — no metadata document")),
    }
}

/// Grades the metadata's `resource` against the resource identifier.
fn metadata_resource(doc: Option<&Value>, resource: &str) -> Graded {
    match doc.map(|d| &d["resource"]) {
        None => Graded::Skipped("no metadata document to read".into()),
        Some(Value::String(r)) if r == resource => Graded::Met(format!("resource \"{r}\"")),
        Some(other) => Graded::Missed(format!("resource {other}, not \"{resource}\"")),
    }
}

/// Runs every check against `target`, the lab signing its access tokens as the authorization server.
pub async fn run(http: &reqwest::Client, lab: LabParty<'_>, target: &ResourceTarget) -> Result<Report, CheckError> {
    for url in [&target.resource, &target.endpoint] {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(CheckError::Target(format!("{url:?} is not an http(s) URL")));
        }
    }
    let forgery = Forgery { now: lab.now, sibling: target.sibling() };
    let base = MintRequest {
        email: USER.into(),
        client: lab.requestor(),
        scope: target.scope.clone(),
        lifetime: 600,
        expired: false,
        typ: None,
        aud: Some(target.resource.clone()),
        client_id: None,
        resource: None,
        defect: Default::default(),
    };
    let mut cases: Vec<Case> = Vec::new();
    let mut document: Option<Value> = None;
    let mut served = false;
    for check in checks(target.mcp) {
        let started = Instant::now();
        let graded = match check.probe {
            Probe::NoToken => check.expect.grade(&exchange(call(http, target, None)).await),
            Probe::Metadata => {
                // Where the challenge points, else the well-known URL of the resource identifier.
                let challenge = exchange(call(http, target, None)).await.bearer_param("resource_metadata");
                let url = challenge.unwrap_or_else(|| metadata_url(&target.resource));
                let answer = exchange(http.get(&url).header("accept", "application/json")).await;
                let graded = metadata(&answer, &url);
                if matches!(graded, Graded::Met(_)) {
                    document = answer.json;
                }
                graded
            }
            Probe::MetadataResource => metadata_resource(document.as_ref(), &target.resource),
            Probe::Token(_) if !target.with_tokens => {
                cases.push(check.skipped("no token sent: the resource trusts its own authorization server"));
                continue;
            }
            Probe::Token(tamper) => {
                let mut req = base.clone();
                tamper(&mut req, &forgery);
                let token = lab.mint(TokenKind::AccessToken, &req)?;
                let graded = check.expect.grade(&exchange(call(http, target, Some(&token))).await);
                if check.expect == Expect::Served && matches!(graded, Graded::Met(_)) {
                    served = true;
                }
                graded
            }
        };
        cases.push(check.case(graded, target.mcp, started.elapsed()));
    }
    let mut notes = Vec::new();
    if target.with_tokens && !served {
        notes.push(
            "The valid access token was not accepted: the refusals below may have another cause than their \
             defect. Configure the resource as listed above and run the checks again."
                .to_owned(),
        );
    }
    Ok(Report { kind: "resource", target: target.endpoint.clone(), trust: trust(&lab, target), cases, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_puts_the_well_known_segment_before_the_path() {
        assert_eq!(metadata_url("http://127.0.0.1:4403"), "http://127.0.0.1:4403/.well-known/oauth-protected-resource");
        assert_eq!(
            metadata_url("http://127.0.0.1:4403/mcp"),
            "http://127.0.0.1:4403/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(metadata_url("https://api.example/"), "https://api.example/.well-known/oauth-protected-resource");
    }

    #[test]
    fn rest_and_mcp_differ_only_in_what_the_metadata_rules_rest_on() {
        let ids = |mcp| checks(mcp).map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(false), ids(true));
        let level = |mcp, id| checks(mcp).find(|c| c.id == id).unwrap().spec.level();
        use xaa_core::spec::Level;
        assert_eq!(level(false, "challenge-metadata"), Level::May);
        assert_eq!(level(true, "challenge-metadata"), Level::Must);
        assert_eq!(level(false, "metadata"), Level::Defines);
        assert_eq!(level(true, "metadata"), Level::Must);
    }

    #[test]
    fn the_metadata_must_name_the_resource_exactly() {
        let doc = json!({ "resource": "https://api.example/" });
        assert!(matches!(metadata_resource(Some(&doc), "https://api.example/"), Graded::Met(_)));
        assert_eq!(
            metadata_resource(Some(&doc), "https://api.example"),
            Graded::Missed("resource \"https://api.example/\", not \"https://api.example\"".into())
        );
        assert!(matches!(metadata_resource(None, "https://api.example"), Graded::Skipped(_)));
        let missing = Answer { status: 404, ..Answer::default() };
        assert!(
            matches!(metadata(&missing, "https://api.example/.well-known/x"), Graded::Missed(o) if o.ends_with("no metadata document"))
        );
    }
}

#[cfg(test)]
mod token_tests {
    use xaa_core::ids::{Issuer, ResourceUri};
    use xaa_core::jose::KeySet;
    use xaa_core::validation::CheckLog;
    use xaa_core::validation::access_token::{AccessTokenExpectations, validate_access_token};

    use super::*;
    use crate::config::{Ports, Urls};
    use crate::fixtures::{Fixtures, LabKeys};

    const NOW: i64 = 1_800_000_000;
    const RESOURCE: &str = "https://api.example";

    #[test]
    fn each_defective_access_token_is_refused_by_the_labs_validator_at_its_own_check() {
        let urls = Urls::new(false, "localhost", Ports::DEFAULT);
        let fixtures = Fixtures::load(None, &urls).unwrap();
        let keys = LabKeys::load(None).unwrap();
        let entropy = xaa_core::secret::OsEntropy;
        let lab = LabParty { urls: &urls, fixtures: &fixtures, keys: (&keys).into(), now: NOW, entropy: &entropy };
        let forgery = Forgery { now: NOW, sibling: format!("{RESOURCE}/lab-check-sibling") };
        let expected = [
            ("token-valid", None),
            ("aud-other", Some("aud")),
            ("aud-sibling", Some("aud")),
            ("exp-past", Some("exp")),
            ("typ-jwt", Some("typ")),
            ("typ-id-jag", Some("typ")),
            ("iss-other", Some("iss")),
            ("signature-bad", Some("signature")),
            ("alg-none", Some("alg")),
            ("scope-missing", None),
        ];
        let tokens: Vec<_> = checks(false).filter(|c| matches!(c.probe, Probe::Token(_))).collect();
        assert_eq!(
            tokens.iter().map(|c| c.id).collect::<Vec<_>>(),
            expected.iter().map(|(id, _)| *id).collect::<Vec<_>>()
        );
        let (issuer, audience) = (Issuer::new(urls.authorization_server.as_str()), ResourceUri::new(RESOURCE));
        let as_keys = KeySet::from_signing_keys([&keys.resource_as]);
        for (check, (id, at)) in tokens.iter().zip(expected) {
            let Probe::Token(tamper) = check.probe else { unreachable!() };
            let mut req = MintRequest {
                email: USER.into(),
                client: lab.requestor(),
                scope: "todos.read".into(),
                lifetime: 600,
                expired: false,
                typ: None,
                aud: Some(RESOURCE.into()),
                client_id: None,
                resource: None,
                defect: Default::default(),
            };
            tamper(&mut req, &forgery);
            let token = lab.mint(TokenKind::AccessToken, &req).unwrap();
            let expect = AccessTokenExpectations { issuer: &issuer, audience: &audience, now: NOW, leeway: 60 };
            let result = validate_access_token(&token, expect, &as_keys, &mut CheckLog::new());
            assert_eq!(result.as_ref().err().map(|r| r.check()), at, "{id}");
            if id == "scope-missing" {
                assert_eq!(result.unwrap().scope, UNRELATED_SCOPE);
            }
        }
    }
}
