//! How the console names a user's IdP tenant (the home page, the flow explorer).

use super::ConsoleState;

/// `email`'s tenant as "id (Name)", e.g. `customer2 (Globex)`.
pub(crate) fn label(st: &ConsoleState, email: &str) -> String {
    let t = st.admin.idp.tenant_of(email);
    format!("{} ({})", t.id, t.name)
}

/// The tenant an ID token names (its `tenant` claim, read from the explorer's own token), with
/// the tenant's name when the IdP knows it.
pub(crate) fn of_id_token(st: &ConsoleState, id_token: &str) -> Option<String> {
    let jwt = xaa_core::jose::unverified::UnverifiedJwt::parse(id_token).ok()?;
    let id = jwt.unverified_claims().get("tenant")?.as_str()?;
    Some(match st.admin.idp.tenants().get(id) {
        Some(t) => format!("{} ({})", t.id, t.name),
        None => id.to_owned(),
    })
}
