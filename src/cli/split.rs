//! The NLL of each part of a split, as `train` and `count` report it.

use bigram::dataset::{Dataset, PartNll};
use bigram::model::Model;
use serde::Serialize;

/// The NLL of each part of a split.
#[derive(Serialize)]
pub struct SplitReport {
    spec: String,
    seed: u64,
    #[serde(flatten)]
    parts: std::collections::BTreeMap<&'static str, PartNll>,
    /// `nll by part: train 2.4538, dev 2.4540, test 2.4662`, the parts in the split's order.
    #[serde(skip)]
    pub line: String,
}

impl SplitReport {
    /// The parts' NLLs under `model`, when the data was split (its record says how).
    pub fn of(data: &Dataset, model: &Model) -> bigram::Result<Option<Self>> {
        let meta = data.provenance();
        let (Some(parts), Some(spec), Some(seed)) =
            (data.part_nlls(model)?, meta.split, meta.split_seed)
        else {
            return Ok(None);
        };
        let shown: Vec<String> = parts
            .iter()
            .map(|p| match p.nll {
                Some(v) => format!("{} {v:.4}", p.part),
                None => format!("{} -", p.part),
            })
            .collect();
        Ok(Some(Self {
            spec: spec.to_string(),
            seed,
            line: format!("nll by part: {}\n", shown.join(", ")),
            parts: parts.into_iter().map(|p| (p.part, p)).collect(),
        }))
    }
}
