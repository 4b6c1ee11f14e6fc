//! `lab check as`: the lab plays the IdP an ID-JAG authorization server trusts. It sends the
//! valid ID-JAG (draft-04 §4.4), then one ID-JAG per defect the specs require the server to refuse,
//! the valid one again, a misspelled grant type and failed client authentications ([`CHECKS`]).
//!
//! The server under test trusts the lab IdP's issuer and JWKS and knows the client the checks
//! authenticate as ([`trust`] lists it all). Every ID-JAG but the replay has a fresh `jti`, so a
//! refusal is never a replay refusal in disguise.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use serde_json::{Value, json};
use xaa_core::jose::SigningKey;
use xaa_core::jose::forge::Signature;
use xaa_core::oauth::{GrantRequest, JwtBearerRequest};
use xaa_core::spec::{self, Citation};

use super::grade::{Expect, Graded};
use super::{Answer, Case, Check, CheckError, LabParty, Report, exchange};
use crate::mint::{MintRequest, TokenKind};

/// The scope the ID-JAG of `scope-not-governed` adds (no server governs it).
pub const UNGOVERNED_SCOPE: &str = "lab-check.not-governed";
/// The resource of `resource-not-governed`.
pub const UNGOVERNED_RESOURCE: &str = "https://resource.lab-check.invalid/not-governed";
/// The `aud` of `aud-other-as`: another authorization server.
pub const OTHER_AS: &str = "https://other-as.lab-check.invalid";
/// The `iss` of `iss-untrusted`.
pub const UNTRUSTED_ISSUER: &str = "https://untrusted-idp.lab-check.invalid";
/// The `client_id` claim of `client-id-other`: another client of the same server.
pub const OTHER_CLIENT: &str = "lab-check-other-client";
/// The client of `client-unknown`.
pub const UNKNOWN_CLIENT: &str = "lab-check-unknown-client";
/// The `kid` of the key no JWKS publishes.
pub const FOREIGN_KID: &str = "lab-check-not-in-any-jwks";
/// How large the oversized assertion is.
pub const OVERSIZED_BYTES: usize = 256 * 1024;
/// The user every ID-JAG is for.
const USER: &str = "alice@acme.example";

/// How the client authenticates at the server under test (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`.
    #[default]
    Basic,
    /// `client_secret_post`.
    Post,
}

/// The authorization server under test and the client the checks authenticate as.
#[derive(Clone, Debug, Default)]
pub struct AsTarget {
    /// Its token endpoint.
    pub token_endpoint: String,
    /// Its issuer identifier: the valid ID-JAG's `aud`.
    pub audience: String,
    /// The client's id there: the valid ID-JAG's `client_id`.
    pub client_id: String,
    /// The client's secret there (`None`: a public client, which sends its `client_id` alone).
    pub client_secret: Option<String>,
    /// How the client authenticates.
    pub auth: ClientAuth,
    /// The resource the valid ID-JAG grants (no `resource` claim when `None`).
    pub resource: Option<String>,
    /// The scope the valid ID-JAG grants (no `scope` claim when `None`).
    pub scope: Option<String>,
    /// The server follows the MCP enterprise-managed authorization profile: its MUSTs fail.
    pub mcp: bool,
}

/// What the tampering of an ID-JAG can use.
#[derive(Debug)]
pub(crate) struct Forgery {
    now: i64,
    /// A key no JWKS of the lab publishes.
    foreign: Arc<SigningKey>,
}

/// Changes the valid ID-JAG's request into a defective one.
pub(crate) type Tamper = fn(&mut MintRequest, &Forgery);

/// How a check's request is made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Probe {
    /// The valid ID-JAG.
    Valid,
    /// The valid ID-JAG, again.
    Replay,
    /// A defective ID-JAG.
    Jag(Tamper),
    /// The valid grant with this `grant_type`.
    GrantType(&'static str),
    /// The right client id with a wrong secret, by HTTP Basic.
    WrongSecret,
    /// No client authentication at all.
    NoClientAuth,
    /// A client the server does not know, by HTTP Basic.
    UnknownClient,
    /// Whether the refusals above said why.
    Described,
}

