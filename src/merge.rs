//! Counts add: the count checkpoints of pieces of a corpus (counted wherever and whenever)
//! merge into the count model of the whole, as if the pieces had been one file. Counts of
//! different vocabularies, orders, case folding or splits do not add and are refused, and so
//! are counts given twice.

use crate::data::Counts;
use crate::error::{MergeError, Result};
use crate::eval::{data_files_of, DataFile};
use crate::model::{Model, ModelKind};
use std::collections::HashMap;
use std::path::PathBuf;

/// One count checkpoint to merge.
pub struct Part {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its model (a count model with raw counts).
    pub model: Model,
}

/// One merged checkpoint, as the merged one records it (`sources`, a JSON list).
#[derive(serde::Serialize)]
struct MergedSource {
    path: String,
    sha256: String,
    data_files: Vec<DataFile>,
}

/// The count model of the parts' summed counts, smoothed with `smoothing` (default: the
/// parts' own smoothing, which must then be the same for all). Its metadata lists the parts
/// (`sources`, each with its checksum and data files) and all their data files together.
pub fn merge(parts: &[Part], smoothing: Option<f64>) -> Result<Model> {
    let first = parts
        .first()
        .ok_or_else(|| crate::Error::invalid("nothing to merge"))?;
    let mut sum: Option<Counts> = None;
    let mut sources = Vec::with_capacity(parts.len());
    for part in parts {
        let counts = check(part, first, smoothing.is_none())?;
        sources.push(MergedSource {
            path: absolute(part),
            sha256: crate::data::sha256_file(&part.path)?,
            data_files: data_files_of(&part.model),
        });
        match &mut sum {
            None => sum = Some(counts.clone()),
            Some(total) => {
                if !total.checked_add(counts) {
                    return Err(MergeError::Overflow.into());
                }
            }
        }
    }
    refuse_repeats(parts, &sources)?;
    let smoothing =
        smoothing.unwrap_or_else(|| meta(&first.model, "smoothing").parse().unwrap_or(1.0));
    let (vocab, order) = (&first.model.vocab, first.model.order);
    let counts = sum.unwrap_or_else(|| Counts::new(vocab.len(), order));
    let mut model = Model::from_counts(&counts, vocab, order, smoothing);
    let nll = model.nll(&counts)?;
    let files: Vec<&DataFile> = sources.iter().flat_map(|s| &s.data_files).collect();
    let mut entries = vec![
        ("smoothing", smoothing.to_string()),
        ("nll", nll.to_string()),
        (
            "sources",
            serde_json::to_string(&sources).unwrap_or_default(),
        ),
        (
            "data_files",
            serde_json::to_string(&files).unwrap_or_default(),
        ),
        ("lowercase", first.model.lowercase().to_string()),
    ];
    for key in ["split", "split_seed"] {
        if let Some(value) = first.model.meta.get(key) {
            entries.push((key, value.clone()));
        }
    }
    model
        .meta
        .extend(entries.into_iter().map(|(k, v)| (k.to_string(), v)));
    Ok(model)
}

/// A part's counts, once it is a count model whose counts add to the first part's.
fn check<'a>(part: &'a Part, first: &Part, same_smoothing: bool) -> Result<&'a Counts> {
    if part.model.kind != ModelKind::Counts {
        return Err(MergeError::NotCounts { path: name(part) }.into());
    }
    let counts = part
        .model
        .counts
        .as_ref()
        .ok_or_else(|| MergeError::NoCounts { path: name(part) })?;
    let facts = |p: &Part| {
        let split = match p.model.meta.get("split") {
            Some(spec) => format!("{spec} with seed {}", meta(&p.model, "split_seed")),
            None => "none".into(),
        };
        [
            ("vocabularies", p.model.vocab.as_string()),
            ("orders", p.model.order.to_string()),
            ("case folding", p.model.lowercase().to_string()),
            ("splits", split),
            ("smoothings", meta(&p.model, "smoothing")),
        ]
    };
    let checked = if same_smoothing { 5 } else { 4 };
    for ((what, a), (_, b)) in facts(first).into_iter().zip(facts(part)).take(checked) {
        if a != b {
            return Err(MergeError::Mismatch {
                what,
                first: name(first),
                other: name(part),
                first_value: a,
                other_value: b,
            }
            .into());
        }
    }
    Ok(counts)
}

/// Refuse a checkpoint given twice, or two that counted the same data file (by checksum).
fn refuse_repeats(parts: &[Part], sources: &[MergedSource]) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, source) in sources.iter().enumerate() {
        let keys = std::iter::once((source.sha256.as_str(), "the same checkpoint".to_string()))
            .chain(source.data_files.iter().filter_map(|f| {
                let what = format!("the data file {}", f.path.as_deref().unwrap_or("?"));
                Some((f.sha256.as_deref()?, what))
            }));
        for (key, what) in keys {
            if let Some(&j) = seen.get(key) {
                if j != i {
                    return Err(MergeError::Duplicate {
                        first: name(&parts[j]),
                        other: name(&parts[i]),
                        what,
                    }
                    .into());
                }
            }
            seen.insert(key, i);
        }
    }
    Ok(())
}

fn name(part: &Part) -> String {
    part.path.display().to_string()
}

fn absolute(part: &Part) -> String {
    std::fs::canonicalize(&part.path)
        .unwrap_or_else(|_| part.path.clone())
        .display()
        .to_string()
}

fn meta(model: &Model, key: &str) -> String {
    model.meta.get(key).cloned().unwrap_or_default()
}
