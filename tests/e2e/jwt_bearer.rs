//! The resource authorization server's `POST /token` (RFC 7523 jwt-bearer with an ID-JAG): one test
//! per rejection reason (checklist §5.2, §5.4), the accepted variants, and introspection (RFC 7662).

use reqwest::Response;
use serde_json::{Map, Value, json};
use xaa_core::dpop::{DpopKey, sign_proof};
use xaa_core::jose::SigningKey;
use xaa_core::urn;

use crate::harness::*;

const ALICE: &str = "alice@acme.example";
/// The notes app's secret at the resource AS (fixtures/clients.json).
const NOTES_RESOURCE_SECRET: &str = "lab-notes-at-todo0-secret-not-for-production";
/// Any base64url, for forged tokens that are refused before their signature is checked.
const FAKE_SIG: &str = "c2lnbmF0dXJl";
const OTHER_API: &str = "https://api.other.example";

type Params = Vec<(String, String)>;

/// A real ID-JAG for alice, minted by the lab IdP for the bring-your-own client.
async fn real_jag(lab: &TestLab) -> String {
    let login = lab.login(ALICE).await;
    lab.id_jag(&login.id_token).await
}

/// Signs `claims` as the lab IdP does (trusted key `idp-2026-01`, typ `oauth-id-jag+jwt`).
fn signed(claims: &Map<String, Value>) -> String {
    sign(&lab_keys().idp, urn::TYP_ID_JAG, claims)
}

/// Valid ID-JAG claims with `name` set to `value` (or removed with `None`).
fn tweak(lab: &TestLab, name: &str, value: Option<Value>) -> Map<String, Value> {
    let mut claims = lab.id_jag_claims();
    match value {
        Some(v) => claims.insert(name.to_owned(), v),
        None => claims.remove(name),
    };
    claims
}

/// Replaces the client credentials in the body (`None`: send none).
fn creds(params: &[(String, String)], client: Option<(&str, &str)>) -> Params {
    let (id, secret) = client.unzip();
    with(&with(params, "client_id", id), "client_secret", secret)
}

/// Asserts the description `d` names the problem: it contains every one of `words`.
fn says(d: &str, words: &[&str]) {
    for w in words {
        assert!(d.contains(w), "{w:?} not in {d:?}");
    }
}

/// POSTs `params` to the AS token endpoint and asserts an OAuth error; returns the description.
async fn error(lab: &TestLab, params: &[(String, String)], status: u16, code: &str) -> String {
    assert_oauth_error(lab.as_token(params).await, status, code).await
}

/// Presents `assertion` with the right client: 400 `invalid_grant` whose description ends with
/// the spec section; returns the description.
async fn refused(lab: &TestLab, assertion: &str) -> String {
    let d = error(lab, &lab.bearer_params(assertion), 400, "invalid_grant").await;
    let cites = d.ends_with(')') && (d.contains("RFC") || d.contains("draft-"));
    assert!(cites, "the description cites a section: {d}");
    d
}

/// `refused` for valid claims with one claim changed or removed.
async fn refused_claim(lab: &TestLab, name: &str, value: Option<Value>) -> String {
    refused(lab, &signed(&tweak(lab, name, value))).await
}

/// `refused` for valid claims signed by `key`.
async fn refused_key(lab: &TestLab, key: &SigningKey) -> String {
    refused(lab, &sign(key, urn::TYP_ID_JAG, &lab.id_jag_claims())).await
}

/// `refused` for valid claims under a forged header: the valid one plus `extra`.
async fn refused_header(lab: &TestLab, extra: Value, signature: &str) -> String {
    let mut h = json!({ "alg": "RS256", "typ": urn::TYP_ID_JAG, "kid": "idp-2026-01" });
    let extra = extra.as_object().unwrap().clone();
    h.as_object_mut().unwrap().extend(extra);
    refused(lab, &forge(h, &lab.id_jag_claims(), signature)).await
}

