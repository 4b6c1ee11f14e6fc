//! SQLite storage of the resource trust domain. SQL lives only here; every statement is parameterised.

use std::sync::{Arc, Mutex};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use xaa_core::ids::{Issuer, Jti, Subject};
use xaa_core::memo::Recent;
use xaa_core::sqlite::{Db, DbError};

use crate::config::SeedTodo;
use crate::reuse::ReusePolicy;

/// What the replay cache knew of a `jti` when it was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JtiUse {
    /// Not seen before: recorded now.
    First,
    /// Seen before; `reusable` when it was first used for a resource that allowed re-use.
    Again {
        /// The first use was for a resource that allowed re-use until exp.
        reusable: bool,
    },
}

/// A todo as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Todo {
    /// Id, unique across users.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Whether it is done.
    pub completed: bool,
}

/// The database shared by the authorization server (replay cache) and the todo API (todos).
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    listings: Arc<Listings>,
}

/// The todo listings read lately, by subject. SQLite stays the record: a listing is read from it
/// once and then served from here until a write for that user (create, update, delete, seed)
/// forgets it. Both happen under the connection's lock (inside [`Db::call`]), so a kept listing
/// is never older than the last committed write; a read that finds one while a write is under
/// way answers as if it came just before that write. At most [`Listings::CAPACITY`] users' are
/// kept; past it, they are all forgotten and read again.
#[derive(Debug)]
struct Listings(Mutex<Recent<String, Arc<[Todo]>>>);

impl Default for Listings {
    fn default() -> Self {
        Self(Mutex::new(Recent::new(Self::CAPACITY)))
    }
}

impl Listings {
    const CAPACITY: usize = 4096;

    fn get(&self, sub: &str) -> Option<Arc<[Todo]>> {
        self.0.lock().ok()?.get(sub)
    }

    /// Keeps `todos` as `sub`'s listing. Call it with the connection's lock held.
    fn keep(&self, sub: &str, todos: Arc<[Todo]>) {
        if let Ok(mut kept) = self.0.lock() {
            kept.keep(sub.to_owned(), todos);
        }
    }

    /// Forgets `sub`'s listing. Call it with the connection's lock held, after the write.
    fn forget(&self, sub: &str) {
        if let Ok(mut kept) = self.0.lock() {
            kept.forget(sub);
        }
    }

    /// Forgets every listing: after a write that may touch any user's todos.
    fn forget_all(&self) {
        if let Ok(mut kept) = self.0.lock() {
            kept.clear();
        }
    }
}

impl Store {
    /// Opens the database at `path`, or in memory when `None`.
    pub fn open(path: Option<&std::path::Path>) -> Result<Self, DbError> {
        let db = Db::open(path, include_str!("schema.sql"))?;
        db.ensure_column("clients", "grant_types", "TEXT NOT NULL DEFAULT '[]'")?;
        db.ensure_column("clients", "open_registration", "INTEGER NOT NULL DEFAULT 0")?;
        db.ensure_column("used_jtis", "reusable", "INTEGER NOT NULL DEFAULT 0")?;
        Ok(Self { db, listings: Arc::default() })
    }

    /// The database (for the statements of other modules of this crate).
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Forgets every todo listing read so far: for the statements of other modules that change
    /// todos (run them first).
    pub(crate) fn forget_listings(&self) {
        self.listings.forget_all();
    }

