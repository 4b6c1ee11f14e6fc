//! `--tls`: a lab-local certificate authority (CA:TRUE) and a `localhost` / `127.0.0.1` leaf it
//! signs (plus every `--public-host`), created once in the TLS directory and reused, so
//! `NODE_EXTRA_CA_CERTS` stays valid. The leaf is issued again when the set of names changes.

use std::collections::BTreeSet;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509NameBuilder};

/// The CA and leaf in PEM, and where the CA certificate lives.
#[derive(Clone, Debug)]
pub struct TlsMaterial {
    /// Path of the CA certificate (for `NODE_EXTRA_CA_CERTS`).
    pub ca_cert_path: PathBuf,
    /// The CA certificate (PEM).
    pub ca_cert_pem: Vec<u8>,
    /// The leaf certificate chain (leaf, then CA) in PEM.
    pub leaf_chain_pem: Vec<u8>,
    /// The leaf private key (PKCS#8 PEM).
    pub leaf_key_pem: Vec<u8>,
}

/// Errors creating or reading TLS material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// File system.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// OpenSSL.
    #[error("certificate generation failed: {0}")]
    Ssl(#[from] openssl::error::ErrorStack),
}

const CA: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";
const LEAF: &str = "localhost.pem";
const LEAF_KEY: &str = "localhost-key.pem";

/// The names and addresses the leaf covers: always `localhost`, `127.0.0.1` and `::1`, then
/// `public_hosts` (host names or IP addresses).
fn wanted_names(public_hosts: &[String]) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["localhost", "127.0.0.1", "::1"].iter().map(|s| (*s).to_owned()).collect();
    names.extend(public_hosts.iter().map(|h| match h.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => h.to_ascii_lowercase(),
    }));
    names
}

/// The DNS names and IP addresses in a certificate's subjectAltName.
fn names_of(cert: &X509) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for n in cert.subject_alt_names().iter().flatten() {
        if let Some(d) = n.dnsname() {
            names.insert(d.to_ascii_lowercase());
        }
        let ip = n.ipaddress().and_then(|b| match b.len() {
            4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
            _ => None,
        });
        names.extend(ip.map(|ip| ip.to_string()));
    }
    names
}

/// Loads the CA and leaf from `dir`, creating whatever is missing (or a leaf that expires within a
/// week, or that does not cover exactly `localhost`, `127.0.0.1`, `::1` and `public_hosts`).
pub fn load_or_create(dir: &Path, public_hosts: &[String]) -> Result<TlsMaterial, TlsError> {
    let names = wanted_names(public_hosts);
    crate::private_file::create_dir(dir).map_err(|e| TlsError::Io(dir.to_owned(), e))?;
    let read = |name: &str| fs::read(dir.join(name)).ok();
    let (ca_cert, ca_key) = match (read(CA), read(CA_KEY)) {
        (Some(c), Some(k)) => (X509::from_pem(&c)?, PKey::private_key_from_pem(&k)?),
        _ => {
            let (c, k) = new_ca()?;
            write(dir, CA_KEY, &k.private_key_to_pem_pkcs8()?, true)?;
            write(dir, CA, &c.to_pem()?, false)?;
            (c, k)
        }
    };
    let week_from_now = Asn1Time::days_from_now(7)?;
    let leaf = match (read(LEAF), read(LEAF_KEY)) {
        (Some(c), Some(k)) => {
            let cert = X509::from_pem(&c)?;
            let signed_by_ca = cert.verify(&*ca_cert.public_key()?).unwrap_or(false);
            let current = signed_by_ca && cert.not_after() > week_from_now && names_of(&cert) == names;
            current.then_some((cert, PKey::private_key_from_pem(&k)?))
        }
        _ => None,
    };
    let (leaf_cert, leaf_key) = match leaf {
        Some(l) => l,
        None => {
            let (c, k) = new_leaf(&ca_cert, &ca_key, &names)?;
            write(dir, LEAF_KEY, &k.private_key_to_pem_pkcs8()?, true)?;
            write(dir, LEAF, &c.to_pem()?, false)?;
            (c, k)
        }
    };
    let mut chain = leaf_cert.to_pem()?;
    chain.extend(ca_cert.to_pem()?);
    Ok(TlsMaterial {
        ca_cert_path: dir.join(CA).canonicalize().unwrap_or_else(|_| dir.join(CA)),
        ca_cert_pem: ca_cert.to_pem()?,
        leaf_chain_pem: chain,
        leaf_key_pem: leaf_key.private_key_to_pem_pkcs8()?,
    })
}

/// Writes one file; private keys are created 0600 from the start ([`crate::private_file`]).
fn write(dir: &Path, name: &str, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let path = dir.join(name);
    let written = match private {
        true => crate::private_file::write(&path, bytes),
        false => fs::write(&path, bytes),
    };
    written.map_err(|e| TlsError::Io(path, e))
}

