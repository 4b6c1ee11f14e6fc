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
