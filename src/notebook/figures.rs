//! What the replay's cells show, as one record: the text ([`Replay::render`]), the JSON and
//! `parity --notebook` all read it, so the printing can change without weakening the checks.
//! Also the two ways a large tensor is shown: its corners and a digest of every element.

use super::jupyter::{Jupyter, Shown};
use crate::error::Result;
use crate::model::tensor_to_vec;
use crate::pyrepr::{dtype_name, edges};
use serde::Serialize;
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// A 6×6 summary of a large matrix: its first and last three rows and columns, as PyTorch
/// prints it.
pub type Corners = Vec<Vec<f32>>;

/// Everything the notebook prints.
#[derive(Debug, Serialize)]
pub struct Replay {
    /// In [1]..In [9]: the data.
    pub data: DataCells,
    /// In [10]..In [18]: the untrained layer.
    pub layer: LayerCells,
    /// In [19]..In [27]: one example, its gradient and one step.
    pub example: ExampleCells,
    /// In [40]..In [43]: full training.
    pub training: TrainingCells,
    /// In [44], In [45]: ours, past the notebook's TODO.
    pub continuation: Continuation,
    /// Every value the cells show, in order, as the notebook shows it.
    pub shown: Vec<Shown>,
    /// The cells' print()s of words only, ours (In [11], In [14]): each before its cell's values.
    #[serde(skip)]
    pub said: Vec<(u32, String)>,
}

/// In [44], In [45]: smoothing and generation, the cells that finish the notebook.
#[derive(Debug, Serialize)]
pub struct Continuation {
    /// In [44]: the loss of the last epoch (NLL plus the smoothing term), before its update.
    pub loss: f64,
    /// In [44]: the loss of every epoch.
    #[serde(skip)]
    pub losses: Vec<f64>,
    /// In [44]: the weights after the last update, row-major.
    #[serde(skip)]
    pub weights: Vec<f32>,
    /// In [45]: the names drawn.
    pub names: Vec<String>,
}

