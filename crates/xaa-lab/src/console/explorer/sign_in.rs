//! Step 1, single sign-on at the IdP as the target's requestor: the browser is sent to the IdP's
//! authorization endpoint (OIDC Core §3.1.2.1 with PKCE S256, RFC 7636; `login_hint` and
//! `prompt=login`, so the IdP's login pages always show), and the code it brings back to the
//! callback is redeemed with the requestor's credentials (HTTP Basic) for an ID token and, when
//! step 1 asked for `offline_access`, a refresh token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use xaa_core::jose::UnverifiedJwt;
use xaa_core::oauth::{AuthorizationCodeRequest, GrantRequest};
use xaa_core::secret::random_token;
use xaa_core::spec::Citation;
use xaa_core::validation::Check;

use super::chain::Chain;
use super::http::{self, Outgoing};
use super::step::{self, Step, StepRecord};
use super::subject_token;
use crate::console::ConsoleState;

/// What the callback checks and sends on: the `state` and `nonce` of the authorization request
/// and its PKCE code verifier.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    state: String,
    nonce: String,
    code_verifier: String,
}

/// The `/authorize` URL at `idp` for `client_id`, asking for `scope` with `login_hint` = `email`
/// and `prompt=login`, with fresh `state`, `nonce` and code verifier.
fn authorization_request(
    idp: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    email: &str,
) -> (String, Pending) {
    let (state, nonce, code_verifier) = (random_token(16), random_token(16), random_token(32));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("login_hint", email)
        .append_pair("prompt", "login")
        .finish();
    (format!("{idp}/authorize?{query}"), Pending { state, nonce, code_verifier })
}

/// A new chain after `previous` (against its target, as its requestor) for `email` (`offline`:
/// the box asking for a refresh token was ticked), holding the authorization request the browser
/// is to be sent to.
pub(crate) fn start(st: &ConsoleState, previous: &Chain, email: &str, offline: bool) -> Chain {
    let target = previous.target.anew();
    let offline = offline && target.offers_refresh_token();
    let scope = subject_token::scope(offline);
    let requestor = target.requestor(previous.credentials(&st.explorer));
    let (authorize, pending) =
        authorization_request(&st.urls.idp, &requestor.id, &target.redirect_uri(&st.urls), scope, email);
    let mut chain = previous.anew(target);
    chain.email = email.to_owned();
    (chain.pending, chain.offline, chain.authorize) = (Some(pending), offline, authorize);
    chain
}

/// The IdP's redirect back to the callback.
#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Callback {
    /// Step 1's record when the IdP redirected back with an error or a foreign `state`.
    fn refused(self) -> StepRecord {
        let why = self
            .error
            .map(|e| format!("error {e}: {}", self.error_description.unwrap_or_default()))
            .unwrap_or_else(|| "an unexpected state".into());
        StepRecord::unanswered(String::new(), format!("The IdP redirected back with {why}"), "refused")
    }
}

/// The browser came back from the IdP: the code is redeemed and step 1 recorded. False when no
/// sign-in was under way.
pub(crate) async fn come_back(st: &ConsoleState, c: &mut Chain, cb: Callback) -> bool {
    let Some(pending) = c.pending.take() else { return false };
    let mut record = if cb.state.as_deref() != Some(pending.state.as_str()) || cb.error.is_some() {
        cb.refused()
    } else {
        let code = cb.code.unwrap_or_default();
        let redirect_uri = c.target.redirect_uri(&st.urls);
        let form = AuthorizationCodeRequest { code, redirect_uri, code_verifier: pending.code_verifier }.to_form();
        let requestor = c.target.requestor(c.credentials(&st.explorer));
        let out = Outgoing { basic: Some(&requestor), form, traced: true, ..Outgoing::default() };
        let (mut record, answered) = http::call(st, "POST", &format!("{}/token", st.urls.idp), out).await;
        record.request = format!(
            "# The browser was sent to the IdP (then signed in on its pages):\nGET {}\n\n# The code it brought back was redeemed:\n{}",
            c.authorize, record.request
        );
        let token = |name: &str| answered.json.as_ref().and_then(|b| b[name].as_str()).map(str::to_owned);
        c.id_token = token("id_token").filter(|id_token| nonce_matches(&mut record, id_token, &pending.nonce));
        c.refresh_token = c.id_token.as_ref().and_then(|_| token("refresh_token"));
        record
    };
    record.snippets = step::code(&st.urls, c, step::Sent::SignIn);
    c.record(Step::SignIn, record);
    true
}