const INVALID_GRANT: Expect = Expect::Refusal { statuses: &[400], errors: &["invalid_grant"] };
const INVALID_CLIENT_BASIC: Expect = Expect::Refusal { statuses: &[401], errors: &["invalid_client"] };
const INVALID_CLIENT: Expect = Expect::Refusal { statuses: &[400, 401], errors: &["invalid_client"] };

const TYP: Citation = Citation::of(&[spec::IDJAG_4_4_1, spec::RFC8725_3_11]);
const ALG: Citation = Citation::of(&[spec::RFC8725_3_1, spec::RFC7523_3_ITEM_9]);
const KEY: Citation = Citation::of(&[spec::RFC7523_3_ITEM_9, spec::RFC8725_3_10]);
const AUD: Citation = Citation::of(&[spec::IDJAG_9_3, spec::RFC7519_4_1_3]);
const EXP: Citation = Citation::of(&[spec::RFC7523_3_ITEM_4, spec::RFC7519_4_1_4]);
const CLAIMS: Citation = Citation::of(&[spec::IDJAG_3_1, spec::IDJAG_4_4_1]);
const CLIENT_AUTH: Citation = Citation::of(&[spec::IDJAG_4_4, spec::RFC6749_5_2]);

macro_rules! check {
    ($id:literal, $sends:literal, $spec:expr, $expect:expr, $probe:expr) => {
        Check { id: $id, sends: $sends, spec: $spec, expect: $expect, probe: $probe }
    };
}

