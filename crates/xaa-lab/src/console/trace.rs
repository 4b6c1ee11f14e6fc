//! The live trace pages: flows of recorded requests, streamed with server-sent events.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use crate::observe::trace::{Direction, TraceEvent, TraceFilter};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::ConsoleState;
use super::view::{EventView, FlowView, flows, mermaid};

/// Flows shown per trace page (older ones page through `?before=`).
const FLOWS_PER_PAGE: usize = 20;
/// Requests shown per flow on the trace page (the flow's own page shows them all).
const EVENTS_PER_FLOW: usize = 25;
/// Rows sent to a trace page per batch; past that the page is told how many it missed.
const ROWS_PER_BATCH: usize = 40;
/// How often a trace page gets its batch of new rows.
const BATCH_EVERY: Duration = Duration::from_millis(250);

#[derive(Deserialize, Default)]
pub(crate) struct FilterQuery {
    client: Option<String>,
    user: Option<String>,
    /// Show the flows older than this flow id (paging).
    before: Option<u64>,
    /// `html`: the trace page's stream of rendered rows, in batches.
    view: Option<String>,
}

impl FilterQuery {
    fn filter(&self) -> TraceFilter {
        TraceFilter { client: some(&self.client), subject: some(&self.user), flow: None }
    }
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

#[derive(Template, WebTemplate)]
#[template(path = "trace.html")]
struct TracePage {
    lab_status: crate::console::lab_status::LabStatus,
    flows: Vec<FlowView>,
    client: String,
    user: String,
    clients: Vec<String>,
    masked: bool,
    /// Paging: the flow id to pass as `before` for older flows, if there are any.
    older: Option<u64>,
    /// Whether this is an older page (no live updates).
    paged: bool,
    events_per_flow: usize,
    flows_per_page: usize,
}

/// One request's row, as the page and its live updates show it.
#[derive(Template)]
#[template(path = "trace_event.html")]
struct EventRow<'a> {
    e: &'a EventView,
}

/// A flow's section with its heading and no rows yet (a live update's new flow).
#[derive(Template)]
#[template(path = "trace_flow_head.html")]
struct FlowHead<'a> {
    f: &'a FlowView,
}

pub(crate) async fn page(State(st): State<Arc<ConsoleState>>, Query(q): Query<FilterQuery>) -> Response {
    let all = st.trace.events(&TraceFilter::default());
    let filter = q.filter();
    let matching: Vec<TraceEvent> = all.iter().filter(|e| filter.matches(e)).cloned().collect();
    let mut flows: Vec<FlowView> = flows(&matching).into_iter().filter(|f| q.before.is_none_or(|b| f.id < b)).collect();
    let older = (flows.len() > FLOWS_PER_PAGE).then(|| flows[FLOWS_PER_PAGE - 1].id);
    flows.truncate(FLOWS_PER_PAGE);
    for f in &mut flows {
        let extra = f.events.len().saturating_sub(EVENTS_PER_FLOW);
        f.events.drain(..extra);
        f.earlier = extra;
    }
    let mut clients: Vec<String> = all.iter().filter_map(|e| e.client_id.clone()).collect();
    clients.sort();
    clients.dedup();
    TracePage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        flows,
        client: q.client.clone().unwrap_or_default(),
        user: q.user.clone().unwrap_or_default(),
        clients,
        masked: !st.trace.reveals_secrets(),
        older,
        paged: q.before.is_some(),
        events_per_flow: EVENTS_PER_FLOW,
        flows_per_page: FLOWS_PER_PAGE,
    }
    .into_response()
}

/// Server-sent events. By default one `event: request` (the event as JSON) per recorded request
/// that passes the filter. With `view=html` (the trace page): every 250 ms at most one
/// `event: rows` with the new requests rendered, `{"rows":[{"flow","id","head","html"}],
/// "missed":N}`, so an open page never refetches the trace and a busy lab costs each page a
/// bounded amount of work.
pub(crate) async fn events(
    State(st): State<Arc<ConsoleState>>,
    Query(q): Query<FilterQuery>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let filter = q.filter();
    let rx = st.trace.subscribe();
    let stream = if q.view.as_deref() == Some("html") {
        let st = Arc::clone(&st);
        async_stream(move |tx| html_rows(st, rx, filter, tx))
    } else {
        async_stream(move |tx| json_events(rx, filter, tx))
    };
    Sse::new(stream).keep_alive(KeepAlive::default())
}

