//! A developer's own servers, for the "bring your own resource" tests: a resource server with
//! standard JWT middleware (josekit; keys found through the authorization server's RFC 8414
//! metadata), and a small authorization server of their own that validates ID-JAGs against the
//! lab IdP's JWKS and issues its own access tokens. Both run on 127.0.0.1:0 with the lab's clock.

use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use josekit::jwk::JwkSet;
use josekit::jws::RS256;
use serde_json::{Value, json};
use xaa_core::clock::ManualClock;
use xaa_core::jose::{KeySet, SigningKey};

/// Serves `router` on an ephemeral loopback port; returns `http://127.0.0.1:<port>`.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// An address nothing listens on (for the unreachable health check).
pub fn unreachable_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

/// Fetches the JWKS of `issuer`: RFC 8414 metadata (path-aware), then OpenID Connect discovery,
/// then `{issuer}/jwks`, as JWT middleware libraries do.
async fn jwks_of(issuer: &str) -> Option<JwkSet> {
    let http = reqwest::Client::new();
    let (origin, path) = match issuer.splitn(4, '/').collect::<Vec<_>>().as_slice() {
        [s, _, host, rest] => (format!("{s}//{host}"), format!("/{rest}")),
        _ => (issuer.to_owned(), String::new()),
    };
    let path = path.trim_end_matches('/');
    let candidates = [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')),
    ];
    let mut jwks_uri = format!("{}/jwks", issuer.trim_end_matches('/'));
    for url in candidates {
        if let Ok(r) = http.get(&url).send().await
            && r.status().is_success()
            && let Ok(doc) = r.json::<Value>().await
            && let Some(u) = doc["jwks_uri"].as_str()
        {
            jwks_uri = u.to_owned();
            break;
        }
    }
    let bytes = http.get(jwks_uri).send().await.ok()?.bytes().await.ok()?;
    JwkSet::from_bytes(&bytes).ok()
}

/// Verifies `jwt`'s signature with the keys of `issuer`; returns header and claims.
async fn verified(jwt: &str, issuer: &str) -> Result<(Value, Value), String> {
    let keys = jwks_of(issuer).await.ok_or("the issuer's JWKS could not be fetched")?;
    let header = josekit::jwt::decode_header(jwt).map_err(|e| format!("malformed token: {e}"))?;
    let kid = header.claim("kid").and_then(Value::as_str).unwrap_or("").to_owned();
    let jwk = keys.get(&kid).into_iter().next().ok_or(format!("signature: no key with kid {kid}"))?;
    let verifier = RS256.verifier_from_jwk(jwk).map_err(|e| e.to_string())?;
    let (payload, header) =
        josekit::jwt::decode_with_verifier(jwt, &verifier).map_err(|_| "signature invalid".to_owned())?;
    let header = serde_json::to_value(header.claims_set()).unwrap_or_default();
    Ok((header, Value::Object(payload.claims_set().clone())))
}

/// How the resource server's middleware is set up (changeable while it runs).
#[derive(Clone, Debug)]
pub struct MiddlewareConfig {
    /// The trusted issuer.
    pub issuer: String,
    /// The expected `aud`, compared exactly.
    pub audience: String,
    /// Whether it wrongly demands `typ: JWT` (else it accepts `at+jwt`).
    pub demand_typ_jwt: bool,
}

/// The developer's resource server.
pub struct ResourceServer {
    pub url: String,
    pub config: Arc<Mutex<MiddlewareConfig>>,
    /// The claims of the last token it accepted.
    pub accepted: Arc<Mutex<Option<Value>>>,
}

#[derive(Clone)]
struct RsState {
    config: Arc<Mutex<MiddlewareConfig>>,
    accepted: Arc<Mutex<Option<Value>>>,
    clock: Arc<ManualClock>,
}

fn challenge(status: StatusCode, error: &str, description: &str, scope: Option<&str>) -> Response {
    let mut www = format!("Bearer realm=\"byor\", error=\"{error}\", error_description=\"{description}\"");
    if let Some(s) = scope {
        www.push_str(&format!(", scope=\"{s}\""));
    }
    let body = json!({ "error": error, "error_description": description });
    (status, [(header::WWW_AUTHENTICATE, www)], Json(body)).into_response()
}

