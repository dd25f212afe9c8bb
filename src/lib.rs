//! bigram: a character-level bigram model of names on tch (libtorch), a faithful port of a
//! PyTorch notebook, finished: training with smoothing, a count model, sampling, evaluation,
//! checkpoints, and a checker of parity with PyTorch.
//!
//! Data flows `vocab` → `data` → `model` (+ `provenance`, `checkpoint`) → `train` / `sample` /
//! `eval`; `dataset` is the data a fit reads, `tune` compares fits, `notebook` replays the
//! original notebook cell by cell in one file to read beside it, `parity` compares both with
//! PyTorch references, `plot` draws. No module imports one that imports it back.
//! The library knows nothing of the command line: the `bigram` binary turns flags into these
//! calls, and prints an [`Error`]'s message, which says what to do.

// libtorch, and the Unix file APIs used throughout (inodes, fifos, pread): Linux and macOS.
#[cfg(not(unix))]
compile_error!("bigram builds on Unix only (Linux, macOS)");

pub mod cancel;
pub mod checkpoint;
pub mod child;
pub mod data;
pub mod dataset;
pub mod device;
pub mod error;
pub mod eval;
pub mod io;
pub mod memory;
pub mod merge;
pub mod model;
pub mod notebook;
pub mod parity;
pub mod plot;
pub mod provenance;
pub mod pyrepr;
pub mod sample;
pub mod tensorboard;
pub mod train;
pub mod tune;
pub mod vocab;

pub use error::{Error, Result};

/// A closed set of choices a user names (`--method`, `--sampler`, a checkpoint's `method`):
/// `VARIANTS` lists them and [`Named::describe`] says each one's name and what it is, so a new
/// variant is named, parsed and offered from its one `describe` arm.
pub trait Named: strum::VariantArray + Copy + 'static {
    /// Its name (as the command line, reports and checkpoints write it) and a line saying what
    /// it is.
    fn describe(self) -> (&'static str, &'static str);

    fn name(self) -> &'static str {
        self.describe().0
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|v| v.name() == name)
    }
}

/// A number as a person reads it, in messages and reports: as Rust writes it for everyday
/// sizes, in exponent form when tiny or huge (a smoothing of 1e-320 is not written with 320
/// digits).
pub fn number(value: f64) -> String {
    let size = value.abs();
    if size != 0.0 && !(1e-4..1e16).contains(&size) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A count with its noun, singular for exactly one: `1 name`, `0 names`, `2 examples`.
pub fn plural(n: impl std::fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    format!("{n} {noun}{}", if n == "1" { "" } else { "s" })
}
