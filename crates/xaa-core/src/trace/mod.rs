//! The lab's live trace: every request a component receives or sends, with masked parameters,
//! decoded token claims and the checks the receiving server ran, grouped into flows (login →
//! exchange → jwt-bearer → API) by client, subject and ID-JAG `jti`.
//!
//! Bounded (oldest events dropped first) and secret-free: token and secret values are masked
//! before an event is stored, unless the lab runs with `reveal_secrets`.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::jose::UnverifiedJwt;
use crate::secret::mask;
use crate::validation::{Check, CheckLog};

mod flows;

use flows::{assign_flow, request_client, step_of};

tokio::task_local! {
    static CHECKS: RefCell<Option<CheckLog>>;
}

/// Runs a request's handling, collecting the checks it [`report`]s (the lab's trace layer wraps
/// every component with this; outside it, reports go nowhere).
pub async fn collect_checks<F: Future>(fut: F) -> (F::Output, Option<CheckLog>) {
    CHECKS
        .scope(RefCell::new(None), async move {
            let out = fut.await;
            let checks = CHECKS.with(|c| c.borrow_mut().take());
            (out, checks)
        })
        .await
}

/// Reports the checks a server ran for the current request.
pub fn report(checks: &CheckLog) {
    let _ = CHECKS.try_with(|c| *c.borrow_mut() = Some(checks.clone()));
}

/// Parameter and JSON member names whose values are secrets.
pub const SECRET_NAMES: &[&str] = &[
    "client_secret",
    "subject_token",
    "actor_token",
    "assertion",
    "code",
    "code_verifier",
    "id_token_hint",
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "authorization",
];

/// Longest parameter value kept in full (a note body can be hundreds of KB).
const MAX_SHOWN: usize = 300;

/// Whether the component received or sent the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A request the component received.
    Received,
    /// A request the component sent (the notes app's outbound calls).
    Sent,
}

/// A JWT seen in a request or response, decoded (never verified here) for display.
#[derive(Clone, Debug, Serialize)]
pub struct SeenToken {
    /// Where it was: the parameter or member name.
    pub field: String,
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Map<String, Value>,
}

/// One HTTP exchange.
#[derive(Clone, Debug, Serialize)]
pub struct TraceEvent {
    /// Increasing id.
    pub id: u64,
    /// The flow it belongs to.
    pub flow: u64,
    /// Lab-clock time (NumericDate).
    pub at: i64,
    /// The component: `idp`, `resource-as`, `todo-api`, `notes`, `console`.
    pub service: String,
    /// Received or sent.
    pub direction: Direction,
    /// HTTP method.
    pub method: String,
    /// Host and path (no query), e.g. `localhost:4401/token`.
    pub target: String,
    /// The XAA step, e.g. `token exchange`, `jwt-bearer`, `todo API`, `login`.
    pub step: String,
    /// Masked request parameters (form fields, query, `Authorization`).
    pub request: Vec<(String, String)>,
    /// HTTP status, when answered.
    pub status: Option<u16>,
    /// The masked JSON response body, when JSON.
    pub response: Option<Value>,
    /// JWTs seen in the request and response, decoded.
    pub tokens: Vec<SeenToken>,
    /// The checks the receiving server ran.
    pub checks: Vec<Check>,
    /// The client (IdP or resource-AS client id), when known.
    pub client_id: Option<String>,
    /// The user's subject, when known.
    pub subject: Option<String>,
    /// Milliseconds from request to response.
    pub duration_ms: f64,
    /// The caller's `x-lab-request-id` header, when it sent one (the flow explorer does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What a recorder knows about an exchange before the flow is assigned.
#[derive(Clone, Debug, Default)]
pub struct Exchange {
    /// Component.
    pub service: String,
    /// Received or sent.
    pub sent: bool,
    /// Method.
    pub method: String,
    /// Host and path.
    pub target: String,
    /// Request parameters, unmasked (masked on record).
    pub request: Vec<(String, String)>,
    /// Status.
    pub status: Option<u16>,
    /// JSON response, unmasked (masked on record).
    pub response: Option<Value>,
    /// Checks.
    pub checks: Vec<Check>,
    /// Lab-clock time.
    pub at: i64,
    /// Duration.
    pub duration_ms: f64,
    /// The caller's `x-lab-request-id` header.
    pub request_id: Option<String>,
}

struct Inner {
    events: VecDeque<Arc<TraceEvent>>,
    next_flow: u64,
    /// (client or resource client, subject) → flow.
    by_party: HashMap<(String, String), u64>,
    /// ID-JAG jti → flow.
    by_jti: HashMap<String, u64>,
    /// Resource client id → IdP client id, learned from ID-JAGs.
    resource_client: HashMap<String, String>,
    /// Client → the flow of its sign-in in progress (authorize before the code grant).
    pending_login: HashMap<String, u64>,
}

impl Inner {
    /// The linking maps are bounded like the events: past a few times the capacity they start
    /// over, so only flows older than the kept events lose their links.
    fn forget_old_links(&mut self, capacity: usize) {
        let limit = capacity.saturating_mul(4).max(64);
        if self.by_jti.len() > limit {
            self.by_jti.clear();
        }
        if self.by_party.len() > limit {
            self.by_party.clear();
        }
        if self.pending_login.len() > limit {
            self.pending_login.clear();
        }
        if self.resource_client.len() > limit {
            self.resource_client.clear();
        }
    }
}

/// The trace of one lab.
pub struct Trace {
    capacity: usize,
    reveal: bool,
    next_id: AtomicU64,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<TraceEvent>>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("capacity", &self.capacity).field("reveal", &self.reveal).finish_non_exhaustive()
    }
}

