//! `bigram train`: fit the network by gradient descent and save a checkpoint.

use super::args::{DeviceArg, MethodArg, OptimArgs, OrderArg, ReadArgs, RegArg, SplitArgs};
use super::printer::Report;
use super::progress::EpochBar;
use super::Context;
use bigram::dataset::{Dataset, FitOptions, PartNll};
use bigram::device::{device_name, parse_device};
use bigram::files::{check_png, check_writable, Staged};
use bigram::model::Model;
use bigram::train::{train, Method, TrainConfig, TrainData, Trained};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
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
    #[command(flatten, next_help_heading = "Optimisation")]
    optim: OptimArgs,
    #[command(flatten, next_help_heading = "Optimisation")]
    reg: RegArg,
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

/// What `train` reports.
#[derive(Serialize)]
struct TrainReport {
    epochs: u64,
    lr: f64,
    reg: f64,
    seed: i64,
    method: &'static str,
    order: usize,
    device: String,
    threads: i32,
    /// The last epoch's loss (NLL + L2) from its forward pass.
    loss: f64,
    /// The last epoch's NLL alone.
    last_epoch_nll: f64,
    /// The NLL of the saved weights on the data fitted on.
    nll: f64,
    examples: u64,
    /// Seconds of the epochs alone.
    seconds: f64,
    /// Seconds of the CUDA warm-up (null on the CPU).
    warmup_seconds: Option<f64>,
    load_seconds: f64,
    out: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<SplitReport>,
    #[serde(skip)]
    plot: Option<PathBuf>,
}

/// The NLL of each part of a split.
#[derive(Serialize)]
pub struct SplitReport {
    spec: String,
    seed: u64,
    #[serde(flatten)]
    parts: std::collections::BTreeMap<&'static str, PartNll>,
}

impl SplitReport {
    /// The parts' NLLs under `model`, when the data was split.
    pub fn of(data: &Dataset, split: &SplitArgs, model: &Model) -> bigram::Result<Option<Self>> {
        let (Some(parts), Some((spec, seed))) = (data.part_nlls(model)?, split.get()) else {
            return Ok(None);
        };
        Ok(Some(Self {
            spec: spec.to_string(),
            seed,
            parts: parts.into_iter().map(|p| (p.part, p)).collect(),
        }))
    }

    /// `nll by part: train 2.4538, dev 2.4540, test 2.4662`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = ["train", "dev", "test"]
            .iter()
            .filter_map(|name| self.parts.get(name))
            .map(|p| match p.nll {
                Some(v) => format!("{} {v:.4}", p.part),
                None => format!("{} -", p.part),
            })
            .collect();
        format!("nll by part: {}\n", parts.join(", "))
    }
}

impl Report for TrainReport {
    fn render(&self) -> String {
        let mut text = format!(
            "epoch {}: loss {:.4} (nll {:.4} + L2)\n\
             saved {} (nll of the saved weights on the training data: {:.4}; {:.2} s training, {} method)\n",
            self.epochs, self.loss, self.last_epoch_nll, self.out, self.nll, self.seconds, self.method
        );
        if let Some(split) = &self.split {
            text += &split.line();
        }
        if let Some(plot) = &self.plot {
            text += &format!("loss curve: {}\n", plot.display());
        }
        text
    }
}

pub fn run(args: TrainArgs, ctx: &Context) -> anyhow::Result<()> {
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
    let load_start = std::time::Instant::now();
    let fit = FitOptions {
        order: args.order.get(),
        examples: method.needs_examples(),
        split: args.split.get(),
    };
    let data = Dataset::load(&args.read.data.data, &args.read.options(&ctx.cancel), fit)
        .map_err(|e| nothing_saved(e, &args.out))?;
    ctx.printer.note(data.corpus.summary());
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
    let trained = run_epochs(&data, &config, ctx).map_err(|e| nothing_saved(e, &args.out))?;
    let (model, nll) = model_of(&data, &trained, &config, &args, ctx)?;
    ctx.cancel
        .check(|| "after training".into())
        .map_err(|e| nothing_saved(e, &args.out))?;
    save(&model, &trained, &args)?;
    let report = TrainReport {
        epochs: args.optim.epochs,
        lr: config.lr,
        reg: config.reg,
        seed: config.seed,
        method: method.as_str(),
        order: fit.order,
        device: device_name(device),
        threads: ctx.threads,
        loss: trained.losses.last().copied().unwrap_or(f64::NAN),
        last_epoch_nll: trained.nlls.last().copied().unwrap_or(f64::NAN),
        nll,
        examples: data.counts().total(),
        seconds: trained.seconds,
        warmup_seconds: trained.warmup_seconds,
        load_seconds,
        out: args.out.display().to_string(),
        split: SplitReport::of(&data, &args.split, &model)?,
        plot: args.plot.clone(),
    };
    ctx.printer.print(&report)
}

/// The epochs, with a progress bar, stopping at the next epoch once interrupted.
fn run_epochs(data: &Dataset, config: &TrainConfig, ctx: &Context) -> bigram::Result<Trained> {
    let bar = EpochBar::new(config.epochs as u64, ctx.printer.quiet());
    let mut on_epoch = |epoch: usize, loss: f64| {
        bar.update(epoch, loss);
        ctx.cancel
            .check(|| format!("at epoch {epoch} of {}", config.epochs))
    };
    let fit_data = TrainData {
        examples: data.examples(),
        counts: data.counts(),
        dev: data.dev_counts(),
    };
    train(fit_data, config, &mut on_epoch)
}

/// The checkpoint's model, with how it was made in its metadata, and its NLL on the data.
fn model_of(
    data: &Dataset,
    trained: &Trained,
    config: &TrainConfig,
    args: &TrainArgs,
    ctx: &Context,
) -> anyhow::Result<(Model, f64)> {
    let mut model = Model::network(
        trained.w.shallow_clone(),
        &data.corpus.scan.vocab,
        args.order.get(),
    );
    let nll = model.nll(data.counts())?;
    let loss = trained.losses.last().copied().unwrap_or(f64::NAN);
    let meta = [
        ("seed", config.seed.to_string()),
        ("epochs", config.epochs.to_string()),
        ("lr", config.lr.to_string()),
        ("reg", config.reg.to_string()),
        ("method", config.method.as_str().to_string()),
        ("device", device_name(config.device)),
        ("threads", ctx.threads.to_string()),
        ("final_loss", loss.to_string()),
        ("nll", nll.to_string()),
    ];
    model
        .meta
        .extend(meta.into_iter().map(|(k, v)| (k.to_string(), v)));
    model.meta.extend(data.provenance());
    Ok((model, nll))
}

/// Write the picture (when asked) and the checkpoint beside their destinations first, then
/// put both in place: a picture that cannot be drawn replaces nothing.
fn save(model: &Model, trained: &Trained, args: &TrainArgs) -> anyhow::Result<()> {
    let plot = match &args.plot {
        Some(path) => {
            let staged = Staged::new(path)?;
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
            staged.write_with(|path| bigram::plot::loss_curve(path, &title, &series))?;
            Some(staged)
        }
        None => None,
    };
    Staged::with_bytes(&args.out, &model.to_bytes()?)?.commit()?;
    if let Some(staged) = plot {
        staged.commit()?;
    }
    Ok(())
}

/// An interruption says that nothing was written and the old file is as it was.
pub fn nothing_saved(err: bigram::Error, out: &Path) -> bigram::Error {
    match err {
        bigram::Error::Interrupted { at } => bigram::Error::Interrupted {
            at: format!("{at}; nothing was saved ({} is as it was)", out.display()),
        },
        other => other,
    }
}
