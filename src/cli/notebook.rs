//! `bigram notebook`: the notebook replayed cell by cell.

use super::args::{DataArgs, DeviceArg};
use super::printer::Report;
use super::Context;
use bigram::device::parse_device;
use bigram::notebook::{replay, Replay};
use clap::Args;

#[derive(Debug, Args)]
pub struct NotebookArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    device: DeviceArg,
}

impl Report for Replay {
    fn render(&self) -> String {
        Replay::render(self)
    }
}

impl super::Run for NotebookArgs {
    fn device(&self) -> Option<&str> {
        Some(&self.device.device)
    }

    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        run(self, ctx)
    }
}

fn run(args: NotebookArgs, ctx: &Context) -> anyhow::Result<()> {
    let device = parse_device(&args.device.device)?;
    let replay = replay(&args.data.data, device, &ctx.cancel)?;
    ctx.printer.print(&replay)
}
