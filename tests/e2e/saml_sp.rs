//! A test-only SAML 2.0 service provider, written apart from the IdP's code so that the tests do
//! not check the IdP against itself: it reads the IdP's metadata, sends an AuthnRequest by the
//! HTTP-Redirect binding (SAML 2.0 Bindings §3.4) or the HTTP-POST binding, and validates the
//! Response posted to its ACS URL as SAML 2.0 Profiles §4.1.4.3 asks: both signatures with the
//! metadata's key (checked by `xmlsec1`, see [`crate::xml_signature`]), `InResponseTo`, the
//! `Destination` and `Recipient`, the `Audience`. XML is read with quick-xml, namespace-aware.

use std::io::Write;
use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use crate::xml_signature::{ASSERTION, RESPONSE, certificate_pem, xmlsec1_verify};

pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// One element of a parsed document: its namespace and local name, attributes, text, children,
/// and where it stands in the document's bytes (to cut a signed element out as it was signed).
#[derive(Debug)]
pub struct Element {
    pub ns: String,
    pub name: String,
    attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
    pub span: Range<usize>,
}

impl Element {
    /// The root element of `xml`; a DTD is refused (no entity is ever expanded).
    pub fn parse(xml: &str) -> Result<Element, String> {
        let mut reader = NsReader::from_str(xml);
        let (mut open, mut root): (Vec<Element>, Option<Element>) = (Vec::new(), None);
        loop {
            let start = reader.buffer_position() as usize;
            let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
            let ns = match ns {
                ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
                ResolveResult::Unbound => String::new(),
                ResolveResult::Unknown(prefix) => {
                    return Err(format!("unbound prefix {}", String::from_utf8_lossy(&prefix)));
                }
            };
            let end = reader.buffer_position() as usize;
            let text = open.last_mut().map(|e| &mut e.text);
            match event {
                Event::Start(e) => open.push(Self::start(ns, &e, start..end)?),
                Event::Empty(e) => Self::close(&mut open, &mut root, Self::start(ns, &e, start..end)?)?,
                Event::End(_) => {
                    let mut element = open.pop().ok_or("an end tag without a start")?;
                    element.span.end = end;
                    Self::close(&mut open, &mut root, element)?;
                }
                Event::Text(t) => {
                    let t = t.decode().map_err(|e| e.to_string())?;
                    match text {
                        Some(text) => text.push_str(&t),
                        None if t.trim().is_empty() => {}
                        None => return Err("text outside the root".into()),
                    }
                }
                Event::CData(t) => {
                    text.ok_or("CDATA outside the root")?.push_str(&t.decode().map_err(|e| e.to_string())?)
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or(format!("undeclared entity &{name};"))?
                            .to_owned(),
                    };
                    text.ok_or("a reference outside the root")?.push_str(&resolved);
                }
                Event::DocType(_) => return Err("a DTD".into()),
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
        match (root, open.is_empty()) {
            (Some(root), true) => Ok(root),
            _ => Err("not one complete root element".into()),
        }
    }

    fn start(ns: String, e: &quick_xml::events::BytesStart<'_>, span: Range<usize>) -> Result<Element, String> {
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|e| e.to_string())?;
            if a.key.as_namespace_binding().is_none() {
                let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
                attrs.push((String::from_utf8_lossy(a.key.as_ref()).into_owned(), value.into_owned()));
            }
        }
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        Ok(Element { ns, name, attrs, text: String::new(), children: Vec::new(), span })
    }

    /// `element` is complete: a child of the innermost open element, or the root (only one).
    fn close(open: &mut [Element], root: &mut Option<Element>, element: Element) -> Result<(), String> {
        match (open.last_mut(), root.is_some()) {
            (Some(parent), _) => parent.children.push(element),
            (None, false) => *root = Some(element),
            (None, true) => return Err("a second root element".into()),
        }
        Ok(())
    }

    /// The unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The children named `ns:name`.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The first element named `ns:name` in document order, `self` included.
    pub fn first(&self, ns: &str, name: &str) -> Option<&Element> {
        if self.is(ns, name) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.first(ns, name))
    }

    /// The only child named `ns:name`.
    pub fn child(&self, ns: &str, name: &str) -> Result<&Element, String> {
        let mut found = self.children.iter().filter(|c| c.is(ns, name));
        match (found.next(), found.next()) {
            (Some(child), None) => Ok(child),
            _ => Err(format!("{}:{} has not exactly one {ns}:{name}", self.ns, self.name)),
        }
    }
}

