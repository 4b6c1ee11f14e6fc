//! Refusing form posts from other origins (axum middleware, feature `axum`). Cookies on localhost
//! ignore ports, so a page served on any other localhost port could set and send the lab's
//! cookies, defeating a double-submit CSRF token and `SameSite`. Browsers name the page that sent
//! a form in `Origin` (or at least `Referer`): a state-changing request must come from the host it
//! is sent to. Clients that send neither (curl, scripts) are not browsers and are judged by the
//! credentials they present. Put it on form routes only: token endpoints take cross-origin calls.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// The middleware: GET, HEAD and OPTIONS pass; any other method needs a same-origin sender.
pub async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || sent_by_same_origin(&req) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "refused a form post sent by a page of another origin");
    let page = "<!doctype html><meta charset=\"utf-8\"><title>Request refused</title>\
        <h1>Request refused</h1><p>This form was sent by a page of another site or port, so it was not \
        accepted. Go back to the page you were using and try again from there.</p>";
    (StatusCode::FORBIDDEN, Html(page)).into_response()
}

fn sent_by_same_origin(req: &Request) -> bool {
    let h = req.headers();
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(sender) = h.get(header::ORIGIN).or_else(|| h.get(header::REFERER)) else { return true };
    let Some(url) = sender.to_str().ok().and_then(|s| reqwest::Url::parse(s).ok()) else { return false };
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_owned(),
    };
    !host.is_empty() && authority.eq_ignore_ascii_case(host)
}
