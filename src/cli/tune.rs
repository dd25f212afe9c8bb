//! `bigram tune`: one fit per value of the L2 weight (or smoothing), judged on the dev part.

use super::advice::usage;
use super::args::{check_log_folder, DeviceArg, MethodArg, OptimArgs, OrderArg, ReadArgs};
use super::printer::Report;
use super::Context;
use bigram::data::SplitSpec;
use bigram::dataset::{Dataset, FitOptions};
use bigram::device::parse_device;
use bigram::tensorboard::EventLog;
use bigram::train::{Epoch, Method, TrainConfig};
use bigram::tune::{best, tune, Knob, TuneRow};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TuneArgs {
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
    /// Also log each run for TensorBoard, one folder per value inside this one (e.g.
    /// DIR/reg=0.01): `Loss/train` and `Loss/test` (the dev NLL) per epoch, or once for a
    /// smoothing. `tensorboard --logdir DIR` compares them.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    tensorboard: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Device")]
    pub(super) device: DeviceArg,
}

/// What `tune` reports.
#[derive(Serialize)]
struct TuneReport {
    knob: Knob,
    split: String,
    threads: i32,
    rows: Vec<TuneRow>,
    best: TuneRow,
    #[serde(skip)]
    best_row: usize,
}

impl Report for TuneReport {
    fn render(&self) -> String {
        let name = self.knob.as_str();
        let mut text = format!("{:>12} {:>10} {:>10}\n", name, "train NLL", "dev NLL");
        for (i, row) in self.rows.iter().enumerate() {
            let mark = if i == self.best_row { "  <- best" } else { "" };
            let value = super::number(row.value);
            text += &match row.diverged_at {
                Some(epoch) => {
                    format!("{value:>12}   diverged at epoch {epoch} (lower --lr, or this value)\n")
                }
                None => format!(
                    "{value:>12} {:>10.4} {:>10.4}{mark}\n",
                    row.train_nll, row.dev_nll
                ),
            };
        }
        text + &format!(
            "best: {name} {} (dev NLL {:.4})\n",
            super::number(self.best.value),
            self.best.dev_nll
        )
    }
}

pub fn run(args: TuneArgs, ctx: &Context) -> anyhow::Result<()> {
    let (knob, values) = match (&args.reg, &args.smoothing) {
        (Some(reg), None) => (Knob::Reg, reg.clone()),
        (None, Some(smoothing)) => (Knob::Smoothing, smoothing.clone()),
        _ => usage!("tune one thing at a time: --reg LIST (the network) or --smoothing LIST (the count model)"),
    };
    if let Some(bad) = values
        .iter()
        .find(|v| !v.is_finite() || **v < 0.0 || **v > 1e30)
    {
        usage!("every value to try must be a number from 0 to 1e30; got {bad}");
    }
    if let Some(dir) = &args.tensorboard {
        check_log_folder(dir)?;
    }
    let device = parse_device(&args.device.device)?;
    let method = Method::from(args.method);
    let fit = FitOptions {
        order: args.order.get(),
        examples: method.needs_examples(),
        split: Some((args.split, args.split_seed)),
    };
    let data = Dataset::load(&args.read.data.data, &args.read.options(ctx), fit)?;
    ctx.printer.note(data.summary());
    if let Some(line) = data.split_summary() {
        ctx.printer.note(line);
    }
    let Some(splits) = data.splits.as_ref().filter(|s| !s.dev.names.is_empty()) else {
        usage!("the split {} leaves no dev names to tune on", args.split);
    };
    let config = TrainConfig {
        epochs: args.optim.epochs as usize,
        lr: args.optim.lr,
        reg: 0.0,
        seed: args.optim.seed,
        method,
        device,
    };
    let vocab = data.vocab();
    let mut logs = RunLogs::new(args.tensorboard.as_deref(), knob);
    let mut on_epoch = |value: f64, e: &Epoch| {
        logs.record(value, e)?;
        let at = || format!("at epoch {} of the run with reg {value}", e.epoch);
        ctx.cancel.check(at)
    };
    let rows = tune(
        splits,
        vocab,
        fit.order,
        knob,
        &values,
        &config,
        &mut on_epoch,
    )?;
    if knob == Knob::Smoothing {
        logs.record_counts(&rows)?;
    }
    let Some(best) = best(&rows).cloned() else {
        usage!("no setting gave a finite dev NLL (each diverged, or the dev part has bigrams no model gives any probability); lower --lr, or try other values");
    };
    let best_row = rows
        .iter()
        .position(|r| r.value == best.value && r.dev_nll == best.dev_nll);
    ctx.printer.print(&TuneReport {
        knob,
        split: args.split.to_string(),
        threads: ctx.threads,
        rows,
        best,
        best_row: best_row.unwrap_or(0),
    })?;
    logs.keep()
}

/// One TensorBoard log per value tried, `DIR/<knob>=<value>`, started at its first record and
/// kept only when the whole search succeeded.
struct RunLogs<'a> {
    dir: Option<&'a Path>,
    knob: Knob,
    logs: Vec<(f64, EventLog)>,
}

impl<'a> RunLogs<'a> {
    fn new(dir: Option<&'a Path>, knob: Knob) -> Self {
        Self {
            dir,
            knob,
            logs: Vec::new(),
        }
    }

    fn log(&mut self, value: f64) -> bigram::Result<Option<&mut EventLog>> {
        let Some(dir) = self.dir else {
            return Ok(None);
        };
        if self.logs.last().is_none_or(|(v, _)| *v != value) {
            let name = format!("{}={}", self.knob.as_str(), super::number(value));
            let settings = format!("bigram tune: {name}");
            self.logs
                .push((value, EventLog::create(&dir.join(&name), &settings)?));
        }
        Ok(self.logs.last_mut().map(|(_, log)| log))
    }

    fn record(&mut self, value: f64, e: &Epoch) -> bigram::Result<()> {
        match self.log(value)? {
            Some(log) => log.record(e),
            None => Ok(()),
        }
    }

    /// A count model has no epochs: its train and dev NLLs, once.
    fn record_counts(&mut self, rows: &[TuneRow]) -> bigram::Result<()> {
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

    fn keep(self) -> anyhow::Result<()> {
        for (_, log) in self.logs {
            log.keep()?;
        }
        Ok(())
    }
}
