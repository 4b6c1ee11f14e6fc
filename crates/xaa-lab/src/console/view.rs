//! Trace events shaped for the console's pages: grouped into flows, tokens with explained claims,
//! and a flow as a sequence diagram (Mermaid text, and rows the page draws).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use xaa_core::claims::{TokenKind, explain};
use xaa_core::jose::unverified::UnverifiedJwt;

use crate::observe::trace::{Direction, TraceEvent};
use xaa_core::validation::Check;

/// A flow: the events of one client and user, linked by `jti`.
#[derive(Debug)]
pub(crate) struct FlowView {
    pub(crate) id: u64,
    pub(crate) client: String,
    pub(crate) subject: String,
    /// The requestor whose flow it is (none for flow 0 and for a sign-in with no client yet).
    pub(crate) app: Option<String>,
    /// Its protocol calls (see [`is_protocol`]), oldest first: what the flow is about.
    pub(crate) events: Vec<EventView>,
    /// Its other requests (page loads, redirects, login forms, discovery), oldest first: shown
    /// folded away.
    pub(crate) others: Vec<EventView>,
    /// How many other requests the flow has in all (shown or not).
    pub(crate) others_total: usize,
    /// Earlier requests of the flow not shown with it (the trace page shows the last few).
    pub(crate) earlier: usize,
}

/// One request, ready to show.
#[derive(Clone, Debug)]
pub(crate) struct EventView {
    pub(crate) id: u64,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) step: String,
    pub(crate) status: String,
    pub(crate) ok: bool,
    pub(crate) failed_check: Option<String>,
    pub(crate) request: Vec<(String, String)>,
    pub(crate) response: Option<String>,
    pub(crate) tokens: Vec<TokenView>,
    pub(crate) checks: Vec<Check>,
    pub(crate) ms: String,
    /// When the request arrived, lab clock, `HH:MM:SS.mmm` (UTC).
    pub(crate) time: String,
    /// Whether it is a protocol call (see [`is_protocol`]), not a page load or discovery.
    pub(crate) protocol: bool,
}

/// A decoded token.
#[derive(Clone, Debug)]
pub(crate) struct TokenView {
    pub(crate) field: String,
    pub(crate) kind: String,
    pub(crate) header: String,
    pub(crate) claims: Vec<(String, String, &'static str, xaa_core::spec::Citation)>,
}

impl TokenView {
    /// A token of `kind` in `field`, every claim explained.
    fn new(field: &str, kind: TokenKind, header: &Value, claims: &Map<String, Value>) -> Self {
        TokenView {
            field: field.to_owned(),
            kind: kind.label().to_owned(),
            header: header.to_string(),
            claims: claims
                .iter()
                .map(|(k, v)| {
                    let (meaning, spec) = explain(kind, k);
                    (k.clone(), xaa_core::claims::shown_value(k, v), meaning, spec)
                })
                .collect(),
        }
    }

    /// `jwt` in `field` decoded as the explorer reads a token no lab server decoded for it: an
    /// ID-JAG by its `typ`, else an access token. Not verified: its receiver verifies it.
    pub(crate) fn unverified(field: &str, jwt: &str) -> Option<Self> {
        let parsed = UnverifiedJwt::parse(jwt).ok()?;
        let typ = parsed.header().typ.clone().unwrap_or_default().to_ascii_lowercase();
        let kind = if typ.ends_with("oauth-id-jag+jwt") { TokenKind::IdJag } else { TokenKind::AccessToken };
        let header = jwt.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok());
        let header: Map<String, Value> = header.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Some(Self::new(field, kind, &Value::Object(header), parsed.unverified_claims()))
    }
}

/// The component names as people read them.
pub(crate) fn actor(service: &str) -> &str {
    match service {
        "idp" => "IdP",
        "resource-as" => "Resource AS",
        "todo-api" => "Todo API",
        "notes" => "Lab Notes",
        other => other,
    }
}

fn kind_of(header: &Value) -> TokenKind {
    match header.get("typ").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase().as_str() {
        t if t.ends_with("oauth-id-jag+jwt") => TokenKind::IdJag,
        t if t.ends_with("at+jwt") => TokenKind::AccessToken,
        _ => TokenKind::IdToken,
    }
}

impl EventView {
    pub(crate) fn from_event(e: &TraceEvent) -> Self {
        let error = e.response.as_ref().and_then(|r| r.get("error")).and_then(Value::as_str);
        let status = match (e.status, error) {
            (Some(s), Some(err)) => format!("{s} {err}"),
            (Some(s), None) => s.to_string(),
            (None, _) => "no answer".into(),
        };
        let (from, to) = match e.direction {
            Direction::Received => {
                (e.client_id.clone().unwrap_or_else(|| "browser".into()), actor(&e.service).to_owned())
            }
            Direction::Sent => (actor(&e.service).to_owned(), e.target.split('/').next().unwrap_or("").to_owned()),
        };
        EventView {
            id: e.id,
            from,
            to,
            method: e.method.clone(),
            target: e.target.clone(),
            step: step_label(e),
            ok: e.status.is_some_and(|s| s < 400),
            status,
            failed_check: e.checks.iter().find(|c| !c.passed).map(|c| c.name.to_owned()),
            request: e.request.clone(),
            response: e.response.as_deref().map(|r| serde_json::to_string_pretty(r).unwrap_or_default()),
            tokens: e
                .tokens
                .iter()
                .map(|t| TokenView::new(&t.field, kind_of(&t.header), &t.header, &t.claims))
                .collect(),
            checks: e.checks.clone(),
            ms: format!("{:.1}", e.duration_ms),
            time: clock_time(e.at_ms),
            protocol: is_protocol(e),
        }
    }
}

