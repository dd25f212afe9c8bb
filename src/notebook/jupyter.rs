//! What Jupyter does around the cells: it keeps what each cell shows (its printed values and
//! its `Out[n]`), written as PyTorch and Python write them (`crate::pyrepr`), and, for the
//! figures the replay reports, the tensors shown. It also holds the plumbing the notebook does
//! not have: the device the tensors live on, the seeded CPU generator that draws them, and the
//! check that the data is large enough for the cells and small enough for X one-hot.

use crate::data::{labels, Source};
use crate::device::with_cpu_seed;
use crate::error::{DataError, Error, Result};
use crate::pyrepr::tensor_repr;
use crate::train::check_one_hot_size;
use serde::Serialize;
use tch::kind::FLOAT_CPU;
use tch::{Device, Tensor};

/// One value a cell shows, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shown {
    /// The cell's number, `In [n]`.
    pub cell: u32,
    /// Our words before the value; empty for a cell's `Out[n]` (its last expression).
    pub label: String,
    /// The value as the notebook shows it: a tensor's repr, a list, a percentage...
    pub text: String,
}

/// The cells' surroundings: where tensors go, and what the cells have shown so far.
pub struct Jupyter {
    /// The device the notebook's tensors live on.
    pub device: Device,
    shown: Vec<Shown>,
    /// The tensor behind each shown value, where there is one (for the figures).
    tensors: Vec<Option<Tensor>>,
}

impl Jupyter {
    /// Cells to come, their tensors on `device`.
    pub fn new(device: Device) -> Self {
        Self {
            device,
            shown: Vec::new(),
            tensors: Vec::new(),
        }
    }

    /// `print(f"...{value}")` in cell `cell`: a value that is not a tensor, already written
    /// as Python writes it.
    pub fn print(&mut self, cell: u32, label: &str, text: impl Into<String>) {
        self.keep(cell, label, text.into(), None);
    }

    /// A tensor the cell shows: `print(t)` after `label`, or its `Out[n]` for an empty label.
    pub fn show(&mut self, cell: u32, label: &str, t: &Tensor) -> Result<()> {
        let text = tensor_repr(t)?;
        // A view (X_enc[:5]) is copied, so that it does not hold on to all of its base.
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

    /// `torch.randn(shape, generator=torch.Generator().manual_seed(seed))`: drawn on the CPU,
    /// as the notebook draws it, then moved to the device.
    pub fn randn(&self, seed: i64, shape: [i64; 2]) -> Result<Tensor> {
        let drawn = with_cpu_seed(seed, || Tensor::randn(shape, FLOAT_CPU));
        Ok(drawn.f_to_device(self.device)?)
    }

    /// A tensor made in a cell, moved to the device.
    pub fn to_device(&self, t: Tensor) -> Result<Tensor> {
        Ok(t.f_to_device(self.device)?)
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
            .ok_or_else(|| Error::Internal(format!("In [{cell}] showed no tensor number {k}")))
    }

    /// Lets go of the tensors shown so far (what is shown stays).
    pub fn forget_tensors(&mut self) {
        self.tensors.iter_mut().for_each(|t| *t = None);
    }

    /// What the cells showed, in order.
    pub fn into_shown(self) -> Vec<Shown> {
        self.shown
    }
}

/// The cells show the first 10 examples, and X one-hot must fit in memory.
pub fn check_size(names: &[String], sources: &[Source]) -> Result<()> {
    let bigrams: usize = names.iter().map(|name| name.len() + 1).sum();
    if bigrams < 10 {
        let need =
            "the notebook replay shows the first 10 examples and needs at least that many bigrams";
        let path = labels(sources);
        return Err(DataError::TooSmall {
            path,
            need: need.into(),
        }
        .into());
    }
    check_one_hot_size(bigrams, 27)?;
    // Its one-hot tensors, as the onehot method's, must fit in what is left.
    let need = crate::train::tensor_bytes(crate::train::Method::OneHot, bigrams as u64, 27, 27);
    crate::memory::check(need, crate::memory::Use::Notebook)
}
