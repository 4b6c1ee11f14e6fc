//! The IdP's SAML signing key and certificate in the data dir (`saml-idp.pem`, mode 0600): read
//! back at start, so SAML service providers that imported the IdP's metadata keep working across
//! restarts; made and written on the first start. An in-memory lab makes a fresh one each time.

use crate::config::Storage;
use crate::start::StartError;

/// The file's name in the data dir.
pub(crate) const FILE: &str = "saml-idp.pem";

/// Gives `idp` the SAML credential kept in the data dir, creating it there on first use.
pub(crate) fn load_or_create(idp: &xaa_idp::IdpState, storage: &Storage) -> Result<(), StartError> {
    let Storage::Dir(dir) = storage else { return Ok(()) };
    let path = dir.join(FILE);
    let fail = |e: &dyn std::fmt::Display| StartError::Storage(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(&path) {
        Ok(pem) => idp.use_saml_credential(&pem).map_err(|e| fail(&e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pem = idp.saml_credential_pem().map_err(|e| fail(&e))?;
            crate::private_file::write(&path, pem.as_bytes()).map_err(|e| fail(&e))
        }
        Err(e) => Err(fail(&e)),
    }
}
