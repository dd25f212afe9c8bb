//! What Jupyter does around the cells, and only that: it keeps what each cell shows (its
//! printed values and its `Out[n]`), written as PyTorch and Python write them
//! (`crate::pyrepr`), and, for the figures the replay reports, the tensors shown. Reading and
//! checking the data and the losses kept are `plumbing.rs`'s.

use crate::error::{Error, Result};
use crate::pyrepr::tensor_repr;
use serde::Serialize;
use tch::Tensor;

/// One value a cell shows, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shown {
    /// The cell's number, `In [n]`.
    pub cell: u32,
    /// Our words before the value; empty for a value shown alone: a cell's `Out[n]` (its last
    /// expression) or a bare `print(x)`.
    pub label: String,
    /// The value as the notebook shows it: a tensor's repr, a list, a percentage...
    pub text: String,
}

/// Jupyter's display: what the cells have shown so far.
#[derive(Default)]
pub struct Jupyter {
    shown: Vec<Shown>,
    /// The words-only print()s: the cell and the words.
    said: Vec<(u32, String)>,
    /// The tensor behind each shown value, where there is one (for the figures).
    tensors: Vec<Option<Tensor>>,
}

impl Jupyter {
    pub fn new() -> Self {
        Self::default()
    }

    /// `print(f"...{value}")` in cell `cell`, or with an empty label the cell's `Out[n]` or a bare
    /// `print(value)`: a value that is not a tensor, already written as Python writes it.
    pub fn print(&mut self, cell: u32, label: &str, text: impl Into<String>) {
        self.keep(cell, label, text.into(), None);
    }

    /// `print("...")` in cell `cell`, of words only (ours): printed before the cell's values,
    /// and not a value (parity compares the values).
    pub fn say(&mut self, cell: u32, words: &str) {
        self.said.push((cell, words.into()));
    }

    /// A tensor the cell shows after `label`; with an empty label, alone: the cell's `Out[n]`
    /// or a bare `print(t)`.
    pub fn show(&mut self, cell: u32, label: &str, t: &Tensor) -> Result<()> {
        let text = tensor_repr(t)?;
        // A small value, such as the view X_enc[:5], is copied, so that it does not hold on to
        // all of its base; a big one is shared, until forget_tensors.
        let kept = if t.numel() <= 1000 {
            t.detach().copy()
        } else {
            t.shallow_clone()
        };
        self.keep(cell, label, text, Some(kept));
        Ok(())
    }

    /// `print(f"{p * 100:.2f}%")`: a probability as the notebook's f-strings show it (the
    /// product in float32, then formatted as a Python float).
    pub fn percent(&mut self, cell: u32, label: &str, p: &Tensor) -> Result<()> {
        let text = format!("{:.2}%", (p * 100.0).f_double_value(&[])?);
        self.keep(cell, label, text, Some(p.shallow_clone()));
        Ok(())
    }

    fn keep(&mut self, cell: u32, label: &str, text: String, tensor: Option<Tensor>) {
        self.shown.push(Shown {
            cell,
            label: label.into(),
            text,
        });
        self.tensors.push(tensor);
    }

    /// The `k`-th tensor cell `cell` showed.
    pub fn tensor(&self, cell: u32, k: usize) -> Result<&Tensor> {
        let of_cell = self.shown.iter().zip(&self.tensors);
        let mut tensors = of_cell
            .filter(|(s, _)| s.cell == cell)
            .filter_map(|(_, t)| t.as_ref());
        tensors
            .nth(k)
            .ok_or_else(|| Error::Failed(format!("In [{cell}] showed no tensor number {k}")))
    }

    /// The texts cell `cell` showed, in order.
    pub fn texts(&self, cell: u32) -> impl Iterator<Item = &str> {
        let of_cell = self.shown.iter().filter(move |s| s.cell == cell);
        of_cell.map(|s| s.text.as_str())
    }

    /// Lets go of the tensors shown so far (what is shown stays).
    pub fn forget_tensors(&mut self) {
        self.tensors.iter_mut().for_each(|t| *t = None);
    }

    pub fn into_shown(self) -> (Vec<Shown>, Vec<(u32, String)>) {
        (self.shown, self.said)
    }
}
