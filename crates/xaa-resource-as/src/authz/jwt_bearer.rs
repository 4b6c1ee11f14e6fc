//! The RFC 7523 jwt-bearer grant with an ID-JAG, in the order of
//! draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1 (checklist §5.2); every failure of the
//! assertion is `invalid_grant` with the check and the section that requires it.

use xaa_core::JWT_LEEWAY;
use xaa_core::claims::{AccessTokenClaims, Confirmation, IdJagClaims};
use xaa_core::dpop::ValidProof;
use xaa_core::ids::{Jti, ResourceUri};
use xaa_core::oauth::{AccessTokenResponse, ErrorCode, JwtBearerRequest, OAuthError, no_store_json};
use xaa_core::scope::Scope;
use xaa_core::spec::{self, Citation};
use xaa_core::urn;
use xaa_core::validation::CheckLog;
use xaa_core::validation::id_jag::{IdJagExpectations, validate_id_jag};
use xaa_faults::{Fault, WRONG_RESOURCE};

use crate::config::{AsClient, ProtectedResource};
use crate::state::AsState;

const SEC: &spec::Reference = &spec::IDJAG_4_4_1;
/// Only resources this AS governs (lab decision A16; -04 §4.4.1 points to RFC 8707 only).
const GOVERNED: Citation = Citation::of(&[spec::LAB_A16, spec::IDJAG_4_4_1, spec::RFC8707_2]);
/// A request can only narrow the grant (lab decision A4).
const NARROW_RESOURCE: Citation = Citation::of(&[spec::LAB_A4, spec::RFC8707_2]);
/// The granted scope: the ID-JAG's, the request's and the resource's intersected (lab decision A4).
const NARROW_SCOPE: Citation = Citation::of(&[spec::LAB_A4, spec::RFC6749_3_3]);

pub(super) async fn grant(
    st: &AsState,
    client: &AsClient,
    request: &JwtBearerRequest,
    proof: Option<&ValidProof>,
    checks: &mut CheckLog,
) -> Result<axum::response::Response, OAuthError> {
    let assertion = request.assertion.as_str();
    if st.faults.take(Fault::RefuseNextGrant, &[client.client_id.as_str()]).is_some() {
        let f = checks.fail(
            "break-it switch",
            &spec::BREAK_IT,
            "refused on purpose: the lab's break-it switch 'refuse-next-grant' was on (it is off now; retry)",
        );
        return Err(OAuthError::invalid_grant(f.to_string()));
    }
    let now = st.clock.now();
    let expect = IdJagExpectations {
        audience: &st.config.issuer,
        trusted_issuers: &st.config.trusted_issuers,
        client_id: &client.client_id,
        now,
        leeway: JWT_LEEWAY,
        jkt: proof.map(|p| p.jkt.as_str()),
    };
    let id_jag = validate_id_jag(assertion, expect, st.idp_keys.as_ref(), checks)
        .await
        .map_err(|r| OAuthError::invalid_grant(r.to_string()))?;
    // A SAML-derived grant: its sub_id (§3.2), for a tenant with SAML enabled.
    super::saml_subject::check(&st.config.saml_trust, &id_jag, id_jag.tenant.as_deref(), checks)?;

    let account = super::tenant::account(&id_jag, &st.config.default_tenant, checks)?;
    let resource = choose_resource(st, &id_jag, request.resource.as_ref().map(ResourceUri::as_str), checks)?;
    let scope = grant_scope(&id_jag, &resource, request.scope.as_deref(), checks)?;

    // Replay, last, so a refused request never uses up the ID-JAG: the resource's policy (lab decision A2).
    super::replay::check(st, &id_jag, &resource, now, checks).await?;

    let lifetime = st.faults.lifetime(st.config.access_token_lifetime, &[client.client_id.as_str()]);
    let claims = AccessTokenClaims {
        iss: st.config.issuer.clone(),
        sub: account.sub,
        aud: resource.resource.clone(),
        client_id: client.client_id.clone(),
        scope: scope.to_string(),
        jti: Jti::new(st.entropy.token(16)),
        iat: now,
        exp: now + lifetime,
        auth_time: id_jag.auth_time,
        email: id_jag.email.clone(),
        app_org: Some(account.app_org),
        // Bound to the key of the request's DPoP proof (draft-04 §9.8.1.2.1 and .3; RFC 9449 §6.1).
        cnf: proof.map(|p| Confirmation { jkt: p.jkt.clone() }),
    };
    let access_token = st
        .signing_key
        .sign(urn::TYP_ACCESS_TOKEN, &claims)
        .map_err(|e| OAuthError::server_error(format!("signing failed: {e}")))?;
    tracing::info!(
        client.id = %client.client_id, user.sub = %claims.sub, aud = %claims.aud, scope = %claims.scope,
        id_jag.jti = %id_jag.jti, dpop.jkt = claims.cnf.as_ref().map(|c| c.jkt.as_str()), "issued access token"
    );
    // Break-it: the response names a resource the client did not ask for (the token is unchanged).
    let resource = match st.faults.active(Fault::GrantWrongResource, &[client.client_id.as_str()]) {
        Some(_) => ResourceUri::new(WRONG_RESOURCE),
        None => claims.aud,
    };
    Ok(no_store_json(&AccessTokenResponse {
        access_token,
        token_type: if claims.cnf.is_some() { urn::TOKEN_TYPE_DPOP } else { urn::TOKEN_TYPE_BEARER },
        expires_in: lifetime,
        scope: Some(claims.scope),
        id_token: None,
        refresh_token: None,
        resource: Some(resource),
    }))
}

