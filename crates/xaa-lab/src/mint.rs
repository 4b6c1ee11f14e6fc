//! `lab token …`: tokens signed with the lab's own keys, for test suites in any language, with
//! overrides for negative tests (`--expired`, `--typ`, `--aud`, `--client-id`). The output is the
//! JSON of the endpoint that would have issued the token. `lab check` mints its tokens here too,
//! each with one [`Defect`].

use serde_json::{Map, Value, json};
use xaa_core::claims::{AccessTokenClaims, IdJagClaims, IdTokenClaims, OneOrMany};
use xaa_core::ids::{ClientId, Issuer, Jti, ResourceClientId, ResourceUri, Subject};
use xaa_core::jose::SigningKey;
use xaa_core::jose::forge::{self, Signature};
use xaa_core::urn;
use xaa_idp::User;

use crate::config::Urls;
use crate::fixtures::{Fixtures, LabKeys};

/// Which token to mint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An ID token from the IdP (as the code grant returns it).
    IdToken,
    /// An ID-JAG from the IdP (as the token exchange returns it).
    IdJag,
    /// An access token from the resource authorization server (as jwt-bearer returns it).
    AccessToken,
}

/// What to put in the token.
#[derive(Clone, Debug)]
pub struct MintRequest {
    /// The user.
    pub email: String,
    /// The requestor's IdP client id (its resource-AS client id comes from the fixtures).
    pub client: String,
    /// Granted scope (ID-JAG and access token).
    pub scope: String,
    /// Lifetime in seconds.
    pub lifetime: i64,
    /// Make it expired (issued and expired in the past, beyond the leeway).
    pub expired: bool,
    /// Override the JOSE `typ`.
    pub typ: Option<String>,
    /// Override `aud`.
    pub aud: Option<String>,
    /// Override `client_id` (ID-JAG and access token).
    pub client_id: Option<String>,
    /// Override the ID-JAG's `resource` (default: the todo API).
    pub resource: Option<String>,
    /// What else to get wrong on purpose (none by default).
    pub defect: Defect,
}

/// What a negative token gets wrong besides the overrides of [`MintRequest`]: claims set or
/// removed, the JOSE header changed, the signature forged ([`forge`]).
#[derive(Clone, Debug, Default)]
pub struct Defect {
    /// Claims to set (replacing the minted value), e.g. `aud` as an array, `nbf`, `cnf`.
    pub set: Map<String, Value>,
    /// Claims to remove.
    pub remove: Vec<&'static str>,
    /// No `typ` in the header at all.
    pub no_typ: bool,
    /// The header's `kid` (default: the signing key's).
    pub kid: Option<String>,
    /// Header parameters to add (e.g. `jwk`).
    pub header: Map<String, Value>,
    /// Sign with this key instead of the lab's (a key no JWKS of the lab publishes).
    pub key: Option<std::sync::Arc<SigningKey>>,
    /// How it is signed.
    pub signature: Signature,
}

impl Defect {
    /// Whether this leaves the token as the lab would sign it.
    fn is_none(&self) -> bool {
        self.set.is_empty()
            && self.remove.is_empty()
            && !self.no_typ
            && self.kid.is_none()
            && self.header.is_empty()
            && self.key.is_none()
            && self.signature == Signature::Genuine
    }
}

/// The lab's two signing keys, wherever they are held (loaded for `lab token`, or the running
/// lab's own, which the IdP may have rotated).
#[derive(Clone, Copy, Debug)]
pub struct Signers<'a> {
    /// Signs ID tokens and ID-JAGs.
    pub idp: &'a SigningKey,
    /// Signs access tokens.
    pub resource_as: &'a SigningKey,
}

impl<'a> From<&'a LabKeys> for Signers<'a> {
    fn from(keys: &'a LabKeys) -> Self {
        Self { idp: &keys.idp, resource_as: &keys.resource_as }
    }
}

/// Why a token could not be minted (`lab token` prints the text).
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// `--client` names no requestor of the fixtures.
    #[error("no client \"{0}\" in the fixtures")]
    UnknownClient(String),
    /// The lab's key could not sign the claims.
    #[error("{0}")]
    Sign(#[source] xaa_core::jose::JoseError),
}

