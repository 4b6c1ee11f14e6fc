//! The todo API's break-it switches: an outage (503 with `Retry-After`) and a slow answer. They
//! act before the token is checked, as a real outage would; a switch scoped to one requestor
//! recognises it by the `client_id` claim of the presented token (read, not trusted).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use xaa_core::jose::UnverifiedJwt;
use xaa_faults::Fault;

use crate::state::TodoState;

pub(crate) async fn outage(State(st): State<Arc<TodoState>>, req: Request, next: Next) -> Response {
    // Most of the time neither switch is on: then no one needs to know whose token this is.
    if !st.faults.is_on(Fault::TodoApiUnavailable) && !st.faults.is_on(Fault::TodoApiSlow) {
        return next.run(req).await;
    }
    let client_id = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, t)| t))
        .and_then(|t| UnverifiedJwt::parse(t.trim()).ok())
        .and_then(|jwt| jwt.unverified_claims().get("client_id").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let ids = [client_id.as_str()];
    if st.faults.active(Fault::TodoApiUnavailable, &ids).is_some() {
        let body = json!({
            "success": false,
            "error": "temporarily_unavailable",
            "error_description": "the todo API is down on purpose (the lab's break-it switch 'todo-api-unavailable'); retry later",
        });
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return resp;
    }
    if let Some(slow) = st.faults.active(Fault::TodoApiSlow, &ids) {
        tokio::time::sleep(Duration::from_millis(slow.delay_ms.min(60_000))).await;
    }
    next.run(req).await
}
