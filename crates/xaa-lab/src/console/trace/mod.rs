//! The live trace pages: flows of recorded requests, streamed with server-sent events. Every page
//! and export is rendered once per change of the trace and served with an `ETag`, behind its own
//! concurrency limit (see [`rendered`]).

mod rendered;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use crate::observe::trace::{Direction, Trace, TraceEvent, TraceFilter};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;

pub(crate) use rendered::Rendered;
use rendered::Rendering;

use super::ConsoleState;
use super::lab_status::LabStatus;
use super::view::{EventView, FlowView, flow_view, mermaid, page_of};

/// Flows shown per trace page and per `trace.json` page (older ones page through `?before=`).
const FLOWS_PER_PAGE: usize = 20;
/// Requests shown per flow on the trace page: the last this many protocol calls and the last this
/// many other requests (the flow's own page draws more).
const EVENTS_PER_FLOW: usize = 25;
/// Requests per flow in a `trace.json` page (received and sent alike; `/trace/flows/{id}/json`
/// has them all).
const JSON_EVENTS_PER_FLOW: usize = 50;
/// Protocol calls a flow's sequence diagram draws (the last ones).
const DIAGRAM_CALLS: usize = 200;
/// Rows sent to a trace page per batch; past that the page is told how many it missed.
const ROWS_PER_BATCH: usize = 40;
/// How often a trace page gets its batch of new rows.
const BATCH_EVERY: Duration = Duration::from_millis(250);

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

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

    /// The page's cache key: what the page shows depends on.
    fn key(&self, kind: &str) -> String {
        let f = self.filter();
        format!("{kind}\n{:?}\n{:?}\n{:?}", f.client, f.subject, self.before)
    }

    /// `path` with this filter and `before`, as a link.
    fn link(&self, path: &str, before: u64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let f = self.filter();
        if let Some(c) = &f.client {
            q.append_pair("client", c);
        }
        if let Some(u) = &f.subject {
            q.append_pair("user", u);
        }
        q.append_pair("before", &before.to_string());
        format!("{path}?{}", q.finish())
    }
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    lab_status: LabStatus,
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

/// A flow's section (a live update's new flow: with no rows yet).
#[derive(Template)]
#[template(path = "trace_flow.html")]
struct FlowSection<'a> {
    f: &'a FlowView,
}

/// Serves page `key` of the trace: `304` when the client has it, else the page rendered once per
/// change of the trace by `render` (behind the trace's concurrency limit), `503` when busy.
async fn serve<F>(
    st: &ConsoleState,
    headers: &HeaderMap,
    key: String,
    content_type: &'static str,
    render: F,
) -> Response
where
    F: FnOnce(&Trace) -> Rendering + Send + 'static,
{
    let generation = st.trace.generation();
    if let Some(unchanged) = rendered::unchanged(&st.trace_pages, headers, &key, generation) {
        return unchanged;
    }
    let trace = Arc::clone(&st.trace);
    match st.trace_pages.page(&key, generation, move || render(&trace)).await {
        Some(page) => rendered::answer(headers, &page, content_type),
        None => rendered::busy(content_type == HTML),
    }
}

pub(crate) async fn page(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Query(q): Query<FilterQuery>,
) -> Response {
    let lab_status = LabStatus::of(&st);
    // The banner is part of the page: a switch turned on (or the clock moved) is a new page.
    let banner = if lab_status.shown() { format!("{lab_status:?}") } else { String::new() };
    let key = format!("{}\n{banner}", q.key("html"));
    let masked = !st.trace.reveals_secrets();
    serve(&st, &headers, key, HTML, move |trace| {
        let (generation, all) = trace.snapshot(&TraceFilter::default());
        let filter = q.filter();
        let shown = all.iter().map(|e| &**e).filter(|e| e.direction == Direction::Received && filter.matches(e));
        let (page, older) = page_of(shown, q.before, FLOWS_PER_PAGE);
        let flows = page.iter().filter_map(|(id, evs)| flow_view(*id, evs, EVENTS_PER_FLOW)).collect();
        let mut clients: Vec<String> = all.iter().filter_map(|e| e.client_id.clone()).collect();
        clients.sort();
        clients.dedup();
        let page = TracePage {
            lab_status,
            flows,
            client: q.client.clone().unwrap_or_default(),
            user: q.user.clone().unwrap_or_default(),
            clients,
            masked,
            older,
            paged: q.before.is_some(),
            events_per_flow: EVENTS_PER_FLOW,
            flows_per_page: FLOWS_PER_PAGE,
        };
        rendering(generation, page.render())
    })
    .await
}

