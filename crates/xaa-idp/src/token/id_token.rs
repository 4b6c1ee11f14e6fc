//! The tokens the code and refresh grants return (OIDC Core §3.1.3.3, §12.2): a signed ID token
//! with the user's current claims, and an opaque IdP access token for `/userinfo`.

use xaa_core::claims::IdTokenClaims;
use xaa_core::ids::Subject;
use xaa_core::oauth::OAuthError;
use xaa_core::secret::sha256_b64;
use xaa_core::urn;

use crate::config::IdpClient;
use crate::state::IdpState;
use crate::store::NewAccessToken;

/// What a grant knows about the sign-in it issues for.
pub(super) struct SignIn<'a> {
    pub(super) email: &'a str,
    pub(super) auth_time: i64,
    /// Echoed in the code grant; absent on refresh (OIDC Core §12.2).
    pub(super) nonce: Option<String>,
    /// The token family: the authorization code the chain started from.
    pub(super) code_hash: &'a str,
    pub(super) scope: &'a str,
}

/// An ID token and an access token, minted but not yet stored.
pub(super) struct Minted {
    pub(super) id_token: String,
    pub(super) sub: Subject,
    pub(super) access_token: String,
    pub(super) access_record: NewAccessToken,
    pub(super) expires_in: i64,
}

pub(super) fn mint(st: &IdpState, client: &IdpClient, s: SignIn<'_>) -> Result<Minted, OAuthError> {
    let now = st.clock.now();
    let user = st.user(s.email);
    let claims = IdTokenClaims {
        iss: st.issuer().clone(),
        sub: user.sub(),
        aud: client.client_id.clone(),
        exp: now + st.faults.lifetime(st.config.lifetimes.id_token, &[client.client_id.as_str()]),
        iat: now,
        auth_time: s.auth_time,
        nonce: s.nonce,
        email: user.email.clone(),
        email_verified: true,
        name: Some(user.name.clone()),
        tenant: Some(user.tenant(&st.config.tenants).id.clone()),
    };
    let id_token = st
        .keys
        .signing()
        .sign(urn::TYP_ID_TOKEN, &claims)
        .map_err(|e| OAuthError::server_error(format!("signing failed: {e}")))?;
    let access_token = st.entropy.token(32);
    let expires_in = st.config.lifetimes.access_token;
    let access_record = NewAccessToken {
        hash: sha256_b64(&access_token),
        code_hash: s.code_hash.to_owned(),
        client_id: client.client_id.clone(),
        email: user.email,
        scope: s.scope.to_owned(),
        expires_at: now + expires_in,
    };
    Ok(Minted { id_token, sub: claims.sub, access_token, access_record, expires_in })
}