/// POSTs `params` to `{authz}{path}`, with HTTP Basic client authentication if `basic` is set.
async fn post(lab: &TestLab, path: &str, basic: Option<(&str, &str)>, params: &Params) -> Response {
    let mut req = lab.http.post(format!("{}{path}", lab.authz())).form(params);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.unwrap()
}

/// Asserts a 200 `no-store` JSON answer and returns it.
async fn granted(resp: Response) -> Value {
    assert_eq!(resp.status().as_u16(), 200, "HTTP status");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.json().await.unwrap()
}

/// The claims of the access token in a token response.
fn at_claims(body: &Value) -> Value {
    decode(body["access_token"].as_str().unwrap()).1
}

// ---- client authentication and request shape ----

#[tokio::test]
async fn no_client_credentials_is_invalid_client() {
    let lab = TestLab::start().await;
    let params = creds(&lab.bearer_params(&signed(&lab.id_jag_claims())), None);
    let d = error(&lab, &params, 401, "invalid_client").await;
    says(&d, &["no client credentials"]);
}

#[tokio::test]
async fn wrong_secret_with_basic_gets_a_basic_challenge() {
    let lab = TestLab::start().await;
    let params = creds(&lab.bearer_params(&signed(&lab.id_jag_claims())), None);
    let wrong = Some((RESOURCE_CLIENT, "not-the-secret"));
    let resp = post(&lab, "/token", wrong, &params).await;
    let challenge = resp.headers().get("www-authenticate").map(|v| v.as_bytes());
    assert!(challenge.is_some_and(|c| c.starts_with(b"Basic")));
    let d = assert_oauth_error(resp, 401, "invalid_client").await;
    says(&d, &["wrong client_secret"]);
}

#[tokio::test]
async fn idp_client_credentials_are_unknown_at_the_as() {
    let lab = TestLab::start().await;
    let params = lab.bearer_params(&real_jag(&lab).await);
    let params = creds(&params, Some((CLIENT, SECRET)));
    let d = error(&lab, &params, 401, "invalid_client").await;
    says(&d, &["unknown client", CLIENT]);
}

#[tokio::test]
async fn unsupported_or_misspelt_grant_type() {
    let lab = TestLab::start().await;
    let jag = signed(&lab.id_jag_claims());
    let misspelt = "urn:ietf:params:oauth:grant-type:jwt_bearer";
    for grant in [misspelt, "authorization_code", urn::GRANT_TOKEN_EXCHANGE] {
        let params = with(&lab.bearer_params(&jag), "grant_type", Some(grant));
        let d = error(&lab, &params, 400, "unsupported_grant_type").await;
        says(&d, &[grant, "not supported"]);
    }
}

#[tokio::test]
async fn missing_assertion_is_invalid_request() {
    let lab = TestLab::start().await;
    for empty in [None, Some("")] {
        let params = with(&lab.bearer_params("x"), "assertion", empty);
        says(&error(&lab, &params, 400, "invalid_request").await, &["missing", "assertion"]);
    }
}

#[tokio::test]
async fn repeated_assertion_is_invalid_request() {
    let lab = TestLab::start().await;
    let jag = signed(&lab.id_jag_claims());
    let mut params = lab.bearer_params(&jag);
    params.push(("assertion".into(), jag.clone()));
    let d = error(&lab, &params, 400, "invalid_request").await;
    says(&d, &["`assertion` is repeated"]);
}

// ---- the assertion itself: format, header, issuer, key, signature ----