/// A rendered template, or the error page when it could not be rendered.
fn rendering(generation: u64, html: askama::Result<String>) -> Rendering {
    match html {
        Ok(html) => Rendering { generation, status: StatusCode::OK, body: html.into_bytes() },
        Err(e) => {
            tracing::error!(error = %e, "rendering a trace page");
            Rendering { generation, status: StatusCode::INTERNAL_SERVER_ERROR, body: b"rendering failed".to_vec() }
        }
    }
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

/// A new request as the trace page adds it: its flow's section (with no rows), its row, and
/// whether it is one of the flow's other requests (folded away) rather than a protocol call.
fn row_json(e: &TraceEvent) -> Value {
    let view = EventView::from_event(e);
    // The section as it starts on a page: no rows, nothing folded or earlier (the page counts).
    let head = flow_view(e.flow, &[e], 0)
        .map(|f| FlowView { others_total: 0, earlier: 0, ..f })
        .and_then(|f| FlowSection { f: &f }.render().ok())
        .unwrap_or_default();
    let html = EventRow { e: &view }.render().unwrap_or_default();
    json!({ "flow": e.flow, "id": e.id, "head": head, "html": html, "other": !view.protocol })
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

/// A `trace.json` page: the newest [`FLOWS_PER_PAGE`] flows that pass the filter (older ones
/// through `before`, as the trace page pages), the last [`JSON_EVENTS_PER_FLOW`] requests of each.
#[derive(Serialize)]
struct JsonPage<'a> {
    /// The requests, oldest first.
    events: Vec<&'a TraceEvent>,
    /// The flows of the page, newest first.
    flows: Vec<JsonFlow>,
    /// The next page (older flows), if there is one.
    older: Option<String>,
    /// How the export pages.
    paging: &'static str,
}

#[derive(Serialize)]
struct JsonFlow {
    id: u64,
    /// Requests of the flow that passed the filter.
    requests: usize,
    /// Of which this page has the last ones.
    shown: usize,
    /// Every request of the flow.
    json: String,
}

const PAGING: &str = "The newest 20 flows that pass the filter (client, user), newest first in `flows`; the last 50 \
    requests of each in `events`, oldest first. `older` is the next page (`before`: older flows than that flow id); \
    `/trace/flows/{id}/json` has every kept request of one flow. Send the `ETag` back in `If-None-Match`: 304 \
    until the trace changes.";

pub(crate) async fn export(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Query(q): Query<FilterQuery>,
) -> Response {
    let mut resp = serve(&st, &headers, q.key("json"), JSON, move |trace| {
        let (generation, events) = trace.snapshot(&q.filter());
        let (page, older) = page_of(events.iter().map(|e| &**e), q.before, FLOWS_PER_PAGE);
        let mut kept: Vec<&TraceEvent> = Vec::new();
        let mut flows = Vec::new();
        for (id, evs) in &page {
            let shown = &evs[evs.len().saturating_sub(JSON_EVENTS_PER_FLOW)..];
            kept.extend(shown);
            flows.push(JsonFlow {
                id: *id,
                requests: evs.len(),
                shown: shown.len(),
                json: format!("/trace/flows/{id}/json"),
            });
        }
        kept.sort_by_key(|e| e.id);
        let older = older.map(|b| q.link("/trace.json", b));
        let body = serde_json::to_vec(&JsonPage { events: kept, flows, older, paging: PAGING }).unwrap_or_default();
        Rendering { generation, status: StatusCode::OK, body }
    })
    .await;
    if resp.status() == StatusCode::OK {
        resp.headers_mut().insert(
            axum::http::header::CONTENT_DISPOSITION,
            axum::http::HeaderValue::from_static("attachment; filename=\"xaa-trace.json\""),
        );
    }
    resp
}

/// The kept events of flow `id` (`None`: no such flow kept), with the trace generation.
fn flow_events(trace: &Trace, id: u64) -> (u64, Option<Vec<Arc<TraceEvent>>>) {
    let (generation, events) = trace.snapshot(&TraceFilter { flow: Some(id), ..TraceFilter::default() });
    let any_received = events.iter().any(|e| e.direction == Direction::Received);
    (generation, any_received.then_some(events))
}

/// Flow `id` as its diagram draws it: its last [`DIAGRAM_CALLS`] protocol calls, one lane per app.
fn diagram_flow(events: &[Arc<TraceEvent>], id: u64) -> Option<FlowView> {
    let refs: Vec<&TraceEvent> = events.iter().map(|e| &**e).collect();
    Some(flow_view(id, &refs, DIAGRAM_CALLS)?.one_lane_per_app())
}

#[derive(Template)]
#[template(path = "flow.html")]
struct FlowPage {
    lab_status: LabStatus,
    flow: FlowView,
    mermaid: String,
    lanes: Vec<String>,
    rows: Vec<DiagramRow>,
}

/// One arrow of the drawn sequence diagram. The diagram is a grid of two columns per lane: lane
/// `i`'s centre is grid line `2i + 2`, so an arrow placed from one centre line to the other
/// starts and ends on its lanes' lifelines, whatever the width.
#[derive(Debug, PartialEq)]
struct DiagramRow {
    from: usize,
    to: usize,
    label: String,
    answer: String,
    ok: bool,
    time: String,
}

impl DiagramRow {
    /// The grid line the arrow starts at (the leftmost of its two lanes' centres).
    fn start(&self) -> usize {
        2 * self.from.min(self.to) + 2
    }
    /// The grid line it ends at (a call from a lane to itself: half a lane to the right).
    fn end(&self) -> usize {
        if self.from == self.to { 2 * self.to + 3 } else { 2 * self.from.max(self.to) + 2 }
    }
    fn rightward(&self) -> bool {
        self.to >= self.from
    }
}

/// The lanes (in order of first appearance) and arrows of a flow's diagram.
fn diagram(flow: &FlowView) -> (Vec<String>, Vec<DiagramRow>) {
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
            time: e.time.clone(),
        })
        .collect();
    (lanes, rows)
}