/// What the SP reads of the IdP's metadata (SAML 2.0 Metadata §2.3.2, §2.4.3).
#[derive(Debug)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// `SingleSignOnService`: (`Binding`, `Location`).
    pub single_sign_on_services: Vec<(String, String)>,
    pub name_id_formats: Vec<String>,
    /// The `X509Certificate`s of the `KeyDescriptor`s usable for signing, base64 DER.
    pub signing_certificates: Vec<String>,
}

impl IdpMetadata {
    pub fn parse(xml: &str) -> Result<IdpMetadata, String> {
        let root = Element::parse(xml)?;
        if !root.is(NS_METADATA, "EntityDescriptor") {
            return Err(format!("not an md:EntityDescriptor but {}:{}", root.ns, root.name));
        }
        let idp = root.child(NS_METADATA, "IDPSSODescriptor")?;
        let signing_certificates = idp
            .children_named(NS_METADATA, "KeyDescriptor")
            .filter(|k| k.attr("use").is_none_or(|u| u == "signing"))
            .map(|k| {
                let x509 = k.child(NS_DSIG, "KeyInfo")?.child(NS_DSIG, "X509Data")?;
                Ok(x509.child(NS_DSIG, "X509Certificate")?.text.trim().to_owned())
            })
            .collect::<Result<_, String>>()?;
        Ok(IdpMetadata {
            entity_id: root.attr("entityID").ok_or("no entityID")?.to_owned(),
            single_sign_on_services: idp
                .children_named(NS_METADATA, "SingleSignOnService")
                .map(|s| (s.attr("Binding").unwrap_or("").to_owned(), s.attr("Location").unwrap_or("").to_owned()))
                .collect(),
            name_id_formats: idp
                .children_named(NS_METADATA, "NameIDFormat")
                .map(|f| f.text.trim().to_owned())
                .collect(),
            signing_certificates,
        })
    }
}

/// An AuthnRequest (SAML 2.0 Core §3.4.1) the SP sent.
pub struct AuthnRequest {
    pub id: String,
    pub destination: String,
    pub xml: String,
}

impl AuthnRequest {
    /// The HTTP-Redirect binding URL (Bindings §3.4.4.1): raw DEFLATE, base64, URL-encoded;
    /// `RelayState` when not empty.
    pub fn redirect_url(&self, relay_state: &str) -> String {
        let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflate.write_all(self.xml.as_bytes()).unwrap();
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("SAMLRequest", &STANDARD.encode(deflate.finish().unwrap()));
        if !relay_state.is_empty() {
            query.append_pair("RelayState", relay_state);
        }
        format!("{}?{}", self.destination, query.finish())
    }
}

/// The user the IdP asserted, from a Response the SP accepted.
#[derive(Debug)]
pub struct NameId {
    pub value: String,
    pub format: Option<String>,
}

/// `text` safe inside an XML attribute value or element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The test SP: its entityID and ACS URL, and the IdP's metadata.
pub struct ServiceProvider {
    pub entity_id: String,
    pub acs_url: String,
    pub idp: IdpMetadata,
}