#[tokio::test]
async fn not_a_jwt() {
    let lab = TestLab::start().await;
    for junk in ["not-a-jwt", "a.b", "e30.e30.e30.e30", "e30.e30.e30.e30.e30"] {
        says(&refused(&lab, junk).await, &["not a valid JWT"]);
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let lab = TestLab::start().await;
    let d = refused_header(&lab, json!({ "alg": "none" }), "").await;
    says(&d, &["alg 'none'"]);
}

#[tokio::test]
async fn hs256_is_refused() {
    let lab = TestLab::start().await;
    let d = refused_header(&lab, json!({ "alg": "HS256" }), FAKE_SIG).await;
    says(&d, &["alg 'HS256'"]);
}

#[tokio::test]
async fn unknown_crit_header_is_refused() {
    let lab = TestLab::start().await;
    let crit = json!({ "crit": ["urn:example:must-understand"], "urn:example:must-understand": 1 });
    let d = refused_header(&lab, crit, FAKE_SIG).await;
    says(&d, &["crit", "urn:example:must-understand"]);
}

#[tokio::test]
async fn wrong_typ_id_token_or_access_token_as_assertion() {
    let lab = TestLab::start().await;
    let login = lab.login(ALICE).await;
    let d = refused(&lab, &login.id_token).await;
    says(&d, &["typ is 'JWT'", urn::TYP_ID_JAG]);
    let at_typed = sign(&lab_keys().idp, urn::TYP_ACCESS_TOKEN, &lab.id_jag_claims());
    let d = refused(&lab, &at_typed).await;
    says(&d, &["typ is 'at+jwt'", "access token"]);
}

#[tokio::test]
async fn untrusted_issuer() {
    let lab = TestLab::start().await;
    let d = refused_claim(&lab, "iss", Some(json!("https://evil.example"))).await;
    says(&d, &["issuer 'https://evil.example'", "not a trusted"]);
}

#[tokio::test]
async fn unknown_kid() {
    let lab = TestLab::start().await;
    let d = refused_key(&lab, &untrusted_key("idp-2099-01")).await;
    says(&d, &["no key with kid 'idp-2099-01'"]);
}

#[tokio::test]
async fn tampered_payload_fails_the_signature() {
    let lab = TestLab::start().await;
    let jag = real_jag(&lab).await;
    let (head, mut claims) = decode(&jag);
    claims["sub"] = json!("mallory@acme.example");
    let signature = jag.rsplit('.').next().unwrap();
    let d = refused(&lab, &forge(head, claims.as_object().unwrap(), signature)).await;
    says(&d, &["signature does not verify"]);
}

#[tokio::test]
async fn untrusted_key_claiming_the_idp_kid() {
    let lab = TestLab::start().await;
    let d = refused_key(&lab, &untrusted_key("idp-2026-01")).await;
    says(&d, &["signature does not verify", "idp-2026-01"]);
}

// ---- claims ----

#[tokio::test]
async fn aud_of_another_authorization_server() {
    let lab = TestLab::start().await;
    let slash = format!("{}/", lab.authz());
    for aud in [slash.as_str(), "https://other-as.example", lab.idp()] {
        let d = refused_claim(&lab, "aud", Some(json!(aud))).await;
        says(&d, &["aud", aud]);
    }
}

#[tokio::test]
async fn aud_array_with_two_elements() {
    let lab = TestLab::start().await;
    let aud = json!([lab.authz(), "https://other-as.example"]);
    let d = refused_claim(&lab, "aud", Some(aud)).await;
    says(&d, &["aud", "exactly that one value"]);
}

#[tokio::test]
async fn client_id_mismatch_does_not_burn_the_id_jag() {
    let lab = TestLab::start().await;
    let redirect = format!("{}/auth/callback", lab.lab.urls().notes);
    let notes = (NOTES_CLIENT, NOTES_SECRET);
    let login = lab.login_as(notes.0, notes.1, &redirect, ALICE).await;
    let exchange = creds(&lab.exchange_params(&login.id_token), Some(notes));
    let body = granted(lab.idp_token(&exchange).await).await;
    let notes_jag = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(decode(&notes_jag).1["client_id"], NOTES_RESOURCE_CLIENT);

    let d = refused(&lab, &notes_jag).await;
    says(&d, &["client_id", NOTES_RESOURCE_CLIENT, RESOURCE_CLIENT]);
    // Its own client can still redeem it.
    let own = creds(&lab.bearer_params(&notes_jag), None);
    let notes_at_as = Some((NOTES_RESOURCE_CLIENT, NOTES_RESOURCE_SECRET));
    let body = granted(post(&lab, "/token", notes_at_as, &own).await).await;
    assert_eq!(at_claims(&body)["client_id"], NOTES_RESOURCE_CLIENT);
}

#[tokio::test]
async fn expired_id_jag() {
    let lab = TestLab::start().await;
    let jag = real_jag(&lab).await;
    lab.clock.advance(300 + 61);
    says(&refused(&lab, &jag).await, &["expired"]);
}

#[tokio::test]
async fn nbf_in_the_future() {
    let lab = TestLab::start().await;
    let d = refused_claim(&lab, "nbf", Some(json!(lab.now() + 120))).await;
    says(&d, &["not valid before"]);
}

#[tokio::test]
async fn iat_in_the_future() {
    let lab = TestLab::start().await;
    let d = refused_claim(&lab, "iat", Some(json!(lab.now() + 120))).await;
    says(&d, &["issued in the future"]);
}

#[tokio::test]
async fn missing_jti() {
    let lab = TestLab::start().await;
    says(&refused_claim(&lab, "jti", None).await, &["no `jti` claim"]);
}

#[tokio::test]
async fn missing_sub() {
    let lab = TestLab::start().await;
    says(&refused_claim(&lab, "sub", None).await, &["no `sub` claim"]);
}

#[tokio::test]
async fn replayed_id_jag() {
    let lab = TestLab::start().await;
    let jag = real_jag(&lab).await;
    granted(lab.as_token(&lab.bearer_params(&jag)).await).await;
    says(&refused(&lab, &jag).await, &["already used", "jti"]);
}

#[tokio::test]
async fn resource_not_governed_by_this_as() {
    let lab = TestLab::start().await;
    let d = refused_claim(&lab, "resource", Some(json!(OTHER_API))).await;
    says(&d, &[OTHER_API, "not governed"]);
}

#[tokio::test]
async fn resource_parameter_not_in_the_id_jag_is_invalid_target() {
    let lab = TestLab::start().await;
    let params = lab.bearer_params(&signed(&lab.id_jag_claims()));
    let params = with(&params, "resource", Some(OTHER_API));
    let d = error(&lab, &params, 400, "invalid_target").await;
    says(&d, &[OTHER_API]);
}

#[tokio::test]
async fn scope_outside_the_id_jag_does_not_burn_it() {
    let lab = TestLab::start().await;
    let jag = real_jag(&lab).await;
    for asked in ["todos.admin", "openid"] {
        let params = with(&lab.bearer_params(&jag), "scope", Some(asked));
        says(&error(&lab, &params, 400, "invalid_scope").await, &["scope", asked]);
    }
    let read_only = signed(&tweak(&lab, "scope", Some(json!("todos.read"))));
    let escalate = with(&lab.bearer_params(&read_only), "scope", Some("todos.write"));
    error(&lab, &escalate, 400, "invalid_scope").await;
    // Neither refusal consumed its jti.
    let body = granted(lab.as_token(&lab.bearer_params(&jag)).await).await;
    assert_eq!(body["scope"], "todos.read todos.write");
    let body = granted(lab.as_token(&lab.bearer_params(&read_only)).await).await;
    assert_eq!(body["scope"], "todos.read");
}

// ---- sender constraint: the four cnf cases of draft-04 §9.8.1.2 (checklist §5.2 step 15) ----

/// The sections each cnf refusal cites, as the wire carries them.
const CNF_WITHOUT_PROOF_SPEC: &str =
    "(draft-ietf-oauth-identity-assertion-authz-grant-04 Section 9.8.1.2.2, RFC 9449 Section 4.3)";
const CNF_WITH_PROOF_SPEC: &str =
    "(draft-ietf-oauth-identity-assertion-authz-grant-04 Section 9.8.1.2.1, RFC 9449 Section 6)";
const CNF_METHOD_SPEC: &str =
    "(draft-ietf-oauth-identity-assertion-authz-grant-04 Section 9.8.1.2.1, RFC 7800 Section 3.1)";

/// A valid DPoP proof of `POST {AS}/token` made with `key` now (RFC 9449 §4.2).
fn dpop_proof(lab: &TestLab, key: &DpopKey) -> String {
    let jti = xaa_core::secret::random_token(16);
    sign_proof(key, "POST", &format!("{}/token", lab.authz()), lab.now(), &jti, None, None).unwrap()
}

/// Presents `assertion` with the right client, with a `DPoP` header when `proof` is given.
async fn present(lab: &TestLab, assertion: &str, proof: Option<&str>) -> Response {
    let mut req = lab.http.post(format!("{}/token", lab.authz())).form(&lab.bearer_params(assertion));
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

/// A valid ID-JAG bound to `key` (as the IdP would mint it for a token exchange with its proof).
fn bound_jag(lab: &TestLab, key: &DpopKey) -> String {
    signed(&tweak(lab, "cnf", Some(json!({ "jkt": key.thumbprint() }))))
}

/// The checks the AS reported for the last jwt-bearer request it received, a failed one as
/// `✗ name`, with the detail of its `cnf` check.
fn last_grant_checks(lab: &TestLab) -> (Vec<String>, String) {
    let events = lab.lab.trace_events(&xaa_lab::observe::trace::TraceFilter::default());
    let grant = events.iter().rev().find(|e| e.step == "jwt-bearer" && e.service == "resource-as").unwrap();
    let names = grant.checks.iter().map(|c| if c.passed { c.name.to_owned() } else { format!("✗ {}", c.name) });
    let cnf =
        grant.checks.iter().find(|c| c.name == "cnf").map(|c| format!("{} ({})", c.detail, c.spec)).unwrap_or_default();
    (names.collect(), cnf)
}

/// The checks of a valid DPoP proof at the token endpoint, in RFC 9449 §4.3's order.
const PROOF: [&str; 9] = [
    "dpop-format",
    "dpop-typ",
    "dpop-alg",
    "dpop-jwk",
    "dpop-signature",
    "dpop-htm",
    "dpop-htu",
    "dpop-iat",
    "dpop-jti",
];
/// The AS's checks of the ID-JAG up to `sub`, all passed, in the checklist's order.
const UP_TO_SUB: [&str; 12] =
    ["format", "alg", "typ", "iss", "kid", "signature", "aud", "client_id", "exp", "iat", "jti", "sub"];
/// The AS's checks after `cnf` of a granted request.
const AFTER_CNF: [&str; 5] = ["cnf", "tenant", "resource", "scope", "jti"];

/// §9.8.1.2.1: `cnf.jkt` and a proof of that key: a DPoP-bound access token.
#[tokio::test]
async fn cnf_and_a_proof_of_its_key_get_a_dpop_token() {
    let lab = TestLab::start().await;
    let key = DpopKey::generate().unwrap();
    let body = granted(present(&lab, &bound_jag(&lab, &key), Some(&dpop_proof(&lab, &key))).await).await;
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(at_claims(&body)["cnf"], json!({ "jkt": key.thumbprint() }));
    let (names, cnf) = last_grant_checks(&lab);
    assert_eq!(names, [&["client"][..], &PROOF, &UP_TO_SUB, &AFTER_CNF].concat());
    assert_eq!(
        cnf,
        format!(
            "cnf.jkt \"{}\" is the thumbprint of the DPoP proof's key: the ID-JAG is presented by the key it is bound to (draft-ietf-oauth-identity-assertion-authz-grant-04 §9.8.1.2.1, RFC 9449 §6)",
            key.thumbprint()
        )
    );
}

/// §9.8.1.2.1: `cnf.jkt` and a proof of another key: `invalid_grant` naming both thumbprints.
#[tokio::test]
async fn cnf_and_a_proof_of_another_key_is_invalid_grant() {
    let lab = TestLab::start().await;
    let (key, other) = (DpopKey::generate().unwrap(), DpopKey::generate().unwrap());
    let resp = present(&lab, &bound_jag(&lab, &key), Some(&dpop_proof(&lab, &other))).await;
    let d = assert_oauth_error(resp, 400, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt '{}' but the DPoP proof is signed with the key with thumbprint '{}'; a DPoP-bound ID-JAG must be presented with a proof of the key it is bound to {CNF_WITH_PROOF_SPEC}",
            key.thumbprint(),
            other.thumbprint()
        )
    );
    assert_eq!(last_grant_checks(&lab).0.last().map(String::as_str), Some("✗ cnf"));
}

/// §9.8.1.2.2: `cnf.jkt` and no proof: `invalid_grant`.
#[tokio::test]
async fn cnf_without_a_dpop_proof_is_invalid_grant() {
    let lab = TestLab::start().await;
    let key = DpopKey::generate().unwrap();
    let d = assert_oauth_error(present(&lab, &bound_jag(&lab, &key), None).await, 400, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt '{}' but the request carries no DPoP proof; a DPoP-bound ID-JAG must be presented with a proof of that key {CNF_WITHOUT_PROOF_SPEC}",
            key.thumbprint()
        )
    );
    let (names, _) = last_grant_checks(&lab);
    assert_eq!(names, [&["client"][..], &UP_TO_SUB, &["✗ cnf"]].concat(), "cnf is checked right after sub (step 15)");
}

