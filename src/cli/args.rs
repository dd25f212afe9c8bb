//! Flags that several commands share, declared once, and the parsers of their values.

use bigram::data::{ReadOptions, Source, SplitSpec, VocabChoice};
use bigram::train::{Method, TrainConfig};
use bigram::Named;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};

/// The data to read: one or more files, `-` for standard input.
#[derive(Clone, Debug, Args)]
pub struct DataArgs {
    /// Names files, one name per line, read as if they were one file; `-` reads standard
    /// input. Put names and other arguments before `--data` or after `--`.
    #[arg(long, num_args = 1.., default_value = bigram::data::DEFAULT_PATH, value_name = "PATH")]
    pub data: Vec<Source>,
}

/// How to read names, besides where from.
#[derive(Clone, Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Fold upper-case letters to lower case instead of rejecting them.
    #[arg(long)]
    pub lowercase: bool,
    /// Vocabulary: the 26 letters, or every character found in the data.
    #[arg(long, value_enum, default_value = "letters")]
    pub vocab: VocabArg,
}

impl ReadArgs {
    /// The library's read options: stopping when the run's interrupt is raised, and counting
    /// on at most the run's `--threads`.
    pub fn options(&self, ctx: &super::Context) -> ReadOptions {
        ReadOptions {
            lowercase: self.lowercase,
            vocab: match self.vocab {
                VocabArg::Letters => VocabChoice::Letters,
                VocabArg::Auto => VocabChoice::Auto,
            },
            cancel: ctx.cancel.clone(),
            threads: ctx.threads.max(1) as usize,
            range: None,
            offers_flags: true,
        }
    }
}

/// Which vocabulary to read with.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum VocabArg {
    /// `.` and a-z, the notebook's vocabulary.
    Letters,
    /// Every character in the data, sorted, `.` first.
    Auto,
}

/// The largest `--max-len`: a name of a million characters is already absurd, and one that
/// never ends (a model that rarely draws `.`) stays within a few megabytes.
pub const MAX_NAME_LEN: u64 = 1_000_000;

/// Gradient-descent settings shared by train, tune and parity.
#[derive(Clone, Copy, Debug, Args)]
pub struct OptimArgs {
    /// Passes over the data (full-batch gradient steps).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// Learning rate of each step W += -lr · grad.
    #[arg(long, default_value_t = bigram::train::DEFAULT_LR, value_parser = positive)]
    pub lr: f64,
    /// Seed of the CPU generator that draws the initial weights.
    #[arg(long, default_value_t = 42)]
    pub seed: i64,
}

impl OptimArgs {
    /// The training settings these flags give, with the rest.
    pub fn config(&self, reg: f64, method: Method, device: tch::Device) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs as usize,
            lr: self.lr,
            reg,
            seed: self.seed,
            method,
            device,
        }
    }
}

/// The network's smoothing.
#[derive(Clone, Copy, Debug, Args)]
pub struct RegArg {
    /// Weight of the L2 penalty reg · mean(W²), the network's smoothing.
    #[arg(id = "reg", long = "reg", value_name = "REG", default_value_t = 0.01, value_parser = non_negative)]
    pub value: f64,
}

/// The count model's smoothing.
#[derive(Clone, Copy, Debug, Args)]
pub struct SmoothingArg {
    /// Added to every count before normalising (1 = add-one smoothing, 0 = none).
    #[arg(id = "smoothing", long = "smoothing", value_name = "SMOOTHING", default_value_t = 1.0, value_parser = smoothing_value)]
    pub value: f64,
}

/// The model's context length.
#[derive(Clone, Copy, Debug, Args)]
pub struct OrderArg {
    /// Context length: 2 for bigrams, 3 for trigrams (two characters of context, from `..`).
    #[arg(id = "order", long = "order", value_name = "ORDER", default_value_t = 2, value_parser = clap::builder::RangedI64ValueParser::<usize>::new().range(2..=3))]
    pub value: usize,
}

/// A flag whose values are a library enum's variants (`--method`, `--sampler`), each with the
/// name and line of help that `describe` gives it: the library's list, so none is left out.
pub fn variants<T: Named + Send + Sync>() -> impl TypedValueParser<Value = T> {
    let values = T::VARIANTS.iter().map(|&v| {
        let (name, help) = v.describe();
        PossibleValue::new(name).help(help)
    });
    PossibleValuesParser::new(values).try_map(|name| T::from_name(&name).ok_or("unknown value"))
}

/// Held-out parts.
#[derive(Clone, Copy, Debug, Args)]
pub struct SplitArgs {
    /// Shuffle the names and split them TRAIN/DEV/TEST (percent, e.g. 80/10/10); the model is
    /// fitted on the first part and the NLL of each part is reported.
    #[arg(long, value_name = "SPEC")]
    pub split: Option<SplitSpec>,
    /// Seed of the shuffle before splitting.
    #[arg(long, default_value_t = 42)]
    pub split_seed: u64,
}

impl SplitArgs {
    /// The spec with its seed, when splitting.
    pub fn get(self) -> Option<(SplitSpec, u64)> {
        self.split.map(|spec| (spec, self.split_seed))
    }
}

/// Where tensors live. The dispatcher finds this flag by its id, `device`, in any command that
/// takes it, and loads the CUDA backend before any tensor work.
#[derive(Clone, Debug, Args)]
pub struct DeviceArg {
    /// cpu, cuda, cuda:N, or auto (CUDA when available). Initial weights are always drawn on
    /// the CPU, so every device starts from the same numbers.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: String,
}

/// A number above 0.
pub fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a finite number above 0, not {v}")),
        Err(e) => Err(e.to_string()),
    }
}

/// A smoothing (or an L2 weight to try): 0 or more, and small enough that log(N + s) stays a
/// finite float32.
pub fn smoothing_value(s: &str) -> Result<f64, String> {
    let v = non_negative(s)?;
    if v > 1e30 {
        return Err(format!("must be at most 1e30, not {}", bigram::number(v)));
    }
    Ok(v)
}

/// A finite number, 0 or more.
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a finite number, 0 or more, not {v}")),
        Err(e) => Err(e.to_string()),
    }
}

/// A folder to log runs in for TensorBoard.
#[derive(Clone, Debug, Args)]
pub struct TensorboardArg {
    /// Also log the run for TensorBoard in this folder (created if missing): `Loss/train` per
    /// epoch and, with a split, `Loss/test` (the dev NLL); `tune` writes one folder per value
    /// inside it (DIR/reg=0.01). Watch it with `tensorboard --logdir DIR`.
    #[arg(id = "tensorboard", long = "tensorboard", value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

impl TensorboardArg {
    /// The folder, refused before any work when it cannot hold logs.
    pub fn checked(&self) -> anyhow::Result<Option<&std::path::Path>> {
        let Some(dir) = self.dir.as_deref() else {
            return Ok(None);
        };
        if let Some(why) = bigram::tensorboard::unusable_folder(dir) {
            bigram::bail_input!(
                "--tensorboard {}: {why}; give a folder (it is created if missing)",
                dir.display()
            );
        }
        Ok(Some(dir))
    }
}