    /// Clients registered at run time (read once, at start-up).
    pub(crate) fn registered_clients(&self) -> Result<Vec<crate::config::AsClient>, DbError> {
        self.db.call_now(|c| {
            let mut st =
                c.prepare("SELECT client_id, client_secret, grant_types FROM clients ORDER BY created_at, client_id")?;
            let rows = st.query_map([], |r| {
                Ok(crate::config::AsClient {
                    client_id: r.get(0)?,
                    client_secret: xaa_core::secret::Secret::new(r.get::<_, String>(1)?),
                    grant_types: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }

    /// Stores a client. With `open_cap`, it is an open (RFC 7591) registration: stored only while
    /// fewer than `open_cap` open registrations exist (checked and inserted under the one
    /// connection's lock, so concurrent registrations cannot pass the cap); `false` when full.
    pub(crate) async fn insert_client(
        &self,
        client: crate::config::AsClient,
        now: i64,
        open_cap: Option<usize>,
    ) -> Result<bool, DbError> {
        self.db
            .call(move |c| {
                if !xaa_core::sqlite::below_open_registration_cap(c, open_cap)? {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO clients (client_id, client_secret, grant_types, created_at, open_registration)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        client.client_id,
                        client.client_secret.expose(),
                        serde_json::to_string(&client.grant_types).unwrap_or_else(|_| "[]".into()),
                        now,
                        open_cap.is_some()
                    ],
                )?;
                Ok(true)
            })
            .await
    }

    pub(crate) async fn delete_client(&self, client_id: String) -> Result<bool, DbError> {
        self.db
            .call(move |c| c.execute("DELETE FROM clients WHERE client_id = ?1", params![client_id]).map(|n| n > 0))
            .await
    }

    /// Deletes every client registered at run time (the lab's reset); returns their ids.
    pub(crate) async fn delete_registered_clients(&self) -> Result<Vec<String>, DbError> {
        self.db.call(delete_registered_clients).await
    }

    /// Records `(issuer, jti)` as used until `expires_at`, `reusable` when the resource it is used
    /// for allows re-use until exp; or, when it was used before, says whether that first use was
    /// for such a resource. One transaction: two presentations at once never both count as first.
    pub(crate) async fn use_jti(
        &self,
        issuer: Issuer,
        jti: Jti,
        expires_at: i64,
        now: i64,
        reusable: bool,
    ) -> Result<JtiUse, DbError> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                tx.prepare_cached("DELETE FROM used_jtis WHERE expires_at < ?1")?.execute(params![now])?;
                let inserted = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO used_jtis (issuer, jti, expires_at, reusable) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![issuer, jti, expires_at, reusable])?;
                let seen = match inserted {
                    1 => JtiUse::First,
                    _ => JtiUse::Again {
                        reusable: tx
                            .prepare_cached("SELECT reusable FROM used_jtis WHERE issuer = ?1 AND jti = ?2")?
                            .query_row(params![issuer, jti], |r| r.get(0))?,
                    },
                };
                tx.commit()?;
                Ok(seen)
            })
            .await
    }

    /// Every re-use policy IT set, by storage key (see `reuse_policies` in `schema.sql`).
    pub(crate) fn reuse_policies(&self) -> Result<Vec<(String, ReusePolicy)>, DbError> {
        self.db.call_now(|c| {
            let mut st = c.prepare("SELECT resource, policy FROM reuse_policies ORDER BY resource")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            // The CHECK constraint keeps any other value out.
            Ok(rows.into_iter().filter_map(|(k, p)| ReusePolicy::from_name(&p).map(|p| (k, p))).collect())
        })
    }

    /// Sets the re-use policy of the resource stored as `key`: one statement, so the record is
    /// written whole or not at all.
    pub(crate) async fn set_reuse_policy(&self, key: String, policy: ReusePolicy, now: i64) -> Result<(), DbError> {
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO reuse_policies (resource, policy, changed_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (resource) DO UPDATE SET policy = excluded.policy, changed_at = excluded.changed_at",
                    params![key, policy.name(), now],
                )
                .map(|_| ())
            })
            .await
    }

    /// Forgets the re-use policy of the resource stored as `key` (it is single use again).
    pub(crate) async fn forget_reuse_policy(&self, key: String) -> Result<(), DbError> {
        self.db
            .call(move |c| c.execute("DELETE FROM reuse_policies WHERE resource = ?1", params![key]).map(|_| ()))
            .await
    }

    /// Every resource single use again (the lab's reset).
    pub(crate) async fn reset_reuse_policies(&self) -> Result<(), DbError> {
        self.db.call(|c| c.execute("DELETE FROM reuse_policies", []).map(|_| ())).await
    }

    /// The user's todos, oldest first, seeding a new user with `seeds` first (in one transaction).
    pub(crate) async fn todos(&self, sub: Subject, seeds: &[SeedTodo], now: i64) -> Result<Arc<[Todo]>, DbError> {
        if let Some(todos) = self.listings.get(sub.as_str()) {
            return Ok(todos);
        }
        // A user's todos are seeded once, on their first call: every later listing is a plain read.
        let (seeded, listings) = (sub.clone(), Arc::clone(&self.listings));
        let read = self.db.read(move |c| {
            let todos = seeded_todos(c, seeded.as_str())?.map(Arc::<[Todo]>::from);
            if let Some(t) = &todos {
                listings.keep(seeded.as_str(), Arc::clone(t));
            }
            Ok(todos)
        });
        if let Some(todos) = read.await? {
            return Ok(todos);
        }
        let (seeds, listings) = (seeds.to_vec(), Arc::clone(&self.listings));
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                seed(&tx, sub.as_str(), &seeds, now)?;
                let todos = Arc::<[Todo]>::from(list_todos(&tx, sub.as_str())?);
                tx.commit()?;
                listings.keep(sub.as_str(), Arc::clone(&todos));
                Ok(todos)
            })
            .await
    }

    pub(crate) async fn todo(&self, sub: Subject, id: i64) -> Result<Option<Todo>, DbError> {
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT id, title, completed FROM todos WHERE sub = ?1 AND id = ?2")?
                    .query_row(params![sub, id], row_to_todo)
                    .optional()
            })
            .await
    }

    pub(crate) async fn create(
        &self,
        sub: Subject,
        title: String,
        seeds: Vec<SeedTodo>,
        now: i64,
    ) -> Result<Todo, DbError> {
        let listings = Arc::clone(&self.listings);
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                seed(&tx, sub.as_str(), &seeds, now)?;
                tx.execute(
                    "INSERT INTO todos (sub, title, completed, created_at) VALUES (?1, ?2, 0, ?3)",
                    params![sub, title, now],
                )?;
                let todo = Todo { id: tx.last_insert_rowid(), title, completed: false };
                tx.commit()?;
                listings.forget(sub.as_str());
                Ok(todo)
            })
            .await
    }

    pub(crate) async fn update(
        &self,
        sub: Subject,
        id: i64,
        title: Option<String>,
        completed: Option<bool>,
    ) -> Result<Option<Todo>, DbError> {
        let listings = Arc::clone(&self.listings);
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let n = tx.execute(
                    "UPDATE todos SET title = COALESCE(?3, title), completed = COALESCE(?4, completed)
                     WHERE sub = ?1 AND id = ?2",
                    params![sub, id, title, completed],
                )?;
                let todo = if n == 1 {
                    tx.query_row("SELECT id, title, completed FROM todos WHERE id = ?1", params![id], row_to_todo)
                        .optional()?
                } else {
                    None
                };
                tx.commit()?;
                listings.forget(sub.as_str());
                Ok(todo)
            })
            .await
    }

    pub(crate) async fn delete(&self, sub: Subject, id: i64) -> Result<Option<Todo>, DbError> {
        let listings = Arc::clone(&self.listings);
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let todo = tx
                    .query_row(
                        "SELECT id, title, completed FROM todos WHERE sub = ?1 AND id = ?2",
                        params![sub, id],
                        row_to_todo,
                    )
                    .optional()?;
                tx.execute("DELETE FROM todos WHERE sub = ?1 AND id = ?2", params![sub, id])?;
                tx.commit()?;
                listings.forget(sub.as_str());
                Ok(todo)
            })
            .await
    }
}

