//! Unit tests of the trace: masking, bounds, streaming and flow linking.
use super::*;

fn ex(target: &str, request: &[(&str, &str)]) -> Exchange {
    Exchange {
        service: "idp".into(),
        method: "POST".into(),
        target: target.into(),
        request: request.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        status: Some(200),
        ..Exchange::default()
    }
}

#[test]
fn secrets_are_masked_and_long_values_shortened() {
    let trace = Trace::new(10, false);
    let long = "x".repeat(1000);
    let e = trace.record(ex(
        "localhost:1/token",
        &[("client_secret", "a-very-secret-client-secret"), ("title", &long), ("grant_type", "authorization_code")],
    ));
    assert_eq!(e.request[0].1, "a-very…cret (27 chars)");
    assert!(e.request[1].1.ends_with("… (1000 chars)"));
    assert_eq!(e.step, "code grant");
    assert!(!serde_json::to_string(&*e).unwrap().contains("a-very-secret-client-secret"));
    let revealing = Trace::new(10, true);
    assert_eq!(revealing.record(ex("localhost:1/token", &[("client_secret", "abc")])).request[0].1, "abc");
}

#[test]
fn the_trace_is_bounded_and_streams() {
    let trace = Trace::new(3, false);
    let mut rx = trace.subscribe();
    for _ in 0..5 {
        trace.record(ex("localhost:1/jwks", &[]));
    }
    let kept = trace.events(&TraceFilter::default());
    assert_eq!(kept.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(rx.try_recv().unwrap().id, 1);
}

#[test]
fn login_and_code_grant_share_a_flow_and_basic_auth_names_the_client() {
    let trace = Trace::new(10, false);
    let authorize = trace.record(ex("localhost:1/authorize", &[("client_id", "app")]));
    let basic = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "app:s"));
    let grant =
        trace.record(ex("localhost:1/token", &[("authorization", &basic), ("grant_type", "authorization_code")]));
    assert_eq!(grant.client_id.as_deref(), Some("app"));
    assert_eq!(authorize.flow, grant.flow);
    assert_eq!(trace.record(ex("localhost:1/jwks", &[])).flow, 0, "requests naming no client are 'other'");
}

#[test]
fn linking_maps_stay_bounded() {
    let trace = Trace::new(4, false);
    for i in 0..1000 {
        trace.record(ex("localhost:1/authorize", &[("client_id", &format!("app-{i}"))]));
    }
    let inner = trace.inner.lock().unwrap();
    assert!(inner.pending_login.len() <= 64, "{}", inner.pending_login.len());
    assert_eq!(inner.events.len(), 4);
}

#[test]
fn the_byte_budget_bounds_the_trace_whatever_the_requests_carry() {
    let trace = Trace::new(10_000, false).with_budget(256 * 1024);
    // 2 MiB bodies of tiny fields, huge keys and values, deep JSON answers: what made 20 requests
    // cost 1.6 GB before the trace had a byte budget.
    let body = format!("{}={}&", "k".repeat(100_000), "v".repeat(100_000)).repeat(10) + &"a=1&".repeat(100_000);
    let answer: Value =
        (0..5000).map(|i| (format!("m{i}"), Value::from("x".repeat(1000)))).collect::<Map<_, _>>().into();
    for _ in 0..20 {
        let mut e = ex("localhost:1/token", &[]);
        e.request = body_params("application/x-www-form-urlencoded", body.as_bytes());
        e.response = Some(Answer::Unmasked(answer.clone()));
        let kept = trace.record(e);
        assert!(kept.request.len() <= bounds::MAX_PARAMS + 1);
        assert!(kept.request.iter().all(|(k, v)| k.chars().count() <= 80 && v.chars().count() <= 320), "cut");
        assert!(serde_json::to_string(&*kept).unwrap().len() < 64 * 1024, "one event stays small");
    }
    assert!(trace.kept_bytes() <= 256 * 1024, "{}", trace.kept_bytes());
    let kept = trace.events(&TraceFilter::default());
    assert!(kept.len() > 1 && kept.len() < 20, "the oldest went first: {}", kept.len());
    assert_eq!(kept.last().unwrap().id, 20, "the newest is always kept");
}

#[test]
fn revealed_secrets_are_kept_whole_up_to_a_jwt_size() {
    let token = "e".repeat(2000);
    let revealing = Trace::new(10, true);
    let e = revealing.record(ex("localhost:1/token", &[("assertion", &token)]));
    assert_eq!(e.request[0].1, token, "a revealed token is shown whole, not cut at 300 characters");
    let masking = Trace::new(10, false);
    let e = masking.record(ex("localhost:1/token", &[("assertion", &token)]));
    assert_eq!(e.request[0].1, format!("eeeeee…eeee (2000 chars)"));
}

#[test]
fn every_change_moves_the_generation_and_a_snapshot_names_its_own() {
    let trace = Trace::new(2, false);
    let g0 = trace.generation();
    trace.record(ex("localhost:1/jwks", &[]));
    let (g1, events) = trace.snapshot(&TraceFilter::default());
    assert_eq!((g1, events.len()), (g0 + 1, 1));
    trace.record(ex("localhost:1/jwks", &[]));
    trace.record(ex("localhost:1/jwks", &[]));
    assert_eq!(trace.generation(), g0 + 3, "a record that drops the oldest is one change");
    trace.clear();
    let (g4, events) = trace.snapshot(&TraceFilter::default());
    assert_eq!((g4, events.len()), (g0 + 4, 0), "a reset is a change");
}

