//! The command line: flags declared once with clap, each command a function that turns flags
//! into library calls and prints results (stdout) and progress (stderr).

use crate::bail_user;
use crate::data::{
    sha256_file, Corpus, Counts, DataOptions, Examples, Keep, SplitSpec, Splits, VocabChoice,
};
use crate::device::{device_name, parse_device};
use crate::error::{user, Interrupted};
use crate::model::{check_png, check_writable, LogProbs, Model, ModelKind};
use crate::parity::{self, ParityConfig};
use crate::plot::CellValues;
use crate::sample::{generate_each, ExactSampler, FastSampler, Filter, Shaping};
use crate::train::{train, Method, TrainConfig};
use crate::tune::{tune, Knob};
use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use std::collections::HashSet;
use std::io::{BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Train a character-level bigram model of names with tch (libtorch), generate new names, and
/// check every number against PyTorch.
#[derive(Debug, Parser)]
#[command(name = "bigram", version, about, long_about = None)]
#[command(after_help = "Start with `bigram train`, then `bigram sample`. \
Exit codes: 0 success, 2 bad usage or input, 1 anything else.")]
pub struct Cli {
    /// libtorch intra-op threads for every tensor operation (default: libtorch's choice, the
    /// cores this process may use, or fewer when OMP_NUM_THREADS or MKL_NUM_THREADS says so).
    /// Exact results hold for one thread count: reductions split over a different number of
    /// threads add in a different order.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    threads: Option<i32>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay the original notebook cell by cell and print what each cell prints.
    Notebook {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        device: DeviceArg,
    },
    /// Train the one-layer network by full-batch gradient descent and save a checkpoint.
    Train(TrainArgs),
    /// Build the count model, P = (N + smoothing) / row sums, and save it as a checkpoint.
    Count(CountArgs),
    /// Generate names from a checkpoint (network or count model).
    Sample(SampleArgs),
    /// Mean negative log likelihood of a data file's bigrams under a checkpoint.
    Eval(EvalArgs),
    /// Log-probability of names under a checkpoint, and their rank among the data's names.
    Score(ScoreArgs),
    /// Run the PyTorch reference and the same steps in Rust; compare every quantity.
    Parity(ParityArgs),
    /// Try several regularisations (or smoothings) and pick the best on held-out names.
    Tune(TuneArgs),
    /// Draw the bigram counts (or a bigram model's probabilities) as a PNG heatmap.
    Heatmap(HeatmapArgs),
}

#[derive(Debug, Args)]
struct DataArg {
    /// Names file, one name per line.
    #[arg(long, default_value = "data/names.txt", value_name = "PATH")]
    data: PathBuf,
}

#[derive(Debug, Args)]
struct DeviceArg {
    /// cpu, cuda, cuda:N, or auto (CUDA when available). Initial weights are always drawn on
    /// the CPU, so every device starts from the same numbers.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    device: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum VocabArg {
    /// `.` and a-z, the notebook's vocabulary.
    Letters,
    /// Every character in the data, sorted, `.` first.
    Auto,
}

#[derive(Debug, Args)]
struct ReadArgs {
    #[command(flatten)]
    data: DataArg,
    /// Fold upper-case letters to lower case instead of rejecting them.
    #[arg(long)]
    lowercase: bool,
    /// Vocabulary: the 26 letters, or every character found in the data.
    #[arg(long, value_enum, default_value = "letters")]
    vocab: VocabArg,
}

impl ReadArgs {
    fn options(&self) -> DataOptions {
        DataOptions {
            lowercase: self.lowercase,
            vocab: match self.vocab {
                VocabArg::Letters => VocabChoice::Letters,
                VocabArg::Auto => VocabChoice::Auto,
            },
            without_flags: false,
        }
    }
}

/// Gradient-descent settings shared by train, tune and parity.
#[derive(Clone, Copy, Debug, Args)]
struct OptimArgs {
    /// Passes over the data (full-batch gradient steps).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    epochs: u64,
    /// Learning rate of each step W += -lr · grad.
    #[arg(long, default_value_t = 50.0, value_parser = positive)]
    lr: f64,
    /// Seed of the CPU generator that draws the initial weights.
    #[arg(long, default_value_t = 42)]
    seed: i64,
}

#[derive(Clone, Copy, Debug, Args)]
struct OrderArg {
    /// Context length: 2 for bigrams, 3 for trigrams (two characters of context, from `..`).
    #[arg(long = "order", value_name = "ORDER", default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3))]
    value: u8,
}

impl OrderArg {
    fn get(self) -> usize {
        usize::from(self.value)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    /// The notebook's one-hot matmul: bit-identical to PyTorch on the CPU.
    Onehot,
    /// Row lookup W[X] and cross entropy: same objective, less work.
    Index,
    /// The objective over the 27×27 counts with its gradient written out: fastest.
    Counts,
}

#[derive(Clone, Copy, Debug, Args)]
struct SplitArgs {
    /// Shuffle the names and split them TRAIN/DEV/TEST (percent, e.g. 80/10/10); the model is
    /// fitted on the first part and the NLL of each part is reported.
    #[arg(long, value_name = "SPEC")]
    split: Option<SplitSpec>,
    /// Seed of the shuffle before splitting.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
}

impl From<MethodArg> for Method {
    fn from(arg: MethodArg) -> Self {
        match arg {
            MethodArg::Onehot => Method::OneHot,
            MethodArg::Index => Method::Index,
            MethodArg::Counts => Method::Counts,
        }
    }
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
struct TrainArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    #[command(flatten, next_help_heading = "Input")]
    split: SplitArgs,
    /// Also draw the loss per epoch (and the dev NLL when splitting) to this PNG.
    #[arg(long, value_name = "PNG", help_heading = "Output")]
    plot: Option<PathBuf>,
    /// Where to write the checkpoint (safetensors; written atomically).
    #[arg(
        long,
        default_value = "model.safetensors",
        value_name = "PATH",
        help_heading = "Output"
    )]
    out: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long, help_heading = "Output")]
    json: bool,
    #[command(flatten, next_help_heading = "Optimisation")]
    optim: OptimArgs,
    /// Weight of the L2 penalty reg · mean(W²), the network's smoothing.
    #[arg(long, default_value_t = 0.01, value_parser = non_negative, help_heading = "Optimisation")]
    reg: f64,
    /// How each epoch is computed (all reach the same objective).
    #[arg(
        long,
        value_enum,
        default_value = "onehot",
        help_heading = "Optimisation"
    )]
    method: MethodArg,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    #[command(flatten, next_help_heading = "Device")]
    device: DeviceArg,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
