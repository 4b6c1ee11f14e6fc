//! Steps 2 and 3, the two grants of Cross App Access, as the target's requestor: the token
//! exchange at the IdP (RFC 8693: an ID-JAG for the target's resource, with step 1's ID token or
//! refresh token as the subject token), then the JWT bearer grant at the resource's authorization
//! server (RFC 7523: the ID-JAG for an access token). The explorer checks each successful
//! response's `resource` as every requestor must (post-04 candidate C1): a response naming a
//! resource it did not ask for fails the step, its token is discarded, and the next step cannot
//! run.

use serde_json::Value;
use xaa_core::oauth::{JwtBearerRequest, TokenExchangeRequest};
use xaa_core::resource::{ACCESS_TOKEN_RESPONSE_CHECK_SPEC, EXCHANGE_RESPONSE_CHECK_SPEC, check_response};
use xaa_core::spec::Citation;
use xaa_core::validation::Check;

use super::chain::Chain;
use super::http::{self, Outgoing};
use super::step::{self, Sent, Step, StepRecord};
use super::subject_token::{self, Subject};
use crate::console::ConsoleState;
use crate::console::snippets::Grant;
use crate::console::view::TokenView;

/// Step 2. `subject`: the subject token chosen (`refresh_token`, else the ID token); `target`: the
/// lab's choice of its todo API or its MCP server.
pub(crate) async fn token_exchange(st: &ConsoleState, c: &mut Chain, subject: &str, target: &str) {
    let subject = if c.target.offers_refresh_token() { subject } else { "" };
    let Some(subject_token) = subject_token::choose(c, subject) else { return };
    if let Some(switched) = c.target.switched(target) {
        c.target = switched;
        c.endpoint.clear();
    }
    let resource = c.target.resource(&st.urls);
    let audience = c.target.audience(&st.urls);
    let exchange = TokenExchangeRequest::for_id_jag(
        subject_token,
        c.subject.token_type(),
        audience,
        resource.clone(),
        c.target.scope(),
    );
    let form = c.target.requestor(c.credentials(&st.explorer)).form(&exchange);
    let url = format!("{}/token", st.urls.idp);
    let snippets = step::code(&st.urls, c, Sent::Grant(Grant::TokenExchange, &url, &form));
    let out = Outgoing { form, traced: true, ..Outgoing::default() };
    let (mut record, answered) = http::call(st, "POST", &url, out).await;
    // The IdP decoded the subject token; when it is step 1's ID token, step 1 shows it already.
    let decoded = record.tokens.len();
    record.tokens.retain(|t| c.subject != Subject::IdToken || t.field != "subject_token");
    if record.tokens.len() < decoded {
        record.tokens_shown_before.push("subject_token: the ID token of step 1, decoded there".to_owned());
    }
    c.id_jag = kept_token(resource.as_str(), EXCHANGE_RESPONSE_CHECK_SPEC, &mut record, answered.json.as_ref());
    record.snippets = snippets;
    c.record(Step::TokenExchange, record);
}

/// Step 3: the ID-JAG at the target's token endpoint. A developer's authorization server leaves
/// no record in the trace, so the explorer decodes the access token it issued.
pub(crate) async fn jwt_bearer(st: &ConsoleState, c: &mut Chain) {
    let Some(id_jag) = c.id_jag.clone() else { return };
    let traced = c.target.lab_serves(Step::JwtBearer);
    let form = c.target.as_client(c.credentials(&st.explorer)).form(&JwtBearerRequest::new(id_jag));
    let url = c.target.token_endpoint(&st.urls);
    let snippets = step::code(&st.urls, c, Sent::Grant(Grant::JwtBearer, &url, &form));
    let out = Outgoing { form, traced, ..Outgoing::default() };
    let (mut record, answered) = http::call(st, "POST", &url, out).await;
    if !traced {
        let issued = answered.json.as_ref().and_then(|b| b["access_token"].as_str());
        record.tokens.extend(issued.and_then(|t| TokenView::unverified("access_token", t)));
    }
    c.access_token = kept_token(
        c.target.resource(&st.urls).as_str(),
        ACCESS_TOKEN_RESPONSE_CHECK_SPEC,
        &mut record,
        answered.json.as_ref(),
    );
    record.snippets = snippets;
    c.record(Step::JwtBearer, record);
}

/// The `access_token` of a successful token response `body`, kept only when its `resource`
/// member names no resource but the one asked for; the check is recorded either way, and a
/// failure fails the step.
fn kept_token(resource: &str, spec: Citation, record: &mut StepRecord, body: Option<&Value>) -> Option<String> {
    let body = body.filter(|_| record.ok)?;
    let (passed, detail) = match check_response(body, &[resource]) {
        Ok(found) => (true, found),
        Err(problem) => (false, problem.to_string()),
    };
    if !passed {
        record.ok = false;
        record.status = format!("{}, token discarded: resource not asked for", record.status);
    }
    record.client_checks.push(Check { name: "resource", passed, detail, spec });
    body["access_token"].as_str().filter(|_| passed).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answered() -> StepRecord {
        StepRecord { ok: true, status: "200 OK".into(), ..StepRecord::default() }
    }

    #[test]
    fn a_token_for_the_resource_asked_for_is_kept() {
        let mut record = answered();
        let body = json!({ "access_token": "t", "resource": "http://api" });
        assert_eq!(
            kept_token("http://api", EXCHANGE_RESPONSE_CHECK_SPEC, &mut record, Some(&body)).as_deref(),
            Some("t")
        );
        assert!(record.ok && record.client_checks[0].passed);
        assert_eq!(record.client_checks[0].name, "resource");
        let mut record = answered();
        let unnamed = json!({ "access_token": "t" });
        assert_eq!(
            kept_token("http://api", EXCHANGE_RESPONSE_CHECK_SPEC, &mut record, Some(&unnamed)).as_deref(),
            Some("t"),
            "none named"
        );
    }

    #[test]
    fn a_token_for_another_resource_is_discarded_and_fails_the_step() {
        let mut record = answered();
        let body = json!({ "access_token": "t", "resource": "https://api.not-asked-for.example" });
        assert_eq!(kept_token("http://api", EXCHANGE_RESPONSE_CHECK_SPEC, &mut record, Some(&body)), None);
        assert!(!record.ok && !record.client_checks[0].passed);
        assert_eq!(record.status, "200 OK, token discarded: resource not asked for");
    }

    #[test]
    fn a_refusal_is_not_checked() {
        let mut record = StepRecord { ok: false, status: "400 invalid_grant".into(), ..StepRecord::default() };
        let body = json!({ "error": "invalid_grant" });
        assert_eq!(kept_token("http://api", EXCHANGE_RESPONSE_CHECK_SPEC, &mut record, Some(&body)), None);
        assert!(record.client_checks.is_empty());
    }
}
