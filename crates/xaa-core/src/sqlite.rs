//! A SQLite database owned by one role: one connection behind a mutex. Files use WAL with
//! `synchronous = NORMAL`, so a committed transaction is in the WAL file before the call returns
//! and survives a crash of the process; a commit writes the WAL and never waits for the disk.
//! Only a checkpoint (copying the WAL back into the database file) syncs, so SQLite's automatic
//! checkpoint is replaced by one on the blocking pool, started once the WAL holds
//! [`CHECKPOINT_PAGES`] pages: a call runs on the async thread when the connection is free (a
//! short transaction takes microseconds, less than the hop to the blocking pool and back), and
//! on the blocking pool when another call, or a checkpoint, holds it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// The WAL size, in pages, past which a checkpoint starts (SQLite's own default).
pub const CHECKPOINT_PAGES: i32 = 1000;

/// A role's database.
#[derive(Clone, Debug)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    checkpoint: Arc<Checkpoint>,
}

/// The state of the checkpoint that [`Db`] runs instead of SQLite's automatic one.
#[derive(Debug, Default)]
struct Checkpoint {
    /// Set by the WAL hook when the WAL has grown past [`CHECKPOINT_PAGES`].
    due: AtomicBool,
    /// Set while a checkpoint is started or running: one at a time.
    running: AtomicBool,
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
        let checkpoint = Arc::new(Checkpoint::default());
        let conn = match path {
            Some(p) => {
                owner_only(p).map_err(|e| DbError(format!("{}: {e}", p.display())))?;
                let mut c = Connection::open(p)?;
                c.pragma_update(None, "journal_mode", "WAL")?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
                // Replaces SQLite's automatic checkpoint, which would sync inside the commit.
                let state = Arc::clone(&checkpoint);
                c.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
                    if pages >= CHECKPOINT_PAGES {
                        state.due.store(true, Ordering::Relaxed);
                    }
                    Ok(())
                }))?;
                c
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(schema)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), checkpoint })
    }

    /// Runs `f` with the connection: on this thread when the connection is free, else on the
    /// blocking pool once it is. A committed write is in the WAL when this returns.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let f = match self.conn.try_lock() {
            Ok(mut guard) => {
                let out = f(&mut guard).map_err(DbError::from);
                drop(guard);
                self.checkpoint_if_due();
                return out;
            }
            Err(std::sync::TryLockError::Poisoned(_)) => return Err(DbError("database lock poisoned".into())),
            Err(std::sync::TryLockError::WouldBlock) => f,
        };
        let conn = Arc::clone(&self.conn);
        let out = tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| DbError("database lock poisoned".into()))?;
            f(&mut guard).map_err(DbError::from)
        })
        .await
        .map_err(|e| DbError(format!("database task failed: {e}")))?;
        self.checkpoint_if_due();
        out
    }

    /// Runs the read-only `f` with the connection, as [`Db::call`] runs a call. `f` gets a shared
    /// connection, so it cannot start a transaction; a statement that writes does not belong here.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.call(move |c| f(c)).await
    }

    /// Starts a checkpoint on the blocking pool when the WAL hook asked for one and none is
    /// running. A checkpoint that fails leaves the WAL as it was, whole: the next commit past the
    /// threshold asks again.
    fn checkpoint_if_due(&self) {
        let state = &self.checkpoint;
        if !state.due.load(Ordering::Relaxed) || state.running.swap(true, Ordering::AcqRel) {
            return;
        }
        state.due.store(false, Ordering::Relaxed);
        let (conn, state) = (Arc::clone(&self.conn), Arc::clone(state));
        tokio::task::spawn_blocking(move || {
            if let Ok(c) = conn.lock()
                && let Err(e) = checkpoint(&c)
            {
                tracing::warn!(error = %e, "SQLite checkpoint failed; the WAL keeps every commit");
            }
            state.running.store(false, Ordering::Release);
        });
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
        let out = f(&mut guard).map_err(DbError::from);
        if self.checkpoint.due.swap(false, Ordering::Relaxed) {
            checkpoint(&guard)?;
        }
        out
    }
}

/// Copies what it can of the WAL into the database file (a passive checkpoint: it waits for no
/// one; with one connection it copies all of it).
fn checkpoint(c: &Connection) -> rusqlite::Result<()> {
    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
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

    /// Commits go to the WAL without SQLite's automatic checkpoint; once the WAL passes
    /// [`super::CHECKPOINT_PAGES`], a checkpoint on the blocking pool copies it into the database
    /// file, and every committed row is there. Each row fills a page of its own and a commit
    /// writes at most four (the leaf, the interior pages above it, page 1), so the first
    /// checkpoint copies at least a quarter of the threshold's pages into the file; a second
    /// round may or may not pass the threshold, depending on when the first one ran, so only the
    /// first is counted on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_wal_past_the_threshold_is_checkpointed_off_the_calling_thread() {
        let dir = std::env::temp_dir().join(format!("xaa-core-sqlite-checkpoint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("role.sqlite");
        let db = super::Db::open(Some(&path), "CREATE TABLE t (a BLOB NOT NULL);").unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        let rows = i64::from(super::CHECKPOINT_PAGES) + 100;
        for _ in 0..rows {
            db.call(|c| c.execute("INSERT INTO t VALUES (zeroblob(4000))", [])).await.unwrap();
        }
        // A started checkpoint holds `running` until it is done; the WAL passed the threshold, so
        // one was started within the loop.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while db.checkpoint.running.load(std::sync::atomic::Ordering::Acquire) {
            assert!(std::time::Instant::now() < deadline, "the checkpoint never finished");
            tokio::task::yield_now().await;
        }
        let page = 4096;
        let copied = (size() - before) / page;
        assert!(copied >= u64::from(super::CHECKPOINT_PAGES.unsigned_abs()) / 4, "checkpoint copied {copied} pages");
        let count: i64 = db.read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))).await.unwrap();
        assert_eq!(count, rows);
        drop(db);
        let _ = std::fs::remove_dir_all(dir);
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
