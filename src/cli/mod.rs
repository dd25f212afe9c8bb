//! The command line: flags declared with clap, one file per command, one printer, and the one
//! place that turns an error into a message and an exit code. Each command file declares its
//! flags, turns them into the library's options, calls the library, and hands a report to the
//! printer.

mod args;
mod context;
mod printer;
mod signals;
mod split;
mod version;

// The command files, declared here rather than by `commands!` so that rustfmt reaches them.
mod completions;
mod count;
mod eval;
mod heatmap;
mod merge;
mod notebook;
mod parity;
mod sample;
mod score;
mod train;
mod tune;

use bigram::cancel::Cancel;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
pub use context::{Context, Run};
use printer::{Printer, StdoutClosed};

/// Train a character-level bigram model of names with tch (libtorch), generate new names, and
/// check every number against PyTorch.
#[derive(Debug, Parser)]
#[command(name = "bigram", about, long_about = None, disable_version_flag = true)]
#[command(after_help = format!(
    "Start with `bigram train`, then `bigram sample`. {}",
    bigram::error::EXIT_CODES
))]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// Print the version, the libtorch this binary runs on, whether it sees CUDA, and the
    /// default thread count.
    #[arg(short = 'V', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The largest `--threads`: above the cores of any machine bigram runs on, and small enough
/// that OpenMP's per-thread buffers and the counting threads can always be made.
const MAX_THREADS: i64 = 1024;

/// Flags every command takes.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// libtorch intra-op threads for every tensor operation (default: libtorch's choice, the
    /// cores this process may use, or fewer when OMP_NUM_THREADS or MKL_NUM_THREADS says so).
    /// Exact results hold for one thread count: reductions split over a different number of
    /// threads add in a different order. At most 1024.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=MAX_THREADS))]
    threads: Option<i32>,
    /// Print results as JSON (one object, or one per line for lists of names).
    #[arg(long, global = true)]
    json: bool,
    /// Print no progress or summary on stderr; errors still print.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
}

