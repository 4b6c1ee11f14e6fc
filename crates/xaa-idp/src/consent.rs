//! User consent, for openly registered clients only. A client IT registered (fixtures, console,
//! admin API) is approved by IT, so its users are never asked, as in an enterprise IdP. A client
//! that registered itself at the open `POST /register` (RFC 7591) has nobody's approval: before it
//! gets a code, the user is asked once (OIDC Core §3.1.2.4), and asked again for scopes not yet
//! allowed or when the request says `prompt=consent`.
//!
//! An Allow is kept in `idp.sqlite` per user (`sub`) and client, with the scopes it covers, so it
//! survives a new session and a restart as a real IdP's does; deleting the client deletes it.

use rusqlite::{OptionalExtension, params};
use xaa_core::ids::{ClientId, Subject};
use xaa_core::sqlite::DbError;

use crate::config::Registration;
use crate::state::IdpState;
use crate::store::{AuthRequest, Store};

/// Whether `email` must allow the request's client before it gets a code.
pub(crate) async fn needed(st: &IdpState, request: &AuthRequest, email: &str) -> Result<bool, DbError> {
    let open = st.client(&request.client_id).is_some_and(|c| c.registration == Registration::Open);
    if !open {
        return Ok(false);
    }
    if request.consent_prompt {
        return Ok(true);
    }
    let sub = st.user(email).sub();
    let granted = st.store.consent(sub, request.client_id.clone()).await?.unwrap_or_default();
    Ok(!covers(&granted, &request.scope))
}

/// Records that `email` allowed the request's client its scopes (added to any allowed before).
pub(crate) async fn grant(st: &IdpState, request: &AuthRequest, email: &str) -> Result<(), DbError> {
    let sub = st.user(email).sub();
    let granted = st.store.consent(sub.clone(), request.client_id.clone()).await?.unwrap_or_default();
    let mut scopes: Vec<&str> = granted.split(' ').filter(|s| !s.is_empty()).collect();
    for s in request.scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    st.store.save_consent(sub, request.client_id.clone(), scopes.join(" "), st.clock.now()).await
}

/// Whether every scope of `requested` is among `granted` (both space-separated).
fn covers(granted: &str, requested: &str) -> bool {
    let granted: Vec<&str> = granted.split(' ').collect();
    requested.split(' ').filter(|s| !s.is_empty()).all(|s| granted.contains(&s))
}

impl Store {
    /// The scopes `sub` allowed `client_id`, if any.
    async fn consent(&self, sub: Subject, client_id: ClientId) -> Result<Option<String>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT scope FROM consents WHERE sub = ?1 AND client_id = ?2",
                    params![sub, client_id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await
    }

    async fn save_consent(&self, sub: Subject, client_id: ClientId, scope: String, now: i64) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO consents (sub, client_id, scope, granted_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(sub, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
                    params![sub, client_id, scope, now],
                )
                .map(drop)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_allow_covers_the_scopes_it_named() {
        assert!(super::covers("openid profile email", "openid email"));
        assert!(super::covers("openid profile", "openid  profile"));
        assert!(!super::covers("openid", "openid offline_access"));
        assert!(!super::covers("", "openid"));
    }
}
