//! What the cells of `notebook.rs` need and the notebook does not have: the names read and
//! checked (In [1]'s `open("names.txt")`), and each epoch's loss kept with a Ctrl-C check
//! ([`Losses`]). `replay()`, in `notebook.rs`, runs the cells with them.

use crate::cancel::Cancel;
use crate::data::{labels, read_names, ReadOptions, Source};
use crate::error::Result;
use crate::train::check_one_hot_size;
use tch::Tensor;

/// Each epoch's loss of a training cell, kept for the figures and parity, and the place where
/// Ctrl-C ends the replay.
pub struct Losses<'a> {
    cell: u32,
    cancel: &'a Cancel,
    losses: Vec<f64>,
}

impl<'a> Losses<'a> {
    pub fn new(cell: u32, cancel: &'a Cancel) -> Self {
        Self {
            cell,
            cancel,
            losses: Vec::new(),
        }
    }

    /// Keeps `loss.item()`, then returns an error, which ends the replay, if Ctrl-C was pressed.
    pub fn record(&mut self, loss: &Tensor) -> Result<()> {
        self.losses.push(loss.f_double_value(&[])?);
        let (epoch, cell) = (self.losses.len(), self.cell);
        self.cancel
            .check(|| format!("after epoch {epoch} of In [{cell}]"))
    }

    /// Whether a loss kept was not finite: the training diverged.
    pub fn diverged(&self) -> bool {
        self.losses.iter().any(|loss| !loss.is_finite())
    }
}

impl From<Losses<'_>> for Vec<f64> {
    fn from(losses: Losses<'_>) -> Self {
        losses.losses
    }
}

/// The names of `sources`, read by the library (each checked to be a–z only; reading stops
/// once `cancel` is raised), and enough of them for the cells but not too many for memory.
pub fn names(sources: &[Source], cancel: &Cancel) -> Result<Vec<String>> {
    let options = ReadOptions {
        cancel: cancel.clone(),
        ..ReadOptions::default()
    };
    let names = read_names(sources, &options)?;
    // The cells show the first 10 examples, and X one-hot must fit in memory.
    let bigrams: usize = names.iter().map(|name| name.len() + 1).sum();
    if bigrams < 10 {
        crate::bail_input!(
            "{}: the notebook replay shows the first 10 examples and needs at least that many bigrams",
            labels(sources)
        );
    }
    check_one_hot_size(bigrams, 27)?;
    // Its one-hot tensors, as the onehot method's, must fit in what is left.
    let need = crate::train::tensor_bytes(crate::train::Method::OneHot, bigrams as u64, 27, 27);
    let what = "the notebook replay's examples and their one-hot encoding";
    let advice = "replay the notebook on fewer names (`head -n 100000 FILE > part.txt`)";
    crate::memory::check(need, what, advice)?;
    Ok(names)
}
