//! Counts add: the count checkpoints of pieces of a corpus (counted wherever and whenever)
//! merge into the count model of the whole, as if the pieces had been one file. Counts of
//! different vocabularies, orders, case folding or splits do not add and are refused, and so
//! is anything counted twice: a checkpoint given twice, two that counted the same data file
//! (or overlapping byte ranges of it, `count --range`), or a piece that is already inside a
//! merged one (however deep). Disjoint ranges of one file add. Provenance is recorded flat,
//! so a running total merged with one new piece at a time stays readable however long it runs.

use crate::cancel::Cancel;
use crate::checkpoint::Loaded;
use crate::data::Counts;
use crate::error::Result;
use crate::model::Model;
use crate::provenance::{DataFile, Meta, Piece};
use std::collections::HashMap;
use std::path::PathBuf;

/// The count model of the summed counts of the count checkpoints at `paths`, smoothed with
/// `smoothing` (default: the parts' own smoothing, which must then be the same for all), and
/// libtorch's `threads` recorded. Its metadata lists the leaf pieces (`sources`, each with its
/// checksum and data files: a merged part stands for the pieces it was merged from) and all
/// their data files together. A stop request is honoured until the model is made.
pub fn merge(
    paths: &[PathBuf],
    smoothing: Option<f64>,
    threads: i32,
    cancel: &Cancel,
) -> Result<Model> {
    let parts = paths
        .iter()
        .map(|path| {
            cancel.check(|| "while reading the checkpoints".into())?;
            crate::checkpoint::read(path, cancel)
        })
        .collect::<Result<Vec<Loaded>>>()?;
    let first = parts
        .first()
        .ok_or_else(|| crate::Error::input("nothing to merge"))?;
    let pieces = (parts.iter())
        .map(|part| check(part, first, smoothing.is_none()))
        .collect::<Result<Vec<_>>>()?;
    let sources: Vec<Piece> = parts
        .iter()
        .map(|part| {
            let meta = &part.model.meta;
            Piece {
                path: crate::io::absolute(&part.path).display().to_string(),
                sha256: part.sha256.clone(),
                data_files: meta.data_files(),
                sources: meta.sources.clone().unwrap_or_default(),
            }
        })
        .collect();
    // Anything counted twice is said to be that, before its sum is looked at.
    refuse_repeats(&parts, &sources)?;
    let mut counts = pieces[0].clone();
    for piece in &pieces[1..] {
        if !counts.checked_add(piece) {
            crate::bail_input!("the merged counts overflow a 64-bit count");
        }
    }
    let first_model = &first.model;
    let smoothing = smoothing.or(first_model.meta.smoothing).unwrap_or(1.0);
    let (vocab, order) = (&first_model.vocab, first_model.order);
    if counts.total() == 0 {
        crate::bail_input!("the pieces hold no bigrams: every count is zero");
    }
    // Only the leaves are recorded: nested one level per merge, a chain of merges would pass
    // the depth the JSON reader takes. Their checksums still show anything counted twice.
    let leaves: Vec<Piece> = (sources.iter().flat_map(pieces_of))
        .filter(|p| p.sources.is_empty())
        .cloned()
        .collect();
    let files: Vec<DataFile> = leaves.iter().flat_map(|s| s.data_files.clone()).collect();
    let data = Meta {
        data_files: Some(files),
        sources: Some(leaves),
        lowercase: Some(first_model.lowercase()),
        ..first_model.meta.of_data()
    };
    let model = crate::dataset::count_model(&counts, vocab, order, smoothing, threads, data)?;
    cancel.check(|| "after merging".into())?;
    Ok(model)
}

