//! Drawing names from a model.
//!
//! The exact sampler repeats the reference loop step by step: from the context's row of W,
//! p = exp(row) / sum(exp(row)), one `multinomial` draw with replacement from the CPU generator
//! seeded by the caller; stop at `.`. With the same seed and weights it gives PyTorch 2.13's
//! names. The fast sampler draws from precomputed cumulative tables with a small seeded
//! generator in plain Rust: same distribution, different (but reproducible) names.
//! Options that shape the distribution (temperature, top-k) and filters (prefix, length,
//! novelty) sit on top of either.

use crate::bail_user;
use crate::model::Model;
use crate::vocab::next_context;
use anyhow::Result;
use std::collections::HashSet;
use tch::{Kind, Tensor};

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
}

/// Something that draws one name's character indices after a prefix.
pub trait Draw {
    /// Draw characters after `prefix` until `.`, or until the name has `max_len` characters.
    /// Returns the whole name (prefix included), without the end token; an error when the
    /// model has no usable distribution for a context (overflowing or all-zero weights).
    fn draw(&mut self, prefix: &[usize], max_len: usize) -> Result<Vec<usize>>;
}

/// The error for a context whose next-character distribution cannot be drawn from.
fn unusable_row(model: &Model, context: usize, why: &str) -> anyhow::Error {
    let width = model.vocab.len();
    let mut chars = Vec::new();
    let mut rest = context;
    for _ in 1..model.order {
        chars.push(model.vocab.char(rest % width));
        rest /= width;
    }
    let shown: String = chars.iter().rev().collect();
    crate::error::user(format!(
        "the model has no usable next-character distribution after {shown:?} ({why}); \
         retrain it (a smaller --lr, or --smoothing above 0) or choose another --prefix"
    ))
}

/// The PyTorch-exact sampler. Draw inside [`crate::device::with_cpu_seed`].
pub struct ExactSampler<'a> {
    model: &'a Model,
    shaping: Shaping,
    /// Each context's probability row, computed once with the reference's operations.
    rows: Vec<Option<Tensor>>,
}

impl<'a> ExactSampler<'a> {
    /// A sampler over a model's rows.
    pub fn new(model: &'a Model, shaping: Shaping) -> Self {
        Self {
            model,
            shaping,
            rows: (0..model.rows()).map(|_| None).collect(),
        }
    }

    fn probabilities(&mut self, context: usize) -> &Tensor {
        let (model, shaping) = (self.model, self.shaping);
        self.rows[context].get_or_insert_with(|| {
            let mut logits = model.w.get(context as i64);
            if !shaping.is_identity(model.vocab.len()) {
                logits = shape_logits(&logits, shaping);
            }
            let pos = logits.exp();
            &pos / pos.sum(None::<Kind>)
        })
    }
}

/// Temperature and top-k on one row of logits, shifted by the row's maximum first so that a
/// tiny temperature cannot overflow exp.
fn shape_logits(logits: &Tensor, shaping: Shaping) -> Tensor {
    let width = logits.size()[0];
    let mut shaped = (logits - logits.max()) / shaping.temperature;
    // A k of 0 or of the vocabulary's size or more keeps every character.
    let keep = shaping.top_k.filter(|&k| k > 0 && k < width as usize);
    if let Some(k) = keep.map(|k| k as i64) {
        let (kth, _) = shaped.topk(k, 0, true, true);
        let threshold = kth.get(k - 1);
        shaped = shaped.masked_fill(&shaped.lt_tensor(&threshold), f64::NEG_INFINITY);
    }
    shaped
}

impl Draw for ExactSampler<'_> {
    fn draw(&mut self, prefix: &[usize], max_len: usize) -> Result<Vec<usize>> {
        let (width, rows) = (self.model.vocab.len(), self.model.rows());
        let mut context = 0usize;
        let mut name = Vec::new();
        for &ix in prefix {
            context = next_context(context, ix, width, rows);
            name.push(ix);
        }
        while name.len() < max_len {
            let p = self.probabilities(context);
            let ix = p
                .f_multinomial(1, true)
                .and_then(|drawn| drawn.f_int64_value(&[0]))
                .map_err(|e| unusable_row(self.model, context, &e.to_string()))?
                as usize;
            if ix == 0 {
                break;
            }
            context = next_context(context, ix, width, rows);
            name.push(ix);
        }
        Ok(name)
    }
}

/// The throughput sampler: per-context cumulative probabilities (f64) and a seeded wyrand
/// generator; one uniform number and a binary search per character.
pub struct FastSampler<'a> {
    model: &'a Model,
    width: usize,
    rows: usize,
    /// Row-major cumulative probabilities; a row of NaN marks a context with no usable
    /// distribution.
    cumulative: Vec<f64>,
    rng: fastrand::Rng,
}

