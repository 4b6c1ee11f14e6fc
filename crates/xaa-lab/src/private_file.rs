//! Files that hold secrets (the TLS private keys, the ready file with the admin token): created
//! with mode 0600 by the `open` itself, so no other user can read them even for a moment, whatever
//! the umask, and never written through a file or link that was there before.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The mode of every file this module creates: read and write for the owner only.
pub const MODE: u32 = 0o600;

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
