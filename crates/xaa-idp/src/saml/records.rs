//! What the IdP keeps for SAML: the AuthnRequest behind a login in progress, and the record of
//! every assertion it issued. Every statement is parameterised.

use rusqlite::{OptionalExtension, params};
use xaa_core::sqlite::DbError;

use crate::store::Store;

/// The AuthnRequest a login answers.
#[derive(Clone, Debug)]
pub(crate) struct SamlLogin {
    pub(crate) sp_entity_id: String,
    pub(crate) request_id: String,
    pub(crate) relay_state: Option<String>,
}

/// An assertion as issued.
#[derive(Clone, Debug)]
pub(crate) struct IssuedAssertion {
    pub(crate) id: String,
    pub(crate) sp_entity_id: String,
    pub(crate) email: String,
    pub(crate) name_id: String,
    pub(crate) auth_time: i64,
    pub(crate) expires_at: i64,
}

impl Store {
    /// Ties a login to the AuthnRequest it answers.
    pub(crate) async fn insert_saml_login(&self, login_id: String, l: SamlLogin, now: i64) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute(
                    "DELETE FROM saml_logins WHERE created_at < ?1",
                    params![now - crate::authorization_request::LOGIN_TTL],
                )?;
                c.execute(
                    "INSERT INTO saml_logins (login_id, sp_entity_id, request_id, relay_state, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![login_id, l.sp_entity_id, l.request_id, l.relay_state, now],
                )
                .map(drop)
            })
            .await
    }

    /// The AuthnRequest behind a login, if a SAML SP started it.
    pub(crate) async fn saml_login(&self, login_id: String) -> Result<Option<SamlLogin>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT sp_entity_id, request_id, relay_state FROM saml_logins WHERE login_id = ?1",
                    params![login_id],
                    |r| Ok(SamlLogin { sp_entity_id: r.get(0)?, request_id: r.get(1)?, relay_state: r.get(2)? }),
                )
                .optional()
            })
            .await
    }

    /// Ends a SAML login: the login rows go, the session starts, in one transaction.
    pub(crate) async fn complete_saml_login(
        &self,
        login_id: String,
        session: (String, String, i64, i64),
    ) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM logins WHERE id = ?1", params![login_id])?;
                tx.execute("DELETE FROM saml_logins WHERE login_id = ?1", params![login_id])?;
                let (hash, email, auth_time, expires_at) = session;
                tx.execute(
                    "INSERT INTO sessions (id_hash, email, auth_time, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    params![hash, email, auth_time, expires_at],
                )?;
                tx.commit()
            })
            .await
    }

    /// Records an issued assertion (and forgets those expired an hour ago).
    pub(crate) async fn insert_saml_assertion(&self, a: IssuedAssertion, now: i64) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute("DELETE FROM saml_assertions WHERE expires_at < ?1", params![now - 3600])?;
                c.execute(
                    "INSERT INTO saml_assertions (id, sp_entity_id, email, name_id, auth_time, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![a.id, a.sp_entity_id, a.email, a.name_id, a.auth_time, a.expires_at],
                )
                .map(drop)
            })
            .await
    }

    /// The issued assertion with this ID.
    pub(crate) async fn saml_assertion(&self, id: String) -> Result<Option<IssuedAssertion>, DbError> {
        self.db
            .call(move |c| {
                c.query_row(
                    "SELECT id, sp_entity_id, email, name_id, auth_time, expires_at FROM saml_assertions WHERE id = ?1",
                    params![id],
                    |r| {
                        Ok(IssuedAssertion {
                            id: r.get(0)?,
                            sp_entity_id: r.get(1)?,
                            email: r.get(2)?,
                            name_id: r.get(3)?,
                            auth_time: r.get(4)?,
                            expires_at: r.get(5)?,
                        })
                    },
                )
                .optional()
            })
            .await
    }
}