/// The middleware: bearer token, signature, `typ`, `iss`, `aud`, `exp`, then the scope.
async fn authorize(st: &RsState, headers: &HeaderMap, scope: &str) -> Result<Value, Response> {
    let cfg = st.config.lock().unwrap().clone();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"byor\"")]).into_response()
        })?;
    let invalid = |d: &str| challenge(StatusCode::UNAUTHORIZED, "invalid_token", d, None);
    let issuer = josekit::jwt::decode_header(token)
        .ok()
        .and(token.split('.').nth(1))
        .and_then(|p| base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|c| c["iss"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if issuer != cfg.issuer {
        return Err(invalid(&format!("issuer {issuer} is not trusted")));
    }
    let (header, claims) = verified(token, &cfg.issuer).await.map_err(|e| invalid(&e))?;
    let typ = header["typ"].as_str().unwrap_or("");
    if cfg.demand_typ_jwt && typ != "JWT" {
        return Err(invalid(&format!("unexpected typ {typ}, expected JWT")));
    }
    if !cfg.demand_typ_jwt && !matches!(typ, "at+jwt" | "application/at+jwt") {
        return Err(invalid(&format!("unexpected typ {typ}, expected at+jwt")));
    }
    let auds: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !auds.contains(&cfg.audience.as_str()) {
        return Err(invalid(&format!("audience mismatch: expected {}", cfg.audience)));
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp <= xaa_core::clock::Clock::now(st.clock.as_ref())) {
        return Err(invalid("token expired"));
    }
    let scopes = claims["scope"].as_str().unwrap_or("");
    if !scopes.split(' ').any(|s| s == scope) {
        return Err(challenge(StatusCode::FORBIDDEN, "insufficient_scope", "the token lacks a scope", Some(scope)));
    }
    *st.accepted.lock().unwrap() = Some(claims.clone());
    Ok(claims)
}

async fn list_items(State(st): State<RsState>, headers: HeaderMap) -> Response {
    match authorize(&st, &headers, "items.read").await {
        Ok(c) => Json(json!({ "items": ["first", "second"], "sub": c["sub"] })).into_response(),
        Err(r) => r,
    }
}

async fn create_item(State(st): State<RsState>, headers: HeaderMap) -> Response {
    match authorize(&st, &headers, "items.write").await {
        Ok(_) => (StatusCode::CREATED, Json(json!({ "created": true }))).into_response(),
        Err(r) => r,
    }
}

/// A minimal MCP endpoint (Streamable HTTP, JSON-RPC): `initialize` opens a session,
/// `resources/list` answers as a server-sent event; every call needs the bearer token.
async fn mcp(State(st): State<RsState>, headers: HeaderMap, Json(rpc): Json<Value>) -> Response {
    if let Err(r) = authorize(&st, &headers, "items.read").await {
        return r;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    }
    let session = headers.get("mcp-session-id").and_then(|v| v.to_str().ok());
    match rpc["method"].as_str() {
        Some("initialize") => {
            let result = json!({ "protocolVersion": rpc["params"]["protocolVersion"], "capabilities": { "resources": {} },
                "serverInfo": { "name": "byor-items", "version": "1" } });
            let body = Json(json!({ "jsonrpc": "2.0", "id": rpc["id"], "result": result }));
            ([("mcp-session-id", "session-1")], body).into_response()
        }
        _ if session != Some("session-1") => StatusCode::BAD_REQUEST.into_response(),
        Some("notifications/initialized") => StatusCode::ACCEPTED.into_response(),
        Some("resources/list") => {
            let result = json!({ "resources": [{ "uri": "items://first", "name": "first" }] });
            let event = json!({ "jsonrpc": "2.0", "id": rpc["id"], "result": result });
            ([(header::CONTENT_TYPE, "text/event-stream")], format!("event: message\ndata: {event}\n\n"))
                .into_response()
        }
        _ => {
            Json(json!({ "jsonrpc": "2.0", "id": rpc["id"], "error": { "code": -32601, "message": "no such method" } }))
                .into_response()
        }
    }
}

impl ResourceServer {
    /// Starts it; `config` gets the resource server's URL and returns the middleware settings.
    pub async fn start(clock: Arc<ManualClock>, config: impl FnOnce(&str) -> MiddlewareConfig) -> Self {
        let cfg = Arc::new(Mutex::new(MiddlewareConfig {
            issuer: String::new(),
            audience: String::new(),
            demand_typ_jwt: false,
        }));
        let accepted = Arc::new(Mutex::new(None));
        let st = RsState { config: cfg.clone(), accepted: accepted.clone(), clock };
        let router = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/api/items", get(list_items).post(create_item))
            .route("/mcp", post(mcp))
            .with_state(st);
        let url = serve(router).await;
        *cfg.lock().unwrap() = config(&url);
        Self { url, config: cfg, accepted }
    }

    /// Changes the middleware's settings.
    pub fn set(&self, edit: impl FnOnce(&mut MiddlewareConfig)) {
        edit(&mut self.config.lock().unwrap());
    }
}

/// Which metadata the developer's authorization server publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metadata {
    /// RFC 8414 (path-aware) and OpenID Connect.
    Rfc8414,
    /// OpenID Connect discovery only.
    OidcOnly,
    /// None: clients must guess `{issuer}/token`.
    None,
}

