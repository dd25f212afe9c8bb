//! `bigram merge`: add up the counts of count checkpoints (pieces of one corpus).

use super::args::smoothing_value;
use super::printer::Report;
use super::Context;
use bigram::files::check_writable;
use bigram::merge::{merge, Part};
use bigram::model::Model;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Count the pieces of a corpus anywhere (`bigram count --data piece \
--out piece.safetensors`), then merge: the result is the count model of the whole, as if the \
pieces were one file. Train a network from it with `bigram train --counts`."
)]
pub struct MergeArgs {
    /// Count checkpoints (from `bigram count` or `bigram merge`) of the same vocabulary, order
    /// and case folding.
    #[arg(required = true, value_name = "CKPT")]
    inputs: Vec<PathBuf>,
    /// Where to write the merged checkpoint (written atomically).
    #[arg(long, default_value = "merged.safetensors", value_name = "PATH")]
    out: PathBuf,
    /// Smoothing of the merged model (default: the inputs' own, when they agree).
    #[arg(long, value_parser = smoothing_value)]
    smoothing: Option<f64>,
}

/// What `merge` reports.
#[derive(Serialize)]
struct MergeReport {
    inputs: usize,
    examples: u64,
    smoothing: f64,
    nll: f64,
    out: String,
}

impl Report for MergeReport {
    fn render(&self) -> String {
        format!(
            "merged {} count checkpoints: {} examples, nll {:.4} (smoothing {})\nsaved {}\n",
            self.inputs, self.examples, self.nll, self.smoothing, self.out
        )
    }
}

pub fn run(args: MergeArgs, ctx: &Context) -> anyhow::Result<()> {
    check_writable(&args.out)?;
    let parts = args
        .inputs
        .iter()
        .map(|path| {
            ctx.cancel
                .check(|| "while reading the checkpoints".into())?;
            Ok(Part {
                path: path.clone(),
                model: Model::load(path)?,
            })
        })
        .collect::<bigram::Result<Vec<Part>>>()?;
    let mut model = merge(&parts, args.smoothing)?;
    model.meta.insert("threads".into(), ctx.threads.to_string());
    ctx.cancel
        .check(|| "after merging; nothing was saved".into())?;
    model.save(&args.out)?;
    let counts = model.counts.as_ref();
    ctx.printer.print(&MergeReport {
        inputs: parts.len(),
        examples: counts.map_or(0, |c| c.total()),
        smoothing: model
            .meta
            .get("smoothing")
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN),
        nll: model
            .meta
            .get("nll")
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN),
        out: args.out.display().to_string(),
    })
}
