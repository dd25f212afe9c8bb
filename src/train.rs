//! Training the network. [`fit`] is a whole run as `bigram train` makes one: the data (names, or
//! a count checkpoint's counts), the starting weights (the seed's, or a checkpoint's to
//! resume), the epochs, and the model with the record of how it was made. The epochs
//! themselves, the notebook's gradient descent, are `epochs`; each epoch's results read back
//! and checked, `readback`; the counts method's objective, `counts`.

mod counts;
mod epochs;
mod readback;

pub use crate::provenance::Method;
pub use counts::CountsObjective;
pub use epochs::{
    check_one_hot_size, initial_weights, tensor_bytes, train, train_from, OneHot, TrainConfig,
    TrainData,
};
pub use readback::{Epoch, OnEpoch, Trained, DEFAULT_LR};

use crate::cancel::Cancel;
use crate::data::{ReadOptions, Source, SplitSpec};
use crate::dataset::{Dataset, FitOptions};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::provenance::{Meta, Start};
use crate::tensorboard::EventLog;
use crate::Named;
use epochs::check_memory_of_files;
use std::path::Path;
use std::time::Instant;
use tch::Device;

/// What a run trains on.
#[derive(Clone, Copy, Debug)]
pub enum TrainOn<'a> {
    /// Names from files or standard input (the train part of a split, when one is asked for).
    Names {
        /// The files, read as one.
        sources: &'a [Source],
        /// How to read and check them.
        read: &'a ReadOptions,
        /// 2 for bigrams, 3 for trigrams.
        order: usize,
        /// Split the names (a spec and the shuffle's seed) and fit on the train part.
        split: Option<(SplitSpec, u64)>,
    },
    /// The raw counts of a count checkpoint (`bigram count`, `bigram merge`): no data is read.
    Counts(&'a Path),
}

/// A whole training run.
#[derive(Clone, Copy, Debug)]
pub struct Fit<'a> {
    pub data: TrainOn<'a>,
    /// A checkpoint to resume from (its weights instead of the seed's).
    pub init: Option<&'a Path>,
    /// The settings (the counts method runs on the CPU whatever the device says).
    pub config: TrainConfig,
    /// libtorch's thread count, recorded with the model.
    pub threads: i32,
    /// Checked after every epoch.
    pub cancel: &'a Cancel,
    /// A folder to log the run in for TensorBoard (`Loss/train`, and `Loss/test` with a dev
    /// part, per epoch).
    pub tensorboard: Option<&'a Path>,
}

/// What a run produced.
#[derive(Debug)]
pub struct Fitted {
    /// The network, its metadata filled in.
    pub model: Model,
    pub data: Dataset,
    pub trained: Trained,
    /// The settings that ran (the device the counts method ran on).
    pub config: TrainConfig,
    /// Seconds spent reading the data.
    pub load_seconds: f64,
    /// The TensorBoard log, removed when dropped unless kept ([`EventLog::keep`]): kept once
    /// everything else is, a failed run leaves none.
    pub log: Option<EventLog>,
}

/// The method a run uses: the one asked for (`onehot` by default), except from a count
/// checkpoint (`counts`), which has counts and no examples: only the counts method trains from
/// them, and no split can cut names that are not there.
pub fn method_for(counts: Option<&Path>, asked: Option<Method>, split: bool) -> Result<Method> {
    let Some(counts) = counts else {
        return Ok(asked.unwrap_or_default());
    };
    let shown = counts.display();
    if asked.is_some_and(|m| m != Method::Counts) {
        return Err(Error::input(format!("--counts {shown} gives counts, not examples: only --method counts trains from them; drop --method, or train on the data with --data")));
    }
    if split {
        return Err(Error::input(format!("--split cuts the names, and --counts {shown} has only their counts; count each part on its own (bigram count --split) or train on the data with --data")));
    }
    Ok(Method::Counts)
}

/// What a run did, in numbers: `train --json` prints them, and docs/training.md says what each is.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub epochs: u64,
    pub lr: f64,
    pub reg: f64,
    pub seed: Option<i64>,
    pub method: &'static str,
    pub order: usize,
    pub device: String,
    pub threads: i32,
    pub loss: f64,
    pub last_epoch_nll: f64,
    pub nll: f64,
    pub examples: u64,
    pub seconds: f64,
    pub warmup_seconds: Option<f64>,
    pub load_seconds: f64,
}

impl Fitted {
    pub fn summary(&self) -> Summary {
        let meta = &self.model.meta;
        Summary {
            epochs: self.config.epochs as u64,
            lr: self.config.lr,
            reg: self.config.reg,
            seed: meta.seed,
            method: self.config.method.name(),
            order: self.data.order(),
            device: crate::device::device_name(self.config.device),
            threads: meta.threads.unwrap_or_default(),
            loss: meta.final_loss.unwrap_or(f64::NAN),
            last_epoch_nll: self.trained.nlls.last().copied().unwrap_or(f64::NAN),
            nll: meta.nll.unwrap_or(f64::NAN),
            examples: self.data.counts().total(),
            seconds: self.trained.seconds,
            warmup_seconds: self.trained.warmup_seconds,
            load_seconds: self.load_seconds,
        }
    }

