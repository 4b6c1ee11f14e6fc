//! Refusing form posts from other origins (an axum middleware). Cookies on localhost ignore ports,
//! so a page served on any other localhost port could set and send the lab's cookies, defeating a
//! CSRF token bound to a cookie of its own (see [`crate::csrf`]) and `SameSite`. Browsers name the
//! page that sent a form in `Origin` (or at least `Referer`): a state-changing request must come
//! from the host it is sent to. Clients that send neither (curl, scripts) are not browsers and are
//! judged by the credentials they present. Put it on form routes only: token endpoints take
//! cross-origin calls.

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

/// The authority the request was sent to: HTTP/2 (and HTTP/1.1 in absolute form) carries it in the
/// request target (`:authority`), HTTP/1.1 in origin form in `Host`.
fn authority_of(req: &Request) -> String {
    match req.uri().authority() {
        Some(a) => match a.port_u16() {
            Some(port) => format!("{}:{port}", a.host()),
            None => a.host().to_owned(),
        },
        None => req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
    }
}

fn sent_by_same_origin(req: &Request) -> bool {
    let h = req.headers();
    let host = authority_of(req);
    let Some(sender) = h.get(header::ORIGIN).or_else(|| h.get(header::REFERER)) else { return true };
    let Some(url) = sender.to_str().ok().and_then(|s| url::Url::parse(s).ok()) else { return false };
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_owned(),
    };
    !host.is_empty() && authority.eq_ignore_ascii_case(&host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().method(Method::POST).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn http1_compares_the_host_header() {
        let ok = post("/login/email", &[("host", "localhost:4401"), ("origin", "http://localhost:4401")]);
        assert!(sent_by_same_origin(&ok));
        let other = post("/login/email", &[("host", "localhost:4401"), ("origin", "http://localhost:9999")]);
        assert!(!sent_by_same_origin(&other));
    }

    #[test]
    fn http2_compares_the_authority_of_the_request_target() {
        // HTTP/2 sends `:authority`, which hyper puts in the URI; there is no Host header.
        let ok = post("https://localhost:4401/login/email", &[("origin", "https://localhost:4401")]);
        assert!(sent_by_same_origin(&ok));
        let referer =
            post("https://localhost:4401/login/email", &[("referer", "https://localhost:4401/authorize?x=1")]);
        assert!(sent_by_same_origin(&referer));
        let other = post("https://localhost:4401/login/email", &[("origin", "https://localhost:4402")]);
        assert!(!sent_by_same_origin(&other));
    }

    #[test]
    fn no_authority_at_all_is_refused_when_a_browser_names_its_page() {
        let none = post("/login/email", &[("origin", "http://localhost:4401")]);
        assert!(!sent_by_same_origin(&none));
        let script = post("/login/email", &[]);
        assert!(sent_by_same_origin(&script));
    }
}
