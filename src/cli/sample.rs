//! `bigram sample`: names from a checkpoint, written as they are drawn.

use super::advice::usage;
use super::printer::Report;
use super::Context;
use bigram::data::Source;
use bigram::eval::{known_names, read_options_for, training_data_of, Scorer};
use bigram::sample::{encode_word, generate_each, with_sampler, Filter, SamplerKind, Shaping};
use clap::{Args, ValueEnum};
use serde::Serialize;
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
    /// Longest name in characters; a name that has not ended by then is cut there.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Sampling")]
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
    #[arg(long, value_enum, default_value_t = Sampler::Torch, help_heading = "Sampling")]
    sampler: Sampler,
    /// The same as --sampler fast.
    #[arg(long, conflicts_with = "sampler", help_heading = "Sampling")]
    fast: bool,
    /// Data that tells known names from new ones, for --novel and for `in_data` with --json
    /// (default: the checkpoint's training data, when it is still there unchanged).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    data: Vec<Source>,
}

/// The samplers, as `--sampler` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Sampler {
    /// PyTorch 2.7 and later (2.13 checked): torch.multinomial(p, 1) from the same seed
    Torch,
    /// PyTorch 2.0 to 2.6 on x86 (2.6.0 checked): the names most learners of the lecture got
    #[value(name = "torch-2.0")]
    Torch20,
    /// PyTorch before 2.0 (1.13 and earlier, the makemore lecture's names): the cumulative draw
    #[value(name = "torch-1.13")]
    Torch113,
    /// no PyTorch: plain Rust, far faster, other names than PyTorch's
    Fast,
}

impl From<Sampler> for SamplerKind {
    fn from(sampler: Sampler) -> Self {
        match sampler {
            Sampler::Torch => SamplerKind::Torch,
            Sampler::Torch20 => SamplerKind::Torch20,
            Sampler::Torch113 => SamplerKind::Torch113,
            Sampler::Fast => SamplerKind::Fast,
        }
    }
}

/// One name drawn.
#[derive(Serialize)]
struct Drawn {
    name: String,
    log_prob: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_data: Option<bool>,
    sampler: &'static str,
}

impl Report for Drawn {
    fn render(&self) -> String {
        format!("{}\n", self.name)
    }
}

pub fn run(args: SampleArgs, ctx: &Context) -> anyhow::Result<()> {
    if args.min_len > args.max_len {
        usage!(
            "--min-len {} is above --max-len {}",
            args.min_len,
            args.max_len
        );
    }
    let json = ctx.printer.json();
    if !args.data.is_empty() && !args.novel && !json {
        usage!("--data tells known names from new ones, which only --novel and --json use; add one of them or drop --data");
    }
    let model = bigram::checkpoint::read(&args.model, &ctx.cancel)?.model;
    let prefix = encode_word(&model, &args.prefix, "prefix")?;
    if prefix.len() as u64 > args.max_len {
        usage!("the prefix is longer than --max-len {}", args.max_len);
    }
    let known = if args.novel || json {
        // Finding the training data means checksumming it: only when it is used.
        let data = match args.data.is_empty() {
            true => training_data_of(&model, &ctx.cancel)?,
            false => Some(args.data.clone()),
        };
        match data {
            Some(data) => Some(known_names(&model, &data, &read_options_for(&model, ctx.cancel.clone()))?),
            None if args.novel => usage!(
                "--novel needs the training data, and the checkpoint's data file is gone or changed; pass --data PATH"
            ),
            None => None,
        }
    } else {
        None
    };
    let filter = Filter {
        prefix,
        min_len: args.min_len as usize,
        max_len: args.max_len as usize,
        exclude: if args.novel { known.clone() } else { None },
        distinct: args.novel,
        max_attempts: args.max_attempts as usize,
    };
    let shaping = Shaping {
        temperature: args.temperature,
        top_k: args.top_k.map(|k| k as usize),
    };
    let kind = match args.fast {
        true => SamplerKind::Fast,
        false => SamplerKind::from(args.sampler),
    };
    let scorer = json.then(|| Scorer::new(&model, None)).transpose()?;
    let mut stream = ctx.printer.stream();
    // Names are written as they are drawn: any -n works in constant memory.
    let mut emit = |name: String| -> anyhow::Result<()> {
        let log_prob = match &scorer {
            Some(scorer) => scorer.log_prob(&encode_word(&model, &name, "name")?),
            None => 0.0,
        };
        let in_data = known.as_ref().map(|k| k.contains(&name));
        stream.item(&Drawn {
            name,
            log_prob,
            in_data,
            sampler: kind.name(),
        })
    };
    let n = args.n as usize;
    with_sampler(&model, kind, shaping, args.seed, |sampler| {
        generate_each(sampler, n, &filter, &ctx.cancel, &mut emit)
    })?;
    stream.finish()
}
