//! The NLL of each part of a split, as `train` and `count` report it.

use bigram::dataset::Dataset;
use bigram::model::Model;
use serde::Serialize;
use std::collections::BTreeMap;

/// The NLL of each part of a split.
#[derive(Serialize)]
pub struct SplitReport {
    spec: String,
    seed: u64,
    #[serde(flatten)]
    parts: BTreeMap<&'static str, PartNll>,
    /// `nll by part: train 2.4538, dev 2.4540, test 2.4662`, the parts in the split's order.
    #[serde(skip)]
    pub line: String,
}

/// One part: its names, and their NLL per bigram (`None` for an empty part).
#[derive(Serialize)]
struct PartNll {
    names: usize,
    nll: Option<f64>,
}

impl SplitReport {
    /// The parts' NLLs under `model`, when the data was split (its record says how).
    pub fn of(data: &Dataset, model: &Model) -> bigram::Result<Option<Self>> {
        let meta = data.provenance();
        let (Some(splits), Some(spec), Some(seed)) = (&data.splits, meta.split, meta.split_seed)
        else {
            return Ok(None);
        };
        let (mut parts, mut shown) = (BTreeMap::new(), Vec::new());
        for (part, data) in splits.parts() {
            let nll = match data.counts.total() {
                0 => None,
                _ => Some(model.nll(&data.counts)?),
            };
            shown.push(match nll {
                Some(v) => format!("{part} {v:.4}"),
                None => format!("{part} -"),
            });
            let names = data.names.len();
            parts.insert(part, PartNll { names, nll });
        }
        Ok(Some(Self {
            spec: spec.to_string(),
            seed,
            line: format!("nll by part: {}\n", shown.join(", ")),
            parts,
        }))
    }
}
