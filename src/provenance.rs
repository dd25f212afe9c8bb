//! Provenance: how a model was made, as its checkpoint records it ([`Meta`]): the data it
//! was fitted on, how it was trained or smoothed, where a resumed run started, the pieces a
//! merged count model adds up. A new checkpoint field is a new field of [`Meta`], set where
//! models are made (and in [`Meta::of_data`] if it is about the data), and a row in
//! docs/checkpoints.md; no list of key names is kept by hand ([`crate::checkpoint::keys`]). How
//! the record is stored in a file is `checkpoint`'s; what the model computes is `model`'s.

use crate::data::SplitSpec;
use crate::Named;
use serde::{Deserialize, Serialize};
use serde_with::{json::JsonString, skip_serializing_none, DisplayFromStr};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use strum::VariantArray;

/// How a model was made, as its checkpoint records it: each field is a key, and the table in
/// docs/checkpoints.md (held to these fields by a test) says what each holds. Every field is
/// optional: a network fills in its training, a count model its smoothing, both their data.
/// A value is stored as its text (Display and FromStr), a record as JSON text.
#[serde_with::apply(Option => #[serde_as(as = "Option<DisplayFromStr>")])]
#[skip_serializing_none]
#[serde_with::serde_as]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde_with(skip_apply)]
    #[serde_as(as = "Option<JsonString>")]
    pub data_files: Option<Vec<DataFile>>,
    pub lowercase: Option<bool>,
    pub split: Option<SplitSpec>,
    pub split_seed: Option<u64>,
    #[serde_with(skip_apply)]
    #[serde_as(as = "Option<JsonString>")]
    pub counts_from: Option<DataFile>,
    #[serde_with(skip_apply)]
    #[serde_as(as = "Option<JsonString>")]
    pub sources: Option<Vec<Piece>>,
    pub seed: Option<i64>,
    #[serde_with(skip_apply)]
    #[serde_as(as = "Option<JsonString>")]
    pub init: Option<Start>,
    pub epochs: Option<u64>,
    pub epochs_total: Option<u64>,
    pub lr: Option<f64>,
    pub reg: Option<f64>,
    pub method: Option<Method>,
    pub device: Option<String>,
    pub threads: Option<i32>,
    pub final_loss: Option<f64>,
    pub nll: Option<f64>,
    pub smoothing: Option<f64>,
}

/// How a network's epochs were computed (`train` runs them; docs/training.md compares them),
/// recorded as its checkpoint's `method`. `VARIANTS` lists them, and the command line offers
/// that list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, strum::VariantArray)]
pub enum Method {
    #[default]
    OneHot,
    Index,
    Counts,
}

impl Named for Method {
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Method::OneHot => (
                "onehot",
                "The notebook's one-hot matmul: bit-identical to PyTorch on the CPU",
            ),
            Method::Index => (
                "index",
                "Row lookup W[X] and cross entropy: same objective, less work",
            ),
            Method::Counts => (
                "counts",
                "The objective over the 27×27 counts with its gradient written out: fastest",
            ),
        }
    }
}

impl Method {
    /// Whether it needs the list of examples (not just their counts).
    pub fn needs_examples(self) -> bool {
        self != Method::Counts
    }
}

/// Its name, as checkpoints and reports write it.
impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The method of that name; the error names the known ones.
impl FromStr for Method {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        let names: Vec<&str> = Self::VARIANTS.iter().map(|m| m.name()).collect();
        Self::from_name(name).ok_or_else(|| format!("it must be one of {}", names.join(", ")))
    }
}

/// One data file as a checkpoint records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// Absolute path; `None` for standard input.
    pub path: Option<String>,
    /// sha256 of its bytes (for standard input too: nothing can check it later, but `merge`
    /// sees the same data counted twice by it). `None` in checkpoints written before that.
    /// The whole file's, when only a range of it was counted: that is what shows two ranges
    /// are of the same file.
    pub sha256: Option<String>,
    /// The bytes `[start, end)` whose lines were counted (`count --range`, `--shard`);
    /// absent when the whole file was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[u64; 2]>,
}

impl DataFile {
    /// Whether two records may share lines: the same file (by checksum) and ranges that
    /// overlap, a whole file overlapping any range of it.
    pub fn overlaps(&self, other: &DataFile) -> bool {
        let same_file = self.sha256.is_some() && self.sha256 == other.sha256;
        same_file
            && match (self.range, other.range) {
                (Some([a, b]), Some([c, d])) => a < d && c < b,
                _ => true,
            }
    }
}

/// One checkpoint a merged count model adds up, with the data files it counted. A merge records
/// only such leaves; checkpoints merged before that nest a merged piece's own pieces in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    /// Its absolute path when merged.
    pub path: String,
    pub sha256: String,
    /// The data files it counted.
    pub data_files: Vec<DataFile>,
    /// The pieces it was merged from, when it was a merge (read, in older checkpoints).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Piece>,
}

/// Where a run that resumed from a checkpoint started: recorded as its `init`, so that a
/// chain of resumed runs can be traced back to its seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    /// The starting checkpoint, absolute.
    pub path: PathBuf,
    pub sha256: String,
    /// The epochs behind it, since the seed's weights, through every earlier resume.
    pub epochs_total: u64,
    /// The seed the chain started from, however many resumes ago.
    pub seed: Option<String>,
}

impl Start {
    /// The record of starting from a model made as `meta` says, read from `path` with checksum
    /// `sha256`.
    pub fn of(path: &Path, meta: &Meta, sha256: String) -> Self {
        let seed = meta
            .seed
            .map(|s| s.to_string())
            .or_else(|| meta.init.as_ref().and_then(|i| i.seed.clone()));
        Self {
            path: crate::io::absolute(path),
            sha256,
            epochs_total: meta.epochs_total.or(meta.epochs).unwrap_or(0),
            seed,
        }
    }
}

impl Meta {
    /// The record of the data alone (its files, case folding and split), which a model made
    /// from another's counts carries over (`train --counts`, `merge`). A new field about the
    /// data is added here as well as above.
    pub fn of_data(&self) -> Meta {
        Meta {
            data_files: self.data_files.clone(),
            lowercase: self.lowercase,
            split: self.split,
            split_seed: self.split_seed,
            ..Meta::default()
        }
    }

    /// The values that must make sense for a model to be used: a smoothing that is a finite
    /// number of at least 0, a positive learning rate... The first wrong one is named.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let bad = |key: &str, value: &dyn std::fmt::Display, want: &str| {
            Err(format!("metadata {key:?} is {value}; it must be {want}"))
        };
        if let Some(s) = self.smoothing.filter(|s| !(s.is_finite() && *s >= 0.0)) {
            return bad("smoothing", &s, "a finite number, 0 or more");
        }
        if let Some(lr) = self.lr.filter(|v| !(v.is_finite() && *v > 0.0)) {
            return bad("lr", &lr, "a finite number above 0");
        }
        if let Some(reg) = self.reg.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            return bad("reg", &reg, "a finite number, 0 or more");
        }
        if let Some(nll) = self.nll.filter(|v| v.is_nan() || *v < 0.0) {
            return bad("nll", &nll, "a number, 0 or more");
        }
        if let Some(t) = self.threads.filter(|t| *t < 1) {
            return bad("threads", &t, "at least 1");
        }
        Ok(())
    }

    /// The data files it records; empty when none are.
    pub fn data_files(&self) -> Vec<DataFile> {
        self.data_files.clone().unwrap_or_default()
    }
}
