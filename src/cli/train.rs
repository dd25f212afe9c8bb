//! `bigram train`: fit the network by gradient descent and save a checkpoint.

use super::advice::{nothing_saved, usage};
use super::args::{
    check_log_folder, DeviceArg, MethodArg, OptimArgs, OrderArg, ReadArgs, RegArg, SplitArgs,
};
use super::printer::Report;
use super::progress::EpochBar;
use super::split::SplitReport;
use super::Context;
use bigram::checkpoint::Loaded;
use bigram::dataset::{Dataset, FitOptions};
use bigram::device::{device_name, parse_device};
use bigram::files::{check_png, plan_outputs, InputPath, Output, Pending};
use bigram::model::Model;
use bigram::provenance::Start;
use bigram::tensorboard::EventLog;
use bigram::train::{initial_weights, train_from, Epoch, Method, TrainConfig, TrainData, Trained};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    #[command(flatten, next_help_heading = "Input")]
    split: SplitArgs,
    /// Train from the raw counts of a count checkpoint (`bigram count`, `bigram merge`) instead
    /// of reading data: the counts method, no data file needed.
    #[arg(long, value_name = "CKPT", help_heading = "Input", conflicts_with_all = ["data", "lowercase", "vocab", "order"])]
    counts: Option<PathBuf>,
    /// Start from this checkpoint's weights instead of the seed's (same vocabulary and order);
    /// plain gradient descent has no other state, so training resumes exactly.
    #[arg(
        long,
        value_name = "CKPT",
        help_heading = "Input",
        conflicts_with = "seed"
    )]
    init: Option<PathBuf>,
    /// Also draw the loss per epoch (and the dev NLL when splitting) to this PNG.
    #[arg(long, value_name = "PNG", help_heading = "Output")]
    plot: Option<PathBuf>,
    /// Also log the run for TensorBoard in this folder (created if missing): `Loss/train` per
    /// epoch and, with --split, `Loss/test` (the dev NLL). Watch it with `tensorboard --logdir`.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    tensorboard: Option<PathBuf>,
    /// Where to write the checkpoint (safetensors; written atomically).
    #[arg(
        long,
        default_value = "model.safetensors",
        value_name = "PATH",
        help_heading = "Output"
    )]
    out: PathBuf,
    #[command(flatten, next_help_heading = "Optimisation")]
    optim: OptimArgs,
    #[command(flatten, next_help_heading = "Optimisation")]
    reg: RegArg,
    /// How each epoch is computed (all reach the same objective) [default: onehot; counts with
    /// --counts].
    #[arg(long, value_enum, help_heading = "Optimisation")]
    method: Option<MethodArg>,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    #[command(flatten, next_help_heading = "Device")]
    pub(super) device: DeviceArg,
}

/// What `train` reports: `loss` and `last_epoch_nll` are the last epoch's forward pass (with
/// and without L2), `nll` the saved weights' on the data, `seconds` the epochs alone.
#[derive(Serialize)]
struct TrainReport {
    epochs: u64,
    lr: f64,
    reg: f64,
    /// The seed of the initial weights (null when starting from a checkpoint).
    seed: Option<i64>,
    method: &'static str,
    order: usize,
    device: String,
    threads: i32,
    loss: f64,
    last_epoch_nll: f64,
    nll: f64,
    examples: u64,
    seconds: f64,
    warmup_seconds: Option<f64>,
    load_seconds: f64,
    out: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<SplitReport>,
    /// The TensorBoard event file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    tensorboard: Option<String>,
    /// What became of the checkpoint and the picture, in words.
    #[serde(skip)]
    saved: String,
    #[serde(skip)]
    plot: Option<String>,
}

impl Report for TrainReport {
    fn render(&self) -> String {
        let mut text = format!(
            "epoch {}: loss {:.4} (nll {:.4} + L2)\n\
             {} (nll of the saved weights on the training data: {:.4}; {:.2} s training, {} method)\n",
            self.epochs, self.loss, self.last_epoch_nll, self.saved, self.nll, self.seconds, self.method
        );
        if let Some(split) = &self.split {
            text += &split.line();
        }
        if let Some(plot) = &self.plot {
            text += &format!("loss curve: {plot}\n");
        }
        if let Some(log) = &self.tensorboard {
            text += &format!("TensorBoard log: {log}\n");
        }
        text
    }
}

