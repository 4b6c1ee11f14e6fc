//! One explorer call to a developer's own server (their resource, or their authorization server's
//! token endpoint): any method, the lab's outbound client (no redirects, 5 s), the answer read up
//! to [`MAX_ANSWER_BYTES`] and shown as it came — status, the headers that matter, the body.

use serde_json::Value;

use super::StepRecord;
use crate::console::ConsoleState;
use crate::outbound::read_capped;

/// The most of an answer the explorer reads.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The most of a non-JSON body the page shows.
const SHOWN_TEXT_CHARS: usize = 4000;

/// What the server answered, beyond what the step shows.
#[derive(Debug, Default)]
pub(super) struct Answered {
    pub(super) status: u16,
    pub(super) www_authenticate: Option<String>,
    /// The JSON body (for `text/event-stream`, the last `data:` line that is JSON).
    pub(super) json: Option<Value>,
    /// `Mcp-Session-Id` (MCP Streamable HTTP), when sent.
    pub(super) mcp_session: Option<String>,
}

/// What to send besides the method and URL.
#[derive(Debug, Default)]
pub(super) struct Outgoing<'a> {
    /// A form (client credentials go in it).
    pub(super) form: Vec<(&'static str, String)>,
    /// A bearer token.
    pub(super) bearer: Option<&'a str>,
    /// A JSON body.
    pub(super) json: Option<Value>,
    /// More headers.
    pub(super) headers: Vec<(&'static str, String)>,
}

/// The JSON of a body: itself, or the last `data:` line of a server-sent event stream that is JSON.
fn json_of(bytes: &[u8], event_stream: bool) -> Option<Value> {
    if !event_stream {
        return serde_json::from_slice(bytes).ok();
    }
    let text = String::from_utf8_lossy(bytes);
    text.lines().filter_map(|l| l.strip_prefix("data:")).filter_map(|d| serde_json::from_str(d.trim()).ok()).next_back()
}

/// Calls `method url` with what `out` says.
pub(super) async fn call_out(st: &ConsoleState, method: &str, url: &str, out: Outgoing<'_>) -> (StepRecord, Answered) {
    let Outgoing { form, bearer, json, headers: extra } = out;
    let shown = |k: &str, v: &str| st.trace.shown(k, v);
    let (host, path) = url
        .split_once("://")
        .map(|(_, r)| {
            r.split_once('/').map(|(h, p)| (h.to_owned(), format!("/{p}"))).unwrap_or((r.to_owned(), "/".into()))
        })
        .unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\nHost: {host}\n");
    let record = |request: String, response: String, ok: bool, status: String| StepRecord {
        request,
        response,
        ok,
        status,
        tokens: vec![],
        checks: vec![],
        client_checks: vec![],
        snippets: vec![],
    };
    let http = match st.http.get() {
        Ok(h) => h.clone(),
        Err(e) => return (record(request, format!("No answer: {e}"), false, "no answer".into()), Answered::default()),
    };
    let Ok(m) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return (record(request, "No such method".into(), false, "no answer".into()), Answered::default());
    };
    let mut builder = http.request(m, url);
    for (name, value) in &extra {
        builder = builder.header(*name, value);
        request.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(token) = bearer {
        builder = builder.bearer_auth(token);
        request.push_str(&format!("Authorization: {}\n", shown("authorization", &format!("Bearer {token}"))));
    }
    if let Some(body) = &json {
        builder = builder.json(body);
        let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
        request.push_str(&format!("Content-Type: application/json\n\n{pretty}\n"));
    }
    if !form.is_empty() {
        builder = builder.form(&form);
        request.push_str("Content-Type: application/x-www-form-urlencoded\n\n");
        let lines: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", shown(k, v))).collect();
        request.push_str(&lines.join("\n&"));
    }
    let resp = match builder.send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() { "no answer within 5 s".to_owned() } else { e.to_string() };
            return (record(request, format!("No answer: {why}"), false, "no answer".into()), Answered::default());
        }
    };
    let status = resp.status();
    let header = |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let www_authenticate = header("www-authenticate");
    let mcp_session = header("mcp-session-id");
    let event_stream = header("content-type").is_some_and(|c| c.starts_with("text/event-stream"));
    let headers: Vec<String> = ["content-type", "cache-control", "www-authenticate", "location", "mcp-session-id"]
        .iter()
        .filter_map(|h| header(h).map(|v| format!("{h}: {v}")))
        .collect();
    let (body, json) = match read_capped(resp, MAX_ANSWER_BYTES).await {
        Ok(bytes) => match json_of(&bytes, event_stream) {
            Some(v) if !event_stream => {
                (serde_json::to_string_pretty(&st.trace.masked_json(v.clone())).unwrap_or_default(), Some(v))
            }
            v => (String::from_utf8_lossy(&bytes).chars().take(SHOWN_TEXT_CHARS).collect(), v),
        },
        Err(e) => (format!("(body not shown: {e})"), None),
    };
    let reason = status.canonical_reason().unwrap_or("");
    let error = json.as_ref().and_then(|b| b["error"].as_str()).map(str::to_owned);
    let response = format!("HTTP/1.1 {} {reason}\n{}\n\n{body}", status.as_u16(), headers.join("\n"));
    let shown_status = format!("{} {}", status.as_u16(), error.as_deref().unwrap_or(reason));
    let answered = Answered { status: status.as_u16(), www_authenticate, json, mcp_session };
    (record(request, response, status.is_success(), shown_status), answered)
}
