//! Enveloped XML signatures (XML Signature Syntax and Processing 1.1, W3C 2013) in the one
//! profile SAML identity providers use (SAML 2.0 Core §5.4): the signed element is the document
//! element, referenced by its `ID`; the transforms are enveloped-signature then Exclusive XML
//! Canonicalization 1.0 (W3C 2002); the digest is SHA-256 and the signature RSA-SHA256
//! (RFC 6931 §2.3.2).
//!
//! Canonicalization comes from `bergshamra-c14n` (pure Rust, maintained, the W3C test suites);
//! this module only builds and checks the `ds:Signature` element around it, with the RSA key
//! the IdP already has (OpenSSL, through the `openssl` crate josekit links anyway).
//!
//! Verification accepts this profile and nothing else, which is what keeps it small and closes
//! the classic holes: the reference must be the document element itself (no signature
//! wrapping: what is read afterwards is what was digested), the `ds:Signature` must be its
//! direct child, every algorithm must be the one above (no SHA-1, no HMAC, no XPath or XSLT
//! transforms), and the key is the IdP's own: `ds:KeyInfo` is never trusted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bergshamra_c14n::C14nMode;
use bergshamra_xml::nodeset::NodeSet;
use openssl::hash::MessageDigest;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use uppsala::{Document, NodeId};

use super::xml::{self, NS_DSIG};

