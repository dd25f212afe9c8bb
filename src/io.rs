//! Files and streams, in one place: outputs planned before any work, staged beside their
//! destination and renamed into place (`output.rs`); reads that see a stop request while a
//! stream is quiet (`watched.rs`); and the checks of a path to be read, which name what it is
//! for ("data file", "checkpoint") and what is wrong with it. What is read (names,
//! checkpoints) is the business of `data` and `checkpoint`.

mod output;
mod watched;

pub use output::*;
pub use watched::{Stopped, WatchedRead};

use crate::error::{Error, Result};
use std::path::Path;

/// A path to be read, looked at before reading: refused when it is missing (`missing` is the
/// advice then, e.g. "; make one with `bigram train`"), a folder, or cannot be looked at.
/// `what` names it in the message ("data file", "checkpoint").
pub fn input_metadata(path: &Path, what: &str, missing: &str) -> Result<std::fs::Metadata> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::bail_input!("{what} {} not found{missing}", path.display())
        }
        Err(e) => Err(unreadable(what, &path.display().to_string(), e)),
        Ok(m) if m.is_dir() => crate::bail_input!(
            "{what} {} is a directory; pass the file itself",
            path.display()
        ),
        Ok(m) => Ok(m),
    }
}

/// An input that cannot be opened or read (`label` as the user gave it, or "stdin").
pub fn unreadable(what: &str, label: &str, e: std::io::Error) -> Error {
    Error::input(format!("cannot read {what} {label}: {e}"))
}
