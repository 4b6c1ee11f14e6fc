//! Sign-outs waiting for the user's confirmation (OpenID Connect RP-Initiated Logout 1.0 §6: a
//! logout request without a valid `id_token_hint` may be a forgery, so the user confirms first).
//! Each is bound to the session it would end; its form carries the IdP's CSRF token.

use rusqlite::{OptionalExtension, params};
use xaa_core::sqlite::DbError;

use crate::store::Store;

/// A sign-out the user has not confirmed yet.
#[derive(Clone, Debug)]
pub(crate) struct PendingLogout {
    /// The hash of the session it ends: the confirmation only works with that session's cookie.
    pub(crate) session_hash: String,
    /// Where to go after: the registered `post_logout_redirect_uri` with `state`, already checked.
    pub(crate) redirect_to: Option<String>,
    pub(crate) created_at: i64,
}

impl Store {
    pub(crate) async fn insert_logout(&self, id: String, logout: PendingLogout) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                // Housekeeping: a confirmation is good for as long as a login page.
                c.execute(
                    "DELETE FROM logouts WHERE created_at < ?1",
                    params![logout.created_at - crate::authorization_request::LOGIN_TTL],
                )?;
                c.execute(
                    "INSERT INTO logouts (id, session_hash, redirect_to, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, logout.session_hash, logout.redirect_to, logout.created_at],
                )
                .map(drop)
            })
            .await
    }

    /// The pending sign-out `id`.
    pub(crate) async fn logout(&self, id: String) -> Result<Option<PendingLogout>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT session_hash, redirect_to, created_at FROM logouts WHERE id = ?1",
                    params![id],
                    |r| Ok(PendingLogout { session_hash: r.get(0)?, redirect_to: r.get(1)?, created_at: r.get(2)? }),
                )
                .optional()
            })
            .await
    }

    /// A confirmed sign-out: its session and the confirmation itself end, in one transaction.
    pub(crate) async fn finish_logout(&self, id: String, session_hash: String) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM logouts WHERE id = ?1", params![id])?;
                tx.execute("DELETE FROM sessions WHERE id_hash = ?1", params![session_hash])?;
                tx.commit()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::PendingLogout;
    use crate::store::{AuthRequest, Store};

    /// An `idp.sqlite` of a lab from before the forms' CSRF tokens were bound to the browser's
    /// cookie stored one with each pending login and logout: the columns go, and both are stored
    /// and read back.
    #[tokio::test]
    async fn pending_logins_and_logouts_stored_with_a_csrf_column_migrate() {
        let path = std::env::temp_dir().join(format!("xaa-idp-csrf-columns-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE logins (id TEXT PRIMARY KEY, csrf TEXT NOT NULL, client_id TEXT NOT NULL,
                 redirect_uri TEXT NOT NULL, state TEXT, nonce TEXT, code_challenge TEXT NOT NULL, scope TEXT NOT NULL,
                 email TEXT, created_at INTEGER NOT NULL, consent_prompt INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE logouts (id TEXT PRIMARY KEY, csrf TEXT NOT NULL, session_hash TEXT NOT NULL,
                 redirect_to TEXT, created_at INTEGER NOT NULL);",
        )
        .unwrap();
        drop(old);
        let store = Store::open(Some(&path)).unwrap();
        let request = AuthRequest {
            client_id: xaa_core::ids::ClientId::new("app"),
            redirect_uri: "http://localhost:3000/cb".into(),
            state: None,
            nonce: None,
            code_challenge: "c".into(),
            scope: "openid".into(),
            consent_prompt: false,
        };
        store.insert_login("login-1".into(), request, 100).await.unwrap();
        let login = store.login("login-1".into()).await.unwrap();
        assert_eq!(login.map(|l| l.request.client_id.into_string()).as_deref(), Some("app"));
        let pending = PendingLogout { session_hash: "h".into(), redirect_to: None, created_at: 100 };
        store.insert_logout("logout-1".into(), pending).await.unwrap();
        assert_eq!(store.logout("logout-1".into()).await.unwrap().map(|l| l.session_hash).as_deref(), Some("h"));
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
