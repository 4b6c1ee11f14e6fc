//! IdP tenants: one issuer serving several organisations (draft-ietf-oauth-identity-assertion-authz-grant-04
//! §6.1, §6.3), each with its own users and its own connection policy, as xaa.dev's
//! `customer1`…`customer3`. A `sub` is unique only within its tenant, so the ID token and the
//! ID-JAG carry a `tenant` claim and `iss` + `tenant` + `sub` identify a user.
//!
//! A user's tenant is the one the fixture user names; any other email belongs to the tenant that
//! claims its domain, else to the default tenant (the first one), which holds the single-tenant
//! lab's users and policy unchanged.

use serde::Deserialize;

/// One tenant of the IdP.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Tenant {
    /// Its identifier, the `tenant` claim (e.g. `customer2`).
    pub id: String,
    /// The organisation's name, shown on the pages.
    pub name: String,
    /// Email domains whose users belong to it (lower case, e.g. `globex.example`).
    #[serde(default)]
    pub domains: Vec<String>,
}

/// The IdP's tenants, never empty; the first is the default tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenants(Vec<Tenant>);

/// Why a list of tenants is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TenantsError {
    /// No tenant at all.
    #[error("at least one tenant is needed (the first is the default)")]
    Empty,
    /// A tenant id is empty or has characters other than letters, digits, `-`, `_` or `.`.
    #[error("tenant id \"{0}\" must be letters, digits, '-', '_' or '.'")]
    BadId(String),
    /// Two tenants have one id.
    #[error("tenant \"{0}\" is listed twice")]
    Duplicate(String),
    /// Two tenants claim one email domain.
    #[error("the domain \"{0}\" is claimed by two tenants")]
    SharedDomain(String),
}

impl Tenants {
    /// Checks `tenants`: at least one, ids unique and URL- and claim-safe, domains claimed once.
    pub fn new(tenants: Vec<Tenant>) -> Result<Self, TenantsError> {
        if tenants.is_empty() {
            return Err(TenantsError::Empty);
        }
        for (i, t) in tenants.iter().enumerate() {
            let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if t.id.is_empty() || t.id.len() > 64 || !t.id.chars().all(safe) {
                return Err(TenantsError::BadId(t.id.clone()));
            }
            if tenants[..i].iter().any(|o| o.id == t.id) {
                return Err(TenantsError::Duplicate(t.id.clone()));
            }
            if let Some(d) = t.domains.iter().find(|d| tenants[..i].iter().any(|o| o.claims(d))) {
                return Err(TenantsError::SharedDomain(d.clone()));
            }
        }
        Ok(Self(tenants))
    }

    /// Every tenant, the default first.
    pub fn all(&self) -> &[Tenant] {
        &self.0
    }

    /// The default tenant: the one of an email no tenant claims, and of connections and
    /// registrations that name none.
    pub fn default_tenant(&self) -> &Tenant {
        &self.0[0]
    }

    /// The tenant with this id.
    pub fn get(&self, id: &str) -> Option<&Tenant> {
        self.0.iter().find(|t| t.id == id)
    }

    /// The tenant of the user with `email` whose fixture names tenant `named`: that one, else the
    /// one claiming the email's domain, else the default.
    pub fn of(&self, email: &str, named: Option<&str>) -> &Tenant {
        if let Some(t) = named.and_then(|id| self.get(id)) {
            return t;
        }
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        self.0.iter().find(|t| t.claims(domain)).unwrap_or_else(|| self.default_tenant())
    }
}

impl Tenant {
    /// Whether this tenant claims the email domain `domain` (case-insensitive).
    fn claims(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str, domains: &[&str]) -> Tenant {
        Tenant { id: id.into(), name: id.into(), domains: domains.iter().map(|d| (*d).to_owned()).collect() }
    }

    #[test]
    fn a_user_belongs_to_its_named_tenant_then_its_domain_then_the_default() {
        let t = Tenants::new(vec![tenant("c1", &["acme.example"]), tenant("c2", &["globex.example"])]).unwrap();
        assert_eq!(t.of("ann@GLOBEX.example", None).id, "c2");
        assert_eq!(t.of("ann@globex.example", Some("c1")).id, "c1", "the fixture user's own tenant wins");
        assert_eq!(t.of("ann@elsewhere.example", None).id, "c1");
        assert_eq!(t.of("ann@elsewhere.example", Some("gone")).id, "c1", "an unknown tenant: the default");
    }

    #[test]
    fn refuses_unusable_lists() {
        assert_eq!(Tenants::new(Vec::new()), Err(TenantsError::Empty));
        assert_eq!(Tenants::new(vec![tenant("a b", &[])]), Err(TenantsError::BadId("a b".into())));
        assert_eq!(Tenants::new(vec![tenant("a", &[]), tenant("a", &[])]), Err(TenantsError::Duplicate("a".into())));
        assert_eq!(
            Tenants::new(vec![tenant("a", &["x.example"]), tenant("b", &["X.example"])]),
            Err(TenantsError::SharedDomain("X.example".into()))
        );
    }
}
