//! `GET /saml/metadata`: the IdP's SAML 2.0 metadata (SAML 2.0 Metadata §2.4.3): entityID
//! `{issuer}/saml`, the signing certificate, SingleSignOnService for the HTTP-Redirect and
//! HTTP-POST bindings at `/saml/sso`, and the NameID formats it issues.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{
    Endpoint, EntityDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING, IdpSsoDescriptor, KeyDescriptor,
};
use samael::traits::ToXml;

use super::{NAMEID_EMAIL, NAMEID_PERSISTENT};
use crate::state::IdpState;

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

pub(crate) async fn metadata(State(st): State<Arc<IdpState>>) -> Response {
    match document(&st) {
        Ok(xml) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "SAML metadata failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the SAML metadata could not be built").into_response()
        }
    }
}

fn document(st: &IdpState) -> Result<String, String> {
    let credential = st.saml_credential()?;
    let sso = format!("{}/saml/sso", st.issuer());
    let endpoint = |binding: &str| Endpoint { binding: binding.into(), location: sso.clone(), response_location: None };
    let descriptor = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some(PROTOCOL.into()),
        error_url: None,
        signature: None,
        key_descriptors: vec![KeyDescriptor {
            key_use: Some("signing".into()),
            key_info: KeyInfo { id: None, x509_data: Some(X509Data { certificates: vec![credential.cert_base64()] }) },
            encryption_methods: None,
        }],
        organization: None,
        contact_people: Vec::new(),
        artifact_resolution_service: Vec::new(),
        single_logout_services: Vec::new(),
        manage_name_id_services: Vec::new(),
        name_id_formats: vec![NAMEID_EMAIL.into(), NAMEID_PERSISTENT.into()],
        want_authn_requests_signed: Some(false),
        single_sign_on_services: vec![endpoint(HTTP_REDIRECT_BINDING), endpoint(HTTP_POST_BINDING)],
        name_id_mapping_services: Vec::new(),
        assertion_id_request_services: Vec::new(),
        attribute_profiles: Vec::new(),
        attributes: Vec::new(),
    };
    let entity = EntityDescriptor {
        entity_id: Some(super::entity_id(st.issuer())),
        idp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    };
    entity.to_string().map_err(|e| e.to_string())
}
