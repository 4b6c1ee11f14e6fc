//! The IdP's break-it switches: ID-JAGs broken on purpose, each in one way a resource AS must
//! refuse (checklist §5.2), or a response a requestor must not trust (a `resource` it did not ask
//! for), so a requestor's handling of the refusal can be shown.

use xaa_core::claims::{IdJagClaims, OneOrMany};
use xaa_core::ids::{Issuer, ResourceClientId, ResourceUri};
use xaa_faults::{Fault, WRONG_RESOURCE};

use crate::policy::Grant;
use crate::state::IdpState;

/// How the next ID-JAG is broken.
#[derive(Debug, Default)]
pub(super) struct BrokenIdJag {
    /// The JOSE `typ` to use instead of `oauth-id-jag+jwt`.
    pub(super) typ: Option<&'static str>,
    /// Sign with the key that no JWKS publishes.
    pub(super) untrusted_key: bool,
    /// Name [`WRONG_RESOURCE`] in the response's `resource` member (not in the ID-JAG).
    pub(super) wrong_response_resource: bool,
    /// The switches that applied (for the audit log).
    pub(super) switches: Vec<&'static str>,
}

impl BrokenIdJag {
    /// The `resource` member of the response: the ID-JAG's, unless a switch says otherwise.
    pub(super) fn response_resource(&self, claims: &IdJagClaims) -> Option<OneOrMany<ResourceUri>> {
        match self.wrong_response_resource {
            true => Some(OneOrMany::One(ResourceUri::new(WRONG_RESOURCE))),
            false => claims.resource.clone(),
        }
    }

    /// Applies every IdP switch that is on for `client_ids` to `claims`.
    pub(super) fn apply(st: &IdpState, client_ids: &[&str], grant: &Grant, claims: &mut IdJagClaims) -> Self {
        let mut out = BrokenIdJag::default();
        let on = |f: Fault| st.faults.active(f, client_ids).is_some();
        if on(Fault::IdJagExpired) {
            let lifetime = claims.exp - claims.iat;
            claims.exp = claims.iat - 120;
            claims.iat = claims.exp - lifetime;
            out.switches.push(Fault::IdJagExpired.name());
        }
        if on(Fault::IdJagWrongTyp) {
            out.typ = Some("JWT");
            out.switches.push(Fault::IdJagWrongTyp.name());
        }
        if on(Fault::IdJagWrongAud) {
            // The classic mix-up: the resource (todo API) where the authorization server belongs.
            let resource = grant.resources.first().cloned().or_else(|| {
                st.config
                    .authorization_servers
                    .iter()
                    .find(|s| s.issuer == grant.audience)
                    .and_then(|s| s.resources.first())
                    .map(|r| r.resource.clone())
            });
            let wrong = resource.map_or_else(|| format!("{}/not-the-issuer", grant.audience), ResourceUri::into_string);
            claims.aud = OneOrMany::One(Issuer::new(wrong));
            out.switches.push(Fault::IdJagWrongAud.name());
        }
        if on(Fault::IdJagForeignClientId) {
            let other = st
                .connections()
                .into_iter()
                .map(|c| c.resource_client_id)
                .find(|id| *id != grant.resource_client_id)
                .unwrap_or_else(|| ResourceClientId::new("another-client-at-todo0"));
            claims.client_id = other;
            out.switches.push(Fault::IdJagForeignClientId.name());
        }
        if on(Fault::IdJagUntrustedKey) {
            out.untrusted_key = true;
            out.switches.push(Fault::IdJagUntrustedKey.name());
        }
        if on(Fault::ExchangeWrongResource) {
            out.wrong_response_resource = true;
            out.switches.push(Fault::ExchangeWrongResource.name());
        }
        out
    }
}
