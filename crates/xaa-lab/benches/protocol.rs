//! In-process figures (criterion): what one RS256 signature costs, what validating an ID-JAG
//! costs, a whole token exchange through the IdP's router without the network, and a `TestLab`
//! start. Run with `cargo bench -p xaa-lab --features bench --bench protocol`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;
use xaa_core::claims::{IdJagClaims, IdTokenClaims, OneOrMany};
use xaa_core::clock::ManualClock;
use xaa_core::ids::{ClientId, Jti, ResourceClientId, Subject};
use xaa_core::key_source::StaticKeySource;
use xaa_core::oauth::{GrantRequest, SubjectTokenType, TokenExchangeRequest};
use xaa_core::urn;
use xaa_core::validation::CheckLog;
use xaa_core::validation::id_jag::{IdJagExpectations, validate_id_jag};
use xaa_faults::Faults;
use xaa_lab::{Fixtures, LabKeys, Ports, Urls};

const NOW: i64 = 1_800_000_000;

fn id_jag_claims(urls: &Urls, jti: String) -> IdJagClaims {
    IdJagClaims {
        iss: urls.idp_issuer(),
        sub: Subject::new("alice@acme.example"),
        aud: OneOrMany::One(urls.authorization_server_issuer()),
        client_id: ResourceClientId::new("my-requestor-at-todo0"),
        jti: Jti::new(jti),
        exp: NOW + 300,
        iat: NOW,
        nbf: None,
        resource: OneOrMany::from_values(vec![urls.todo_api_resource()]),
        scope: Some("todos.read".into()),
        auth_time: Some(NOW),
        email: Some("alice@acme.example".into()),
        tenant: Some("customer1".into()),
        sub_id: None,
    }
}

fn jose(c: &mut Criterion) {
    let urls = Urls::new(false, "localhost", Ports::DEFAULT);
    let keys = LabKeys::load(None).expect("embedded keys");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    c.bench_function("sign an ID-JAG (RS256)", |b| {
        b.iter(|| keys.idp.sign(urn::TYP_ID_JAG, &id_jag_claims(&urls, "j".into())).expect("signs"))
    });
    let jag = keys.idp.sign(urn::TYP_ID_JAG, &id_jag_claims(&urls, "j".into())).expect("signs");
    let source = StaticKeySource::default()
        .with_issuer(urls.idp.clone(), xaa_core::jose::KeySet::from_signing_keys([&keys.idp]));
    let (audience, trusted) = (urls.authorization_server_issuer(), vec![urls.idp_issuer()]);
    let client_id = ResourceClientId::new("my-requestor-at-todo0");
    let validate = |jag: &str| {
        let expect = IdJagExpectations {
            audience: &audience,
            trusted_issuers: &trusted,
            client_id: &client_id,
            now: NOW,
            leeway: 60,
            jkt: None,
        };
        rt.block_on(validate_id_jag(jag, expect, &source, &mut CheckLog::new())).expect("valid")
    };
    let mut n = 0u64;
    c.bench_function("validate a new ID-JAG (every check of draft-04 section 4.4.1, RSA verify)", |b| {
        b.iter_batched(
            || {
                n += 1;
                keys.idp.sign(urn::TYP_ID_JAG, &id_jag_claims(&urls, format!("jti-{n}"))).expect("signs")
            },
            |jag| validate(&jag),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("validate the same ID-JAG again (the verification is remembered)", |b| b.iter(|| validate(&jag)));
}

fn token_exchange(c: &mut Criterion) {
    let urls = Urls::new(false, "localhost", Ports::DEFAULT);
    let fixtures = Fixtures::load(None, &urls).expect("fixtures");
    let keys = LabKeys::load(None).expect("embedded keys");
    let id_token = keys
        .idp
        .sign(
            urn::TYP_ID_TOKEN,
            &IdTokenClaims {
                iss: urls.idp_issuer(),
                sub: Subject::new("alice@acme.example"),
                aud: ClientId::new("my-requestor"),
                exp: NOW + 600,
                iat: NOW,
                auth_time: NOW,
                nonce: None,
                email: "alice@acme.example".into(),
                email_verified: true,
                name: Some("Alice".into()),
                tenant: Some("customer1".into()),
            },
        )
        .expect("signs");
    let idp = xaa_idp::IdpState::new(
        xaa_idp::IdpConfig {
            issuer: urls.idp_issuer(),
            clients: fixtures.idp_clients(),
            users: fixtures.users.clone(),
            tenants: fixtures.tenants.clone(),
            authorization_servers: fixtures.authorization_servers.clone(),
            connections: fixtures.connections.clone(),
            lifetimes: xaa_idp::Lifetimes::default(),
            secure_cookies: false,
            max_open_registrations: xaa_core::oauth::DEFAULT_MAX_OPEN_REGISTRATIONS,
            audit_retention: xaa_idp::AuditRetention::default(),
            saml_service_providers: Vec::new(),
        },
        keys.idp,
        None,
        Arc::new(ManualClock::new(NOW)),
        Arc::new(xaa_core::secret::OsEntropy),
        Arc::new(Faults::new()),
    )
    .expect("IdP");
    let router = xaa_idp::router(idp);
    let exchange = TokenExchangeRequest::for_id_jag(
        &id_token,
        SubjectTokenType::IdToken,
        urls.authorization_server_issuer(),
        urls.todo_api_resource(),
        "todos.read",
    );
    let form = exchange.to_form_posting("my-requestor", "my-requestor-secret-not-for-production");
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).finish();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().expect("runtime");
    c.bench_function("token exchange through the IdP router, no network (verify + policy + sign + audit row)", |b| {
        b.iter(|| {
            let req = Request::post("/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.clone()))
                .expect("request");
            let resp = rt.block_on(router.clone().oneshot(req)).expect("answer");
            assert_eq!(resp.status(), 200);
        })
    });
}

fn testlab_start(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    c.bench_function("TestLab start (five servers on ephemeral ports, in memory) and stop", |b| {
        b.iter(|| rt.block_on(async { drop(xaa_lab::testing::TestLab::builder().start().await.expect("starts")) }))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = jose, token_exchange, testlab_start
}
criterion_main!(benches);
