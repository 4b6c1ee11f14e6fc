//! RFC 8693 token exchange of an ID token, a SAML assertion or an IdP refresh token for an ID-JAG, in the order of
//! draft-ietf-oauth-identity-assertion-authz-grant-04 §4.3.3 (the client is already authenticated).

use xaa_core::claims::{IdJagClaims, OneOrMany};
use xaa_core::ids;
use xaa_core::oauth::{OAuthError, SubjectTokenType, TokenExchangeRequest, TokenExchangeResponse, no_store_json};
use xaa_core::scope::Scope;
use xaa_core::spec;
use xaa_core::urn;
use xaa_core::validation::CheckLog;
use xaa_core::validation::id_token::{IdTokenExpectations, validate_id_token};

use crate::audit::AuditEntry;
use crate::config::IdpClient;
use crate::policy;
use crate::state::IdpState;

const SEC: &spec::Reference = &spec::IDJAG_4_3;

/// The user the subject token stands for, whichever its type.
struct Subject {
    sub: ids::Subject,
    email: String,
    auth_time: i64,
    /// The draft-04 §3.2 `sub_id`, for a SAML subject.
    sub_id: Option<serde_json::Value>,
}

pub(super) async fn grant(
    st: &IdpState,
    client: &IdpClient,
    request: TokenExchangeRequest,
    checks: &mut CheckLog,
    audit: &mut AuditEntry,
) -> Result<axum::response::Response, OAuthError> {
    let subject_token = request.subject_token.as_str();
    let now = st.clock.now();
    let subject = match request.subject_token_type {
        SubjectTokenType::RefreshToken => {
            // §4.3.3: validated like a refresh_token grant (not rotated); the claims are the user's current ones.
            let (_, grant) = super::refresh_token::live(st, client, subject_token, checks).await?;
            let user = st.user(&grant.email);
            Subject { sub: user.sub(), email: user.email, auth_time: grant.auth_time, sub_id: None }
        }
        SubjectTokenType::Saml2 => {
            // §4.5: this IdP's own assertion, for the authenticated client's SAML SP.
            let saml = crate::saml::subject_token::validate(st, client, subject_token, checks).await?;
            let user = st.user(&saml.email);
            Subject { sub: user.sub(), email: user.email, auth_time: saml.auth_time, sub_id: Some(saml.sub_id) }
        }
        SubjectTokenType::IdToken => {
            let expect = IdTokenExpectations {
                issuer: st.issuer(),
                client_id: &client.client_id,
                now,
                leeway: xaa_core::JWT_LEEWAY,
            };
            let id_token = validate_id_token(subject_token, expect, &st.public_keys(), checks)
                .map_err(|r| OAuthError::invalid_grant(r.to_string()))?;
            Subject { sub: id_token.sub, email: id_token.email, auth_time: id_token.auth_time, sub_id: None }
        }
    };
    audit.user = subject.email.clone();
    // The user's tenant: its IT's policy decides, and the ID-JAG names it (draft-04 §6.1).
    let tenant = st.tenant_of(&subject.email);
    audit.tenant = tenant.id.clone();

    let audience = match request.audience.as_slice() {
        [one] => one,
        [] => {
            return Err(OAuthError::invalid_request(format!(
                "missing required parameter `audience`: the issuer identifier of the resource authorization server ({SEC})"
            )));
        }
        _ => {
            return Err(OAuthError::new(
                xaa_core::oauth::ErrorCode::InvalidTarget,
                format!("an ID-JAG is for exactly one authorization server; send one `audience` ({SEC})"),
            ));
        }
    };
    // `resource` may repeat (RFC 8707 §2); the same resource asked for twice is granted once.
    let resources = xaa_core::resource::dedup(&request.resource);
    let requested_scope = request.scope.as_deref().map(Scope::parse);
    let request = policy::Request {
        client_id: &client.client_id,
        tenant: &tenant.id,
        user: &subject.email,
        audience,
        resources: &resources,
        requested_scope: requested_scope.as_ref(),
    };
    let grant = policy::decide(&st.authorization_servers(), &st.connections(), &request).map_err(|r| {
        // The check log cites what the refusal rests on (a lab decision, when it is one).
        checks.fail("policy", r.spec, r.description.clone());
        r.into_error()
    })?;
    checks.pass(
        "policy",
        &spec::IDJAG_4_3_3,
        format!(
            "IT's connection in tenant '{}' allows '{}' at '{}' with scope '{}'",
            tenant.id, client.client_id, grant.audience, grant.scope
        ),
    );

    let client_ids = [client.client_id.as_str(), grant.resource_client_id.as_str()];
    let lifetime = st.faults.lifetime(st.config.lifetimes.id_jag, &client_ids);
    let mut claims = IdJagClaims {
        iss: st.issuer().clone(),
        sub: subject.sub.clone(),
        aud: OneOrMany::One(grant.audience.clone()),
        client_id: grant.resource_client_id.clone(),
        jti: ids::Jti::new(st.entropy.token(16)),
        exp: now + lifetime,
        iat: now,
        nbf: None,
        resource: OneOrMany::from_values(grant.resources.clone()),
        scope: Some(grant.scope.to_string()),
        auth_time: Some(subject.auth_time),
        email: Some(subject.email.clone()),
        tenant: Some(tenant.id.clone()),
        sub_id: subject.sub_id.clone(),
    };
    let broken = super::break_it::BrokenIdJag::apply(st, &client_ids, &grant, &mut claims);
    let signing = st.keys.signing();
    let key = match broken.untrusted_key {
        true => st.keys.untrusted().ok_or_else(|| OAuthError::server_error("the untrusted demo key is unusable"))?,
        false => signing.as_ref(),
    };
    let id_jag = key
        .sign(broken.typ.unwrap_or(urn::TYP_ID_JAG), &claims)
        .map_err(|e| OAuthError::server_error(format!("signing failed: {e}")))?;
    tracing::info!(
        client.id = %client.client_id, user.sub = %claims.sub, aud = %grant.audience,
        scope = %grant.scope, jti = %claims.jti, "issued ID-JAG"
    );
    audit.scope = grant.scope.to_string();
    audit.jti = claims.jti.to_string();
    if !broken.switches.is_empty() {
        audit.reason = format!("issued broken on purpose by break-it switch {}", broken.switches.join(", "));
    }
    Ok(no_store_json(&TokenExchangeResponse {
        access_token: id_jag,
        issued_token_type: urn::TOKEN_TYPE_ID_JAG,
        token_type: urn::TOKEN_TYPE_N_A,
        expires_in: lifetime,
        scope: Some(grant.scope.to_string()),
        resource: broken.response_resource(&claims),
    }))
}
