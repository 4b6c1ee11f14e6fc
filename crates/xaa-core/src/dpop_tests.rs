//! One test per refusal of [`validate_proof`]: each proof differs from a valid one in one thing,
//! and the test pins the failed check's name, the exact `error_description` and the section it
//! cites (`[check] text (spec)`). Then the proofs that pass, the thumbprints and the `ath`.

use std::collections::HashSet;

use insta::assert_snapshot;
use josekit::jws::JwsSigner;
use serde_json::{Value, json};

use super::*;
use crate::test_keys::{TEST_KEY_A_PEM, TestKey};

/// 2026-01-01T00:00:00Z: the injected "now" of every test.
const NOW: i64 = 1_767_225_600;
const HTU: &str = "https://as.example/token";
const TOKEN: &str = "an-access-token";

fn key() -> DpopKey {
    DpopKey::generate().expect("an EC P-256 key")
}

/// A valid proof of `POST https://as.example/token`, created now.
fn proof() -> ProofBuilder {
    ProofBuilder::new("POST", HTU, NOW, "proof-1")
}

fn expect() -> ProofExpectations<'static> {
    ProofExpectations::new("POST", HTU)
}

fn signed(builder: ProofBuilder) -> String {
    builder.sign(&key()).expect("signed")
}

/// Validates `raw` at [`NOW`] with a fresh replay store.
fn validate(raw: &str, expect: &ProofExpectations<'_>) -> (Result<ValidProof, DpopError>, CheckLog) {
    let mut seen = HashSet::new();
    let mut log = CheckLog::new();
    let result = validate_proof_logged(raw, expect, NOW, &mut |jti, _| seen.insert(jti.to_owned()), &mut log);
    (result, log)
}

/// `[check] text (spec)` of a refusal, after asserting its error code and that the log ends with
/// exactly that failed check, every one before it passed.
fn line(e: &DpopError) -> String {
    let code = match e.check() {
        "dpop-nonce" => USE_DPOP_NONCE,
        _ => INVALID_DPOP_PROOF,
    };
    assert_eq!(e.error_code(), code, "{e:?}");
    format!("[{}] {e} ({})", e.check(), e.spec())
}

fn refusal_with(raw: &str, expect: &ProofExpectations<'_>) -> String {
    let (result, log) = validate(raw, expect);
    let e = result.expect_err("the proof must be refused");
    let (last, before) = log.checks().split_last().expect("the refusal is recorded");
    assert!(before.iter().all(|c| c.passed), "only the last check fails: {before:?}");
    assert_eq!((last.name, last.passed, last.detail.clone(), last.spec), (e.check(), false, e.to_string(), e.spec()));
    line(&e)
}

fn refusal(raw: &str) -> String {
    refusal_with(raw, &expect())
}

fn check_names(log: &CheckLog) -> String {
    assert!(log.checks().iter().all(|c| c.passed), "{:?}", log.checks());
    log.checks().iter().map(|c| c.name).collect::<Vec<_>>().join(" ")
}

/// A proof signed by `signer` (its `alg` in the header), carrying `jwk`.
fn signed_with(builder: ProofBuilder, alg: &str, jwk: &Map<String, Value>, signer: &dyn JwsSigner) -> String {
    builder.sign_with(alg, jwk, signer).expect("signed")
}

/// Test key A's public JWK (with its `kid`, `use` and `alg`).
fn rsa_jwk() -> Map<String, Value> {
    TestKey::A.signing_key().public_jwk().clone()
}

// --- passes ---

#[test]
fn a_valid_proof_passes_every_check_in_order() {
    let key = key();
    let (result, log) = validate(&proof().sign(&key).unwrap(), &expect());
    let valid = result.expect("a valid proof");
    assert_eq!(valid, ValidProof { jkt: key.thumbprint().to_owned(), jti: "proof-1".into(), iat: NOW });
    assert_snapshot!(check_names(&log), @"dpop-format dpop-typ dpop-alg dpop-jwk dpop-signature dpop-htm dpop-htu dpop-iat dpop-jti");
}

