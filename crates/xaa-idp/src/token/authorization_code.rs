//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6): returns the ID token, and a
//! refresh token when the client asked for `offline_access`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use xaa_core::oauth::{AccessTokenResponse, AuthorizationCodeRequest, OAuthError, no_store_json};
use xaa_core::secret::sha256_b64;
use xaa_core::spec;
use xaa_core::urn;

use super::id_token::{SignIn, mint};
use super::storage;
use crate::config::IdpClient;
use crate::state::IdpState;

pub(super) async fn grant(
    st: &IdpState,
    client: &IdpClient,
    request: &AuthorizationCodeRequest,
    checks: &mut xaa_core::validation::CheckLog,
) -> Result<axum::response::Response, OAuthError> {
    let AuthorizationCodeRequest { code, redirect_uri, code_verifier: verifier } = request;
    let now = st.clock.now();
    let code_hash = sha256_b64(code);
    let mut refuse = |name: &'static str, spec: &'static spec::Reference, description: &str| {
        OAuthError::invalid_grant(checks.fail(name, spec, description).to_string())
    };
    let Some(grant) = st.store.redeem_code(code_hash.clone()).await.map_err(storage)? else {
        return Err(refuse("code", &spec::RFC6749_5_2, "the authorization code is unknown"));
    };
    if grant.already_used {
        st.store.revoke_tokens_of_code(code_hash).await.map_err(storage)?;
        return Err(refuse(
            "code",
            &spec::RFC6749_4_1_2,
            "the authorization code was already used; the tokens issued for it are revoked",
        ));
    }
    if now >= grant.expires_at {
        return Err(refuse("code", &spec::RFC6749_4_1_2, "the authorization code has expired"));
    }
    if grant.request.client_id != client.client_id {
        return Err(refuse("code", &spec::RFC6749_4_1_3, "the authorization code was issued to another client"));
    }
    checks.pass("code", &spec::RFC6749_4_1_2, "the code is known, unused, unexpired and was issued to this client");
    let mut refuse = |name: &'static str, spec: &'static spec::Reference, description: &str| {
        OAuthError::invalid_grant(checks.fail(name, spec, description).to_string())
    };
    if grant.request.redirect_uri != *redirect_uri {
        return Err(refuse(
            "redirect_uri",
            &spec::RFC6749_4_1_3,
            "redirect_uri differs from the one in the authorization request",
        ));
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.request.code_challenge {
        return Err(refuse("pkce", &spec::RFC7636_4_6, "code_verifier does not match the code_challenge (PKCE S256)"));
    }
    checks.pass("redirect_uri", &spec::RFC6749_4_1_3, "the same redirect_uri as the authorization request");
    checks.pass("pkce", &spec::RFC7636_4_6, "SHA-256 of code_verifier equals the code_challenge");
    let minted = mint(
        st,
        client,
        SignIn {
            email: &grant.email,
            auth_time: grant.auth_time,
            nonce: grant.request.nonce.clone(),
            code_hash: &code_hash,
            scope: &grant.request.scope,
        },
    )?;
    let refresh_token = super::refresh_token::for_code_grant(st, client, &grant, &code_hash);
    let refresh_value = refresh_token.as_ref().map(|(value, _, _)| value.clone());
    st.store
        .insert_code_tokens(minted.access_record, refresh_token.map(|(_, hash, record)| (hash, record)))
        .await
        .map_err(storage)?;
    tracing::info!(
        client.id = %client.client_id, user.sub = %minted.sub, refresh_token = refresh_value.is_some(),
        "issued ID token"
    );
    Ok(no_store_json(&AccessTokenResponse {
        access_token: minted.access_token,
        token_type: urn::TOKEN_TYPE_BEARER,
        expires_in: minted.expires_in,
        scope: Some(grant.request.scope),
        id_token: Some(minted.id_token),
        refresh_token: refresh_value,
        resource: None,
    }))
}
