//! What the "Test your resource app" wizard sends, and its checks: every refusal says what to
//! change. URLs are kept exactly as entered (only surrounding blanks go): the base URL is the
//! resource identifier, and a trailing slash in it is part of the access token's `aud`.

use xaa_core::oauth::{MAX_CLIENT_NAME_CHARS, MAX_LIST_MEMBERS, MAX_URI_BYTES};

use super::AdminError;

/// Methods step 4 can call.
pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A resource app to register (the wizard's five steps).
#[derive(Clone, Debug, Default)]
pub(crate) struct NewResourceApp {
    pub(crate) name: String,
    pub(crate) base_url: String,
    pub(crate) health_path: String,
    /// What the health check found.
    pub(crate) health: String,
    /// The developer's own authorization server; `None`: the lab's.
    pub(crate) own_as: Option<OwnAs>,
    pub(crate) scopes: Vec<String>,
    /// `METHOD /path`, one per call.
    pub(crate) endpoints: Vec<String>,
    pub(crate) mcp_url: String,
    pub(crate) mcp_resources: Vec<String>,
}

/// The developer's own authorization server, as discovered.
#[derive(Clone, Debug, Default)]
pub(crate) struct OwnAs {
    pub(crate) issuer: String,
    pub(crate) token_endpoint: String,
    pub(crate) token_endpoint_source: String,
    pub(crate) jwks_uri: String,
    /// The `client_id` it expects in the ID-JAG (and at its token endpoint).
    pub(crate) target_client_id: String,
    /// Its client secret for that client (may be empty).
    pub(crate) client_secret: String,
}

/// Whether `url` is an absolute `http`/`https` URL with a host and no query or fragment.
pub(crate) fn check_url(what: &str, url: &str) -> Result<(), AdminError> {
    let bad = || {
        AdminError::new(format!(
            "{what} \"{url}\" is not an absolute http or https URL without query or fragment (for example http://localhost:5000)"
        ))
    };
    if url.len() > MAX_URI_BYTES {
        return Err(AdminError::new(format!("{what} is longer than {MAX_URI_BYTES} bytes")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && !url.chars().any(char::is_whitespace);
    if ok { Ok(()) } else { Err(bad()) }
}

/// A scope token as RFC 6749 §3.3 defines it.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

fn at_most(what: &str, n: usize) -> Result<(), AdminError> {
    if n > MAX_LIST_MEMBERS {
        return Err(AdminError::new(format!("{what}: {n} given; at most {MAX_LIST_MEMBERS}")));
    }
    Ok(())
}

/// `METHOD /path` with a known method (any case) and a path, normalised to an upper-case method.
pub(crate) fn parse_endpoint(line: &str) -> Option<String> {
    let (method, path) = line.trim().split_once(char::is_whitespace)?;
    let method = method.to_ascii_uppercase();
    let path = path.trim();
    let ok = METHODS.contains(&method.as_str())
        && path.starts_with('/')
        && !path.contains(char::is_whitespace)
        && path.len() <= MAX_URI_BYTES
        && !path.contains('#');
    ok.then(|| format!("{method} {path}"))
}

/// Checks a request and returns it cleaned (blanks trimmed, the health path defaulted).
pub(crate) fn check(mut r: NewResourceApp) -> Result<NewResourceApp, AdminError> {
    r.name = r.name.trim().to_owned();
    if r.name.is_empty() || r.name.chars().count() > MAX_CLIENT_NAME_CHARS {
        return Err(AdminError::new(format!("the name must have 1 to {MAX_CLIENT_NAME_CHARS} characters")));
    }
    r.base_url = r.base_url.trim().to_owned();
    check_url("the base URL", &r.base_url)?;
    r.health_path = match r.health_path.trim() {
        "" => "/health".to_owned(),
        p if p.starts_with('/') && !p.contains(char::is_whitespace) && p.len() <= MAX_URI_BYTES => p.to_owned(),
        p => return Err(AdminError::new(format!("the health path \"{p}\" must start with / (for example /health)"))),
    };
    if let Some(own) = &mut r.own_as {
        own.issuer = own.issuer.trim().to_owned();
        check_url("the issuer", &own.issuer)?;
        own.target_client_id = own.target_client_id.trim().to_owned();
        let id = &own.target_client_id;
        if id.is_empty() || id.len() > 255 || !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(AdminError::new(
                "the target client id (the client_id your authorization server expects in the ID-JAG) must have 1 to 255 visible ASCII characters",
            ));
        }
        own.client_secret = own.client_secret.trim().to_owned();
    }
    at_most("scopes", r.scopes.len())?;
    if r.scopes.is_empty() {
        return Err(AdminError::new("name at least one scope your resource checks (for example todos.read)"));
    }
    if let Some(bad) = r.scopes.iter().find(|s| !is_scope_token(s)) {
        return Err(AdminError::new(format!("\"{bad}\" is not a scope token ({})", xaa_core::spec::RFC6749_3_3)));
    }
    at_most("endpoints", r.endpoints.len())?;
    if r.endpoints.is_empty() {
        return Err(AdminError::new(
            "name at least one endpoint to call, as METHOD /path (for example GET /api/items)",
        ));
    }
    let mut endpoints = Vec::new();
    for line in &r.endpoints {
        let e = parse_endpoint(line).ok_or_else(|| {
            AdminError::new(format!(
                "endpoint \"{}\" is not METHOD /path (methods: {})",
                line.trim(),
                METHODS.join(", ")
            ))
        })?;
        if !endpoints.contains(&e) {
            endpoints.push(e);
        }
    }
    r.endpoints = endpoints;
    r.mcp_url = r.mcp_url.trim().to_owned();
    if !r.mcp_url.is_empty() {
        check_url("the MCP server URL", &r.mcp_url)?;
    } else if !r.mcp_resources.is_empty() {
        return Err(AdminError::new("MCP resource URIs need the MCP server URL"));
    }
    at_most("MCP resource URIs", r.mcp_resources.len())?;
    if let Some(bad) = r.mcp_resources.iter().find(|u| !u.contains(':') || u.contains(char::is_whitespace)) {
        return Err(AdminError::new(format!("\"{bad}\" is not a URI (for example todo://items)")));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> NewResourceApp {
        NewResourceApp {
            name: " My API ".into(),
            base_url: " http://localhost:5000/ ".into(),
            scopes: vec!["items.read".into()],
            endpoints: vec!["get /api/items".into(), "GET /api/items".into()],
            ..NewResourceApp::default()
        }
    }

    #[test]
    fn keeps_the_base_url_as_typed_and_cleans_the_rest() {
        let r = check(valid()).unwrap();
        assert_eq!(r.name, "My API");
        assert_eq!(r.base_url, "http://localhost:5000/", "the trailing slash stays");
        assert_eq!(r.health_path, "/health");
        assert_eq!(r.endpoints, ["GET /api/items"]);
    }

    #[test]
    fn refuses_what_cannot_work() {
        let refused = |edit: fn(&mut NewResourceApp)| {
            let mut r = valid();
            edit(&mut r);
            check(r).unwrap_err().to_string()
        };
        assert!(refused(|r| r.base_url = "localhost:5000".into()).starts_with("the base URL \"localhost:5000\""));
        assert!(refused(|r| r.base_url = "http://x.example/?a=1".into()).contains("without query"));
        assert!(refused(|r| r.scopes = vec!["a\"b".into()]).contains("not a scope token"));
        assert!(refused(|r| r.endpoints = vec!["FETCH /x".into()]).starts_with("endpoint \"FETCH /x\""));
        assert!(refused(|r| r.endpoints = vec!["GET x".into()]).starts_with("endpoint \"GET x\""));
        assert!(refused(|r| r.health_path = "health".into()).contains("must start with /"));
        assert!(refused(|r| r.mcp_resources = vec!["todo://a".into()]).contains("need the MCP server URL"));
        assert!(
            refused(|r| r.own_as = Some(OwnAs { issuer: "https://as.example".into(), ..OwnAs::default() }))
                .starts_with("the target client id")
        );
    }
}
