//! The extractors on a tiny router, through `oneshot`: a page that shows a token, a form that needs
//! it, and a form that shows a refused post again.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Form;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::SameSite;
use serde::Deserialize;
use tower::ServiceExt;

use super::*;

const OWN: Csrf = Csrf::own_cookie("test_csrf", SameSite::Strict, false);
const SESSION: Csrf = Csrf::session_cookie("test_session");

#[derive(Clone)]
struct State(Csrf);

impl CsrfConfig for State {
    fn csrf(&self) -> Csrf {
        self.0
    }
}

#[derive(Deserialize)]
struct Note {
    title: String,
}

async fn page(csrf: CsrfToken) -> Response {
    let token = csrf.value().to_owned();
    (csrf, token).into_response()
}

async fn save(CsrfForm(Form(note)): CsrfForm<Form<Note>>) -> String {
    format!("saved {}", note.title)
}

/// A form handler with a page of its own for a refused form: the typed title comes back.
async fn save_or_show(form: Result<CsrfForm<Form<Note>>, CsrfRejection<Form<Note>>>) -> Response {
    match form {
        Ok(CsrfForm(Form(note))) => format!("saved {}", note.title).into_response(),
        Err(CsrfRejection::Forged(Form(note))) => {
            (StatusCode::BAD_REQUEST, format!("open too long; still typed: {}", note.title)).into_response()
        }
        Err(CsrfRejection::Unreadable(e)) => {
            (StatusCode::BAD_REQUEST, format!("unreadable: {}", e.body_text())).into_response()
        }
    }
}

async fn raw(CsrfForm(body): CsrfForm<Bytes>) -> Bytes {
    body
}

fn app(csrf: Csrf) -> Router {
    Router::new()
        .route("/page", get(page))
        .route("/save", post(save))
        .route("/save-or-show", post(save_or_show))
        .route("/raw", post(raw))
        .with_state(State(csrf))
}

async fn send(csrf: Csrf, req: Request<Body>) -> (StatusCode, Vec<String>, String) {
    let resp = app(csrf).oneshot(req).await.unwrap();
    let status = resp.status();
    let cookies = resp.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, cookies, String::from_utf8(body.to_vec()).unwrap())
}

fn get_page(cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get("/page");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

fn post_form(path: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

/// The first page mints the cookie and shows the token bound to it; later pages reuse it.
async fn first_page() -> (String, String) {
    let (status, cookies, token) = send(OWN, get_page(None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let (pair, attrs) = cookies[0].split_once(';').unwrap();
    assert!(pair.starts_with("test_csrf="), "{pair}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(attr), "{attr} in {attrs}");
    }
    assert!(!attrs.contains("Secure"), "not over plain HTTP: {attrs}");
    let value = pair.trim_start_matches("test_csrf=").to_owned();
    assert_eq!(token, OWN.token(&value));
    assert_ne!(token, value, "the page never shows the cookie itself");
    (format!("test_csrf={value}"), token)
}

#[tokio::test]
async fn a_page_mints_its_cookie_once_and_binds_the_token_to_it() {
    let (cookie, token) = first_page().await;
    let (status, cookies, again) = send(OWN, get_page(Some(&cookie))).await;
    assert_eq!((status, cookies.len(), again), (StatusCode::OK, 0, token), "the same token, no new cookie");

    let secure = Csrf::own_cookie("test_csrf", SameSite::Lax, true);
    let (_, cookies, _) = send(secure, get_page(None)).await;
    assert!(cookies[0].contains("SameSite=Lax") && cookies[0].contains("Secure"), "{cookies:?}");
}

#[tokio::test]
async fn the_right_token_is_accepted() {
    let (cookie, token) = first_page().await;
    let (status, cookies, body) =
        send(OWN, post_form("/save", Some(&cookie), &format!("csrf={token}&title=Plan"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "saved Plan"));
    assert!(cookies.is_empty());
    let (status, _, body) = send(OWN, post_form("/raw", Some(&cookie), &format!("title=Raw&csrf={token}"))).await;
    assert_eq!((status, body), (StatusCode::OK, format!("title=Raw&csrf={token}")), "the body as sent");
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused() {
    let (cookie, token) = first_page().await;
    let refused = [
        ("title=Plan".to_owned(), Some(cookie.as_str()), "no csrf field"),
        ("csrf=&title=Plan".to_owned(), Some(&cookie), "an empty one"),
        (format!("csrf={token}x&title=Plan"), Some(&cookie), "a wrong one"),
        (format!("csrf={}&title=Plan", cookie.trim_start_matches("test_csrf=")), Some(&cookie), "the cookie itself"),
        (format!("csrf={token}&csrf={token}&title=Plan"), Some(&cookie), "two of them"),
        (format!("csrf={token}&title=Plan"), None, "no cookie"),
        (format!("csrf={token}&title=Plan"), Some("test_csrf=another-browser"), "another browser's cookie"),
    ];
    for (body, cookie, why) in refused {
        let (status, cookies, page) = send(OWN, post_form("/save", cookie, &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
        assert!(page.contains("<h1>This page has expired</h1>"), "{why}: {page}");
        assert!(cookies.is_empty(), "{why}: a form sets no cookie");
    }
}

#[tokio::test]
async fn a_refused_form_comes_back_with_what_was_typed() {
    let (cookie, _) = first_page().await;
    let (status, _, body) = send(OWN, post_form("/save-or-show", Some(&cookie), "csrf=stale&title=My+draft")).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "open too long; still typed: My draft"));
    // A body the form type cannot read is its own rejection, whatever the token.
    let (status, _, body) = send(OWN, post_form("/save-or-show", Some(&cookie), "csrf=stale")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, "unreadable: Failed to deserialize form body: missing field `title`");
    let (status, _, _) = send(OWN, post_form("/save", Some(&cookie), "csrf=stale")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "axum's own answer to a form it cannot read");
}

#[tokio::test]
async fn a_session_bound_token_needs_that_session() {
    // No session: no cookie is minted, the token is empty and nothing is accepted.
    let (status, cookies, token) = send(SESSION, get_page(None)).await;
    assert_eq!((status, cookies.len(), token.as_str()), (StatusCode::OK, 0, ""));
    let (status, _, _) = send(SESSION, post_form("/save", None, "csrf=&title=Plan")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no session");

    let alice = "test_session=alice-session-id";
    let (_, cookies, token) = send(SESSION, get_page(Some(alice))).await;
    assert!(cookies.is_empty(), "the session cookie is never set here");
    assert_eq!(token, SESSION.token("alice-session-id"));
    let (status, _, body) = send(SESSION, post_form("/save", Some(alice), &format!("csrf={token}&title=Plan"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "saved Plan"));

    // Another session (signed in again, or another user) does not accept the old page's token.
    let later = "test_session=a-later-session-id";
    let (status, _, _) = send(SESSION, post_form("/save", Some(later), &format!("csrf={token}&title=Plan"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Tokens of different components' cookies never coincide, even for the same value.
    assert_ne!(OWN.token("v"), SESSION.token("v"));
}

#[test]
fn the_token_is_never_printed() {
    let token = CsrfToken::of(OWN, &HeaderMap::new());
    let printed = format!("{token:?}");
    assert!(!printed.contains(token.value()) && printed.contains("[redacted]"), "{printed}");
}

#[tokio::test]
async fn the_routers_body_limit_still_holds() {
    let (cookie, token) = first_page().await;
    let app = app(OWN).layer(axum::extract::DefaultBodyLimit::max(64));
    let body = format!("csrf={token}&title={}", "x".repeat(100));
    let resp = app.oneshot(post_form("/save", Some(&cookie), &body)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
