//! A SAML 2.0 assertion as the `subject_token` of a token exchange
//! (`urn:ietf:params:oauth:token-type:saml2`, RFC 8693 §3: the base64url-encoded assertion;
//! padded base64 is accepted too, lab decision A10). Only this IdP's own authentication
//! assertions are accepted (draft-04 §4.3.3, post-04 candidate first bullet): its Issuer, its
//! XML signature, and an ID in its record of issued assertions; then the lab clock, and the
//! Audience mapped to a client that must be the authenticated one (§4.5). Every refusal is
//! `invalid_grant` (lab decision A1).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use xaa_core::oauth::OAuthError;
use xaa_core::spec;
use xaa_core::validation::CheckLog;

use super::xml::{self, NS_ASSERTION};
use crate::config::IdpClient;
use crate::state::IdpState;

const SEC: &spec::Reference = &spec::IDJAG_4_5;
const OWN: &spec::Reference = &spec::IDJAG_4_3_3;
const FORMAT: &spec::Reference = &spec::RFC8693_3;
const TIME: &spec::Reference = &spec::SAML_CORE_2_5_1_2;
/// The largest `subject_token` read, in bytes: half the token request's own cap (an assertion of
/// this IdP is about 5 KiB).
const MAX_SUBJECT_TOKEN_BYTES: usize = 32 * 1024;

/// The user a valid assertion names.
pub(crate) struct SamlSubject {
    pub(crate) email: String,
    pub(crate) auth_time: i64,
    /// The draft-04 §3.2 `sub_id` (RFC 9493 `saml-nameid`).
    pub(crate) sub_id: Value,
}

/// Validates `subject_token` for `client`, recording each check.
pub(crate) async fn validate(
    st: &IdpState,
    client: &IdpClient,
    subject_token: &str,
    checks: &mut CheckLog,
) -> Result<SamlSubject, OAuthError> {
    let text = decode(subject_token).map_err(|why| refuse(checks, "format", FORMAT, why.to_string()))?;
    let not_an_assertion = || "the subject_token is not a SAML 2.0 Assertion (saml:Assertion element)".to_owned();
    let doc = xml::parse(&text).ok_or_else(|| refuse(checks, "format", FORMAT, not_an_assertion()))?;
    let root = xml::root_named(&doc, NS_ASSERTION, "Assertion")
        .ok_or_else(|| refuse(checks, "format", FORMAT, not_an_assertion()))?;
    let own_issuer = super::entity_id(st.issuer().as_str());
    let issuer = xml::child_text(&doc, root, NS_ASSERTION, "Issuer").unwrap_or_default();
    if issuer != own_issuer {
        return Err(refuse(
            checks,
            "issuer",
            OWN,
            format!(
                "the assertion's Issuer is \"{issuer}\"; this IdP accepts only its own assertions (\"{own_issuer}\")"
            ),
        ));
    }
    let credential = st.saml_credential().map_err(|e| OAuthError::server_error(e.to_string()))?;
    // The signature covers the whole document element (the reference is its ID), so from here
    // on everything read from `root` is what this IdP signed.
    if let Err(e) = super::xml_signature::verify(&doc, &credential.key) {
        tracing::debug!(error = %e, "SAML subject_token signature refused");
        return Err(refuse(
            checks,
            "signature",
            OWN,
            "the assertion's XML signature does not verify with this IdP's SAML signing key".into(),
        ));
    }
    let assertion_id = xml::attr(&doc, root, "ID").unwrap_or_default().to_owned();
    checks.pass("signature", OWN, format!("assertion \"{assertion_id}\" signed by this IdP's SAML key"));
    let record = st.store.saml_assertion(assertion_id.clone()).await.map_err(crate::token::storage)?;
    let Some(record) = record else {
        return Err(refuse(
            checks,
            "issued",
            OWN,
            format!("this IdP has no record of issuing assertion \"{assertion_id}\""),
        ));
    };
    checks.pass("issued", OWN, "the assertion is in this IdP's record of issued assertions");

    let now = st.clock.now();
    let leeway = xaa_core::JWT_LEEWAY;
    let conditions = xml::only_child(&doc, root, NS_ASSERTION, "Conditions");
    let condition = |name: &str| conditions.and_then(|c| xml::attr(&doc, c, name)).and_then(xml::instant);
    let not_before = condition("NotBefore");
    let not_on_or_after = condition("NotOnOrAfter").unwrap_or(record.expires_at);
    if not_before.is_some_and(|t| now + leeway < t) {
        return Err(refuse(
            checks,
            "time",
            TIME,
            format!("the assertion is not valid before {} (NotBefore)", not_before.unwrap_or(0)),
        ));
    }
    if now >= not_on_or_after + leeway {
        return Err(refuse(
            checks,
            "time",
            TIME,
            format!("the assertion expired at {not_on_or_after} (NotOnOrAfter); the lab clock is at {now}"),
        ));
    }
    checks.pass("time", TIME, format!("valid until {not_on_or_after} (NotOnOrAfter)"));

    let audiences: Vec<String> = conditions
        .into_iter()
        .flat_map(|c| doc.child_elements_by_name_ns(c, NS_ASSERTION, "AudienceRestriction"))
        .flat_map(|r| doc.child_elements_by_name_ns(r, NS_ASSERTION, "Audience"))
        .map(|a| doc.text_content_deep(a).trim().to_owned())
        .collect();
    let [audience] = audiences.as_slice() else {
        return Err(refuse(
            checks,
            "audience",
            SEC,
            format!("the assertion must have exactly one Audience, not {}", audiences.len()),
        ));
    };
    let sp = st.saml_service_provider(audience).await.map_err(crate::token::storage)?;
    let Some(sp) = sp else {
        return Err(refuse(
            checks,
            "audience",
            SEC,
            format!("the assertion's Audience \"{audience}\" is no SAML service provider of this IdP"),
        ));
    };
    if sp.client_id != client.client_id || record.sp_entity_id != sp.entity_id {
        return Err(refuse(
            checks,
            "audience",
            SEC,
            format!(
                "the assertion's Audience \"{audience}\" is the SAML service provider of client \"{}\", not of the authenticated client \"{}\"",
                sp.client_id, client.client_id
            ),
        ));
    }
    checks.pass("audience", SEC, format!("Audience \"{audience}\" is client '{}'", client.client_id));

    let name_id = xml::only_child(&doc, root, NS_ASSERTION, "Subject")
        .and_then(|s| xml::only_child(&doc, s, NS_ASSERTION, "NameID"))
        .map(|n| (doc.text_content_deep(n).trim().to_owned(), xml::attr(&doc, n, "Format").map(str::to_owned)));
    let Some((name_id, format)) = name_id.filter(|(value, _)| *value == record.name_id) else {
        return Err(refuse(
            checks,
            "subject",
            OWN,
            "the assertion's NameID is not the one this IdP issued in it".into(),
        ));
    };
    let format = format.unwrap_or_else(|| sp.format().uri().to_owned());
    checks.pass("subject", OWN, format!("NameID \"{name_id}\" ({format})"));
    Ok(SamlSubject {
        email: record.email,
        auth_time: record.auth_time,
        sub_id: json!({
            "format": "saml-nameid",
            "issuer": own_issuer,
            "nameid": name_id,
            "nameid_format": format,
        }),
    })
}