    /// The loss per epoch (and the dev NLL when there is a dev part) as a PNG.
    pub fn loss_curve(&self) -> Result<Vec<u8>> {
        let trained = &self.trained;
        let mut series: Vec<(&str, &[f64])> = vec![
            ("train loss (NLL + L2)", &trained.losses),
            ("train NLL", &trained.nlls),
        ];
        if !trained.dev_nlls.is_empty() {
            series.push(("dev NLL", &trained.dev_nlls));
        }
        let title = format!(
            "bigram network (order {}), lr {}, reg {}",
            self.model.order, self.config.lr, self.config.reg
        );
        crate::plot::loss_curve(&title, &series)
    }
}

/// Run `fit`: `loaded` sees the data once it is read, `on_epoch` each epoch's loss. A stop
/// request ends the run at the next epoch.
pub fn fit(
    fit: &Fit<'_>,
    loaded: &mut dyn FnMut(&Dataset),
    on_epoch: OnEpoch<'_>,
) -> Result<Fitted> {
    let init = fit
        .init
        .map(|path| crate::checkpoint::read(path, fit.cancel))
        .transpose()?;
    let start = (init.as_ref())
        .map(|loaded| Start::of(&loaded.path, &loaded.model.meta, loaded.sha256.clone()));
    let mut config = fit.config;
    if config.method == Method::Counts {
        config.device = Device::Cpu;
    }
    let load_start = Instant::now();
    let data = match fit.data {
        TrainOn::Counts(path) => Dataset::from_counts(&crate::checkpoint::read(path, fit.cancel)?)?,
        TrainOn::Names {
            sources,
            read,
            order,
            split,
        } => {
            check_memory_of_files(config.method, sources, order)?;
            let options = FitOptions {
                order,
                examples: config.method.needs_examples(),
                split,
            };
            Dataset::load(sources, read, options)?
        }
    };
    loaded(&data);
    let load_seconds = load_start.elapsed().as_secs_f64();
    let w0 = match &init {
        Some(loaded) => data.initial_weights_from(&loaded.model)?,
        None => initial_weights(config.seed, data.counts().rows, data.counts().width),
    };
    let mut log = fit
        .tensorboard
        .map(|dir| EventLog::create(dir, &settings(&config, &data, fit.threads)))
        .transpose()?;
    let mut each_epoch = |e: &Epoch| {
        on_epoch(e)?;
        if let Some(log) = log.as_mut() {
            log.record(e)?;
        }
        fit.cancel
            .check(|| format!("at epoch {} of {}", e.epoch, config.epochs))
    };
    let trained = train_from(w0, TrainData::of(&data), &config, &mut each_epoch)?;
    let mut model = Model::network(trained.w.shallow_clone(), data.vocab(), data.order());
    // How it was made: the last epoch's loss, the NLL of the weights saved, and where it
    // started (the seed's weights, or a checkpoint whose epochs count towards `epochs_total`).
    let epochs = config.epochs as u64;
    model.meta = Meta {
        epochs: Some(epochs),
        epochs_total: Some(start.as_ref().map_or(0, |s| s.epochs_total) + epochs),
        lr: Some(config.lr),
        reg: Some(config.reg),
        method: Some(config.method),
        device: Some(crate::device::device_name(config.device)),
        threads: Some(fit.threads),
        final_loss: Some(trained.losses.last().copied().unwrap_or(f64::NAN)),
        nll: Some(model.nll(data.counts())?),
        seed: start.is_none().then_some(config.seed),
        init: start,
        ..data.provenance().clone()
    };
    fit.cancel.check(|| "after training".into())?;
    Ok(Fitted {
        model,
        data,
        trained,
        config,
        load_seconds,
        log,
    })
}

impl<'a> TrainData<'a> {
    /// What a run on `data` trains on: its examples and counts (the train part's, when split),
    /// following the dev part when there is one.
    pub fn of(data: &'a Dataset) -> Self {
        Self {
            examples: data.examples(),
            counts: data.counts(),
            dev: data.dev_counts(),
        }
    }
}

/// A run's settings, as TensorBoard shows them in its Text tab (markdown).
fn settings(config: &TrainConfig, data: &Dataset, threads: i32) -> String {
    format!(
        "bigram train: {}, lr {}, reg {}, seed {}, {} method, order {}, {}, on {}  \n{}",
        crate::plural(config.epochs, "epoch"),
        config.lr,
        config.reg,
        config.seed,
        config.method,
        data.order(),
        crate::plural(threads, "thread"),
        crate::device::device_name(config.device),
        data.summary
    )
}
