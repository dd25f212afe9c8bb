//! `bigram notebook`: the notebook replayed cell by cell.

use super::args::{DataArgs, DeviceArg};
use super::printer::Report;
use super::Context;
use bigram::device::parse_device;
use bigram::io::{plan_outputs, Source};
use bigram::notebook::{replay, Replay};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct NotebookArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    device: DeviceArg,
    /// Also write the port as a Jupyter notebook (nbformat 4, evcxr's Rust kernel): each cell's
    /// Rust from src/notebook.rs, with what this run printed for it as its output. `-` writes
    /// it to stdout, and the replay then goes to stderr.
    #[arg(long, value_name = "FILE")]
    ipynb: Option<PathBuf>,
}

impl Report for Replay {
    fn render(&self) -> String {
        Replay::render(self)
    }
}

impl super::Run for NotebookArgs {
    fn inputs(&self) -> Vec<Source> {
        self.data.data.clone()
    }

    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let device = parse_device(&self.device.device)?;
        let outputs = match &self.ipynb {
            Some(path) => plan_outputs(&[("--ipynb", path)], &self.data.data)?,
            None => Vec::new(),
        };
        let replay = replay(&self.data.data, device, &ctx.cancel)?;
        let pending = outputs
            .iter()
            .map(|output| output.stage(replay.ipynb().into_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        ctx.printer.deliver(&replay, pending)
    }
}
