//! `bigram completions SHELL`: a completion script for bash, zsh, fish, elvish or PowerShell.

use super::Context;
use bigram::io::Source;
use clap::Args;
use clap_complete::Shell;

#[derive(Debug, Args)]
#[command(after_help = "Install, for example:\n  \
bash: bigram completions bash > ~/.local/share/bash-completion/completions/bigram\n  \
zsh:  bigram completions zsh > ~/.zfunc/_bigram   (with ~/.zfunc in $fpath)\n  \
fish: bigram completions fish > ~/.config/fish/completions/bigram.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    shell: Shell,
}

impl super::Run for CompletionsArgs {
    fn inputs(&self) -> Vec<Source> {
        Vec::new()
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut (ctx.cli)(), "bigram", &mut script);
        let mut stream = ctx.printer.stream();
        stream.text(&String::from_utf8_lossy(&script))?;
        stream.finish()
    }
}
