//! The IdP's SAML signatures checked by independent implementations, not by its own verifier:
//! Debian's `xmlsec1` (libxmlsec1, the reference C implementation; `scripts/test.sh` installs it)
//! verifies the metadata, every signed Response and the assertion cut out of it, and refuses a
//! tampered one; the test SP (`saml_sp`, xmlsec1 again for its signatures) refuses a tampered
//! Response. The HTTP-POST binding takes a DEFLATE-compressed AuthnRequest, as some SP libraries
//! send by default.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;

use crate::harness::*;
use crate::saml::{EMAIL, SP_ACS, SP_ENTITY, assertion_xml, saml_login, service_provider};
use crate::xml_signature::{self, ASSERTION, ENTITY_DESCRIPTOR, RESPONSE, xmlsec1_verify};

/// The IdP's SAML signing certificate as PEM, read from its metadata.
async fn certificate_pem(lab: &TestLab) -> String {
    let xml = lab.http.get(format!("{}/saml/metadata", lab.idp())).send().await.unwrap().text().await.unwrap();
    let b64 = xml.split("<ds:X509Certificate>").nth(1).and_then(|s| s.split("</ds:X509Certificate>").next()).unwrap();
    xml_signature::certificate_pem(b64)
}

#[tokio::test]
async fn xmlsec1_verifies_the_metadata_the_response_and_the_assertion_and_refuses_a_tampered_one() {
    let lab = TestLab::start().await;
    let cert = certificate_pem(&lab).await;
    let metadata = lab.http.get(format!("{}/saml/metadata", lab.idp())).send().await.unwrap().text().await.unwrap();
    xmlsec1_verify(&metadata, ENTITY_DESCRIPTOR, &cert).unwrap();

    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let posted = saml_login(&lab, &sp, EMAIL).await;
    let response = String::from_utf8(STANDARD.decode(&posted.saml_response).unwrap()).unwrap();
    let response_signature = response.find("<ds:Signature").unwrap();
    assert!(response_signature < response.find("<saml2:Assertion").unwrap(), "the Response itself is signed");
    xmlsec1_verify(&response, RESPONSE, &cert).unwrap();
    let assertion = assertion_xml(&posted.saml_response);
    xmlsec1_verify(&assertion, ASSERTION, &cert).unwrap();

    let tampered = assertion.replace(EMAIL, "mallory@acme.example");
    let why = xmlsec1_verify(&tampered, ASSERTION, &cert).unwrap_err();
    assert!(why.contains("FAIL"), "{why}");
    let why = xmlsec1_verify(&response.replace(EMAIL, "mallory@acme.example"), RESPONSE, &cert).unwrap_err();
    assert!(why.contains("FAIL"), "{why}");
    // A key other than the IdP's: the signature is refused.
    let other = TestLab::start().await;
    let why = xmlsec1_verify(&assertion, ASSERTION, &certificate_pem(&other).await).unwrap_err();
    assert!(why.contains("FAIL"), "{why}");
}

#[tokio::test]
async fn the_test_sp_refuses_a_tampered_response() {
    let lab = TestLab::start().await;
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let posted = saml_login(&lab, &sp, EMAIL).await;
    sp.parse_base64_response(&posted.saml_response, &[&posted.request_id]).unwrap();
    let response = String::from_utf8(STANDARD.decode(&posted.saml_response).unwrap()).unwrap();
    let tampered = STANDARD.encode(response.replace(EMAIL, "mallory@acme.example"));
    let refused = sp.parse_base64_response(&tampered, &[&posted.request_id]);
    assert!(refused.is_err(), "the test SP accepted a tampered Response");
}

#[tokio::test]
async fn the_post_binding_takes_a_deflated_authn_request() {
    let lab = TestLab::start().await;
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let request = sp.authn_request(&format!("{}/saml/sso", lab.idp()));
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(request.xml.as_bytes()).unwrap();
    let form = [("SAMLRequest", STANDARD.encode(deflate.finish().unwrap()))];
    let resp = lab.browser().post(format!("{}/saml/sso", lab.idp())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<h1>Sign in</h1>"), "the IdP's login page: {html}");
}