fn ec_key() -> Result<PKey<Private>, openssl::error::ErrorStack> {
    PKey::from_ec_key(EcKey::generate(&*EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?)?)
}

fn serial() -> Result<openssl::asn1::Asn1Integer, openssl::error::ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

fn new_ca() -> Result<(X509, PKey<Private>), openssl::error::ErrorStack> {
    let key = ec_key()?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("O", "XAA Lab")?;
    name.append_entry_by_text("CN", "XAA Lab local CA (lab only, do not trust elsewhere)")?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    b.set_serial_number(&*serial()?)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    b.set_not_after(&*Asn1Time::days_from_now(3650)?)?;
    b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    b.sign(&key, MessageDigest::sha256())?;
    Ok((b.build(), key))
}

fn new_leaf(
    ca: &X509,
    ca_key: &PKey<Private>,
    names: &BTreeSet<String>,
) -> Result<(X509, PKey<Private>), openssl::error::ErrorStack> {
    let key = ec_key()?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("O", "XAA Lab")?;
    name.append_entry_by_text("CN", "localhost")?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    b.set_serial_number(&*serial()?)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(ca.subject_name())?;
    b.set_pubkey(&key)?;
    b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    b.set_not_after(&*Asn1Time::days_from_now(365)?)?;
    b.append_extension(BasicConstraints::new().build()?)?;
    b.append_extension(KeyUsage::new().critical().digital_signature().key_agreement().build()?)?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    for name in names {
        match name.parse::<IpAddr>() {
            Ok(_) => san.ip(name),
            Err(_) => san.dns(name),
        };
    }
    let san = san.build(&b.x509v3_context(Some(ca), None))?;
    b.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(ca), None))?;
    b.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new().keyid(false).build(&b.x509v3_context(Some(ca), None))?;
    b.append_extension(aki)?;
    b.sign(ca_key, MessageDigest::sha256())?;
    Ok((b.build(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_reuses() {
        let dir = std::env::temp_dir().join(format!("xaa-lab-tls-test-{}", std::process::id()));
        let first = load_or_create(&dir, &[]).unwrap();
        let second = load_or_create(&dir, &[]).unwrap();
        assert_eq!(first.ca_cert_pem, second.ca_cert_pem);
        assert_eq!(first.leaf_key_pem, second.leaf_key_pem);
        let ca = X509::from_pem(&first.ca_cert_pem).unwrap();
        let leaf = X509::from_pem(&first.leaf_chain_pem).unwrap();
        assert!(leaf.verify(&ca.public_key().unwrap()).unwrap());
        let text = String::from_utf8(ca.to_text().unwrap()).unwrap();
        assert!(text.contains("CA:TRUE"), "{text}");
        let leaf_text = String::from_utf8(leaf.to_text().unwrap()).unwrap();
        assert!(leaf_text.contains("DNS:localhost") && leaf_text.contains("IP Address:127.0.0.1"));
        // A new set of public hosts issues a new leaf from the same CA; the same set reuses it.
        let hosts = ["lab.example".to_owned(), "10.1.2.3".to_owned()];
        let third = load_or_create(&dir, &hosts).unwrap();
        assert_eq!(third.ca_cert_pem, first.ca_cert_pem);
        assert_ne!(third.leaf_key_pem, first.leaf_key_pem);
        let leaf = X509::from_pem(&third.leaf_chain_pem).unwrap();
        assert_eq!(names_of(&leaf), wanted_names(&hosts));
        assert!(names_of(&leaf).contains("10.1.2.3") && names_of(&leaf).contains("lab.example"));
        assert_eq!(load_or_create(&dir, &hosts).unwrap().leaf_key_pem, third.leaf_key_pem);
        let _ = fs::remove_dir_all(dir);
    }

    /// The private keys are new 0600 files ([`crate::private_file`]): never a file or link that was
    /// there before (which a plain write would fill, then chmod).
    #[test]
    fn private_keys_are_new_owner_only_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xaa-lab-tls-mode-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // Someone else's readable file, linked where the CA key goes.
        let planted = dir.join("planted");
        fs::write(&planted, b"").unwrap();
        std::os::unix::fs::symlink(&planted, dir.join(CA_KEY)).unwrap();
        load_or_create(&dir, &[]).unwrap();
        assert_eq!(fs::read(&planted).unwrap(), b"", "the key was not written through the link");
        let meta = |name: &str| fs::symlink_metadata(dir.join(name)).unwrap();
        assert!(meta(CA_KEY).file_type().is_file());
        assert_eq!(meta(CA_KEY).permissions().mode() & 0o777, 0o600);
        assert_eq!(meta(LEAF_KEY).permissions().mode() & 0o777, 0o600);
        let _ = fs::remove_dir_all(dir);
    }
}
