//! Output files: checked before any work, written through a temporary file in the same folder
//! and renamed into place, so an interrupted or failed run never leaves a partial file and
//! never replaces a good one.

use crate::error::{OutputError, Result};
use std::path::{Path, PathBuf};

/// Refuse an output path early, before any work: its folder must exist and be writable.
pub fn check_writable(path: &Path) -> Result<()> {
    let shown = path.display().to_string();
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(OutputError::NoFolder {
            path: shown,
            dir: dir.display().to_string(),
        }
        .into());
    }
    if path.is_dir() {
        return Err(OutputError::IsDirectory { path: shown }.into());
    }
    tempfile::Builder::new()
        .prefix(".bigram-probe")
        .tempfile_in(&dir)
        .map_err(|source| OutputError::Unwritable {
            path: shown,
            source,
        })?;
    Ok(())
}

/// Refuse a picture path early unless it names a PNG (the only format drawn).
pub fn check_png(path: &Path) -> Result<()> {
    let is_png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return Err(OutputError::NotPng {
            path: path.display().to_string(),
        }
        .into());
    }
    check_writable(path)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file written beside its destination and not yet in place: [`Staged::commit`] renames it
/// there; dropped uncommitted, it is removed and the destination is untouched.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl Staged {
    /// An empty temporary file in `target`'s folder, with `target`'s extension (some writers
    /// choose the format from it).
    pub fn new(target: &Path) -> Result<Self> {
        let suffix = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(".bigram-")
            .suffix(&format!(".tmp{suffix}"))
            .tempfile_in(parent_dir(target))
            .map_err(|source| unwritable(target, source))?;
        Ok(Self {
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// `bytes` staged for `target`.
    pub fn with_bytes(target: &Path, bytes: &[u8]) -> Result<Self> {
        use std::io::Write;
        let mut staged = Self::new(target)?;
        staged
            .tmp
            .write_all(bytes)
            .and_then(|_| staged.tmp.as_file().sync_all())
            .map_err(|source| unwritable(target, source))?;
        Ok(staged)
    }

    /// The temporary file, for writers that take a path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Let `write` fill the temporary file through its path; its errors name the destination,
    /// not the temporary file.
    pub fn write_with(&self, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        write(self.tmp.path()).map_err(|e| match e {
            crate::Error::Output(OutputError::Drawing { why, .. }) => OutputError::Drawing {
                path: self.target.display().to_string(),
                why,
            }
            .into(),
            other => other,
        })
    }

    /// Put the file in place, readable by all (mode 0644: a temporary file starts as 0600).
    pub fn commit(self) -> Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = self
                .tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        let target = self.target;
        self.tmp
            .persist(&target)
            .map_err(|e| unwritable(&target, e.error))?;
        Ok(())
    }
}

fn unwritable(path: &Path, source: std::io::Error) -> crate::Error {
    OutputError::Unwritable {
        path: path.display().to_string(),
        source,
    }
    .into()
}

/// Write bytes to `path` atomically: staged beside it, then renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    Staged::with_bytes(path, bytes)?.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncommitted_file_leaves_the_destination_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("m.safetensors");
        std::fs::write(&target, b"old").unwrap();
        drop(Staged::with_bytes(&target, b"new").unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        Staged::with_bytes(&target, b"new")
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }
}