/// The resource the access token is for: every `resource` in the ID-JAG must be governed by this
/// server (post-04 candidate C1 → `invalid_grant`); a `resource` request parameter (RFC 8707) must be
/// one of them (`invalid_target`); without either, the default resource (lab decision A12).
fn choose_resource(
    st: &AsState,
    id_jag: &IdJagClaims,
    requested: Option<&str>,
    checks: &mut CheckLog,
) -> Result<ProtectedResource, OAuthError> {
    let governed = st.resources();
    let ours = |r: &str| governed.iter().find(|p| p.resource == r).cloned();
    let in_jag: Vec<&str> = id_jag.resource.as_ref().map(|r| r.values()).unwrap_or_default();
    for r in &in_jag {
        if ours(r).is_none() {
            let f = checks.fail(
                "resource",
                GOVERNED,
                format!("resource \"{r}\" in the ID-JAG is not governed by this authorization server"),
            );
            return Err(OAuthError::invalid_grant(f.to_string()));
        }
    }
    let chosen = match (requested, in_jag.first()) {
        (Some(r), _) if !in_jag.is_empty() && !in_jag.contains(&r) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                format!("resource \"{r}\" is not one the ID-JAG grants ({}) ({NARROW_RESOURCE})", in_jag.join(", ")),
            ));
        }
        (Some(r), _) => ours(r).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidTarget,
                format!("resource \"{r}\" is not governed by this authorization server ({GOVERNED})"),
            )
        })?,
        (None, Some(r)) => ours(r).ok_or_else(|| OAuthError::server_error("resource vanished"))?,
        (None, None) => governed
            .first()
            .cloned()
            .ok_or_else(|| OAuthError::server_error("this authorization server has no resources configured"))?,
    };
    checks.pass("resource", SEC, format!("access token audience: \"{}\"", chosen.resource));
    Ok(chosen)
}

/// Granted scope = ID-JAG scope ∩ requested scope (if sent) ∩ the resource's scopes; never wider
/// (lab decision A4). An empty result is `invalid_scope`.
fn grant_scope(
    id_jag: &IdJagClaims,
    resource: &ProtectedResource,
    requested: Option<&str>,
    checks: &mut CheckLog,
) -> Result<Scope, OAuthError> {
    let in_jag = Scope::parse(id_jag.scope.as_deref().unwrap_or(""));
    let mut granted = in_jag.intersection(&Scope::from_tokens(resource.scopes.iter().cloned()));
    if let Some(requested) = requested {
        granted = granted.intersection(&Scope::parse(requested));
    }
    if granted.is_empty() {
        let f = checks.fail(
            "scope",
            NARROW_SCOPE,
            format!(
                "no scope can be granted: the ID-JAG grants \"{in_jag}\", the request asked for \"{}\"",
                requested.unwrap_or("(nothing)")
            ),
        );
        return Err(OAuthError::new(ErrorCode::InvalidScope, f.to_string()));
    }
    checks.pass("scope", NARROW_SCOPE, format!("granted scope \"{granted}\""));
    Ok(granted)
}

pub(super) fn storage(e: xaa_core::sqlite::DbError) -> OAuthError {
    tracing::error!(error = %e, "authorization server storage failed");
    OAuthError::server_error("the authorization server could not read or write its storage")
}