pub fn run(args: TrainArgs, ctx: &Context) -> anyhow::Result<()> {
    let method = choose_method(&args)?;
    let device = parse_device(&args.device.device)?;
    let outputs = plan(&args)?;
    if let Some(plot) = outputs.get(1) {
        check_png(plot)?;
    }
    if let Some(dir) = &args.tensorboard {
        check_log_folder(dir)?;
    }
    let init: Option<Loaded> = args
        .init
        .as_deref()
        .map(|path| bigram::checkpoint::read(path, &ctx.cancel))
        .transpose()?;
    let start = args
        .init
        .as_deref()
        .zip(init.as_ref())
        .map(|(path, loaded)| Start::of(path, &loaded.model.meta, loaded.sha256.clone()));
    // The counts method is plain Rust on the CPU whatever --device says; report what ran.
    let device = if method == Method::Counts {
        tch::Device::Cpu
    } else {
        device
    };
    let load_start = std::time::Instant::now();
    let data = load(&args, method, ctx).map_err(|e| nothing_saved(e, &outputs[0]))?;
    ctx.printer.note(data.summary());
    if let Some(line) = data.split_summary() {
        ctx.printer.note(line);
    }
    let load_seconds = load_start.elapsed().as_secs_f64();
    let config = TrainConfig {
        epochs: args.optim.epochs as usize,
        lr: args.optim.lr,
        reg: args.reg.value,
        seed: args.optim.seed,
        method,
        device,
    };
    let w0 = match &init {
        Some(loaded) => data.initial_weights_from(&loaded.model)?,
        None => initial_weights(config.seed, data.counts().rows, data.counts().width),
    };
    let mut log = match &args.tensorboard {
        Some(dir) => Some(EventLog::create(dir, &settings(&config, &data, ctx))?),
        None => None,
    };
    let trained = run_epochs(w0, &data, &config, log.as_mut(), ctx)
        .map_err(|e| nothing_saved(e, &outputs[0]))?;
    let model = model_of(&data, &trained, &config, start, ctx)?;
    ctx.cancel
        .check(|| "after training".into())
        .map_err(|e| nothing_saved(e, &outputs[0]))?;
    let pending = stage(&model, &trained, &args, &outputs)?;
    let report = TrainReport {
        epochs: args.optim.epochs,
        lr: config.lr,
        reg: config.reg,
        seed: model.meta.seed,
        method: method.as_str(),
        order: data.order(),
        device: device_name(device),
        threads: ctx.threads,
        loss: model.meta.final_loss.unwrap_or(f64::NAN),
        last_epoch_nll: trained.nlls.last().copied().unwrap_or(f64::NAN),
        nll: model.meta.nll.unwrap_or(f64::NAN),
        examples: data.counts().total(),
        seconds: trained.seconds,
        warmup_seconds: trained.warmup_seconds,
        load_seconds,
        out: args.out.display().to_string(),
        split: SplitReport::of(&data, &args.split, &model)?,
        saved: super::printer::outcome(&outputs[0]),
        plot: outputs.get(1).map(super::printer::shown),
        tensorboard: log.as_ref().map(|log| log.path().display().to_string()),
    };
    ctx.printer.deliver(&report, pending)?;
    // Kept only once everything else is: a failed run leaves no log behind.
    log.map(EventLog::keep).transpose()?;
    Ok(())
}

/// The run's settings, as TensorBoard shows them in its Text tab (markdown).
fn settings(config: &TrainConfig, data: &Dataset, ctx: &Context) -> String {
    format!(
        "bigram train: {} epochs, lr {}, reg {}, seed {}, {} method, order {}, {} thread(s), on {}  \n{}",
        config.epochs,
        config.lr,
        config.reg,
        config.seed,
        config.method.as_str(),
        data.order(),
        ctx.threads,
        device_name(config.device),
        data.summary()
    )
}