/// A lab-clock time in milliseconds as a row shows it: `HH:MM:SS.mmm`, UTC (the lab's clock reads
/// UTC everywhere).
pub(crate) fn clock_time(at_ms: i64) -> String {
    let (secs, ms) = (at_ms.div_euclid(1000), at_ms.rem_euclid(1000));
    let day = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}.{ms:03}", day / 3600, day % 3600 / 60, day % 60)
}

/// Whether a request is one of the protocol calls a flow is about: a grant at a token endpoint,
/// the authorization request, a key fetch, introspection, a call to the todo API or MCP server.
/// Everything else (page loads, redirects, the IdP's login forms, discovery, sign-out pages) is
/// shown folded away.
pub(crate) fn is_protocol(e: &TraceEvent) -> bool {
    let path = e.target.split_once('/').map_or("", |(_, p)| p);
    match e.step.as_str() {
        "token exchange" | "jwt-bearer" | "code grant" | "todo API" | "MCP" | "keys" | "introspection" => true,
        // Another grant at a token endpoint (refresh_token, client_credentials, a typo).
        "token" => e.method == "POST",
        "login" => path == "authorize",
        _ => false,
    }
}

/// The flows of a page: `events` grouped by flow, newest flow first (flow 0, the requests that
/// name no client, last), only flows older than `before`, at most `max_flows` of them, each
/// with its last `per_flow` events; and the flow to page back from, when there are older flows.
pub(crate) fn page_of<'a>(
    events: impl IntoIterator<Item = &'a TraceEvent>,
    before: Option<u64>,
    max_flows: usize,
) -> (Vec<(u64, Vec<&'a TraceEvent>)>, Option<u64>) {
    let mut by_flow: BTreeMap<u64, Vec<&TraceEvent>> = BTreeMap::new();
    for e in events {
        if before.is_none_or(|b| e.flow < b) {
            by_flow.entry(e.flow).or_default().push(e);
        }
    }
    let mut flows: Vec<(u64, Vec<&TraceEvent>)> = by_flow.into_iter().rev().take(max_flows + 1).collect();
    let older = (flows.len() > max_flows).then(|| flows[max_flows - 1].0);
    flows.truncate(max_flows);
    (flows, older)
}

/// One flow's view: its protocol calls and its other requests apart, each the last `per_flow`
/// (only these are rendered: a flow of thousands of requests costs a page no more than
/// `2 × per_flow` rows); only requests the components received (the notes app's sent copies of
/// the same calls are left out).
pub(crate) fn flow_view(id: u64, events: &[&TraceEvent], per_flow: usize) -> Option<FlowView> {
    let received: Vec<&TraceEvent> = events.iter().copied().filter(|e| e.direction == Direction::Received).collect();
    if received.is_empty() {
        return None;
    }
    let (calls, others): (Vec<&TraceEvent>, Vec<&TraceEvent>) = received.iter().partition(|e| is_protocol(e));
    let last = |v: &[&TraceEvent]| -> Vec<EventView> {
        v[v.len().saturating_sub(per_flow)..].iter().map(|e| EventView::from_event(e)).collect()
    };
    let earlier = calls.len().saturating_sub(per_flow) + others.len().saturating_sub(per_flow);
    Some(FlowView {
        id,
        client: match id {
            0 => "other requests".into(),
            _ => received.iter().find_map(|e| e.client_id.clone()).unwrap_or_else(|| "(no client yet)".into()),
        },
        subject: match id {
            0 => "discovery, keys and pages".into(),
            _ => received.iter().find_map(|e| e.subject.clone()).unwrap_or_else(|| "(signing in)".into()),
        },
        app: if id == 0 { None } else { received.iter().find_map(|e| e.client_id.clone()) },
        events: last(&calls),
        others: last(&others),
        others_total: others.len(),
        earlier,
    })
}

impl FlowView {
    /// One app, one lane: the requests an app sent with its resource-AS client id are drawn from
    /// the same lane as its IdP client (the sequence diagram's view).
    pub(crate) fn one_lane_per_app(mut self) -> Self {
        if let Some(app) = self.app.clone() {
            for e in &mut self.events {
                e.from.clone_from(&app);
            }
        }
        self
    }
}

/// The flow as a Mermaid sequence diagram.
pub(crate) fn mermaid(flow: &FlowView) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let mut participants: Vec<String> = Vec::new();
    for e in &flow.events {
        for p in [&e.from, &e.to] {
            if !participants.contains(p) {
                participants.push(p.clone());
            }
        }
    }
    for (i, p) in participants.iter().enumerate() {
        out.push_str(&format!("    participant P{i} as {}\n", p.replace(['\n', ':'], " ")));
    }
    let idx = |p: &str| participants.iter().position(|x| x == p).unwrap_or(0);
    for e in &flow.events {
        let path = e.target.split_once('/').map(|(_, p)| p).unwrap_or("");
        out.push_str(&format!("    P{}->>P{}: {} /{path} ({})\n", idx(&e.from), idx(&e.to), e.method, e.step));
        out.push_str(&format!("    P{}-->>P{}: {}\n", idx(&e.to), idx(&e.from), e.status));
    }
    out
}