#[test]
fn an_event_keeps_the_millisecond_it_arrived() {
    let trace = Trace::new(2, false);
    let mut e = ex("localhost:1/jwks", &[]);
    (e.at, e.at_ms) = (1_800_000_000, 1_800_000_000_123);
    assert_eq!(trace.record(e).at_ms, 1_800_000_000_123);
    let mut e = ex("localhost:1/jwks", &[]);
    e.at = 1_800_000_001;
    assert_eq!(trace.record(e).at_ms, 1_800_000_001_000, "a sent call knows its second only");
}

#[test]
fn a_token_seen_again_is_decoded_once_and_shared() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"at+jwt","kid":"k1"}"#),
        b64(r#"{"sub":"alice","client_id":"app"}"#)
    );
    let bearer = format!("Bearer {token}");
    let trace = Trace::new(10, false);
    let first = trace.record(ex("localhost:1/api/todos", &[("authorization", bearer.as_str())]));
    let again = trace.record(ex("localhost:1/api/todos", &[("authorization", bearer.as_str())]));
    let (a, b) = (&first.tokens[0], &again.tokens[0]);
    assert_eq!((a.field.as_str(), a.claims.get("sub")), ("authorization", Some(&Value::from("alice"))));
    assert_eq!(a.header.get("typ"), Some(&Value::from("at+jwt")));
    assert!(Arc::ptr_eq(&a.claims, &b.claims), "the second event shares the first one's claims");
    // Serialised as the claims themselves, as before they were shared.
    let json = serde_json::to_value(&*again).unwrap();
    assert_eq!(json["tokens"][0]["claims"], serde_json::json!({ "sub": "alice", "client_id": "app" }));
    // A value that is no compact JWS is not decoded.
    let none = trace.record(ex("localhost:1/api/todos", &[("authorization", "Bearer a.b")]));
    assert!(none.tokens.is_empty());
}

/// A JSON answer is stored bounded, and with its secret members masked: an answer without one
/// (a todo listing) keeps its members in order; masked members come last.
#[test]
fn answers_are_bounded_and_their_secrets_masked() {
    let trace = Trace::new(10, false);
    let listing = serde_json::json!({
        "success": true,
        "data": [{ "id": 1, "title": "t".repeat(400) }],
        "k".repeat(70): 1,
    });
    let kept = serde_json::to_string(&trace.masked_json(listing)).unwrap();
    assert!(kept.starts_with(r#"{"success":true,"data":[{"id":1,"title":"tttt"#), "{kept}");
    assert!(kept.contains("… (400 chars)\"}]"), "{kept}");
    assert!(kept.contains(&format!("\"{}… (70 chars)\":1", "k".repeat(64))), "{kept}");
    let token = serde_json::json!({ "access_token": "a".repeat(40), "token_type": "Bearer", "expires_in": 300 });
    assert_eq!(
        serde_json::to_string(&trace.masked_json(token)).unwrap(),
        r#"{"token_type":"Bearer","expires_in":300,"access_token":"aaaaaa…aaaa (40 chars)"}"#
    );
}

/// The same JSON answer again is shared, not parsed and stored again; it is bounded like any
/// answer. An answer with a secret or a token among its members is never shared: it is masked,
/// and its tokens decoded, on every record.
#[test]
fn a_plain_answer_is_kept_once_and_shared() {
    let trace = Trace::new(10, false);
    let listing = serde_json::json!({ "success": true, "count": 1, "data": [{ "id": 1, "title": "x".repeat(400) }] });
    let body = axum::body::Bytes::from(listing.to_string());
    let record = |answer| {
        let mut e = ex("localhost:1/api/todos", &[]);
        e.response = answer;
        trace.record(e)
    };
    let first = record(trace.answer("application/json", &body));
    let again = record(trace.answer("application/json", &axum::body::Bytes::from(listing.to_string())));
    let (a, b) = (first.response.as_ref().unwrap(), again.response.as_ref().unwrap());
    assert!(Arc::ptr_eq(a, b), "shared");
    assert_eq!(a["count"], 1);
    assert!(a["data"][0]["title"].as_str().unwrap().ends_with("… (400 chars)"), "bounded: {a}");

    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLWJ5dGVz";
    for answer in [serde_json::json!({ "access_token": token }), serde_json::json!({ "note": token })] {
        let body = axum::body::Bytes::from(answer.to_string());
        let kept = [trace.answer("application/json", &body), trace.answer("application/json", &body)].map(record);
        let (a, b) = (kept[0].response.as_ref().unwrap(), kept[1].response.as_ref().unwrap());
        assert!(!Arc::ptr_eq(a, b), "not shared: {a}");
        assert_eq!(kept[1].tokens.len(), 1, "its token decoded again");
        assert_eq!(kept[1].tokens[0].claims["sub"], "ann");
    }
    let masked =
        record(trace.answer("application/json", &axum::body::Bytes::from(format!(r#"{{"access_token":"{token}"}}"#))));
    assert_eq!(masked.response.as_ref().unwrap()["access_token"], "eyJhbG…dGVz (60 chars)");
    // An MCP event stream's message is read from the stream each time.
    let stream = axum::body::Bytes::from(format!("data: {listing}\n\n"));
    let streamed = [trace.answer("text/event-stream", &stream), trace.answer("text/event-stream", &stream)].map(record);
    let (a, b) = (streamed[0].response.as_ref().unwrap(), streamed[1].response.as_ref().unwrap());
    assert!(!Arc::ptr_eq(a, b) && a == b, "read, not shared: {a}");
}
