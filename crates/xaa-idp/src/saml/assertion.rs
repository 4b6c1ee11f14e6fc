//! Issuing a SAML 2.0 assertion (SAML 2.0 Core §2.3.3) inside a `samlp:Response` for the
//! Web Browser SSO profile (SAML 2.0 Profiles §4.1.4.2). Both are signed (enveloped RSA-SHA256
//! signatures over their IDs, [`xml_signature`](super::xml_signature)): the assertion so that
//! it stands alone as a token-exchange `subject_token`, the Response because SP libraries with
//! default settings ask for it (as most IdPs do). Every instant is on the lab clock.

use super::records::IssuedAssertion;
use super::xml::{NS_ASSERTION, NS_PROTOCOL, escape, format_instant};
use super::{ASSERTION_LIFETIME, NameIdFormat, SamlServiceProvider, xml_signature};
use crate::state::IdpState;

const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const PASSWORD_PROTECTED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// What the assertion says about whom, for which request.
pub(crate) struct AssertionRequest<'a> {
    pub(crate) sp: &'a SamlServiceProvider,
    /// The AuthnRequest's ID.
    pub(crate) in_response_to: &'a str,
    pub(crate) email: &'a str,
    pub(crate) auth_time: i64,
}

/// Why no Response could be issued.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IssueError {
    /// The signing credential is unusable.
    #[error(transparent)]
    Credential(#[from] super::credential::SamlCredentialError),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signature(#[from] xml_signature::SignatureError),
    /// An instant is out of range.
    #[error("time {0} is out of range")]
    Time(i64),
    /// The issuance record could not be stored.
    #[error("the assertion could not be recorded: {0}")]
    Storage(#[from] xaa_core::sqlite::DbError),
}

/// The user's NameID at `sp`: the email address, or a pairwise persistent identifier (stable for
/// one user and SP, meaningless elsewhere).
pub(crate) fn name_id(sp: &SamlServiceProvider, sub: &str, email: &str) -> String {
    match sp.format() {
        NameIdFormat::EmailAddress => email.to_owned(),
        NameIdFormat::Persistent => xaa_core::secret::sha256_b64(&format!("{}|{sub}", sp.entity_id)),
    }
}

/// Issues, records and returns the signed `samlp:Response` XML answering `req`.
pub(crate) async fn issue(st: &IdpState, req: AssertionRequest<'_>) -> Result<String, IssueError> {
    let credential = st.saml_credential()?;
    let now = st.clock.now();
    let instant = |t: i64| format_instant(t).ok_or(IssueError::Time(t));
    let (issued, expires, authn) = (instant(now)?, instant(now + ASSERTION_LIFETIME)?, instant(req.auth_time)?);
    let issuer = escape(&super::entity_id(st.issuer().as_str()));
    let user = st.user(req.email);
    let name_id = name_id(req.sp, user.sub().as_str(), &user.email);
    let id = format!("_{}", st.entropy.token(24));
    let (acs, audience, irt) = (escape(&req.sp.acs_url), escape(&req.sp.entity_id), escape(req.in_response_to));
    let assertion = format!(
        concat!(
            r#"<saml2:Assertion xmlns:saml2="{ns}" ID="{id}" IssueInstant="{issued}" Version="2.0">"#,
            r#"<saml2:Issuer Format="{entity}">{issuer}</saml2:Issuer>"#,
            r#"<saml2:Subject><saml2:NameID Format="{format}">{name_id}</saml2:NameID>"#,
            r#"<saml2:SubjectConfirmation Method="{bearer}"><saml2:SubjectConfirmationData"#,
            r#" InResponseTo="{irt}" NotOnOrAfter="{expires}" Recipient="{acs}"/></saml2:SubjectConfirmation>"#,
            r#"</saml2:Subject><saml2:Conditions NotBefore="{issued}" NotOnOrAfter="{expires}">"#,
            r#"<saml2:AudienceRestriction><saml2:Audience>{audience}</saml2:Audience></saml2:AudienceRestriction>"#,
            r#"</saml2:Conditions><saml2:AuthnStatement AuthnInstant="{authn}" SessionIndex="{id}">"#,
            r#"<saml2:AuthnContext><saml2:AuthnContextClassRef>{context}</saml2:AuthnContextClassRef>"#,
            r#"</saml2:AuthnContext></saml2:AuthnStatement></saml2:Assertion>"#
        ),
        ns = NS_ASSERTION,
        id = id,
        issued = issued,
        entity = ENTITY_FORMAT,
        issuer = issuer,
        format = req.sp.format().uri(),
        name_id = escape(&name_id),
        bearer = BEARER,
        irt = irt,
        expires = expires,
        acs = acs,
        audience = audience,
        authn = authn,
        context = PASSWORD_PROTECTED,
    );
    let assertion = xml_signature::sign(&assertion, &credential.key, credential.cert_base64())?;
    let response = format!(
        concat!(
            r#"<saml2p:Response xmlns:saml2p="{protocol}" xmlns:saml2="{ns}" ID="_{response_id}" Version="2.0""#,
            r#" IssueInstant="{issued}" Destination="{acs}" InResponseTo="{irt}">"#,
            r#"<saml2:Issuer Format="{entity}">{issuer}</saml2:Issuer>"#,
            r#"<saml2p:Status><saml2p:StatusCode Value="{success}"/></saml2p:Status>{assertion}</saml2p:Response>"#
        ),
        protocol = NS_PROTOCOL,
        ns = NS_ASSERTION,
        response_id = st.entropy.token(24),
        issued = issued,
        acs = acs,
        irt = irt,
        entity = ENTITY_FORMAT,
        issuer = issuer,
        success = SUCCESS,
        assertion = assertion,
    );
    let response = xml_signature::sign(&response, &credential.key, credential.cert_base64())?;
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
        .await?;
    tracing::info!(sp = %req.sp.entity_id, user.email = %user.email, assertion.id = %id, "issued SAML assertion");
    Ok(response)
}
