//! The lab's live trace: every request a component receives or sends, with masked parameters,
//! decoded token claims and the checks the receiving server ran, grouped into flows (login →
//! exchange → jwt-bearer → API) by client, subject and ID-JAG `jti`.
//!
//! Bounded in events and in bytes (oldest events dropped first; every value, parameter list and
//! JSON answer cut to the lengths in [`bounds`]) and secret-free: token and secret values are
//! masked before an event is stored, unless the lab runs with `reveal_secrets`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use xaa_core::jose::UnverifiedJwt;
use xaa_core::memo::Recent;
use xaa_core::secret::{is_secret, mask};
use xaa_core::validation::Check;

pub mod bounds;
mod flows;

use bounds::{
    MAX_KEY, MAX_REVEALED, MAX_TOKENS, MAX_VALUE, bounded_owned, bounded_params, cut, cut_owned, event_bytes,
    shrink_json, shrink_map,
};
use flows::{assign_flow, request_client, step_of};

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
    #[serde(serialize_with = "shared")]
    pub header: Arc<Value>,
    /// The claims.
    #[serde(serialize_with = "shared")]
    pub claims: Arc<Map<String, Value>>,
}

/// A shared value serialised as the value itself.
fn shared<T: Serialize, S: serde::Serializer>(value: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
    T::serialize(value, s)
}

/// A shared answer serialised as the answer itself (or `null`).
fn shared_answer<S: serde::Serializer>(value: &Option<Arc<Value>>, s: S) -> Result<S::Ok, S::Error> {
    value.as_deref().serialize(s)
}

/// A JSON answer, as a recorder hands it to [`Trace::record`] (see [`Trace::answer`]).
#[derive(Clone, Debug)]
pub enum Answer {
    /// Parsed, unmasked: masked and bounded on record.
    Unmasked(Value),
    /// As the trace keeps it (masked and bounded), shared with the events that got the same bytes.
    Kept(Arc<Value>),
}

/// How many decoded tokens the trace remembers (the access token of every API call, the ID
/// token of every exchange).
const RECENT_TOKENS: usize = 256;
/// How many JSON answers with nothing to mask and no token the trace remembers, by their bytes
/// (the todo listing behind every page view, a metadata document).
const RECENT_ANSWERS: usize = 128;
/// The longest answer it remembers, in bytes (longer ones are rarely sent twice).
const MAX_RECENT_ANSWER: usize = 2048;

/// A token's JOSE header and claims, as the trace shows them.
type Decoded = (Arc<Value>, Arc<Map<String, Value>>);

/// `token` decoded for display, or as decoded when it was last seen.
fn decode(recent: &mut Recent<String, Decoded>, token: &str) -> Option<Decoded> {
    if let Some(known) = recent.get(token) {
        return Some(known);
    }
    let jwt = UnverifiedJwt::parse(token).ok()?;
    let header = shrink_json(
        serde_json::json!({ "alg": jwt.header().alg, "typ": jwt.header().typ, "kid": jwt.header().kid }),
        0,
    );
    let decoded = (Arc::new(header), Arc::new(shrink_map(jwt.unverified_claims().clone(), 0)));
    recent.keep(token.to_owned(), decoded.clone());
    Some(decoded)
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
    /// Lab-clock time in milliseconds since the epoch (what a row shows, `HH:MM:SS.mmm`).
    pub at_ms: i64,
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
    #[serde(serialize_with = "shared_answer")]
    pub response: Option<Arc<Value>>,
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
    /// JSON response.
    pub response: Option<Answer>,
    /// Checks.
    pub checks: Vec<Check>,
    /// Lab-clock time.
    pub at: i64,
    /// Lab-clock time in milliseconds (0: unknown, taken as `at` seconds).
    pub at_ms: i64,
    /// Duration.
    pub duration_ms: f64,
    /// The caller's `x-lab-request-id` header.
    pub request_id: Option<String>,
}

struct Inner {
    /// The kept events with their estimated sizes.
    events: VecDeque<(Arc<TraceEvent>, usize)>,
    /// The sum of the kept events' sizes.
    bytes: usize,
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
    budget: usize,
    reveal: bool,
    next_id: AtomicU64,
    /// Bumped (under the lock) by every change of the kept events: a page rendered at one
    /// generation is current until the next.
    generation: AtomicU64,
    inner: Mutex<Inner>,
    decoded: Mutex<Recent<String, Decoded>>,
    answers: Mutex<Recent<axum::body::Bytes, Arc<Value>>>,
    tx: broadcast::Sender<Arc<TraceEvent>>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("capacity", &self.capacity)
            .field("budget", &self.budget)
            .field("reveal", &self.reveal)
            .finish_non_exhaustive()
    }
}

