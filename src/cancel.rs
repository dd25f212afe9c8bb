//! A request to stop, raised from elsewhere (the binary's signal handler) and checked by the
//! library's long loops: reading data chunk by chunk (checksums and copies of stdin too),
//! training epoch by epoch, drawing name by name (and inside a long name), and
//! [`crate::io::WatchedRead`] while a stream is quiet. The library never installs handlers
//! itself; it only looks at the flag.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A shared flag: 0 while nothing asked to stop, otherwise a non-zero reason chosen by whoever
/// raised it (the binary stores the signal number).
#[derive(Clone, Debug, Default)]
pub struct Cancel(Option<Arc<AtomicUsize>>);

impl Cancel {
    /// A token nobody can raise: for callers that never stop early.
    pub fn never() -> Self {
        Self(None)
    }

    pub fn new(flag: Arc<AtomicUsize>) -> Self {
        Self(Some(flag))
    }

    /// The reason stop was asked for, if it was.
    pub fn reason(&self) -> Option<usize> {
        let flag = self.0.as_ref()?;
        match flag.load(Ordering::Relaxed) {
            0 => None,
            reason => Some(reason),
        }
    }

    /// `Err(Interrupted)` once stop was asked for; `at` says where ("at epoch 3 of 100").
    pub fn check(&self, at: impl FnOnce() -> String) -> Result<()> {
        match self.reason() {
            None => Ok(()),
            Some(_) => Err(Error::Interrupted { at: at() }),
        }
    }
}