#[test]
fn a_proof_with_the_access_tokens_ath_and_the_nonce_passes() {
    let key = key();
    let raw = sign_proof(&key, "GET", "https://api.example/todos", NOW, "p-2", Some(TOKEN), Some("n-1")).unwrap();
    let expect = ProofExpectations::new("GET", "https://api.example/todos").with_access_token(TOKEN).with_nonce("n-1");
    let (result, log) = validate(&raw, &expect);
    assert_eq!(result.unwrap().jkt, key.thumbprint());
    assert_snapshot!(check_names(&log), @"dpop-format dpop-typ dpop-alg dpop-jwk dpop-signature dpop-htm dpop-htu dpop-iat dpop-ath dpop-nonce dpop-jti");
    assert_snapshot!(log.checks()[8].detail, @r#"ath "YiHPD2T9DaX5B837XJXto32BKkT6ZcpVAT6si9f5KiY" is the access token's hash"#);
}

#[test]
fn the_proof_of_a_request_without_a_token_may_carry_an_ath_it_is_not_checked() {
    let (result, _) = validate(&signed(proof().access_token("another-token")), &expect());
    result.expect("no access token, no ath check");
}

#[test]
fn rs256_ps256_and_eddsa_proofs_pass() {
    let rs256 = josekit::jws::RS256.signer_from_pem(TEST_KEY_A_PEM).unwrap();
    let (result, _) = validate(&signed_with(proof(), "RS256", &rsa_jwk(), &rs256), &expect());
    assert_eq!(result.unwrap().jkt, jwk_thumbprint(&rsa_jwk()).unwrap());

    let pair = josekit::jws::PS256.generate_key_pair(2048).unwrap();
    let signer = josekit::jws::PS256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
    let jwk: Map<String, Value> = pair.to_jwk_public_key().into();
    let (result, _) = validate(&signed_with(proof(), "PS256", &jwk, &signer), &expect());
    assert_eq!(result.unwrap().jkt, jwk_thumbprint(&jwk).unwrap());

    let pair = josekit::jws::EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519).unwrap();
    let signer = josekit::jws::EdDSA.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
    let jwk: Map<String, Value> = pair.to_jwk_public_key().into();
    let (result, _) = validate(&signed_with(proof(), "EdDSA", &jwk, &signer), &expect());
    assert_eq!(result.unwrap().jkt, jwk_thumbprint(&jwk).unwrap());
}

#[test]
fn htu_ignores_query_and_fragment() {
    let (result, _) = validate(&signed(proof().claim("htu", "https://as.example/token?a=1#frag")), &expect());
    result.expect("query and fragment are ignored");
    let expect = ProofExpectations::new("POST", "https://as.example/token?grant_type=x");
    validate(&signed(proof()), &expect).0.expect("also in the request URI");
}

#[test]
fn htu_is_compared_after_normalisation() {
    for htu in [
        "https://as.example:443/token",
        "HTTPS://AS.Example/token",
        "https://as.example/./token",
        "https://as.example/%74oken",
        "https://as.example/x/../token",
    ] {
        let (result, _) = validate(&signed(proof().claim("htu", htu)), &expect());
        result.unwrap_or_else(|e| panic!("{htu}: {e}"));
    }
    let expect = ProofExpectations::new("POST", "https://as.example:443/token");
    validate(&signed(proof()), &expect).0.expect("the default port in the request URI");
    let expect = ProofExpectations::new("POST", "http://as.example:80/a%2fb");
    validate(&signed(proof().claim("htu", "http://as.example/a%2Fb")), &expect).0.expect("%2f is %2F");
}

#[test]
fn iat_is_accepted_from_max_age_ago_to_leeway_ahead() {
    let expect = ProofExpectations { max_age: 120, leeway: 10, ..expect() };
    for iat in [NOW - 120, NOW, NOW + 10] {
        validate(&signed(proof().claim("iat", iat)), &expect).0.unwrap_or_else(|e| panic!("{iat}: {e}"));
    }
    validate(&signed(proof().claim("iat", NOW as f64 + 0.5)), &expect).0.expect("a fractional NumericDate");
}