/// The checkpoint (and the picture), checked against each other and against what is read.
fn plan(args: &TrainArgs) -> anyhow::Result<Vec<Output>> {
    let mut outputs = vec![("--out", args.out.as_path())];
    if let Some(plot) = &args.plot {
        outputs.push(("--plot", plot.as_path()));
    }
    let mut inputs: Vec<InputPath> = match &args.counts {
        Some(counts) => vec![InputPath::File(counts)],
        None => args.read.data.inputs(),
    };
    if let Some(init) = &args.init {
        inputs.push(InputPath::File(init));
    }
    Ok(plan_outputs(&outputs, &inputs)?)
}

/// The method asked for; with `--counts` only the counts method can train (there are no
/// examples), and `--split` cannot cut names that are not there.
fn choose_method(args: &TrainArgs) -> anyhow::Result<Method> {
    let Some(counts) = &args.counts else {
        return Ok(args.method.map_or(Method::OneHot, Method::from));
    };
    let shown = counts.display();
    match args.method {
        None | Some(MethodArg::Counts) => {}
        Some(_) => usage!(
            "--counts {shown} gives counts, not examples: only --method counts trains from them; drop --method, or train on the data with --data"
        ),
    }
    if args.split.split.is_some() {
        usage!(
            "--split cuts the names, and --counts {shown} has only their counts; count each part on its own (bigram count --split) or train on the data with --data"
        );
    }
    Ok(Method::Counts)
}

/// The data fitted on: read from names, or a count checkpoint's counts.
fn load(args: &TrainArgs, method: Method, ctx: &Context) -> bigram::Result<Dataset> {
    match &args.counts {
        Some(path) => Dataset::from_counts(&bigram::checkpoint::read(path, &ctx.cancel)?, path),
        None => {
            let fit = FitOptions {
                order: args.order.get(),
                examples: method.needs_examples(),
                split: args.split.get(),
            };
            Dataset::load(&args.read.data.data, &args.read.options(ctx), fit)
        }
    }
}

/// The epochs, with a progress bar, stopping at the next epoch once interrupted.
fn run_epochs(
    w0: tch::Tensor,
    data: &Dataset,
    config: &TrainConfig,
    mut log: Option<&mut EventLog>,
    ctx: &Context,
) -> bigram::Result<Trained> {
    let bar = EpochBar::new(config.epochs as u64, ctx.printer.quiet());
    let mut on_epoch = |e: &Epoch| {
        bar.update(e.epoch, e.loss);
        if let Some(log) = log.as_deref_mut() {
            log.record(e)?;
        }
        ctx.cancel
            .check(|| format!("at epoch {} of {}", e.epoch, config.epochs))
    };
    let fit_data = TrainData {
        examples: data.examples(),
        counts: data.counts(),
        dev: data.dev_counts(),
    };
    train_from(w0, fit_data, config, &mut on_epoch)
}

/// The checkpoint's model, with how it was made in its metadata, and its NLL on the data.
fn model_of(
    data: &Dataset,
    trained: &Trained,
    config: &TrainConfig,
    start: Option<Start>,
    ctx: &Context,
) -> anyhow::Result<Model> {
    let mut model = Model::network(trained.w.shallow_clone(), data.vocab(), data.order());
    let nll = model.nll(data.counts())?;
    let final_loss = trained.losses.last().copied().unwrap_or(f64::NAN);
    model.meta = config.provenance(
        data.provenance().clone(),
        final_loss,
        nll,
        ctx.threads,
        start,
    );
    Ok(model)
}

/// The picture (when asked) and the checkpoint, staged beside their destinations: a picture
/// that cannot be drawn or written replaces nothing.
fn stage(
    model: &Model,
    trained: &Trained,
    args: &TrainArgs,
    outputs: &[Output],
) -> anyhow::Result<Vec<Pending>> {
    let mut pending = Vec::new();
    if let Some(plot) = outputs.get(1) {
        let mut series: Vec<(&str, &[f64])> = vec![
            ("train loss (NLL + L2)", &trained.losses),
            ("train NLL", &trained.nlls),
        ];
        if !trained.dev_nlls.is_empty() {
            series.push(("dev NLL", &trained.dev_nlls));
        }
        let title = format!(
            "bigram network (order {}), lr {}, reg {}",
            model.order, args.optim.lr, args.reg.value
        );
        pending.push(plot.stage(bigram::plot::loss_curve(&title, &series)?)?);
    }
    pending.insert(0, outputs[0].stage(model.to_bytes()?)?);
    Ok(pending)
}
