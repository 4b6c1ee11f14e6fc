//! SAML 2.0 subject assertions (draft-04 §4.5, §3.2): a SAML service provider written apart from
//! the IdP (`saml_sp`, its signatures checked by `xmlsec1`) reads the IdP's metadata, sends an
//! AuthnRequest by the HTTP-Redirect binding, signs the user in through the IdP's login pages and
//! validates the posted `SAMLResponse`; its OAuth client then exchanges the assertion for an
//! ID-JAG, redeems it at the AS and calls the todo API.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use xaa_core::urn;

use crate::harness::*;
use crate::saml_sp::{Element, IdpMetadata, NS_DSIG, ServiceProvider};
use crate::xml_signature::{ASSERTION, signature_template, xmlsec1_sign, xmlsec1_verify};

/// The fixture SAML service provider (`fixtures/saml.json`), the SP of `my-requestor`.
pub const SP_ENTITY: &str = "http://localhost:3000/saml/metadata";
pub const SP_ACS: &str = "http://localhost:3000/saml/acs";
pub const EMAIL: &str = "alice@acme.example";

/// What the SP received at its ACS URL.
pub struct Posted {
    /// The form's `action`.
    pub action: String,
    /// `SAMLResponse`, base64.
    pub saml_response: String,
    pub relay_state: String,
    /// The AuthnRequest's ID.
    pub request_id: String,
}

