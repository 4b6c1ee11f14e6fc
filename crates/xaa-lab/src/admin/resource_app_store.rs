//! Where the registered resource apps ("bring your own resource") live: `resource_apps.sqlite` in
//! the data dir (in memory without one), one row per app with its record as JSON, so they survive
//! a restart. Their clients and connections live with the IdP and the resource AS as usual.

use rusqlite::params;
use xaa_core::sqlite::{Db, DbError};

use super::resource_app::ResourceApp;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS resource_apps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    record TEXT NOT NULL,
    created_at INTEGER NOT NULL
);";

/// The resource apps' database.
#[derive(Clone, Debug)]
pub(crate) struct ResourceAppStore {
    db: Db,
}

impl ResourceAppStore {
    /// Opens `path` (in memory when `None`).
    pub(crate) fn open(path: Option<&std::path::Path>) -> Result<Self, DbError> {
        Ok(Self { db: Db::open(path, SCHEMA)? })
    }

    /// Every registered app, oldest first (read at start-up).
    pub(crate) fn load(&self) -> Result<Vec<ResourceApp>, DbError> {
        self.db.call_now(|c| {
            let mut st = c.prepare("SELECT record FROM resource_apps ORDER BY created_at, rowid")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                match serde_json::from_str(&row?) {
                    Ok(app) => out.push(app),
                    Err(e) => tracing::warn!(error = %e, "a stored resource app could not be read; skipped"),
                }
            }
            Ok(out)
        })
    }

    /// Stores a new app; `false` when its id or name (case-insensitive) is taken.
    pub(crate) async fn insert(&self, app: ResourceApp) -> Result<bool, DbError> {
        let record = serde_json::to_string(&app).map_err(|e| DbError(e.to_string()))?;
        self.db
            .call(move |c| {
                let n = c.execute(
                    "INSERT OR IGNORE INTO resource_apps (id, name, record, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![app.id, app.name, record, app.created_at],
                )?;
                Ok(n == 1)
            })
            .await
    }

    /// Deletes one app; `false` when there was none with this id.
    pub(crate) async fn delete(&self, id: String) -> Result<bool, DbError> {
        self.db.call(move |c| Ok(c.execute("DELETE FROM resource_apps WHERE id = ?1", params![id])? == 1)).await
    }
}

/// Deletes every registered resource app in the database at `path` (the reset of a stopped lab);
/// returns their ids.
pub(crate) fn reset_database(path: &std::path::Path) -> Result<Vec<String>, DbError> {
    let db = Db::open(Some(path), SCHEMA)?;
    db.call_now(|c| {
        let ids = {
            let mut st = c.prepare("SELECT id FROM resource_apps ORDER BY created_at, rowid")?;
            st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?
        };
        c.execute("DELETE FROM resource_apps", [])?;
        Ok(ids)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, name: &str) -> ResourceApp {
        let json = serde_json::json!({
            "id": id, "name": name, "base_url": "http://api.example/", "health_path": "/health", "health": "",
            "own_as": false, "issuer": "http://as", "token_endpoint": "http://as/token", "token_endpoint_source": "",
            "jwks_uri": "", "as_client_id": "c-at", "as_client_secret": "s", "scopes": ["r"], "endpoints": ["GET /"],
            "mcp_url": "", "mcp_resources": [], "client_id": "c", "client_secret": "s", "redirect_uri": "http://x/cb",
            "created_at": 1,
        });
        serde_json::from_value(json).unwrap()
    }

    #[tokio::test]
    async fn apps_are_kept_unique_by_id_and_name_and_a_reset_empties_the_file() {
        let path = std::env::temp_dir().join(format!("xaa-resource-apps-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let store = ResourceAppStore::open(Some(&path)).unwrap();
        assert!(store.insert(app("a-1", "Items")).await.unwrap());
        assert!(!store.insert(app("a-2", "ITEMS")).await.unwrap(), "the name, case-insensitive");
        assert!(!store.insert(app("a-1", "Other")).await.unwrap(), "the id");
        assert_eq!(store.load().unwrap().iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["a-1"]);
        assert_eq!(reset_database(&path).unwrap(), ["a-1"]);
        assert!(store.load().unwrap().is_empty());
        assert!(!store.delete("a-1".into()).await.unwrap());
        let _ = std::fs::remove_file(&path);
    }
}
