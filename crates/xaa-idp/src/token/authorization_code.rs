//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6): returns the ID token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use xaa_core::claims::IdTokenClaims;
use xaa_core::oauth::{AccessTokenResponse, FormParams, OAuthError, no_store_json};
use xaa_core::secret::{random_token, sha256_b64};
use xaa_core::urn;

use super::storage;
use crate::config::IdpClient;
use crate::routes::user as routes_user;
use crate::state::IdpState;

pub(super) async fn grant(
    st: &IdpState,
    client: &IdpClient,
    params: &FormParams,
) -> Result<axum::response::Response, OAuthError> {
    let code = params.required("code")?;
    let redirect_uri = params.required("redirect_uri")?;
    let verifier = params.required("code_verifier").map_err(|_| {
        OAuthError::invalid_request("missing required parameter `code_verifier` (PKCE is required, RFC 7636 §4.5)")
    })?;
    let now = st.clock.now();
    let code_hash = sha256_b64(code);
    let Some(grant) = st.store.redeem_code(code_hash.clone()).await.map_err(storage)? else {
        return Err(OAuthError::invalid_grant("the authorization code is unknown (RFC 6749 §5.2)"));
    };
    if grant.already_used {
        st.store.revoke_tokens_of_code(code_hash).await.map_err(storage)?;
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used; the tokens issued for it are revoked (RFC 6749 §4.1.2)",
        ));
    }
    if now >= grant.expires_at {
        return Err(OAuthError::invalid_grant("the authorization code has expired (RFC 6749 §4.1.2)"));
    }
    if grant.request.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client (RFC 6749 §4.1.3)"));
    }
    if grant.request.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the one in the authorization request (RFC 6749 §4.1.3)",
        ));
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.request.code_challenge {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge (PKCE S256, RFC 7636 §4.6)",
        ));
    }
    let user = routes_user(st, &grant.email);
    let claims = IdTokenClaims {
        iss: st.issuer().to_owned(),
        sub: user.sub(),
        aud: client.client_id.clone(),
        exp: now + st.config.lifetimes.id_token,
        iat: now,
        auth_time: grant.auth_time,
        nonce: grant.request.nonce.clone(),
        email: user.email.clone(),
        email_verified: true,
        name: Some(user.name.clone()),
    };
    let id_token = st
        .signing_key
        .sign(urn::TYP_ID_TOKEN, &claims)
        .map_err(|e| OAuthError::server_error(format!("signing failed: {e}")))?;
    let access_token = random_token(32);
    let expires_in = st.config.lifetimes.access_token;
    st.store
        .insert_access_token(
            sha256_b64(&access_token),
            code_hash,
            client.client_id.clone(),
            user.email.clone(),
            grant.request.scope.clone(),
            now + expires_in,
        )
        .await
        .map_err(storage)?;
    tracing::info!(client.id = %client.client_id, user.sub = %claims.sub, "issued ID token");
    Ok(no_store_json(&AccessTokenResponse {
        access_token,
        token_type: urn::TOKEN_TYPE_BEARER,
        expires_in,
        scope: Some(grant.request.scope),
        id_token: Some(id_token),
        resource: None,
    }))
}
