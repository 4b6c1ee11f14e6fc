//! The `sub_id` of a SAML-derived ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant-04
//! §3.2; checklist §5.2 step 14): an RFC 9493 `saml-nameid` subject identifier whose `issuer` is
//! a SAML issuer this AS trusts for the ID-JAG's IdP (never trusted because the ID-JAG names it,
//! §9.5), and, as on xaa.dev, accepted only for the IdP tenants with SAML enabled. Every failure
//! is `invalid_grant`. An ID-JAG without `sub_id` is not a SAML-derived grant and is not checked.

use serde_json::Value;
use xaa_core::claims::IdJagClaims;
use xaa_core::oauth::OAuthError;
use xaa_core::spec::{self, Citation};
use xaa_core::validation::CheckLog;

use crate::config::SamlTrust;

const SEC: Citation = Citation::of(&[spec::IDJAG_3_2, spec::IDJAG_3_2_2]);
/// SAML-derived grants for the configured tenants only: xaa.dev's behaviour (lab decision A19).
const TENANT: Citation = Citation::of(&[spec::LAB_A19, spec::IDJAG_3_2_2]);

/// Checks `id_jag.sub_id` against `trust`; `tenant` is the ID-JAG's `tenant` claim, if any.
pub(super) fn check(
    trust: &[SamlTrust],
    id_jag: &IdJagClaims,
    tenant: Option<&str>,
    checks: &mut CheckLog,
) -> Result<(), OAuthError> {
    let Some(sub_id) = &id_jag.sub_id else { return Ok(()) };
    let mut refuse =
        |spec: Citation, why: String| OAuthError::invalid_grant(checks.fail("sub_id", spec, why).to_string());
    let member = |name: &str| sub_id.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    let (Some("saml-nameid"), Some(issuer), Some(nameid)) = (member("format"), member("issuer"), member("nameid"))
    else {
        return Err(refuse(
            SEC,
            format!(
                "sub_id must be an RFC 9493 subject identifier of format \"saml-nameid\" with string members format, issuer and nameid; got {sub_id}"
            ),
        ));
    };
    let Some(trusted) = trust.iter().find(|t| t.idp_issuer == id_jag.iss && t.saml_issuer == issuer) else {
        return Err(refuse(
            SEC,
            format!(
                "sub_id issuer \"{issuer}\" is not a SAML issuer this authorization server trusts for the IdP \"{}\"",
                id_jag.iss
            ),
        ));
    };
    if let Some(tenant) = tenant
        && !trusted.tenants.iter().any(|t| t == tenant)
    {
        return Err(refuse(
            TENANT,
            format!(
                "SAML-derived grants are accepted only for tenant {}; this ID-JAG is for tenant \"{tenant}\"",
                trusted.tenants.join(", ")
            ),
        ));
    }
    checks.pass("sub_id", SEC, format!("saml-nameid \"{nameid}\" from the trusted SAML issuer \"{issuer}\""));
    Ok(())
}
