//! `--sampler fast`: no PyTorch, precomputed float64 tables and a plain-Rust generator.

use super::rows::{unusable_row, Draw, Shaping};
use crate::error::Result;
use crate::model::Model;

/// The throughput sampler: per-context cumulative probabilities (f64) and a seeded wyrand
/// generator, seeded with the seed's bits as the fast sampler has always taken them; one
/// uniform number and a binary search per character.
pub(super) fn fast<'a>(model: &'a Model, shaping: Shaping, seed: i64) -> Result<Draw<'a>> {
    let width = model.vocab.len();
    let logits = model.weights()?;
    // Row-major cumulative probabilities; a row of NaN marks a context with no usable
    // distribution.
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
    let mut rng = fastrand::Rng::with_seed(seed as u64);
    Ok(Box::new(move |context| {
        let row = &cumulative[context * width..(context + 1) * width];
        if row[0].is_nan() {
            let why = "its weights overflow or are all zero";
            return Err(unusable_row(model, context, why));
        }
        let u = rng.f64();
        Ok(row.partition_point(|&c| c <= u))
    }))
}
