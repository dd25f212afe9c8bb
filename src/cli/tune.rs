//! `bigram tune`: one fit per value of the L2 weight (or smoothing), judged on the dev part.

use super::args::{variants, DeviceArg, OptimArgs, OrderArg, ReadArgs, TensorboardArg};
use super::printer::Report;
use super::Context;
use bigram::bail_input;
use bigram::data::SplitSpec;
use bigram::dataset::{Dataset, FitOptions};
use bigram::device::parse_device;
use bigram::io::Source;
use bigram::train::Method;
use bigram::tune::{best, tune, Knob, TuneRow};
use bigram::Named;
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
// One thing at a time, and one is needed: clap refuses neither and both alike.
#[command(group = clap::ArgGroup::new("knob").args(["reg", "smoothing"]).required(true))]
pub struct TuneArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    /// TRAIN/DEV/TEST percentages; settings are compared on the dev part.
    #[arg(long, default_value = "80/10/10", value_name = "SPEC")]
    split: SplitSpec,
    /// Seed of the shuffle before splitting.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    /// L2 weights to try for the network, comma-separated (e.g. 0,0.001,0.01,0.1,1).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        value_parser = super::args::smoothing_value,
        help_heading = "What to tune"
    )]
    reg: Option<Vec<f64>>,
    /// Smoothings to try for the count model, comma-separated (e.g. 0,0.1,1,10).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        value_parser = super::args::smoothing_value,
        help_heading = "What to tune"
    )]
    smoothing: Option<Vec<f64>>,
    /// For the network (with `--reg`).
    #[command(flatten, next_help_heading = "Optimisation")]
    optim: OptimArgs,
    /// How each epoch is computed; `counts` is the fast default here.
    #[arg(long, value_parser = variants::<Method>(), default_value = Method::Counts.name())]
    method: Method,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    #[command(flatten, next_help_heading = "Output")]
    tensorboard: TensorboardArg,
    #[command(flatten, next_help_heading = "Device")]
    device: DeviceArg,
}

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
        let name = self.knob.to_string();
        let mut text = format!("{:>12} {:>10} {:>10}\n", name, "train NLL", "dev NLL");
        for (i, row) in self.rows.iter().enumerate() {
            let mark = if i == self.best_row { "  <- best" } else { "" };
            let value = bigram::number(row.value);
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
            bigram::number(self.best.value),
            self.best.dev_nll
        )
    }
}

impl super::Run for TuneArgs {
    fn inputs(&self) -> Vec<Source> {
        self.read.data.data.clone()
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let (knob, values) = match (&self.reg, &self.smoothing) {
            (Some(reg), _) => (Knob::Reg, reg.clone()),
            (None, smoothing) => (Knob::Smoothing, smoothing.clone().unwrap_or_default()),
        };
        let tensorboard = self.tensorboard.checked()?;
        let device = parse_device(&self.device.device)?;
        let fit = FitOptions {
            order: self.order.value,
            examples: self.method.needs_examples(),
            split: Some((self.split, self.split_seed)),
        };
        let data = Dataset::load(&self.read.data.data, &self.read.options(ctx), fit)?;
        ctx.note_data(&data);
        let config = self.optim.config(0.0, self.method, device);
        let (rows, logs) = tune(&data, knob, &values, &config, tensorboard, &ctx.cancel)?;
        let Some(best_row) = best(&rows) else {
            bail_input!("no setting gave a finite dev NLL (each diverged, or the dev part has bigrams no model gives any probability); lower --lr, or try other values");
        };
        ctx.printer.print(&TuneReport {
            knob,
            split: self.split.to_string(),
            threads: ctx.threads,
            best: rows[best_row].clone(),
            rows,
            best_row,
        })?;
        for log in logs {
            log.keep()?;
        }
        Ok(())
    }
}