fn not_found(id: u64) -> Rendering {
    Rendering {
        generation: 0,
        status: StatusCode::NOT_FOUND,
        body: format!("No flow #{id} in the trace (it may have been dropped: the trace is bounded).").into_bytes(),
    }
}

/// A flow's page (or export), rendered from its events by `render`; `404` when it is not kept.
async fn flow_page<F>(
    st: &ConsoleState,
    headers: &HeaderMap,
    id: u64,
    kind: &str,
    content_type: &'static str,
    render: F,
) -> Response
where
    F: FnOnce(u64, Vec<Arc<TraceEvent>>) -> Rendering + Send + 'static,
{
    serve(st, headers, format!("{kind}\n{id}"), content_type, move |trace| match flow_events(trace, id) {
        (generation, Some(events)) => render(generation, events),
        (generation, None) => Rendering { generation, ..not_found(id) },
    })
    .await
}

pub(crate) async fn flow(State(st): State<Arc<ConsoleState>>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let lab_status = LabStatus::of(&st);
    let banner = if lab_status.shown() { format!("{lab_status:?}") } else { String::new() };
    flow_page(&st, &headers, id, &format!("flow\n{banner}"), HTML, move |generation, events| {
        let Some(flow) = diagram_flow(&events, id) else { return Rendering { generation, ..not_found(id) } };
        let (lanes, rows) = diagram(&flow);
        rendering(generation, FlowPage { lab_status, mermaid: mermaid(&flow), flow, lanes, rows }.render())
    })
    .await
}

pub(crate) async fn flow_json(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    flow_page(&st, &headers, id, "flow-json", JSON, move |generation, events| {
        let events: Vec<&TraceEvent> = events.iter().map(|e| &**e).collect();
        let body = serde_json::to_vec(&json!({ "flow": id, "events": events })).unwrap_or_default();
        Rendering { generation, status: StatusCode::OK, body }
    })
    .await
}

pub(crate) async fn flow_mermaid(
    State(st): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    flow_page(&st, &headers, id, "flow-mermaid", TEXT, move |generation, events| match diagram_flow(&events, id) {
        Some(flow) => Rendering { generation, status: StatusCode::OK, body: mermaid(&flow).into_bytes() },
        None => Rendering { generation, ..not_found(id) },
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_run_between_their_lanes_centres() {
        let row = |from, to| DiagramRow {
            from,
            to,
            label: String::new(),
            answer: String::new(),
            ok: true,
            time: String::new(),
        };
        // Lanes 0, 1, 2 have their centres on grid lines 2, 4, 6.
        assert_eq!((row(0, 1).start(), row(0, 1).end()), (2, 4));
        assert_eq!((row(2, 0).start(), row(2, 0).end()), (2, 6), "leftward: the same span, drawn the other way");
        assert!(!row(2, 0).rightward());
        assert_eq!((row(1, 1).start(), row(1, 1).end()), (4, 5), "to itself: half a lane");
    }
}