/// The test SP, configured from the IdP's metadata.
pub async fn service_provider(lab: &TestLab, entity_id: &str, acs_url: &str) -> ServiceProvider {
    let resp = lab.http.get(format!("{}/saml/metadata", lab.idp())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let idp = IdpMetadata::parse(&resp.text().await.unwrap()).expect("SAML metadata parses");
    ServiceProvider { entity_id: entity_id.to_owned(), acs_url: acs_url.to_owned(), idp }
}

/// The HTTP-Redirect binding URL of an AuthnRequest from `sp`, and the request's ID.
pub fn authn_request_url(lab: &TestLab, sp: &ServiceProvider, relay_state: &str) -> (String, String) {
    let request = sp.authn_request(&format!("{}/saml/sso", lab.idp()));
    (request.redirect_url(relay_state), request.id)
}

/// Signs `email` in at the IdP's pages for `sp` (HTTP-Redirect binding) in a fresh browser.
pub async fn saml_login(lab: &TestLab, sp: &ServiceProvider, email: &str) -> Posted {
    saml_login_in(lab, &lab.browser(), sp, email).await
}

/// The auto-posting page's form: `action`, `SAMLResponse`, `RelayState`.
fn posted_form(html: &str, request_id: String) -> Posted {
    let action = html.split("action=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
    Posted { action, saml_response: hidden(html, "SAMLResponse"), relay_state: hidden(html, "RelayState"), request_id }
}

/// [`saml_login`] in `browser`.
pub async fn saml_login_in(lab: &TestLab, browser: &reqwest::Client, sp: &ServiceProvider, email: &str) -> Posted {
    let (url, request_id) = authn_request_url(lab, sp, "notes-42");
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Sign in</h1>"), "the IdP's login page: {html}");
    let (login, csrf) = (hidden(&html, "login"), hidden(&html, "csrf"));
    let idp = lab.idp();
    let form = [("login", login.as_str()), ("csrf", csrf.as_str()), ("email", email)];
    let code_page = browser.post(format!("{idp}/login/email")).form(&form).send().await.unwrap();
    assert_eq!(code_page.status(), StatusCode::OK);
    let form = [("login", login.as_str()), ("csrf", csrf.as_str()), ("code", "123456")];
    let done = browser.post(format!("{idp}/login/code")).form(&form).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    posted_form(&done.text().await.unwrap(), request_id)
}

/// The `saml2:Assertion` element of a `SAMLResponse`, as the SP forwards it.
pub fn assertion_xml(saml_response: &str) -> String {
    let xml = String::from_utf8(STANDARD.decode(saml_response).unwrap()).unwrap();
    let start = xml.find("<saml2:Assertion").expect("an assertion");
    let end = xml.find("</saml2:Assertion>").expect("its end") + "</saml2:Assertion>".len();
    xml[start..end].to_owned()
}

/// The token-exchange parameters presenting `subject_token` as a SAML assertion.
pub fn saml_exchange(lab: &TestLab, subject_token: &str) -> Vec<(String, String)> {
    let params = with(&lab.exchange_params("x"), "subject_token", Some(subject_token));
    with(&params, "subject_token_type", Some(urn::TOKEN_TYPE_SAML2))
}

/// Signed in through SAML: the SP's assertion XML.
async fn signed_in(lab: &TestLab) -> String {
    let sp = service_provider(lab, SP_ENTITY, SP_ACS).await;
    assertion_xml(&saml_login(lab, &sp, EMAIL).await.saml_response)
}

/// A new RSA 2048 key and its self-signed certificate with common name `cn`, both PEM.
fn self_signed(cn: &str) -> (Vec<u8>, Vec<u8>) {
    use openssl::{asn1::Asn1Time, bn::BigNum, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut cert = x509::X509Builder::new().unwrap();
    cert.set_version(2).unwrap();
    cert.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap()).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(1).unwrap()).unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    (key.private_key_to_pem_pkcs8().unwrap(), cert.build().to_pem().unwrap())
}

async fn refused(lab: &TestLab, params: &[(String, String)], error: &str) -> String {
    assert_oauth_error(lab.idp_token(params).await, 400, error).await
}

#[tokio::test]
async fn metadata_names_the_idp_its_key_and_its_sso_endpoints() {
    let lab = TestLab::start().await;
    let resp = lab.http.get(format!("{}/saml/metadata", lab.idp())).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/samlmetadata+xml");
    let idp = IdpMetadata::parse(&resp.text().await.unwrap()).unwrap();
    assert_eq!(idp.entity_id, format!("{}/saml", lab.idp()));
    let sso: Vec<(&str, &str)> =
        idp.single_sign_on_services.iter().map(|(binding, location)| (binding.as_str(), location.as_str())).collect();
    let location = format!("{}/saml/sso", lab.idp());
    assert_eq!(
        sso,
        [
            ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", location.as_str()),
            ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", location.as_str())
        ]
    );
    assert_eq!(
        idp.name_id_formats,
        [
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
        ]
    );
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    assert_eq!(sp.idp.signing_certificates.len(), 1, "one signing certificate");
}

#[tokio::test]
async fn a_saml_sign_in_becomes_an_id_jag_an_access_token_and_todos() {
    let lab = TestLab::start().await;
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let posted = saml_login(&lab, &sp, EMAIL).await;
    assert_eq!(posted.action, SP_ACS);
    assert_eq!(posted.relay_state, "notes-42");
    let (url, _) = authn_request_url(&lab, &sp, "");
    let login_page = lab.browser().get(&url).send().await.unwrap().text().await.unwrap();
    assert!(login_page.contains("to continue to <span class=\"app\">Your requestor app</span>"), "{login_page}");
    // The SP validates the response: signature against the metadata's key, audience, recipient,
    // InResponseTo.
    let name_id = sp.parse_base64_response(&posted.saml_response, &[&posted.request_id]).unwrap();
    assert_eq!(name_id.value, EMAIL);
    assert_eq!(name_id.format.as_deref(), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
    assert!(sp.parse_base64_response(&posted.saml_response, &["id-other-request"]).is_err(), "InResponseTo is checked");

    let xml = assertion_xml(&posted.saml_response);
    let resp = lab.idp_token(&saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["issued_token_type"], urn::TOKEN_TYPE_ID_JAG);
    let id_jag = body["access_token"].as_str().unwrap();
    let (header, claims) = decode(id_jag);
    assert_eq!(header["typ"], "oauth-id-jag+jwt");
    assert_eq!(claims["sub"], EMAIL, "the subject of the user's ID tokens");
    assert_eq!(
        claims["sub_id"],
        json!({
            "format": "saml-nameid",
            "issuer": format!("{}/saml", lab.idp()),
            "nameid": EMAIL,
            "nameid_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        })
    );
    assert_eq!(claims["client_id"], RESOURCE_CLIENT);

    let access_token = lab.access_token(id_jag).await;
    let todos = lab.todo_json("/api/todos", &access_token).await;
    assert_eq!(todos["success"], true, "{todos}");
    assert_eq!(todos["count"], 4, "the SAML user has the seed todos");

    // Padded standard base64 is accepted too (lab decision A10).
    let resp = lab.idp_token(&saml_exchange(&lab, &STANDARD.encode(&xml))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_persistent_name_id_is_pairwise_and_the_sub_is_unchanged() {
    let lab = TestLab(
        xaa_lab::testing::TestLab::builder()
            .fixtures(|f| f.saml_service_providers[0].name_id_format = "persistent".into())
            .start()
            .await
            .unwrap(),
    );
    let xml = signed_in(&lab).await;
    let resp = lab.idp_token(&saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], EMAIL);
    let nameid = claims["sub_id"]["nameid"].as_str().unwrap();
    assert_eq!(nameid.len(), 43, "a SHA-256, base64url: {nameid}");
    assert!(!nameid.contains('@'));
    assert_eq!(claims["sub_id"]["nameid_format"], "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent");
}

#[tokio::test]
async fn a_tampered_assertion_fails_its_signature() {
    let lab = TestLab::start().await;
    let xml = signed_in(&lab).await.replace(EMAIL, "mallory@acme.example");
    let d = refused(&lab, &saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml)), "invalid_grant").await;
    assert_eq!(
        d,
        "the assertion's XML signature does not verify with this IdP's SAML signing key (draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3.3)"
    );
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_is_refused() {
    let lab = TestLab::start().await;
    let assertion = signed_in(&lab).await;
    let parsed = Element::parse(&assertion).unwrap();
    // The IdP's signature replaced by a template that xmlsec1 signs with another key, whose
    // self-signed certificate names the IdP.
    let signature = parsed.child(NS_DSIG, "Signature").unwrap().span.clone();
    let id = parsed.attr("ID").unwrap();
    let template =
        format!("{}{}{}", &assertion[..signature.start], signature_template(id), &assertion[signature.end..]);
    let (key, cert) = self_signed(&format!("{}/saml", lab.idp()));
    let xml = xmlsec1_sign(&template, ASSERTION, &key, &cert);
    xmlsec1_verify(&xml, ASSERTION, std::str::from_utf8(&cert).unwrap()).expect("well signed, by the other key");
    let d = refused(&lab, &saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml)), "invalid_grant").await;
    assert_eq!(
        d,
        "the assertion's XML signature does not verify with this IdP's SAML signing key (draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3.3)"
    );
}

#[tokio::test]
async fn an_expired_assertion_is_invalid_grant() {
    let lab = TestLab::start().await;
    let issued = lab.now();
    let xml = signed_in(&lab).await;
    lab.clock.advance(300 + 60);
    let d = refused(&lab, &saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml)), "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "the assertion expired at {} (NotOnOrAfter); the lab clock is at {} (SAML 2.0 Core Section 2.5.1.2)",
            issued + 300,
            issued + 360
        )
    );
    // One second earlier it is still good (the leeway).
    lab.clock.advance(-1);
    assert_eq!(lab.idp_token(&saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml))).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_client_cannot_present_the_sps_assertion() {
    let lab = TestLab::start().await;
    let xml = signed_in(&lab).await;
    let params = with(&saml_exchange(&lab, &URL_SAFE_NO_PAD.encode(&xml)), "client_id", Some(NOTES_CLIENT));
    let params = with(&params, "client_secret", Some(NOTES_SECRET));
    let d = refused(&lab, &params, "invalid_grant").await;
    assert_eq!(
        d,
        format!(
            "the assertion's Audience '{SP_ENTITY}' is the SAML service provider of client '{CLIENT}', not of the authenticated client '{NOTES_CLIENT}' (draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.5)"
        )
    );
}

