//! Choosing a setting on held-out data: train (or count) once per value, measure the NLL of
//! the dev part, and keep the lowest.

use crate::data::Splits;
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

/// Fit one model per value on `splits.train` and measure it on `splits.dev`; `on_epoch` sees
/// each value before its fit (`None`) and each network epoch (with its dev NLL), and an error
/// from it (an interrupt) stops the search. For `Reg`,
/// `config` gives the other hyper-parameters (its `reg` is replaced by each value); a value
/// whose training diverges is a row that says so, not the end of the search.
pub fn tune(
    splits: &Splits,
    vocab: &crate::vocab::Vocab,
    order: usize,
    knob: Knob,
    values: &[f64],
    config: &TrainConfig,
    on_epoch: &mut dyn FnMut(f64, Option<&Epoch>) -> Result<()>,
) -> Result<Vec<TuneRow>> {
    let (fit, dev) = (&splits.train, &splits.dev);
    values
        .iter()
        .map(|&value| {
            on_epoch(value, None)?;
            let w = match knob {
                Knob::Reg => {
                    let config = TrainConfig {
                        reg: value,
                        ..*config
                    };
                    let data = TrainData {
                        examples: fit.examples.as_ref(),
                        counts: &fit.counts,
                        dev: Some(&dev.counts),
                    };
                    let mut check = |e: &Epoch| on_epoch(value, Some(e));
                    match train(data, &config, &mut check) {
                        Ok(trained) => trained.w,
                        Err(Error::Diverged { epoch, .. }) => {
                            return Ok(TuneRow {
                                value,
                                train_nll: f64::INFINITY,
                                dev_nll: f64::INFINITY,
                                diverged_at: Some(epoch),
                            })
                        }
                        Err(e) => return Err(e),
                    }
                }
                Knob::Smoothing => Model::from_counts(&fit.counts, vocab, order, value).w,
            };
            let log_probs = LogProbs::of_logits(&w)?;
            Ok(TuneRow {
                value,
                train_nll: log_probs.nll(&fit.counts),
                dev_nll: log_probs.nll(&dev.counts),
                diverged_at: None,
            })
        })
        .collect()
}

/// The index of the row with the lowest finite dev NLL (the first of equals).
pub fn best(rows: &[TuneRow]) -> Option<usize> {
    (0..rows.len())
        .filter(|&i| rows[i].dev_nll.is_finite())
        .min_by(|&a, &b| rows[a].dev_nll.total_cmp(&rows[b].dev_nll))
}

/// One TensorBoard log per value tried, `DIR/<knob>=<value>`, started at its first record and
/// kept only when the whole search succeeded.
pub struct RunLogs<'a> {
    dir: Option<&'a Path>,
    knob: Knob,
    logs: Vec<(f64, EventLog)>,
}

impl<'a> RunLogs<'a> {
    /// Logs of the values of `knob` in `dir` (none when `None`).
    pub fn new(dir: Option<&'a Path>, knob: Knob) -> Self {
        Self {
            dir,
            knob,
            logs: Vec::new(),
        }
    }

    fn log(&mut self, value: f64) -> Result<Option<&mut EventLog>> {
        let Some(dir) = self.dir else {
            return Ok(None);
        };
        if self.logs.last().is_none_or(|(v, _)| *v != value) {
            let name = format!("{}={}", self.knob, crate::number(value));
            let settings = format!("bigram tune: {name}");
            self.logs
                .push((value, EventLog::create(&dir.join(&name), &settings)?));
        }
        Ok(self.logs.last_mut().map(|(_, log)| log))
    }

    pub fn record(&mut self, value: f64, e: &Epoch) -> Result<()> {
        match self.log(value)? {
            Some(log) => log.record(e),
            None => Ok(()),
        }
    }

    /// A count model has no epochs: its train and dev NLLs, once (nothing for the network,
    /// whose epochs were recorded as they came).
    pub fn record_counts(&mut self, rows: &[TuneRow]) -> Result<()> {
        if self.knob != Knob::Smoothing {
            return Ok(());
        }
        for row in rows {
            if let Some(log) = self.log(row.value)? {
                log.scalars(
                    0,
                    &[("Loss/train", row.train_nll), ("Loss/test", row.dev_nll)],
                )?;
            }
        }
        Ok(())
    }

    /// Keep every log (once the whole search succeeded).
    pub fn keep(self) -> Result<()> {
        for (_, log) in self.logs {
            log.keep()?;
        }
        Ok(())
    }
}
