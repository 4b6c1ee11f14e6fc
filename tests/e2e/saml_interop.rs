//! The IdP's SAML signatures checked by independent implementations, not by its own verifier:
//! Debian's `xmlsec1` (libxmlsec1, the reference C implementation; `scripts/test.sh` installs it)
//! verifies the metadata, every signed Response and the assertion cut out of it, and refuses a
//! tampered one; samael's SP (xmlsec under the hood) does the same for a tampered Response. The
//! HTTP-POST binding takes a DEFLATE-compressed AuthnRequest, as some SP libraries send by
//! default.

use std::io::Write;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;

use crate::harness::*;
use crate::saml::{EMAIL, SP_ACS, SP_ENTITY, assertion_xml, saml_login, service_provider};

/// The IdP's SAML signing certificate as PEM, read from its metadata.
async fn certificate_pem(lab: &TestLab) -> String {
    let xml = lab.http.get(format!("{}/saml/metadata", lab.idp())).send().await.unwrap().text().await.unwrap();
    let b64 = xml.split("<ds:X509Certificate>").nth(1).and_then(|s| s.split("</ds:X509Certificate>").next()).unwrap();
    let lines: Vec<String> = b64.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// `xmlsec1 --verify` of `xml` with the key of `cert_pem`, IDs declared on `id_node`
/// (`namespace:Element`): `Ok` when it verifies, `Err(xmlsec1's output)` when not.
fn xmlsec1_verify(xml: &str, id_node: &str, cert_pem: &str) -> Result<(), String> {
    let dir = crate::binary::temp_dir("xmlsec1");
    let (doc, cert) = (dir.join("signed.xml"), dir.join("cert.pem"));
    std::fs::File::create(&doc).unwrap().write_all(xml.as_bytes()).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    let out = Command::new("xmlsec1")
        .args(["--verify", "--enabled-reference-uris", "same-doc", "--id-attr:ID", id_node, "--pubkey-cert-pem"])
        .arg(&cert)
        .arg(&doc)
        .output()
        .expect("xmlsec1 runs (Debian package xmlsec1; scripts/test.sh installs it)");
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() && text.contains("OK") { Ok(()) } else { Err(text) }
}

const RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
const ENTITY_DESCRIPTOR: &str = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor";

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
async fn samaels_sp_refuses_a_tampered_response() {
    let lab = TestLab::start().await;
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let posted = saml_login(&lab, &sp, EMAIL).await;
    sp.parse_base64_response(&posted.saml_response, Some(&[&posted.request_id])).unwrap();
    let response = String::from_utf8(STANDARD.decode(&posted.saml_response).unwrap()).unwrap();
    let tampered = STANDARD.encode(response.replace(EMAIL, "mallory@acme.example"));
    let refused = sp.parse_base64_response(&tampered, Some(&[&posted.request_id]));
    assert!(refused.is_err(), "samael's SP accepted a tampered Response");
}

#[tokio::test]
async fn the_post_binding_takes_a_deflated_authn_request() {
    let lab = TestLab::start().await;
    let sp = service_provider(&lab, SP_ENTITY, SP_ACS).await;
    let request = sp.make_authentication_request(&format!("{}/saml/sso", lab.idp())).unwrap();
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(samael::traits::ToXml::to_string(&request).unwrap().as_bytes()).unwrap();
    let form = [("SAMLRequest", STANDARD.encode(deflate.finish().unwrap()))];
    let resp = lab.browser().post(format!("{}/saml/sso", lab.idp())).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<h1>Sign in</h1>"), "the IdP's login page: {html}");
}
