//! `bigram eval`: the mean NLL of data under a checkpoint.

use super::args::DataArgs;
use super::printer::Report;
use super::Context;
use bigram::eval::{evaluate, read_options_for, Evaluation};
use bigram::io::Source;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Checkpoint to evaluate.
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Fold upper-case letters to lower case (the default when the checkpoint's training data
    /// was folded).
    #[arg(long)]
    lowercase: bool,
}

#[derive(Serialize)]
struct EvalReport {
    model: String,
    data: String,
    kind: bigram::model::ModelKind,
    threads: i32,
    #[serde(flatten)]
    evaluation: Evaluation,
}

impl Report for EvalReport {
    fn render(&self) -> String {
        let Evaluation {
            nll,
            examples,
            names,
        } = &self.evaluation;
        format!(
            "nll {nll:.4} over {} ({}) of {}\n",
            bigram::plural(examples, "example"),
            bigram::plural(names, "name"),
            self.data
        )
    }
}

impl super::Run for EvalArgs {
    fn inputs(&self) -> Vec<Source> {
        let mut inputs = vec![Source::File(self.model.clone())];
        inputs.extend(self.data.data.clone());
        inputs
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let model = bigram::checkpoint::read(&self.model, &ctx.cancel)?.model;
        // Read the data the way the model was trained on it.
        let mut options = read_options_for(&model, ctx.cancel.clone());
        options.lowercase |= self.lowercase;
        options.threads = ctx.threads.max(1) as usize;
        options.offers_flags = true;
        ctx.printer.print(&EvalReport {
            model: self.model.display().to_string(),
            data: bigram::data::labels(&self.data.data),
            kind: model.kind,
            threads: ctx.threads,
            evaluation: evaluate(&model, &self.data.data, &options)?,
        })
    }
}