/// Every check `lab check as` runs, in order.
pub(crate) const CHECKS: &[Check<Probe>] = &[
    check!(
        "valid",
        "the valid ID-JAG",
        Citation::of(&[spec::IDJAG_4_4_2, spec::RFC6749_5_1]),
        Expect::Token,
        Probe::Valid
    ),
    check!(
        "replay",
        "the valid ID-JAG again (same jti)",
        Citation::of(&[spec::MCP_SINGLE_USE, spec::RFC7523_3_ITEM_7]),
        INVALID_GRANT,
        Probe::Replay
    ),
    check!("typ-missing", "no typ in the header", TYP, INVALID_GRANT, Probe::Jag(|r, _| r.defect.no_typ = true)),
    check!("typ-jwt", "typ \"JWT\" (an ID token's)", TYP, INVALID_GRANT, Probe::Jag(|r, _| r.typ = Some("JWT".into()))),
    check!(
        "alg-none",
        "alg \"none\", no signature",
        ALG,
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.signature = Signature::Unsigned)
    ),
    check!(
        "alg-hs256-public-key",
        "alg HS256, HMAC keyed with the IdP's public key",
        ALG,
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.signature = Signature::HmacWithPublicKey)
    ),
    check!(
        "kid-unknown",
        "signed by a key whose kid is in no JWKS",
        KEY,
        INVALID_GRANT,
        Probe::Jag(|r, f| r.defect.key = Some(f.foreign.clone()))
    ),
    check!(
        "signature-bad",
        "the IdP's kid, one bit of the signature flipped",
        Citation::of(&[spec::RFC7523_3_ITEM_9]),
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.signature = Signature::Altered)
    ),
    check!(
        "key-embedded",
        "signed by a key the header carries as jwk",
        Citation::of(&[spec::RFC8725_3_10, spec::RFC7523_3_ITEM_9]),
        INVALID_GRANT,
        Probe::Jag(|r, f| {
            r.defect.key = Some(f.foreign.clone());
            r.defect.header.insert("jwk".into(), Value::Object(f.foreign.public_jwk().clone()));
        })
    ),
    check!(
        "iss-untrusted",
        "iss of an IdP the server does not trust",
        Citation::of(&[spec::RFC7523_3_ITEM_1, spec::RFC8725_3_8]),
        INVALID_GRANT,
        Probe::Jag(|r, _| {
            r.defect.set.insert("iss".into(), UNTRUSTED_ISSUER.into());
        })
    ),
    check!(
        "aud-other-as",
        "aud names another authorization server",
        AUD,
        INVALID_GRANT,
        Probe::Jag(|r, _| r.aud = Some(OTHER_AS.into()))
    ),
    check!(
        "aud-array-other-as",
        "aud is an array naming another authorization server",
        AUD,
        INVALID_GRANT,
        Probe::Jag(|r, _| {
            r.defect.set.insert("aud".into(), json!([OTHER_AS]));
        })
    ),
    check!(
        "client-id-missing",
        "no client_id claim",
        CLAIMS,
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.remove.push("client_id"))
    ),
    check!(
        "client-id-other",
        "client_id of another client than the authenticated one",
        Citation::of(&[spec::IDJAG_4_4_1, spec::IDJAG_5]),
        INVALID_GRANT,
        Probe::Jag(|r, _| r.client_id = Some(OTHER_CLIENT.into()))
    ),
    check!(
        "exp-missing",
        "no exp claim",
        Citation::of(&[spec::RFC7523_3_ITEM_4, spec::IDJAG_3_1]),
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.remove.push("exp"))
    ),
    check!(
        "exp-past",
        "exp an hour ago (beyond any leeway)",
        EXP,
        INVALID_GRANT,
        Probe::Jag(|r, f| {
            r.defect.set.insert("iat".into(), json!(f.now - 3900));
            r.defect.set.insert("exp".into(), json!(f.now - 3600));
        })
    ),
    check!(
        "nbf-future",
        "nbf in an hour",
        Citation::of(&[spec::RFC7519_4_1_5]),
        INVALID_GRANT,
        Probe::Jag(|r, f| {
            r.defect.set.insert("nbf".into(), json!(f.now + 3600));
        })
    ),
    check!(
        "iat-future",
        "iat in an hour",
        Citation::of(&[spec::RFC7519_4_1_6]),
        INVALID_GRANT,
        Probe::Jag(|r, f| {
            r.defect.set.insert("iat".into(), json!(f.now + 3600));
            r.defect.set.insert("exp".into(), json!(f.now + 3900));
        })
    ),
    check!(
        "jti-missing",
        "no jti claim",
        Citation::of(&[spec::IDJAG_3_1]),
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.remove.push("jti"))
    ),
    check!(
        "sub-missing",
        "no sub claim",
        Citation::of(&[spec::IDJAG_3_1]),
        INVALID_GRANT,
        Probe::Jag(|r, _| r.defect.remove.push("sub"))
    ),
    check!(
        "resource-not-governed",
        "resource the server does not govern",
        Citation::of(&[spec::MCP_RESOURCE, spec::RFC8707_2]),
        Expect::Refusal { statuses: &[400], errors: &["invalid_grant", "invalid_target"] },
        Probe::Jag(|r, _| r.resource = Some(UNGOVERNED_RESOURCE.into()))
    ),
    check!(
        "scope-not-governed",
        "a scope the server does not govern, beside the valid one",
        Citation::of(&[spec::RFC6749_3_3]),
        Expect::NotGranted { scope: UNGOVERNED_SCOPE, errors: &["invalid_scope", "invalid_grant"] },
        Probe::Jag(|r, _| r.scope = format!("{} {UNGOVERNED_SCOPE}", r.scope).trim().to_owned())
    ),
    check!(
        "cnf-without-proof",
        "cnf.jkt and no DPoP proof",
        Citation::of(&[spec::IDJAG_9_8_1_2_2, spec::RFC9449_4_3]),
        INVALID_GRANT,
        Probe::Jag(|r, _| {
            let jkt = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(<sha2::Sha256 as sha2::Digest>::digest(b"lab check: a key nobody proves"));
            r.defect.set.insert("cnf".into(), json!({ "jkt": jkt }));
        })
    ),
    check!(
        "oversized",
        "an ID-JAG of 256 KiB",
        Citation::of(&[spec::LAB_A22]),
        Expect::ClientError,
        Probe::Jag(|r, _| {
            r.defect.set.insert("lab_check_padding".into(), "x".repeat(OVERSIZED_BYTES).into());
        })
    ),
    check!(
        "grant-type-misspelled",
        "grant_type urn:ietf:params:oauth:grant-type:jwt_bearer",
        Citation::of(&[spec::RFC6749_5_2, spec::RFC7523_2_1]),
        Expect::Refusal { statuses: &[400], errors: &["unsupported_grant_type", "unauthorized_client"] },
        Probe::GrantType("urn:ietf:params:oauth:grant-type:jwt_bearer")
    ),
    check!(
        "client-secret-wrong",
        "the client's id with a wrong secret (HTTP Basic)",
        CLIENT_AUTH,
        INVALID_CLIENT_BASIC,
        Probe::WrongSecret
    ),
    check!("client-auth-missing", "no client authentication", CLIENT_AUTH, INVALID_CLIENT, Probe::NoClientAuth),
    check!(
        "client-unknown",
        "a client the server does not know (HTTP Basic)",
        CLIENT_AUTH,
        INVALID_CLIENT_BASIC,
        Probe::UnknownClient
    ),
    check!(
        "error-description",
        "(every refusal above)",
        Citation::of(&[spec::LAB_A21, spec::RFC6749_5_2]),
        Expect::Described,
        Probe::Described
    ),
];

