//! Files that hold secrets (the TLS private keys, the ready file with the admin token): created
//! with mode 0600 by the `open` itself, so no other user can read them even for a moment, whatever
//! the umask, and never written through a file or link that was there before.
//!
//! The directories that hold them (the data dir, with the SQLite files and their registered
//! clients, and its `tls/`) are owner-only too ([`create_dir`]): created 0700, and an existing one
//! that others may enter is narrowed to 0700 with a warning. The data dir is the lab's own (by
//! default `./lab-data`), so narrowing it takes nothing from anyone; leaving it open would let
//! another user copy the databases (SQLite's `-wal` and `-shm` files are created by SQLite, which
//! gives them the main file's mode, see `xaa_core::sqlite`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every file this module creates: read and write for the owner only.
pub const MODE: u32 = 0o600;

/// The mode of every directory [`create_dir`] makes or keeps: the owner only.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and its missing parents) with mode 0700, or narrows an existing `dir` that
/// others may read, write or enter to 0700; `Some(mode)` names the mode it had then (for the
/// caller's warning).
pub fn create_dir(dir: &Path) -> io::Result<Option<u32>> {
    fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    tracing::warn!(dir = %dir.display(), was = format!("{mode:o}"), "narrowed the directory's mode to 700: it holds secrets");
    Ok(Some(mode))
}

/// Creates `path` as a new, empty file with mode 0600; an existing file or link there is an error.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(MODE).open(path)
}

/// Writes `bytes` to `path` with mode 0600: into a new file beside it ([`create_new`]), then
/// renamed into place. An existing file's wider mode never survives, a link at `path` is replaced
/// rather than followed, and no reader ever sees half a file.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let written = create_new(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xaa-lab-private-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_private_file_is_owner_only_from_its_creation() {
        let dir = temp_dir("create");
        let path = dir.join("key.pem");
        let file = create_new(&path).unwrap();
        // Before a byte is written and with no chmod: the open itself set the mode.
        assert_eq!(mode(&path), MODE);
        drop(file);
        assert_eq!(create_new(&path).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_private_dir_is_owner_only_created_or_narrowed() {
        let dir = temp_dir("dir");
        let fresh = dir.join("lab-data").join("tls");
        assert_eq!(create_dir(&fresh).unwrap(), None);
        assert_eq!((mode(&dir.join("lab-data")), mode(&fresh)), (DIR_MODE, DIR_MODE), "created 0700, parents too");
        let open = dir.join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(create_dir(&open).unwrap(), Some(0o755));
        assert_eq!(mode(&open), DIR_MODE);
        assert_eq!(create_dir(&open).unwrap(), None, "already owner-only");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn write_replaces_what_was_there_instead_of_writing_through_it() {
        let dir = temp_dir("write");
        let path = dir.join("secret.pem");
        // A file left world-readable earlier is replaced by an owner-only one.
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"new").unwrap();
        assert_eq!((mode(&path), fs::read(&path).unwrap()), (MODE, b"new".to_vec()));
        // A link planted at the path is replaced, not followed: its target never gets the secret.
        let target = dir.join("readable-by-others");
        fs::write(&target, b"").unwrap();
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        write(&path, b"secret").unwrap();
        assert!(!fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"", "the link's target is untouched");
        assert_eq!(mode(&path), MODE);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2, "no temporary file is left behind");
        let _ = fs::remove_dir_all(dir);
    }
}
