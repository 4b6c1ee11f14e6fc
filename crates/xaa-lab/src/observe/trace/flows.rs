//! How the trace names a request's XAA step and links requests into flows.

use serde_json::Value;

use super::{Exchange, Inner, SeenToken, TraceEvent};

fn param<'a>(request: &'a [(String, String)], name: &str) -> Option<&'a str> {
    request.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub(super) fn step_of(ex: &Exchange) -> String {
    let path = ex.target.split_once('/').map(|(_, p)| p).unwrap_or("");
    let grant = param(&ex.request, "grant_type").unwrap_or("");
    match (path, grant) {
        (_, xaa_core::urn::GRANT_TOKEN_EXCHANGE) => "token exchange".into(),
        (_, xaa_core::urn::GRANT_JWT_BEARER) => "jwt-bearer".into(),
        (_, "authorization_code") => "code grant".into(),
        (p, _) if p.starts_with("api/") => "todo API".into(),
        ("mcp", _) => "MCP".into(),
        (p, _) if p.starts_with(".well-known/") => "discovery".into(),
        ("jwks", _) => "keys".into(),
        ("authorize", _) | ("login/email", _) | ("login/code", _) => "login".into(),
        ("session/end", _) | ("auth/logout", _) => "logout".into(),
        ("token/introspection", _) => "introspection".into(),
        (p, _) => p.split('/').next().unwrap_or("").to_owned(),
    }
}

/// The client id of a request: the `client_id` parameter, or the user of HTTP Basic.
pub(super) fn request_client(request: &[(String, String)]) -> Option<String> {
    if let Some(id) = param(request, "client_id") {
        return Some(id.to_owned());
    }
    use base64::Engine;
    let basic = param(request, "authorization")?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let id = text.split_once(':')?.0;
    Some(form_urlencoded::parse(format!("x={id}").as_bytes()).next()?.1.into_owned())
}

/// Links the event to a flow: the authorize request and the code grant of one client share a
/// flow; (client, subject) links the code grant, exchanges and API calls; an ID-JAG's `jti` links
/// the exchange that issued it to the jwt-bearer that presents it. Requests that name no client
/// (discovery, keys, pages) go to flow 0, "other requests".
pub(super) fn assign_flow(inner: &mut Inner, e: &mut TraceEvent, request_client: Option<String>) {
    let claim = |t: &SeenToken, name: &str| t.claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let find = |field: &str| e.tokens.iter().find(|t| t.field == field);
    let mut jti = None;
    let (client, subject) = match e.step.as_str() {
        "token exchange" => {
            let id_jag = find("access_token");
            jti = id_jag.and_then(|t| claim(t, "jti"));
            if let (Some(t), Some(c)) = (id_jag, request_client.clone())
                && let Some(rc) = claim(t, "client_id")
            {
                inner.resource_client.insert(rc, c);
            }
            (request_client, find("subject_token").and_then(|t| claim(t, "sub")))
        }
        "jwt-bearer" => {
            let a = find("assertion");
            jti = a.and_then(|t| claim(t, "jti"));
            (a.and_then(|t| claim(t, "client_id")).or(request_client), a.and_then(|t| claim(t, "sub")))
        }
        "code grant" => (request_client, find("id_token").and_then(|t| claim(t, "sub"))),
        "todo API" | "MCP" => {
            let at = find("authorization");
            // The AS names the user `{app_org}:{IdP sub}` (tenants): the IdP's `sub` links the flow.
            let sub = at.and_then(|t| {
                let sub = claim(t, "sub")?;
                let org = claim(t, "app_org").unwrap_or_default();
                Some(sub.strip_prefix(&format!("{org}:")).map(str::to_owned).unwrap_or(sub))
            });
            (at.and_then(|t| claim(t, "client_id")), sub)
        }
        _ => (request_client, None),
    };
    // Resource-AS clients are grouped under their IdP client.
    let party = client.as_ref().map(|c| inner.resource_client.get(c).cloned().unwrap_or_else(|| c.clone()));
    let flow = if let Some(f) = jti.as_ref().and_then(|j| inner.by_jti.get(j).copied()) {
        f
    } else {
        match (&party, &subject) {
            (Some(p), Some(s)) if e.step == "code grant" => {
                let f = inner.pending_login.remove(p).unwrap_or_else(|| new_flow(inner));
                inner.by_party.insert((p.clone(), s.clone()), f);
                f
            }
            (Some(p), Some(s)) => match inner.by_party.get(&(p.clone(), s.clone())) {
                Some(f) => *f,
                None => {
                    let f = new_flow(inner);
                    inner.by_party.insert((p.clone(), s.clone()), f);
                    f
                }
            },
            (Some(p), None) => match inner.pending_login.get(p) {
                Some(f) => *f,
                None => {
                    let f = new_flow(inner);
                    inner.pending_login.insert(p.clone(), f);
                    f
                }
            },
            (None, _) => 0,
        }
    };
    if let Some(j) = jti {
        inner.by_jti.insert(j, flow);
    }
    e.flow = flow;
    e.client_id = client;
    e.subject = subject;
}

fn new_flow(inner: &mut Inner) -> u64 {
    inner.next_flow += 1;
    inner.next_flow - 1
}