/// The developer's own authorization server, at `{origin}/as` (an issuer with a path).
pub struct OwnAs {
    pub issuer: String,
    /// The claims of the last ID-JAG it accepted.
    pub id_jags: Arc<Mutex<Vec<Value>>>,
}

#[derive(Clone)]
struct AsCtx {
    issuer: Arc<Mutex<String>>,
    idp: String,
    client_id: String,
    key: Arc<SigningKey>,
    clock: Arc<ManualClock>,
    id_jags: Arc<Mutex<Vec<Value>>>,
}

fn oauth_error(error: &str, d: &str) -> Response {
    let body = json!({ "error": error, "error_description": d });
    (StatusCode::BAD_REQUEST, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn token(State(c): State<AsCtx>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some(xaa_core::urn::GRANT_JWT_BEARER) {
        return oauth_error("unsupported_grant_type", "only jwt-bearer");
    }
    if get("client_id") != Some(c.client_id.as_str()) {
        return oauth_error("invalid_client", "unknown client");
    }
    let issuer = c.issuer.lock().unwrap().clone();
    let Some(assertion) = get("assertion") else { return oauth_error("invalid_request", "no assertion") };
    let (header, claims) = match verified(assertion, &c.idp).await {
        Ok(v) => v,
        Err(e) => return oauth_error("invalid_grant", &e),
    };
    let now = xaa_core::clock::Clock::now(c.clock.as_ref());
    let problem = if header["typ"] != "oauth-id-jag+jwt" {
        Some("typ must be oauth-id-jag+jwt")
    } else if claims["iss"] != c.idp.as_str() {
        Some("untrusted issuer")
    } else if claims["aud"] != issuer.as_str() {
        Some("aud is not this issuer")
    } else if claims["client_id"] != c.client_id.as_str() {
        Some("client_id does not match")
    } else if claims["exp"].as_i64().is_none_or(|e| e <= now) {
        Some("expired")
    } else {
        None
    };
    if let Some(p) = problem {
        return oauth_error("invalid_grant", p);
    }
    c.id_jags.lock().unwrap().push(claims.clone());
    let access = json!({
        "iss": issuer, "sub": claims["sub"], "aud": claims["resource"], "client_id": c.client_id,
        "scope": claims["scope"], "iat": now, "exp": now + 3600, "jti": xaa_core::secret::random_token(12),
    });
    let token = c.key.sign("at+jwt", &access).unwrap();
    let body = json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": claims["scope"] });
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

impl OwnAs {
    /// Starts it: it trusts ID-JAGs of the lab IdP `idp` for `client_id`.
    pub async fn start(clock: Arc<ManualClock>, idp: &str, client_id: &str, metadata: Metadata) -> Self {
        let issuer = Arc::new(Mutex::new(String::new()));
        let id_jags = Arc::new(Mutex::new(Vec::new()));
        let key = Arc::new(SigningKey::generate("own-as-1").unwrap());
        let ctx = AsCtx {
            issuer: issuer.clone(),
            idp: idp.to_owned(),
            client_id: client_id.to_owned(),
            key: key.clone(),
            clock,
            id_jags: id_jags.clone(),
        };
        let doc = {
            let issuer = issuer.clone();
            move || {
                let iss = issuer.lock().unwrap().clone();
                Json(
                    json!({ "issuer": iss, "token_endpoint": format!("{iss}/token"), "jwks_uri": format!("{iss}/jwks") }),
                )
            }
        };
        let jwks = KeySet::from_signing_keys([key.as_ref()]).to_jwks();
        let mut router =
            Router::new().route("/as/token", post(token)).route("/as/jwks", get(move || async move { Json(jwks) }));
        if metadata == Metadata::Rfc8414 {
            let d = doc.clone();
            router = router.route("/.well-known/oauth-authorization-server/as", get(move || async move { d() }));
        }
        if metadata != Metadata::None {
            router = router.route("/as/.well-known/openid-configuration", get(move || async move { doc() }));
        }
        let origin = serve(router.with_state(ctx)).await;
        *issuer.lock().unwrap() = format!("{origin}/as");
        Self { issuer: format!("{origin}/as"), id_jags }
    }
}