/// What the server under test must be configured with, as `(what, value)` lines.
pub fn trust(lab: &LabParty<'_>, target: &AsTarget) -> Vec<(String, String)> {
    let idp = &lab.urls.idp;
    let auth = match (&target.client_secret, target.auth) {
        (None, _) => "none (a public client: client_id in the body)",
        (Some(_), ClientAuth::Basic) => "client_secret_basic",
        (Some(_), ClientAuth::Post) => "client_secret_post",
    };
    vec![
        ("trusted ID-JAG issuer (the lab IdP)".into(), idp.clone()),
        ("its JWKS".into(), format!("{idp}/jwks")),
        ("its metadata".into(), format!("{idp}/.well-known/openid-configuration")),
        ("its signing key".into(), format!("kid {}, RS256", lab.keys.idp.kid())),
        ("ID-JAG aud (your issuer)".into(), target.audience.clone()),
        ("ID-JAG client_id (a client you know, allowed the jwt-bearer grant)".into(), target.client_id.clone()),
        ("that client authenticates with".into(), auth.into()),
        ("ID-JAG resource".into(), target.resource.clone().unwrap_or_else(|| "(none)".into())),
        ("ID-JAG scope".into(), target.scope.clone().unwrap_or_else(|| "(none)".into())),
        ("ID-JAG sub".into(), USER.to_lowercase()),
    ]
}

/// The token endpoint of `issuer`: RFC 8414 metadata, then OpenID Connect discovery, then
/// `{issuer}/token` (as the console's resource wizard finds it); with what was tried.
pub async fn discover_token_endpoint(http: &reqwest::Client, issuer: &str) -> (String, Vec<String>) {
    let found = crate::console::resources::probe::discover(http, issuer).await;
    (found.token_endpoint, found.tried)
}

/// How the request authenticates the client.
enum Auth<'a> {
    /// As the target says.
    Target,
    /// HTTP Basic with these credentials.
    Basic(&'a str, &'a str),
    /// None.
    None,
}

/// The `Authorization: Basic` value (RFC 6749 §2.3.1: id and secret form-urlencoded first).
fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret))))
}

