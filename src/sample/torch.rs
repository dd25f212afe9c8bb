//! `--sampler torch`, PyTorch 2.7 and later: libtorch's own `multinomial`.

use super::rows::{unusable_row, Draw, Rows, Shaping};
use crate::device::CpuGenerator;
use crate::model::Model;

/// The gist of a libtorch error: its first line, without the backtrace that follows.
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or(message);
    line.strip_prefix("Internal torch error: ").unwrap_or(line)
}

/// The sampler of PyTorch 2.7 and later: p = exp(row) / sum(exp(row)) with libtorch, one
/// `multinomial` draw from the CPU generator, which it holds.
pub(super) fn exact<'a>(model: &'a Model, shaping: Shaping, seed: i64) -> Draw<'a> {
    let generator = CpuGenerator::manual_seed(seed);
    let mut rows = Rows::new(model, shaping);
    Box::new(move |context| {
        // Names the generator so the closure owns it, held as long as the sampler:
        // `multinomial` draws from it.
        let _held = &generator;
        let ix = (rows.get(context, Ok)?)
            .f_multinomial(1, true)
            .and_then(|drawn| drawn.f_int64_value(&[0]))
            .map_err(|e| unusable_row(model, context, first_line(&e.to_string())))?;
        Ok(ix as usize)
    })
}