/// OIDC Core §3.1.3.7 step 11: the ID token's `nonce` must be the one the authorization request
/// sent, or the token was issued for another sign-in (a replay) and is discarded. The explorer
/// checks it as a requestor must (the IdP's signature is checked when step 2 presents the token).
fn nonce_matches(record: &mut StepRecord, id_token: &str, sent: &str) -> bool {
    let found = UnverifiedJwt::parse(id_token)
        .ok()
        .and_then(|jwt| jwt.unverified_claims().get("nonce").and_then(serde_json::Value::as_str).map(str::to_owned));
    let passed = found.as_deref() == Some(sent);
    let detail = match &found {
        _ if passed => "the ID token carries the nonce this sign-in sent".to_owned(),
        Some(other) => {
            format!("the ID token carries nonce \"{other}\", not the one this sign-in sent: the token is discarded")
        }
        None => "the ID token carries no nonce, though this sign-in sent one: the token is discarded".to_owned(),
    };
    if !passed {
        record.ok = false;
        record.status = format!("{}, ID token discarded: nonce not the one sent", record.status);
    }
    record.client_checks.push(Check { name: "nonce", passed, detail, spec: NONCE_SPEC });
    passed
}

/// Where the nonce check is specified.
const NONCE_SPEC: Citation = Citation::of(&[xaa_core::spec::OIDC_3_1_3_7]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_the_s256_challenge_of_the_verifier_kept_for_the_callback() {
        let (url, pending) =
            authorization_request("http://idp", "c", "http://console/cb", "openid email", "a@b.example");
        let Pending { state, nonce, code_verifier: verifier } = pending;
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "http://idp/authorize");
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("code_challenge"), Some(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())).as_str()));
        assert_eq!(get("state"), Some(state.as_str()));
        assert!(get("nonce").is_some_and(|n| n == nonce && n.len() >= 16 && n != state), "a fresh nonce, kept");
        assert_eq!(
            (get("scope"), get("login_hint"), get("prompt")),
            (Some("openid email"), Some("a@b.example"), Some("login"))
        );
        assert_eq!((get("client_id"), get("redirect_uri")), (Some("c"), Some("http://console/cb")));
    }

    fn id_token(claims: serde_json::Value) -> String {
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", part(serde_json::json!({ "alg": "RS256", "typ": "JWT" })), part(claims))
    }

    #[test]
    fn an_id_token_with_the_sent_nonce_is_kept() {
        let mut record = StepRecord { ok: true, status: "200 OK".into(), ..StepRecord::default() };
        assert!(nonce_matches(&mut record, &id_token(serde_json::json!({ "nonce": "n-1" })), "n-1"));
        assert!(record.ok && record.client_checks[0].passed);
        assert_eq!(record.client_checks[0].name, "nonce");
    }

    #[test]
    fn an_id_token_with_another_or_no_nonce_is_discarded() {
        let mut record = StepRecord { ok: true, status: "200 OK".into(), ..StepRecord::default() };
        assert!(!nonce_matches(&mut record, &id_token(serde_json::json!({ "nonce": "n-2" })), "n-1"));
        assert!(!record.ok && !record.client_checks[0].passed);
        assert_eq!(record.status, "200 OK, ID token discarded: nonce not the one sent");
        assert_eq!(
            record.client_checks[0].detail,
            "the ID token carries nonce \"n-2\", not the one this sign-in sent: the token is discarded"
        );
        let mut record = StepRecord { ok: true, status: "200 OK".into(), ..StepRecord::default() };
        assert!(!nonce_matches(&mut record, &id_token(serde_json::json!({ "sub": "a" })), "n-1"));
        assert!(record.client_checks[0].detail.starts_with("the ID token carries no nonce"));
    }
}