/// Records the failed check; the `invalid_grant` to send back.
fn refuse(checks: &mut CheckLog, name: &'static str, spec: impl Into<spec::Citation>, why: String) -> OAuthError {
    OAuthError::invalid_grant(checks.fail(name, spec, why).to_string())
}

/// Why a `subject_token` is not a SAML assertion the IdP reads (RFC 8693 §3).
#[derive(Debug, thiserror::Error)]
enum SubjectTokenFormat {
    /// Over [`MAX_SUBJECT_TOKEN_BYTES`].
    #[error("the subject_token is larger than {} KiB", MAX_SUBJECT_TOKEN_BYTES / 1024)]
    TooLarge,
    /// Not base64url (nor padded base64).
    #[error("the subject_token is not a base64url-encoded SAML assertion")]
    NotBase64,
    /// The decoded bytes are not UTF-8.
    #[error("the decoded subject_token is not UTF-8 XML")]
    NotUtf8,
    /// Too large after decoding, or a DTD.
    #[error("the subject_token was refused: {0}")]
    Refused(&'static str),
}

/// The assertion XML from the `subject_token`: base64url (RFC 8693 §3), padded base64 accepted.
fn decode(token: &str) -> Result<String, SubjectTokenFormat> {
    if token.len() > MAX_SUBJECT_TOKEN_BYTES {
        return Err(SubjectTokenFormat::TooLarge);
    }
    let normalised: String = token
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD.decode(normalised).map_err(|_| SubjectTokenFormat::NotBase64)?;
    let xml = String::from_utf8(bytes).map_err(|_| SubjectTokenFormat::NotUtf8)?;
    xml::acceptable(&xml).map_err(SubjectTokenFormat::Refused)?;
    Ok(xml)
}