#[tokio::test]
async fn malformed_subject_tokens_are_invalid_grant() {
    let lab = TestLab::start().await;
    let exchange = |token: &str| saml_exchange(&lab, token);
    let d = refused(&lab, &exchange("not base64!"), "invalid_grant").await;
    assert_eq!(d, "the subject_token is not a base64url-encoded SAML assertion (RFC 8693 Section 3)");
    let d = refused(&lab, &exchange(&URL_SAFE_NO_PAD.encode("<nope/>")), "invalid_grant").await;
    assert_eq!(d, "the subject_token is not a SAML 2.0 Assertion (saml:Assertion element) (RFC 8693 Section 3)");
    let dtd = r#"<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>"#;
    let d = refused(&lab, &exchange(&URL_SAFE_NO_PAD.encode(dtd)), "invalid_grant").await;
    assert_eq!(
        d,
        "the subject_token was refused: the XML document has a DTD, which the IdP never parses (no entity is expanded) (RFC 8693 Section 3)"
    );
    let d = refused(&lab, &exchange(&"A".repeat(32 * 1024 + 1)), "invalid_grant").await;
    assert_eq!(d, "the subject_token is larger than 32 KiB (RFC 8693 Section 3)");
}

#[tokio::test]
async fn a_transient_name_id_registration_is_refused() {
    let started = xaa_lab::testing::TestLab::builder()
        .fixtures(|f| f.saml_service_providers[0].name_id_format = "transient".into())
        .start()
        .await;
    let Err(err) = started else { panic!("the lab must refuse to start") };
    assert_eq!(
        err.to_string(),
        format!(
            "the lab did not start: fixtures: saml.json: SAML service provider \"{SP_ENTITY}\": NameID format \"transient\" is not supported; use \"emailAddress\" or \"persistent\" (a transient NameID cannot identify the same user at the resource)"
        )
    );
}