fn seed(c: &rusqlite::Connection, sub: &str, seeds: &[SeedTodo], now: i64) -> rusqlite::Result<()> {
    if c.prepare_cached("INSERT OR IGNORE INTO seeded_users (sub) VALUES (?1)")?.execute(params![sub])? == 1 {
        for s in seeds {
            c.execute(
                "INSERT INTO todos (sub, title, completed, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![sub, s.title, s.completed, now],
            )?;
        }
    }
    Ok(())
}

/// The todos of `sub`, oldest first, or `None` when `sub` has not been seeded yet.
fn seeded_todos(c: &rusqlite::Connection, sub: &str) -> rusqlite::Result<Option<Vec<Todo>>> {
    let seeded = c.prepare_cached("SELECT 1 FROM seeded_users WHERE sub = ?1")?.exists(params![sub])?;
    if !seeded {
        return Ok(None);
    }
    list_todos(c, sub).map(Some)
}

/// The listing of one user's todos. The explicit `COLLATE BINARY` (the column's own collation, so
/// the `todos_by_sub` index still serves the search and the order) keeps the statement compiled:
/// with the bundled SQLite's STAT4, a bare `sub = ?1` before `ORDER BY id` makes the planner
/// depend on the bound value, and every new binding recompiled the statement (about a fifth of an
/// API call's time).
const LIST_TODOS: &str = "SELECT id, title, completed FROM todos WHERE sub = ?1 COLLATE BINARY ORDER BY id";

/// The todos of `sub`, oldest first.
fn list_todos(c: &rusqlite::Connection, sub: &str) -> rusqlite::Result<Vec<Todo>> {
    c.prepare_cached(LIST_TODOS)?.query_map(params![sub], row_to_todo)?.collect()
}