impl<'a> FastSampler<'a> {
    /// Tables for a model, reshaped as asked, and a generator seeded with `seed`.
    pub fn new(model: &'a Model, shaping: Shaping, seed: u64) -> Result<Self> {
        let width = model.vocab.len();
        let logits = crate::model::tensor_to_vec(&model.w)?;
        let mut cumulative = Vec::with_capacity(logits.len());
        for row in logits.chunks_exact(width) {
            let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut scaled: Vec<f64> = row
                .iter()
                .map(|v| (v - max) / shaping.temperature)
                .collect();
            if let Some(k) = shaping.top_k.filter(|&k| k < width) {
                let mut sorted = scaled.clone();
                sorted.sort_by(|a, b| b.total_cmp(a));
                let threshold = sorted[k.max(1) - 1];
                scaled
                    .iter_mut()
                    .filter(|v| **v < threshold)
                    .for_each(|v| *v = f64::NEG_INFINITY);
            }
            let weights: Vec<f64> = scaled.iter().map(|v| v.exp()).collect();
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
            rows: model.rows(),
            cumulative,
            rng: fastrand::Rng::with_seed(seed),
        })
    }

    /// Draw one next character for a context row.
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

impl Draw for FastSampler<'_> {
    fn draw(&mut self, prefix: &[usize], max_len: usize) -> Result<Vec<usize>> {
        let mut context = 0usize;
        let mut name = Vec::with_capacity(8);
        for &ix in prefix {
            context = next_context(context, ix, self.width, self.rows);
            name.push(ix);
        }
        while name.len() < max_len {
            let ix = self.next(context)?;
            if ix == 0 {
                break;
            }
            context = next_context(context, ix, self.width, self.rows);
            name.push(ix);
        }
        Ok(name)
    }
}

/// Which names to keep.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Names must start with these indices.
    pub prefix: Vec<usize>,
    /// Names shorter than this (in characters) are redrawn.
    pub min_len: usize,
    /// Names are cut at this many characters (the cap for a name that never reaches `.`).
    pub max_len: usize,
    /// Names in this set are redrawn (`--novel`).
    pub exclude: Option<HashSet<String>>,
    /// Each name at most once: repeats are redrawn.
    pub distinct: bool,
    /// Rejected draws allowed before giving up.
    pub max_attempts: usize,
}

/// Draw `n` names that pass the filter, redrawing the others, and hand each to `emit` as it
/// comes (nothing is collected, so `n` can be as large as the user likes). An error when
/// `max_attempts` draws have been rejected, saying how many names were found.
pub fn generate_each(
    sampler: &mut dyn Draw,
    model: &Model,
    n: usize,
    filter: &Filter,
    mut emit: impl FnMut(String) -> Result<()>,
) -> Result<()> {
    let mut seen = HashSet::new();
    let (mut found, mut rejected) = (0usize, 0usize);
    while found < n {
        let indices = sampler.draw(&filter.prefix, filter.max_len)?;
        let name: String = indices.iter().map(|&i| model.vocab.char(i)).collect();
        let keep = indices.len() >= filter.min_len
            && !filter
                .exclude
                .as_ref()
                .is_some_and(|set| set.contains(&name))
            && (!filter.distinct || seen.insert(name.clone()));
        if keep {
            found += 1;
            emit(name)?;
            continue;
        }
        rejected += 1;
        if rejected >= filter.max_attempts {
            bail_user!(
                "gave up after {rejected} rejected draws with {found} of {n} names found; relax --min-len/--novel/--prefix or raise --max-attempts"
            );
        }
    }
    Ok(())
}

/// [`generate_each`], collected.
pub fn generate(
    sampler: &mut dyn Draw,
    model: &Model,
    n: usize,
    filter: &Filter,
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    generate_each(sampler, model, n, filter, |name| {
        names.push(name);
        Ok(())
    })?;
    Ok(names)
}

/// The reference sampler with no options: seed the CPU generator with `seed`, draw `n` names
/// of at most `max_len` characters.
pub fn sample_names(model: &Model, seed: i64, n: usize, max_len: usize) -> Result<Vec<String>> {
    let filter = Filter {
        max_len,
        max_attempts: usize::MAX,
        ..Filter::default()
    };
    let mut sampler = ExactSampler::new(model, Shaping::default());
    crate::device::with_cpu_seed(seed, || generate(&mut sampler, model, n, &filter))
}