/// A part's counts, once it is a count model whose counts add to the first part's.
fn check<'a>(part: &'a Loaded, first: &Loaded, same_smoothing: bool) -> Result<&'a Counts> {
    let (model, counts) = (&part.model, part.raw_counts()?);
    let facts = |m: &Model| {
        let split = match (m.meta.split, m.meta.split_seed) {
            (Some(spec), Some(seed)) => format!("{spec} with seed {seed}"),
            (Some(spec), None) => spec.to_string(),
            _ => "none".into(),
        };
        let smoothing = m.meta.smoothing.map(|s| s.to_string()).unwrap_or_default();
        [
            ("vocabularies", m.vocab.as_string()),
            ("orders", m.order.to_string()),
            ("case folding", m.lowercase().to_string()),
            ("splits", split),
            (SMOOTHINGS, smoothing),
        ]
    };
    let pairs = facts(&first.model).into_iter().zip(facts(model));
    for ((fact, a), (_, b)) in pairs {
        // A smoothing given for the merged model settles any difference between the parts'.
        let settled = fact == SMOOTHINGS && !same_smoothing;
        if a != b && !settled {
            let fix = match fact {
                SMOOTHINGS => "pass --smoothing to choose the merged model's",
                _ => "count every piece with the same --vocab, --order and --lowercase",
            };
            crate::bail_input!(
                "{} and {} have different {fact}: {a:?} and {b:?}; {fix}",
                first.path.display(),
                part.path.display()
            );
        }
    }
    Ok(counts)
}

/// Refuse anything counted twice: two parts that are, or contain, the same checkpoint (by
/// checksum, through every level of earlier merges), or that counted lines of the same data
/// file (the same checksum, and ranges of it that overlap; a whole file overlaps any range).
fn refuse_repeats(parts: &[Loaded], sources: &[Piece]) -> Result<()> {
    // Checkpoints first: a checkpoint given twice is said to be that, not its data.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, source) in sources.iter().enumerate() {
        for piece in pieces_of(source) {
            // Only a key seen in another part is counted twice.
            match seen.insert(&piece.sha256, i) {
                Some(j) if j != i => {
                    return Err(duplicate(parts, j, i, "the same checkpoint".into()))
                }
                _ => {}
            }
        }
    }
    let mut counted: Vec<(usize, &DataFile)> = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let own: Vec<&DataFile> = (pieces_of(source).into_iter())
            .flat_map(|p| &p.data_files)
            .collect();
        for (k, file) in own.iter().enumerate() {
            // A merged part lists its pieces' files again: those are one count, not two.
            if own[..k].contains(file) {
                continue;
            }
            if let Some((j, first)) = counted.iter().find(|(_, seen)| seen.overlaps(file)) {
                let (a, b) = (described(first), described(file));
                let what = match (a == b, first.range == file.range) {
                    (true, _) => a,
                    (false, true) => format!("the same data ({a}, and {b})"),
                    (false, false) => format!("overlapping data ({a}, and {b})"),
                };
                return Err(duplicate(parts, *j, i, what));
            }
        }
        counted.extend(own.into_iter().map(|file| (i, file)));
    }
    Ok(())
}

/// A piece and every piece inside it, however deep.
fn pieces_of(piece: &Piece) -> Vec<&Piece> {
    std::iter::once(piece)
        .chain(piece.sources.iter().flat_map(pieces_of))
        .collect()
}

/// The fact whose difference `--smoothing` settles.
const SMOOTHINGS: &str = "smoothings";

fn duplicate(parts: &[Loaded], first: usize, other: usize, what: String) -> crate::Error {
    crate::Error::input(format!(
        "{} and {} both count {what}: merging would count it twice; give each piece once",
        parts[first].path.display(),
        parts[other].path.display()
    ))
}

/// A data file as a refusal names it: its path (or standard input) and its range.
fn described(file: &DataFile) -> String {
    let what = match &file.path {
        Some(path) => format!("the data file {path}"),
        None => "data read from standard input".to_string(),
    };
    match file.range {
        Some([start, end]) => format!("{what} bytes {start}..{end}"),
        None => what,
    }
}
