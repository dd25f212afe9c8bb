//! The epoch progress bar on stderr, shown only on a terminal and without `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};
use std::io::IsTerminal;

/// A bar over the epochs of one training run, cleared when dropped.
pub struct EpochBar(ProgressBar);

impl EpochBar {
    /// A bar for `epochs` epochs.
    pub fn new(epochs: u64, quiet: bool) -> Self {
        let bar = ProgressBar::new(epochs).with_finish(ProgressFinish::AndClear);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} epoch {pos}/{len}  loss {msg}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if quiet || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self(bar)
    }

    /// Show that `epoch` ended with `loss` (a training run's epoch callback).
    pub fn update(&self, epoch: usize, loss: f64) -> bigram::Result<()> {
        self.0.set_position(epoch as u64);
        self.0.set_message(format!("{loss:.4}"));
        Ok(())
    }
}