fn row_to_todo(r: &rusqlite::Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo { id: r.get(0)?, title: r.get(1)?, completed: r.get::<_, i64>(2)? != 0 })
}

fn delete_registered_clients(c: &mut rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    let tx = c.transaction()?;
    let ids = {
        let mut st = tx.prepare("SELECT client_id FROM clients ORDER BY client_id")?;
        st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.execute("DELETE FROM clients", [])?;
    tx.commit()?;
    Ok(ids)
}

/// Resets the database at `path` while no authorization server runs on it (`lab reset`): every
/// resource single use again and, unless `keep_registrations`, every client registered at run
/// time deleted; returns the deleted clients' ids.
pub fn reset_database(path: &std::path::Path, keep_registrations: bool) -> Result<Vec<String>, DbError> {
    let db = Store::open(Some(path))?.db;
    db.call_now(|c| c.execute("DELETE FROM reuse_policies", []))?;
    match keep_registrations {
        true => Ok(Vec::new()),
        false => db.call_now(delete_registered_clients),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's listing statement stays compiled from one user to the next (no recompilation per
    /// binding) and still searches the `todos_by_sub` index, in order, with no sort of its own.
    #[test]
    fn the_listing_is_compiled_once_and_searches_its_index() {
        let store = Store::open(None).unwrap();
        let (plan, reprepared) = store
            .db
            .call_now(|c| {
                c.execute(
                    "INSERT INTO todos (sub, title, completed, created_at) VALUES ('a', 't', 0, 0), ('b', 'u', 1, 0)",
                    [],
                )?;
                for sub in ["a", "b", "a", "b"] {
                    assert_eq!(list_todos(c, sub)?.len(), 1);
                }
                let reprepared = c.prepare_cached(LIST_TODOS)?.get_status(rusqlite::StatementStatus::RePrepare);
                let plan: Vec<String> = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {LIST_TODOS}"))?
                    .query_map(["a"], |r| r.get(3))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok((plan, reprepared))
            })
            .unwrap();
        assert_eq!(reprepared, 0);
        assert_eq!(plan, ["SEARCH todos USING INDEX todos_by_sub (sub=?)"]);
    }

    fn titles(todos: &[Todo]) -> Vec<(&str, bool)> {
        todos.iter().map(|t| (t.title.as_str(), t.completed)).collect()
    }

    /// A listing is read from SQLite once and kept; every write for that user (create, update,
    /// delete) shows in the next listing, and another user's listing is untouched by it.
    #[tokio::test]
    async fn a_kept_listing_never_hides_a_write() {
        let store = Store::open(None).unwrap();
        let seeds = [SeedTodo { title: "seeded".into(), completed: true }];
        let (ann, bo) = (Subject::new("t:ann"), Subject::new("t:bo"));
        let listing = |s: &Subject| store.todos(s.clone(), &seeds, 0);
        assert_eq!(titles(&listing(&ann).await.unwrap()), [("seeded", true)]);
        assert_eq!(titles(&listing(&bo).await.unwrap()), [("seeded", true)]);
        // Kept: the same listing, not a new read.
        let (first, again) = (listing(&ann).await.unwrap(), listing(&ann).await.unwrap());
        assert!(Arc::ptr_eq(&first, &again), "the kept listing is served");

        let made = store.create(ann.clone(), "new".into(), seeds.to_vec(), 1).await.unwrap();
        assert_eq!(titles(&listing(&ann).await.unwrap()), [("seeded", true), ("new", false)]);
        store.update(ann.clone(), made.id, Some("renamed".into()), Some(true)).await.unwrap();
        assert_eq!(titles(&listing(&ann).await.unwrap()), [("seeded", true), ("renamed", true)]);
        let first_id = first[0].id;
        store.delete(ann.clone(), first_id).await.unwrap();
        assert_eq!(titles(&listing(&ann).await.unwrap()), [("renamed", true)]);
        assert_eq!(titles(&listing(&bo).await.unwrap()), [("seeded", true)], "another user's listing is untouched");

        // A write SQLite refuses changes nothing, and the listing still matches the table.
        store
            .db
            .call_now(|c| {
                c.execute_batch(
                    "CREATE TRIGGER no_titles BEFORE UPDATE ON todos BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                )
            })
            .unwrap();
        assert!(store.update(ann.clone(), made.id, Some("lost".into()), None).await.is_err());
        assert_eq!(titles(&listing(&ann).await.unwrap()), [("renamed", true)]);
    }
}
