//! `bigram parity`: compare with a PyTorch reference, quantity by quantity.

use super::args::{non_negative, DeviceArg, OptimArgs, OrderArg, RegArg, SmoothingArg};
use super::printer::Report;
use super::Context;
use bigram::bail_input;
use bigram::device::parse_device;
use bigram::io::Source;
use bigram::parity::{self, ParityConfig, ParityReport, Pipeline};
use bigram::train::Method;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(
    after_help = "On the CPU the tolerance is 0: the same libtorch, operations and thread \
count give the same bits. Both sides run with --threads (default: libtorch's choice here)."
)]
pub struct ParityArgs {
    /// Names file (one; the reference reads it by path).
    #[arg(long, default_value = bigram::data::DEFAULT_PATH, value_name = "PATH")]
    data: PathBuf,
    /// Compare the notebook replay (`bigram notebook`) with the notebook's cells run by
    /// PyTorch, figure by figure, instead of the training pipeline.
    #[arg(long)]
    notebook: bool,
    #[command(flatten)]
    optim: OptimArgs,
    #[command(flatten)]
    reg: RegArg,
    #[command(flatten)]
    smoothing: SmoothingArg,
    /// Seed of the sampler.
    #[arg(long, default_value_t = 2147483647)]
    sample_seed: i64,
    /// Names sampled from each model.
    #[arg(short = 'n', long = "count", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,
    /// Cap on a sampled name's length (at most 1000000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=super::args::MAX_NAME_LEN))]
    max_len: u64,
    #[command(flatten)]
    order: OrderArg,
    #[command(flatten)]
    device: DeviceArg,
    /// Allowed |difference| for floats (default: 0 on the CPU, 1e-4 on CUDA).
    #[arg(long, value_parser = non_negative)]
    tolerance: Option<f64>,
    /// Python with torch 2.13 (default: $BIGRAM_PYTHON, else the venv scripts/setup.sh made).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
}

impl Report for ParityReport {
    fn render(&self) -> String {
        ParityReport::render(self)
    }
}

impl super::Run for ParityArgs {
    fn inputs(&self) -> Vec<Source> {
        let mut inputs = vec![Source::File(self.data.clone())];
        inputs.extend(self.python.clone().map(Source::File));
        inputs
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.data.as_os_str() == "-" {
            bail_input!("parity needs the names in a file: the PyTorch reference reads it by path too; save standard input to a file and pass --data FILE");
        }
        let device = parse_device(&self.device.device)?;
        let python = self
            .python
            .clone()
            .or_else(parity::default_python)
            .ok_or_else(|| {
                bigram::Error::input(
                    "no Python with torch is known; run scripts/setup.sh or pass --python PATH",
                )
            })?;
        let config = ParityConfig {
            data: self.data.clone(),
            device,
            tolerance: self.tolerance,
            python,
            threads: ctx.threads,
            cancel: ctx.cancel.clone(),
        };
        let report = if self.notebook {
            parity::run_notebook(&config)?
        } else {
            let pipeline = Pipeline {
                train: self.optim.config(self.reg.value, Method::OneHot, device),
                smoothing: self.smoothing.value,
                sample_seed: self.sample_seed,
                n: self.n as usize,
                max_len: self.max_len as usize,
                order: self.order.value,
            };
            parity::run(&config, &pipeline)?
        };
        // A failure is the result even when nobody reads the table to its end.
        let printed = ctx.printer.print(&report);
        match report.first_failure() {
            Some(row) => anyhow::bail!("parity failed, first at {}", row.quantity),
            None => printed,
        }
    }
}