impl ServiceProvider {
    /// A new AuthnRequest to `destination` (the IdP's SSO location): a fresh random ID, the SP as
    /// `Issuer`, its ACS URL, the HTTP-POST binding for the Response.
    pub fn authn_request(&self, destination: &str) -> AuthnRequest {
        let mut random = [0u8; 16];
        openssl::rand::rand_bytes(&mut random).unwrap();
        let id = format!("id-{}", random.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let instant = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let xml = format!(
            concat!(
                r#"<samlp:AuthnRequest xmlns:samlp="{protocol}" xmlns:saml="{assertion}" ID="{id}" Version="2.0""#,
                r#" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}""#,
                r#" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">"#,
                r#"<saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"#
            ),
            protocol = NS_PROTOCOL,
            assertion = NS_ASSERTION,
            id = id,
            instant = instant,
            destination = escape(destination),
            acs = escape(&self.acs_url),
            issuer = escape(&self.entity_id),
        );
        AuthnRequest { id, destination: destination.to_owned(), xml }
    }

    /// Validates the base64 `SAMLResponse` answering one of `request_ids`: the user's NameID, or
    /// why the Response is refused.
    pub fn parse_base64_response(&self, saml_response: &str, request_ids: &[&str]) -> Result<NameId, String> {
        let bytes = STANDARD.decode(saml_response).map_err(|e| format!("SAMLResponse is not base64: {e}"))?;
        let xml = String::from_utf8(bytes).map_err(|_| "SAMLResponse is not UTF-8")?;
        let response = Element::parse(&xml)?;
        if !response.is(NS_PROTOCOL, "Response") {
            return Err(format!("not a samlp:Response but {}:{}", response.ns, response.name));
        }
        self.verify(&xml, &response, RESPONSE)?;
        let status = response.child(NS_PROTOCOL, "Status")?.child(NS_PROTOCOL, "StatusCode")?;
        if status.attr("Value") != Some(SUCCESS) {
            return Err(format!("status {:?}", status.attr("Value")));
        }
        let in_response_to = |irt: Option<&str>| match irt {
            Some(irt) if request_ids.contains(&irt) => Ok(()),
            other => Err(format!("InResponseTo {other:?} is none of the requests sent, {request_ids:?}")),
        };
        in_response_to(response.attr("InResponseTo"))?;
        if let Some(destination) = response.attr("Destination").filter(|d| *d != self.acs_url) {
            return Err(format!("Destination {destination} is not the ACS URL {}", self.acs_url));
        }
        self.issuer(&response)?;

        let assertion = response.child(NS_ASSERTION, "Assertion")?;
        self.verify(&xml[assertion.span.clone()], assertion, ASSERTION)?;
        self.issuer(assertion)?;
        let subject = assertion.child(NS_ASSERTION, "Subject")?;
        let confirmation = subject.child(NS_ASSERTION, "SubjectConfirmation")?;
        let data = confirmation.child(NS_ASSERTION, "SubjectConfirmationData")?;
        in_response_to(data.attr("InResponseTo"))?;
        if data.attr("Recipient") != Some(self.acs_url.as_str()) {
            return Err(format!("Recipient {:?} is not the ACS URL {}", data.attr("Recipient"), self.acs_url));
        }
        let restriction = assertion.child(NS_ASSERTION, "Conditions")?.child(NS_ASSERTION, "AudienceRestriction")?;
        if !restriction.children_named(NS_ASSERTION, "Audience").any(|a| a.text.trim() == self.entity_id) {
            return Err(format!("the Audience is not {}", self.entity_id));
        }
        let name_id = subject.child(NS_ASSERTION, "NameID")?;
        Ok(NameId { value: name_id.text.clone(), format: name_id.attr("Format").map(str::to_owned) })
    }

    /// `element` (of `xml`, its own text) is signed by itself, `Reference URI="#<its ID>"`, and
    /// `xmlsec1` verifies that signature with one of the metadata's certificates.
    fn verify(&self, xml: &str, element: &Element, id_node: &str) -> Result<(), String> {
        let signature = element.child(NS_DSIG, "Signature")?;
        let reference = signature.child(NS_DSIG, "SignedInfo")?.child(NS_DSIG, "Reference")?;
        let id = element.attr("ID").ok_or("no ID")?;
        if reference.attr("URI") != Some(&format!("#{id}")) {
            return Err(format!("the signature of {} references {:?}, not #{id}", element.name, reference.attr("URI")));
        }
        // xmlsec1 verifies the first signature in document order: it must be the element's own
        // (the Response's precedes the assertion's).
        if !element.first(NS_DSIG, "Signature").is_some_and(|first| std::ptr::eq(first, signature)) {
            return Err(format!("the first signature in {} is not its own", element.name));
        }
        let mut failures = Vec::new();
        for cert in &self.idp.signing_certificates {
            match xmlsec1_verify(xml, id_node, &certificate_pem(cert)) {
                Ok(()) => return Ok(()),
                Err(why) => failures.push(why),
            }
        }
        Err(format!("the signature of {} does not verify: {}", element.name, failures.join("; ")))
    }

    /// `element`'s `Issuer` is the IdP's entityID.
    fn issuer(&self, element: &Element) -> Result<(), String> {
        let issuer = element.child(NS_ASSERTION, "Issuer")?;
        if issuer.text.trim() != self.idp.entity_id {
            return Err(format!("Issuer {} is not the IdP {}", issuer.text, self.idp.entity_id));
        }
        Ok(())
    }
}
