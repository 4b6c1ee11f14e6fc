//! What every server of the lab answers for a path it does not serve, and its favicon.
//!
//! - [`redirect_trailing_slash`]: a `GET` or `HEAD` of `/explorer/` that nothing answers is sent
//!   to `/explorer` (`308`, the query kept), the typo a person makes most;
//! - a browser (`Accept: text/html`, [`wants_html`]) gets the server's own styled page with a way
//!   back; each web UI renders its own, and [`ApiNotFound`] is the page of a server that has no
//!   pages (the resource AS, the todo API);
//! - a program gets JSON: `{"error":"not_found","error_description":…}` ([`json`]);
//! - [`favicon`]: every server answers `/favicon.ico` (and its pages link `/favicon.svg`), so no
//!   page load logs a 404 for it.

use askama::Template;
use axum::extract::Request;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Whether the request is a browser's: its `Accept` names `text/html`.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// The sentence a 404 says: `there is no GET /x here`.
pub fn describe(method: &Method, uri: &Uri) -> String {
    format!("there is no {method} {} here", uri.path())
}

/// The 404 a program reads.
pub fn json(method: &Method, uri: &Uri) -> Response {
    let body = serde_json::json!({ "error": "not_found", "error_description": describe(method, uri) });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// The answer to a path a server does not serve: `page` (made from the path) for a browser, the
/// JSON 404 for a program. Every server's fallback route is this with its own page.
pub fn answer<P: IntoResponse>(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    page: impl FnOnce(String) -> P,
) -> Response {
    if wants_html(headers) {
        (StatusCode::NOT_FOUND, page(uri.path().to_owned())).into_response()
    } else {
        json(method, uri)
    }
}

/// Middleware: a `GET` or `HEAD` that found nothing at a path ending in `/` is redirected (`308`)
/// to the path without it; everything else passes through untouched.
pub async fn redirect_trailing_slash(req: Request, next: Next) -> Response {
    let retry =
        matches!(*req.method(), Method::GET | Method::HEAD).then(|| without_trailing_slash(req.uri())).flatten();
    let resp = next.run(req).await;
    match retry {
        Some(location) if resp.status() == StatusCode::NOT_FOUND => match HeaderValue::from_str(&location) {
            Ok(value) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, value)]).into_response(),
            Err(_) => resp,
        },
        _ => resp,
    }
}

/// `uri`'s path and query without the trailing `/` of the path, unless the path is `/` (or only
/// slashes, which would leave a path a browser reads as another host: `//evil.example`).
fn without_trailing_slash(uri: &Uri) -> Option<String> {
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    if trimmed.len() == path.len() || trimmed.is_empty() || trimmed.starts_with("//") {
        return None;
    }
    Some(match uri.query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_owned(),
    })
}

/// The page of a server that has no pages of its own, for a browser that asked for a path it
/// does not serve: what the server is and where its documents are.
#[derive(Template)]
#[template(path = "not_found.html")]
pub struct ApiNotFound {
    /// The server, as the lab names it (`resource authorization server`).
    pub server: &'static str,
    /// What it is for, one sentence.
    pub about: &'static str,
    /// The path that was asked for.
    pub path: String,
    /// Its documents and endpoints a person may open: `(label, path)`.
    pub links: &'static [(&'static str, &'static str)],
}

impl IntoResponse for ApiNotFound {
    fn into_response(self) -> Response {
        match self.render() {
            Ok(html) => (StatusCode::NOT_FOUND, Html(html)).into_response(),
            Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
        }
    }
}

/// A server's favicon: `letter` in white on a rounded square of `colour` (a CSS colour), as SVG,
/// cached for a day. Each server has its own, so the browser's tabs tell them apart.
pub fn favicon(letter: char, colour: &'static str) -> Response {
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="{colour}"/><text x="16" y="23" font-family="system-ui,sans-serif" font-size="20" font-weight="700" fill="#fff" text-anchor="middle">{letter}</text></svg>"##
    );
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
        (CACHE_CONTROL, HeaderValue::from_static("max-age=86400")),
    ];
    (headers, svg).into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route("/explorer", get(|| async { "explorer" }))
            .route("/", get(|| async { "home" }))
            .fallback(|method: Method, uri: Uri, headers: HeaderMap| async move {
                answer(&method, &uri, &headers, |path| Html(format!("<p>no {path}</p>")))
            })
            .layer(axum::middleware::from_fn(redirect_trailing_slash))
    }

    async fn send(method: Method, uri: &str) -> Response {
        app().oneshot(Request::builder().method(method).uri(uri).body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn a_trailing_slash_typo_is_redirected_with_its_query() {
        let resp = send(Method::GET, "/explorer/?step=2").await;
        assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(resp.headers()[LOCATION], "/explorer?step=2");
        assert_eq!(send(Method::HEAD, "/explorer//").await.headers()[LOCATION], "/explorer");
    }

    #[tokio::test]
    async fn only_a_get_that_found_nothing_is_redirected() {
        assert_eq!(send(Method::GET, "/").await.status(), StatusCode::OK);
        assert_eq!(send(Method::POST, "/explorer/").await.status(), StatusCode::NOT_FOUND);
        // `//evil.example/` must never become a Location a browser reads as another host.
        let resp = send(Method::GET, "//evil.example/").await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert!(resp.headers().get(LOCATION).is_none());
    }

    #[tokio::test]
    async fn a_program_gets_the_404_as_json() {
        let resp = send(Method::GET, "/nope").await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#"{"error":"not_found","error_description":"there is no GET /nope here"}"#
        );
    }

    #[tokio::test]
    async fn a_browser_gets_the_servers_page_with_a_404() {
        let req = Request::builder().uri("/nope").header(ACCEPT, "text/html,*/*").body(Body::empty()).unwrap();
        let resp = app().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&body), "<p>no /nope</p>");
    }

    #[tokio::test]
    async fn a_favicon_is_an_svg_with_its_letter() {
        let resp = favicon('T', "#0f766e");
        assert_eq!(resp.headers()[CONTENT_TYPE], "image/svg+xml");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let svg = String::from_utf8_lossy(&body);
        assert!(svg.starts_with("<svg") && svg.contains(">T</text>") && svg.contains("#0f766e"), "{svg}");
    }

    #[test]
    fn the_api_page_escapes_the_path_and_links_back() {
        let page = ApiNotFound {
            server: "todo API",
            about: "The API the access tokens are for.",
            path: "/<script>".into(),
            links: &[("metadata", "/.well-known/oauth-protected-resource")],
        };
        let html = page.render().unwrap();
        assert!(html.contains("/&#60;script&#62;") || html.contains("/&lt;script&gt;"), "{html}");
        assert!(html.contains(r#"<a href="/.well-known/oauth-protected-resource">metadata</a>"#), "{html}");
    }
}
