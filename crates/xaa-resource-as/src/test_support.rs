//! The two routers in process for tests: in-memory SQLite, a stopped clock, an authorization
//! server key generated once per test binary, access tokens it signs, ID-JAGs of a trusted IdP
//! (test key A), DPoP keys and proofs, and responses rendered as text (status, headers, body) for
//! inline snapshots.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use tower::ServiceExt;
use xaa_core::claims::{AccessTokenClaims, Confirmation};
use xaa_core::clock::ManualClock;
use xaa_core::dpop::{DpopKey, sign_proof};
use xaa_core::ids::{Issuer, Jti, ResourceClientId, ResourceUri, Subject};
use xaa_core::jose::{KeySet, SigningKey, generate_rsa_pem};
use xaa_core::key_source::StaticKeySource;
use xaa_core::secret::{Secret, SeededEntropy};
use xaa_core::test_keys::{JwtBuilder, TestKey};
use xaa_core::urn;
use xaa_core::validation::CheckLog;
use xaa_faults::Faults;

use crate::config::{AsClient, ProtectedResource, ResourceAsConfig, TodoApiConfig};
use crate::state::{AsState, Shared, TodoState};
use crate::store::Store;
use crate::{SCOPE_MCP, SCOPE_READ, SCOPE_WRITE};

/// The stopped clock's time.
pub(crate) const NOW: i64 = 1_700_000_000;
/// The todo API's resource identifier.
pub(crate) const TODO_API: &str = "http://todo.test";
/// The MCP server's resource identifier.
pub(crate) const TODO_MCP: &str = "http://todo.test/mcp";
/// The authorization server's issuer.
pub(crate) const AS_ISSUER: &str = "http://as.test";
/// The IdP whose ID-JAGs it trusts.
pub(crate) const IDP_ISSUER: &str = "http://idp.test";
/// The client registered at the authorization server, and its secret.
pub(crate) const CLIENT_ID: &str = "app-at-todo0";
pub(crate) const CLIENT_SECRET: &str = "s3cret";

/// The authorization server's signing key: one RSA key per test binary.
fn as_key() -> SigningKey {
    static PEM: OnceLock<String> = OnceLock::new();
    let pem = PEM.get_or_init(|| generate_rsa_pem().expect("an RSA key"));
    SigningKey::from_pem("as-test", pem).expect("the generated key loads")
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(NOW))
}

/// The todo API (and its MCP server), trusting [`as_key`].
pub(crate) fn todo_router() -> Router {
    let config = TodoApiConfig {
        resource: ResourceUri::new(TODO_API),
        authorization_server: Issuer::new(AS_ISSUER),
        seed_todos: Vec::new(),
    };
    let store = Store::open(None).expect("in-memory SQLite");
    let keys = KeySet::from_signing_keys([&as_key()]);
    crate::todo_router(TodoState::new(config, keys, store, clock(), Arc::new(Faults::new())))
}

/// The resource authorization server, with one client ([`CLIENT_ID`]) and no trusted IdP keys.
pub(crate) fn as_router() -> Router {
    let config = as_config(vec![ProtectedResource {
        resource: ResourceUri::new(TODO_API),
        scopes: vec![SCOPE_READ.into(), SCOPE_WRITE.into(), SCOPE_MCP.into()],
        mcp: false,
    }]);
    let shared = Shared { clock: clock(), entropy: Arc::new(SeededEntropy::new(7)), faults: Arc::new(Faults::new()) };
    let store = Store::open(None).expect("in-memory SQLite");
    let st = AsState::new(config, as_key(), Arc::new(StaticKeySource::default()), store, shared)
        .expect("the authorization server starts");
    crate::authz_router(st)
}

/// The authorization server governing the todo API and its MCP server, trusting ID-JAGs of
/// [`IDP_ISSUER`] signed with test key A; its database at `db` (in memory when `None`). Returns
/// it with its clock.
pub(crate) fn as_state(db: Option<&Path>) -> (Arc<AsState>, Arc<ManualClock>) {
    let config = as_config(vec![
        ProtectedResource {
            resource: ResourceUri::new(TODO_API),
            scopes: vec![SCOPE_READ.into(), SCOPE_WRITE.into()],
            mcp: false,
        },
        ProtectedResource {
            resource: ResourceUri::new(TODO_MCP),
            scopes: vec![SCOPE_READ.into(), SCOPE_WRITE.into(), SCOPE_MCP.into()],
            mcp: true,
        },
    ]);
    let clock = clock();
    let shared =
        Shared { clock: clock.clone(), entropy: Arc::new(SeededEntropy::new(7)), faults: Arc::new(Faults::new()) };
    let store = Store::open(db).expect("SQLite opens");
    let idp_keys = StaticKeySource::default().with_issuer(IDP_ISSUER, TestKey::A.key_set());
    let st =
        AsState::new(config, as_key(), Arc::new(idp_keys), store, shared).expect("the authorization server starts");
    (st, clock)
}

