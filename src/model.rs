//! The model: a matrix of logits W, one row per context and one column per next character,
//! with its vocabulary; and the one formula that measures it, the NLL over counts.
//!
//! Both kinds of model share this shape. The network learns W by gradient descent (`train`);
//! the count model sets W = log(N + smoothing), so that exp/sum of a row gives its smoothed
//! bigram frequencies and `sample` and `eval` serve both without knowing which is which. How a
//! model is written to disk and read back lives in `checkpoint`.

use crate::data::{for_each_pair, Counts};
use crate::error::{Error, Result};
use crate::provenance::Meta;
use crate::vocab::{context_count, Vocab};
use tch::{Kind, Tensor};

/// How the weights were obtained, named in checkpoints as `network` or `counts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Trained by gradient descent on the one-hot network.
    Network,
    /// Smoothed counts: W = log(N + smoothing).
    Counts,
}

/// Logits for the next character given the previous `order - 1` characters.
#[derive(Debug)]
pub struct Model {
    /// `contexts × vocab` float32 logits on the CPU.
    pub w: Tensor,
    /// The characters the rows and columns stand for.
    pub vocab: Vocab,
    /// 2 for bigrams, 3 for trigrams.
    pub order: usize,
    pub kind: ModelKind,
    /// The raw counts N of a count model (absent for networks and for older checkpoints).
    pub counts: Option<Counts>,
    /// How it was made: seed, epochs, lr, reg, smoothing, losses, data checksums...
    pub meta: Meta,
}

impl Model {
    /// A trained network's weights (a CPU float tensor of `contexts × vocab`).
    pub fn network(w: Tensor, vocab: &Vocab, order: usize) -> Self {
        Self {
            w,
            vocab: vocab.clone(),
            order,
            kind: ModelKind::Network,
            counts: None,
            meta: Meta::default(),
        }
    }

    /// The count model of some counts: W = log(N + smoothing), computed as the reference does
    /// (`(N + s).float().log()`). The counts are kept with it.
    pub fn from_counts(counts: &Counts, vocab: &Vocab, order: usize, smoothing: f64) -> Self {
        let w = (counts.to_tensor() + smoothing).to_kind(Kind::Float).log();
        Self {
            kind: ModelKind::Counts,
            counts: Some(counts.clone()),
            ..Self::network(w, vocab, order)
        }
    }

    /// Number of rows (contexts).
    pub fn rows(&self) -> usize {
        context_count(self.vocab.len(), self.order)
    }

    /// The weights as a row-major `Vec<f32>`.
    pub fn weights(&self) -> Result<Vec<f32>> {
        tensor_to_vec(&self.w)
    }

    /// log p(next | context) of every cell.
    pub fn log_probs(&self) -> Result<LogProbs> {
        LogProbs::of_logits(&self.w)
    }

    /// Mean negative log likelihood of counted examples under this model ([`nll`]).
    pub fn nll(&self, counts: &Counts) -> Result<f64> {
        Ok(self.log_probs()?.nll(counts))
    }

    /// Whether the training data was folded to lower case (names are read the same way).
    pub fn lowercase(&self) -> bool {
        self.meta.lowercase.unwrap_or(false)
    }
}

/// The project's one NLL formula: `-Σ C·log p / ΣC` in float64, cell by cell in row-major
/// order, empty cells contributing nothing (so a count model without smoothing, whose unseen
/// cells are -inf, stays finite on data it has seen). `eval`, `count`, the training report
/// and the Python reference sum libtorch's log_softmax this way; the counts method, which
/// cannot afford a libtorch call per epoch, computes its log p in plain Rust and sums it here.
pub fn nll(log_probs: &[f64], counts: &[u64]) -> f64 {
    let mut total = 0.0f64;
    let mut n = 0u64;
    for (&lp, &c) in log_probs.iter().zip(counts) {
        if c > 0 {
            total += c as f64 * lp;
            n += c;
        }
    }
    // `+ 0.0` turns the -0 of a perfect fit into 0 (it changes no other value).
    -total / n as f64 + 0.0
}

/// log p(next | context) for every cell, in f64.
#[derive(Clone, Debug)]
pub struct LogProbs {
    width: usize,
    rows: usize,
    cells: Vec<f64>,
}

impl LogProbs {
    /// log_softmax of each row of logits, in float64 (libtorch's kernel, as the reference).
    pub fn of_logits(w: &Tensor) -> Result<Self> {
        let (rows, width) = w.size2()?;
        let logp = w
            .detach()
            .to_device(tch::Device::Cpu)
            .to_kind(Kind::Double)
            .log_softmax(1, None::<Kind>);
        // A row that is all -inf (a count model without smoothing, for a context it never
        // saw) gives NaN; such a row gives every character probability 0, so log p is -inf.
        let cells = Vec::<f64>::try_from(&logp.reshape([-1]))?
            .into_iter()
            .map(|v| if v.is_nan() { f64::NEG_INFINITY } else { v })
            .collect();
        Ok(Self {
            width: width as usize,
            rows: rows as usize,
            cells,
        })
    }

    /// The NLL of counted examples ([`nll`]).
    pub fn nll(&self, counts: &Counts) -> f64 {
        nll(&self.cells, &counts.cells)
    }

    /// log p of a whole name: the sum over its examples, the end token included.
    pub fn of_name(&self, indices: &[usize]) -> f64 {
        let mut total = 0.0;
        for_each_pair(indices, self.rows, self.width, |context, next| {
            total += self.cells[context * self.width + next];
        });
        total
    }

    /// Every cell, row-major.
    pub fn cells(&self) -> &[f64] {
        &self.cells
    }
}

/// A tensor's values, row-major, as f32 (moved to the CPU first).
pub fn tensor_to_vec(t: &Tensor) -> Result<Vec<f32>> {
    let flat = t
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Float)
        .reshape([-1]);
    Vec::<f32>::try_from(&flat).map_err(Error::from)
}
