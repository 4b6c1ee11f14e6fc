//! Step 4: the call to the target's resource with the access token as a bearer token, one of its
//! REST endpoints or an MCP session ([`mcp`]), as the endpoint picker chose: another choice calls
//! again without signing in again. A developer's server leaves no record in the trace, so against
//! it the explorer decodes the token it sent and, on a refusal, says what their middleware most
//! likely got wrong ([`hints`]).

use super::chain::Chain;
use super::hints::{self, Hint};
use super::http::{self, Answered, Outgoing};
use super::mcp;
use super::step::{self, Step};
use super::target::{ResourceCall, Target};
use crate::console::ConsoleState;
use crate::console::view::TokenView;

/// Step 4 with the picker's `choice`.
pub(crate) async fn call_resource(st: &ConsoleState, c: &mut Chain, choice: &str) {
    let Some(token) = c.access_token.clone() else { return };
    let (chosen, call) = c.target.call(&st.urls, choice);
    let traced = c.target.lab_serves(Step::Call);
    let (mut record, answered) = match &call {
        ResourceCall::Mcp { url, action } => mcp::session(st, url, &token, action, traced).await,
        ResourceCall::Rest { method, url, json, .. } => {
            let out = Outgoing { bearer: Some(&token), json: json.clone(), traced, ..Outgoing::default() };
            http::call(st, method, url, out).await
        }
    };
    let (tokens, hints) = own_reading(&c.target, &token, &answered, st.clock.now());
    record.tokens.extend(tokens);
    record.hints = hints;
    record.snippets = step::code(&st.urls, c, step::Sent::Call(&call));
    c.endpoint = chosen;
    c.record(Step::Call, record);
}

/// What the explorer reads itself from a call the lab does not serve: the `token` it sent,
/// decoded, and the hints for `answered` (`now`: the lab clock). Nothing for the lab's servers,
/// whose record in the trace shows both the token and the checks.
fn own_reading(target: &Target, token: &str, answered: &Answered, now: i64) -> (Vec<TokenView>, Vec<Hint>) {
    match target.app() {
        Some(app) if !target.lab_serves(Step::Call) => (
            TokenView::unverified("Authorization", token).into_iter().collect(),
            hints::of_refusal(token, answered, app, now),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::admin::ResourceApp;

    const NOW: i64 = 1_000_000;

    fn token() -> String {
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let header = part(json!({ "alg": "RS256", "typ": "at+jwt", "kid": "k1" }));
        let claims = part(json!({ "iss": "http://as", "aud": "http://rs", "scope": "items.read", "exp": NOW + 60 }));
        format!("{header}.{claims}.c2ln")
    }

    fn refused(status: u16, www_authenticate: &str) -> Answered {
        Answered { status, www_authenticate: Some(www_authenticate.to_owned()), ..Answered::default() }
    }

    #[test]
    fn a_refusal_by_a_developers_server_gets_hints_and_the_token_decoded() {
        let app = ResourceApp { base_url: "http://rs".into(), issuer: "http://as".into(), ..ResourceApp::default() };
        let target = Target::ResourceApp(Box::new(app));
        let www = r#"Bearer error="insufficient_scope", scope="items.write""#;
        let (tokens, hints) = own_reading(&target, &token(), &refused(403, www), NOW);
        assert_eq!(tokens.len(), 1);
        assert_eq!((tokens[0].field.as_str(), tokens[0].kind.as_str()), ("Authorization", "Access token (RFC 9068)"));
        assert_eq!(hints.iter().map(|h| h.check).collect::<Vec<_>>(), ["scope"]);
        assert!(hints[0].text.starts_with("Missing scope: the endpoint asks for \"items.write\""), "{}", hints[0].text);
        let (_, none) = own_reading(&target, &token(), &Answered { status: 200, ..Answered::default() }, NOW);
        assert!(none.is_empty(), "an answer is not a refusal");
    }

    #[test]
    fn the_lab_s_own_servers_get_no_hints_their_checks_are_in_the_trace() {
        let www = r#"Bearer error="invalid_token", error_description="audience mismatch""#;
        for lab in [Target::TodoApi, Target::McpServer] {
            let (tokens, hints) = own_reading(&lab, &token(), &refused(401, www), NOW);
            assert!(tokens.is_empty() && hints.is_empty(), "{lab:?}");
        }
    }
}