impl Continuation {
    pub(super) fn new(losses: Vec<f64>, W: &Tensor, jup: &Jupyter) -> Result<Self> {
        Ok(Self {
            loss: losses.last().copied().unwrap_or(f64::NAN),
            losses,
            weights: tensor_to_vec(W)?,
            names: jup.texts(45).map(str::to_owned).collect(),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct DataCells {
    /// In [1]: the first three names.
    pub first_names: Vec<String>,
    /// In [2]: the bigrams of 'emma', the name the notebook's cell writes out.
    pub first_bigrams: Vec<(char, char)>,
    /// In [4]/[5]: the characters in index order, as itos has them (stoi is the other direction).
    pub vocab: String,
    /// In [6]: number of examples.
    pub examples: usize,
    /// In [6]: X[:10].
    pub x_head: Vec<i64>,
    /// In [6]: y[:10].
    pub y_head: Vec<i64>,
    /// In [7]: the one-hot encoding of 'c'.
    pub c_enc: Vec<f32>,
    /// In [8]: the first five one-hot rows of X, as integers.
    pub x_enc_head: Vec<Vec<i64>>,
    /// In [9]: X_enc's dtype after `.float()`, as PyTorch names it.
    pub x_enc_dtype: String,
}

#[derive(Debug, Serialize)]
pub struct LayerCells {
    /// In [10]: the single neuron, 27×1 from seed 42.
    pub neuron: Vec<f32>,
    /// In [11]: c_enc @ neuron.
    pub c_dot_neuron: f32,
    /// In [13]: c_enc @ W, W 27×27 from seed 42 (row 3 of W).
    pub c_logits: Vec<f32>,
    /// In [15]: corners of X_enc @ W.
    pub logits: Corners,
    /// In [16]: corners of exp(logits).
    pub exp: Corners,
    /// In [17]: corners of the probabilities.
    pub probs: Corners,
    /// In [18]: the first and last three row sums of the probabilities.
    pub row_sums_ends: Vec<f32>,
    /// Every row sum (all 1 up to rounding).
    #[serde(skip)]
    pub row_sums: Vec<f32>,
    /// sha256 of every element of the matrices of In [15]..In [18].
    pub digests: Digests,
}

/// sha256 (hex) of the float32 bytes of the large matrices of In [15]..In [18].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Digests {
    pub logits: String,
    pub exp: String,
    pub probs: String,
    pub row_sums: String,
}

#[derive(Debug, Serialize)]
pub struct ExampleCells {
    /// In [19]: probabilities of the letter after 'c'.
    pub c_probs: Vec<f32>,
    /// In [20]: P('a' after 'c').
    pub p_a_after_c: f32,
    /// In [21]: -log P('a' after 'c').
    pub loss: f32,
    /// In [23]: the gradient's shape.
    pub grad_shape: Vec<i64>,
    /// In [24]: the full gradient, row-major.
    pub grad: Vec<f32>,
    /// In [27]: P('a' after 'c') after one step of 0.01.
    pub p_a_after_c_after_step: f32,
}

#[derive(Debug, Serialize)]
pub struct TrainingCells {
    /// In [43]: the loss `train()` returns with `W.data = -50 * W.grad` as written.
    pub loss_as_written: f64,
    /// The loss of the same 100 epochs with the intended `W.data += -50 * W.grad`.
    pub loss_gradient_descent: f64,
    /// The loss of every epoch as written, before its update (the last is `loss_as_written`):
    /// what the text says happened on this data.
    #[serde(skip)]
    pub as_written_by_epoch: Vec<f64>,
    /// The same for the intended update.
    #[serde(skip)]
    pub gradient_descent_by_epoch: Vec<f64>,
}

/// What In [1] … In [27] show, as figures.
pub(super) type Demonstration = (DataCells, LayerCells, ExampleCells);

impl Replay {
    /// What In [1] … In [27] showed, from their variables and the tensors `jup` kept.
    pub(super) fn record_cells(
        names: &[String],
        bigrams: &[(char, char)],
        itos: &BTreeMap<i64, char>,
        X: &Tensor,
        y: &Tensor,
        jup: &Jupyter,
    ) -> Result<Demonstration> {
        let head = |t: &Tensor| Vec::<i64>::try_from(&t.narrow(0, 0, 10).to_device(Device::Cpu));
        let data = DataCells {
            first_names: names.iter().take(3).cloned().collect(),
            first_bigrams: bigrams.to_vec(),
            vocab: itos.values().collect(),
            examples: X.numel(),
            x_head: head(X)?,
            y_head: head(y)?,
            c_enc: tensor_to_vec(jup.tensor(7, 0)?)?,
            x_enc_head: Vec::<Vec<i64>>::try_from(jup.tensor(8, 0)?)?,
            x_enc_dtype: dtype_name(jup.tensor(9, 0)?.kind()).into(),
        };
        let cell = |n| jup.tensor(n, 0);
        let row_sums = cell(18)?;
        let layer = LayerCells {
            neuron: tensor_to_vec(cell(10)?)?,
            c_dot_neuron: cell(11)?.f_double_value(&[0])? as f32,
            c_logits: tensor_to_vec(cell(13)?)?,
            logits: corners(cell(15)?)?,
            exp: corners(cell(16)?)?,
            probs: corners(cell(17)?)?,
            // the replay refuses data of fewer than 10 bigrams, so there are 6 ends
            row_sums_ends: tensor_to_vec(&edges(row_sums)?)?,
            row_sums: tensor_to_vec(row_sums)?,
            digests: Digests {
                logits: digest(cell(15)?)?,
                exp: digest(cell(16)?)?,
                probs: digest(cell(17)?)?,
                row_sums: digest(row_sums)?,
            },
        };
        let scalar = |t: &Tensor| -> Result<f32> { Ok(t.f_double_value(&[])? as f32) };
        let example = ExampleCells {
            c_probs: tensor_to_vec(cell(19)?)?,
            p_a_after_c: scalar(cell(20)?)?,
            loss: scalar(cell(21)?)?,
            grad_shape: cell(24)?.size(),
            grad: tensor_to_vec(cell(24)?)?,
            p_a_after_c_after_step: scalar(jup.tensor(27, 1)?)?,
        };
        Ok((data, layer, example))
    }

    pub(super) fn new(
        (data, layer, example): Demonstration,
        training: TrainingCells,
        continuation: Continuation,
        jup: Jupyter,
    ) -> Self {
        let (shown, said) = jup.into_shown();
        Self {
            data,
            layer,
            example,
            training,
            continuation,
            shown,
            said,
        }
    }
}

impl TrainingCells {
    /// In [43] from the loss of every epoch of the two runs.
    pub(super) fn new(as_written: Vec<f64>, gradient_descent: Vec<f64>) -> Self {
        let last = |losses: &[f64]| losses.last().copied().unwrap_or(f64::NAN);
        Self {
            loss_as_written: last(&as_written),
            loss_gradient_descent: last(&gradient_descent),
            as_written_by_epoch: as_written,
            gradient_descent_by_epoch: gradient_descent,
        }
    }
}

/// A matrix's first and last three rows and columns (all of a side of six or fewer).
pub fn corners(t: &Tensor) -> Result<Corners> {
    Ok(Vec::<Vec<f32>>::try_from(&edges(t)?.to_kind(Kind::Float))?)
}

/// sha256 (hex) of a tensor's elements as little-endian float32 bytes, in row-major order.
pub fn digest(t: &Tensor) -> Result<String> {
    use sha2::{Digest, Sha256};
    let bytes: Vec<u8> = tensor_to_vec(t)?
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}