impl Trace {
    /// A trace keeping the last `capacity` events; `reveal` stores secrets unmasked.
    pub fn new(capacity: usize, reveal: bool) -> Self {
        let (tx, _) = broadcast::channel(256);
        Self {
            capacity: capacity.max(1),
            reveal,
            next_id: AtomicU64::new(1),
            inner: Mutex::new(Inner {
                events: VecDeque::new(),
                next_flow: 1,
                by_party: HashMap::new(),
                by_jti: HashMap::new(),
                resource_client: HashMap::new(),
                pending_login: HashMap::new(),
            }),
            tx,
        }
    }

    /// Records an exchange: masks it, decodes its tokens, assigns its flow, keeps it, streams it.
    pub fn record(&self, ex: Exchange) -> Arc<TraceEvent> {
        let tokens = find_tokens(&ex.request, ex.response.as_ref());
        let step = step_of(&ex);
        let client = request_client(&ex.request);
        let mut event = TraceEvent {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            flow: 0,
            at: ex.at,
            service: ex.service,
            direction: if ex.sent { Direction::Sent } else { Direction::Received },
            method: ex.method,
            target: ex.target,
            step,
            request: ex.request.into_iter().map(|(k, v)| self.masked_pair(k, v)).collect(),
            status: ex.status,
            response: ex.response.map(|v| self.masked_json(v)),
            tokens,
            checks: ex.checks,
            client_id: None,
            subject: None,
            duration_ms: ex.duration_ms,
            request_id: ex.request_id,
        };
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.forget_old_links(self.capacity);
        assign_flow(&mut inner, &mut event, client);
        let event = Arc::new(event);
        inner.events.push_back(Arc::clone(&event));
        while inner.events.len() > self.capacity {
            inner.events.pop_front();
        }
        drop(inner);
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Arc::clone(&event));
        }
        event
    }

    /// The kept events, oldest first, that match `filter`.
    pub fn events(&self, filter: &TraceFilter) -> Vec<TraceEvent> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.events.iter().filter(|e| filter.matches(e)).map(|e| TraceEvent::clone(e)).collect()
    }

    /// The event a component recorded for the request carrying `x-lab-request-id: request_id`.
    pub fn find_request(&self, request_id: &str) -> Option<TraceEvent> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.events.iter().rev().find(|e| e.request_id.as_deref() == Some(request_id)).map(|e| TraceEvent::clone(e))
    }

    /// `value` as the trace would store parameter `name`: masked when it is a secret.
    pub fn shown(&self, name: &str, value: &str) -> String {
        self.masked_pair(name.to_owned(), value.to_owned()).1
    }

    /// New events as they are recorded.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<TraceEvent>> {
        self.tx.subscribe()
    }

    /// Whether secrets are stored unmasked.
    pub fn reveals_secrets(&self) -> bool {
        self.reveal
    }

    fn masked_pair(&self, k: String, v: String) -> (String, String) {
        if !self.reveal && is_secret(&k) {
            let shown = match v.split_once(' ') {
                Some((scheme, rest)) if k.eq_ignore_ascii_case("authorization") => format!("{scheme} {}", mask(rest)),
                _ => mask(&v),
            };
            (k, shown)
        } else if v.chars().count() > MAX_SHOWN {
            let shown: String = v.chars().take(MAX_SHOWN).collect();
            let n = v.chars().count();
            (k, format!("{shown}… ({n} chars)"))
        } else {
            (k, v)
        }
    }

    /// A JSON answer as the trace stores it: secret members masked (unless revealing).
    pub fn masked_json(&self, v: Value) -> Value {
        if self.reveal {
            return v;
        }
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) if is_secret(&k) => (k, Value::String(mask(&s))),
                        other => (k, other),
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

/// The parameters of a request body: form fields, or the top-level members of a JSON object
/// (non-string values as JSON text). Other bodies give none.
pub fn body_params(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded::parse(body).into_owned().collect();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if content_type.starts_with("application/json") => {
            map.into_iter().map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect()
        }
        _ => Vec::new(),
    }
}

/// Which events to show.
#[derive(Clone, Debug, Default)]
pub struct TraceFilter {
    /// Only this client (IdP or resource-AS client id).
    pub client: Option<String>,
    /// Only this subject.
    pub subject: Option<String>,
    /// Only this flow.
    pub flow: Option<u64>,
}

impl TraceFilter {
    /// Whether `e` passes.
    pub fn matches(&self, e: &TraceEvent) -> bool {
        let client_ok = self.client.as_deref().is_none_or(|c| e.client_id.as_deref() == Some(c));
        let subject_ok = self.subject.as_deref().is_none_or(|s| e.subject.as_deref() == Some(s));
        let flow_ok = self.flow.is_none_or(|f| e.flow == f);
        client_ok && subject_ok && flow_ok
    }
}

/// Whether a parameter or JSON member called `name` carries a secret (see [`SECRET_NAMES`]).
pub fn is_secret(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// JWTs among the request parameters and response members.
fn find_tokens(request: &[(String, String)], response: Option<&Value>) -> Vec<SeenToken> {
    let mut out = Vec::new();
    let mut consider = |field: &str, value: &str| {
        let value = value.strip_prefix("Bearer ").unwrap_or(value);
        if let Ok(jwt) = UnverifiedJwt::parse(value) {
            let header = serde_json::json!({
                "alg": jwt.header().alg, "typ": jwt.header().typ, "kid": jwt.header().kid,
            });
            out.push(SeenToken { field: field.to_owned(), header, claims: jwt.unverified_claims().clone() });
        }
    };
    for (k, v) in request {
        consider(k, v);
    }
    if let Some(Value::Object(map)) = response {
        for (k, v) in map {
            if let Value::String(s) = v {
                consider(k, s);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