fn request(
    http: &reqwest::Client,
    target: &AsTarget,
    mut form: Vec<(&'static str, String)>,
    auth: Auth<'_>,
) -> reqwest::RequestBuilder {
    let header = match (auth, &target.client_secret, target.auth) {
        (Auth::Basic(id, secret), _, _) => Some(basic(id, secret)),
        (Auth::None, _, _) => None,
        (Auth::Target, None, _) => {
            form.push(("client_id", target.client_id.clone()));
            None
        }
        (Auth::Target, Some(secret), ClientAuth::Basic) => Some(basic(&target.client_id, secret)),
        (Auth::Target, Some(secret), ClientAuth::Post) => {
            form.push(("client_id", target.client_id.clone()));
            form.push(("client_secret", secret.clone()));
            None
        }
    };
    let req = http.post(&target.token_endpoint).header("accept", "application/json").form(&form);
    match header {
        Some(h) => req.header(reqwest::header::AUTHORIZATION, h),
        None => req,
    }
}

/// Runs every check against `target`, the lab signing as the IdP.
pub async fn run(http: &reqwest::Client, lab: LabParty<'_>, target: &AsTarget) -> Result<Report, CheckError> {
    if !target.token_endpoint.starts_with("http://") && !target.token_endpoint.starts_with("https://") {
        return Err(CheckError::Target(format!(
            "the token endpoint {:?} is not an http(s) URL",
            target.token_endpoint
        )));
    }
    let forgery = Forgery { now: lab.now, foreign: Arc::new(SigningKey::generate(FOREIGN_KID)?) };
    let mut base = MintRequest {
        email: USER.into(),
        client: lab.requestor(),
        scope: target.scope.clone().unwrap_or_default(),
        lifetime: 300,
        expired: false,
        typ: None,
        aud: Some(target.audience.clone()),
        client_id: Some(target.client_id.clone()),
        resource: target.resource.clone(),
        defect: Default::default(),
    };
    // Claims the target did not name are left out rather than filled with the lab's own.
    if target.scope.is_none() {
        base.defect.remove.push("scope");
    }
    if target.resource.is_none() {
        base.defect.remove.push("resource");
    }
    let grant = |jag: &str| JwtBearerRequest::new(jag).to_form();
    let mut cases: Vec<Case> = Vec::new();
    let mut valid: Option<String> = None;
    let mut refusals: Vec<(&'static str, Answer)> = Vec::new();
    for check in CHECKS {
        let started = Instant::now();
        let answer = match check.probe {
            Probe::Valid => {
                let jag = lab.mint(TokenKind::IdJag, &base)?;
                let answer = exchange(request(http, target, grant(&jag), Auth::Target)).await;
                // A token was issued: the replay can show whether the server remembers the jti.
                if answer.status == 200 && answer.json.as_ref().is_some_and(|j| j["access_token"].is_string()) {
                    valid = Some(jag);
                }
                answer
            }
            Probe::Replay => match &valid {
                Some(jag) => exchange(request(http, target, grant(jag), Auth::Target)).await,
                None => {
                    cases.push(check.skipped("the valid ID-JAG was not accepted, so its replay shows nothing"));
                    continue;
                }
            },
            Probe::Jag(tamper) => {
                let mut req = base.clone();
                tamper(&mut req, &forgery);
                if req.resource.is_some() {
                    req.defect.remove.retain(|c| *c != "resource");
                }
                if !req.scope.is_empty() {
                    req.defect.remove.retain(|c| *c != "scope");
                }
                let jag = lab.mint(TokenKind::IdJag, &req)?;
                exchange(request(http, target, grant(&jag), Auth::Target)).await
            }
            Probe::GrantType(grant_type) => {
                let mut form = grant(&lab.mint(TokenKind::IdJag, &base)?);
                form[0].1 = grant_type.to_owned();
                exchange(request(http, target, form, Auth::Target)).await
            }
            Probe::WrongSecret => {
                let Some(secret) = &target.client_secret else {
                    cases.push(check.skipped("the client has no secret (a public client)"));
                    continue;
                };
                let wrong = format!("{secret}-not");
                let form = grant(&lab.mint(TokenKind::IdJag, &base)?);
                exchange(request(http, target, form, Auth::Basic(&target.client_id, &wrong))).await
            }
            Probe::NoClientAuth => {
                let form = grant(&lab.mint(TokenKind::IdJag, &base)?);
                exchange(request(http, target, form, Auth::None)).await
            }
            Probe::UnknownClient => {
                let form = grant(&lab.mint(TokenKind::IdJag, &base)?);
                exchange(request(http, target, form, Auth::Basic(UNKNOWN_CLIENT, "lab-check-secret"))).await
            }
            Probe::Described => {
                cases.push(check.case(described(&refusals), target.mcp, started.elapsed()));
                continue;
            }
        };
        if (400..500).contains(&answer.status) {
            refusals.push((check.id, answer.clone()));
        }
        cases.push(check.case(check.expect.grade(&answer), target.mcp, started.elapsed()));
    }
    let mut notes = Vec::new();
    if valid.is_none() {
        notes.push(
            "The valid ID-JAG got no token: the refusals below may have another cause than their defect. \
             Configure the server as listed above and run the checks again."
                .to_owned(),
        );
    }
    Ok(Report { kind: "as", target: target.token_endpoint.clone(), trust: trust(&lab, target), cases, notes })
}

/// Whether every refusal said why (`error_description`).
fn described(refusals: &[(&'static str, Answer)]) -> Graded {
    let silent: Vec<&str> = refusals.iter().filter(|(_, a)| a.description().is_none()).map(|(id, _)| *id).collect();
    match silent.as_slice() {
        [] => Graded::Met(format!("all {} refusals have one", refusals.len())),
        _ => {
            Graded::Missed(format!("{} of {} refusals have none: {}", silent.len(), refusals.len(), silent.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use xaa_core::ids::{Issuer, ResourceClientId};
    use xaa_core::jose::KeySet;
    use xaa_core::key_source::StaticKeySource;
    use xaa_core::validation::CheckLog;
    use xaa_core::validation::id_jag::{IdJagExpectations, validate_id_jag};

    use super::*;
    use crate::config::{Ports, Urls};
    use crate::fixtures::{Fixtures, LabKeys};

    const NOW: i64 = 1_800_000_000;
    const AS: &str = "https://as.example";
    const CLIENT: &str = "app-at-as";

    fn target() -> AsTarget {
        AsTarget {
            token_endpoint: format!("{AS}/token"),
            audience: AS.into(),
            client_id: CLIENT.into(),
            client_secret: Some("s".into()),
            resource: Some("https://api.example".into()),
            scope: Some("todos.read".into()),
            ..AsTarget::default()
        }
    }

    /// The ID-JAG `check` sends, and the name of the check the lab's own validator refuses it at
    /// (`None`: it validates; the server's policy or transport must refuse it).
    async fn refused_at(check: &Check<Probe>) -> (String, Option<&'static str>) {
        let urls = Urls::new(false, "localhost", Ports::DEFAULT);
        let fixtures = Fixtures::load(None, &urls).unwrap();
        let keys = LabKeys::load(None).unwrap();
        let entropy = xaa_core::secret::OsEntropy;
        let lab = LabParty { urls: &urls, fixtures: &fixtures, keys: (&keys).into(), now: NOW, entropy: &entropy };
        let forgery = Forgery { now: NOW, foreign: Arc::new(SigningKey::generate(FOREIGN_KID).unwrap()) };
        let t = target();
        let mut req = MintRequest {
            email: USER.into(),
            client: lab.requestor(),
            scope: t.scope.clone().unwrap(),
            lifetime: 300,
            expired: false,
            typ: None,
            aud: Some(t.audience.clone()),
            client_id: Some(t.client_id.clone()),
            resource: t.resource.clone(),
            defect: Default::default(),
        };
        if let Probe::Jag(tamper) = check.probe {
            tamper(&mut req, &forgery);
        }
        let jag = lab.mint(TokenKind::IdJag, &req).unwrap();
        let (audience, trusted, client) = (Issuer::new(AS), [urls.idp_issuer()], ResourceClientId::new(CLIENT));
        let expect = IdJagExpectations {
            audience: &audience,
            trusted_issuers: &trusted,
            client_id: &client,
            now: NOW,
            leeway: xaa_core::JWT_LEEWAY,
            jkt: None,
        };
        let idp = StaticKeySource::default().with_issuer(urls.idp.as_str(), KeySet::from_signing_keys([&keys.idp]));
        let mut log = CheckLog::new();
        let refused = validate_id_jag(&jag, expect, &idp, &mut log).await.err().map(|r| r.check());
        (jag, refused)
    }

    #[tokio::test]
    async fn each_defective_id_jag_is_refused_by_the_labs_validator_at_its_own_check() {
        let expected = [
            ("valid", None),
            ("typ-missing", Some("typ")),
            ("typ-jwt", Some("typ")),
            ("alg-none", Some("alg")),
            ("alg-hs256-public-key", Some("alg")),
            ("kid-unknown", Some("kid")),
            ("signature-bad", Some("signature")),
            ("key-embedded", Some("kid")),
            ("iss-untrusted", Some("iss")),
            ("aud-other-as", Some("aud")),
            ("aud-array-other-as", Some("aud")),
            ("client-id-missing", Some("client_id")),
            ("client-id-other", Some("client_id")),
            ("exp-missing", Some("exp")),
            ("exp-past", Some("exp")),
            ("nbf-future", Some("nbf")),
            ("iat-future", Some("iat")),
            ("jti-missing", Some("jti")),
            ("sub-missing", Some("sub")),
            // Valid JWTs: the server's policy refuses them.
            ("resource-not-governed", None),
            ("scope-not-governed", None),
            ("cnf-without-proof", Some("cnf")),
            // A valid JWT: the server's request size limit refuses it.
            ("oversized", None),
        ];
        let jags: Vec<&Check<Probe>> =
            CHECKS.iter().filter(|c| matches!(c.probe, Probe::Jag(_) | Probe::Valid)).collect();
        assert_eq!(
            jags.iter().map(|c| c.id).collect::<Vec<_>>(),
            expected.iter().map(|(id, _)| *id).collect::<Vec<_>>()
        );
        for (check, (id, at)) in jags.iter().zip(expected) {
            let (jag, refused) = refused_at(check).await;
            assert_eq!(refused, at, "{id}");
            let claims = xaa_core::jose::UnverifiedJwt::parse(&jag).map(|j| j.unverified_claims().clone());
            match id {
                "resource-not-governed" => assert_eq!(claims.unwrap()["resource"], UNGOVERNED_RESOURCE),
                "scope-not-governed" => assert_eq!(claims.unwrap()["scope"], format!("todos.read {UNGOVERNED_SCOPE}")),
                "oversized" => assert!(jag.len() > OVERSIZED_BYTES, "{}", jag.len()),
                "key-embedded" => {
                    let jwt = xaa_core::jose::UnverifiedJwt::parse(&jag).unwrap();
                    assert_eq!(jwt.header().kid.as_deref(), Some(FOREIGN_KID));
                }
                _ => {}
            }
        }
    }

    #[test]
    fn every_check_cites_the_registry_and_refusals_expect_the_specs_error() {
        let mut ids = std::collections::HashSet::new();
        for c in CHECKS {
            assert!(ids.insert(c.id), "{} twice", c.id);
            assert!(!c.spec.references().is_empty(), "{}", c.id);
            if let Probe::Jag(_) = c.probe
                && !matches!(c.id, "resource-not-governed" | "scope-not-governed" | "oversized")
            {
                assert_eq!(c.expect, INVALID_GRANT, "{}: RFC 7523 names invalid_grant for an invalid JWT", c.id);
            }
        }
        let level = |id: &str| CHECKS.iter().find(|c| c.id == id).unwrap().spec.level();
        use xaa_core::spec::Level;
        assert_eq!(level("typ-jwt"), Level::Must);
        assert_eq!(level("cnf-without-proof"), Level::Must);
        assert_eq!(level("replay"), Level::Profile, "a MUST of the MCP profile only (RFC 7523 makes it a MAY)");
        assert_eq!(level("resource-not-governed"), Level::Profile);
        assert_eq!(level("iat-future"), Level::Defines, "RFC 7519 defines iat and requires nothing of a future one");
        assert_eq!(level("oversized"), Level::LabDecision);
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(
            basic("a b", "p:w"),
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("a+b:p%3Aw"))
        );
    }

    #[test]
    fn the_error_description_check_names_the_silent_refusals() {
        let said = Answer {
            status: 400,
            json: Some(json!({ "error": "invalid_grant", "error_description": "x" })),
            ..Answer::default()
        };
        let silent = Answer { status: 400, json: Some(json!({ "error": "invalid_grant" })), ..Answer::default() };
        assert_eq!(described(&[("a", said.clone())]), Graded::Met("all 1 refusals have one".into()));
        assert_eq!(described(&[("a", said), ("b", silent)]), Graded::Missed("1 of 2 refusals have none: b".into()));
    }
}
