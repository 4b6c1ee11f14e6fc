//! The user's account at this authorization server, xaa.dev's shape: an IdP is multi-tenant, so
//! a `sub` is unique only within its `tenant` (draft-ietf-oauth-identity-assertion-authz-grant-04
//! §3.1, §6.3, RAS step 17: other claims by local policy). The access token's `sub` is
//! `{tenant}:{user}` and its `app_org` the tenant; an ID-JAG without `tenant` is the default
//! tenant's ([`crate::ResourceAsConfig::default_tenant`]). The todo API keys todos by that `sub`,
//! so tenants never see each other's data.

use rusqlite::params;
use xaa_core::claims::IdJagClaims;
use xaa_core::ids::Subject;
use xaa_core::oauth::OAuthError;
use xaa_core::spec::{self, Citation};
use xaa_core::sqlite::DbError;
use xaa_core::validation::CheckLog;

use crate::store::Store;

const SEC: Citation = Citation::of(&[spec::IDJAG_3_1, spec::IDJAG_6_3]);

/// Who the access token is about.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Account {
    /// `{tenant}:{user sub}`.
    pub(super) sub: Subject,
    /// The tenant (`app_org`).
    pub(super) app_org: String,
}

/// The account of the ID-JAG's subject: `invalid_grant` for a `tenant` that is empty or holds a
/// `:` (it would make two tenants' accounts collide).
pub(super) fn account(
    id_jag: &IdJagClaims,
    default_tenant: &str,
    checks: &mut CheckLog,
) -> Result<Account, OAuthError> {
    let tenant = match id_jag.tenant.as_deref() {
        Some(t) if t.is_empty() || t.contains(':') => {
            let f = checks.fail("tenant", SEC, format!("tenant \"{t}\" must be a non-empty tenant id without ':'"));
            return Err(OAuthError::invalid_grant(f.to_string()));
        }
        Some(t) => t,
        None => default_tenant,
    };
    let sub = format!("{tenant}:{}", id_jag.sub);
    let how = if id_jag.tenant.is_some() { "the ID-JAG's tenant" } else { "no tenant claim: the default tenant" };
    checks.pass("tenant", SEC, format!("{how} \"{tenant}\": the account is \"{sub}\" (app_org \"{tenant}\")"));
    Ok(Account { sub: Subject::new(sub), app_org: tenant.to_owned() })
}

impl Store {
    /// Todos stored before tenants are keyed by the bare user `sub`: they become the default
    /// tenant's (`{tenant}:{sub}`), so the users of a lab's existing data dir keep their todos.
    /// Idempotent: every key written since holds a `:`.
    pub(crate) fn move_todos_into_tenant(&self, default_tenant: &str) -> Result<(), DbError> {
        let prefix = format!("{default_tenant}:");
        self.db().call_now(move |c| {
            let tx = c.transaction()?;
            tx.execute("UPDATE todos SET sub = ?1 || sub WHERE instr(sub, ':') = 0", params![prefix])?;
            tx.execute("UPDATE OR IGNORE seeded_users SET sub = ?1 || sub WHERE instr(sub, ':') = 0", params![prefix])?;
            tx.commit()
        })?;
        self.forget_listings();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xaa_core::claims::OneOrMany;
    use xaa_core::ids::{Issuer, Jti, ResourceClientId};

    fn jag(tenant: Option<&str>) -> IdJagClaims {
        IdJagClaims {
            iss: Issuer::new("https://idp"),
            sub: Subject::new("ann@x.example"),
            aud: OneOrMany::One(Issuer::new("https://as")),
            client_id: ResourceClientId::new("c"),
            jti: Jti::new("j"),
            exp: 2,
            iat: 1,
            nbf: None,
            resource: None,
            scope: None,
            auth_time: None,
            email: None,
            sub_id: None,
            tenant: tenant.map(str::to_owned),
        }
    }

    #[test]
    fn the_account_is_tenant_colon_sub_and_the_default_without_a_tenant() {
        let a = account(&jag(Some("customer2")), "customer1", &mut CheckLog::new()).unwrap();
        assert_eq!(a, Account { sub: Subject::new("customer2:ann@x.example"), app_org: "customer2".into() });
        let a = account(&jag(None), "customer1", &mut CheckLog::new()).unwrap();
        assert_eq!(a, Account { sub: Subject::new("customer1:ann@x.example"), app_org: "customer1".into() });
        for bad in ["", "a:b"] {
            let e = account(&jag(Some(bad)), "customer1", &mut CheckLog::new()).unwrap_err();
            assert_eq!(e.code.as_str(), "invalid_grant");
        }
    }

    #[test]
    fn todos_from_before_tenants_become_the_default_tenants() {
        let store = Store::open(None).unwrap();
        store
            .db()
            .call_now(|c| {
                c.execute_batch(
                    "INSERT INTO todos (sub, title, created_at) VALUES ('ann@x.example', 'old', 1), ('customer2:bo@y.example', 'new', 1);
                     INSERT INTO seeded_users (sub) VALUES ('ann@x.example');",
                )
            })
            .unwrap();
        store.move_todos_into_tenant("customer1").unwrap();
        store.move_todos_into_tenant("customer1").unwrap();
        let subs: Vec<String> = store
            .db()
            .call_now(|c| {
                let mut st = c.prepare("SELECT sub FROM todos ORDER BY id")?;
                let mut subs = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
                subs.push(c.query_row("SELECT sub FROM seeded_users", [], |r| r.get(0))?);
                Ok(subs)
            })
            .unwrap();
        assert_eq!(subs, ["customer1:ann@x.example", "customer2:bo@y.example", "customer1:ann@x.example"]);
    }
}
