//! `bigram heatmap`: the bigram counts of the data, or a model's probabilities, as a PNG.

use super::args::ReadArgs;
use super::printer::Report;
use super::Context;
use bigram::bail_input;
use bigram::data::{Corpus, Keep};
use bigram::io::{check_png, plan_outputs, Source};
use bigram::plot::CellValues;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct HeatmapArgs {
    #[command(flatten)]
    read: ReadArgs,
    /// Show this bigram checkpoint's next-character probabilities instead of the data's counts.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["data", "lowercase", "vocab"])]
    model: Option<PathBuf>,
    /// The PNG to write (written atomically; `-` for stdout).
    #[arg(long, default_value = "bigrams.png", value_name = "PNG")]
    out: PathBuf,
    /// Width and height in pixels.
    #[arg(long, default_value_t = 1600, value_parser = clap::value_parser!(u32).range(400..=8000))]
    size: u32,
}

#[derive(Serialize)]
struct HeatmapReport {
    out: String,
    size: u32,
    shows: CellValues,
    #[serde(skip)]
    shown: String,
}

impl Report for HeatmapReport {
    fn render(&self) -> String {
        format!(
            "wrote {} ({}×{} pixels)\n",
            self.shown, self.size, self.size
        )
    }
}

impl super::Run for HeatmapArgs {
    fn inputs(&self) -> Vec<Source> {
        match &self.model {
            Some(model) => vec![Source::File(model.clone())],
            None => self.read.data.data.clone(),
        }
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let outputs = plan_outputs(&[("--out", &self.out)], &super::Run::inputs(&self))?;
        check_png(&outputs[0])?;
        let (vocab, values, kind) = match &self.model {
            Some(path) => {
                let model = bigram::checkpoint::read(path, &ctx.cancel)?.model;
                if model.order != 2 {
                    bail_input!(
                        "{}: a heatmap shows bigram models; this one has order {}",
                        path.display(),
                        model.order
                    );
                }
                let probs: Vec<f64> = model
                    .log_probs()?
                    .cells()
                    .iter()
                    .map(|lp| lp.exp())
                    .collect();
                (model.vocab, probs, CellValues::Probabilities)
            }
            None => {
                let options = self.read.options(ctx);
                let corpus = Corpus::load(&self.read.data.data, &options, 2, Keep::default())?;
                ctx.printer.note(corpus.summary());
                let values = corpus.counts.cells.iter().map(|&c| c as f64).collect();
                (corpus.scan.vocab, values, CellValues::Counts)
            }
        };
        let picture = bigram::plot::heatmap(&vocab, &values, kind, self.size)?;
        let pending = vec![outputs[0].stage(picture)?];
        let report = HeatmapReport {
            out: self.out.display().to_string(),
            size: self.size,
            shows: kind,
            shown: super::printer::shown(&outputs[0]),
        };
        ctx.printer.deliver(&report, pending)
    }
}
