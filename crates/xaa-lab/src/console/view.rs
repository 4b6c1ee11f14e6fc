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
    pub(crate) events: Vec<EventView>,
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
            response: e.response.as_ref().map(|r| serde_json::to_string_pretty(r).unwrap_or_default()),
            tokens: e
                .tokens
                .iter()
                .map(|t| TokenView::new(&t.field, kind_of(&t.header), &t.header, &t.claims))
                .collect(),
            checks: e.checks.clone(),
            ms: format!("{:.1}", e.duration_ms),
        }
    }
}

/// Groups events into flows, newest flow first; only events the components received (the notes
/// app's sent copies of the same calls are left out).
pub(crate) fn flows(events: &[TraceEvent]) -> Vec<FlowView> {
    let mut by_flow: BTreeMap<u64, Vec<&TraceEvent>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.direction == Direction::Received) {
        by_flow.entry(e.flow).or_default().push(e);
    }
    by_flow
        .into_iter()
        .rev()
        .map(|(id, evs)| FlowView {
            id,
            client: match id {
                0 => "other requests".into(),
                _ => evs.iter().find_map(|e| e.client_id.clone()).unwrap_or_else(|| "(no client yet)".into()),
            },
            subject: match id {
                0 => "discovery, keys and pages".into(),
                _ => evs.iter().find_map(|e| e.subject.clone()).unwrap_or_else(|| "(signing in)".into()),
            },
            app: if id == 0 { None } else { evs.iter().find_map(|e| e.client_id.clone()) },
            events: evs.iter().map(|e| EventView::from_event(e)).collect(),
            earlier: 0,
        })
        .collect()
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
    #[test]
    fn formats_numeric_dates() {
        assert_eq!(xaa_core::claims::numeric_date(crate::DETERMINISTIC_EPOCH), "2027-01-15 08:00:00 UTC");
    }
}
