//! A `samlp:AuthnRequest` (SAML 2.0 Core §3.4.1) as it reaches `/saml/sso`: the `SAMLRequest`
//! parameter decoded (base64, and raw DEFLATE where the binding or the SP used it), then the
//! few fields the IdP acts on read from the hardened parser.

use std::io::Read;
use xaa_core::spec;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::xml::{self, MAX_XML_BYTES, NS_ASSERTION, NS_PROTOCOL};

/// The largest `SAMLRequest` accepted, in bytes (before any decoding).
const MAX_ENCODED_BYTES: usize = 64 * 1024;

/// What the IdP reads of an AuthnRequest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AuthnRequest {
    /// `ID`: the Response's `InResponseTo`.
    pub(crate) id: String,
    /// `saml:Issuer`: the SP's entityID.
    pub(crate) issuer: Option<String>,
    /// `AssertionConsumerServiceURL`, when the SP names one.
    pub(crate) acs_url: Option<String>,
    /// `ForceAuthn="true"`: sign in again even with a session.
    pub(crate) force_authn: bool,
}

/// Why a `SAMLRequest` was refused: each text is the sentence the IdP's error page shows.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthnRequestError {
    /// Over [`MAX_ENCODED_BYTES`].
    #[error("The SAMLRequest is larger than {} KiB.", MAX_ENCODED_BYTES / 1024)]
    TooLarge,
    /// Not base64.
    #[error("The SAMLRequest is not valid base64.")]
    NotBase64,
    /// The Redirect binding's request does not inflate.
    #[error("The SAMLRequest is not DEFLATE-compressed (HTTP-Redirect binding, {}).", spec::SAML_BINDINGS_3_4_4_1)]
    NotDeflated,
    /// The POST binding's request is neither XML nor inflates.
    #[error(
        "The SAMLRequest is neither XML nor DEFLATE-compressed XML (HTTP-POST binding, {}).",
        spec::SAML_BINDINGS_3_5_4
    )]
    NeitherXmlNorDeflated,
    /// The bytes are not UTF-8.
    #[error("The SAMLRequest is not UTF-8 XML.")]
    NotUtf8,
    /// Too large after inflating, or a DTD.
    #[error("The SAMLRequest was refused: {0}.")]
    Refused(&'static str),
    /// Not a `samlp:AuthnRequest` with an `ID`.
    #[error("The SAMLRequest is not a SAML 2.0 AuthnRequest ({}).", spec::SAML_CORE_3_4_1)]
    NotAnAuthnRequest,
}

/// How the `SAMLRequest` arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// `GET`, query parameter, always DEFLATE-compressed (SAML 2.0 Bindings §3.4.4.1).
    Redirect,
    /// `POST`, form field, plain base64 (Bindings §3.5.4); DEFLATE-compressed too, as some SP
    /// libraries send it by default.
    Post,
}

impl AuthnRequest {
    /// Decodes and reads `SAMLRequest`.
    pub(crate) fn decode(encoded: &str, binding: Binding) -> Result<Self, AuthnRequestError> {
        let xml = decode_xml(encoded, binding)?;
        Self::parse(&xml).ok_or(AuthnRequestError::NotAnAuthnRequest)
    }

    fn parse(text: &str) -> Option<Self> {
        let doc = xml::parse(text)?;
        let root = xml::root_named(&doc, NS_PROTOCOL, "AuthnRequest")?;
        Some(Self {
            id: xml::attr(&doc, root, "ID")?.to_owned(),
            issuer: xml::child_text(&doc, root, NS_ASSERTION, "Issuer").filter(|i| !i.is_empty()),
            acs_url: xml::attr(&doc, root, "AssertionConsumerServiceURL").map(str::to_owned),
            force_authn: matches!(xml::attr(&doc, root, "ForceAuthn"), Some("true" | "1")),
        })
    }
}

/// The AuthnRequest XML from `SAMLRequest`: base64, then raw DEFLATE (always on the Redirect
/// binding; on the POST binding when the decoded bytes are not XML), size-capped at each step.
fn decode_xml(encoded: &str, binding: Binding) -> Result<String, AuthnRequestError> {
    if encoded.len() > MAX_ENCODED_BYTES {
        return Err(AuthnRequestError::TooLarge);
    }
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(compact).map_err(|_| AuthnRequestError::NotBase64)?;
    let plain_xml = binding == Binding::Post && bytes.trim_ascii_start().starts_with(b"<");
    let xml = if plain_xml {
        bytes
    } else {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(bytes.as_slice())
            .take(MAX_XML_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|_| match binding {
                Binding::Redirect => AuthnRequestError::NotDeflated,
                Binding::Post => AuthnRequestError::NeitherXmlNorDeflated,
            })?;
        out
    };
    let xml = String::from_utf8(xml).map_err(|_| AuthnRequestError::NotUtf8)?;
    xml::acceptable(&xml).map_err(AuthnRequestError::Refused)?;
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-1" Version="2.0" IssueInstant="2026-12-07T00:00:00Z" AssertionConsumerServiceURL="http://localhost:3000/saml/acs" ForceAuthn="true"><saml:Issuer>http://localhost:3000/saml/metadata</saml:Issuer></samlp:AuthnRequest>"#;

    fn deflate(xml: &str) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(xml.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn both_bindings_read_the_request_and_post_takes_deflate_too() {
        let expected = AuthnRequest {
            id: "id-1".into(),
            issuer: Some("http://localhost:3000/saml/metadata".into()),
            acs_url: Some("http://localhost:3000/saml/acs".into()),
            force_authn: true,
        };
        let deflated = STANDARD.encode(deflate(REQUEST));
        assert_eq!(AuthnRequest::decode(&deflated, Binding::Redirect).unwrap(), expected);
        assert_eq!(AuthnRequest::decode(&STANDARD.encode(REQUEST), Binding::Post).unwrap(), expected);
        assert_eq!(AuthnRequest::decode(&deflated, Binding::Post).unwrap(), expected);
    }

    #[test]
    fn every_refusal_says_what_is_wrong() {
        let cases = [
            (
                STANDARD.encode(REQUEST),
                Binding::Redirect,
                "The SAMLRequest is not DEFLATE-compressed (HTTP-Redirect binding, SAML 2.0 Bindings §3.4.4.1).",
            ),
            (
                STANDARD.encode("not xml at all"),
                Binding::Post,
                "The SAMLRequest is neither XML nor DEFLATE-compressed XML (HTTP-POST binding, SAML 2.0 Bindings §3.5.4).",
            ),
            ("%%%".into(), Binding::Post, "The SAMLRequest is not valid base64."),
            (STANDARD.encode([b'<', 0xff, 0xfe]), Binding::Post, "The SAMLRequest is not UTF-8 XML."),
            (
                STANDARD.encode(r#"<!DOCTYPE x [<!ENTITY a "b">]><x/>"#),
                Binding::Post,
                "The SAMLRequest was refused: the XML document has a DTD, which the IdP never parses (no entity is expanded).",
            ),
            (
                STANDARD.encode(REQUEST.replace("AuthnRequest", "LogoutRequest")),
                Binding::Post,
                "The SAMLRequest is not a SAML 2.0 AuthnRequest (SAML 2.0 Core §3.4.1).",
            ),
            ("A".repeat(MAX_ENCODED_BYTES + 1), Binding::Post, "The SAMLRequest is larger than 64 KiB."),
        ];
        for (encoded, binding, expected) in cases {
            assert_eq!(AuthnRequest::decode(&encoded, binding).unwrap_err().to_string(), expected, "{binding:?}");
        }
    }
}