impl Trace {
    /// A trace keeping the last `capacity` events within [`bounds::DEFAULT_BUDGET`] bytes;
    /// `reveal` stores secrets unmasked.
    pub fn new(capacity: usize, reveal: bool) -> Self {
        let (tx, _) = broadcast::channel(256);
        Self {
            capacity: capacity.max(1),
            budget: bounds::DEFAULT_BUDGET,
            reveal,
            next_id: AtomicU64::new(1),
            generation: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                events: VecDeque::new(),
                bytes: 0,
                next_flow: 1,
                by_party: HashMap::new(),
                by_jti: HashMap::new(),
                resource_client: HashMap::new(),
                pending_login: HashMap::new(),
            }),
            decoded: Mutex::new(Recent::new(RECENT_TOKENS)),
            answers: Mutex::new(Recent::new(RECENT_ANSWERS)),
            tx,
        }
    }

    /// The same trace keeping about `bytes` bytes of events at most (at least the newest event).
    pub fn with_budget(mut self, bytes: usize) -> Self {
        self.budget = bytes;
        self
    }

    /// Records an exchange: bounds and masks it, decodes its tokens, assigns its flow, keeps it
    /// (dropping the oldest events past the count or the byte budget), streams it.
    pub fn record(&self, ex: Exchange) -> Arc<TraceEvent> {
        let unmasked = match &ex.response {
            Some(Answer::Unmasked(v)) => Some(v),
            _ => None,
        };
        let tokens = self.find_tokens(&ex.request, unmasked);
        let step = step_of(&ex);
        let client = request_client(&ex.request).map(|c| cut(&c, MAX_VALUE));
        let mut event = TraceEvent {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            flow: 0,
            at: ex.at,
            at_ms: if ex.at_ms == 0 { ex.at.saturating_mul(1000) } else { ex.at_ms },
            service: ex.service,
            direction: if ex.sent { Direction::Sent } else { Direction::Received },
            method: cut_owned(ex.method, MAX_KEY),
            target: cut_owned(ex.target, MAX_VALUE),
            step: cut_owned(step, MAX_KEY),
            request: bounded_owned(ex.request).into_iter().map(|(k, v)| self.masked_pair(k, v)).collect(),
            status: ex.status,
            response: ex.response.map(|a| match a {
                Answer::Unmasked(v) => Arc::new(self.masked_json(v)),
                Answer::Kept(kept) => kept,
            }),
            tokens,
            checks: ex.checks.into_iter().map(|c| Check { detail: cut_owned(c.detail, MAX_VALUE), ..c }).collect(),
            client_id: None,
            subject: None,
            duration_ms: ex.duration_ms,
            request_id: ex.request_id.map(|r| cut_owned(r, MAX_KEY)),
        };
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.forget_old_links(self.capacity);
        assign_flow(&mut inner, &mut event, client);
        let event = Arc::new(event);
        let size = event_bytes(&event);
        inner.events.push_back((Arc::clone(&event), size));
        inner.bytes += size;
        while inner.events.len() > self.capacity || (inner.bytes > self.budget && inner.events.len() > 1) {
            if let Some((_, dropped)) = inner.events.pop_front() {
                inner.bytes -= dropped;
            }
        }
        self.generation.fetch_add(1, Ordering::Release);
        drop(inner);
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Arc::clone(&event));
        }
        event
    }

    /// Forgets every kept event and link (the lab's reset). Ids and flow numbers keep counting,
    /// so pages that show older events never mistake a new one for them.
    pub fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.events.clear();
        inner.bytes = 0;
        inner.by_party.clear();
        inner.by_jti.clear();
        inner.resource_client.clear();
        inner.pending_login.clear();
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The kept events, oldest first, that match `filter`.
    pub fn events(&self, filter: &TraceFilter) -> Vec<TraceEvent> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.events.iter().filter(|(e, _)| filter.matches(e)).map(|(e, _)| TraceEvent::clone(e)).collect()
    }

    /// How many times the kept events changed (a recorded request, a reset): pages rendered at
    /// this generation are still current.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The kept events that match `filter`, oldest first, shared (not copied), with the
    /// generation they are the events of.
    pub fn snapshot(&self, filter: &TraceFilter) -> (u64, Vec<Arc<TraceEvent>>) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let events = inner.events.iter().filter(|(e, _)| filter.matches(e)).map(|(e, _)| Arc::clone(e)).collect();
        (self.generation.load(Ordering::Acquire), events)
    }

    /// The event a component recorded for the request carrying `x-lab-request-id: request_id`.
    pub fn find_request(&self, request_id: &str) -> Option<TraceEvent> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .events
            .iter()
            .rev()
            .find(|(e, _)| e.request_id.as_deref() == Some(request_id))
            .map(|(e, _)| TraceEvent::clone(e))
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

    /// The bytes the kept events take, by the estimate the budget counts.
    pub fn kept_bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }

    fn masked_pair(&self, k: String, v: String) -> (String, String) {
        let k = cut_owned(k, MAX_KEY);
        if !is_secret(&k) {
            return (k, cut_owned(v, MAX_VALUE));
        }
        if self.reveal {
            return (k, cut_owned(v, MAX_REVEALED));
        }
        let shown = match v.split_once(' ') {
            Some((scheme, rest)) if k.eq_ignore_ascii_case("authorization") => {
                format!("{} {}", cut(scheme, MAX_KEY), mask(rest))
            }
            _ => mask(&v),
        };
        (k, shown)
    }

    /// The answer a component sent as `body` with `content_type` (JSON, or an MCP event stream's
    /// JSON-RPC message), for [`Exchange::response`]. A JSON answer with nothing to mask and no
    /// token among its members is kept as the trace stores it, and the same bytes again get the
    /// same kept answer.
    pub fn answer(&self, content_type: &str, body: &axum::body::Bytes) -> Option<Answer> {
        let plain_json = content_type.starts_with("application/json") && body.len() <= MAX_RECENT_ANSWER;
        if plain_json && let Some(kept) = self.recent_answers().get(body) {
            return Some(Answer::Kept(kept));
        }
        let value = xaa_core::mcp::answer(content_type, body)?;
        let nothing_to_hide = match &value {
            Value::Object(map) => !map.iter().any(|(k, v)| v.as_str().is_some_and(|s| is_secret(k) || is_jws(s))),
            _ => true,
        };
        if !(plain_json && nothing_to_hide) {
            return Some(Answer::Unmasked(value));
        }
        let kept = Arc::new(self.masked_json(value));
        self.recent_answers().keep(body.clone(), Arc::clone(&kept));
        Some(Answer::Kept(kept))
    }

    fn recent_answers(&self) -> std::sync::MutexGuard<'_, Recent<axum::body::Bytes, Arc<Value>>> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A JSON answer as the trace stores it: secret members masked (unless revealing), everything
    /// bounded as [`bounds`] says.
    pub fn masked_json(&self, v: Value) -> Value {
        let Value::Object(map) = v else { return shrink_json(v, 0) };
        if !map.iter().any(|(k, v)| v.is_string() && is_secret(k)) {
            // Nothing to mask (a todo listing, an error): bounded in place.
            return Value::Object(shrink_map(map, 0));
        }
        let (secrets, rest): (Map<String, Value>, Map<String, Value>) =
            map.into_iter().partition(|(k, v)| v.is_string() && is_secret(k));
        let mut out = shrink_map(rest, 0);
        for (k, v) in secrets {
            let s = v.as_str().unwrap_or_default();
            out.insert(k, Value::String(if self.reveal { cut(s, MAX_REVEALED) } else { mask(s) }));
        }
        Value::Object(out)
    }
}

