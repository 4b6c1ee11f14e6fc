//! XML signatures made and checked by Debian's `xmlsec1` command (libxmlsec1, the reference C
//! implementation; `scripts/test.sh` installs it), never by the IdP's own code: the test SP
//! verifies every Response and assertion with it, the interop tests verify the metadata too, and
//! it signs an assertion with a key that is not the IdP's.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `xmlsec1 --id-attr:ID` values: the SAML elements whose `ID` attribute a `Reference URI="#…"`
/// names (SAML has no DTD to declare them).
pub const RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
pub const ENTITY_DESCRIPTOR: &str = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor";

/// `base64` (an `X509Certificate` element's text) as a PEM certificate.
pub fn certificate_pem(base64: &str) -> String {
    let compact: String = base64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let lines: Vec<&str> = compact.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// A fresh directory for one `xmlsec1` run: tests run in parallel threads of one process, so the
/// process id alone would be shared.
fn run_dir() -> PathBuf {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    crate::binary::temp_dir(&format!("xmlsec1-{}", RUNS.fetch_add(1, Ordering::Relaxed)))
}

/// Runs `xmlsec1` with `args`, then the files of `dir` named by `files`; stdout and stderr
/// together, and whether it succeeded.
fn xmlsec1(args: &[&str], dir: &std::path::Path, files: &[&str]) -> (bool, String) {
    let out = Command::new("xmlsec1")
        .args(args)
        .args(files.iter().map(|f| dir.join(f)))
        .output()
        .expect("xmlsec1 runs (Debian package xmlsec1; scripts/test.sh installs it)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// `xmlsec1 --verify` of the first `ds:Signature` of `xml` (in document order) with the key of
/// `cert_pem` only, IDs declared on `id_node` (`namespace:Element`): `Ok` when it verifies,
/// `Err(xmlsec1's output)` when not.
pub fn xmlsec1_verify(xml: &str, id_node: &str, cert_pem: &str) -> Result<(), String> {
    let dir = run_dir();
    std::fs::write(dir.join("signed.xml"), xml).unwrap();
    std::fs::write(dir.join("cert.pem"), cert_pem).unwrap();
    let args = ["--verify", "--enabled-reference-uris", "same-doc", "--id-attr:ID", id_node, "--pubkey-cert-pem"];
    let (ok, text) = xmlsec1(&args, &dir, &["cert.pem", "signed.xml"]);
    let _ = std::fs::remove_dir_all(&dir);
    if ok && text.contains("OK") { Ok(()) } else { Err(text) }
}

/// The enveloped signature template of the element with `ID="{id}"`, as the IdP signs: exclusive
/// C14N, RSA-SHA256, SHA-256 digest; `xmlsec1 --sign` fills in the values and the certificate.
pub fn signature_template(id: &str) -> String {
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
            r##"<ds:Reference URI="#{id}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>"#,
            r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>"#,
            r#"</ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>"#,
            r#"</ds:Signature>"#
        ),
        id = id
    )
}

/// `xmlsec1 --sign` of `template` (a document holding a [`signature_template`]) with the private
/// key `key_pem` and its certificate `cert_pem`, IDs declared on `id_node`: the signed document.
pub fn xmlsec1_sign(template: &str, id_node: &str, key_pem: &[u8], cert_pem: &[u8]) -> String {
    let dir = run_dir();
    std::fs::write(dir.join("template.xml"), template).unwrap();
    std::fs::write(dir.join("key.pem"), key_pem).unwrap();
    std::fs::write(dir.join("cert.pem"), cert_pem).unwrap();
    let key = format!("{},{}", dir.join("key.pem").display(), dir.join("cert.pem").display());
    let output = dir.join("signed.xml").display().to_string();
    let args = ["--sign", "--id-attr:ID", id_node, "--privkey-pem", &key, "--output", &output];
    let (ok, text) = xmlsec1(&args, &dir, &["template.xml"]);
    assert!(ok, "xmlsec1 --sign: {text}");
    let signed = std::fs::read_to_string(dir.join("signed.xml")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    signed
}
