//! The `bigram` binary: parse the command line, run one command, pick the exit code.

fn main() {
    bigram::device::tune_allocator();
    let cli = <bigram::cli::Cli as clap::Parser>::parse();
    if let Err(err) = bigram::cli::run(cli) {
        eprintln!("error: {err:#}");
        std::process::exit(bigram::error::exit_code(&err));
    }
}