/// The step as a row names it: an MCP call adds its JSON-RPC method (`MCP tools/call`).
fn step_label(e: &TraceEvent) -> String {
    match e.request.iter().find(|(k, _)| k == "method") {
        Some((_, m)) if e.step == "MCP" => format!("MCP {m}"),
        _ => e.step.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numeric_dates() {
        assert_eq!(xaa_core::claims::numeric_date(crate::DETERMINISTIC_EPOCH), "2027-01-15 08:00:00 UTC");
    }

    #[test]
    fn rows_show_the_lab_clock_to_the_millisecond() {
        assert_eq!(clock_time(crate::DETERMINISTIC_EPOCH * 1000 + 7), "08:00:00.007");
        assert_eq!(clock_time(crate::DETERMINISTIC_EPOCH * 1000 + 86_399_999), "07:59:59.999");
        assert_eq!(clock_time(-1), "23:59:59.999", "before the epoch still reads as a time of day");
    }

    fn event(id: u64, flow: u64, method: &str, target: &str, step: &str) -> TraceEvent {
        TraceEvent {
            id,
            flow,
            at: 0,
            at_ms: 0,
            service: "idp".into(),
            direction: Direction::Received,
            method: method.into(),
            target: target.into(),
            step: step.into(),
            request: Vec::new(),
            status: Some(200),
            response: None,
            tokens: Vec::new(),
            checks: Vec::new(),
            client_id: Some("app".into()),
            subject: None,
            duration_ms: 1.0,
            request_id: None,
        }
    }

    #[test]
    fn protocol_calls_are_told_from_pages_redirects_and_discovery() {
        let protocol = [
            ("POST", "localhost:1/token", "token exchange"),
            ("POST", "localhost:2/token", "jwt-bearer"),
            ("POST", "localhost:1/token", "code grant"),
            ("POST", "localhost:1/token", "token"),
            ("GET", "localhost:1/authorize", "login"),
            ("GET", "localhost:1/jwks", "keys"),
            ("POST", "localhost:2/token/introspection", "introspection"),
            ("GET", "localhost:3/api/todos", "todo API"),
            ("POST", "localhost:3/mcp", "MCP"),
        ];
        for (m, t, s) in protocol {
            assert!(is_protocol(&event(1, 1, m, t, s)), "{m} {t} ({s}) is a protocol call");
        }
        let other = [
            ("POST", "localhost:1/login/email", "login"),
            ("POST", "localhost:1/login/code", "login"),
            ("GET", "localhost:1/.well-known/openid-configuration", "discovery"),
            ("GET", "localhost:4/notes", "notes"),
            ("GET", "localhost:4/auth/callback", "auth"),
            ("GET", "localhost:1/session/end", "logout"),
            ("GET", "localhost:4/", ""),
            ("GET", "localhost:1/token", "token"),
        ];
        for (m, t, s) in other {
            assert!(!is_protocol(&event(1, 1, m, t, s)), "{m} {t} ({s}) is folded away");
        }
    }

    #[test]
    fn a_page_renders_only_its_flows_and_their_last_rows() {
        let mut events = Vec::new();
        for flow in 0..5u64 {
            for i in 0..10u64 {
                let id = flow * 100 + i;
                events.push(match i % 2 {
                    0 => event(id, flow, "POST", "localhost:1/token", "token exchange"),
                    _ => event(id, flow, "GET", "localhost:1/.well-known/openid-configuration", "discovery"),
                });
            }
        }
        let (page, older) = page_of(&events, None, 3);
        assert_eq!(page.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [4, 3, 2], "newest first");
        assert_eq!(older, Some(2));
        let (page2, older2) = page_of(&events, older, 3);
        assert_eq!(page2.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 0], "flow 0 comes last");
        assert_eq!(older2, None);
        let view = flow_view(4, &page[0].1, 2).unwrap();
        assert_eq!(view.events.iter().map(|e| e.id).collect::<Vec<_>>(), [406, 408], "the last two calls");
        assert_eq!(view.others.iter().map(|e| e.id).collect::<Vec<_>>(), [407, 409], "the last two others");
        assert_eq!((view.others_total, view.earlier), (5, 6));
        assert!(view.events.iter().all(|e| e.protocol && e.time == "00:00:00.000"));
    }
}
