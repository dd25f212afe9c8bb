//! `bigram count`: the count model, P = (N + smoothing) / row sums, saved as a checkpoint.

use super::args::{OrderArg, ReadArgs, SmoothingArg, SplitArgs};
use super::printer::Report;
use super::split::SplitReport;
use super::Context;
use bigram::data::ByteRange;
use bigram::dataset::Count;
use bigram::io::{plan_outputs, Source};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct CountArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    #[command(flatten, next_help_heading = "Input")]
    split: SplitArgs,
    /// Count only the names whose lines start in bytes START..END of the (one, regular) data
    /// file; END may be left out for the end of the file. Pieces of a file counted this way
    /// merge into the whole file's counts (`bigram merge`).
    #[arg(long, value_name = "START:END", value_parser = ByteRange::parse_bytes, help_heading = "Input")]
    range: Option<ByteRange>,
    /// Count only the I-th of K equal byte ranges of the data file (from 1), as `--range`.
    #[arg(long, value_name = "I/K", value_parser = ByteRange::parse_shard, conflicts_with = "range", help_heading = "Input")]
    shard: Option<ByteRange>,
    /// Read with this checkpoint's vocabulary (and refuse any other character), so that
    /// pieces of a corpus beyond a-z, counted apart, merge.
    #[arg(
        long,
        value_name = "CKPT",
        conflicts_with = "vocab",
        help_heading = "Input"
    )]
    vocab_from: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Model")]
    smoothing: SmoothingArg,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    /// Where to write the checkpoint (safetensors; written atomically; `-` writes it to
    /// stdout, for pipes and remote shells, and the report goes to stderr).
    #[arg(
        long,
        default_value = "counts.safetensors",
        value_name = "PATH",
        help_heading = "Output"
    )]
    out: PathBuf,
}

#[derive(Serialize)]
struct CountReport {
    smoothing: f64,
    order: usize,
    threads: i32,
    nll: f64,
    examples: u64,
    names: usize,
    vocab: String,
    out: String,
    /// This process's peak resident memory, where the system tells it.
    peak_rss_mib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<SplitReport>,
    #[serde(skip)]
    saved: String,
}

impl Report for CountReport {
    fn render(&self) -> String {
        let mut text = format!(
            "count model (smoothing {}): nll {:.4} over {}\n",
            bigram::number(self.smoothing),
            self.nll,
            bigram::plural(self.examples, "example")
        );
        if let Some(split) = &self.split {
            text += &split.line;
        }
        text + &self.saved + "\n"
    }
}

impl super::Run for CountArgs {
    fn inputs(&self) -> Vec<Source> {
        let mut inputs = self.read.data.data.clone();
        inputs.extend(self.vocab_from.clone().map(Source::File));
        inputs
    }

    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let outputs = plan_outputs(&[("--out", &self.out)], &super::Run::inputs(&self))?;
        let mut read = self.read.options(ctx);
        read.range = self.range.or(self.shard);
        let count = Count {
            sources: &self.read.data.data,
            read,
            vocab_from: self.vocab_from.as_deref(),
            order: self.order.value,
            split: self.split.get(),
            smoothing: self.smoothing.value,
            threads: ctx.threads,
        };
        let (model, data) = bigram::dataset::count(count, &mut |data| ctx.note_data(data))
            .map_err(|e| outputs[0].nothing_saved(e))?;
        let pending = vec![outputs[0].stage(model.to_bytes()?)?];
        let report = CountReport {
            smoothing: self.smoothing.value,
            order: self.order.value,
            threads: ctx.threads,
            nll: model.meta.nll.unwrap_or(f64::NAN),
            examples: data.counts().total(),
            names: data.names.unwrap_or(0),
            vocab: data.vocab().as_string(),
            out: self.out.display().to_string(),
            peak_rss_mib: bigram::memory::peak_rss_mib(),
            split: SplitReport::of(&data, &model)?,
            saved: super::printer::outcome(&outputs[0]),
        };
        ctx.printer.deliver(&report, pending)
    }
}
