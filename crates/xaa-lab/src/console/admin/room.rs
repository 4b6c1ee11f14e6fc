//! The teacher's dashboard (`/admin/room`): one row per registered requestor with its report
//! card's habits, the last step it reached and its last refusal with the failed check. Rows are
//! re-rendered as the report cards change and pushed over server-sent events
//! (`/admin/room/events`, at most one batch every 250 ms); `/admin/room.csv` exports the table.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::broadcast;

use super::AdminAuth;
use crate::admin::report_card::{Item, Progress};
use crate::console::ConsoleState;
use crate::console::lab_status::LabStatus;
use crate::console::trace::async_stream;

/// One requestor as the room sees it.
pub(crate) struct RoomRow {
    client_id: String,
    name: String,
    /// Each habit's title and status (`passed`, `failed`, `not yet seen`).
    habits: Vec<(&'static str, &'static str)>,
    progress: Progress,
}

impl RoomRow {
    fn passed(&self) -> usize {
        self.habits.iter().filter(|(_, s)| *s == "passed").count()
    }
}

#[derive(Template)]
#[template(path = "admin_room_row.html")]
struct RowHtml<'a> {
    r: &'a RoomRow,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_room.html")]
struct RoomPage {
    lab_status: LabStatus,
    join_code: String,
    /// Where participants join (the console's /join).
    join_url: String,
    titles: Vec<&'static str>,
    rows: Vec<String>,
    /// Each resource app's last conformance run.
    checks: Vec<ResourceChecks>,
}

/// A resource app's last conformance run, as the room shows it.
struct ResourceChecks {
    id: String,
    name: String,
    last: Option<std::sync::Arc<crate::console::resources::check::LastRun>>,
}

fn resource_checks(st: &ConsoleState) -> Vec<ResourceChecks> {
    let apps = st.admin.resource_apps.list();
    apps.into_iter().map(|a| ResourceChecks { last: st.conformance.last(&a.id), id: a.id, name: a.name }).collect()
}

/// The requestors of the room: every registered (not fixture) IdP client.
fn members(st: &ConsoleState) -> Vec<(String, String)> {
    let idp = &st.admin.idp;
    idp.clients()
        .into_iter()
        .filter(|c| !idp.is_fixture_client(&c.client_id))
        .map(|c| (c.client_id.into_string(), c.name))
        .collect()
}

fn row(st: &ConsoleState, client_id: String, name: String) -> RoomRow {
    let cards = &st.admin.report_cards;
    let card = cards.card(&client_id);
    RoomRow {
        habits: card.items.iter().map(|i| (i.title, i.seen.status)).collect(),
        progress: cards.progress(&client_id),
        client_id,
        name,
    }
}

fn rows(st: &ConsoleState) -> Vec<RoomRow> {
    members(st).into_iter().map(|(id, name)| row(st, id, name)).collect()
}

pub(crate) async fn page(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Response {
    let page = RoomPage {
        lab_status: LabStatus::of(&st),
        join_code: st.admin.join.code().to_owned(),
        join_url: format!("{}/join", st.urls.console),
        titles: Item::ALL.iter().map(|i| i.title()).collect(),
        rows: rows(&st).iter().map(|r| RowHtml { r }.render().unwrap_or_default()).collect(),
        checks: resource_checks(&st),
    };
    page.into_response()
}

/// `event: rows`, `{"rows":[{"client","html"}]}`: the rows that changed, rendered.
pub(crate) async fn events(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let rx = st.admin.report_cards.subscribe();
    Sse::new(async_stream(move |tx| push_rows(st, rx, tx))).keep_alive(KeepAlive::default())
}

async fn push_rows(
    st: Arc<ConsoleState>,
    mut rx: broadcast::Receiver<String>,
    tx: tokio::sync::mpsc::Sender<Result<Event, Infallible>>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut changed = BTreeSet::new();
        let mut lagged = false;
        loop {
            match rx.try_recv() {
                Ok(id) => {
                    changed.insert(id);
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => lagged = true,
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(broadcast::error::TryRecvError::Closed) => return,
            }
        }
        if tx.is_closed() {
            return;
        }
        if changed.is_empty() && !lagged {
            continue;
        }
        let batch: Vec<serde_json::Value> = members(&st)
            .into_iter()
            .filter(|(id, _)| lagged || changed.contains(id))
            .map(|(id, name)| {
                let r = row(&st, id, name);
                json!({ "client": r.client_id, "html": RowHtml { r: &r }.render().unwrap_or_default() })
            })
            .collect();
        if batch.is_empty() {
            continue;
        }
        let data = json!({ "rows": batch }).to_string();
        if tx.send(Ok(Event::default().event("rows").data(data))).await.is_err() {
            return;
        }
    }
}

/// The room as CSV: one line per requestor.
pub(crate) async fn export(_: AdminAuth, State(st): State<Arc<ConsoleState>>) -> Response {
    use crate::observe::csv::field;
    let mut out = String::from("client_id,name");
    for item in Item::ALL {
        out.push(',');
        out.push_str(&field(item.title()));
    }
    out.push_str(",habits_passed,last_step,last_status,last_refusal_step,last_refusal_error,last_refusal_check\r\n");
    for r in rows(&st) {
        let mut line = vec![field(&r.client_id), field(&r.name)];
        line.extend(r.habits.iter().map(|(_, s)| field(s)));
        line.push(r.passed().to_string());
        let last = r.progress.last.as_ref();
        line.push(field(last.map(|s| s.step.as_str()).unwrap_or("")));
        line.push(last.map(|s| s.status.to_string()).unwrap_or_default());
        let refusal = r.progress.refusal.as_ref();
        line.push(field(refusal.map(|s| s.step.as_str()).unwrap_or("")));
        line.push(field(refusal.map(|s| s.error.as_str()).unwrap_or("")));
        line.push(field(refusal.map(|s| s.check.as_str()).unwrap_or("")));
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"room.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response()
}
