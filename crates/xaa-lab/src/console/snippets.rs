//! Copyable code for each explorer step, in curl, JavaScript (openid-client), Python and Rust.
//! Secrets and tokens are environment variables, never inlined.

/// What the sign-in snippet needs (no secrets: those are `$CLIENT_SECRET`-style variables).
pub(crate) struct SnippetContext<'a> {
    pub(crate) idp: &'a str,
    pub(crate) redirect_uri: &'a str,
    /// Step 1 asks for `offline_access` (and so gets a refresh token).
    pub(crate) offline: bool,
}

/// `(language, code)` for step 1, the sign-in (steps 2-4 are written from the request they sent:
/// [`grant`], [`rest_call`]).
pub(crate) fn snippets(n: usize, c: &SnippetContext<'_>) -> Vec<(&'static str, String)> {
    let SnippetContext { idp, redirect_uri, offline, .. } = *c;
    let (scope, scope_query) = if offline {
        ("openid email profile offline_access", "openid%20email%20profile%20offline_access")
    } else {
        ("openid email profile", "openid%20email%20profile")
    };
    match n {
        1 => vec![
            ("curl", format!(
"# 1. Send the browser to (PKCE S256; state and nonce are random per sign-in):
#    {idp}/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri={redirect_uri}&scope={scope_query}&code_challenge=$CODE_CHALLENGE&code_challenge_method=S256&state=$STATE&nonce=$NONCE
# 2. Redeem the code it returns:
curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" {idp}/token \\
  -d grant_type=authorization_code -d code=\"$CODE\" \\
  --data-urlencode redirect_uri={redirect_uri} -d code_verifier=\"$CODE_VERIFIER\"")),
            ("JavaScript", format!(
"import * as client from 'openid-client';

const config = await client.discovery(new URL('{idp}'), process.env.CLIENT_ID, process.env.CLIENT_SECRET);
const codeVerifier = client.randomPKCECodeVerifier();
const url = client.buildAuthorizationUrl(config, {{
  redirect_uri: '{redirect_uri}', scope: '{scope}',
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
}});
// ...the browser signs in and comes back to redirect_uri:
const tokens = await client.authorizationCodeGrant(config, callbackUrl, {{ pkceCodeVerifier: codeVerifier }});
const idToken = tokens.id_token;{}", if offline { "\nconst refreshToken = tokens.refresh_token; // offline_access" } else { "" })),
            ("Python", format!(
"import os, requests

# After the browser came back to {redirect_uri} with ?code=...
r = requests.post('{idp}/token', auth=(os.environ['CLIENT_ID'], os.environ['CLIENT_SECRET']), data={{
    'grant_type': 'authorization_code', 'code': code,
    'redirect_uri': '{redirect_uri}', 'code_verifier': code_verifier,
}})
id_token = r.json()['id_token']{}", if offline { "\nrefresh_token = r.json()['refresh_token']  # offline_access" } else { "" })),
            ("Rust", format!(
"// openidconnect 4: discovery, then the code grant with the PKCE verifier.
let provider = CoreProviderMetadata::discover_async(IssuerUrl::new(\"{idp}\".into())?, &http).await?;
let client = CoreClient::from_provider_metadata(provider, ClientId::new(client_id), Some(ClientSecret::new(secret)))
    .set_redirect_uri(RedirectUrl::new(\"{redirect_uri}\".into())?);
let tokens = client.exchange_code(AuthorizationCode::new(code))?
    .set_pkce_verifier(pkce_verifier).request_async(&http).await?;
let id_token = tokens.id_token().expect(\"an ID token\");{}", if offline { "\nlet refresh_token = tokens.refresh_token().expect(\"a refresh token (offline_access)\");" } else { "" })),
        ],
        _ => Vec::new(),
    }
}

/// Which grant a snippet posts: the names its credentials and tokens go by in the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Step 2, at the IdP, as the requestor's IdP client.
    TokenExchange,
    /// Step 3, at the resource's authorization server, as the requestor's client there.
    JwtBearer,
}

/// How one form value appears in code: as sent, or (a secret or a token) by the name of the
/// variable that holds it, as an environment variable, in JavaScript and in Python/Rust.
enum Shown<'a> {
    Literal(&'a str),
    Variable { env: &'static str, js: &'static str, snake: &'static str },
}

impl Grant {
    fn show<'a>(self, name: &str, value: &'a str, subject_type: &str) -> Shown<'a> {
        let var = |env, js, snake| Shown::Variable { env, js, snake };
        match (self, name) {
            (Self::TokenExchange, "client_id") => var("CLIENT_ID", "process.env.CLIENT_ID", "client_id"),
            (Self::TokenExchange, "client_secret") => {
                var("CLIENT_SECRET", "process.env.CLIENT_SECRET", "client_secret")
            }
            (Self::JwtBearer, "client_id") => {
                var("RESOURCE_CLIENT_ID", "process.env.RESOURCE_CLIENT_ID", "resource_client_id")
            }
            (Self::JwtBearer, "client_secret") => {
                var("RESOURCE_CLIENT_SECRET", "process.env.RESOURCE_CLIENT_SECRET", "resource_client_secret")
            }
            (_, "assertion") => var("ID_JAG", "idJag", "id_jag"),
            (_, "subject_token") => match subject_type {
                xaa_core::urn::TOKEN_TYPE_REFRESH_TOKEN => var("REFRESH_TOKEN", "refreshToken", "refresh_token"),
                xaa_core::urn::TOKEN_TYPE_SAML2 => var("SAML_ASSERTION", "samlAssertion", "saml_assertion"),
                _ => var("ID_TOKEN", "idToken", "id_token"),
            },
            _ => Shown::Literal(value),
        }
    }
}

/// A value as a single-quoted shell or JavaScript/Python string.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "'\\''"))
}

/// Whether curl may send `value` with `-d` as it is (no character a form would encode).
fn form_safe(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:".contains(&b))
}

/// `(language, code)` posting exactly `form` to `url`, the request the step sent: every parameter
/// in its order, secrets and tokens as variables, never inlined.
pub(crate) fn grant(grant: Grant, url: &str, form: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let subject_type = form.iter().find(|(k, _)| *k == "subject_token_type").map_or("", |(_, v)| v.as_str());
    let shown: Vec<(&str, Shown<'_>)> = form.iter().map(|(k, v)| (*k, grant.show(k, v, subject_type))).collect();
    let grant_type = form.iter().find(|(k, _)| *k == "grant_type").map_or("", |(_, v)| v.as_str());

    let mut curl = format!("curl -s {url}");
    for (name, value) in &shown {
        curl.push_str(" \\\n  ");
        curl.push_str(&match value {
            Shown::Literal(v) if form_safe(v) => format!("-d {name}={v}"),
            Shown::Literal(v) => format!("--data-urlencode {}", quoted(&format!("{name}={v}"))),
            Shown::Variable { env, .. } => format!("--data-urlencode \"{name}=${env}\""),
        });
    }

    // openid-client authenticates the client from its configuration: the parameters are the rest.
    let (config, discover) = match grant {
        Grant::TokenExchange => ("config", String::new()),
        Grant::JwtBearer => (
            "asConfig",
            format!(
                "const asConfig = await client.discovery(new URL('{}'), process.env.RESOURCE_CLIENT_ID, process.env.RESOURCE_CLIENT_SECRET);\n",
                url.trim_end_matches("/token")
            ),
        ),
    };
    let js_params: Vec<String> = shown
        .iter()
        .filter(|(k, _)| !matches!(*k, "grant_type" | "client_id" | "client_secret"))
        .map(|(k, v)| match v {
            Shown::Literal(v) => format!("  {k}: {},", quoted(v)),
            Shown::Variable { js, .. } => format!("  {k}: {js},"),
        })
        .collect();
    let js = format!(
        "{discover}const response = await client.genericGrantRequest({config}, {}, {{\n{}\n}});\nconst token = response.access_token; // token_type: response.token_type",
        quoted(grant_type),
        js_params.join("\n")
    );

    let py_params: Vec<String> = shown
        .iter()
        .map(|(k, v)| match v {
            Shown::Literal(v) => format!("    '{k}': {},", quoted(v)),
            Shown::Variable { env, snake, .. } if env.contains("CLIENT") => {
                let _ = snake;
                format!("    '{k}': os.environ['{env}'],")
            }
            Shown::Variable { snake, .. } => format!("    '{k}': {snake},"),
        })
        .collect();
    let python =
        format!("r = requests.post('{url}', data={{\n{}\n}})\ntoken = r.json()['access_token']", py_params.join("\n"));

    let rust_params: Vec<String> = shown
        .iter()
        .map(|(k, v)| match v {
            Shown::Literal(v) => format!("    (\"{k}\", {:?}),", v),
            Shown::Variable { snake, .. } => format!("    (\"{k}\", {snake}.as_str()),"),
        })
        .collect();
    let rust = format!(
        "let response: serde_json::Value = http.post(\"{url}\").form(&[\n{}\n]).send().await?.json().await?;",
        rust_params.join("\n")
    );
    vec![("curl", curl), ("JavaScript", js), ("Python", python), ("Rust", rust)]
}

/// `(language, code)` of the REST call step 4 made: its method, URL and JSON body, with the
/// access token as a variable.
pub(crate) fn rest_call(method: &str, url: &str, json: Option<&serde_json::Value>) -> Vec<(&'static str, String)> {
    let body = json.map(serde_json::Value::to_string);
    let curl = match &body {
        Some(b) => format!(
            "curl -s -X {method} {url} -H \"Authorization: Bearer $ACCESS_TOKEN\" \\\n  -H 'Content-Type: application/json' -d {}",
            quoted(b)
        ),
        None if method == "GET" => format!("curl -s {url} -H \"Authorization: Bearer $ACCESS_TOKEN\""),
        None => format!("curl -s -X {method} {url} -H \"Authorization: Bearer $ACCESS_TOKEN\""),
    };
    let js_body = body.as_ref().map_or(String::new(), |b| {
        format!(",\n  body: JSON.stringify({b}),\n  headers: {{ Authorization: `Bearer ${{accessToken}}`, 'Content-Type': 'application/json' }}")
    });
    let js_headers =
        if body.is_some() { String::new() } else { ", headers: { Authorization: `Bearer ${accessToken}` }".to_owned() };
    let js = format!(
        "const res = await fetch('{url}', {{ method: '{method}'{js_headers}{js_body} }});\nconst answer = await res.json();"
    );
    let py_body = body.as_ref().map_or(String::new(), |b| format!(", json={b}"));
    let python = format!(
        "r = requests.request('{method}', '{url}', headers={{'Authorization': f'Bearer {{access_token}}'}}{py_body})\nanswer = r.json()"
    );
    let rust_body = body.as_ref().map_or(String::new(), |b| format!("\n    .json(&serde_json::json!({b}))"));
    let rust = format!(
        "let answer: serde_json::Value = http.request(reqwest::Method::{method}, \"{url}\")\n    .bearer_auth(&access_token){rust_body}\n    .send().await?.json().await?;"
    );
    vec![("curl", curl), ("JavaScript", js), ("Python", python), ("Rust", rust)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange_form(resource: &str, scope: &str, subject_type: &str) -> Vec<(&'static str, String)> {
        vec![
            ("grant_type", xaa_core::urn::GRANT_TOKEN_EXCHANGE.to_owned()),
            ("requested_token_type", xaa_core::urn::TOKEN_TYPE_ID_JAG.to_owned()),
            ("audience", "http://localhost:4402".to_owned()),
            ("resource", resource.to_owned()),
            ("scope", scope.to_owned()),
            ("subject_token", "eyJ-the-real-token".to_owned()),
            ("subject_token_type", subject_type.to_owned()),
            ("client_id", "lab-explorer".to_owned()),
            ("client_secret", "s3cret".to_owned()),
        ]
    }

    #[test]
    fn every_snippet_of_an_mcp_refresh_token_exchange_names_what_was_sent() {
        let form = exchange_form("http://localhost:4403/mcp", "mcp.access", xaa_core::urn::TOKEN_TYPE_REFRESH_TOKEN);
        for (language, code) in grant(Grant::TokenExchange, "http://localhost:4401/token", &form) {
            assert!(code.contains("http://localhost:4403/mcp") && code.contains("mcp.access"), "{language}: {code}");
            assert!(!code.contains("todos.read") && !code.contains("localhost:4403'"), "{language}: {code}");
            assert!(code.contains("refresh") || code.contains("REFRESH"), "{language}: {code}");
            assert!(!code.contains("eyJ-the-real-token") && !code.contains("s3cret"), "{language} inlines a secret");
        }
    }

    #[test]
    fn the_curl_of_a_grant_is_exactly_its_form() {
        let form = exchange_form("http://localhost:4403", "todos.read todos.write", xaa_core::urn::TOKEN_TYPE_ID_TOKEN);
        let curl = &grant(Grant::TokenExchange, "http://localhost:4401/token", &form)[0].1;
        insta::assert_snapshot!(curl, @r#"
        curl -s http://localhost:4401/token \
          -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
          -d requested_token_type=urn:ietf:params:oauth:token-type:id-jag \
          --data-urlencode 'audience=http://localhost:4402' \
          --data-urlencode 'resource=http://localhost:4403' \
          --data-urlencode 'scope=todos.read todos.write' \
          --data-urlencode "subject_token=$ID_TOKEN" \
          -d subject_token_type=urn:ietf:params:oauth:token-type:id_token \
          --data-urlencode "client_id=$CLIENT_ID" \
          --data-urlencode "client_secret=$CLIENT_SECRET"
        "#);
    }

    #[test]
    fn a_rest_call_shows_its_method_and_body() {
        let body = serde_json::json!({ "title": "Buy milk" });
        let code = rest_call("POST", "http://localhost:4403/api/todos", Some(&body));
        for (language, code) in &code {
            assert!(code.contains("POST") && code.contains("Buy milk"), "{language}: {code}");
        }
        assert_eq!(
            rest_call("GET", "http://api/x", None)[0].1,
            "curl -s http://api/x -H \"Authorization: Bearer $ACCESS_TOKEN\""
        );
    }
}
