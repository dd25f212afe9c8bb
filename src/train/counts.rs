//! The `counts` method: the objective written over the counts matrix C instead of the list of
//! examples, with its gradient written out, in float64 on the CPU: O(contexts × vocabulary)
//! per epoch instead of O(examples × contexts × vocabulary). It reaches the objective of the
//! one-hot loop, not its bits.

use crate::data::Counts;

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
