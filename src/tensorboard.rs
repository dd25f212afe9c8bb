//! TensorBoard event files, as PyTorch's `SummaryWriter` writes them: `tensorboard --logdir`
//! shows a run's `Loss/train` (and `Loss/test`) per epoch while it trains.
//!
//! The format is small: a file of records (a little-endian u64 length, its masked CRC-32C,
//! the bytes, their masked CRC-32C), each an `Event` protocol buffer holding a wall time, a
//! step and a summary of tagged values. Only the handful of fields written here are encoded.
//! The one maintained crate for it (tboard) needs `protoc` at build time, which a fresh
//! machine does not have, so the encoding is written out below.
//!
//! A log is an output like any other: it never replaces a file (its name is new, created
//! exclusively), and a run that fails, is interrupted or cannot write it leaves nothing behind
//! (the file, and any folder created for it, are removed unless [`EventLog::keep`] is called).

use crate::train::Epoch;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One run's event file, written as the run goes and removed unless kept.
#[derive(Debug)]
pub struct EventLog {
    // Dropped in this order: the file (a NamedTempFile removes itself), then its folders.
    file: io::BufWriter<tempfile::NamedTempFile>,
    created: CreatedFolders,
}

/// Folders created for a log, deepest first: removed again (when empty) unless the log is kept.
#[derive(Debug)]
struct CreatedFolders(Vec<PathBuf>);

