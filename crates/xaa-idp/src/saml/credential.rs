//! The IdP's SAML signing credential: an RSA key and a self-signed certificate (the certificate
//! its metadata publishes). The lab keeps it in the data dir as one PEM file, so SPs that
//! imported the metadata keep working across restarts; an in-memory lab makes a fresh one.

use std::sync::OnceLock;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use samael::crypto::CertificateDer;
use samael::idp::{CertificateParams, IdentityProvider, KeyType, Rsa};

use crate::state::IdpState;

/// The key that signs assertions and its certificate.
#[derive(Clone)]
pub(crate) struct SamlCredential {
    /// PKCS#1 DER of the RSA private key (what xmlsec signs with).
    pub(crate) key_der: Vec<u8>,
    /// DER of the self-signed certificate.
    pub(crate) cert_der: CertificateDer,
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
    /// A new 2048-bit RSA key with a certificate for `entity_id`, valid ten years.
    pub(crate) fn generate(entity_id: &str) -> Result<Self, String> {
        let idp = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).map_err(|e| e.to_string())?;
        let params = CertificateParams { common_name: entity_id, issuer_name: entity_id, days_until_expiration: 3650 };
        let cert_der = idp.create_certificate(&params).map_err(|e| e.to_string())?;
        let key_der = idp.export_private_key_der().map_err(|e| e.to_string())?;
        Ok(Self { key_der, cert_der })
    }

    /// Reads the key and certificate from one PEM text.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        let key: PKey<Private> =
            PKey::private_key_from_pem(pem.as_bytes()).map_err(|e| format!("no RSA private key: {e}"))?;
        let rsa = key.rsa().map_err(|e| format!("the key is not RSA: {e}"))?;
        let cert = X509::from_pem(pem.as_bytes()).map_err(|e| format!("no certificate: {e}"))?;
        let cert_key = cert.public_key().map_err(|e| e.to_string())?;
        if !cert_key.public_eq(&key) {
            return Err("the certificate is not for this key".into());
        }
        Ok(Self {
            key_der: rsa.private_key_to_der().map_err(|e| e.to_string())?,
            cert_der: cert.to_der().map_err(|e| e.to_string())?.into(),
        })
    }

    /// The key and certificate as one PEM text.
    pub(crate) fn to_pem(&self) -> Result<String, String> {
        let rsa = openssl::rsa::Rsa::private_key_from_der(&self.key_der).map_err(|e| e.to_string())?;
        let key = rsa.private_key_to_pem().map_err(|e| e.to_string())?;
        let cert = X509::from_der(self.cert_der.der_data()).and_then(|c| c.to_pem()).map_err(|e| e.to_string())?;
        Ok(format!("{}{}", String::from_utf8_lossy(&key), String::from_utf8_lossy(&cert)))
    }

    /// The certificate, base64 (the content of `ds:X509Certificate`).
    pub(crate) fn cert_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.cert_der.der_data())
    }
}

impl IdpState {
    /// The SAML signing credential: the one the lab set, else a new one made now (kept while the
    /// IdP runs).
    pub(crate) fn saml_credential(&self) -> Result<&SamlCredential, String> {
        if let Some(c) = self.saml_key.0.get() {
            return Ok(c);
        }
        let fresh = SamlCredential::generate(&super::entity_id(self.issuer()))?;
        Ok(self.saml_key.0.get_or_init(|| fresh))
    }

    /// Sets the SAML signing credential from a PEM file's text (key and certificate), before the
    /// first SAML request. `Err` when the text holds no matching RSA key and certificate.
    pub fn use_saml_credential(&self, pem: &str) -> Result<(), String> {
        let credential = SamlCredential::from_pem(pem)?;
        self.saml_key.0.set(credential).map_err(|_| "the SAML credential is already set".to_owned())
    }

    /// The SAML signing credential as PEM (key and certificate), made now if there is none yet:
    /// what the lab writes to its data dir.
    pub fn saml_credential_pem(&self) -> Result<String, String> {
        self.saml_credential()?.to_pem()
    }
}
