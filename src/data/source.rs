//! Where names come from: files, or standard input (`-`), read as if they were one file.
//!
//! A file can be read twice (a first pass builds the vocabulary with `--vocab auto`) and has a
//! checksum that checkpoints record. Standard input can be read once and has no checksum to
//! check later; when two passes are needed it is first copied to a temporary file.

use crate::error::{DataError, Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// One source of names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input, written `-`.
    Stdin,
}

impl Source {
    /// `-` is standard input, anything else a file path.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    /// The file's path; `None` for standard input.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(path) => Some(path),
            Source::Stdin => None,
        }
    }
}

impl std::str::FromStr for Source {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Source::parse(s))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Stdin => f.write_str("stdin"),
        }
    }
}

/// The sources' names as one line: `a.txt, b.txt`.
pub fn labels(sources: &[Source]) -> String {
    sources
        .iter()
        .map(Source::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A source ready to be read, possibly more than once.
#[derive(Debug)]
pub(crate) struct Input {
    /// How errors and summaries name it.
    pub label: String,
    pub kind: InputKind,
}

#[derive(Debug)]
pub(crate) enum InputKind {
    /// A file, read (and checksummed) on every pass.
    File(PathBuf),
    /// Standard input, read once as it streams.
    Stdin,
    /// Standard input copied to a temporary file for a second pass; never checksummed.
    Spooled(tempfile::NamedTempFile),
}

impl Input {
    /// Check that each source can be read (a missing file is reported before any work) and
    /// spool standard input when it must be read more than once.
    pub fn prepare(sources: &[Source], passes: usize) -> Result<Vec<Input>> {
        if sources.is_empty() {
            return Err(Error::invalid("no data file was given"));
        }
        if sources.iter().filter(|s| **s == Source::Stdin).count() > 1 {
            return Err(Error::invalid(
                "standard input (-) can be given as data only once",
            ));
        }
        sources
            .iter()
            .map(|source| {
                let label = source.to_string();
                let kind = match source {
                    Source::File(path) => {
                        check_readable(path)?;
                        InputKind::File(path.clone())
                    }
                    Source::Stdin if passes > 1 => InputKind::Spooled(spool_stdin()?),
                    Source::Stdin => InputKind::Stdin,
                };
                Ok(Input { label, kind })
            })
            .collect()
    }

    /// A reader from the start; standard input only once.
    pub fn open(&self) -> Result<Box<dyn std::io::Read + Send>> {
        match &self.kind {
            InputKind::File(path) => {
                let file = std::fs::File::open(path).map_err(|source| DataError::Unreadable {
                    path: self.label.clone(),
                    source,
                })?;
                Ok(Box::new(file))
            }
            InputKind::Stdin => Ok(Box::new(std::io::stdin())),
            InputKind::Spooled(tmp) => {
                let file = tmp
                    .reopen()
                    .map_err(|e| Error::io("reading spooled stdin", e))?;
                Ok(Box::new(file))
            }
        }
    }

    /// Whether a checksum of this input means anything later (files only).
    pub fn checksummed(&self) -> bool {
        matches!(self.kind, InputKind::File(_))
    }

    /// The file to read in parallel parts, when it is one.
    pub fn file(&self) -> Option<&Path> {
        match &self.kind {
            InputKind::File(path) => Some(path),
            InputKind::Spooled(tmp) => Some(tmp.path()),
            InputKind::Stdin => None,
        }
    }
}

fn check_readable(path: &Path) -> Result<()> {
    let shown = path.display().to_string();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(DataError::NotFound { path: shown }.into())
        }
        Err(source) => Err(DataError::Unreadable {
            path: shown,
            source,
        }
        .into()),
        Ok(m) if m.is_dir() => Err(DataError::IsDirectory { path: shown }.into()),
        Ok(_) => Ok(()),
    }
}

fn spool_stdin() -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::NamedTempFile::new()
        .map_err(|e| Error::io("creating a temporary copy of stdin", e))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut tmp).map_err(|source| {
        DataError::Unreadable {
            path: "stdin".into(),
            source,
        }
    })?;
    Ok(tmp)
}
