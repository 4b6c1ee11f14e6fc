//! Records every request a component receives into the lab's [`Trace`]: masked parameters,
//! the JSON answer, and the checks the component ran (the [`CheckLog`] in the response's
//! extensions). The terminal gets one line per XAA step.

use std::sync::Arc;
use std::time::Instant;

use crate::observe::trace::bounds::bounded_params;
use crate::observe::trace::{Exchange, Trace, TraceEvent, body_params};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use xaa_core::clock::SharedClock;
use xaa_core::validation::CheckLog;
use xaa_notes::{CallLog, SentCall};

/// Bodies larger than this are refused before any component sees them (each accepts less).
const MAX_BUFFER: usize = 2 * 1024 * 1024;

/// What the recorder of one component needs.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) trace: Arc<Trace>,
    pub(crate) service: &'static str,
    pub(crate) host: String,
    pub(crate) clock: SharedClock,
    pub(crate) report_cards: Arc<crate::admin::ReportCards>,
}

pub(crate) async fn record(State(rec): State<Arc<Recorder>>, req: Request, next: Next) -> Response {
    // A browser's tab icon is no part of any flow: never a row of the trace.
    if req.uri().path() == "/favicon.ico" {
        return next.run(req).await;
    }
    let started = Instant::now();
    let at_ms = rec.clock.now_ms();
    let method = req.method().to_string();
    let target = format!("{}{}", rec.host, req.uri().path());
    let mut params: Vec<(String, String)> =
        req.uri().query().map(|q| bounded_params(form_urlencoded::parse(q.as_bytes()))).unwrap_or_default();
    if let Some(auth) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        params.push(("authorization".into(), auth.to_owned()));
    }
    let content_type = content_type(req.headers());
    let request_id = req.headers().get("x-lab-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BUFFER).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let req = Request::from_parts(parts, Body::from(bytes.clone()));
    let mut resp = next.run(req).await;
    // Taken, not copied: nothing outside the recorder reads them.
    let checks = resp.extensions_mut().remove::<CheckLog>();
    let status = resp.status().as_u16();
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The component refused the body for its size: the trace keeps none of it either.
        params.push(("body".into(), "not kept: refused for its size".into()));
    } else {
        params.extend(body_params(&content_type, &bytes));
    }
    let resp_type = content_type_of(&resp);
    // An MCP server may answer a POST with an event stream that ends with the JSON-RPC response:
    // the trace shows that message. (Long-lived GET streams are never buffered.)
    let sse_answer = resp_type.starts_with("text/event-stream") && method == "POST";
    let (resp, json) = if resp_type.starts_with("application/json") || sse_answer {
        let (parts, body) = resp.into_parts();
        match axum::body::to_bytes(body, MAX_BUFFER).await {
            Ok(bytes) => {
                let json = rec.trace.answer(&resp_type, &bytes);
                (Response::from_parts(parts, Body::from(bytes)), json)
            }
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR.into_response(), None),
        }
    } else {
        (resp, None)
    };
    let event = rec.trace.record(Exchange {
        service: rec.service.to_owned(),
        sent: false,
        method,
        target,
        request: params,
        status: Some(status),
        response: json,
        checks: checks.map(CheckLog::into_checks).unwrap_or_default(),
        at: at_ms.div_euclid(1000),
        at_ms,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        request_id,
    });
    log_step(&event);
    rec.report_cards.observe(&event);
    resp
}

/// One terminal line per XAA step: flow, step, who, and the outcome.
pub(crate) fn log_step(e: &TraceEvent) {
    let key_step = crate::admin::report_card::KEY_STEPS.contains(&e.step.as_str());
    if !key_step
        || e.direction == crate::observe::trace::Direction::Sent
        || !tracing::enabled!(target: "xaa_flow", tracing::Level::INFO)
    {
        return;
    }
    let error = e.response.as_ref().and_then(|r| r.get("error")).and_then(Value::as_str);
    let outcome = match (e.status, error) {
        (Some(s), Some(err)) => format!("{s} {err}"),
        (Some(s), None) => s.to_string(),
        (None, _) => "no answer".into(),
    };
    let failed =
        e.checks.iter().find(|c| !c.passed).map(|c| format!(" (failed check: {})", c.name)).unwrap_or_default();
    tracing::info!(
        target: "xaa_flow",
        "flow #{} · {} · {} · {} → {}{}",
        e.flow,
        e.step,
        e.client_id.as_deref().unwrap_or("?"),
        e.subject.as_deref().unwrap_or("?"),
        outcome,
        failed
    );
}

fn content_type(headers: &axum::http::HeaderMap) -> String {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase()
}

fn content_type_of(resp: &Response) -> String {
    content_type(resp.headers())
}

/// Records Lab Notes' outbound calls as "sent" events: the notes app tells its [`CallLog`], which
/// is this when the trace is on.
#[derive(Debug)]
pub(crate) struct SentCalls(pub(crate) Arc<Trace>);

impl CallLog for SentCalls {
    fn sent(&self, call: SentCall) {
        let mut request = call.params;
        request.extend(body_params(&call.content_type, &call.body));
        self.0.record(Exchange {
            service: "notes".into(),
            sent: true,
            method: call.method,
            target: call.target,
            request,
            status: call.status,
            at: call.at,
            duration_ms: call.duration_ms,
            ..Default::default()
        });
    }
}
