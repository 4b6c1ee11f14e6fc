//! The live trace pages: flows of recorded requests, streamed with server-sent events.

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use xaa_core::trace::TraceFilter;

use super::ConsoleState;
use super::view::{FlowView, flows, mermaid};

#[derive(Deserialize, Default)]
pub(crate) struct FilterQuery {
    client: Option<String>,
    user: Option<String>,
    fragment: Option<String>,
}

impl FilterQuery {
    fn filter(&self) -> TraceFilter {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        TraceFilter { client: some(&self.client), subject: some(&self.user), flow: None }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "trace.html")]
struct TracePage {
    flows: Vec<FlowView>,
    client: String,
    user: String,
    clients: Vec<String>,
    masked: bool,
}

/// Just the flows, for the page's live refresh.
#[derive(Template, WebTemplate)]
#[template(path = "trace_flows.html")]
struct TraceFlows {
    flows: Vec<FlowView>,
}

pub(crate) async fn page(State(st): State<Arc<ConsoleState>>, Query(q): Query<FilterQuery>) -> Response {
    let flows = flows(&st.trace.events(&q.filter()));
    if q.fragment.is_some() {
        return TraceFlows { flows }.into_response();
    }
    let all = st.trace.events(&TraceFilter::default());
    let mut clients: Vec<String> = all.iter().filter_map(|e| e.client_id.clone()).collect();
    clients.sort();
    clients.dedup();
    TracePage {
        flows,
        client: q.client.clone().unwrap_or_default(),
        user: q.user.clone().unwrap_or_default(),
        clients,
        masked: !st.trace.reveals_secrets(),
    }
    .into_response()
}

/// Server-sent events: one `event: request` per recorded request that passes the filter.
pub(crate) async fn events(
    State(st): State<Arc<ConsoleState>>,
    Query(q): Query<FilterQuery>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let filter = q.filter();
    let mut rx = st.trace.subscribe();
    let stream = async_stream(move |tx| async move {
        loop {
            match rx.recv().await {
                Ok(e) if filter.matches(&e) => {
                    let data = serde_json::to_string(&*e).unwrap_or_default();
                    if tx.send(Ok(Event::default().event("request").data(data))).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A stream fed by a task (the console needs nothing more than this from a stream library).
fn async_stream<F, Fut>(body: F) -> ReceiverStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(body(tx));
    ReceiverStream(rx)
}

/// An mpsc receiver as a stream.
pub(crate) struct ReceiverStream(tokio::sync::mpsc::Receiver<Result<Event, Infallible>>);

impl futures_core::Stream for ReceiverStream {
    type Item = Result<Event, Infallible>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

pub(crate) async fn export(State(st): State<Arc<ConsoleState>>, Query(q): Query<FilterQuery>) -> Response {
    let events = st.trace.events(&q.filter());
    let mut resp = Json(json!({ "events": events })).into_response();
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        header::HeaderValue::from_static("attachment; filename=\"xaa-trace.json\""),
    );
    resp
}

fn one_flow(st: &ConsoleState, id: u64) -> Option<(FlowView, Vec<xaa_core::trace::TraceEvent>)> {
    let events = st.trace.events(&TraceFilter { flow: Some(id), ..TraceFilter::default() });
    let flow = flows(&events).into_iter().next()?;
    Some((flow, events))
}

#[derive(Template, WebTemplate)]
#[template(path = "flow.html")]
struct FlowPage {
    flow: FlowView,
    mermaid: String,
    lanes: Vec<String>,
    rows: Vec<DiagramRow>,
}

/// One arrow of the drawn sequence diagram.
struct DiagramRow {
    from: usize,
    to: usize,
    label: String,
    answer: String,
    ok: bool,
}

impl DiagramRow {
    fn left(&self) -> usize {
        self.from.min(self.to)
    }
    fn span(&self) -> usize {
        self.from.abs_diff(self.to).max(1)
    }
    fn rightward(&self) -> bool {
        self.to >= self.from
    }
}

fn not_found(id: u64) -> Response {
    (StatusCode::NOT_FOUND, format!("No flow #{id} in the trace (it may have been dropped: the trace is bounded)."))
        .into_response()
}

pub(crate) async fn flow(State(st): State<Arc<ConsoleState>>, Path(id): Path<u64>) -> Response {
    let Some((flow, _)) = one_flow(&st, id) else { return not_found(id) };
    let mut lanes: Vec<String> = Vec::new();
    for e in &flow.events {
        for p in [&e.from, &e.to] {
            if !lanes.contains(p) {
                lanes.push(p.clone());
            }
        }
    }
    let lane = |p: &str| lanes.iter().position(|l| l == p).unwrap_or(0);
    let rows = flow
        .events
        .iter()
        .map(|e| DiagramRow {
            from: lane(&e.from),
            to: lane(&e.to),
            label: format!("{} /{} ({})", e.method, e.target.split_once('/').map(|(_, p)| p).unwrap_or(""), e.step),
            answer: e.status.clone(),
            ok: e.ok,
        })
        .collect();
    FlowPage { mermaid: mermaid(&flow), flow, lanes, rows }.into_response()
}

pub(crate) async fn flow_json(State(st): State<Arc<ConsoleState>>, Path(id): Path<u64>) -> Response {
    match one_flow(&st, id) {
        Some((_, events)) => Json(json!({ "flow": id, "events": events })).into_response(),
        None => not_found(id),
    }
}

pub(crate) async fn flow_mermaid(State(st): State<Arc<ConsoleState>>, Path(id): Path<u64>) -> Response {
    match one_flow(&st, id) {
        Some((flow, _)) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], mermaid(&flow)).into_response(),
        None => not_found(id),
    }
}
