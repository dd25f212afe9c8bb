//! `bigram count`: the count model, P = (N + smoothing) / row sums, saved as a checkpoint.

use super::args::{OrderArg, ReadArgs, SmoothingArg, SplitArgs};
use super::printer::Report;
use super::split::SplitReport;
use super::Context;
use bigram::checkpoint;
use bigram::data::{ByteRange, VocabChoice};
use bigram::dataset::{Dataset, FitOptions};
use bigram::io::{plan_outputs, InputPath};
use bigram::model::Model;
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

/// What `count` reports.
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
            "count model (smoothing {}): nll {:.4} over {} examples\n",
            bigram::number(self.smoothing),
            self.nll,
            self.examples
        );
        if let Some(split) = &self.split {
            text += &split.line();
        }
        text + &self.saved + "\n"
    }
}

impl super::Run for CountArgs {
    fn inputs(&self) -> Vec<InputPath<'_>> {
        let mut inputs = self.read.data.inputs();
        inputs.extend(self.vocab_from.as_deref().map(InputPath::File));
        inputs
    }

    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let outputs = plan_outputs(&[("--out", &self.out)], &super::Run::inputs(&self))?;
        let mut read = self.read.options(ctx);
        read.range = self.range.or(self.shard);
        if let Some(path) = &self.vocab_from {
            let vocab = checkpoint::read(path, &ctx.cancel)?.model.vocab;
            read.vocab = VocabChoice::Fixed(Box::new(vocab));
        }
        let fit = FitOptions {
            order: self.order.get(),
            examples: false,
            split: self.split.get(),
        };
        let data = Dataset::load(&self.read.data.data, &read, fit)
            .map_err(|e| outputs[0].nothing_saved(e))?;
        ctx.note_data(&data);
        let (counts, vocab) = (data.counts(), data.vocab());
        let mut model = Model::from_counts(counts, vocab, fit.order, self.smoothing.value);
        let nll = model.nll(counts)?;
        model.meta = data.provenance().clone();
        model.meta.smoothing = Some(self.smoothing.value);
        model.meta.nll = Some(nll);
        model.meta.threads = Some(ctx.threads);
        ctx.cancel
            .check(|| "after counting".into())
            .map_err(|e| outputs[0].nothing_saved(e))?;
        let pending = vec![outputs[0].stage(model.to_bytes()?)?];
        let report = CountReport {
            smoothing: self.smoothing.value,
            order: fit.order,
            threads: ctx.threads,
            nll,
            examples: counts.total(),
            names: data.names().unwrap_or(0),
            vocab: vocab.as_string(),
            out: self.out.display().to_string(),
            peak_rss_mib: peak_rss_mib(),
            split: SplitReport::of(&data, &self.split, &model)?,
            saved: super::printer::outcome(&outputs[0]),
        };
        ctx.printer.deliver(&report, pending)
    }
}

/// This process's peak resident memory in MiB (VmHWM), where /proc tells it.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