struct CountArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    #[command(flatten, next_help_heading = "Input")]
    split: SplitArgs,
    /// Added to every count before normalising (1 = add-one smoothing, 0 = none).
    #[arg(long, default_value_t = 1.0, value_parser = smoothing_value, help_heading = "Model")]
    smoothing: f64,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    /// Where to write the checkpoint (safetensors; written atomically).
    #[arg(
        long,
        default_value = "counts.safetensors",
        value_name = "PATH",
        help_heading = "Output"
    )]
    out: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long, help_heading = "Output")]
    json: bool,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
struct SampleArgs {
    /// Checkpoint to sample from (from `bigram train` or `bigram count`).
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    model: PathBuf,
    /// How many names (at least 1).
    #[arg(short = 'n', long = "count", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,
    /// Seed of the generator: the same seed gives the same names.
    #[arg(long, default_value_t = 2147483647, help_heading = "Sampling")]
    seed: i64,
    /// Longest name in characters; a name that has not ended by then is cut there.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Sampling")]
    max_len: u64,
    /// Shortest name in characters; shorter ones are drawn again.
    #[arg(long, default_value_t = 0, help_heading = "Sampling")]
    min_len: u64,
    /// Only names that start with this text (validated against the model's vocabulary).
    #[arg(long, default_value = "", help_heading = "Sampling")]
    prefix: String,
    /// Divide the logits by T before the softmax: below 1 sharper, above 1 flatter.
    #[arg(long, default_value_t = 1.0, value_parser = positive, help_heading = "Sampling")]
    temperature: f64,
    /// Draw only among the K most likely next characters.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Sampling")]
    top_k: Option<u64>,
    /// Only new names: none from the data file, and none twice.
    #[arg(long, help_heading = "Sampling")]
    novel: bool,
    /// Give up after this many draws rejected by the filters (length, novelty).
    #[arg(long, default_value_t = 100_000, help_heading = "Sampling")]
    max_attempts: u64,
    /// The plain-Rust sampler: same distribution, far faster, different names than PyTorch's.
    #[arg(long, help_heading = "Sampling")]
    fast: bool,
    /// Data file to tell new names from known ones (default: the checkpoint's training data,
    /// when it is still there with the same checksum).
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// One JSON object per name: name, log_prob, and in_data when the data is known.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
struct TuneArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    /// TRAIN/DEV/TEST percentages; settings are compared on the dev part.
    #[arg(
        long,
        default_value = "80/10/10",
        value_name = "SPEC",
        help_heading = "Input"
    )]
    split: SplitSpec,
    /// Seed of the shuffle before splitting.
    #[arg(long, default_value_t = 42, help_heading = "Input")]
    split_seed: u64,
    /// L2 weights to try for the network, comma-separated (e.g. 0,0.001,0.01,0.1,1).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        help_heading = "What to tune"
    )]
    reg: Option<Vec<f64>>,
    /// Smoothings to try for the count model, comma-separated (e.g. 0,0.1,1,10).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        help_heading = "What to tune"
    )]
    smoothing: Option<Vec<f64>>,
    /// For the network (with `--reg`).
    #[command(flatten, next_help_heading = "Optimisation")]
    optim: OptimArgs,
    /// How each epoch is computed; `counts` is the fast default here.
    #[arg(
        long,
        value_enum,
        default_value = "counts",
        help_heading = "Optimisation"
    )]
    method: MethodArg,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    #[command(flatten, next_help_heading = "Device")]
    device: DeviceArg,
    /// Print the table as JSON.
    #[arg(long, help_heading = "Output")]
    json: bool,
}

