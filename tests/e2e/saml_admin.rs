//! IT registers the SAML service provider of an existing client with the admin API
//! (`PUT /api/admin/clients/{id}/saml`), as xaa.dev's SAML tab does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;
use crate::saml::{
    EMAIL, SP_ENTITY, assertion_xml, authn_request_url, saml_exchange, saml_login, service_provider, sso_page,
};

async fn put_saml(lab: &TestLab, client: &str, body: Value) -> (StatusCode, Value) {
    let resp =
        lab.admin(reqwest::Method::PUT, &format!("/api/admin/clients/{client}/saml")).json(&body).send().await.unwrap();
    (resp.status(), resp.json().await.unwrap())
}

fn api_error(description: &str) -> Value {
    json!({ "error": "invalid_request", "error_description": description })
}

#[tokio::test]
async fn it_registers_a_saml_sp_for_an_existing_client_with_the_admin_api() {
    let lab = TestLab::start().await;
    let notes_sp = "https://notes.example/saml";
    let acs = "https://notes.example/saml/acs";
    let sp_body = |entity: &str, acs: &str, format: &str| json!({ "entity_id": entity, "acs_url": acs, "name_id_format": format });

    let (status, body) = put_saml(&lab, NOTES_CLIENT, sp_body(notes_sp, acs, "transient")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        api_error(&format!(
            "SAML service provider \"{notes_sp}\": NameID format \"transient\" is not supported; use \"emailAddress\" or \"persistent\" (a transient NameID cannot identify the same user at the resource)"
        ))
    );
    let (status, body) = put_saml(&lab, NOTES_CLIENT, sp_body(notes_sp, "javascript:alert(1)", "persistent")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        api_error(&format!(
            "SAML service provider \"{notes_sp}\": the ACS URL \"javascript:alert(1)\" is not an absolute http(s) URL"
        ))
    );
    let taken = format!(
        "SAML service provider \"{SP_ENTITY}\": the entityID is another client's SAML service provider, or this client's SP comes from the fixtures"
    );
    let (status, body) = put_saml(&lab, NOTES_CLIENT, sp_body(SP_ENTITY, acs, "persistent")).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, api_error(&taken)));
    let (status, body) = put_saml(&lab, "no-such-client", sp_body(notes_sp, acs, "persistent")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "error": "not_found", "error_description": "no client \"no-such-client\"" }));

    let (status, body) = put_saml(&lab, NOTES_CLIENT, sp_body(notes_sp, acs, "persistent")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "client_id": NOTES_CLIENT, "entity_id": notes_sp, "acs_url": acs, "name_id_format": "persistent",
            "idp_metadata": format!("{}/saml/metadata", lab.idp()),
        })
    );
    // The SP signs a user in, and its client exchanges the assertion with its own credentials.
    let sp = service_provider(&lab, notes_sp, acs).await;
    let posted = saml_login(&lab, &sp, EMAIL).await;
    assert_eq!(posted.action, acs);
    sp.parse_base64_response(&posted.saml_response, &[&posted.request_id]).unwrap();
    let params = saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(assertion_xml(&posted.saml_response)));
    let params = with(&with(&params, "client_id", Some(NOTES_CLIENT)), "client_secret", Some(NOTES_SECRET));
    let resp = lab.idp_token(&params).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], NOTES_RESOURCE_CLIENT);
    assert_eq!(claims["sub_id"]["nameid_format"], "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent");

    // A reset keeping registrations keeps it; a full reset removes IT's SAML registrations.
    for keep in [true, false] {
        let reset = lab.admin(reqwest::Method::POST, "/api/admin/reset").json(&json!({ "keep_registrations": keep }));
        assert_eq!(reset.send().await.unwrap().status(), StatusCode::OK);
        let (url, _) = authn_request_url(&lab, &sp, "");
        let status = lab.browser().get(&url).send().await.unwrap().status();
        assert_eq!(status, if keep { StatusCode::OK } else { StatusCode::BAD_REQUEST }, "keep_registrations {keep}");
    }
    let (url, _) = authn_request_url(&lab, &sp, "");
    let message = format!("No SAML service provider with entityID &#34;{notes_sp}&#34; is registered at this IdP.");
    sso_page(&lab, &url, "Unknown SAML service provider", &message).await;
}
