//! The `bigram` binary: the command line over the `bigram` library.

mod cli;

fn main() {
    bigram::device::tune_allocator();
    std::process::exit(cli::main());
}
