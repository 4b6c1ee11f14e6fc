//! A SQLite database owned by one role: one connection behind a mutex, every call run on the
//! blocking pool so the async runtime never waits on disk. Files use WAL, so a committed
//! transaction survives a crash of the process.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// A role's database.
#[derive(Clone, Debug)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

/// A storage failure: the lab's fault, never the client's.
#[derive(Debug, thiserror::Error)]
#[error("storage failure: {0}")]
pub struct DbError(pub String);

/// Whether a `clients` table (with an `open_registration` column) holds fewer open RFC 7591
/// registrations than `cap` (`None`: no cap, a registration through the admin token). Run it in
/// the transaction or under the lock of the insert it guards.
pub fn below_open_registration_cap(c: &Connection, cap: Option<usize>) -> rusqlite::Result<bool> {
    let Some(cap) = cap else { return Ok(true) };
    let open: i64 = c.query_row("SELECT COUNT(*) FROM clients WHERE open_registration = 1", [], |r| r.get(0))?;
    Ok(usize::try_from(open).unwrap_or(usize::MAX) < cap)
}

/// Makes the database file at `path` readable by its owner only, before SQLite opens it: a new
/// file is created empty with mode 0600 (SQLite would create it 0644 less the umask), an existing
/// one, and its `-wal` and `-shm` files, are narrowed to 0600. SQLite creates the `-wal` and `-shm`
/// files itself with the main file's mode (its unix VFS copies it, whatever the umask), so they are
/// 0600 from their creation too. The files hold registered clients and sessions.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::metadata(&file) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

impl Db {
    /// Opens `path` (or an in-memory database when `None`) and applies `schema` (idempotent DDL).
    pub fn open(path: Option<&Path>, schema: &str) -> Result<Self, DbError> {
        let conn = match path {
            Some(p) => {
                owner_only(p).map_err(|e| DbError(format!("{}: {e}", p.display())))?;
                let c = Connection::open(p)?;
                c.pragma_update(None, "journal_mode", "WAL")?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
                c
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(schema)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| DbError("database lock poisoned".into()))?;
            f(&mut guard).map_err(DbError::from)
        })
        .await
        .map_err(|e| DbError(format!("database task failed: {e}")))?
    }

    /// Runs the read-only `f` with the connection: on this thread when the connection is free
    /// (a read of a page SQLite already holds takes microseconds, less than the hop to the blocking
    /// pool and back, which costs two thread wake-ups), on the blocking pool like [`Db::call`] when
    /// another call holds it (that one may be waiting on the disk). `f` gets a shared connection,
    /// so it cannot start a transaction; a statement that writes does not belong here.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let f = match self.conn.try_lock() {
            Ok(guard) => return f(&guard).map_err(DbError::from),
            Err(std::sync::TryLockError::Poisoned(_)) => return Err(DbError("database lock poisoned".into())),
            Err(std::sync::TryLockError::WouldBlock) => f,
        };
        self.call(move |c| f(c)).await
    }

    /// Adds `column` (declared as `decl`) to `table` when a database made by an older lab lacks it;
    /// `true` when it did (the caller may then fill in the old rows). `table`, `column` and `decl`
    /// are the caller's constants, never input.
    pub fn ensure_column(&self, table: &str, column: &str, decl: &str) -> Result<bool, DbError> {
        self.call_now(|c| {
            let has =
                c.prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?.exists([column])?;
            if !has {
                c.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
            }
            Ok(!has)
        })
    }

    /// Drops `column` from `table` when a database made by an older lab still has it; `true` when it
    /// did. `table` and `column` are the caller's constants, never input.
    pub fn drop_column(&self, table: &str, column: &str) -> Result<bool, DbError> {
        self.call_now(|c| {
            let has =
                c.prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?.exists([column])?;
            if has {
                c.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN {column}"))?;
            }
            Ok(has)
        })
    }

    /// Runs `f` with the connection on this thread: only at start-up, before serving.
    pub fn call_now<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, DbError> {
        let mut guard = self.conn.lock().map_err(|_| DbError("database lock poisoned".into()))?;
        f(&mut guard).map_err(DbError::from)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ensure_column_adds_a_missing_column_once() {
        let db = super::Db::open(None, "CREATE TABLE t (a TEXT);").unwrap();
        assert!(db.ensure_column("t", "b", "TEXT NOT NULL DEFAULT '[]'").unwrap(), "added");
        assert!(!db.ensure_column("t", "b", "TEXT NOT NULL DEFAULT '[]'").unwrap(), "there already");
        let b: String = db
            .call_now(|c| {
                c.execute("INSERT INTO t (a) VALUES ('x')", [])?;
                c.query_row("SELECT b FROM t", [], |r| r.get(0))
            })
            .unwrap();
        assert_eq!(b, "[]");
    }

    #[test]
    fn drop_column_drops_a_column_once_and_keeps_the_rows() {
        let db = super::Db::open(None, "CREATE TABLE t (a TEXT NOT NULL, old TEXT NOT NULL);").unwrap();
        db.call_now(|c| c.execute("INSERT INTO t VALUES ('kept', 'gone')", [])).unwrap();
        assert!(db.drop_column("t", "old").unwrap(), "dropped");
        assert!(!db.drop_column("t", "old").unwrap(), "gone already");
        let a: String = db
            .call_now(|c| {
                c.execute("INSERT INTO t (a) VALUES ('new')", [])?;
                c.query_row("SELECT a FROM t ORDER BY rowid LIMIT 1", [], |r| r.get(0))
            })
            .unwrap();
        assert_eq!(a, "kept");
    }

    /// A database file, its `-wal` and its `-shm` are 0600 from their creation, and an existing
    /// database left readable by others is narrowed when it is opened.
    #[test]
    fn database_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xaa-core-sqlite-modes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mode = |name: &str| std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        let path = dir.join("role.sqlite");
        let db = super::Db::open(Some(&path), "CREATE TABLE t (a TEXT);").unwrap();
        db.call_now(|c| c.execute("INSERT INTO t VALUES ('secret')", [])).unwrap();
        let files = ["role.sqlite", "role.sqlite-wal", "role.sqlite-shm"];
        assert_eq!(files.map(mode), [0o600; 3], "every file SQLite made is the owner's only");
        drop(db);

        let old = dir.join("old.sqlite");
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x');").unwrap();
        for f in ["old.sqlite", "old.sqlite-wal", "old.sqlite-shm"] {
            std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        super::Db::open(Some(&old), "CREATE TABLE IF NOT EXISTS t (a TEXT);").unwrap();
        assert_eq!(["old.sqlite", "old.sqlite-wal", "old.sqlite-shm"].map(mode), [0o600; 3], "narrowed");
        drop(c);
        let _ = std::fs::remove_dir_all(dir);
    }
}
