//! One explorer call: the real HTTP request, its masked text as shown, and the receiving
//! server's record (with its checks) found in the trace by `x-lab-request-id`.

use base64::Engine;
use serde_json::Value;
use xaa_core::secret::random_token;

use super::StepRecord;
use crate::console::ConsoleState;
use crate::console::snippets::snippets;
use crate::console::view::EventView;

/// Performs one call, tagged with `x-lab-request-id` so the receiving server's record (with its
/// checks) can be found in the trace. Returns what the step shows and the JSON answer.
pub(super) async fn call(
    st: &ConsoleState,
    n: usize,
    method: &str,
    url: &str,
    form: Vec<(&'static str, String)>,
    basic: Option<(String, String)>,
    bearer: Option<(String, Option<Value>)>,
) -> (StepRecord, Option<Value>) {
    let request_id = random_token(12);
    let shown = |k: &str, v: &str| st.trace.shown(k, v);
    let path = url.split_once("://").and_then(|(_, r)| r.split_once('/')).map(|(h, p)| (h.to_owned(), format!("/{p}")));
    let (host, path) = path.unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\nHost: {host}\n");
    let http = match st.http.get() {
        Ok(h) => h.clone(),
        Err(e) => return (failed(n, st, request, e.to_string()), None),
    };
    let mut builder = if method == "POST" { http.post(url) } else { http.get(url) };
    builder = builder.header("x-lab-request-id", &request_id);
    if let Some((id, secret)) = &basic {
        builder = builder.basic_auth(id, Some(secret));
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        request.push_str(&format!("Authorization: {}\n", shown("authorization", &format!("Basic {encoded}"))));
    }
    if let Some((token, json)) = &bearer {
        builder = builder.bearer_auth(token);
        request.push_str(&format!("Authorization: {}\n", shown("authorization", &format!("Bearer {token}"))));
        if let Some(j) = json {
            builder = builder.json(j);
            request.push_str(&format!(
                "Content-Type: application/json\n\n{}\n",
                serde_json::to_string_pretty(j).unwrap_or_default()
            ));
        }
    }
    if !form.is_empty() {
        builder = builder.form(&form);
        request.push_str("Content-Type: application/x-www-form-urlencoded\n\n");
        let lines: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", shown(k, v))).collect();
        request.push_str(&lines.join("\n&"));
    }
    let resp = match builder.send().await {
        Ok(r) => r,
        Err(e) => return (failed(n, st, request, e.to_string()), None),
    };
    let status = resp.status();
    let headers: Vec<String> = ["content-type", "cache-control", "www-authenticate"]
        .iter()
        .filter_map(|h| resp.headers().get(*h).and_then(|v| v.to_str().ok()).map(|v| format!("{h}: {v}")))
        .collect();
    let body: Option<Value> = resp.json().await.ok();
    let masked_body = body.clone().map(|b| st.trace.masked_json(b));
    let response = format!(
        "HTTP/1.1 {} {}\n{}\n\n{}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        headers.join("\n"),
        masked_body.map(|b| serde_json::to_string_pretty(&b).unwrap_or_default()).unwrap_or_default()
    );
    let event = st.trace.find_request(&request_id).map(|e| EventView::from_event(&e));
    let endpoint = if n == 4 { path.as_str() } else { "" };
    let record = StepRecord {
        request,
        response,
        ok: status.is_success(),
        status: format!(
            "{} {}",
            status.as_u16(),
            body.as_ref().and_then(|b| b["error"].as_str()).unwrap_or(status.canonical_reason().unwrap_or(""))
        ),
        tokens: event.as_ref().map(|e| e.tokens.clone()).unwrap_or_default(),
        checks: event.map(|e| e.checks).unwrap_or_default(),
        client_checks: vec![],
        snippets: snippets(n, &st.snippet_context(endpoint)),
    };
    (record, body)
}

fn failed(n: usize, st: &ConsoleState, request: String, error: String) -> StepRecord {
    StepRecord {
        request,
        response: format!("No answer: {error}"),
        ok: false,
        status: "no answer".into(),
        tokens: vec![],
        checks: vec![],
        client_checks: vec![],
        snippets: snippets(n, &st.snippet_context("/api/todos")),
    }
}