/// Mints a token of `kind`; `now` is the current time, `jti`s come from `entropy`.
pub fn mint(
    kind: TokenKind,
    req: &MintRequest,
    urls: &Urls,
    fixtures: &Fixtures,
    keys: Signers<'_>,
    now: i64,
    entropy: &dyn xaa_core::secret::Entropy,
) -> Result<Value, MintError> {
    let requestor = fixtures
        .requestors
        .iter()
        .find(|r| r.idp.client_id == req.client)
        .ok_or_else(|| MintError::UnknownClient(req.client.clone()))?;
    let user = User::for_email(&fixtures.users, &req.email);
    let tenant = user.tenant(&fixtures.tenants).id.clone();
    let iat = if req.expired { now - req.lifetime - 2 * xaa_core::JWT_LEEWAY } else { now };
    let exp = iat + req.lifetime;
    // `--client-id`: any text, to be refused on purpose.
    let resource_client_id =
        || req.client_id.as_deref().map_or_else(|| requestor.resource_as.client_id.clone(), ResourceClientId::new);
    let sign = |key: &SigningKey, default_typ: &str, claims: &dyn erased::Claims| {
        sign(key, req.typ.as_deref().unwrap_or(default_typ), claims.value(), &req.defect)
    };
    Ok(match kind {
        TokenKind::IdToken => {
            let claims = IdTokenClaims {
                iss: urls.idp_issuer(),
                sub: user.sub(),
                aud: ClientId::new(req.aud.as_deref().unwrap_or(&req.client)),
                exp,
                iat,
                auth_time: iat,
                nonce: None,
                email: user.email.clone(),
                email_verified: true,
                name: Some(user.name.clone()),
                tenant: Some(tenant),
            };
            let token = sign(keys.idp, urn::TYP_ID_TOKEN, &claims)?;
            json!({ "id_token": token, "token_type": urn::TOKEN_TYPE_BEARER, "expires_in": req.lifetime, "scope": "openid email profile" })
        }
        TokenKind::IdJag => {
            let claims = IdJagClaims {
                iss: urls.idp_issuer(),
                sub: user.sub(),
                aud: OneOrMany::One(req.aud.as_deref().map_or_else(|| urls.authorization_server_issuer(), Issuer::new)),
                client_id: resource_client_id(),
                jti: Jti::new(entropy.token(16)),
                exp,
                iat,
                nbf: None,
                resource: Some(OneOrMany::One(
                    req.resource.as_deref().map_or_else(|| urls.todo_api_resource(), ResourceUri::new),
                )),
                scope: Some(req.scope.clone()),
                auth_time: Some(iat),
                email: Some(user.email.clone()),
                tenant: Some(tenant),
                sub_id: None,
            };
            let token = sign(keys.idp, urn::TYP_ID_JAG, &claims)?;
            json!({
                "access_token": token, "issued_token_type": urn::TOKEN_TYPE_ID_JAG, "token_type": urn::TOKEN_TYPE_N_A,
                "expires_in": req.lifetime, "scope": req.scope, "resource": req.resource.as_deref().unwrap_or(&urls.todo_api),
            })
        }
        TokenKind::AccessToken => {
            let claims = AccessTokenClaims {
                iss: urls.authorization_server_issuer(),
                sub: Subject::new(format!("{tenant}:{}", user.sub())),
                aud: req.aud.as_deref().map_or_else(|| urls.todo_api_resource(), ResourceUri::new),
                client_id: resource_client_id(),
                scope: req.scope.clone(),
                jti: Jti::new(entropy.token(16)),
                iat,
                exp,
                auth_time: Some(iat),
                email: Some(user.email.clone()),
                app_org: Some(tenant),
                cnf: None,
            };
            let token = sign(keys.resource_as, urn::TYP_ACCESS_TOKEN, &claims)?;
            json!({ "access_token": token, "token_type": urn::TOKEN_TYPE_BEARER, "expires_in": req.lifetime, "scope": req.scope, "resource": urls.todo_api })
        }
    })
}

/// Signs `claims` as the lab would (typ `typ`, the key's `kid`, RS256), or with `defect`.
fn sign(key: &SigningKey, typ: &str, mut claims: Value, defect: &Defect) -> Result<String, MintError> {
    if defect.is_none() {
        return key.sign(typ, &claims).map_err(MintError::Sign);
    }
    if let Value::Object(map) = &mut claims {
        for name in &defect.remove {
            map.remove(*name);
        }
        map.extend(defect.set.clone());
    }
    let key = defect.key.as_deref().unwrap_or(key);
    let mut header = Map::new();
    if !defect.no_typ {
        header.insert("typ".into(), typ.into());
    }
    header.insert("kid".into(), defect.kid.as_deref().unwrap_or(key.kid()).into());
    header.extend(defect.header.clone());
    forge::compact(key, header, &claims, defect.signature).map_err(MintError::Sign)
}

/// Claims of any of the three shapes, as JSON.
mod erased {
    pub(super) trait Claims {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Claims for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}