impl Drop for CreatedFolders {
    fn drop(&mut self) {
        for folder in &self.0 {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

impl EventLog {
    /// Start a log in `dir` (created if missing), with the file-version event every reader
    /// expects first and `settings` (markdown) as the run's text.
    pub fn create(dir: &Path, settings: &str) -> crate::Result<Self> {
        let created = CreatedFolders(missing_folders(dir));
        // A folder or file that cannot be made there is the caller's path, refused as --out's
        // folder is; a write that fails after (a full disk) is an I/O failure.
        let file = std::fs::create_dir_all(dir)
            .and_then(|()| new_event_file(dir))
            .map_err(|e| {
                let dir = dir.display();
                crate::Error::input(format!(
                    "cannot start a TensorBoard log in {dir}: {e}; give a folder you can write to"
                ))
            })?;
        let mut log = Self {
            file: io::BufWriter::new(file),
            created,
        };
        let start = |log: &mut Self| -> io::Result<()> {
            log.event(0, |e| bytes(e, 3, b"brain.Event:2"))?;
            log.text("settings", 0, settings)?;
            log.file.flush()
        };
        let context = format!("cannot start a TensorBoard log in {}", dir.display());
        start(&mut log).map_err(|e| crate::Error::io(context, e))?;
        Ok(log)
    }

    /// An epoch as makemore logs it: `Loss/train` (what the epoch descends) and, when a
    /// held-out part is followed, `Loss/test` (its NLL), at step = the epoch's number. They are
    /// scalars (TensorBoard's line charts), float32, written through at once so that a
    /// watching TensorBoard sees them.
    pub fn record(&mut self, e: &Epoch) -> crate::Result<()> {
        let mut values = vec![("Loss/train", e.loss)];
        values.extend(e.dev_nll.map(|dev| ("Loss/test", dev)));
        let write = |log: &mut Self| -> io::Result<()> {
            for (tag, value) in values {
                // A Summary.Value: the tag (field 1), then simple_value (2, float32).
                let value = message(|v| {
                    bytes(v, 1, tag.as_bytes());
                    key(v, 2, 5);
                    v.extend_from_slice(&(value as f32).to_le_bytes());
                });
                log.summary(e.epoch as u64, &value)?;
            }
            log.file.flush()
        };
        let context = format!("cannot write the TensorBoard log {}", self.path().display());
        write(self).map_err(|e| crate::Error::io(context, e))
    }

    pub fn path(&self) -> &Path {
        self.file.get_ref().path()
    }

    /// Text (TensorBoard's Text tab; markdown), e.g. the run's settings.
    fn text(&mut self, tag: &str, step: u64, text: &str) -> io::Result<()> {
        // The text plugin reads a string tensor whose metadata names the plugin.
        let plugin = message(|p| bytes(p, 1, b"text"));
        let metadata = message(|m| bytes(m, 1, &plugin));
        let tensor = message(|t| {
            key(t, 1, 0);
            varint(t, DT_STRING);
            bytes(t, 2, &[]);
            bytes(t, 8, text.as_bytes());
        });
        let value = message(|v| {
            bytes(v, 1, tag.as_bytes());
            bytes(v, 8, &tensor);
            bytes(v, 9, &metadata);
        });
        self.summary(step, &value)
    }

    /// Keep the log: the run succeeded.
    pub fn keep(self) -> crate::Result<PathBuf> {
        let Self { file, mut created } = self;
        created.0.clear();
        let context = format!(
            "cannot keep the TensorBoard log {}",
            file.get_ref().path().display()
        );
        file.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.keep().map_err(|e| e.error))
            .map(|(_, path)| path)
            .map_err(|e| crate::Error::io(context, e))
    }

    fn summary(&mut self, step: u64, value: &[u8]) -> io::Result<()> {
        let summary = message(|s| bytes(s, 1, value));
        self.event(step, |e| bytes(e, 5, &summary))
    }

    /// An `Event`: wall_time (field 1, double), step (2, varint), then what `rest` adds; as a
    /// record: its length and its bytes, each followed by its masked CRC-32C.
    fn event(&mut self, step: u64, rest: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        let data = message(|e| {
            key(e, 1, 1);
            e.extend_from_slice(&wall_time().to_le_bytes());
            key(e, 2, 0);
            varint(e, step);
            rest(e);
        });
        let length = (data.len() as u64).to_le_bytes();
        self.file.write_all(&length)?;
        self.file.write_all(&masked_crc(&length).to_le_bytes())?;
        self.file.write_all(&data)?;
        self.file.write_all(&masked_crc(&data).to_le_bytes())
    }
}

/// Why `dir` cannot hold logs, if it cannot: checked before any work, so a bad folder costs
/// nothing. A missing folder is fine (it is created); a file on the way is not.
pub fn unusable_folder(dir: &Path) -> Option<String> {
    if dir == Path::new("-") {
        return Some(
            "TensorBoard reads event files from a folder, not from standard output".into(),
        );
    }
    for place in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        match std::fs::metadata(place) {
            Ok(m) if m.is_dir() => return None,
            Ok(m) => {
                let kind = crate::io::file_type_name(&m);
                return Some(format!("{} is a {kind}, not a folder", place.display()));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Some(format!("{}: {e}", place.display())),
        }
    }
    None
}

/// TensorFlow's `DT_STRING`.
const DT_STRING: u64 = 7;

/// A new file whose name TensorBoard recognises (`events.out.tfevents.<time>.<host>.<pid>…`),
/// created exclusively: it never replaces anything.
fn new_event_file(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let prefix = format!(
        "events.out.tfevents.{}.{}.{}.",
        wall_time() as u64,
        host_name(),
        std::process::id()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).rand_bytes(4);
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder.tempfile_in(dir)
}

/// The folders `create_dir_all(dir)` would create, deepest first.
fn missing_folders(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && std::fs::symlink_metadata(a).is_err())
        .map(Path::to_path_buf)
        .collect()
}

fn host_name() -> String {
    let mut name = [0u8; 256];
    // SAFETY: gethostname writes at most 255 bytes into the buffer, so it ends in a NUL.
    unsafe { libc::gethostname(name.as_mut_ptr().cast(), 255) };
    let name: String = (name.iter().map(|&b| b as char))
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn message(fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    fill(&mut out);
    out
}

/// A field's key: its number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
fn key(out: &mut Vec<u8>, field: u64, wire_type: u64) {
    varint(out, field << 3 | wire_type);
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
    key(out, field, 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// The record checksum: CRC-32C, rotated and offset so that a checksum of checksums differs.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_little_endian_groups_of_seven_bits() {
        let encode = |n| message(|o| varint(o, n));
        assert_eq!(encode(0), [0]);
        assert_eq!(encode(127), [127]);
        assert_eq!(encode(300), [0xac, 0x02]);
        assert_eq!(encode(u64::MAX).len(), 10);
    }
}
