//! The AS's check of a SAML-derived ID-JAG's `sub_id` (draft-04 §3.2): RFC 9493 `saml-nameid`, from
//! the SAML issuer it trusts for the IdP, for the SAML-enabled tenant only.

use reqwest::StatusCode;
use serde_json::{Value, json};
use xaa_core::urn;

use crate::harness::*;
use crate::saml::EMAIL;

/// The AS's check names for the last jwt-bearer grant, a failed one as `✗ name`.
fn last_grant_checks(lab: &TestLab) -> Vec<String> {
    let events = lab.lab.trace_events(&xaa_lab::observe::trace::TraceFilter::default());
    let grant = events.iter().rev().find(|e| e.step == "jwt-bearer" && e.service == "resource-as").unwrap();
    grant.checks.iter().map(|c| if c.passed { c.name.to_owned() } else { format!("✗ {}", c.name) }).collect()
}

/// An ID-JAG as the lab IdP would sign it, with `sub_id` and `tenant` set as given.
fn id_jag_with(lab: &TestLab, sub_id: Value, tenant: Option<&str>) -> String {
    let mut claims = lab.id_jag_claims();
    claims.insert("sub_id".into(), sub_id);
    if let Some(t) = tenant {
        claims.insert("tenant".into(), t.into());
    }
    sign(&lab_keys().idp, urn::TYP_ID_JAG, &claims)
}

#[tokio::test]
async fn the_as_accepts_only_a_trusted_saml_sub_id_for_the_saml_tenant() {
    let lab = TestLab::start().await;
    let good = json!({ "format": "saml-nameid", "issuer": format!("{}/saml", lab.idp()), "nameid": EMAIL });
    let spec = "(draft-ietf-oauth-identity-assertion-authz-grant-04 Section 3.2, Section 3.2.2)";
    let tenant_spec = "(lab decision A19, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 3.2.2)";

    let malformed = id_jag_with(&lab, json!({ "format": "email" }), None);
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&malformed)).await, 400, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "sub_id must be an RFC 9493 subject identifier of format 'saml-nameid' with string members format, issuer and nameid; got {{'format':'email'}} {spec}"
        )
    );
    assert_eq!(last_grant_checks(&lab).last().map(String::as_str), Some("✗ sub_id"));

    let mut untrusted = good.clone();
    untrusted["issuer"] = "https://idp.evil.example/saml".into();
    let jag = id_jag_with(&lab, untrusted, None);
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "sub_id issuer 'https://idp.evil.example/saml' is not a SAML issuer this authorization server trusts for the IdP '{}' {spec}",
            lab.idp()
        )
    );

    let jag = id_jag_with(&lab, good.clone(), Some("customer2"));
    let d = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "SAML-derived grants are accepted only for tenant customer1; this ID-JAG is for tenant 'customer2' {tenant_spec}"
        )
    );

    for tenant in [None, Some("customer1")] {
        let jag = id_jag_with(&lab, good.clone(), tenant);
        assert_eq!(lab.as_token(&lab.bearer_params(&jag)).await.status(), StatusCode::OK, "{tenant:?}");
        assert!(last_grant_checks(&lab).contains(&"sub_id".to_owned()), "the trace shows the sub_id check");
    }
}
