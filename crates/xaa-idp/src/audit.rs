//! The IdP's audit log: every token exchange, the ID-JAG issued or the refusal and its reason
//! (the record an IT admin reads; draft-04 §9 "audit of token exchanges").

use rusqlite::params;
use serde::Serialize;
use xaa_core::sqlite::DbError;

use crate::store::Store;

/// One token exchange as the audit log keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When (NumericDate, lab clock).
    pub at: i64,
    /// The requestor (IdP client id; empty when it did not authenticate).
    pub client_id: String,
    /// The user's email, from the subject token (empty when it was not valid).
    pub user: String,
    /// The `audience` sent.
    pub audience: String,
    /// The `resource` values sent, space-separated.
    pub resource: String,
    /// The scope granted (issued) or requested (refused).
    pub scope: String,
    /// `issued` or `refused`.
    pub outcome: String,
    /// The OAuth error code of a refusal.
    pub error: String,
    /// Why it was refused.
    pub reason: String,
    /// The `jti` of the ID-JAG issued.
    pub jti: String,
}

/// Which entries to return, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this client.
    pub client_id: Option<String>,
    /// Only this user (case-insensitive).
    pub user: Option<String>,
    /// Only `issued` or `refused`.
    pub outcome: Option<String>,
    /// At most this many (default 1000).
    pub limit: Option<u32>,
}

impl Store {
    pub(crate) async fn append_audit(&self, e: AuditEntry) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "INSERT INTO audit (at, client_id, user, audience, resource, scope, outcome, error, reason, jti)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    e.at,
                    e.client_id,
                    e.user,
                    e.audience,
                    e.resource,
                    e.scope,
                    e.outcome,
                    e.error,
                    e.reason,
                    e.jti
                ])
                .map(drop)
            })
            .await
    }

    pub(crate) async fn audit(&self, f: AuditFilter) -> Result<Vec<AuditEntry>, DbError> {
        self.db
            .call(move |c| {
                let mut st = c.prepare(
                    "SELECT id, at, client_id, user, audience, resource, scope, outcome, error, reason, jti FROM audit
                     WHERE (?1 IS NULL OR client_id = ?1) AND (?2 IS NULL OR lower(user) = lower(?2))
                       AND (?3 IS NULL OR outcome = ?3)
                     ORDER BY id DESC LIMIT ?4",
                )?;
                let rows =
                    st.query_map(params![f.client_id, f.user, f.outcome, f.limit.unwrap_or(1000).min(100_000)], |r| {
                        Ok(AuditEntry {
                            id: r.get(0)?,
                            at: r.get(1)?,
                            client_id: r.get(2)?,
                            user: r.get(3)?,
                            audience: r.get(4)?,
                            resource: r.get(5)?,
                            scope: r.get(6)?,
                            outcome: r.get(7)?,
                            error: r.get(8)?,
                            reason: r.get(9)?,
                            jti: r.get(10)?,
                        })
                    })?;
                rows.collect()
            })
            .await
    }
}

impl AuditEntry {
    /// The entry for a token-exchange request (`None` for every other grant): who asked for what.
    pub(crate) fn for_exchange(req: &xaa_core::oauth::TokenRequest, at: i64) -> Option<Self> {
        let p = &req.params;
        if p.single("grant_type").ok().flatten() != Some(xaa_core::urn::GRANT_TOKEN_EXCHANGE) {
            return None;
        }
        let presented = xaa_core::oauth::PresentedClient::from_request(req.authorization.as_deref(), p).ok();
        Some(Self {
            at,
            client_id: presented.map(|c| c.client_id).unwrap_or_default(),
            audience: p.values("audience").collect::<Vec<_>>().join(" "),
            resource: p.values("resource").collect::<Vec<_>>().join(" "),
            scope: p.values("scope").collect::<Vec<_>>().join(" "),
            ..Self::default()
        })
    }

    /// Completes the entry with the outcome.
    pub(crate) fn record_outcome(&mut self, refusal: Option<&xaa_core::oauth::OAuthError>) {
        match refusal {
            None => self.outcome = "issued".into(),
            Some(e) => {
                self.outcome = "refused".into();
                self.error = e.code.as_str().into();
                self.reason = e.description.clone();
                self.jti.clear();
            }
        }
    }

    /// The CSV header matching [`AuditEntry::csv_row`].
    pub const CSV_HEADER: &'static str = "id,at,client_id,user,audience,resource,scope,outcome,error,reason,jti";

    /// One RFC 4180 CSV row (fields quoted when they hold a comma, quote or line break).
    pub fn csv_row(&self) -> String {
        let q = |s: &str| {
            // A leading =, +, - or @ would be a formula in a spreadsheet: prefix it with a quote.
            let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
            if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
        };
        [
            self.id.to_string(),
            self.at.to_string(),
            q(&self.client_id),
            q(&self.user),
            q(&self.audience),
            q(&self.resource),
            q(&self.scope),
            q(&self.outcome),
            q(&self.error),
            q(&self.reason),
            q(&self.jti),
        ]
        .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let e = AuditEntry { reason: "a, \"b\"".into(), user: "=cmd".into(), ..Default::default() };
        assert_eq!(e.csv_row(), "0,0,,'=cmd,,,,,,\"a, \"\"b\"\"\",");
    }
}
