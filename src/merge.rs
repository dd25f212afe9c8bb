//! Counts add: the count checkpoints of pieces of a corpus (counted wherever and whenever)
//! merge into the count model of the whole, as if the pieces had been one file. Counts of
//! different vocabularies, orders or case folding do not add and are refused.

use crate::error::{MergeError, Result};
use crate::eval::DataFile;
use crate::model::{Model, ModelKind};
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
    data_files: serde_json::Value,
}

/// The count model of the parts' summed counts, smoothed with `smoothing` (default: the
/// parts' own smoothing, which must then be the same for all). Its metadata lists the parts
/// (`sources`, each with its checksum and data files) and all their data files together.
pub fn merge(parts: &[Part], smoothing: Option<f64>) -> Result<Model> {
    let name = |p: &Part| p.path.display().to_string();
    let first = parts
        .first()
        .ok_or_else(|| crate::Error::invalid("nothing to merge"))?;
    let mut sum = None;
    for part in parts {
        if part.model.kind != ModelKind::Counts {
            return Err(MergeError::NotCounts { path: name(part) }.into());
        }
        let counts = part
            .model
            .counts
            .as_ref()
            .ok_or_else(|| MergeError::NoCounts { path: name(part) })?;
        let facts = |p: &Part| {
            [
                ("vocabularies", p.model.vocab.as_string()),
                ("orders", p.model.order.to_string()),
                ("case folding", p.model.lowercase().to_string()),
                ("smoothings", meta(&p.model, "smoothing")),
            ]
        };
        let checked = if smoothing.is_some() { 3 } else { 4 };
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
        match &mut sum {
            None => sum = Some(counts.clone()),
            Some(total) => total.add(counts),
        }
    }
    let smoothing = match smoothing {
        Some(s) => s,
        None => meta(&first.model, "smoothing").parse().unwrap_or(1.0),
    };
    let counts =
        sum.unwrap_or_else(|| crate::data::Counts::new(first.model.vocab.len(), first.model.order));
    let mut model = Model::from_counts(&counts, &first.model.vocab, first.model.order, smoothing);
    record_sources(&mut model, parts, smoothing)?;
    Ok(model)
}

fn meta(model: &Model, key: &str) -> String {
    model.meta.get(key).cloned().unwrap_or_default()
}

/// Metadata: the smoothing, the NLL of the merged counts, the parts, and their data files.
fn record_sources(model: &mut Model, parts: &[Part], smoothing: f64) -> Result<()> {
    let mut sources = Vec::new();
    let mut files = Vec::new();
    for part in parts {
        let data_files: Vec<DataFile> =
            serde_json::from_str(&meta(&part.model, "data_files")).unwrap_or_default();
        files.extend(data_files.iter().cloned());
        sources.push(MergedSource {
            path: std::fs::canonicalize(&part.path)
                .unwrap_or_else(|_| part.path.clone())
                .display()
                .to_string(),
            sha256: crate::data::sha256_file(&part.path)?,
            data_files: serde_json::to_value(&data_files).unwrap_or_default(),
        });
    }
    let nll = match &model.counts {
        Some(counts) => model.nll(counts)?,
        None => f64::NAN,
    };
    let entries = [
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
        ("lowercase", parts[0].model.lowercase().to_string()),
    ];
    model
        .meta
        .extend(entries.into_iter().map(|(k, v)| (k.to_string(), v)));
    Ok(())
}
