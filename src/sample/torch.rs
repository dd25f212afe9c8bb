//! `--sampler torch`, PyTorch 2.7 and later: libtorch's own `multinomial`.

use super::rows::{unusable_row, NextChar, Rows, Shaping};
use crate::device::CpuGenerator;
use crate::error::Result;
use crate::model::Model;
use tch::Tensor;

/// The gist of a libtorch error: its first line, without the backtrace that follows.
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or(message);
    line.strip_prefix("Internal torch error: ").unwrap_or(line)
}

/// The sampler of PyTorch 2.7 and later: p = exp(row) / sum(exp(row)) with libtorch, one
/// `multinomial` draw from the CPU generator, which it holds.
pub(super) struct ExactSampler<'a> {
    rows: Rows<'a, Tensor>,
    _generator: CpuGenerator,
}

impl<'a> ExactSampler<'a> {
    pub(super) fn new(model: &'a Model, shaping: Shaping, seed: i64) -> Self {
        Self {
            rows: Rows::new(model, shaping),
            _generator: CpuGenerator::manual_seed(seed),
        }
    }
}

impl NextChar for ExactSampler<'_> {
    fn model(&self) -> &Model {
        self.rows.model
    }

    fn next(&mut self, context: usize) -> Result<usize> {
        let model = self.rows.model;
        let ix = self
            .rows
            .get(context, Ok)?
            .f_multinomial(1, true)
            .and_then(|drawn| drawn.f_int64_value(&[0]))
            .map_err(|e| unusable_row(model, context, first_line(&e.to_string())))?;
        Ok(ix as usize)
    }
}
