//! `GET /saml/metadata`: the IdP's SAML 2.0 metadata (SAML 2.0 Metadata §2.4.3): entityID
//! `{issuer}/saml`, the signing certificate, SingleSignOnService for the HTTP-Redirect and
//! HTTP-POST bindings at `/saml/sso`, and the NameID formats it issues. The document is signed
//! with the same key (SAML 2.0 Metadata §3), so an SP that checks metadata signatures can.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::xml::{NS_DSIG, NS_METADATA, escape};
use super::{NAMEID_EMAIL, NAMEID_PERSISTENT, xml_signature};
use crate::state::IdpState;

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// HTTP-Redirect binding (SAML 2.0 Bindings §3.4).
const HTTP_REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// HTTP-POST binding (SAML 2.0 Bindings §3.5).
const HTTP_POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

pub(crate) async fn metadata(State(st): State<Arc<IdpState>>) -> Response {
    match document(&st) {
        Ok(xml) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "SAML metadata failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the SAML metadata could not be built").into_response()
        }
    }
}

fn document(st: &IdpState) -> Result<String, Box<dyn std::error::Error>> {
    let credential = st.saml_credential()?;
    let sso = escape(&format!("{}/saml/sso", st.issuer()));
    let unsigned = format!(
        concat!(
            r#"<md:EntityDescriptor xmlns:md="{md}" xmlns:ds="{ds}" ID="_metadata" entityID="{entity_id}">"#,
            r#"<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="{protocol}">"#,
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}"#,
            r#"</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
            r#"<md:NameIDFormat>{email}</md:NameIDFormat><md:NameIDFormat>{persistent}</md:NameIDFormat>"#,
            r#"<md:SingleSignOnService Binding="{redirect}" Location="{sso}"/>"#,
            r#"<md:SingleSignOnService Binding="{post}" Location="{sso}"/>"#,
            r#"</md:IDPSSODescriptor></md:EntityDescriptor>"#
        ),
        md = NS_METADATA,
        ds = NS_DSIG,
        entity_id = escape(&super::entity_id(st.issuer().as_str())),
        protocol = PROTOCOL,
        cert = credential.cert_base64(),
        email = NAMEID_EMAIL,
        persistent = NAMEID_PERSISTENT,
        redirect = HTTP_REDIRECT_BINDING,
        post = HTTP_POST_BINDING,
        sso = sso,
    );
    Ok(xml_signature::sign(&unsigned, &credential.key, credential.cert_base64())?)
}
