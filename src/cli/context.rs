//! What every command runs with ([`Context`]) and what the dispatcher asks of its flags
//! ([`Run`]): the two things a command file takes from the CLI around it.

use super::printer::Printer;
use bigram::cancel::Cancel;

/// A command's flags, as the dispatcher sees them: what it reads, checked before running, and
/// the run itself.
pub trait Run {
    /// Everything it reads, which no output of it may replace, stdout and stderr included.
    fn inputs(&self) -> Vec<bigram::io::Source>;
    /// Flags → options → one library call → report.
    fn run(self, ctx: &Context) -> anyhow::Result<()>;
}

/// What every command runs with.
pub struct Context {
    /// The whole command line's clap description (for completion scripts).
    pub cli: fn() -> clap::Command,
    /// libtorch's intra-op thread count, already set.
    pub threads: i32,
    pub printer: Printer,
    /// Raised by Ctrl-C or SIGTERM.
    pub cancel: Cancel,
}

impl Context {
    /// What a command read: the data's summary line, and the split's.
    pub fn note_data(&self, data: &bigram::dataset::Dataset) {
        self.printer.note(&data.summary);
        if let Some(line) = data.split_summary() {
            self.printer.note(line);
        }
    }
}
