//! What every sampler draws from: a context's row of the model, reshaped ([`Shaping`]), its
//! probabilities as PyTorch computes them, cached per context for the PyTorch samplers
//! ([`Rows`]), with the checks PyTorch's kernels make and the error of a row that cannot be
//! drawn from.

use crate::error::{Error, Result};
use crate::model::Model;
use num_traits::{float::TotalOrder, Float};
use tch::{Kind, Tensor};

/// A sampler's draw: the index of the next character after a context row.
pub(super) type Draw<'a> = Box<dyn FnMut(usize) -> Result<usize> + 'a>;

/// How the next-character distribution is reshaped before drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shaping {
    /// Logits are divided by this (must be > 0); 1 leaves them as they are.
    pub temperature: f64,
    /// Keep only the K most likely next characters (ties at the K-th value are all kept).
    pub top_k: Option<usize>,
}

impl Default for Shaping {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: None,
        }
    }
}

impl Shaping {
    /// True when this changes nothing, so the exact reference operations are used untouched.
    pub fn is_identity(&self, width: usize) -> bool {
        self.temperature == 1.0 && self.top_k.is_none_or(|k| k >= width)
    }

    /// A row of logits reshaped: shifted by its maximum (so a tiny temperature cannot
    /// overflow exp), divided by the temperature, and -inf outside the top k. A k of 0 or of
    /// the row's width or more keeps every character. In f32 for the exact sampler (the
    /// weights' own type, as libtorch would compute it), in f64 for the fast sampler's tables.
    pub fn apply<F: Float + TotalOrder>(&self, logits: &[F]) -> Vec<F> {
        let max = logits.iter().copied().fold(F::neg_infinity(), F::max);
        // A temperature outside F's range would round to 0 or infinity and give NaN (0/0,
        // -inf/inf): the nearest value in range gives the same limit (greedy, or flat). The
        // smallest positive value is a subnormal, the smallest normal times epsilon.
        let temperature = num_traits::cast::<f64, F>(self.temperature)
            .unwrap_or_else(F::max_value)
            .max(F::min_positive_value() * F::epsilon())
            .min(F::max_value());
        let mut shaped: Vec<F> = logits.iter().map(|&v| (v - max) / temperature).collect();
        if let Some(k) = self.top_k.filter(|&k| k > 0 && k < logits.len()) {
            let mut sorted = shaped.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let threshold = sorted[k - 1];
            shaped
                .iter_mut()
                .filter(|v| **v < threshold)
                .for_each(|v| *v = F::neg_infinity());
        }
        shaped
    }
}

/// The characters of a context row, oldest first.
fn context_text(model: &Model, context: usize) -> String {
    let width = model.vocab.len();
    let mut chars = Vec::new();
    let mut rest = context;
    for _ in 1..model.order {
        chars.push(model.vocab.char(rest % width));
        rest /= width;
    }
    chars.iter().rev().collect()
}

pub(super) fn unusable_row(model: &Model, context: usize, why: &str) -> Error {
    Error::input(format!(
        "the model has no usable next-character distribution after {:?} ({why}); retrain it (a smaller --lr, or --smoothing above 0) or choose another --prefix",
        context_text(model, context)
    ))
}

/// A context's probabilities as the reference computes them: p = exp(logits) / sum, in
/// float32 with libtorch, after the shaping when it changes anything (the shaping shifts the
/// row by its maximum, so only unshaped logits can overflow). A row whose exp or sum
/// overflows float32 is an error: PyTorch would get NaN there too, but the
/// model itself is usable in wider arithmetic.
fn probability_row(model: &Model, shaping: &Shaping, context: usize) -> Result<Tensor> {
    let mut logits = model.w.get(context as i64);
    if !shaping.is_identity(model.vocab.len()) {
        let row = Vec::<f32>::try_from(&logits)?;
        logits = Tensor::from_slice(&shaping.apply(&row));
    }
    let pos = logits.exp();
    let sum = pos.sum(None::<Kind>);
    if sum.f_double_value(&[])?.is_infinite() {
        let row = Vec::<f32>::try_from(&logits)?;
        let largest = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp_overflows = Vec::<f32>::try_from(&pos)?.iter().any(|v| v.is_infinite());
        let what = match exp_overflows {
            true => "exp overflows float32 above about 88.72",
            false => "their exponentials add up past float32's largest value (about 3.4e38)",
        };
        crate::bail_input!(
            "the logits after {:?} reach {largest} and {what}: the PyTorch samplers' p = exp(logits) / sum (float32, as in PyTorch) is not a distribution there; the model itself is fine: sample it with --sampler fast (float64, each row shifted by its maximum) or a --temperature other than 1 (each row shifted by its maximum before exp), which give other names than PyTorch would",
            context_text(model, context)
        );
    }
    Ok(&pos / sum)
}

/// What the PyTorch samplers share: the model, the shaping, and each context's row in the
/// form the sampler draws from, made from [`probability_row`] on the context's first draw.
pub(super) struct Rows<'a, T> {
    model: &'a Model,
    shaping: Shaping,
    rows: Vec<Option<T>>,
}

impl<'a, T> Rows<'a, T> {
    pub(super) fn new(model: &'a Model, shaping: Shaping) -> Self {
        let rows = (0..model.rows()).map(|_| None).collect();
        Self {
            model,
            shaping,
            rows,
        }
    }

    /// A context's row: `make` of its probabilities, computed once.
    pub(super) fn get(
        &mut self,
        context: usize,
        make: impl FnOnce(Tensor) -> Result<T>,
    ) -> Result<&T> {
        let slot = &mut self.rows[context];
        match slot {
            Some(row) => Ok(row),
            None => Ok(slot.insert(make(probability_row(self.model, &self.shaping, context)?)?)),
        }
    }
}

/// A row as PyTorch's kernel takes it, or why the kernel refuses it.
pub(super) type Checked = std::result::Result<Vec<f32>, &'static str>;

impl Rows<'_, Checked> {
    /// [`Rows::get`] of a row `make` checks; a refused row is the error.
    pub(super) fn checked(
        &mut self,
        context: usize,
        make: fn(Vec<f32>) -> Checked,
    ) -> Result<&[f32]> {
        let model = self.model;
        self.get(context, |p| Ok(make(Vec::<f32>::try_from(&p)?)))?
            .as_deref()
            .map_err(|why| unusable_row(model, context, why))
    }
}

/// Why PyTorch's multinomial refuses probabilities `p`, if it does: its kernels of every era
/// check the same three things before drawing.
pub(super) fn refusal(p: &[f32]) -> Option<&'static str> {
    if p.iter().any(|v| !v.is_finite()) {
        Some("a probability is infinite or NaN")
    } else if p.iter().any(|&v| v < 0.0) {
        Some("a probability is below 0")
    } else if p.iter().all(|&v| v == 0.0) {
        Some("the probabilities add up to 0")
    } else {
        None
    }
}
