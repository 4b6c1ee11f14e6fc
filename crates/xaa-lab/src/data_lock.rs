//! One running lab per data dir: a running lab holds an exclusive lock on `<data dir>/lab.lock`
//! (released when it stops, however it stops), so `lab reset`, which rewrites the SQLite files,
//! can refuse while a lab uses them.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The lock of a data dir, held while this value lives.
#[derive(Debug)]
pub struct DataDirLock {
    /// Held, never read: dropping it unlocks.
    _file: File,
}

/// Who holds the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (a running lab) holds it.
    #[error("a lab is running on {dir} (pid {pid}): stop it first (Ctrl+C), then run this again")]
    Held {
        /// The data dir.
        dir: String,
        /// The pid it wrote, or `?`.
        pid: String,
    },
    /// The lock file could not be opened.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Takes the lock of `dir` (created 0700 if missing, see [`crate::private_file::create_dir`]) and writes this process's id into it.
pub fn lock(dir: &Path) -> Result<DataDirLock, LockError> {
    let path = dir.join("lab.lock");
    let io = |e| LockError::Io(path.display().to_string(), e);
    crate::private_file::create_dir(dir).map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(crate::private_file::MODE)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io)?;
            file.write_all(std::process::id().to_string().as_bytes()).map_err(io)?;
            Ok(DataDirLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = if pid.trim().is_empty() { "?".to_owned() } else { pid.trim().to_owned() };
            Err(LockError::Held { dir: dir.display().to_string(), pid })
        }
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}
