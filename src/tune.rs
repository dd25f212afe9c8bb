//! Choosing a setting on held-out data: train (or count) once per value, measure the NLL of
//! the dev part, and keep the lowest.

use crate::cancel::Cancel;
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::{LogProbs, Model};
use crate::tensorboard::EventLog;
use crate::train::{train, Epoch, TrainConfig, TrainData};
use serde::Serialize;
use std::path::Path;

/// What is being tuned, named as its flag (`reg`, `smoothing`) in reports and log folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display, serde_with::SerializeDisplay)]
#[strum(serialize_all = "lowercase")]
pub enum Knob {
    /// The network's L2 weight.
    Reg,
    /// The count model's additive smoothing.
    Smoothing,
}

/// One tried value and how it did.
#[derive(Clone, Debug, Serialize)]
pub struct TuneRow {
    pub value: f64,
    /// NLL on the training part.
    pub train_nll: f64,
    /// NLL on the dev part: what the choice is made on.
    pub dev_nll: f64,
    /// The epoch training diverged at, for a value that cannot be trained with these
    /// settings (its NLLs are then infinite and it is never the best).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diverged_at: Option<usize>,
}

/// Fit one model per value on the train part of `data`'s split and measure it on the dev part;
/// `cancel` is checked before each value and after each network epoch. For `Reg`, `config`
/// gives the other hyper-parameters (its `reg` is replaced by each value); a value whose
/// training diverges is a row that says so, not the end of the search. With `tensorboard`, each value
/// is logged in `DIR/<knob>=<value>`, started at its first record (a count model's NLLs are
/// one record, at step 0); the logs come back to be kept once the whole search succeeded.
pub fn tune(
    data: &Dataset,
    knob: Knob,
    values: &[f64],
    config: &TrainConfig,
    tensorboard: Option<&Path>,
    cancel: &Cancel,
) -> Result<(Vec<TuneRow>, Vec<EventLog>)> {
    let Some(dev) = data.dev_counts() else {
        let split = data.provenance().split;
        let what = split.map_or("unsplit data".to_string(), |s| format!("the split {s}"));
        crate::bail_input!("{what} leaves no dev names to tune on");
    };
    let fit = TrainData::of(data);
    let mut rows = Vec::new();
    let mut logs: Vec<(f64, EventLog)> = Vec::new();
    for &value in values {
        let run = || format!("the run with {knob} {}", crate::number(value));
        cancel.check(|| format!("before {}", run()))?;
        // Started at the value's first record; a value given twice in a row goes on in it.
        let mut record = |e: &Epoch| -> Result<()> {
            let Some(dir) = tensorboard else {
                return Ok(());
            };
            if logs.last().is_none_or(|(v, _)| *v != value) {
                let name = format!("{knob}={}", crate::number(value));
                let settings = format!("bigram tune: {name}");
                logs.push((value, EventLog::create(&dir.join(&name), &settings)?));
            }
            logs.last_mut().map_or(Ok(()), |(_, log)| log.record(e))
        };
        let w = match knob {
            Knob::Reg => {
                let config = TrainConfig {
                    reg: value,
                    ..*config
                };
                let mut each = |e: &Epoch| {
                    record(e)?;
                    cancel.check(|| format!("at epoch {} of {}", e.epoch, run()))
                };
                train(fit, &config, &mut each).map(|trained| trained.w)
            }
            Knob::Smoothing => {
                Ok(Model::from_counts(fit.counts, data.vocab(), data.order(), value).w)
            }
        };
        let row = match w {
            Ok(w) => {
                let log_probs = LogProbs::of_logits(&w)?;
                TuneRow {
                    value,
                    train_nll: log_probs.nll(fit.counts),
                    dev_nll: log_probs.nll(dev),
                    diverged_at: None,
                }
            }
            Err(Error::Diverged { epoch, .. }) => TuneRow {
                value,
                train_nll: f64::INFINITY,
                dev_nll: f64::INFINITY,
                diverged_at: Some(epoch),
            },
            Err(e) => return Err(e),
        };
        if knob == Knob::Smoothing {
            let (nll, dev_nll) = (row.train_nll, Some(row.dev_nll));
            record(&Epoch {
                epoch: 0,
                loss: nll,
                nll,
                dev_nll,
            })?;
        }
        rows.push(row);
    }
    Ok((rows, logs.into_iter().map(|(_, log)| log).collect()))
}

/// The index of the row with the lowest finite dev NLL (the first of equals).
pub fn best(rows: &[TuneRow]) -> Option<usize> {
    (0..rows.len())
        .filter(|&i| rows[i].dev_nll.is_finite())
        .min_by(|&a, &b| rows[a].dev_nll.total_cmp(&rows[b].dev_nll))
}