/// §9.8.1.2.3: no `cnf` and a proof: the proof is validated (MUST) and the access token bound to
/// its key (MAY; the lab does).
#[tokio::test]
async fn without_cnf_a_dpop_proof_is_validated_and_gets_a_dpop_token() {
    let lab = TestLab::start().await;
    let key = DpopKey::generate().unwrap();
    let body = granted(present(&lab, &signed(&lab.id_jag_claims()), Some(&dpop_proof(&lab, &key))).await).await;
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(at_claims(&body)["cnf"], json!({ "jkt": key.thumbprint() }));
    let (names, cnf) = last_grant_checks(&lab);
    assert_eq!(names, [&["client"][..], &PROOF, &UP_TO_SUB, &AFTER_CNF].concat());
    assert_eq!(
        cnf,
        format!(
            "no cnf claim, and the DPoP proof sent along passed its checks (key thumbprint \"{}\"): a token bound to that key can be issued (draft-ietf-oauth-identity-assertion-authz-grant-04 §9.8.1.2.3, RFC 9449 §4.3)",
            key.thumbprint()
        )
    );
}

/// §9.8.1.2.4: neither: a Bearer token.
#[tokio::test]
async fn without_cnf_and_proof_a_bearer_token() {
    let lab = TestLab::start().await;
    let body = granted(present(&lab, &signed(&lab.id_jag_claims()), None).await).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(at_claims(&body).get("cnf").is_none());
    let (names, cnf) = last_grant_checks(&lab);
    assert_eq!(names, [&["client"][..], &UP_TO_SUB, &AFTER_CNF].concat());
    assert_eq!(
        cnf,
        "no cnf claim and no DPoP proof: the ID-JAG is not sender-constrained, so a Bearer token can be issued (draft-ietf-oauth-identity-assertion-authz-grant-04 §9.8.1.2.4)"
    );
}

