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
    pub(super) device: DeviceArg,
}

impl Report for Replay {
    fn render(&self) -> String {
        Replay::render(self)
    }
}

pub fn run(args: NotebookArgs, ctx: &Context) -> anyhow::Result<()> {
    let device = parse_device(&args.device.device)?;
    let replay = replay(&args.data.data, device, &ctx.cancel)?;
    ctx.printer.print(&replay)
}