#[test]
fn the_replay_store_sees_the_jti_and_iat_only_of_an_otherwise_valid_proof() {
    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut store = |jti: &str, iat: i64| {
        let new = !seen.iter().any(|(j, _)| j == jti);
        seen.push((jti.to_owned(), iat));
        new
    };
    let key = key();
    let wrong_method = proof().claim("htm", "GET").sign(&key).unwrap();
    let e = validate_proof(&wrong_method, &expect(), NOW, &mut store).unwrap_err();
    assert_eq!(e.check(), "dpop-htm");

    let raw = proof().claim("iat", NOW - 5).sign(&key).unwrap();
    assert_eq!(
        validate_proof(&raw, &expect(), NOW, &mut store).unwrap().jti,
        "proof-1",
        "the refused proof used up no jti"
    );
    let e = validate_proof(&raw, &expect(), NOW + 1, &mut store).unwrap_err();
    assert_snapshot!(line(&e), @r#"[dpop-jti] the DPoP proof's jti "proof-1" was already used: a proof is accepted only once (RFC 9449 §11.1)"#);
    assert_eq!(seen, [("proof-1".to_owned(), NOW - 5), ("proof-1".to_owned(), NOW - 5)]);
}

// --- the replay store (§11.1) ---

/// `[check] text (spec)` of a store's refusal of `raw` at `now`, or `accepted`.
fn stored(store: &ReplayStore, raw: &str, now: i64) -> String {
    let mut log = CheckLog::new();
    match store.validate(raw, &expect(), now, &mut log) {
        Ok(p) => format!("accepted {}", p.jti),
        Err(e) => {
            let last = log.checks().last().expect("the refusal is recorded");
            assert_eq!((last.name, last.passed, last.detail.clone()), (e.check(), false, e.to_string()));
            format!("[{}] {e} ({}) -> {}", e.check(), e.spec(), e.error_code())
        }
    }
}

#[test]
fn a_store_refuses_a_proof_used_again_within_its_window_and_forgets_it_after() {
    let store = ReplayStore::default();
    let raw = signed(proof());
    assert_snapshot!(stored(&store, &raw, NOW), @"accepted proof-1");
    assert_snapshot!(stored(&store, &raw, NOW + DEFAULT_MAX_AGE), @r#"[dpop-jti] the DPoP proof's jti "proof-1" was already used: a proof is accepted only once (RFC 9449 §11.1) -> invalid_dpop_proof"#);
    assert_eq!(store.len(), 1);
    // Past max_age the first proof is too old anyway: a new proof with the same jti is accepted
    // once the first one's window (iat + max_age + leeway) is over, and then refused in turn.
    let later = NOW + DEFAULT_MAX_AGE + crate::JWT_LEEWAY + 1;
    let again = signed(ProofBuilder::new("POST", HTU, later, "proof-1"));
    assert_snapshot!(stored(&store, &again, later), @"accepted proof-1");
    assert_snapshot!(stored(&store, &again, later), @r#"[dpop-jti] the DPoP proof's jti "proof-1" was already used: a proof is accepted only once (RFC 9449 §11.1) -> invalid_dpop_proof"#);
}

#[test]
fn a_full_store_drops_expired_jtis_and_otherwise_refuses_new_proofs() {
    let store = ReplayStore::new(2);
    let key = key();
    let at = |iat: i64, jti: &str| ProofBuilder::new("POST", HTU, iat, jti).sign(&key).unwrap();
    assert_snapshot!(stored(&store, &at(NOW, "a"), NOW), @"accepted a");
    assert_snapshot!(stored(&store, &at(NOW + 10, "b"), NOW + 10), @"accepted b");
    assert_snapshot!(stored(&store, &at(NOW + 20, "c"), NOW + 20), @"[dpop-jti] this server remembers the jti of at most 2 recent DPoP proofs to refuse replays, and every one of them is still within its window; retry in a few seconds (RFC 9449 §11.1) -> server_error");
    assert_eq!(store.len(), 2, "a and b are kept: both could still be replayed");
    // Once a's window is over, it is dropped to make room.
    let later = NOW + DEFAULT_MAX_AGE + crate::JWT_LEEWAY + 1;
    assert_snapshot!(stored(&store, &at(later, "c"), later), @"accepted c");
    assert_eq!(store.len(), 2);
    assert_snapshot!(stored(&store, &at(later, "b"), later), @"[dpop-jti] this server remembers the jti of at most 2 recent DPoP proofs to refuse replays, and every one of them is still within its window; retry in a few seconds (RFC 9449 §11.1) -> server_error");
}

#[test]
fn a_store_keeps_a_fixed_size_entry_for_any_jti() {
    let store = ReplayStore::default();
    let long = "j".repeat(10_000);
    assert!(stored(&store, &signed(ProofBuilder::new("POST", HTU, NOW, &long)), NOW).starts_with("accepted"));
    assert_eq!(store.seen.lock().unwrap().keys().map(|k| k.len()).collect::<Vec<_>>(), [32]);
}

#[test]
fn single_proof_takes_one_header_field() {
    assert_eq!(single_proof([]).unwrap(), None);
    assert_eq!(single_proof(["a.b.c"]).unwrap(), Some("a.b.c"));
    let e = single_proof(["a.b.c", "d.e.f"]).unwrap_err();
    assert_snapshot!(line(&e), @"[dpop-format] the request carries 2 DPoP proofs; a request carries exactly one (RFC 9449 §4.3 item 1)");
}

#[test]
fn a_refusal_is_a_rejection_for_the_check_log() {
    let e = DpopError::Htm { found: "GET".into(), expected: "POST".into() };
    let r = e.rejection();
    assert_eq!((r.check(), r.spec().to_string().as_str()), ("dpop-htm", "RFC 9449 §4.3 item 8"));
    assert_snapshot!(r.to_string(), @r#"the DPoP proof's htm is "GET", not "POST" (RFC 9449 §4.3 item 8)"#);
}

#[test]
fn a_dpop_key_signs_with_its_public_jwk_and_shows_no_private_part() {
    let key = key();
    assert_eq!(key.public_jwk().get("kty"), Some(&json!("EC")));
    assert_eq!(key.public_jwk().get("crv"), Some(&json!("P-256")));
    assert!(!key.public_jwk().contains_key("d"));
    assert_eq!(format!("{key:?}"), format!("DpopKey {{ jkt: {:?}, .. }}", key.thumbprint()));
    let raw = proof().sign(&key).unwrap();
    let jwt = UnverifiedJwt::parse(&raw).unwrap();
    assert_eq!((jwt.header().alg.as_str(), jwt.header().typ.as_deref()), ("ES256", Some("dpop+jwt")));
    assert_eq!(raw_header(&raw).unwrap().get("jwk"), Some(&Value::Object(key.public_jwk().clone())));
    assert_ne!(key.thumbprint(), self::key().thumbprint(), "each key is fresh");
}

// --- thumbprints and ath ---

#[test]
fn thumbprint_of_the_rfc_7638_example() {
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    });
    let Value::Object(jwk) = jwk else { unreachable!() };
    assert_eq!(jwk_thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn thumbprint_of_ec_and_okp_keys_uses_their_required_members_in_order() {
    let digest = |canonical: &str| URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    let ec = json!({ "y": "Y", "x": "X", "kty": "EC", "crv": "P-256", "kid": "k", "use": "sig" });
    let Value::Object(ec) = ec else { unreachable!() };
    assert_eq!(jwk_thumbprint(&ec).unwrap(), digest(r#"{"crv":"P-256","kty":"EC","x":"X","y":"Y"}"#));
    let okp = json!({ "x": "X", "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA" });
    let Value::Object(okp) = okp else { unreachable!() };
    assert_eq!(jwk_thumbprint(&okp).unwrap(), digest(r#"{"crv":"Ed25519","kty":"OKP","x":"X"}"#));
}

#[test]
fn thumbprint_refusals() {
    let refuse = |jwk: Value| {
        let Value::Object(jwk) = jwk else { unreachable!() };
        line(&jwk_thumbprint(&jwk).unwrap_err())
    };
    assert_snapshot!(refuse(json!({ "kty": "oct", "k": "c2VjcmV0" })), @r#"[dpop-jwk] the JWK's kty is "oct"; a thumbprint is computed for EC, RSA and OKP keys only (RFC 7638 §3.2)"#);
    assert_snapshot!(refuse(json!({ "n": "AQAB" })), @"[dpop-jwk] the JWK's kty is missing; a thumbprint is computed for EC, RSA and OKP keys only (RFC 7638 §3.2)");
    assert_snapshot!(refuse(json!({ "kty": "EC", "crv": "P-256", "x": "X", "y": 1 })), @r#"[dpop-jwk] the EC JWK has no string member "y", which its thumbprint is computed over (RFC 7638 §3.2)"#);
}

#[test]
fn ath_of_the_rfc_9449_example() {
    assert_eq!(ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

// --- format (RFC 9449 §4.3 items 1-2) ---

#[test]
fn format_several_proofs_in_one_field() {
    let raw = signed(proof());
    assert_snapshot!(refusal(&format!("{raw}, {raw}")), @"[dpop-format] the request carries 2 DPoP proofs; a request carries exactly one (RFC 9449 §4.3 item 1)");
}

#[test]
fn format_two_parts() {
    assert_snapshot!(refusal("eyJhbGciOiJFUzI1NiJ9.e30"), @"[dpop-format] the DPoP proof is not a valid JWT: a compact JWS has 3 dot-separated parts, this has 2 (RFC 9449 §4.3 item 2)");
}

#[test]
fn format_jwe() {
    assert_snapshot!(refusal("a.b.c.d.e"), @"[dpop-format] the DPoP proof is not a valid JWT: it is a JWE (5 parts); encrypted assertions are not supported (RFC 9449 §4.3 item 2)");
}

#[test]
fn format_critical_header() {
    assert_snapshot!(refusal(&signed(proof().header("crit", json!(["exp"])))), @r#"[dpop-format] the DPoP proof has critical header parameters ["exp"] that are not understood (RFC 7515 §4.1.11)"#);
}

// --- typ (item 4) ---

#[test]
fn typ_missing() {
    assert_snapshot!(refusal(&signed(proof().without_header("typ"))), @r#"[dpop-typ] the DPoP proof has no typ header; it must be "dpop+jwt" (RFC 9449 §4.3 item 4)"#);
}

#[test]
fn typ_of_another_jwt() {
    assert_snapshot!(refusal(&signed(proof().header("typ", "JWT"))), @r#"[dpop-typ] the DPoP proof's typ is "JWT", not "dpop+jwt" (RFC 9449 §4.3 item 4)"#);
}

#[test]
fn typ_is_compared_exactly() {
    assert_snapshot!(refusal(&signed(proof().header("typ", "application/dpop+jwt"))), @r#"[dpop-typ] the DPoP proof's typ is "application/dpop+jwt", not "dpop+jwt" (RFC 9449 §4.3 item 4)"#);
}

// --- alg (item 5) ---

#[test]
fn alg_hs256() {
    assert_snapshot!(refusal(&signed(proof().header("alg", "HS256"))), @r#"[dpop-alg] the DPoP proof is signed with alg "HS256"; only ES256, PS256, RS256, EdDSA are accepted (asymmetric signatures, never none or HS*) (RFC 9449 §4.3 item 5)"#);
}

#[test]
fn alg_none() {
    let raw = signed(proof().header("alg", "none"));
    let unsigned = &raw[..=raw.rfind('.').unwrap()];
    assert_snapshot!(refusal(unsigned), @r#"[dpop-alg] the DPoP proof is signed with alg "none"; only ES256, PS256, RS256, EdDSA are accepted (asymmetric signatures, never none or HS*) (RFC 9449 §4.3 item 5)"#);
}

// --- jwk (items 6-7) ---

#[test]
fn jwk_missing() {
    assert_snapshot!(refusal(&signed(proof().without_header("jwk"))), @"[dpop-jwk] the DPoP proof has no jwk header: a proof carries the public key that verifies its signature (RFC 9449 §4.2, §4.3 item 6)");
}

#[test]
fn jwk_not_an_object() {
    assert_snapshot!(refusal(&signed(proof().header("jwk", "a-key"))), @"[dpop-jwk] the DPoP proof's jwk header is not a JSON object (a JWK) (RFC 9449 §4.2, §4.3 item 6)");
}

#[test]
fn jwk_with_a_private_member() {
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let private: Map<String, Value> = pair.to_jwk_private_key().into();
    let signer = josekit::jws::ES256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
    let raw = signed_with(proof(), "ES256", &private, &signer);
    assert_snapshot!(refusal(&raw), @r#"[dpop-jwk] the DPoP proof's jwk header holds private key members ("d"); it must be a public key (RFC 9449 §4.3 item 7)"#);
}

#[test]
fn jwk_of_a_symmetric_key() {
    let raw = signed(proof().header("jwk", json!({ "kty": "oct", "k": "c2VjcmV0" })));
    assert_snapshot!(refusal(&raw), @r#"[dpop-jwk] the DPoP proof's jwk header holds private key members ("k"); it must be a public key (RFC 9449 §4.3 item 7)"#);
}

#[test]
fn jwk_of_another_key_type() {
    assert_snapshot!(refusal(&signed(proof().header("jwk", Value::Object(rsa_jwk())))), @r#"[dpop-jwk] the DPoP proof is signed with ES256, which needs an EC key on curve P-256, but its jwk is a "RSA" key (RFC 9449 §4.2, §4.3 item 6)"#);
}

#[test]
fn jwk_on_another_curve() {
    let jwk = json!({ "kty": "EC", "crv": "P-384", "x": "X", "y": "Y" });
    assert_snapshot!(refusal(&signed(proof().header("jwk", jwk))), @r#"[dpop-jwk] the DPoP proof is signed with ES256, which needs an EC key on curve P-256, but its jwk is a "EC" key on curve "P-384" (RFC 9449 §4.2, §4.3 item 6)"#);
}

#[test]
fn jwk_without_a_coordinate() {
    let mut jwk = key().public_jwk().clone();
    jwk.remove("y");
    assert_snapshot!(refusal(&signed(proof().header("jwk", Value::Object(jwk)))), @r#"[dpop-jwk] the EC JWK has no string member "y", which its thumbprint is computed over (RFC 7638 §3.2)"#);
}

#[test]
fn jwk_for_another_alg() {
    // Refused before the signature is checked: signing with RS256 makes no difference.
    let rs256 = josekit::jws::RS256.signer_from_pem(TEST_KEY_A_PEM).unwrap();
    let raw = signed_with(proof(), "PS256", &rsa_jwk(), &rs256);
    assert_snapshot!(refusal(&raw), @"[dpop-jwk] the DPoP proof's jwk header is not a usable PS256 public key: Invalid key format: A parameter alg must be PS256 but RS256 (RFC 9449 §4.2, §4.3 item 6)");
}

// --- signature (item 6) ---

#[test]
fn signature_of_another_key() {
    let other = key();
    let raw = proof().header("jwk", Value::Object(other.public_jwk().clone())).sign(&key()).unwrap();
    assert_snapshot!(refusal(&raw), @"[dpop-signature] the DPoP proof's signature does not verify with the public key in its jwk header (RFC 9449 §4.3 item 6)");
}

#[test]
fn signature_over_other_claims() {
    let key = key();
    let raw = proof().sign(&key).unwrap();
    let other = proof().claim("htm", "GET").sign(&key).unwrap();
    let parts: Vec<&str> = raw.split('.').collect();
    let spliced = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap(), parts[2]);
    assert_snapshot!(refusal(&spliced), @"[dpop-signature] the DPoP proof's signature does not verify with the public key in its jwk header (RFC 9449 §4.3 item 6)");
}

// --- required claims (item 3) ---

#[test]
fn claim_jti_missing() {
    assert_snapshot!(refusal(&signed(proof().without_claim("jti"))), @"[dpop-jti] the DPoP proof has no jti claim: every proof carries a unique identifier, so that it is used only once (RFC 9449 §4.2, §4.3 item 3)");
}

#[test]
fn claim_jti_empty() {
    assert_snapshot!(refusal(&signed(proof().claim("jti", ""))), @"[dpop-jti] the DPoP proof's jti claim is not a non-empty string (RFC 9449 §4.2, §4.3 item 3)");
}

#[test]
fn claim_htm_missing() {
    assert_snapshot!(refusal(&signed(proof().without_claim("htm"))), @"[dpop-htm] the DPoP proof has no htm claim: every proof names the HTTP method of the request it is made for (RFC 9449 §4.2, §4.3 item 3)");
}

#[test]
fn claim_htm_not_a_string() {
    assert_snapshot!(refusal(&signed(proof().claim("htm", json!(["POST"])))), @"[dpop-htm] the DPoP proof's htm claim is not a non-empty string (RFC 9449 §4.2, §4.3 item 3)");
}

#[test]
fn claim_htu_missing() {
    assert_snapshot!(refusal(&signed(proof().without_claim("htu"))), @"[dpop-htu] the DPoP proof has no htu claim: every proof names the URI of the request it is made for (RFC 9449 §4.2, §4.3 item 3)");
}

#[test]
fn claim_iat_missing() {
    assert_snapshot!(refusal(&signed(proof().without_claim("iat"))), @"[dpop-iat] the DPoP proof has no iat claim: every proof carries the time it was created (RFC 9449 §4.2, §4.3 item 3)");
}

#[test]
fn claim_iat_not_a_number() {
    assert_snapshot!(refusal(&signed(proof().claim("iat", "2026-01-01T00:00:00Z"))), @"[dpop-iat] the DPoP proof's iat claim is not a number of seconds since the epoch (RFC 9449 §4.2, §4.3 item 3)");
}

// --- htm (item 8) ---

#[test]
fn htm_of_another_method() {
    assert_snapshot!(refusal(&signed(proof().claim("htm", "GET"))), @r#"[dpop-htm] the DPoP proof's htm is "GET", not "POST" (RFC 9449 §4.3 item 8)"#);
}

#[test]
fn htm_is_case_sensitive() {
    assert_snapshot!(refusal(&signed(proof().claim("htm", "post"))), @r#"[dpop-htm] the DPoP proof's htm is "post", not "POST" (RFC 9449 §4.3 item 8)"#);
}

// --- htu (item 9) ---

#[test]
fn htu_of_another_path() {
    assert_snapshot!(refusal(&signed(proof().claim("htu", "https://as.example/token/other?a=1"))), @r#"[dpop-htu] the DPoP proof's htu is "https://as.example/token/other?a=1", not "https://as.example/token" (compared without query and fragment, scheme and host case-insensitively, default ports omitted) (RFC 9449 §4.3 item 9)"#);
}

#[test]
fn htu_of_another_port() {
    assert_snapshot!(refusal(&signed(proof().claim("htu", "https://as.example:8443/token"))), @r#"[dpop-htu] the DPoP proof's htu is "https://as.example:8443/token", not "https://as.example/token" (compared without query and fragment, scheme and host case-insensitively, default ports omitted) (RFC 9449 §4.3 item 9)"#);
}

#[test]
fn htu_of_another_scheme() {
    let expect = ProofExpectations::new("POST", "http://localhost:8080/token");
    assert_snapshot!(refusal_with(&signed(proof().claim("htu", "https://localhost:8080/token")), &expect), @r#"[dpop-htu] the DPoP proof's htu is "https://localhost:8080/token", not "http://localhost:8080/token" (compared without query and fragment, scheme and host case-insensitively, default ports omitted) (RFC 9449 §4.3 item 9)"#);
}

#[test]
fn htu_not_absolute() {
    assert_snapshot!(refusal(&signed(proof().claim("htu", "/token"))), @r#"[dpop-htu] the DPoP proof's htu "/token" is not an absolute http or https URI (RFC 9449 §4.3 item 9)"#);
}

#[test]
fn htu_not_http() {
    assert_snapshot!(refusal(&signed(proof().claim("htu", "urn:example:token"))), @r#"[dpop-htu] the DPoP proof's htu "urn:example:token" is not an absolute http or https URI (RFC 9449 §4.3 item 9)"#);
}

#[test]
fn the_servers_own_uri_is_unusable() {
    let (result, _) = validate(&signed(proof()), &ProofExpectations::new("POST", "/token"));
    let e = result.unwrap_err();
    assert_eq!((e.check(), e.error_code()), ("dpop-htu", "server_error"));
    assert_snapshot!(e.to_string(), @r#"this server's request URI "/token" is not an absolute http or https URI, so no htu can match it"#);
}

// --- iat (item 11) ---

#[test]
fn iat_too_old() {
    assert_snapshot!(refusal(&signed(proof().claim("iat", NOW - 301))), @"[dpop-iat] the DPoP proof was created 301 s ago (iat 1767225299, now 1767225600); this server accepts proofs for 300 s (RFC 9449 §4.3 item 11, §11.1)");
}

#[test]
fn iat_in_the_future() {
    assert_snapshot!(refusal(&signed(proof().claim("iat", NOW + 61))), @"[dpop-iat] the DPoP proof was created 61 s in the future (iat 1767225661, now 1767225600); at most 60 s of clock skew is accepted (RFC 9449 §4.3 item 11, §11.1)");
}

#[test]
fn iat_far_in_the_past_does_not_overflow() {
    let e = validate(&signed(proof().claim("iat", i64::MIN)), &expect()).0.unwrap_err();
    assert!(matches!(e, DpopError::TooOld { age: i64::MAX, .. }), "{e:?}");
}

// --- ath (item 12) ---

#[test]
fn ath_missing() {
    let expect = expect().with_access_token(TOKEN);
    assert_snapshot!(refusal_with(&signed(proof()), &expect), @"[dpop-ath] the DPoP proof has no ath claim, but it comes with an access token: a proof sent with an access token carries the token's hash (RFC 9449 §4.3 item 12, §4.2)");
}

#[test]
fn ath_of_another_token() {
    let expect = expect().with_access_token(TOKEN);
    assert_snapshot!(refusal_with(&signed(proof().access_token("another-token")), &expect), @r#"[dpop-ath] the DPoP proof's ath is "nni8uUCRt1EJ_WdzUk_I1qT4pt-z2uOanCbFABh5vPM", not "YiHPD2T9DaX5B837XJXto32BKkT6ZcpVAT6si9f5KiY", the hash of the access token it comes with (RFC 9449 §4.3 item 12, §4.2)"#);
}

#[test]
fn ath_not_a_string() {
    let expect = expect().with_access_token(TOKEN);
    assert_snapshot!(refusal_with(&signed(proof().claim("ath", 1)), &expect), @"[dpop-ath] the DPoP proof's ath claim is not a non-empty string (RFC 9449 §4.2, §4.3 item 3)");
}

// --- nonce (item 10) ---

#[test]
fn nonce_missing() {
    let expect = expect().with_nonce("n-1");
    assert_snapshot!(refusal_with(&signed(proof()), &expect), @r#"[dpop-nonce] the DPoP proof has no nonce claim: this server requires the nonce it provided ("n-1") (RFC 9449 §4.3 item 10, §8)"#);
}

#[test]
fn nonce_of_another_server() {
    let expect = expect().with_nonce("n-1");
    assert_snapshot!(refusal_with(&signed(proof().nonce("n-0")), &expect), @r#"[dpop-nonce] the DPoP proof's nonce is "n-0", not "n-1", the nonce this server provided (RFC 9449 §4.3 item 10, §8)"#);
}

// --- jti (§11.1) ---

#[test]
fn jti_replayed() {
    let e = validate_proof(&signed(proof()), &expect(), NOW, &mut |_, _| false).unwrap_err();
    assert_snapshot!(line(&e), @r#"[dpop-jti] the DPoP proof's jti "proof-1" was already used: a proof is accepted only once (RFC 9449 §11.1)"#);
}
