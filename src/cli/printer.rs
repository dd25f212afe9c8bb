//! The one printer: results to stdout as text or JSON (`--json`), notes to stderr unless
//! `--quiet`. A reader that goes away (`bigram eval | head -0`) ends the output normally: the
//! write error becomes [`StdoutClosed`], which the command treats as success.

use serde::Serialize;
use std::io::{BufWriter, StdoutLock, Write};

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
    json: bool,
    quiet: bool,
}

impl Printer {
    /// A printer for `--json` and `--quiet`.
    pub fn new(json: bool, quiet: bool) -> Self {
        Self { json, quiet }
    }

    /// Whether results are JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Whether notes are silenced.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Print one report: one JSON object, or its text.
    pub fn print(&self, report: &impl Report) -> anyhow::Result<()> {
        let mut stream = self.stream();
        stream.item(report)?;
        stream.finish()
    }

    /// A stream of items written as they come: JSON lines, or each item's text.
    pub fn stream(&self) -> Stream {
        Stream {
            out: BufWriter::new(std::io::stdout().lock()),
            json: self.json,
        }
    }

    /// A line of progress or summary on stderr (silenced by `--quiet`).
    pub fn note(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

/// Items on stdout, buffered.
pub struct Stream {
    out: BufWriter<StdoutLock<'static>>,
    json: bool,
}

impl Stream {
    /// Write one item.
    pub fn item(&mut self, item: &impl Report) -> anyhow::Result<()> {
        let written = if self.json {
            serde_json::to_writer(&mut self.out, item)
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"))
        } else {
            self.out.write_all(item.render().as_bytes())
        };
        written.map_err(closed_or)
    }

    /// Write raw text (a header line).
    pub fn text(&mut self, text: &str) -> anyhow::Result<()> {
        self.out.write_all(text.as_bytes()).map_err(closed_or)
    }

    /// Flush what is buffered.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.out.flush().map_err(closed_or)
    }
}

fn closed_or(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        anyhow::Error::new(StdoutClosed)
    } else {
        anyhow::Error::new(e).context("writing to stdout")
    }
}
