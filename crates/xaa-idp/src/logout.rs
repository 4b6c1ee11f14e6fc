//! Sign-outs waiting for the user's confirmation (OpenID Connect RP-Initiated Logout 1.0 §6: a
//! logout request without a valid `id_token_hint` may be a forgery, so the user confirms first).
//! Each is bound to the session it would end, and its form carries a CSRF token.

use rusqlite::{OptionalExtension, params};
use xaa_core::sqlite::DbError;

use crate::store::Store;

/// A sign-out the user has not confirmed yet.
#[derive(Clone, Debug)]
pub(crate) struct PendingLogout {
    pub(crate) csrf: String,
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
                    params![logout.created_at - crate::sign_in::LOGIN_TTL],
                )?;
                c.execute(
                    "INSERT INTO logouts (id, csrf, session_hash, redirect_to, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, logout.csrf, logout.session_hash, logout.redirect_to, logout.created_at],
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
                    "SELECT csrf, session_hash, redirect_to, created_at FROM logouts WHERE id = ?1",
                    params![id],
                    |r| {
                        Ok(PendingLogout {
                            csrf: r.get(0)?,
                            session_hash: r.get(1)?,
                            redirect_to: r.get(2)?,
                            created_at: r.get(3)?,
                        })
                    },
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
