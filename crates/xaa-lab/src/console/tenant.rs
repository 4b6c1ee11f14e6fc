//! How the console names a user's IdP tenant (the home page, the flow explorer).

use super::ConsoleState;

/// `email`'s tenant as "id (Name)", e.g. `customer2 (Globex)`.
pub(crate) fn label(st: &ConsoleState, email: &str) -> String {
    let t = st.admin.idp.tenant_of(email);
    format!("{} ({})", t.id, t.name)
}