/// Exclusive XML Canonicalization 1.0, without comments.
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform (XML-DSig §6.6.4).
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6931 §2.3.2).
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 (XML Encryption §5.7.2).
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// Why a document could not be signed, or its signature does not verify.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignatureError {
    /// The document is not XML the IdP parses.
    #[error("the document is not well-formed XML without a DTD")]
    NotXml,
    /// Signing: the document element has no `ID` or no child element.
    #[error("the document element has no ID attribute or no child element to place the signature by")]
    NotSignable,
    /// The document element has no `ds:Signature` child.
    #[error("the document element is not signed (no ds:Signature child)")]
    Unsigned,
    /// The `ds:Signature` is not of this profile: another algorithm, transform, reference or shape.
    #[error("the signature is not an enveloped RSA-SHA256 signature of the document element: {0}")]
    Profile(&'static str),
    /// The canonical document element does not hash to the `ds:DigestValue`.
    #[error("the signed element was changed after signing (its SHA-256 digest differs)")]
    Digest,
    /// The `ds:SignatureValue` does not verify with the key.
    #[error("the signature value does not verify with the key")]
    SignatureValue,
    /// Canonicalization failed.
    #[error("canonicalization failed: {0}")]
    Canonicalization(#[source] bergshamra_core::Error),
    /// The RSA operation failed.
    #[error("the RSA operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// Signs the document element of `xml` with `key`: computes the enveloped signature and inserts
/// it where SAML's schemas put `ds:Signature`: right after a leading `saml:Issuer` (protocol
/// messages and assertions), else as the first child (metadata), with
/// `cert_base64` (the DER certificate, base64) in its `ds:KeyInfo`. Returns the signed document.
pub(crate) fn sign(xml: &str, key: &PKeyRef<Private>, cert_base64: &str) -> Result<String, SignatureError> {
    let doc = xml::parse(xml).ok_or(SignatureError::NotXml)?;
    let root = doc.document_element().ok_or(SignatureError::NotXml)?;
    let id = xml::attr(&doc, root, "ID").ok_or(SignatureError::NotSignable)?;
    let first = doc.children(root).into_iter().find(|c| doc.element(*c).is_some());
    let issuer = first.filter(|c| doc.element(*c).is_some_and(|e| e.matches_name_ns(xml::NS_ASSERTION, "Issuer")));
    let insert_at = match (issuer, first) {
        (Some(issuer), _) => doc.node_range(issuer).map(|r| r.end),
        (None, Some(first)) => doc.node_range(first).map(|r| r.start),
        (None, None) => None,
    }
    .ok_or(SignatureError::NotSignable)?;

    let digest = STANDARD.encode(sha256(&canonical_element(&doc, root, None)?));
    let signed_info = format!(
        concat!(
            r#"<ds:CanonicalizationMethod Algorithm="{c14n}"/><ds:SignatureMethod Algorithm="{rsa}"/>"#,
            r##"<ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="{env}"/>"##,
            r#"<ds:Transform Algorithm="{c14n}"/></ds:Transforms><ds:DigestMethod Algorithm="{sha}"/>"#,
            r#"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"#
        ),
        c14n = EXC_C14N,
        rsa = RSA_SHA256,
        env = ENVELOPED,
        sha = SHA256,
        id = xml::escape(id),
        digest = digest,
    );
    // Exclusive canonicalization renders only the namespaces an element uses, so SignedInfo's
    // canonical form is the same standing alone as inside the Signature.
    let standalone = format!(r#"<ds:SignedInfo xmlns:ds="{NS_DSIG}">{signed_info}</ds:SignedInfo>"#);
    let standalone_doc = xml::parse(&standalone).ok_or(SignatureError::NotXml)?;
    let standalone_root = standalone_doc.document_element().ok_or(SignatureError::NotXml)?;
    let canonical_signed_info = canonical_element(&standalone_doc, standalone_root, None)?;
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), key)?;
    signer.update(&canonical_signed_info)?;
    let value = STANDARD.encode(signer.sign_to_vec()?);
    let signature = format!(
        concat!(
            r#"<ds:Signature xmlns:ds="{ns}"><ds:SignedInfo>{signed_info}</ds:SignedInfo>"#,
            r#"<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>"#,
            r#"<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"#
        ),
        ns = NS_DSIG,
        signed_info = signed_info,
        value = value,
        cert = cert_base64,
    );
    Ok(format!("{}{signature}{}", &xml[..insert_at], &xml[insert_at..]))
}

/// Verifies that the document element of `doc` carries a valid enveloped signature of this
/// profile made with `key`. On `Ok`, everything under the document element except the
/// `ds:Signature` itself is exactly what was signed.
pub(crate) fn verify<T: HasPublic>(doc: &Document<'_>, key: &PKey<T>) -> Result<(), SignatureError> {
    let root = doc.document_element().ok_or(SignatureError::NotXml)?;
    let signature = match doc.child_elements_by_name_ns(root, NS_DSIG, "Signature").as_slice() {
        [] => return Err(SignatureError::Unsigned),
        [one] => *one,
        _ => return Err(SignatureError::Profile("more than one ds:Signature")),
    };
    let signed_info = xml::only_child(doc, signature, NS_DSIG, "SignedInfo")
        .ok_or(SignatureError::Profile("no single ds:SignedInfo"))?;
    let algorithm = |parent: NodeId, local: &str| {
        xml::only_child(doc, parent, NS_DSIG, local).and_then(|id| xml::attr(doc, id, "Algorithm"))
    };
    if algorithm(signed_info, "CanonicalizationMethod") != Some(EXC_C14N) {
        return Err(SignatureError::Profile("SignedInfo is not canonicalized with exclusive C14N 1.0"));
    }
    if algorithm(signed_info, "SignatureMethod") != Some(RSA_SHA256) {
        return Err(SignatureError::Profile("the signature method is not RSA-SHA256"));
    }
    let reference = xml::only_child(doc, signed_info, NS_DSIG, "Reference")
        .ok_or(SignatureError::Profile("not exactly one ds:Reference"))?;
    let root_id = xml::attr(doc, root, "ID").ok_or(SignatureError::Profile("the document element has no ID"))?;
    if xml::attr(doc, reference, "URI").and_then(|u| u.strip_prefix('#')) != Some(root_id) {
        return Err(SignatureError::Profile("the reference is not the document element"));
    }
    let transforms = xml::only_child(doc, reference, NS_DSIG, "Transforms")
        .map(|t| doc.child_elements_by_name_ns(t, NS_DSIG, "Transform"))
        .unwrap_or_default();
    let transforms: Vec<Option<&str>> = transforms.iter().map(|t| xml::attr(doc, *t, "Algorithm")).collect();
    if transforms != [Some(ENVELOPED), Some(EXC_C14N)] {
        return Err(SignatureError::Profile("the transforms are not enveloped-signature then exclusive C14N 1.0"));
    }
    if algorithm(reference, "DigestMethod") != Some(SHA256) {
        return Err(SignatureError::Profile("the digest method is not SHA-256"));
    }
    let decode = |parent: NodeId, local: &str| {
        let text = xml::child_text(doc, parent, NS_DSIG, local)?;
        STANDARD.decode(text.split_ascii_whitespace().collect::<String>()).ok()
    };
    let digest = decode(reference, "DigestValue").ok_or(SignatureError::Profile("no base64 ds:DigestValue"))?;
    let value = decode(signature, "SignatureValue").ok_or(SignatureError::Profile("no base64 ds:SignatureValue"))?;

    let computed = sha256(&canonical_element(doc, root, Some(signature))?);
    if digest.len() != computed.len() || !openssl::memcmp::eq(&computed, &digest) {
        return Err(SignatureError::Digest);
    }
    let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), key)?;
    verifier.update(&canonical_element(doc, signed_info, None)?)?;
    if !verifier.verify(&value).unwrap_or(false) {
        return Err(SignatureError::SignatureValue);
    }
    Ok(())
}

