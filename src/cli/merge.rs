//! `bigram merge`: add up the counts of count checkpoints (pieces of one corpus).

use super::args::smoothing_value;
use super::printer::Report;
use super::Context;
use bigram::io::{plan_outputs, Source};
use bigram::merge::merge;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Count the pieces of a corpus anywhere (`bigram count --data piece \
--out piece.safetensors`), then merge: the result is the count model of the whole, as if the \
pieces were one file. Train a network from it with `bigram train --counts`. A piece given \
twice, two pieces of the same data file, or a piece already inside a merged input is refused: \
nothing is counted twice."
)]
pub struct MergeArgs {
    /// Count checkpoints (from `bigram count` or `bigram merge`) of the same vocabulary, order
    /// and case folding.
    #[arg(required = true, value_name = "CKPT")]
    inputs: Vec<PathBuf>,
    /// Where to write the merged checkpoint (written atomically; `-` for stdout).
    #[arg(long, default_value = "merged.safetensors", value_name = "PATH")]
    out: PathBuf,
    /// Smoothing of the merged model (default: the inputs' own, when they agree).
    #[arg(long, value_parser = smoothing_value)]
    smoothing: Option<f64>,
}

#[derive(Serialize)]
struct MergeReport {
    inputs: usize,
    examples: u64,
    smoothing: f64,
    nll: f64,
    out: String,
    #[serde(skip)]
    saved: String,
}

impl Report for MergeReport {
    fn render(&self) -> String {
        format!(
            "merged {}: {}, nll {:.4} (smoothing {})\n{}\n",
            bigram::plural(self.inputs, "count checkpoint"),
            bigram::plural(self.examples, "example"),
            self.nll,
            bigram::number(self.smoothing),
            self.saved
        )
    }
}

impl super::Run for MergeArgs {
    fn inputs(&self) -> Vec<Source> {
        self.inputs.iter().cloned().map(Source::File).collect()
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let outputs = plan_outputs(&[("--out", &self.out)], &super::Run::inputs(&self))?;
        let model = merge(&self.inputs, self.smoothing, ctx.threads, &ctx.cancel)
            .map_err(|e| outputs[0].nothing_saved(e))?;
        let pending = vec![outputs[0].stage(model.to_bytes()?)?];
        let report = MergeReport {
            inputs: self.inputs.len(),
            examples: model.counts.as_ref().map_or(0, |c| c.total()),
            smoothing: model.meta.smoothing.unwrap_or(f64::NAN),
            nll: model.meta.nll.unwrap_or(f64::NAN),
            out: self.out.display().to_string(),
            saved: super::printer::outcome(&outputs[0]),
        };
        ctx.printer.deliver(&report, pending)
    }
}