/// The commands: each is a file of src/cli/ (its module, declared above) whose flags implement
/// [`Run`], and one line here. The doc comment is its line in `bigram --help`.
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($module:ident::$args:ident),)*) => {
        #[derive(Debug, Subcommand)]
        enum Command {
            $($(#[$doc])* $variant($module::$args),)*
        }

        impl Command {
            fn inputs(&self) -> Vec<bigram::io::Source> {
                match self {
                    $(Command::$variant(args) => args.inputs(),)*
                }
            }

            fn run(self, ctx: &Context) -> anyhow::Result<()> {
                match self {
                    $(Command::$variant(args) => args.run(ctx),)*
                }
            }
        }
    };
}

commands! {
    /// Replay the original notebook cell by cell and print what each cell prints.
    Notebook(notebook::NotebookArgs),
    /// Train the one-layer network by full-batch gradient descent and save a checkpoint.
    Train(train::TrainArgs),
    /// Build the count model, P = (N + smoothing) / row sums, and save it as a checkpoint.
    Count(count::CountArgs),
    /// Generate names from a checkpoint (network or count model).
    Sample(sample::SampleArgs),
    /// Mean negative log likelihood of a data file's bigrams under a checkpoint.
    Eval(eval::EvalArgs),
    /// Log-probability of names under a checkpoint, and their rank among the data's names.
    Score(score::ScoreArgs),
    /// Run a PyTorch reference and the same steps in Rust; compare every quantity.
    Parity(parity::ParityArgs),
    /// Try several regularisations (or smoothings) and pick the best on held-out names.
    Tune(tune::TuneArgs),
    /// Draw the bigram counts (or a bigram model's probabilities) as a PNG heatmap.
    Heatmap(heatmap::HeatmapArgs),
    /// Add up the counts of count checkpoints: pieces of a corpus become its count model.
    Merge(merge::MergeArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
}

/// Parse the command line, run one command, and return the exit code.
pub fn main() -> i32 {
    // Before anything else, so that an interrupt at any point is seen.
    let cancel = match signals::install() {
        Ok(cancel) => cancel,
        Err(e) => {
            report_error(&format!("cannot install signal handlers: {e}"));
            return 1;
        }
    };
    let parsed = Cli::command().try_get_matches();
    let (cli, matches) = match parsed.and_then(|m| Ok((Cli::from_arg_matches(&m)?, m))) {
        Ok(parsed) => parsed,
        Err(e) => return parse_failed(&e),
    };
    let Some(command) = cli.command.filter(|_| !cli.version) else {
        if !cli.version {
            report_error(&format!(
                "no command given\n\n{}",
                Cli::command().render_help()
            ));
            return 2;
        }
        let ctx = context(&cli.global, cancel);
        return exit_code(version::run(&ctx), &ctx.cancel);
    };
    // Before any tensor operation: libtorch asks once which devices exist. Any command with
    // the shared `--device` flag (args::DeviceArg) has it, by its id.
    let device = matches
        .subcommand()
        .and_then(|(_, m)| m.try_get_one("device").ok()?);
    // Any spec but `cpu` could name a CUDA device.
    if device.is_some_and(|spec: &String| !spec.trim().eq_ignore_ascii_case("cpu")) {
        // A failure is reported where the device is parsed.
        let _ = bigram::device::load_cuda_backend();
    }
    let ctx = context(&cli.global, cancel);
    if let Err(e) = bigram::memory::check_threads(ctx.threads as usize) {
        report_error(&e.to_string());
        return e.exit_code();
    }
    // Before any tensor operation: the count decides how reductions split, hence the bits.
    // Setting it also stops oneMKL from choosing fewer threads on its own (its dynamic mode).
    tch::set_num_threads(ctx.threads);
    // Before any work, for every command: stdout or stderr redirected onto a file it reads.
    if let Err(e) = bigram::io::check_streams(&command.inputs()) {
        // With stderr on an input, even the message would change it: the exit code says it.
        if !matches!(e, bigram::Error::StderrIsInput { .. }) {
            report_error(&e.to_string());
        }
        return e.exit_code();
    }
    exit_code(command.run(&ctx), &ctx.cancel)
}

/// The exit code of a run (a command, or `--version`), its error printed.
fn exit_code(result: anyhow::Result<()>, cancel: &Cancel) -> i32 {
    let Err(e) = result else { return 0 };
    // The reader of stdout went away: the output simply ends there.
    if e.is::<StdoutClosed>() {
        return 0;
    }
    let error = e.downcast_ref::<bigram::Error>();
    // What the user reads: the library's message (which says what to do), or the chain of a
    // failure of the command line itself.
    let message = error.map_or_else(|| format!("{e:#}"), ToString::to_string);
    match cancel.reason() {
        // Whatever failed once an interrupt arrived (a child killed by the same Ctrl-C, an
        // epoch that stopped) failed because of it.
        Some(signal) => {
            let stopped = matches!(error, Some(bigram::Error::Interrupted { .. }));
            report_error(if stopped { &message } else { "interrupted" });
            128 + signal as i32
        }
        None => {
            report_error(&message);
            error.map_or(1, bigram::Error::exit_code)
        }
    }
}

/// Help, the version, or a usage error, printed as clap prints them; help that cannot be
/// written (`--help > /dev/full`) fails as every other output does, with exit 1.
fn parse_failed(e: &clap::Error) -> i32 {
    use std::io::Write;
    let printed = e.print().and_then(|()| std::io::stdout().flush());
    match printed {
        // The reader went away (`--help | head -1`): the output simply ends there.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => e.exit_code(),
        Err(err) if !e.use_stderr() => {
            report_error(&format!("writing to stdout: {err}"));
            1
        }
        _ => e.exit_code(),
    }
}

/// The one line an error gets on stderr (lost, not fatal, when stderr is closed or full).
fn report_error(message: &str) {
    printer::to_stderr(&format!("error: {message}\n"));
}

/// What a command (or `--version`) runs with: `--threads`, or libtorch's default count.
fn context(global: &GlobalArgs, cancel: Cancel) -> Context {
    Context {
        cli: Cli::command,
        threads: global.threads.unwrap_or_else(tch::get_num_threads),
        printer: Printer::new(global.json, global.quiet),
        cancel,
    }
}
