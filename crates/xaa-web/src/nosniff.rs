//! `X-Content-Type-Options: nosniff` on every response a server sends (an axum middleware): a
//! browser then renders a response only as the type it is labelled with, so a plain-text export
//! (the trace's Mermaid diagram), a JSON error or a 404 that echoes the path is never sniffed into
//! HTML or script. Each server puts it outermost on its router, so its fallback, its redirects and
//! its other middlewares' refusals carry it too.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The middleware (`axum::middleware::map_response(xaa_web::nosniff::nosniff)`).
pub async fn nosniff(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_answer_carries_nosniff() {
        let app = Router::new()
            .route("/text", get(|| async { "sequenceDiagram" }))
            .route("/away", get(|| async { crate::redirect::SeeOther::to("/text").unwrap() }))
            .layer(axum::middleware::map_response(super::nosniff));
        for (path, status) in
            [("/text", StatusCode::OK), ("/away", StatusCode::SEE_OTHER), ("/none", StatusCode::NOT_FOUND)]
        {
            let resp = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(resp.status(), status, "{path}");
            assert_eq!(resp.headers()["x-content-type-options"], "nosniff", "{path}");
        }
    }
}
