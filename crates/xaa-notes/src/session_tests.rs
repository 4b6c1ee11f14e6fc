//! The session extractor on a tiny router, through `oneshot`: signed out, expired, signed in, and
//! the CSRF token bound to the session.

use std::sync::Arc;
use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Form;
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use tower::ServiceExt;
use xaa_core::clock::{ManualClock, SharedClock};
use xaa_core::http_client::LazyClient;
use xaa_core::secret::{Secret, sha256_b64};
use xaa_web::csrf::CsrfForm;

use super::*;
use crate::config::NotesConfig;

const NOW: i64 = 1_800_000_000;

fn state() -> Arc<NotesState> {
    let config = NotesConfig {
        base_url: "http://localhost:4404".into(),
        idp_issuer: Issuer::new("http://localhost:4401"),
        authorization_server: Issuer::new("http://localhost:4402"),
        todo_api: ResourceUri::new("http://localhost:4403"),
        client_id: ClientId::new("notes"),
        client_secret: Secret::new("s"),
        resource_client_id: ResourceClientId::new("notes-at-as"),
        resource_client_secret: Secret::new("s"),
        scopes: "todos.read".into(),
        secure_cookies: false,
        reveal_secrets: false,
    };
    let http = Arc::new(LazyClient::new(Box::new(|| Ok(reqwest::Client::new()))));
    let clock: SharedClock = Arc::new(ManualClock::new(NOW));
    NotesState::new(config, None, http, clock, None).unwrap()
}

/// Signs `id` in as alice, for `ttl` seconds from now.
async fn sign_in(st: &NotesState, id: &str, ttl: i64) {
    let session = Session {
        id_hash: sha256_b64(id),
        sub: "alice".into(),
        email: "alice@acme.example".into(),
        name: "Alice".into(),
        id_token: "header.claims.signature".into(),
        id_token_exp: NOW + 300,
        access_token: None,
    };
    st.store.insert_session(session, NOW + ttl).await.unwrap();
}

#[derive(serde::Deserialize)]
struct Title {
    title: String,
}

fn app(st: Arc<NotesState>) -> Router {
    async fn whoami(s: SignedIn) -> String {
        format!("{} {}", s.session.email, s.csrf)
    }
    async fn maybe(s: Option<SignedIn>) -> String {
        s.map_or("signed out".to_owned(), |s| s.session.email)
    }
    async fn save(s: SignedIn, CsrfForm(Form(t)): CsrfForm<Form<Title>>) -> String {
        format!("{} saved {}", s.session.email, t.title)
    }
    Router::new()
        .route("/notes", get(whoami).post(save))
        .route("/notes/{id}", post(save))
        .route("/notes/{id}/todo", post(save))
        .route("/notes/{id}/delete", post(save))
        .route("/todos/mcp", get(whoami))
        .route("/", get(maybe))
        .with_state(st)
}

async fn send(st: &Arc<NotesState>, req: Request<Body>) -> (StatusCode, String, String) {
    let resp = app(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, location, String::from_utf8(body.to_vec()).unwrap())
}

fn request(method: &str, uri: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(id) = cookie {
        b = b.header(header::COOKIE, format!("xaa_notes_session={id}"));
    }
    if method == "POST" {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    b.body(Body::from(form.to_owned())).unwrap()
}

#[tokio::test]
async fn a_signed_out_browser_is_sent_to_sign_in_and_back() {
    let st = state();
    for (method, uri, back) in [
        ("GET", "/notes", "%2Fnotes"),
        ("GET", "/notes?id=7&flash=saved", "%2Fnotes%3Fid%3D7%26flash%3Dsaved"),
        ("GET", "/todos/mcp", "%2Ftodos%2Fmcp"),
        ("POST", "/notes", "%2Fnotes%3Fnew%3D1"),
        ("POST", "/notes/7", "%2Fnotes%3Fid%3D7"),
        ("POST", "/notes/7/todo", "%2Fnotes%3Fid%3D7"),
        ("POST", "/notes/7/delete", "%2Fnotes"),
    ] {
        let (status, location, _) = send(&st, request(method, uri, None, "title=x")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{method} {uri}");
        assert_eq!(location, format!("/auth/login?return_to={back}"), "{method} {uri}");
    }
    // An unknown session id is no session either.
    let (status, location, _) = send(&st, request("GET", "/notes", Some("not-a-session"), "")).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/auth/login?return_to=%2Fnotes"));
    let (status, _, body) = send(&st, request("GET", "/", None, "")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "signed out"));
}

#[tokio::test]
async fn an_expired_session_is_no_session() {
    let st = state();
    sign_in(&st, "expired-session-id", -1).await;
    let (status, location, _) = send(&st, request("GET", "/notes", Some("expired-session-id"), "")).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/auth/login?return_to=%2Fnotes"));
    let (_, _, body) = send(&st, request("GET", "/", Some("expired-session-id"), "")).await;
    assert_eq!(body, "signed out");
}

#[tokio::test]
async fn a_signed_in_browser_gets_its_session_and_its_forms_token() {
    let st = state();
    sign_in(&st, "alice-session-id", 3600).await;
    let (status, _, body) = send(&st, request("GET", "/notes", Some("alice-session-id"), "")).await;
    let token = st.csrf().token("alice-session-id");
    assert_eq!((status, body), (StatusCode::OK, format!("alice@acme.example {token}")));
    let (_, _, body) = send(&st, request("GET", "/", Some("alice-session-id"), "")).await;
    assert_eq!(body, "alice@acme.example");

    let form = format!("csrf={token}&title=Plan");
    let (status, _, body) = send(&st, request("POST", "/notes", Some("alice-session-id"), &form)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice@acme.example saved Plan"));
    // The token of another session (here: the same user signed in again) is refused.
    sign_in(&st, "alice-later-session-id", 3600).await;
    let (status, _, body) = send(&st, request("POST", "/notes", Some("alice-later-session-id"), &form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("This page has expired"), "{body}");
}
