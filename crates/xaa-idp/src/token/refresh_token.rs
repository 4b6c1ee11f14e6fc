//! IdP refresh tokens: issued by the code grant for `offline_access` (OIDC Core §11), redeemed by the
//! `refresh_token` grant (RFC 6749 §6) and accepted as a token-exchange subject token
//! (draft-ietf-oauth-identity-assertion-authz-grant §4.3.3).
//!
//! Tokens are opaque, stored as SHA-256 hashes, bound to the client and to the sign-in's family (the
//! authorization code the chain started from). Every refresh grant rotates: the presented token is
//! marked used and a successor with the same scope and the same absolute expiry is issued. Presenting
//! a rotated token again is reuse and revokes the whole family (OAuth 2.0 Security BCP §4.14.2).
//! A token exchange reads the token and does not rotate it.

use xaa_core::oauth::{AccessTokenResponse, ErrorCode, OAuthError, RefreshTokenRequest, no_store_json};
use xaa_core::scope::Scope;
use xaa_core::secret::sha256_b64;
use xaa_core::spec;
use xaa_core::urn;
use xaa_core::validation::CheckLog;

use super::id_token::{SignIn, mint};
use super::storage;
use crate::config::IdpClient;
use crate::state::IdpState;
use crate::store::{CodeGrant, RefreshGrant};

const REFRESH: &spec::Reference = &spec::RFC6749_6;
const REUSE: &spec::Reference = &spec::RFC9700_4_14_2;

/// The refresh token a code grant issues: `(value, hash, record)`, when the client asked for
/// `offline_access` and may use the `refresh_token` grant.
pub(super) fn for_code_grant(
    st: &IdpState,
    client: &IdpClient,
    grant: &CodeGrant,
    code_hash: &str,
) -> Option<(String, String, RefreshGrant)> {
    let asked = Scope::parse(&grant.request.scope).contains(urn::SCOPE_OFFLINE_ACCESS);
    let allowed = client.grant_types.is_empty() || client.grant_types.iter().any(|g| g == urn::GRANT_REFRESH_TOKEN);
    if !(asked && allowed) {
        return None;
    }
    let value = st.entropy.token(32);
    let record = RefreshGrant {
        code_hash: code_hash.to_owned(),
        client_id: client.client_id.clone(),
        email: grant.email.clone(),
        scope: grant.request.scope.clone(),
        auth_time: grant.auth_time,
        expires_at: st.clock.now() + st.config.lifetimes.refresh_token,
        used: false,
    };
    let hash = sha256_b64(&value);
    Some((value, hash, record))
}

/// A refresh token that is known, this client's, not rotated and unexpired: its hash and record.
/// Every refusal is `invalid_grant` (RFC 6749 §5.2); a rotated token revokes its family first.
pub(super) async fn live(
    st: &IdpState,
    client: &IdpClient,
    token: &str,
    checks: &mut CheckLog,
) -> Result<(String, RefreshGrant), OAuthError> {
    let hash = sha256_b64(token);
    let mut refuse = |spec: &'static spec::Reference, description: &str| {
        OAuthError::invalid_grant(checks.fail("refresh_token", spec, description).to_string())
    };
    let Some(grant) = st.store.refresh_token(hash.clone()).await.map_err(storage)? else {
        return Err(refuse(REFRESH, "the refresh token is unknown or revoked"));
    };
    if grant.client_id != client.client_id {
        return Err(refuse(&spec::RFC6749_10_4, "the refresh token was issued to another client"));
    }
    if grant.used {
        st.store.revoke_tokens_of_code(grant.code_hash).await.map_err(storage)?;
        return Err(refuse(
            REUSE,
            "the refresh token was already rotated; reusing it revoked every token of that sign-in",
        ));
    }
    if st.clock.now() >= grant.expires_at {
        return Err(refuse(REFRESH, "the refresh token has expired"));
    }
    checks.pass("refresh_token", REFRESH, "the refresh token is known, unrotated, unexpired and this client's");
    Ok((hash, grant))
}

/// The `refresh_token` grant: a new ID token, access token and (rotated) refresh token.
pub(super) async fn grant(
    st: &IdpState,
    client: &IdpClient,
    request: &RefreshTokenRequest,
    checks: &mut CheckLog,
) -> Result<axum::response::Response, OAuthError> {
    let token = request.refresh_token.as_str();
    let requested = request.scope.as_deref().map(Scope::parse);
    let (old_hash, grant) = live(st, client, token, checks).await?;
    let original = Scope::parse(&grant.scope);
    let scope = match requested {
        Some(asked) if !asked.is_subset(&original) => {
            let extra = asked.difference(&original);
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                checks
                    .fail("scope", REFRESH, format!("scope '{extra}' was not granted with the refresh token"))
                    .to_string(),
            ));
        }
        Some(asked) if !asked.is_empty() => asked.to_string(),
        _ => grant.scope.clone(),
    };
    let minted = mint(
        st,
        client,
        SignIn {
            email: &grant.email,
            auth_time: grant.auth_time,
            nonce: None,
            code_hash: &grant.code_hash,
            scope: &scope,
        },
    )?;
    let value = st.entropy.token(32);
    let successor = RefreshGrant { used: false, ..grant.clone() };
    let rotated = st
        .store
        .rotate_refresh_token(old_hash, (sha256_b64(&value), successor), minted.access_record)
        .await
        .map_err(storage)?;
    if !rotated {
        // Another request rotated it between the lookup and now: the same token used twice.
        st.store.revoke_tokens_of_code(grant.code_hash).await.map_err(storage)?;
        return Err(OAuthError::invalid_grant(
            checks
                .fail(
                    "refresh_token",
                    REUSE,
                    "the refresh token was used twice at once; every token of that sign-in is revoked",
                )
                .to_string(),
        ));
    }
    tracing::info!(client.id = %client.client_id, user.sub = %minted.sub, "refreshed: issued ID token, rotated the refresh token");
    Ok(no_store_json(&AccessTokenResponse {
        access_token: minted.access_token,
        token_type: urn::TOKEN_TYPE_BEARER,
        expires_in: minted.expires_in,
        scope: Some(scope),
        id_token: Some(minted.id_token),
        refresh_token: Some(value),
        resource: None,
    }))
}
