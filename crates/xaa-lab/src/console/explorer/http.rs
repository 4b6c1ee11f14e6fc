//! One HTTP exchange of the explorer, shown as it went over the wire: the request as text (secrets
//! masked unless the lab reveals them), then the status, the headers that matter and the body
//! (JSON pretty-printed and masked, other text up to [`SHOWN_TEXT_CHARS`]). The lab's outbound
//! client sends it (no redirects, 5 s) and reads the answer up to [`MAX_ANSWER_BYTES`]. A call to
//! one of the lab's own servers carries `x-lab-request-id`, so that server's record is found in
//! the trace: the checks it ran and the tokens it decoded.

use base64::Engine;
use serde_json::Value;
use xaa_core::secret::random_token;

use super::step::StepRecord;
use super::target::Client;
use crate::console::ConsoleState;
use crate::console::view::EventView;
use crate::outbound::read_capped;

/// The most of an answer the explorer reads.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The most of a body that is not JSON the page shows.
const SHOWN_TEXT_CHARS: usize = 4000;
/// The answer's headers the page shows.
const SHOWN_HEADERS: [&str; 5] = ["content-type", "cache-control", "www-authenticate", "location", "mcp-session-id"];

/// What to send besides the method and the URL.
#[derive(Debug, Default)]
pub(crate) struct Outgoing<'a> {
    /// More headers, sent (and shown) first.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// A client authenticating with HTTP Basic (RFC 6749 §2.3.1).
    pub(crate) basic: Option<&'a Client>,
    /// A bearer token (RFC 6750 §2.1).
    pub(crate) bearer: Option<&'a str>,
    /// A JSON body.
    pub(crate) json: Option<Value>,
    /// A form body (`client_secret_post` credentials go in it).
    pub(crate) form: Vec<(&'static str, String)>,
    /// One of the lab's servers answers: tag the request and take its record from the trace.
    pub(crate) traced: bool,
}

/// What the server answered, beyond what the step shows.
#[derive(Debug, Default)]
pub(crate) struct Answered {
    pub(crate) status: u16,
    pub(crate) www_authenticate: Option<String>,
    /// The JSON body; of an event stream, the JSON-RPC answer among its messages.
    pub(crate) json: Option<Value>,
    /// `Mcp-Session-Id` (MCP Streamable HTTP), when sent.
    pub(crate) mcp_session: Option<String>,
}

/// The host and the path (with its query) of `url`.
fn host_and_path(url: &str) -> (String, String) {
    let Some((_, rest)) = url.split_once("://") else { return Default::default() };
    match rest.split_once('/') {
        Some((host, path)) => (host.to_owned(), format!("/{path}")),
        None => (rest.to_owned(), "/".to_owned()),
    }
}

/// Sends `method url` with what `out` says; returns what the step shows and what came back.
pub(crate) async fn call(st: &ConsoleState, method: &str, url: &str, out: Outgoing<'_>) -> (StepRecord, Answered) {
    let shown = |k: &str, v: &str| st.trace.shown(k, v);
    let (host, path) = host_and_path(url);
    let mut request = format!("{method} {path} HTTP/1.1\nHost: {host}\n");
    let unanswered = |request, why: String| (StepRecord::unanswered(request, why, "no answer"), Answered::default());
    let http = match st.http.get() {
        Ok(h) => h.clone(),
        Err(e) => return unanswered(request, format!("No answer: {e}")),
    };
    let Ok(m) = reqwest::Method::from_bytes(method.as_bytes()) else {
        return unanswered(request, "No such method".into());
    };
    let mut builder = http.request(m, url);
    let request_id = random_token(12);
    if out.traced {
        builder = builder.header("x-lab-request-id", &request_id);
    }
    for (name, value) in &out.headers {
        builder = builder.header(*name, value);
        request.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(Client { id, secret }) = out.basic {
        let secret = secret.as_deref().unwrap_or("");
        builder = builder.basic_auth(id, Some(secret));
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        request.push_str(&format!("Authorization: {}\n", shown("authorization", &format!("Basic {encoded}"))));
    }
    if let Some(token) = out.bearer {
        builder = builder.bearer_auth(token);
        request.push_str(&format!("Authorization: {}\n", shown("authorization", &format!("Bearer {token}"))));
    }
    if let Some(body) = &out.json {
        builder = builder.json(body);
        let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
        request.push_str(&format!("Content-Type: application/json\n\n{pretty}\n"));
    }
    if !out.form.is_empty() {
        builder = builder.form(&out.form);
        request.push_str("Content-Type: application/x-www-form-urlencoded\n\n");
        let lines: Vec<String> = out.form.iter().map(|(k, v)| format!("{k}={}", shown(k, v))).collect();
        request.push_str(&lines.join("\n&"));
    }
    let resp = match builder.send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() { "no answer within 5 s".to_owned() } else { e.to_string() };
            return unanswered(request, format!("No answer: {why}"));
        }
    };
    let status = resp.status();
    let header = |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header("content-type").unwrap_or_default();
    let event_stream = content_type.starts_with("text/event-stream");
    let headers: Vec<String> = SHOWN_HEADERS.iter().filter_map(|h| header(h).map(|v| format!("{h}: {v}"))).collect();
    let (www_authenticate, mcp_session) = (header("www-authenticate"), header("mcp-session-id"));
    let (body, json) = match read_capped(resp, MAX_ANSWER_BYTES).await {
        Ok(bytes) => match xaa_core::mcp::answer(&content_type, &bytes) {
            Some(v) if !event_stream => {
                (serde_json::to_string_pretty(&st.trace.masked_json(v.clone())).unwrap_or_default(), Some(v))
            }
            v => (String::from_utf8_lossy(&bytes).chars().take(SHOWN_TEXT_CHARS).collect(), v),
        },
        Err(e) => (format!("(body not shown: {e})"), None),
    };
    let reason = status.canonical_reason().unwrap_or("");
    let error = json.as_ref().and_then(|b| b["error"].as_str());
    let event = out.traced.then(|| st.trace.find_request(&request_id)).flatten().map(|e| EventView::from_event(&e));
    let record = StepRecord {
        request,
        response: format!("HTTP/1.1 {} {reason}\n{}\n\n{body}", status.as_u16(), headers.join("\n")),
        ok: status.is_success(),
        status: format!("{} {}", status.as_u16(), error.unwrap_or(reason)),
        error_description: json
            .as_ref()
            .filter(|_| !status.is_success())
            .and_then(|b| b["error_description"].as_str())
            .map(str::to_owned),
        tokens: event.as_ref().map(|e| e.tokens.clone()).unwrap_or_default(),
        checks: event.map(|e| e.checks).unwrap_or_default(),
        ..StepRecord::default()
    };
    (record, Answered { status: status.as_u16(), www_authenticate, json, mcp_session })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_names_the_path_and_its_query() {
        assert_eq!(host_and_path("http://idp:4401/token"), ("idp:4401".into(), "/token".into()));
        assert_eq!(host_and_path("https://rs.example/api/items?x=1"), ("rs.example".into(), "/api/items?x=1".into()));
        assert_eq!(host_and_path("http://rs.example"), ("rs.example".into(), "/".into()));
        assert_eq!(host_and_path("nonsense"), (String::new(), String::new()));
    }
}
