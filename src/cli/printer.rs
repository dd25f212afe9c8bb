//! The one printer: results to stdout as text or JSON (`--json`), notes and the epoch bar to
//! stderr unless `--quiet`. A reader that goes away (`bigram eval | head -0`) ends the output
//! normally: the write error becomes [`StdoutClosed`], which the command treats as success.
//! stderr that is closed or full loses its notes quietly and changes nothing else. A command
//! whose output file is stdout (`--out -`) prints its results on stderr instead
//! ([`Printer::deliver`]).

use bigram::io::{Destination, Output, Pending};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};
use serde::Serialize;
use std::io::{BufWriter, IsTerminal, Write};

/// What a command reports: serialisable for `--json`, and readable as text.
pub trait Report: Serialize {
    /// The text a person reads (ends with a newline, or is empty).
    fn render(&self) -> String;
}

/// stdout was closed by its reader: the end of the output, not a failure.
#[derive(Debug, thiserror::Error)]
#[error("stdout was closed")]
pub struct StdoutClosed;

/// Where results and notes go.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    /// Results are JSON (`--json`).
    pub json: bool,
    /// Notes are silenced (`--quiet`).
    pub quiet: bool,
    /// Results go to stderr: stdout carries an output file.
    results_on_stderr: bool,
}

impl Printer {
    pub fn new(json: bool, quiet: bool) -> Self {
        Self {
            json,
            quiet,
            results_on_stderr: false,
        }
    }

    /// Print one report: one JSON object, or its text.
    pub fn print(&self, report: &impl Report) -> anyhow::Result<()> {
        let mut stream = self.stream();
        stream.item(report)?;
        stream.finish()
    }

    /// Put the staged outputs in place and print the report, so that a command never saves
    /// what it could not report, nor reports what it could not write: an output on stdout is
    /// written first (the report then goes to stderr), the report next, the files last. When
    /// the report cannot be written (stdout full or failing) no file is put in place; a reader
    /// that went away is not a failure, and they are.
    pub fn deliver(&self, report: &impl Report, pending: Vec<Pending>) -> anyhow::Result<()> {
        let (to_stdout, files): (Vec<Pending>, Vec<Pending>) =
            (pending.into_iter()).partition(|output| matches!(output, Pending::Stdout(_)));
        for output in &files {
            output.check()?;
        }
        // An output given as `-` takes stdout, even when stdout is the null device.
        let dash = |output: &Pending| matches!(output, Pending::Discard { dash: true });
        let printer = Self {
            results_on_stderr: !to_stdout.is_empty() || files.iter().any(dash),
            ..*self
        };
        for output in to_stdout {
            output.commit()?;
        }
        let printed = printer.print(report);
        if let Err(e) = &printed {
            if !e.is::<StdoutClosed>() {
                anyhow::bail!("{e:#}; nothing was saved");
            }
        }
        for output in files {
            output.commit()?;
        }
        printed
    }

    /// A stream of items written as they come: JSON lines, or each item's text.
    pub fn stream(&self) -> Stream {
        // On stderr, a report is a note that --quiet silences, unless it was asked for as JSON.
        let target = match (self.results_on_stderr, self.quiet && !self.json) {
            (false, _) => Target::Stdout(BufWriter::new(std::io::stdout().lock())),
            (true, false) => Target::Stderr,
            (true, true) => Target::Nowhere,
        };
        Stream {
            target,
            json: self.json,
        }
    }

    /// A line of progress or summary on stderr (silenced by `--quiet`).
    pub fn note(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            to_stderr(&format!("{line}\n"));
        }
    }

    /// A bar over a training run's epochs on stderr, shown only on a terminal and without
    /// `--quiet`, cleared when dropped.
    pub fn epoch_bar(&self, epochs: u64) -> ProgressBar {
        let bar = ProgressBar::new(epochs).with_finish(ProgressFinish::AndClear);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} epoch {pos}/{len}  loss {msg}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if self.quiet || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar
    }
}

/// What became of an output, as a report says it: `saved model.safetensors`, `wrote it to
/// stdout`, `kept nothing (--out /dev/null)`.
pub fn outcome(output: &Output) -> String {
    match &output.destination {
        Destination::File(_) => format!("saved {}", output.given.display()),
        Destination::Stdout => "wrote it to stdout".to_string(),
        Destination::Discard => {
            format!("kept nothing ({} {})", output.flag, output.given.display())
        }
    }
}

/// Where an output went, in a path or a word: the path given, `stdout`, `nowhere (/dev/null)`.
pub fn shown(output: &Output) -> String {
    match &output.destination {
        Destination::File(_) => output.given.display().to_string(),
        Destination::Stdout => "stdout".to_string(),
        Destination::Discard => format!("nowhere ({})", output.given.display()),
    }
}

/// Write to stderr, losing the text when stderr is closed or full: a message nobody can read
/// is no reason to fail, nor to panic.
pub fn to_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Items on stdout (buffered), or on stderr.
pub struct Stream {
    target: Target,
    json: bool,
}

enum Target {
    Stdout(BufWriter<std::io::StdoutLock<'static>>),
    Stderr,
    Nowhere,
}

impl Stream {
    pub fn item(&mut self, item: &impl Report) -> anyhow::Result<()> {
        let text = match self.json {
            true => serde_json::to_string(item)? + "\n",
            false => item.render(),
        };
        self.text(&text)
    }

    /// Write raw text (a header line).
    pub fn text(&mut self, text: &str) -> anyhow::Result<()> {
        match &mut self.target {
            Target::Stdout(out) => out.write_all(text.as_bytes()).map_err(closed_or),
            Target::Stderr => {
                to_stderr(text);
                Ok(())
            }
            Target::Nowhere => Ok(()),
        }
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        match &mut self.target {
            Target::Stdout(out) => out.flush().map_err(closed_or),
            _ => Ok(()),
        }
    }
}

fn closed_or(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        anyhow::Error::new(StdoutClosed)
    } else {
        anyhow::Error::new(e).context("writing to stdout")
    }
}