#[tokio::test]
async fn cnf_without_a_key_thumbprint_is_invalid_grant() {
    let lab = TestLab::start().await;
    let jag = signed(&tweak(&lab, "cnf", Some(json!({ "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }))));
    let key = DpopKey::generate().unwrap();
    for proof in [None, Some(dpop_proof(&lab, &key))] {
        let d = assert_oauth_error(present(&lab, &jag, proof.as_deref()).await, 400, "invalid_grant").await;
        assert_eq!(
            d,
            format!(
                "the ID-JAG's cnf claim is {{'x5t#S256':'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2'}} and names no DPoP key thumbprint (jkt); this lab's AS supports no other confirmation method {CNF_METHOD_SPEC}"
            )
        );
    }
}

/// A proof the AS's clock finds too old is `invalid_dpop_proof` (the lab clock moves, nobody sleeps).
#[tokio::test]
async fn a_proof_older_than_five_minutes_is_invalid_dpop_proof() {
    let lab = TestLab::start().await;
    let key = DpopKey::generate().unwrap();
    let proof = dpop_proof(&lab, &key);
    lab.clock.advance(301);
    let d =
        assert_oauth_error(present(&lab, &signed(&lab.id_jag_claims()), Some(&proof)).await, 400, "invalid_dpop_proof")
            .await;
    let iat = lab.now() - 301;
    assert_eq!(
        d,
        format!(
            "the DPoP proof was created 301 s ago (iat {iat}, now {}); this server accepts proofs for 300 s (RFC 9449 Section 4.3 item 11, Section 11.1)",
            lab.now()
        )
    );
}

// ---- accepted variants ----

#[tokio::test]
async fn scope_narrowing() {
    let lab = TestLab::start().await;
    let jag = real_jag(&lab).await;
    assert_eq!(decode(&jag).1["scope"], "todos.read todos.write");
    let params = with(&lab.bearer_params(&jag), "scope", Some("todos.read"));
    let body = granted(lab.as_token(&params).await).await;
    assert_eq!(body["scope"], "todos.read");
    assert_eq!(body["token_type"], "Bearer");
    let claims = at_claims(&body);
    assert_eq!(claims["scope"], "todos.read");
    assert_eq!(claims["aud"], lab.api());
}

#[tokio::test]
async fn aud_as_a_one_element_array_is_accepted() {
    let lab = TestLab::start().await;
    let jag = signed(&tweak(&lab, "aud", Some(json!([lab.authz()]))));
    let params = creds(&lab.bearer_params(&jag), None);
    let basic = Some((RESOURCE_CLIENT, RESOURCE_SECRET));
    let claims = at_claims(&granted(post(&lab, "/token", basic, &params).await).await);
    assert_eq!(claims["sub"], format!("customer1:{ALICE}"));
    assert_eq!(claims["client_id"], RESOURCE_CLIENT);
}

// ---- introspection (RFC 7662) ----

#[tokio::test]
async fn introspection() {
    let lab = TestLab::start().await;
    let access_token = lab.full_chain(ALICE).await;
    let form = |token: &str| vec![("token".to_owned(), token.to_owned())];
    let me = Some((RESOURCE_CLIENT, RESOURCE_SECRET));
    let path = "/token/introspection";
    let introspect = async |token: &str| granted(post(&lab, path, me, &form(token)).await).await;

    let active = introspect(&access_token).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["token_type"], "Bearer");
    let (_, at) = decode(&access_token);
    for claim in "sub client_id scope aud iss exp iat jti app_org".split(' ') {
        assert!(!at[claim].is_null() && active[claim] == at[claim], "{claim}: {active}");
    }
    assert_eq!(active["sub"], format!("customer1:{ALICE}"));
    assert_eq!(active["app_org"], "customer1");
    // client_secret_post works too.
    let body_auth = creds(&form(&access_token), me);
    let body = granted(post(&lab, path, None, &body_auth).await).await;
    assert_eq!(body["active"], true);

    let (id_jag, off) = (real_jag(&lab).await, json!({ "active": false }));
    for inactive in ["garbage", id_jag.as_str()] {
        assert_eq!(introspect(inactive).await, off, "{inactive}");
    }
    lab.clock.advance(7200 + 1);
    assert_eq!(introspect(&access_token).await, off, "expired");

    let anonymous = post(&lab, path, None, &form(&access_token)).await;
    assert_oauth_error(anonymous, 401, "invalid_client").await;
    let wrong = Some((RESOURCE_CLIENT, "wrong"));
    let wrong = post(&lab, path, wrong, &form(&access_token)).await;
    assert_oauth_error(wrong, 401, "invalid_client").await;
}

/// Security invariant: a used `jti` is remembered until `exp + JWT_LEEWAY`, so a replay inside the
/// leeway window (when `exp` alone would still accept the ID-JAG) is refused.
#[tokio::test]
async fn jti_record_outlives_exp_plus_leeway() {
    let lab = TestLab::start().await;
    let login = lab.login("alice@acme.example").await;
    let jag = lab.id_jag(&login.id_token).await;
    lab.access_token(&jag).await;
    lab.clock.advance(300 + xaa_core::JWT_LEEWAY - 1);
    let d = refused(&lab, &jag).await;
    says(&d, &["already used"]);
    lab.clock.advance(2);
    let d = refused(&lab, &jag).await;
    says(&d, &["expired"]);
}
