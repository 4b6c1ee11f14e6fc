//! Copyable code for each explorer step, in curl, JavaScript (openid-client), Python and Rust.
//! Secrets and tokens are environment variables, never inlined.

/// The values a snippet needs (no secrets: those are `$CLIENT_SECRET`-style variables).
pub(crate) struct SnippetContext<'a> {
    pub(crate) idp: &'a str,
    pub(crate) authorization_server: &'a str,
    pub(crate) todo_api: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) endpoint: &'a str,
    /// Step 1 asks for `offline_access` (and so gets a refresh token).
    pub(crate) offline: bool,
    /// Step 2's `subject_token_type`: the ID token's or the refresh token's URN.
    pub(crate) subject_token_type: &'a str,
}

/// `(language, code)` for step `n` (1-4).
pub(crate) fn snippets(n: usize, c: &SnippetContext<'_>) -> Vec<(&'static str, String)> {
    let SnippetContext { idp, authorization_server: authz, todo_api: api, redirect_uri, endpoint, offline, .. } = *c;
    let (scope, scope_query) = if offline {
        ("openid email profile offline_access", "openid%20email%20profile%20offline_access")
    } else {
        ("openid email profile", "openid%20email%20profile")
    };
    let subject_type = c.subject_token_type;
    let refresh = subject_type == xaa_core::urn::TOKEN_TYPE_REFRESH_TOKEN;
    let (env, js, py) = if refresh {
        ("$REFRESH_TOKEN", "refreshToken", "refresh_token")
    } else {
        ("$ID_TOKEN", "idToken", "id_token")
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
        2 => vec![
            ("curl", format!(
"curl -s {idp}/token \\
  -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\
  -d requested_token_type=urn:ietf:params:oauth:token-type:id-jag \\
  --data-urlencode audience={authz} \\
  --data-urlencode resource={api} \\
  -d scope='todos.read todos.write' \\
  -d subject_token=\"{env}\" \\
  -d subject_token_type={subject_type} \\
  -d client_id=\"$CLIENT_ID\" -d client_secret=\"$CLIENT_SECRET\"")),
            ("JavaScript", format!(
"const idJag = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {{
  requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
  audience: '{authz}',
  resource: '{api}',
  scope: 'todos.read todos.write',
  subject_token: {js},
  subject_token_type: '{subject_type}',
}});
// idJag.access_token is the ID-JAG; idJag.token_type is 'N_A'")),
            ("Python", format!(
"r = requests.post('{idp}/token', data={{
    'grant_type': 'urn:ietf:params:oauth:grant-type:token-exchange',
    'requested_token_type': 'urn:ietf:params:oauth:token-type:id-jag',
    'audience': '{authz}', 'resource': '{api}', 'scope': 'todos.read todos.write',
    'subject_token': {py}, 'subject_token_type': '{subject_type}',
    'client_id': os.environ['CLIENT_ID'], 'client_secret': os.environ['CLIENT_SECRET'],
}})
id_jag = r.json()['access_token']")),
            ("Rust", format!(
"let id_jag: serde_json::Value = http.post(\"{idp}/token\").form(&[
    (\"grant_type\", \"urn:ietf:params:oauth:grant-type:token-exchange\"),
    (\"requested_token_type\", \"urn:ietf:params:oauth:token-type:id-jag\"),
    (\"audience\", \"{authz}\"), (\"resource\", \"{api}\"), (\"scope\", \"todos.read todos.write\"),
    (\"subject_token\", {py}.as_str()), (\"subject_token_type\", \"{subject_type}\"),
    (\"client_id\", client_id.as_str()), (\"client_secret\", client_secret.as_str()),
]).send().await?.json().await?;")),
        ],
        3 => vec![
            ("curl", format!(
"curl -s {authz}/token \\
  -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\
  -d assertion=\"$ID_JAG\" \\
  -d client_id=\"$RESOURCE_CLIENT_ID\" -d client_secret=\"$RESOURCE_CLIENT_SECRET\"")),
            ("JavaScript", format!(
"const asConfig = await client.discovery(new URL('{authz}'), process.env.RESOURCE_CLIENT_ID, process.env.RESOURCE_CLIENT_SECRET);
const tokens = await client.genericGrantRequest(asConfig, 'urn:ietf:params:oauth:grant-type:jwt-bearer', {{
  assertion: idJag.access_token,
}});
const accessToken = tokens.access_token;")),
            ("Python", format!(
"r = requests.post('{authz}/token', data={{
    'grant_type': 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'assertion': id_jag,
    'client_id': os.environ['RESOURCE_CLIENT_ID'], 'client_secret': os.environ['RESOURCE_CLIENT_SECRET'],
}})
access_token = r.json()['access_token']")),
            ("Rust", format!(
"let token: serde_json::Value = http.post(\"{authz}/token\").form(&[
    (\"grant_type\", \"urn:ietf:params:oauth:grant-type:jwt-bearer\"), (\"assertion\", id_jag.as_str()),
    (\"client_id\", resource_client_id.as_str()), (\"client_secret\", resource_client_secret.as_str()),
]).send().await?.json().await?;")),
        ],
        _ => vec![
            ("curl", format!("curl -s {api}{endpoint} -H \"Authorization: Bearer $ACCESS_TOKEN\"")),
            ("JavaScript", format!(
"const res = await fetch('{api}{endpoint}', {{ headers: {{ Authorization: `Bearer ${{accessToken}}` }} }});
const {{ data }} = await res.json();")),
            ("Python", format!(
"r = requests.get('{api}{endpoint}', headers={{'Authorization': f'Bearer {{access_token}}'}})
todos = r.json()['data']")),
            ("Rust", format!(
"let todos: serde_json::Value = http.get(\"{api}{endpoint}\").bearer_auth(&access_token).send().await?.json().await?;")),
        ],
    }
}
