//! `--sampler fast`: no PyTorch, precomputed float64 tables and a plain-Rust generator.

use super::rows::{unusable_row, NextChar, Shaping};
use crate::error::Result;
use crate::model::Model;

/// The throughput sampler: per-context cumulative probabilities (f64) and a seeded wyrand
/// generator; one uniform number and a binary search per character.
pub(super) struct FastSampler<'a> {
    model: &'a Model,
    width: usize,
    /// Row-major cumulative probabilities; a row of NaN marks a context with no usable
    /// distribution.
    cumulative: Vec<f64>,
    rng: fastrand::Rng,
}

impl<'a> FastSampler<'a> {
    /// Its generator seeded with the seed's bits, as the fast sampler has always taken them.
    pub(super) fn new(model: &'a Model, shaping: Shaping, seed: i64) -> Result<Self> {
        let width = model.vocab.len();
        let logits = model.weights()?;
        let mut cumulative = Vec::with_capacity(logits.len());
        for row in logits.chunks_exact(width) {
            let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
            let weights: Vec<f64> = shaping.apply(&row).iter().map(|v| v.exp()).collect();
            let total: f64 = weights.iter().sum();
            if !(total.is_finite() && total > 0.0) {
                cumulative.extend(std::iter::repeat_n(f64::NAN, width));
                continue;
            }
            let mut acc = 0.0;
            for w in weights {
                acc += w / total;
                cumulative.push(acc);
            }
            // Rounding must never leave u in [last, 1) without a bucket.
            if let Some(last) = cumulative.last_mut() {
                *last = f64::INFINITY;
            }
        }
        Ok(Self {
            model,
            width,
            cumulative,
            rng: fastrand::Rng::with_seed(seed as u64),
        })
    }
}

impl NextChar for FastSampler<'_> {
    fn model(&self) -> &Model {
        self.model
    }

    #[inline]
    fn next(&mut self, context: usize) -> Result<usize> {
        let row = &self.cumulative[context * self.width..(context + 1) * self.width];
        if row[0].is_nan() {
            return Err(unusable_row(
                self.model,
                context,
                "its weights overflow or are all zero",
            ));
        }
        let u = self.rng.f64();
        Ok(row.partition_point(|&c| c <= u))
    }
}
