//! `bigram score`: log-probability, NLL per bigram and rank of names under a checkpoint.

use super::printer::Report;
use super::Context;
use bigram::bail_input;
use bigram::eval::{known_names_of, Score, Scorer};
use bigram::io::{Source, WatchedRead};
use clap::Args;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Checkpoint to score with.
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    model: PathBuf,
    /// Names to score; with none, names are read from stdin, one per line.
    names: Vec<String>,
    /// Data to rank the names against (default: the checkpoint's training data).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    data: Vec<Source>,
}

impl Report for Score {
    fn render(&self) -> String {
        let rank = self.rank.map_or_else(|| "-".into(), |r| r.to_string());
        format!(
            "{:<20} {:>10.4} {:>12.4} {rank:>8}\n",
            self.name, self.log_prob, self.nll_per_bigram
        )
    }
}

impl super::Run for ScoreArgs {
    fn inputs(&self) -> Vec<Source> {
        let mut inputs = vec![Source::File(self.model.clone())];
        inputs.extend(self.data.iter().cloned());
        if self.names.is_empty() {
            inputs.push(Source::Stdin);
        }
        inputs
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.names.is_empty() {
            // `--data` takes every word after it: names written after it became data files.
            let swallowed = self
                .data
                .iter()
                .filter_map(Source::path)
                .find(|p| !p.exists());
            if let Some(path) = swallowed {
                bail_input!(
                    "{} is not a file: `--data` takes every word after it as a data file; give the names before --data (bigram score emma --data names.txt)",
                    path.display()
                );
            }
            if self.data.contains(&Source::Stdin) {
                bail_input!("stdin cannot give both the names and the data; give the names as arguments with --data -");
            }
        }
        if self.names.iter().any(|n| n.trim().is_empty()) {
            bail_input!(
                "an empty name has nothing to score: give names with at least one character"
            );
        }
        let model = bigram::checkpoint::read(&self.model, &ctx.cancel)?.model;
        let names = if self.names.is_empty() {
            read_stdin_names(ctx)?
        } else {
            self.names.clone()
        };
        let known = known_names_of(&model, &self.data, &ctx.cancel)?;
        if known.is_none() {
            ctx.printer.note("no rank: the checkpoint's data file is gone or changed; pass --data PATH to rank among its names");
        }
        let scorer = Scorer::new(&model, known.as_ref())?;
        // Every name is checked before the first line is written.
        let scores: Vec<Score> = names
            .iter()
            .map(|name| scorer.score(name))
            .collect::<bigram::Result<_>>()?;
        let mut stream = ctx.printer.stream();
        if !ctx.printer.json {
            let of = scorer
                .ranked_among()
                .map(|n| format!(" (of {n})"))
                .unwrap_or_default();
            let rank = format!("rank{of}");
            stream.text(&format!(
                "{:<20} {:>10} {:>12} {rank:>8}\n",
                "name", "log p", "nll/bigram"
            ))?;
        }
        for score in &scores {
            stream.item(score)?;
        }
        stream.finish()
    }
}

/// Names from stdin, one per line. On a terminal, say so first rather than wait in silence.
fn read_stdin_names(ctx: &Context) -> anyhow::Result<Vec<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        if ctx.printer.quiet {
            bail_input!("give names to score, or pipe them in, one per line");
        }
        ctx.printer.note(
            "reading names from stdin, one per line; end with Ctrl-D (or give names as arguments)",
        );
    }
    let mut names = Vec::new();
    // Watched: Ctrl-C at a quiet terminal or pipe stops the read, not only the next line.
    let lines = BufReader::new(WatchedRead::new(stdin, ctx.cancel.clone())).lines();
    for line in lines {
        ctx.cancel.check(|| "while reading stdin".into())?;
        let line =
            line.map_err(|e| bigram::io::read_failed(&ctx.cancel, "data file", "stdin", e))?;
        let name = line.trim();
        if !name.is_empty() {
            names.push(name.to_string());
        }
    }
    // Nothing to score is bad input, as an empty data file is for eval and count.
    if names.is_empty() {
        return Err(bigram::data::no_names("stdin").into());
    }
    Ok(names)
}
