//! The IdP's SAML signing credential: an RSA key and a self-signed certificate (the certificate
//! its metadata publishes). The lab keeps it in the data dir as one PEM file, so SPs that
//! imported the metadata keep working across restarts; an in-memory lab makes a fresh one.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509NameBuilder};

use crate::state::IdpState;

/// How long a generated certificate is valid, in days.
const CERTIFICATE_DAYS: u32 = 3650;

/// Why a SAML credential could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum SamlCredentialError {
    /// Generating the key failed.
    #[error("SAML key generation failed: {0}")]
    Generate(#[from] xaa_core::jose::JoseError),
    /// The PEM text holds no RSA private key.
    #[error("no RSA private key: {0}")]
    Key(#[source] openssl::error::ErrorStack),
    /// The PEM text holds no certificate.
    #[error("no certificate: {0}")]
    Certificate(#[source] openssl::error::ErrorStack),
    /// The certificate is for another key.
    #[error("the certificate is not for this key")]
    Mismatch,
    /// An OpenSSL operation failed.
    #[error("{0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    /// The credential was set already.
    #[error("the SAML credential is already set")]
    AlreadySet,
}

/// The key that signs assertions and responses, and its certificate.
#[derive(Clone)]
pub(crate) struct SamlCredential {
    pub(crate) key: PKey<Private>,
    cert: X509,
    /// The certificate's DER, base64 (the content of `ds:X509Certificate`).
    cert_base64: String,
}

impl std::fmt::Debug for SamlCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SamlCredential { .. }")
    }
}

/// Where the credential lives until the lab sets it (or the first SAML request makes one).
#[derive(Debug, Default)]
pub(crate) struct SamlKeySlot(OnceLock<SamlCredential>);

impl SamlCredential {
    /// A new 2048-bit RSA key (the lab's one generator) with a self-signed certificate for
    /// `entity_id`, valid ten years.
    pub(crate) fn generate(entity_id: &str) -> Result<Self, SamlCredentialError> {
        let pem = xaa_core::jose::generate_rsa_pem()?;
        let key = PKey::private_key_from_pem(pem.as_bytes()).map_err(SamlCredentialError::Key)?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("CN", entity_id)?;
        let name = name.build();
        let mut serial = BigNum::new()?;
        serial.rand(128, MsbOption::MAYBE_ZERO, false)?;
        let mut cert = X509::builder()?;
        cert.set_version(2)?;
        let (serial, now, until) =
            (serial.to_asn1_integer()?, Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(CERTIFICATE_DAYS)?);
        cert.set_serial_number(&serial)?;
        cert.set_subject_name(&name)?;
        cert.set_issuer_name(&name)?;
        cert.set_pubkey(&key)?;
        cert.set_not_before(&now)?;
        cert.set_not_after(&until)?;
        cert.sign(&key, MessageDigest::sha256())?;
        Self::new(key, cert.build())
    }

    fn new(key: PKey<Private>, cert: X509) -> Result<Self, SamlCredentialError> {
        if !cert.public_key()?.public_eq(&key) {
            return Err(SamlCredentialError::Mismatch);
        }
        let cert_base64 = STANDARD.encode(cert.to_der()?);
        Ok(Self { key, cert, cert_base64 })
    }

    /// Reads the key and certificate from one PEM text.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, SamlCredentialError> {
        let key = PKey::private_key_from_pem(pem.as_bytes()).map_err(SamlCredentialError::Key)?;
        if key.rsa().is_err() {
            return Err(SamlCredentialError::Key(openssl::error::ErrorStack::get()));
        }
        let cert = X509::from_pem(pem.as_bytes()).map_err(SamlCredentialError::Certificate)?;
        Self::new(key, cert)
    }

    /// The key (PKCS#8) and certificate as one PEM text.
    pub(crate) fn to_pem(&self) -> Result<String, SamlCredentialError> {
        let key = self.key.private_key_to_pem_pkcs8()?;
        let cert = self.cert.to_pem()?;
        Ok(format!("{}{}", String::from_utf8_lossy(&key), String::from_utf8_lossy(&cert)))
    }

    /// The certificate, base64 (the content of `ds:X509Certificate`).
    pub(crate) fn cert_base64(&self) -> &str {
        &self.cert_base64
    }
}

impl IdpState {
    /// The SAML signing credential: the one the lab set, else a new one made now (kept while the
    /// IdP runs).
    pub(crate) fn saml_credential(&self) -> Result<&SamlCredential, SamlCredentialError> {
        if let Some(c) = self.saml_key.0.get() {
            return Ok(c);
        }
        let fresh = SamlCredential::generate(&super::entity_id(self.issuer().as_str()))?;
        Ok(self.saml_key.0.get_or_init(|| fresh))
    }

    /// Sets the SAML signing credential from a PEM file's text (key and certificate), before the
    /// first SAML request. `Err` when the text holds no matching RSA key and certificate.
    pub fn use_saml_credential(&self, pem: &str) -> Result<(), SamlCredentialError> {
        let credential = SamlCredential::from_pem(pem)?;
        self.saml_key.0.set(credential).map_err(|_| SamlCredentialError::AlreadySet)
    }

    /// The SAML signing credential as PEM (key and certificate), made now if there is none yet:
    /// what the lab writes to its data dir.
    pub fn saml_credential_pem(&self) -> Result<String, SamlCredentialError> {
        self.saml_credential()?.to_pem()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_credential_survives_its_pem_and_a_foreign_certificate_is_refused() {
        let one = SamlCredential::generate("http://localhost:4401/saml").unwrap();
        let again = SamlCredential::from_pem(&one.to_pem().unwrap()).unwrap();
        assert_eq!(again.cert_base64(), one.cert_base64());
        let other = SamlCredential::generate("http://localhost:4401/saml").unwrap();
        let key = String::from_utf8(one.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        let cert = String::from_utf8(other.cert.to_pem().unwrap()).unwrap();
        assert_eq!(
            SamlCredential::from_pem(&format!("{key}{cert}")).unwrap_err().to_string(),
            "the certificate is not for this key"
        );
        assert!(SamlCredential::from_pem(&cert).unwrap_err().to_string().starts_with("no RSA private key"));
    }
}