type Events = tokio::sync::mpsc::Sender<Result<Event, Infallible>>;

async fn json_events(mut rx: broadcast::Receiver<Arc<TraceEvent>>, filter: TraceFilter, tx: Events) {
    loop {
        match rx.recv().await {
            Ok(e) if filter.matches(&e) => {
                let data = serde_json::to_string(&*e).unwrap_or_default();
                if tx.send(Ok(Event::default().event("request").data(data))).await.is_err() {
                    break;
                }
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(_) => break,
        }
    }
}

async fn html_rows(
    st: Arc<ConsoleState>,
    mut rx: broadcast::Receiver<Arc<TraceEvent>>,
    filter: TraceFilter,
    tx: Events,
) {
    let mut tick = tokio::time::interval(BATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut fresh: VecDeque<Arc<TraceEvent>> = VecDeque::new();
        let mut missed = 0usize;
        loop {
            match rx.try_recv() {
                Ok(e) if filter.matches(&e) && e.direction == Direction::Received => {
                    fresh.push_back(e);
                    if fresh.len() > ROWS_PER_BATCH {
                        fresh.pop_front();
                        missed += 1;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(n)) => missed += usize::try_from(n).unwrap_or(usize::MAX),
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(broadcast::error::TryRecvError::Closed) => return,
            }
        }
        if tx.is_closed() {
            return;
        }
        if fresh.is_empty() && missed == 0 {
            continue;
        }
        let rows: Vec<Arc<str>> = fresh.iter().map(|e| st.trace_rows.row(e)).collect();
        let data = format!("{{\"rows\":[{}],\"missed\":{missed}}}", rows.join(","));
        if tx.send(Ok(Event::default().event("rows").data(data))).await.is_err() {
            return;
        }
    }
}

/// The rows lately sent to trace pages: every open page gets the same rows, rendered once.
#[derive(Default)]
pub(crate) struct RowCache(std::sync::Mutex<VecDeque<(u64, Arc<str>)>>);

impl RowCache {
    const KEPT: usize = 256;

    fn row(&self, e: &TraceEvent) -> Arc<str> {
        let cached = |c: &VecDeque<(u64, Arc<str>)>| c.iter().rev().find(|(id, _)| *id == e.id).map(|(_, r)| r.clone());
        if let Some(row) = cached(&self.0.lock().unwrap_or_else(|p| p.into_inner())) {
            return row;
        }
        let row: Arc<str> = row_json(e).to_string().into();
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.push_back((e.id, row.clone()));
        if cache.len() > Self::KEPT {
            cache.pop_front();
        }
        row
    }
}

/// A new request as the trace page adds it: its flow's heading and its row.
fn row_json(e: &TraceEvent) -> Value {
    let view = EventView::from_event(e);
    let flow = flows(std::slice::from_ref(e)).pop();
    let head = flow.as_ref().and_then(|f| FlowHead { f }.render().ok()).unwrap_or_default();
    let html = EventRow { e: &view }.render().unwrap_or_default();
    json!({ "flow": e.flow, "id": e.id, "head": head, "html": html })
}

/// A stream fed by a task (the console needs nothing more than this from a stream library).
pub(crate) fn async_stream<F, Fut>(body: F) -> ReceiverStream
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

fn one_flow(st: &ConsoleState, id: u64) -> Option<(FlowView, Vec<crate::observe::trace::TraceEvent>)> {
    let events = st.trace.events(&TraceFilter { flow: Some(id), ..TraceFilter::default() });
    let flow = flows(&events).into_iter().next()?.one_lane_per_app();
    Some((flow, events))
}

#[derive(Template, WebTemplate)]
#[template(path = "flow.html")]
struct FlowPage {
    lab_status: crate::console::lab_status::LabStatus,
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
    FlowPage { lab_status: crate::console::lab_status::LabStatus::of(&st), mermaid: mermaid(&flow), flow, lanes, rows }
        .into_response()
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