#[derive(Debug, Args)]
struct HeatmapArgs {
    #[command(flatten)]
    read: ReadArgs,
    /// Show this bigram checkpoint's next-character probabilities instead of the data's counts.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["data", "lowercase", "vocab"])]
    model: Option<PathBuf>,
    /// The PNG to write.
    #[arg(long, default_value = "bigrams.png", value_name = "PNG")]
    out: PathBuf,
    /// Width and height in pixels.
    #[arg(long, default_value_t = 1600, value_parser = clap::value_parser!(u32).range(400..=8000))]
    size: u32,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// Checkpoint to evaluate.
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    model: PathBuf,
    #[command(flatten)]
    data: DataArg,
    /// Fold upper-case letters to lower case instead of rejecting them.
    #[arg(long)]
    lowercase: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ScoreArgs {
    /// Checkpoint to score with.
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    model: PathBuf,
    /// Names to score; with none, names are read from stdin, one per line.
    names: Vec<String>,
    /// Data file to rank the names against (default: the checkpoint's training data).
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// One JSON object per name instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
struct ParityArgs {
    #[command(flatten)]
    data: DataArg,
    #[command(flatten)]
    optim: OptimArgs,
    /// L2 weight.
    #[arg(long, default_value_t = 0.01, value_parser = non_negative)]
    reg: f64,
    /// Count-model smoothing.
    #[arg(long, default_value_t = 1.0, value_parser = smoothing_value)]
    smoothing: f64,
    /// Seed of the sampler.
    #[arg(long, default_value_t = 2147483647)]
    sample_seed: i64,
    /// Names sampled from each model.
    #[arg(short = 'n', long = "count", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,
    /// Cap on a sampled name's length.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    max_len: u64,
    #[command(flatten)]
    order: OrderArg,
    #[command(flatten)]
    device: DeviceArg,
    /// Allowed |difference| for floats (default: 0 on the CPU, 1e-4 on CUDA).
    #[arg(long, value_parser = non_negative)]
    tolerance: Option<f64>,
    /// Python with torch 2.13 (default: the one scripts/setup.sh installed).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Compare the notebook replay (`bigram notebook`) with the notebook's cells run by
    /// PyTorch, figure by figure, instead of the training pipeline.
    #[arg(long)]
    notebook: bool,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

fn positive(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a finite number above 0, not {v}")),
        Err(e) => Err(e.to_string()),
    }
}

/// A smoothing: 0 or more, and small enough that log(N + s) stays a finite float32.
fn smoothing_value(s: &str) -> std::result::Result<f64, String> {
    let v = non_negative(s)?;
    if v > 1e30 {
        return Err(format!("must be at most 1e30, not {v}"));
    }
    Ok(v)
}

fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a finite number, 0 or more, not {v}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Run one parsed command, with libtorch's thread count set first.
pub fn run(cli: Cli) -> Result<()> {
    // Before any tensor operation: the count decides how reductions split, hence the bits.
    let threads = cli.threads.unwrap_or_else(tch::get_num_threads);
    tch::set_num_threads(threads);
    match cli.command {
        Command::Notebook { data, device } => notebook(&data.data, &device.device),
        Command::Train(args) => train_command(args, threads),
        Command::Count(args) => count_command(args, threads),
        Command::Sample(args) => sample_command(args),
        Command::Eval(args) => eval_command(args, threads),
        Command::Score(args) => score_command(args),
        Command::Parity(args) => parity_command(args, threads),
        Command::Tune(args) => tune_command(args, threads),
        Command::Heatmap(args) => heatmap_command(args),
    }
}

fn notebook(data: &Path, device: &str) -> Result<()> {
    let device = parse_device(device)?;
    let replay = crate::notebook::replay(data, device)?;
    print!("{}", replay.render());
    Ok(())
}

fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

/// The data a command fits on: the whole file, or the train part of a split of it.
struct Fitting {
    corpus: Corpus,
    /// The split, with its spec and shuffle seed, when asked for.
    splits: Option<(Splits, SplitSpec, u64)>,
    /// Whether names were folded to lower case.
    lowercase: bool,
}

impl Fitting {
    /// Read the data (examples kept when the method needs them) and split it if asked.
    fn load(read: &ReadArgs, order: usize, examples: bool, split: &SplitArgs) -> Result<Self> {
        let keep = Keep {
            examples: examples && split.split.is_none(),
            names: split.split.is_some(),
        };
        let mut corpus = Corpus::load(&read.data.data, &read.options(), order, keep)?;
        eprintln!("{}", corpus.summary());
        let splits = split.split.map(|spec| {
            let names = corpus.names.take().unwrap_or_default();
            let splits = Splits::new(names, &corpus.scan.vocab, order, spec, split.split_seed);
            eprintln!(
                "split {spec} with seed {}: {} / {} / {} names",
                split.split_seed,
                splits.train.names.len(),
                splits.dev.names.len(),
                splits.test.names.len()
            );
            (splits, spec, split.split_seed)
        });
        Ok(Self {
            corpus,
            splits,
            lowercase: read.lowercase,
        })
    }

    fn examples(&self) -> Option<&Examples> {
        match &self.splits {
            Some((s, ..)) => Some(&s.train.examples),
            None => self.corpus.examples.as_ref(),
        }
    }

    fn counts(&self) -> &Counts {
        match &self.splits {
            Some((s, ..)) => &s.train.counts,
            None => &self.corpus.counts,
        }
    }

    fn dev_counts(&self) -> Option<&Counts> {
        let (s, ..) = self.splits.as_ref()?;
        (s.dev.counts.total() > 0).then_some(&s.dev.counts)
    }

    /// Record the data (and split) in a checkpoint's metadata.
    fn describe(&self, model: &mut Model) {
        let scan = &self.corpus.scan;
        let data_path = std::fs::canonicalize(&scan.path).unwrap_or(scan.path.clone());
        model
            .meta
            .insert("data_path".into(), data_path.display().to_string());
        model.meta.insert("data_sha256".into(), scan.sha256.clone());
        model
            .meta
            .insert("lowercase".into(), self.lowercase.to_string());
        if let Some((_, spec, seed)) = &self.splits {
            model.meta.insert("split".into(), spec.to_string());
            model.meta.insert("split_seed".into(), seed.to_string());
        }
    }

    /// NLL of each part under a model (JSON), when splitting; and a line for humans.
    fn split_report(&self, model: &Model) -> Option<(serde_json::Value, String)> {
        let (splits, spec, seed) = self.splits.as_ref()?;
        let mut object = json!({"spec": spec.to_string(), "seed": seed});
        let mut line = Vec::new();
        for (name, part) in splits.parts() {
            let nll = (part.counts.total() > 0).then(|| model.nll(&part.counts));
            object[name] = json!({"names": part.names.len(), "nll": nll});
            line.push(match nll {
                Some(v) => format!("{name} {v:.4}"),
                None => format!("{name} -"),
            });
        }
        Some((object, format!("nll by part: {}", line.join(", "))))
    }
}

fn train_command(args: TrainArgs, threads: i32) -> Result<()> {
    // Catch SIGINT/SIGTERM from the start: training stops at the next epoch boundary and
    // nothing is written, so an existing checkpoint at --out stays as it was.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let device = parse_device(&args.device.device)?;
    check_writable(&args.out)?;
    if let Some(plot) = &args.plot {
        check_png(plot)?;
    }
    let method = Method::from(args.method);
    // The counts method is plain Rust on the CPU whatever --device says; report what ran.
    let device = if method == Method::Counts {
        tch::Device::Cpu
    } else {
        device
    };
    let order = args.order.get();
    let load_start = std::time::Instant::now();
    let data = Fitting::load(&args.read, order, method != Method::Counts, &args.split)?;
    let load_seconds = load_start.elapsed().as_secs_f64();

    let config = TrainConfig {
        epochs: args.optim.epochs as usize,
        lr: args.optim.lr,
        reg: args.reg,
        seed: args.optim.seed,
        method,
        device,
    };
    let bar = indicatif::ProgressBar::new(args.optim.epochs);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} epoch {pos}/{len}  loss {msg}  {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let counts = data.counts();
    let trained = train(
        data.examples(),
        counts,
        data.dev_counts(),
        &config,
        |epoch, loss| {
            bar.set_position(epoch as u64);
            bar.set_message(format!("{loss:.4}"));
            if stop.load(Ordering::Relaxed) {
                return Err(anyhow::Error::new(Interrupted(format!(
                    "interrupted at epoch {epoch} of {}; nothing was saved ({} is as it was)",
                    config.epochs,
                    args.out.display()
                ))));
            }
            Ok(())
        },
    );
    bar.finish_and_clear();
    let trained = trained?;

    let mut model = Model {
        w: trained.w.shallow_clone(),
        vocab: data.corpus.scan.vocab.clone(),
        order,
        kind: ModelKind::Network,
        meta: Default::default(),
    };
    let nll = model.nll(counts);
    let loss = *trained.losses.last().expect("at least one epoch");
    let last_nll = *trained.nlls.last().expect("at least one epoch");
    for (key, value) in [
        ("seed", args.optim.seed.to_string()),
        ("epochs", args.optim.epochs.to_string()),
        ("lr", args.optim.lr.to_string()),
        ("reg", args.reg.to_string()),
        ("method", method.as_str().to_string()),
        ("device", device_name(device)),
        ("threads", threads.to_string()),
        ("final_loss", loss.to_string()),
        ("nll", nll.to_string()),
    ] {
        model.meta.insert(key.into(), value);
    }
    data.describe(&mut model);
    if stop.load(Ordering::Relaxed) {
        return Err(anyhow::Error::new(Interrupted(format!(
            "interrupted after training; nothing was saved ({} is as it was)",
            args.out.display()
        ))));
    }
    model.save(&args.out)?;
    if let Some(plot) = &args.plot {
        let mut series: Vec<(&str, &[f64])> = vec![
            ("train loss (NLL + L2)", &trained.losses),
            ("train NLL", &trained.nlls),
        ];
        if !trained.dev_nlls.is_empty() {
            series.push(("dev NLL", &trained.dev_nlls));
        }
        let title = format!(
            "bigram network (order {order}), lr {}, reg {}",
            args.optim.lr, args.reg
        );
        crate::plot::loss_curve(plot, &title, &series)?;
    }
    let split = data.split_report(&model);
    if args.json {
        let mut report = json!({
            "epochs": args.optim.epochs,
            "lr": args.optim.lr,
            "reg": args.reg,
            "seed": args.optim.seed,
            "method": method.as_str(),
            "order": order,
            "device": device_name(device),
            "threads": threads,
            "loss": loss,
            "last_epoch_nll": last_nll,
            "nll": nll,
            "examples": counts.total(),
            "seconds": trained.seconds,
            "load_seconds": load_seconds,
            "out": args.out.display().to_string(),
        });
        if let Some((object, _)) = split {
            report["split"] = object;
        }
        print_json(&report);
    } else {
        println!(
            "epoch {}: loss {loss:.4} (nll {last_nll:.4} + L2)",
            args.optim.epochs
        );
        println!(
            "saved {} (nll of the saved weights on the training data: {nll:.4}; {:.2} s training, {} method)",
            args.out.display(),
            trained.seconds,
            method.as_str()
        );
        if let Some((_, line)) = split {
            println!("{line}");
        }
        if let Some(plot) = &args.plot {
            println!("loss curve: {}", plot.display());
        }
    }
    Ok(())
}

/// This process's peak resident memory in MiB (VmHWM), where /proc tells it.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn count_command(args: CountArgs, threads: i32) -> Result<()> {
    check_writable(&args.out)?;
    let order = args.order.get();
    let data = Fitting::load(&args.read, order, false, &args.split)?;
    let counts = data.counts();
    let mut model = Model::from_counts(counts, &data.corpus.scan.vocab, order, args.smoothing);
    let nll = model.nll(counts);
    model
        .meta
        .insert("smoothing".into(), args.smoothing.to_string());
    model.meta.insert("nll".into(), nll.to_string());
    model.meta.insert("threads".into(), threads.to_string());
    data.describe(&mut model);
    model.save(&args.out)?;
    let split = data.split_report(&model);
    if args.json {
        let mut report = json!({
            "smoothing": args.smoothing,
            "order": order,
            "threads": threads,
            "nll": nll,
            "examples": counts.total(),
            "names": data.corpus.scan.names,
            "vocab": data.corpus.scan.vocab.as_string(),
            "out": args.out.display().to_string(),
            "peak_rss_mib": peak_rss_mib(),
        });
        if let Some((object, _)) = split {
            report["split"] = object;
        }
        print_json(&report);
    } else {
        println!(
            "count model (smoothing {}): nll {nll:.4} over {} examples",
            args.smoothing,
            counts.total()
        );
        if let Some((_, line)) = split {
            println!("{line}");
        }
        println!("saved {}", args.out.display());
    }
    Ok(())
}

fn tune_command(args: TuneArgs, threads: i32) -> Result<()> {
    let (knob, values) = match (&args.reg, &args.smoothing) {
        (Some(reg), None) => (Knob::Reg, reg.clone()),
        (None, Some(smoothing)) => (Knob::Smoothing, smoothing.clone()),
        _ => bail_user!("tune one thing at a time: --reg LIST (the network) or --smoothing LIST (the count model)"),
    };
    if let Some(bad) = values
        .iter()
        .find(|v| !v.is_finite() || **v < 0.0 || **v > 1e30)
    {
        bail_user!("every value to try must be a number from 0 to 1e30; got {bad}");
    }
    let device = parse_device(&args.device.device)?;
    let method = Method::from(args.method);
    let order = args.order.get();
    let split = SplitArgs {
        split: Some(args.split),
        split_seed: args.split_seed,
    };
    let data = Fitting::load(&args.read, order, false, &split)?;
    let (splits, ..) = data.splits.as_ref().expect("tune always splits");
    if splits.dev.names.is_empty() {
        bail_user!("the split {} leaves no dev names to tune on", args.split);
    }
    let config = TrainConfig {
        epochs: args.optim.epochs as usize,
        lr: args.optim.lr,
        reg: 0.0,
        seed: args.optim.seed,
        method,
        device,
    };
    let rows = tune(
        splits,
        &data.corpus.scan.vocab,
        order,
        knob,
        &values,
        &config,
    )?;
    let best = crate::tune::best(&rows).ok_or_else(|| user("no setting gave a finite dev NLL"))?;
    let name = match knob {
        Knob::Reg => "reg",
        Knob::Smoothing => "smoothing",
    };
    if args.json {
        print_json(
            &json!({"knob": knob, "split": args.split.to_string(), "threads": threads, "rows": rows, "best": best}),
        );
    } else {
        println!("{:>12} {:>10} {:>10}", name, "train NLL", "dev NLL");
        for row in &rows {
            let mark = if std::ptr::eq(row, best) {
                "  <- best"
            } else {
                ""
            };
            println!(
                "{:>12} {:>10.4} {:>10.4}{mark}",
                row.value, row.train_nll, row.dev_nll
            );
        }
        println!("best: {name} {} (dev NLL {:.4})", best.value, best.dev_nll);
    }
    Ok(())
}

fn heatmap_command(args: HeatmapArgs) -> Result<()> {
    check_png(&args.out)?;
    let (vocab, values, kind) = match &args.model {
        Some(path) => {
            let model = Model::load(path)?;
            if model.order != 2 {
                bail_user!(
                    "{}: a heatmap shows bigram models; this one has order {}",
                    path.display(),
                    model.order
                );
            }
            let probs = model
                .w
                .to_kind(tch::Kind::Double)
                .softmax(1, None::<tch::Kind>);
            let values = Vec::<f64>::try_from(&probs.reshape([-1]))?;
            (model.vocab, values, CellValues::Probabilities)
        }
        None => {
            let corpus = Corpus::load(
                &args.read.data.data,
                &args.read.options(),
                2,
                Keep::default(),
            )?;
            eprintln!("{}", corpus.summary());
            let values = corpus.counts.cells.iter().map(|&c| c as f64).collect();
            (corpus.scan.vocab, values, CellValues::Counts)
        }
    };
    crate::plot::heatmap(&args.out, &vocab, &values, kind, args.size)?;
    println!(
        "wrote {} ({}×{} pixels)",
        args.out.display(),
        args.size,
        args.size
    );
    Ok(())
}

/// The data a checkpoint was trained on, when it is still where it was with the same bytes.
fn training_data_of(model: &Model) -> Option<PathBuf> {
    let path = PathBuf::from(model.meta.get("data_path")?);
    let want = model.meta.get("data_sha256")?;
    (path.is_file() && sha256_file(&path).ok().as_ref() == Some(want)).then_some(path)
}

/// Every name of a data file, read with the model's vocabulary.
fn names_of(data: &Path, model: &Model) -> Result<HashSet<String>> {
    let options = DataOptions {
        // Read the data as the model was trained on it (folded to lower case or not).
        lowercase: model.meta.get("lowercase").is_some_and(|v| v == "true"),
        vocab: VocabChoice::Fixed(Box::new(model.vocab.clone())),
        without_flags: true,
    };
    let corpus = Corpus::load(
        data,
        &options,
        model.order,
        Keep {
            examples: false,
            names: true,
        },
    )?;
    Ok(corpus.names.unwrap_or_default().into_iter().collect())
}

fn encode_or_fail(model: &Model, word: &str, what: &str) -> Result<Vec<usize>> {
    let indices = model.vocab.encode(word).map_err(|c| {
        user(format!(
            "{what} {word:?} has {c:?}, which is not in the model's vocabulary {:?}",
            model.vocab.as_string()
        ))
    })?;
    if indices.contains(&0) {
        bail_user!("{what} {word:?} contains '.', the start/end token");
    }
    Ok(indices)
}

fn sample_command(args: SampleArgs) -> Result<()> {
    if args.min_len > args.max_len {
        bail_user!(
            "--min-len {} is above --max-len {}",
            args.min_len,
            args.max_len
        );
    }
    let model = Model::load(&args.model)?;
    let prefix = encode_or_fail(&model, &args.prefix, "prefix")?;
    if prefix.len() as u64 > args.max_len {
        bail_user!("the prefix is longer than --max-len {}", args.max_len);
    }
    // Only --novel and --json need the data; finding it means checksumming the file.
    let data = match &args.data {
        Some(path) => Some(path.clone()),
        None if args.novel || args.json => training_data_of(&model),
        None => None,
    };
    if args.novel && data.is_none() {
        bail_user!(
            "--novel needs the training data, and the checkpoint's data file is gone or changed; pass --data PATH"
        );
    }
    let known = match &data {
        Some(path) if args.novel || args.json => Some(names_of(path, &model)?),
        _ => None,
    };
    let shaping = Shaping {
        temperature: args.temperature,
        top_k: args.top_k.map(|k| k as usize),
    };
    let filter = Filter {
        prefix,
        min_len: args.min_len as usize,
        max_len: args.max_len as usize,
        exclude: if args.novel { known.clone() } else { None },
        distinct: args.novel,
        max_attempts: args.max_attempts as usize,
    };
    let n = args.n as usize;
    let log_probs = if args.json {
        Some(LogProbs::of(&model)?)
    } else {
        None
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    // Names are written as they are drawn: any -n works in constant memory.
    let mut emit = |name: String| -> Result<()> {
        match &log_probs {
            Some(log_probs) => {
                let indices = encode_or_fail(&model, &name, "name")?;
                let mut object = json!({"name": name, "log_prob": log_probs.of_name(&indices)});
                if let Some(known) = &known {
                    object["in_data"] = json!(known.contains(&name));
                }
                writeln!(out, "{object}")?;
            }
            None => writeln!(out, "{name}")?,
        }
        Ok(())
    };
    let drawn = if args.fast {
        let mut sampler = FastSampler::new(&model, shaping, args.seed as u64)?;
        generate_each(&mut sampler, &model, n, &filter, &mut emit)
    } else {
        let mut sampler = ExactSampler::new(&model, shaping);
        crate::device::with_cpu_seed(args.seed, || {
            generate_each(&mut sampler, &model, n, &filter, &mut emit)
        })
    };
    match drawn.and_then(|()| Ok(out.flush()?)) {
        // The reader went away (`bigram sample | head`): that is the end, not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn eval_command(args: EvalArgs, threads: i32) -> Result<()> {
    let model = Model::load(&args.model)?;
    let options = DataOptions {
        lowercase: args.lowercase,
        vocab: VocabChoice::Fixed(Box::new(model.vocab.clone())),
        without_flags: false,
    };
    let corpus = Corpus::load(&args.data.data, &options, model.order, Keep::default())?;
    let nll = model.nll(&corpus.counts);
    if args.json {
        print_json(&json!({
            "model": args.model.display().to_string(),
            "data": args.data.data.display().to_string(),
            "kind": model.kind.as_str(),
            "threads": threads,
            "nll": nll,
            "examples": corpus.counts.total(),
            "names": corpus.scan.names,
        }));
    } else {
        println!(
            "nll {nll:.4} over {} examples ({} names) of {}",
            corpus.counts.total(),
            corpus.scan.names,
            args.data.data.display()
        );
    }
    Ok(())
}

fn score_command(args: ScoreArgs) -> Result<()> {
    let model = Model::load(&args.model)?;
    let names: Vec<String> = if args.names.is_empty() {
        let mut names = Vec::new();
        for line in std::io::stdin().lock().lines() {
            let line = line.map_err(|e| user(format!("cannot read names from stdin: {e}")))?;
            let name = line.trim();
            if !name.is_empty() {
                names.push(name.to_string());
            }
        }
        names
    } else {
        args.names.clone()
    };
    let log_probs = LogProbs::of(&model)?;
    let scored: Vec<(String, f64, usize)> = names
        .iter()
        .map(|name| {
            let indices = encode_or_fail(&model, name, "name")?;
            Ok((name.clone(), log_probs.of_name(&indices), indices.len() + 1))
        })
        .collect::<Result<_>>()?;
    let data = args.data.clone().or_else(|| training_data_of(&model));
    // Log-probabilities of the data's distinct names, sorted, most likely first.
    let ranked: Option<Vec<f64>> = match &data {
        Some(path) => {
            let known = names_of(path, &model)?;
            let mut lps: Vec<f64> = known
                .iter()
                .filter_map(|n| model.vocab.encode(n).ok())
                .map(|ix| log_probs.of_name(&ix))
                .collect();
            lps.sort_by(|a, b| b.total_cmp(a));
            Some(lps)
        }
        None => None,
    };
    let rank_of = |lp: f64| ranked.as_ref().map(|r| r.partition_point(|&x| x > lp) + 1);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if !args.json {
        let of = ranked
            .as_ref()
            .map(|r| format!(" (of {})", r.len()))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<20} {:>10} {:>12} {:>8}",
            "name",
            "log p",
            "nll/bigram",
            format!("rank{of}")
        )?;
    }
    for (name, lp, pairs) in scored {
        let per = -lp / pairs as f64;
        let rank = rank_of(lp);
        if args.json {
            let mut object = json!({"name": name, "log_prob": lp, "nll_per_bigram": per});
            if let Some(rank) = rank {
                object["rank"] = json!(rank);
            }
            writeln!(out, "{object}")?;
        } else {
            let rank = rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into());
            writeln!(out, "{name:<20} {lp:>10.4} {per:>12.4} {rank:>8}")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn parity_command(args: ParityArgs, threads: i32) -> Result<()> {
    let device = parse_device(&args.device.device)?;
    let python = match args.python.clone().or_else(parity::default_python) {
        Some(p) => p,
        None => {
            bail_user!("no Python with torch is known; run scripts/setup.sh or pass --python PATH")
        }
    };
    let report = if args.notebook {
        parity::run_notebook(&parity::NotebookParityConfig {
            data: args.data.data.clone(),
            device,
            tolerance: args.tolerance,
            python,
            threads,
        })?
    } else {
        pipeline_parity(&args, device, python, threads)?
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render());
    }
    if let Some(row) = report.first_failure() {
        anyhow::bail!("parity failed, first at {}", row.quantity);
    }
    Ok(())
}

fn pipeline_parity(
    args: &ParityArgs,
    device: tch::Device,
    python: PathBuf,
    threads: i32,
) -> Result<parity::ParityReport> {
    let perturb = std::env::var("BIGRAM_TEST_PERTURB_W")
        .ok()
        .and_then(|v| v.parse::<f32>().ok());
    let config = ParityConfig {
        data: args.data.data.clone(),
        seed: args.optim.seed,
        epochs: args.optim.epochs as usize,
        lr: args.optim.lr,
        reg: args.reg,
        smoothing: args.smoothing,
        sample_seed: args.sample_seed,
        n: args.n as usize,
        max_len: args.max_len as usize,
        order: args.order.get(),
        device,
        tolerance: args.tolerance,
        python,
        threads,
        perturb,
    };
    parity::run(&config)
}