/// An error page at `/saml/sso`: status 400, HTML with `title` and `message`.
pub async fn sso_page(lab: &TestLab, url: &str, title: &str, message: &str) {
    let resp = lab.browser().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("<h1>{title}</h1>")), "{html}");
    assert!(html.contains(message), "{message} in {html}");
}

#[tokio::test]
async fn sso_mistakes_get_friendly_pages() {
    let lab = TestLab::start().await;
    let sso = format!("{}/saml/sso", lab.idp());
    let unknown = service_provider(&lab, "https://unknown.example/sp", SP_ACS).await;
    let (url, _) = authn_request_url(&lab, &unknown, "");
    let message =
        "No SAML service provider with entityID &#34;https://unknown.example/sp&#34; is registered at this IdP.";
    sso_page(&lab, &url, "Unknown SAML service provider", message).await;
    let elsewhere = service_provider(&lab, SP_ENTITY, "https://attacker.example/acs").await;
    let (url, _) = authn_request_url(&lab, &elsewhere, "");
    let message = "&#34;https://attacker.example/acs&#34; is not the registered Assertion Consumer Service URL";
    sso_page(&lab, &url, "ACS URL not registered", message).await;
    sso_page(&lab, &sso, "Invalid SAML request", "The request has no SAMLRequest parameter.").await;
    sso_page(
        &lab,
        &format!("{sso}?SAMLRequest=%25%25"),
        "Invalid SAML request",
        "The SAMLRequest is not valid base64.",
    )
    .await;
    let not_deflated = STANDARD.encode("<samlp:AuthnRequest/>");
    let url = format!(
        "{sso}?{}",
        form_urlencoded::Serializer::new(String::new()).append_pair("SAMLRequest", &not_deflated).finish()
    );
    sso_page(&lab, &url, "Invalid SAML request", "The SAMLRequest is not DEFLATE-compressed").await;
}

#[tokio::test]
async fn a_signed_in_user_is_answered_at_once_also_by_the_post_binding() {
    let lab = TestLab::start().await;
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let browser = lab.browser();
    saml_login_in(&lab, &browser, &sp, EMAIL).await;
    // HTTP-POST binding (SAML 2.0 Bindings §3.5): base64, not deflated; the session answers it.
    let request = sp.authn_request(&format!("{}/saml/sso", lab.idp()));
    let form = [("SAMLRequest", STANDARD.encode(&request.xml)), ("RelayState", "again".into())];
    let resp = browser.post(format!("{}/saml/sso", lab.idp())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let posted = posted_form(&resp.text().await.unwrap(), request.id.clone());
    assert_eq!((posted.action.as_str(), posted.relay_state.as_str()), (SP_ACS, "again"));
    let name_id = sp.parse_base64_response(&posted.saml_response, &[&request.id]).unwrap();
    assert_eq!(name_id.value, EMAIL);
}

#[tokio::test]
async fn the_saml_key_is_kept_in_the_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let dir = crate::binary::temp_dir("saml-key");
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let certificate = |lab: &TestLab| {
        let lab_url = format!("{}/saml/metadata", lab.idp());
        let http = lab.http.clone();
        async move {
            let xml = http.get(lab_url).send().await.unwrap().text().await.unwrap();
            IdpMetadata::parse(&xml).unwrap().signing_certificates
        }
    };
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    let first = certificate(&lab).await;
    let mode = std::fs::metadata(dir.join("saml-idp.pem")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the SAML private key is the owner's only");
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    assert_eq!(certificate(&lab).await, first, "the same certificate after a restart");
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_console_home_shows_saml_and_the_other_subject_tokens() {
    let lab = TestLab::start().await;
    let html = lab.http.get(lab.console()).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("<a href=\"{}/saml/metadata\">SAML metadata</a>", lab.idp())), "{html}");
    for urn in ["saml2", "refresh_token"] {
        assert!(html.contains(&format!("urn:ietf:params:oauth:token-type:{urn}")), "{urn}");
    }
    assert!(html.contains("<code>offline_access</code>"));
}
