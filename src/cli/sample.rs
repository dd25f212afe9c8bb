//! `bigram sample`: names from a checkpoint, written as they are drawn.

use super::printer::Report;
use super::Context;
use bigram::bail_input;
use bigram::data::Source;
use bigram::eval::{known_names_of, Scorer};
use bigram::sample::{encode_word, generate_each, sampler, Drawn, Filter, SamplerKind, Shaping};
use bigram::Named;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct SampleArgs {
    /// Checkpoint to sample from (from `bigram train` or `bigram count`).
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    model: PathBuf,
    /// How many names (at least 1).
    #[arg(short = 'n', long = "count", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,
    /// Seed of the generator: the same seed gives the same names.
    #[arg(long, default_value_t = 2147483647, help_heading = "Sampling")]
    seed: i64,
    /// Longest name in characters (at most 1000000); a name that has not ended by then is cut
    /// there.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=super::args::MAX_NAME_LEN), help_heading = "Sampling")]
    max_len: u64,
    /// Shortest name in characters; shorter ones are drawn again.
    #[arg(long, default_value_t = 0, help_heading = "Sampling")]
    min_len: u64,
    /// Only names that start with this text (validated against the model's vocabulary).
    #[arg(long, default_value = "", help_heading = "Sampling")]
    prefix: String,
    /// Divide the logits by T before the softmax: below 1 sharper, above 1 flatter.
    #[arg(long, default_value_t = 1.0, value_parser = super::args::positive, help_heading = "Sampling")]
    temperature: f64,
    /// Draw only among the K most likely next characters.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Sampling")]
    top_k: Option<u64>,
    /// Only new names: none from the data, and none twice.
    #[arg(long, help_heading = "Sampling")]
    novel: bool,
    /// Give up after this many draws rejected by the filters (length, novelty).
    #[arg(long, default_value_t = 100_000, help_heading = "Sampling")]
    max_attempts: u64,
    /// How a character is drawn; the distribution is the same, the names differ.
    #[arg(long, value_name = "SAMPLER", value_parser = super::args::variants::<SamplerKind>(), default_value = SamplerKind::default().name(), help_heading = "Sampling")]
    sampler: SamplerKind,
    /// The same as --sampler fast.
    #[arg(long, conflicts_with = "sampler", help_heading = "Sampling")]
    fast: bool,
    /// Data that tells known names from new ones, for --novel and for `in_data` with --json
    /// (default: the checkpoint's training data, when it is still there unchanged).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    data: Vec<Source>,
}

impl Report for Drawn {
    fn render(&self) -> String {
        format!("{}\n", self.name)
    }
}

impl super::Run for SampleArgs {
    fn inputs(&self) -> Vec<Source> {
        let mut inputs = vec![Source::File(self.model.clone())];
        inputs.extend(self.data.iter().cloned());
        inputs
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let (min, max) = (self.min_len, self.max_len);
        if min > max {
            bail_input!("--min-len {min} is above --max-len {max}");
        }
        if !self.data.is_empty() && !self.novel && !ctx.printer.json {
            bail_input!("--data tells known names from new ones, which only --novel and --json use; add one of them or drop --data");
        }
        let model = bigram::checkpoint::read(&self.model, &ctx.cancel)?.model;
        let prefix = encode_word(&model, &self.prefix, "prefix")?;
        if prefix.len() as u64 > self.max_len {
            bail_input!("the prefix is longer than --max-len {}", self.max_len);
        }
        let mut known = match self.novel || ctx.printer.json {
            true => known_names_of(&model, &self.data, &ctx.cancel)?,
            false => None,
        };
        match (self.novel, &known) {
            (true, None) => bail_input!("--novel needs the training data, and the checkpoint's data file is gone or changed; pass --data PATH"),
            (false, None) if ctx.printer.json => ctx.printer.note("no in_data: the checkpoint's data file is gone or changed; pass --data PATH to say which names it holds"),
            _ => {}
        }
        // One set of known names, which may be the whole data: the filter's when --novel.
        let exclude = known.take_if(|_| self.novel);
        let filter = Filter {
            prefix,
            min_len: self.min_len as usize,
            max_len: self.max_len as usize,
            exclude,
            distinct: self.novel,
            max_attempts: self.max_attempts as usize,
        };
        let shaping = Shaping {
            temperature: self.temperature,
            top_k: self.top_k.map(|k| k as usize),
        };
        let kind = self.fast.then_some(SamplerKind::Fast);
        let kind = kind.unwrap_or(self.sampler);
        let scorer = ctx
            .printer
            .json
            .then(|| Scorer::new(&model, None))
            .transpose()?;
        let mut stream = ctx.printer.stream();
        // Names are written as they are drawn: any -n works in constant memory (but --novel's set).
        let mut emit = |name: String| -> anyhow::Result<()> {
            let score = scorer.as_ref().map(|s| s.score(&name)).transpose()?;
            let log_prob = score.map_or(0.0, |s| s.log_prob);
            let known = filter.exclude.as_ref().or(known.as_ref());
            let in_data = known.map(|k| k.contains(&name));
            stream.item(&Drawn {
                name,
                log_prob,
                in_data,
                sampler: kind.name(),
            })
        };
        let mut sampler = sampler(&model, kind, shaping, self.seed)?;
        generate_each(
            &mut sampler,
            self.n as usize,
            &filter,
            &ctx.cancel,
            &mut emit,
        )?;
        stream.finish()
    }
}