/// An ID-JAG of [`IDP_ISSUER`] for alice and [`CLIENT_ID`], with `jti`, for `resource` with
/// `scope`, issued at [`NOW`] for five minutes.
pub(crate) fn id_jag(jti: &str, resource: &str, scope: &str) -> String {
    id_jag_with(jti, resource, scope, serde_json::json!({}))
}

/// [`id_jag`] with the claims of the object `extra` added (e.g. `cnf`).
pub(crate) fn id_jag_with(jti: &str, resource: &str, scope: &str, extra: serde_json::Value) -> String {
    let mut claims = serde_json::json!({
        "iss": IDP_ISSUER, "sub": "alice", "aud": AS_ISSUER, "client_id": CLIENT_ID, "jti": jti,
        "iat": NOW, "exp": NOW + 300, "resource": resource, "scope": scope, "email": "alice@example.test",
    });
    if let (Some(claims), serde_json::Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    JwtBuilder::new(urn::TYP_ID_JAG, claims).build()
}

/// The configuration of the test authorization servers, with `resources`.
fn as_config(resources: Vec<ProtectedResource>) -> ResourceAsConfig {
    ResourceAsConfig {
        issuer: Issuer::new(AS_ISSUER),
        trusted_issuers: vec![Issuer::new(IDP_ISSUER)],
        default_tenant: "acme".into(),
        clients: vec![AsClient {
            client_id: ResourceClientId::new(CLIENT_ID),
            client_secret: Secret::new(CLIENT_SECRET),
            grant_types: Vec::new(),
        }],
        resources,
        access_token_lifetime: 7200,
        max_open_registrations: 10,
        saml_trust: Vec::new(),
    }
}

/// An access token the authorization server signed for `aud` with `scope`, valid for an hour.
pub(crate) fn access_token(aud: &str, scope: &str) -> String {
    sign_access_token(aud, scope, None)
}

/// [`access_token`], bound to the DPoP key with thumbprint `jkt`.
pub(crate) fn bound_access_token(aud: &str, scope: &str, jkt: &str) -> String {
    sign_access_token(aud, scope, Some(jkt))
}

fn sign_access_token(aud: &str, scope: &str, jkt: Option<&str>) -> String {
    let claims = AccessTokenClaims {
        iss: Issuer::new(AS_ISSUER),
        sub: Subject::new("acme:alice"),
        aud: ResourceUri::new(aud),
        client_id: ResourceClientId::new(CLIENT_ID),
        scope: scope.into(),
        jti: Jti::new("jti-1"),
        iat: NOW,
        exp: NOW + 3600,
        auth_time: None,
        email: Some("alice@example.test".into()),
        app_org: Some("acme".into()),
        cnf: jkt.map(|jkt| Confirmation { jkt: jkt.to_owned() }),
    };
    as_key().sign(urn::TYP_ACCESS_TOKEN, &claims).expect("signed")
}

/// A fresh DPoP key.
pub(crate) fn dpop_key() -> DpopKey {
    DpopKey::generate().expect("an EC P-256 key")
}

/// A DPoP proof of `method url`, created now with `jti`, carrying the hash of `token` if given.
pub(crate) fn proof(key: &DpopKey, method: &str, url: &str, jti: &str, token: Option<&str>) -> String {
    sign_proof(key, method, url, NOW, jti, token, None).expect("a signed proof")
}

/// [`send`], with the names of the checks the server recorded (a failed one as `✗ name`).
pub(crate) async fn send_checked(router: Router, req: Request<Body>) -> (String, String) {
    let resp = router.oneshot(req).await.expect("routers are infallible");
    let checks = resp.extensions().get::<CheckLog>().cloned().unwrap_or_default();
    let names = checks.checks().iter().map(|c| if c.passed { c.name.to_owned() } else { format!("✗ {}", c.name) });
    (render(resp).await, names.collect::<Vec<_>>().join(" "))
}

/// Sends `req` through `router` (no server) and renders the response: the status line, every
/// header as `name: value`, a blank line, then the body.
pub(crate) async fn send(router: Router, req: Request<Body>) -> String {
    render(router.oneshot(req).await.expect("routers are infallible")).await
}

async fn render(resp: Response) -> String {
    let mut out = format!("{}\n", resp.status());
    for (name, value) in resp.headers() {
        out.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("<not text>")));
    }
    out.push('\n');
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("the body reads");
    out.push_str(&String::from_utf8_lossy(&body));
    out
}
