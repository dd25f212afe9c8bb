//! The `counts` method: the objective written over the counts matrix C instead of the list of
//! examples, with its gradient written out, in float64 on the CPU: O(contexts × vocabulary)
//! per epoch instead of O(examples × contexts × vocabulary). It reaches the objective of the
//! one-hot loop, not its bits.

use super::readback::EpochLog;
use super::{OnEpoch, TrainConfig, TrainData, Trained};
use crate::data::Counts;
use crate::error::Result;
use std::time::Instant;
use tch::Tensor;

/// The `counts` method: the objective over the counts in f64, on the CPU.
pub(super) fn run_counts_epochs(
    w0: Tensor,
    data: TrainData<'_>,
    config: &TrainConfig,
    on_epoch: OnEpoch<'_>,
) -> Result<Trained> {
    let mut w: Vec<f64> = crate::model::tensor_to_vec(&w0)?
        .into_iter()
        .map(f64::from)
        .collect();
    let mut objective = CountsObjective::new(w.len());
    let mut scratch = CountsObjective::new(w.len());
    let mut log = EpochLog::new(config.epochs, config.step(data.counts), 1, on_epoch);
    let mut dev_nlls = Vec::new();
    let start = Instant::now();
    for epoch in 1..=config.epochs {
        if let Some(dev) = data.dev {
            dev_nlls.push(scratch.evaluate(dev, &w, 0.0).1);
        }
        let (loss, nll) = objective.evaluate(data.counts, &w, config.reg);
        for (wi, gi) in w.iter_mut().zip(&objective.grad) {
            *wi -= config.lr * gi;
        }
        log.record(epoch, loss, nll)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let (losses, nlls) = log.finish();
    let w: Vec<f32> = w.into_iter().map(|v| v as f32).collect();
    Ok(Trained {
        w: Tensor::from_slice(&w).view([data.counts.rows as i64, data.counts.width as i64]),
        losses,
        nlls,
        dev_nlls,
        seconds,
        warmup_seconds: None,
    })
}

/// The objective over counts and its gradient, in f64:
/// loss = NLL(C, log softmax(W)) + reg·mean(W²),
/// grad = (1/N)(rowsum(C)·softmax(W) − C) + 2·reg·W / |W|,
/// with the NLL from [`crate::model::nll`], the project's one formula.
pub struct CountsObjective {
    /// log softmax of W, row-major.
    pub log_probs: Vec<f64>,
    /// The gradient of the last evaluation.
    pub grad: Vec<f64>,
}

impl CountsObjective {
    /// Buffers for a W of `cells` cells.
    pub fn new(cells: usize) -> Self {
        Self {
            log_probs: vec![0.0; cells],
            grad: vec![0.0; cells],
        }
    }

    /// (loss, nll) at `w`; the gradient is left in `self.grad`.
    pub fn evaluate(&mut self, counts: &Counts, w: &[f64], reg: f64) -> (f64, f64) {
        let width = counts.width;
        let n = counts.total() as f64;
        let size = w.len() as f64;
        for (row, logp) in w
            .chunks_exact(width)
            .zip(self.log_probs.chunks_exact_mut(width))
        {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_z = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            for (lp, &wij) in logp.iter_mut().zip(row) {
                *lp = wij - log_z;
            }
        }
        let nll = crate::model::nll(&self.log_probs, &counts.cells);
        let mut sum_sq = 0.0;
        let rows = counts
            .cells
            .chunks_exact(width)
            .zip(self.log_probs.chunks_exact(width));
        for (((c_row, logp), g_row), w_row) in rows
            .zip(self.grad.chunks_exact_mut(width))
            .zip(w.chunks_exact(width))
        {
            let row_total = c_row.iter().sum::<u64>() as f64;
            for (((&c, &lp), g), &wij) in c_row.iter().zip(logp).zip(g_row).zip(w_row) {
                *g = (row_total * lp.exp() - c as f64) / n + 2.0 * reg * wij / size;
                sum_sq += wij * wij;
            }
        }
        (nll + reg * sum_sq / size, nll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::initial_weights;
    use tch::Kind;

    #[test]
    fn counts_gradient_matches_autograd_on_the_same_objective() {
        let mut counts = Counts::new(27, 2);
        for (i, c) in counts.cells.iter_mut().enumerate() {
            *c = ((i * 7919) % 13) as u64;
        }
        let w0 = initial_weights(3, 27, 27);
        let w: Vec<f64> = crate::model::tensor_to_vec(&w0)
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        let mut objective = CountsObjective::new(w.len());
        let (loss, _) = objective.evaluate(&counts, &w, 0.1);

        let wt = Tensor::from_slice(&w)
            .view([27, 27])
            .set_requires_grad(true);
        let c = counts.to_tensor().to_kind(Kind::Double);
        let nll = -(&c * wt.log_softmax(1, None::<Kind>)).sum(None::<Kind>) / c.sum(None::<Kind>);
        let auto = nll + wt.pow_tensor_scalar(2).mean(None::<Kind>) * 0.1;
        auto.backward();
        assert!((auto.double_value(&[]) - loss).abs() < 1e-12);
        let g: Vec<f64> = Vec::try_from(&wt.grad().reshape([-1])).unwrap();
        for (a, b) in g.iter().zip(&objective.grad) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