/// The parameters of a request body: form fields, or the top-level members of a JSON object
/// (non-string values as JSON text). Other bodies give none. At most [`bounds::MAX_PARAMS`]
/// (and an entry counting the rest).
pub fn body_params(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return bounded_params(form_urlencoded::parse(body));
    }
    if !content_type.starts_with("application/json") {
        return Vec::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => bounded_params(map.into_iter().map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                other => cut(&other.to_string(), MAX_VALUE),
            };
            (k, text)
        })),
        _ => Vec::new(),
    }
}

/// Whether `value` may be a compact JWS the trace decodes: two dots (anything else is no token,
/// and costs no decoding), and not longer than a revealed secret could be.
fn is_jws(value: &str) -> bool {
    value.len() <= MAX_REVEALED * 4 && value.bytes().filter(|b| *b == b'.').count() == 2
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

/// JWTs among the request parameters and response members (at most [`MAX_TOKENS`], their
/// claims bounded like JSON answers).
impl Trace {
    /// The JWTs among the request's parameters and the answer's string members, decoded.
    fn find_tokens(&self, request: &[(String, String)], response: Option<&Value>) -> Vec<SeenToken> {
        let mut out = Vec::new();
        let mut decoded = self.decoded.lock().unwrap_or_else(|p| p.into_inner());
        let mut consider = |field: &str, value: &str| {
            let value = value.strip_prefix("Bearer ").unwrap_or(value);
            if out.len() >= MAX_TOKENS || !is_jws(value) {
                return;
            }
            if let Some((header, claims)) = decode(&mut decoded, value) {
                out.push(SeenToken { field: cut(field, MAX_KEY), header, claims });
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
}

#[cfg(test)]
mod tests;
