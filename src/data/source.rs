//! Where names come from: files, or standard input (`-`), read as if they were one file.
//!
//! A file can be read twice (a first pass builds the vocabulary with `--vocab auto`); its path
//! and checksum are what checkpoints record. Standard input can be read once, and when two
//! passes are needed it is first spooled ([`WatchedRead::spool`]); checkpoints record its checksum
//! (so that `merge` sees the same data counted twice) but no path to find it by later.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::io::Source;
use crate::io::WatchedRead;
use crate::provenance::DataFile;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The names file read when none is given, where `scripts/setup.sh` puts it.
pub const DEFAULT_PATH: &str = "data/names.txt";

/// A data file that cannot be read.
pub fn unreadable(label: &str, e: std::io::Error) -> Error {
    crate::io::unreadable("data file", label, e)
}

/// Data without a single name.
pub fn no_names(labels: &str) -> Error {
    Error::input(format!(
        "data file {labels} has no names (it is empty or has only blank lines)"
    ))
}

pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// The bytes of the sources together, when every one is a regular file (`None` for a stream,
/// whose size is known only once it has been read).
pub fn size_of(sources: &[Source]) -> Option<u64> {
    sources
        .iter()
        .map(|s| {
            std::fs::metadata(s.path()?)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len())
        })
        .sum()
}

/// Sources (or their inputs' labels) named on one line: `a.txt, b.txt`.
pub fn labels<T: fmt::Display>(names: impl IntoIterator<Item = T>) -> String {
    let labels: Vec<String> = names.into_iter().map(|name| name.to_string()).collect();
    labels.join(", ")
}

/// A source ready to be read, possibly more than once.
pub(crate) struct Input {
    /// How errors and summaries name it.
    pub label: String,
    pub kind: InputKind,
    /// Only the lines that start in these bytes `[start, end)` are read (a regular file's).
    pub range: Option<(u64, u64)>,
}

pub(crate) enum InputKind {
    /// A file, read (and checksummed) on every pass.
    File(PathBuf),
    /// Standard input or another stream, read once as it flows.
    Stream(Mutex<Option<Box<dyn Read + Send>>>),
    /// Standard input copied to a temporary file for a second pass; never checksummed.
    Spooled(tempfile::NamedTempFile),
}

impl Input {
    /// Check that each file can be read (before any data is read) and spool standard input,
    /// or any other stream given as a path, when it must be read `twice`.
    pub fn prepare(sources: &[Source], twice: bool, cancel: &Cancel) -> Result<Vec<Input>> {
        if sources.is_empty() {
            crate::bail_input!("no data file was given");
        }
        if sources.iter().filter(|s| **s == Source::Stdin).count() > 1 {
            crate::bail_input!("standard input (-) can be given as data only once");
        }
        let paths: Vec<&Path> = sources.iter().filter_map(Source::path).collect();
        let reads_stdin = sources.contains(&Source::Stdin);
        for (i, path) in paths.iter().enumerate() {
            // The default file is missing: setup has not been run.
            let missing = match *path == Path::new(DEFAULT_PATH) {
                true => "; run scripts/setup.sh to fetch it, or pass --data PATH",
                false => "",
            };
            crate::io::input_metadata(path, "data file", missing)?;
            // `--data d.txt - < d.txt`: standard input is a name of the file too.
            if reads_stdin && crate::io::is_stdin(path) {
                return Err(repeated(path, Path::new("- (standard input)")));
            }
            if let Some(first) = paths[..i].iter().find(|p| crate::io::same_file(p, path)) {
                return Err(repeated(first, path));
            }
        }
        sources
            .iter()
            .map(|source| {
                let label = source.to_string();
                // Streams are read watched, so that a stop request is seen while one is quiet
                // (or a fifo waits for its writer).
                let stream = |reader: WatchedRead| match twice {
                    false => Ok(InputKind::Stream(Mutex::new(Some(Box::new(reader))))),
                    true => reader.spool("data file", &label).map(InputKind::Spooled),
                };
                let kind = match source {
                    Source::File(path) if is_regular(path) => InputKind::File(path.clone()),
                    // A pipe or a device (`/dev/stdin`, `<(...)`): read like stdin.
                    Source::File(path) => stream(WatchedRead::path(path, cancel))?,
                    Source::Stdin => stream(WatchedRead::new(std::io::stdin(), cancel.clone()))?,
                };
                Ok(Input {
                    label,
                    kind,
                    range: None,
                })
            })
            .collect()
    }

    /// A reader from the start; standard input only once.
    pub fn open(&self) -> Result<Box<dyn Read + Send>> {
        match &self.kind {
            InputKind::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| unreadable(&self.label, e))?;
                Ok(Box::new(file))
            }
            InputKind::Stream(reader) => reader
                .lock()
                .ok()
                .and_then(|mut r| r.take())
                .ok_or_else(|| Error::failed(format!("{} was read twice", self.label))),
            InputKind::Spooled(tmp) => {
                let file = tmp
                    .reopen()
                    .map_err(|e| Error::io("reading spooled stdin", e))?;
                Ok(Box::new(file))
            }
        }
    }

    /// Read only the lines that start in `range` of `inputs`, which must be one regular file:
    /// standard input and pipes cannot be read at an offset, and a range of several files
    /// would be ambiguous.
    pub fn restrict(inputs: &mut [Input], range: super::ByteRange) -> Result<()> {
        let [input] = inputs else {
            crate::bail_input!(
                "a byte range ({range}) is read from one data file, not {}",
                inputs.len()
            );
        };
        let InputKind::File(path) = &input.kind else {
            crate::bail_input!(
                "a byte range ({range}) is read from a regular file, and {} is a stream \
                 (standard input, a pipe or a device cannot be read at an offset)",
                input.label
            );
        };
        let size = std::fs::metadata(path)
            .map_err(|e| unreadable(&input.label, e))?
            .len();
        input.range = Some(range.bounds(size));
        Ok(())
    }

    /// What a checkpoint records of it, read with checksum `sha256`: its absolute path (none
    /// for a stream) and the range read.
    pub fn record(&self, sha256: Option<String>) -> DataFile {
        let path = match &self.kind {
            InputKind::File(path) => Some(crate::io::absolute(path).display().to_string()),
            _ => None,
        };
        let range = self.range.map(|(start, end)| [start, end]);
        DataFile {
            path,
            sha256,
            range,
        }
    }

    /// The file to read in parallel parts, when it is one.
    pub fn file(&self) -> Option<&Path> {
        match &self.kind {
            InputKind::File(path) => Some(path),
            InputKind::Spooled(tmp) => Some(tmp.path()),
            InputKind::Stream(_) => None,
        }
    }
}

/// One file given twice.
fn repeated(first: &Path, second: &Path) -> Error {
    Error::input(format!(
        "data file {} is {} again: its names would be counted twice; give each file once",
        second.display(),
        first.display()
    ))
}

fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
