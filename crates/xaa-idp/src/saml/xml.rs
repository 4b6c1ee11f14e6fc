//! The SAML XML the IdP reads and writes: the namespaces, escaping for what it writes, and one
//! hardened parser for what it reads (pure Rust: `uppsala`, the parser under `bergshamra-c14n`).
//!
//! XML from outside is hostile: every document is size-capped and refused with a DTD before it
//! is parsed (no entity is ever expanded), and the parser itself is told to refuse a DTD too.

use uppsala::{Document, NodeId};

/// SAML 2.0 assertion namespace (SAML 2.0 Core §2.1).
pub(crate) const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace (SAML 2.0 Core §3.1).
pub(crate) const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 metadata namespace (SAML 2.0 Metadata §2.1).
pub(crate) const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace (XML Signature Syntax and Processing §4).
pub(crate) const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The largest XML document parsed, in bytes (after decoding and inflating).
pub(crate) const MAX_XML_BYTES: usize = 128 * 1024;
/// The deepest element nesting parsed (a SAML message of this IdP nests 7 levels).
const MAX_DEPTH: u32 = 32;

/// Escapes text for an XML attribute value or element content.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// Refuses XML the IdP will not parse: too large, or with a DTD (no entities, internal or external).
pub(crate) fn acceptable(xml: &str) -> Result<(), &'static str> {
    if xml.len() > MAX_XML_BYTES {
        return Err("the XML document is larger than 128 KiB");
    }
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err("the XML document has a DTD, which the IdP never parses (no entity is expanded)");
    }
    Ok(())
}

/// Parses an [`acceptable`] document; `None` when it is not well-formed, namespace-valid XML.
pub(crate) fn parse(xml: &str) -> Option<Document<'_>> {
    acceptable(xml).ok()?;
    uppsala::Parser::new().with_forbid_dtd(true).with_max_depth(MAX_DEPTH).parse(xml).ok()
}

/// The document element, if it is `{ns}local`.
pub(crate) fn root_named(doc: &Document<'_>, ns: &str, local: &str) -> Option<NodeId> {
    let root = doc.document_element()?;
    doc.element(root)?.matches_name_ns(ns, local).then_some(root)
}

/// The only child element `{ns}local` of `parent`; `None` when there is none or more than one.
pub(crate) fn only_child(doc: &Document<'_>, parent: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    match doc.child_elements_by_name_ns(parent, ns, local).as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The text of the only child element `{ns}local` of `parent`, trimmed.
pub(crate) fn child_text(doc: &Document<'_>, parent: NodeId, ns: &str, local: &str) -> Option<String> {
    only_child(doc, parent, ns, local).map(|id| doc.text_content_deep(id).trim().to_owned())
}

/// An attribute without a namespace (SAML's own attributes: `ID`, `Format`, `NotOnOrAfter`, …).
pub(crate) fn attr<'d>(doc: &'d Document<'_>, id: NodeId, name: &str) -> Option<&'d str> {
    doc.element(id)?
        .attributes
        .iter()
        .find(|a| a.name.namespace_uri.is_none() && a.name.local_name == name)
        .map(|a| &*a.value)
}

/// An `xs:dateTime` instant (SAML 2.0 Core §1.3.3: UTC) as Unix seconds.
pub(crate) fn instant(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(value).ok().map(|t| t.timestamp())
}

/// Unix seconds as a SAML `xs:dateTime` in UTC, without fractional seconds.
pub(crate) fn format_instant(t: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(t, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dtd_is_refused_before_and_by_the_parser() {
        let billion_laughs = r#"<!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>"#;
        assert!(acceptable(billion_laughs).is_err());
        assert!(parse(billion_laughs).is_none());
        assert!(parse(&format!("<r>{}</r>", "x".repeat(MAX_XML_BYTES))).is_none());
        assert!(parse("<r><unclosed></r>").is_none());
    }

    #[test]
    fn reads_namespaced_children_attributes_and_instants() {
        let xml = format!(
            r#"<p:R xmlns:p="{NS_PROTOCOL}" xmlns:a="{NS_ASSERTION}" ID="_1" a:ID="no"><a:Issuer> x </a:Issuer><a:Issuer/></p:R>"#
        );
        let doc = parse(&xml).unwrap();
        let root = root_named(&doc, NS_PROTOCOL, "R").unwrap();
        assert_eq!(attr(&doc, root, "ID"), Some("_1"));
        assert_eq!(only_child(&doc, root, NS_ASSERTION, "Issuer"), None, "two Issuers are none");
        assert!(root_named(&doc, NS_ASSERTION, "R").is_none());
        assert_eq!(instant("2026-12-07T01:02:03Z"), Some(1_796_605_323));
        assert_eq!(format_instant(1_796_605_323).as_deref(), Some("2026-12-07T01:02:03Z"));
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
    }
}
