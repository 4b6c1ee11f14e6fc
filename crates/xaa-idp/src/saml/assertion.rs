//! Issuing a SAML 2.0 assertion (SAML 2.0 Core §2.3.3) inside a `samlp:Response` for the
//! Web Browser SSO profile (SAML 2.0 Profiles §4.1.4.2): the assertion itself is signed
//! (enveloped RSA-SHA256 signature over its ID), so it stands alone as a token-exchange
//! `subject_token`; every instant is on the lab clock.

use samael::crypto::{Crypto, CryptoProvider, gen_saml_response_id};
use samael::schema::{
    Assertion, AudienceRestriction, AuthnContext, AuthnContextClassRef, AuthnStatement, Conditions, Issuer, Subject,
    SubjectConfirmation, SubjectConfirmationData, SubjectNameID,
};
use samael::signature::{DigestAlgorithm, Signature};
use samael::traits::ToXml;

use super::records::IssuedAssertion;
use super::{ASSERTION_LIFETIME, NameIdFormat, SamlServiceProvider, xml_escape};
use crate::state::IdpState;

const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const PASSWORD_PROTECTED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// What the assertion says about whom, for which request.
pub(crate) struct AssertionRequest<'a> {
    pub(crate) sp: &'a SamlServiceProvider,
    /// The AuthnRequest's ID.
    pub(crate) in_response_to: &'a str,
    pub(crate) email: &'a str,
    pub(crate) auth_time: i64,
}

/// The user's NameID at `sp`: the email address, or a pairwise persistent identifier (stable for
/// one user and SP, meaningless elsewhere).
pub(crate) fn name_id(sp: &SamlServiceProvider, sub: &str, email: &str) -> String {
    match sp.format() {
        NameIdFormat::EmailAddress => email.to_owned(),
        NameIdFormat::Persistent => xaa_core::secret::sha256_b64(&format!("{}|{sub}", sp.entity_id)),
    }
}

/// Issues, records and returns the `samlp:Response` XML answering `req`.
pub(crate) async fn issue(st: &IdpState, req: AssertionRequest<'_>) -> Result<String, String> {
    let credential = st.saml_credential()?;
    let now = st.clock.now();
    let instant = |t: i64| chrono::DateTime::from_timestamp(t, 0).ok_or_else(|| format!("time {t} out of range"));
    let (issued, expires) = (instant(now)?, instant(now + ASSERTION_LIFETIME)?);
    let issuer = super::entity_id(st.issuer());
    let user = crate::routes::user(st, req.email);
    let name_id = name_id(req.sp, &user.sub(), &user.email);
    let id = format!("_{}", st.entropy.token(24));
    let mut signature = Signature::template(&id, &credential.cert_der);
    for r in &mut signature.signed_info.reference {
        r.digest_method.algorithm = DigestAlgorithm::Sha256;
    }
    let assertion = Assertion {
        id: id.clone(),
        issue_instant: issued,
        version: "2.0".into(),
        issuer: Issuer { value: Some(issuer.clone()), format: Some(ENTITY_FORMAT.into()), ..Issuer::default() },
        signature: Some(signature),
        subject: Some(Subject {
            name_id: Some(SubjectNameID { format: Some(req.sp.format().uri().into()), value: name_id.clone() }),
            subject_confirmations: Some(vec![SubjectConfirmation {
                method: Some(BEARER.into()),
                name_id: None,
                subject_confirmation_data: Some(SubjectConfirmationData {
                    not_before: None,
                    not_on_or_after: Some(expires),
                    recipient: Some(req.sp.acs_url.clone()),
                    in_response_to: Some(req.in_response_to.to_owned()),
                    address: None,
                    content: None,
                }),
            }]),
        }),
        conditions: Some(Conditions {
            not_before: Some(issued),
            not_on_or_after: Some(expires),
            audience_restrictions: Some(vec![AudienceRestriction { audience: vec![req.sp.entity_id.clone()] }]),
            one_time_use: None,
            proxy_restriction: None,
        }),
        authn_statements: Some(vec![AuthnStatement {
            authn_instant: Some(instant(req.auth_time)?),
            session_index: Some(id.clone()),
            session_not_on_or_after: None,
            subject_locality: None,
            authn_context: Some(AuthnContext {
                value: Some(AuthnContextClassRef { value: Some(PASSWORD_PROTECTED.into()) }),
            }),
        }]),
        attribute_statements: None,
    };
    let unsigned = assertion.to_string().map_err(|e| format!("assertion serialisation failed: {e}"))?;
    let signed = Crypto::sign_xml(unsigned, &credential.key_der).map_err(|e| format!("signing failed: {e}"))?;
    let signed = strip_xml_declaration(&signed);
    st.store
        .insert_saml_assertion(
            IssuedAssertion {
                id: id.clone(),
                sp_entity_id: req.sp.entity_id.clone(),
                email: user.email.clone(),
                name_id,
                auth_time: req.auth_time,
                expires_at: now + ASSERTION_LIFETIME,
            },
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(sp = %req.sp.entity_id, user.email = %user.email, assertion.id = %id, "issued SAML assertion");
    Ok(format!(
        concat!(
            r#"<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion""#,
            r#" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{acs}" InResponseTo="{irt}">"#,
            r#"<saml2:Issuer>{issuer}</saml2:Issuer>"#,
            r#"<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>"#,
            "{assertion}</saml2p:Response>"
        ),
        id = gen_saml_response_id(),
        instant = issued.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        acs = xml_escape(&req.sp.acs_url),
        irt = xml_escape(req.in_response_to),
        issuer = xml_escape(&issuer),
        assertion = signed,
    ))
}

/// The document without its `<?xml …?>` declaration (to embed it in another).
fn strip_xml_declaration(xml: &str) -> &str {
    let xml = xml.trim_start();
    match xml.strip_prefix("<?xml").and_then(|rest| rest.find("?>").map(|end| &rest[end + 2..])) {
        Some(rest) => rest.trim_start(),
        None => xml,
    }
}