/// The exclusive canonical form (no comments) of the subtree at `element`, without the subtree
/// at `except` (the enveloped-signature transform).
fn canonical_element(doc: &Document<'_>, element: NodeId, except: Option<NodeId>) -> Result<Vec<u8>, SignatureError> {
    let mut nodes = NodeSet::tree_without_comments(element, doc);
    if let Some(except) = except {
        nodes = nodes.subtract(&NodeSet::tree_with_comments(except, doc));
    }
    bergshamra_c14n::canonicalize_doc(doc, C14nMode::Exclusive, Some(&nodes), &[] as &[&str])
        .map_err(SignatureError::Canonicalization)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_key() -> PKey<Private> {
        PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap()
    }

    fn assertion() -> String {
        format!(
            r#"<saml2:Assertion xmlns:saml2="{}" ID="_a1" Version="2.0"><saml2:Issuer>http://idp/saml</saml2:Issuer><saml2:Subject><saml2:NameID>alice@acme.example</saml2:NameID></saml2:Subject></saml2:Assertion>"#,
            xml::NS_ASSERTION
        )
    }

    fn verify_text(xml: &str, key: &PKey<Private>) -> Result<(), String> {
        let doc = xml::parse(xml).ok_or("not XML")?;
        verify(&doc, key).map_err(|e| e.to_string())
    }

    #[test]
    fn a_signed_element_verifies_and_its_signature_follows_the_issuer() {
        let key = fresh_key();
        let signed = sign(&assertion(), &key, "MIIC").unwrap();
        assert!(signed.contains("</saml2:Issuer><ds:Signature xmlns:ds="), "{signed}");
        verify_text(&signed, &key).unwrap();
    }

    #[test]
    fn every_change_and_every_other_key_is_refused() {
        let key = fresh_key();
        let signed = sign(&assertion(), &key, "MIIC").unwrap();
        let cases = [
            (
                signed.replace("alice@", "mallory@"),
                "the signed element was changed after signing (its SHA-256 digest differs)",
            ),
            (
                signed.replace(r#"ID="_a1""#, r#"ID="_a2""#),
                "the signature is not an enveloped RSA-SHA256 signature of the document element: the reference is not the document element",
            ),
            (
                signed.replace(RSA_SHA256, "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
                "the signature is not an enveloped RSA-SHA256 signature of the document element: the signature method is not RSA-SHA256",
            ),
            (
                signed.replace(&format!(r#"<ds:Transform Algorithm="{ENVELOPED}"/>"#), ""),
                "the signature is not an enveloped RSA-SHA256 signature of the document element: the transforms are not enveloped-signature then exclusive C14N 1.0",
            ),
            (assertion(), "the document element is not signed (no ds:Signature child)"),
        ];
        for (xml, expected) in cases {
            assert_eq!(verify_text(&xml, &key).unwrap_err(), expected);
        }
        assert_eq!(verify_text(&signed, &fresh_key()).unwrap_err(), "the signature value does not verify with the key");
    }

    #[test]
    fn a_wrapped_copy_of_a_signed_element_does_not_verify() {
        // Signature wrapping: the signed original moved under a forged document element.
        let key = fresh_key();
        let signed = sign(&assertion(), &key, "MIIC").unwrap();
        let forged = format!(
            r#"<saml2:Assertion xmlns:saml2="{}" ID="_evil"><saml2:Issuer>http://idp/saml</saml2:Issuer><saml2:Advice>{signed}</saml2:Advice></saml2:Assertion>"#,
            xml::NS_ASSERTION
        );
        assert_eq!(
            verify_text(&forged, &key).unwrap_err(),
            "the document element is not signed (no ds:Signature child)"
        );
    }

    #[test]
    fn a_signed_assertion_inside_a_signed_response_verifies_alone_and_the_response_too() {
        // The SP forwards the assertion cut out of the Response: exclusive canonicalization makes
        // it independent of the namespaces the Response declares around it.
        let key = fresh_key();
        let assertion = sign(&assertion(), &key, "MIIC").unwrap();
        let response = format!(
            r#"<saml2p:Response xmlns:saml2p="{}" xmlns:saml2="{}" ID="_r1" Version="2.0"><saml2:Issuer>http://idp/saml</saml2:Issuer>{assertion}</saml2p:Response>"#,
            xml::NS_PROTOCOL,
            xml::NS_ASSERTION
        );
        let response = sign(&response, &key, "MIIC").unwrap();
        verify_text(&response, &key).unwrap();
        let doc = xml::parse(&response).unwrap();
        let root = doc.document_element().unwrap();
        let inner = doc.child_elements_by_name_ns(root, xml::NS_ASSERTION, "Assertion")[0];
        verify_text(&response[doc.node_range(inner).unwrap()], &key).unwrap();
    }
}
