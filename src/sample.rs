//! Drawing names from a model.
//!
//! One loop draws a name: from the context's row, draw the next character, stop at `.` or at
//! the length cap. Four samplers ([`SamplerKind`]; which PyTorch each matches, and why, in
//! docs/sampling.md) differ only in how they draw one character, each said at its type: the
//! exact one is libtorch's `multinomial` itself, the PyTorch 2.0 and 1.13 ones repeat those
//! kernels in Rust, and the fast one reads precomputed tables. Temperature and top-k reshape
//! a row's logits in one place ([`Shaping`]). Filters (prefix, length, novelty) sit on top of
//! the loop.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::vocab::next_context;
use crate::Named;
use num_traits::{float::TotalOrder, Float};
use rand_mt::Mt;
use std::collections::HashSet;
use tch::{Device, Kind, Tensor};

/// How often, in characters, a name being drawn checks for a stop request: a model that never
/// ends a name can draw for a long time under a large length cap.
const CANCEL_EVERY: usize = 4096;

/// Which sampler draws the characters. Adding one: a variant (`VARIANTS` lists it), its line
/// in [`SamplerKind::describe`], its arm in [`with_sampler`], its row in docs/sampling.md.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, strum::VariantArray)]
pub enum SamplerKind {
    #[default]
    Torch,
    Torch20,
    Torch113,
    Fast,
}

impl Named for SamplerKind {
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            SamplerKind::Torch => ("torch", "PyTorch 2.7 and later (2.13 checked): torch.multinomial(p, 1) from the same seed"),
            SamplerKind::Torch20 => ("torch-2.0", "PyTorch 2.0 to 2.6 on x86 (2.6.0 checked): the names most learners of the lecture got"),
            SamplerKind::Torch113 => ("torch-1.13", "PyTorch before 2.0 (1.13 and earlier, the makemore lecture's names): the cumulative draw"),
            SamplerKind::Fast => ("fast", "no PyTorch: plain Rust, far faster, other names than PyTorch's"),
        }
    }
}

/// Build the sampler of `kind` over `model` and hand it to `draw`, its generator seeded with
/// `seed`: libtorch's CPU generator for the PyTorch samplers (held for the whole call, see
/// [`crate::device::with_cpu_seed`]), the sampler's own for the PyTorch 2.0 and fast ones.
pub fn with_sampler<T, E: From<Error>>(
    model: &Model,
    kind: SamplerKind,
    shaping: Shaping,
    seed: i64,
    draw: impl FnOnce(&mut dyn NextChar) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    match kind {
        SamplerKind::Torch => {
            let mut sampler = ExactSampler(Rows::new(model, shaping));
            crate::device::with_cpu_seed(seed, || draw(&mut sampler))
        }
        SamplerKind::Torch20 => draw(&mut ExponentialRaceSampler {
            rows: Rows::new(model, shaping),
            // The low 32 bits: all that `torch.manual_seed` keeps of the seed.
            generator: Mt::new(seed as u32),
        }),
        SamplerKind::Torch113 => {
            let mut sampler = CumulativeSampler(Rows::new(model, shaping));
            crate::device::with_cpu_seed(seed, || draw(&mut sampler))
        }
        SamplerKind::Fast => {
            // The seed's bits, as the fast sampler has always taken them.
            let mut sampler = FastSampler::new(model, shaping, seed as u64)?;
            draw(&mut sampler)
        }
    }
}

/// One name drawn, as `sample --json` reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Drawn {
    pub name: String,
    /// 0 when it was not scored.
    pub log_prob: f64,
    /// Whether the known names hold it (when some were given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_data: Option<bool>,
    pub sampler: &'static str,
}

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

/// Draws the next character of a context.
pub trait NextChar {
    fn model(&self) -> &Model;
    /// The index of the next character after context row `context`.
    fn next(&mut self, context: usize) -> Result<usize>;
}

/// Draw characters after `prefix` until `.`, or until the name has `max_len` characters.
/// Returns the whole name (prefix included), without the end token. Every [`CANCEL_EVERY`]
/// characters it stops with `Interrupted` if `cancel` was raised, where `at` says.
pub fn draw_name(
    sampler: &mut dyn NextChar,
    prefix: &[usize],
    max_len: usize,
    cancel: &Cancel,
    at: &dyn Fn() -> String,
) -> Result<Vec<usize>> {
    let (width, rows) = (sampler.model().vocab.len(), sampler.model().rows());
    let mut context = 0usize;
    let mut name = Vec::with_capacity(8);
    for &ix in prefix {
        context = next_context(context, ix, width, rows);
        name.push(ix);
    }
    while name.len() < max_len {
        let ix = sampler.next(context)?;
        if ix == 0 {
            break;
        }
        context = next_context(context, ix, width, rows);
        name.push(ix);
        if name.len() % CANCEL_EVERY == 0 {
            cancel.check(|| format!("{}, {} characters into a name", at(), name.len()))?;
        }
    }
    Ok(name)
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

fn unusable_row(model: &Model, context: usize, why: &str) -> Error {
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

/// The gist of a libtorch error: its first line, without the backtrace that follows.
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or(message);
    line.strip_prefix("Internal torch error: ").unwrap_or(line)
}

/// What the PyTorch samplers share: the model, the shaping, and each context's row in the
/// form the sampler draws from, made from [`probability_row`] on the context's first draw.
struct Rows<'a, T> {
    model: &'a Model,
    shaping: Shaping,
    rows: Vec<Option<T>>,
}

impl<'a, T> Rows<'a, T> {
    fn new(model: &'a Model, shaping: Shaping) -> Self {
        let rows = (0..model.rows()).map(|_| None).collect();
        Self {
            model,
            shaping,
            rows,
        }
    }

    /// A context's row: `make` of its probabilities, computed once.
    fn get(&mut self, context: usize, make: impl FnOnce(Tensor) -> Result<T>) -> Result<&T> {
        let slot = &mut self.rows[context];
        match slot {
            Some(row) => Ok(row),
            None => Ok(slot.insert(make(probability_row(self.model, &self.shaping, context)?)?)),
        }
    }
}

/// A row as PyTorch's kernel takes it, or why the kernel refuses it.
type Checked = std::result::Result<Vec<f32>, &'static str>;

impl Rows<'_, Checked> {
    /// [`Rows::get`] of a row `make` checks; a refused row is the error.
    fn checked(&mut self, context: usize, make: fn(Vec<f32>) -> Checked) -> Result<&[f32]> {
        let model = self.model;
        self.get(context, |p| Ok(make(Vec::<f32>::try_from(&p)?)))?
            .as_deref()
            .map_err(|why| unusable_row(model, context, why))
    }
}

/// The sampler of PyTorch 2.7 and later: p = exp(row) / sum(exp(row)) with libtorch, one
/// `multinomial` draw from the CPU generator. Draw inside [`crate::device::with_cpu_seed`].
struct ExactSampler<'a>(Rows<'a, Tensor>);

impl NextChar for ExactSampler<'_> {
    fn model(&self) -> &Model {
        self.0.model
    }

    fn next(&mut self, context: usize) -> Result<usize> {
        let model = self.0.model;
        let ix = self
            .0
            .get(context, Ok)?
            .f_multinomial(1, true)
            .and_then(|drawn| drawn.f_int64_value(&[0]))
            .map_err(|e| unusable_row(model, context, first_line(&e.to_string())))?;
        Ok(ix as usize)
    }
}

/// The cumulative sampler of PyTorch before 2.0 (`torch.multinomial` with more than one
/// sample still runs it on the CPU), over each context's cumulative table. Draw inside
/// [`crate::device::with_cpu_seed`].
struct CumulativeSampler<'a>(Rows<'a, Checked>);

/// Why PyTorch's multinomial refuses probabilities `p`, if it does: its kernels of every era
/// check the same three things before drawing.
fn refusal(p: &[f32]) -> Option<&'static str> {
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

/// The kernel's table for probabilities `p`: a running sum in float32, each entry divided by
/// the total in float32, the last bucket set to 1. The error is the kernel's reason to refuse.
fn cumulative_table(p: &[f32]) -> Checked {
    if let Some(why) = refusal(p) {
        return Err(why);
    }
    let mut sum = 0.0f32;
    let mut table: Vec<f32> = p
        .iter()
        .map(|&v| {
            sum += v;
            sum
        })
        .collect();
    table.iter_mut().for_each(|c| *c /= sum);
    if let Some(last) = table.last_mut() {
        *last = 1.0;
    }
    Ok(table)
}

/// A uniform double in [0, 1) from libtorch's CPU generator: 53 bits of one 64-bit number,
/// as the kernel's `uniform_real_distribution<double>` takes them (and `torch.rand` of a
/// float64).
fn uniform_double() -> Result<f64> {
    Ok(Tensor::f_rand([1], (Kind::Double, Device::Cpu))?.f_double_value(&[0])?)
}

/// The bucket a uniform `u` in [0, 1) falls in: the kernel's binary search for the first
/// entry that is not below `u`, each entry compared as a double.
fn cumulative_pick(table: &[f32], u: f64) -> usize {
    table.partition_point(|&c| f64::from(c) < u)
}

impl NextChar for CumulativeSampler<'_> {
    fn model(&self) -> &Model {
        self.0.model
    }

    fn next(&mut self, context: usize) -> Result<usize> {
        let table = self.0.checked(context, |p| cumulative_table(&p))?;
        Ok(cumulative_pick(table, uniform_double()?))
    }
}

/// oneMKL's `VSL_BRNG_MCG31` stream: x <- a x mod (2^31 - 1), each output x / (2^31 - 1).
struct Mcg31 {
    x: u64,
}

const MCG31_MODULUS: u64 = 0x7fff_ffff;
const MCG31_MULTIPLIER: u64 = 1_132_489_760;

impl Mcg31 {
    /// A stream seeded as oneMKL seeds it: the seed modulo 2^31 - 1, and 1 for a 0.
    fn new(seed: u32) -> Self {
        let x = u64::from(seed) % MCG31_MODULUS;
        Self { x: x.max(1) }
    }

    /// The next uniform in (0, 1] as a float: the quotient rounded to float32.
    fn next_uniform(&mut self) -> f32 {
        let u = (self.x as f64 / MCG31_MODULUS as f64) as f32;
        self.x = self.x * MCG31_MULTIPLIER % MCG31_MODULUS;
        u
    }
}

/// `exponential_()` of a float32 tensor of `len` elements in PyTorch 2.0 to 2.6 on x86 (built
/// with oneMKL), after the generator handed it `seed`: oneMKL's inverse-CDF exponentials of
/// an MCG31 stream, -ln(u) shifted by the smallest normal float (so none is 0). PyTorch
/// splits a long tensor among threads, each skipping ahead in the same stream, so the values
/// do not depend on the thread count. libtorch's float32 `log` is oneMKL's, bit for bit.
fn mkl_exponentials(seed: u32, len: usize) -> Result<Vec<f32>> {
    let mut stream = Mcg31::new(seed);
    let u: Vec<f32> = (0..len).map(|_| stream.next_uniform()).collect();
    let ln_u = Vec::<f32>::try_from(Tensor::from_slice(&u).f_log()?)?;
    Ok(ln_u.iter().map(|&ln| f32::MIN_POSITIVE + -ln).collect())
}

/// The winner of the exponential race: the index of the largest p / q in float32, the first
/// of equals, as `argmax` picks it.
fn race_winner(p: &[f32], q: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, ratio) in p.iter().zip(q).map(|(p, q)| p / q).enumerate() {
        if ratio > best.1 {
            best = (i, ratio);
        }
    }
    best.0
}

/// `torch.multinomial(p, 1)` as PyTorch 2.0 to 2.6 drew it on x86: argmax(p / q) with q from
/// [`mkl_exponentials`], one 32-bit number of PyTorch's generator per character. The
/// generator is the sampler's own, seeded as `torch.manual_seed` seeds PyTorch's.
struct ExponentialRaceSampler<'a> {
    rows: Rows<'a, Checked>,
    /// PyTorch's CPU generator: the 32-bit Mersenne Twister (MT19937) with the reference
    /// initialisation from a 32-bit seed.
    generator: Mt,
}

impl NextChar for ExponentialRaceSampler<'_> {
    fn model(&self) -> &Model {
        self.rows.model
    }

    fn next(&mut self, context: usize) -> Result<usize> {
        let p = self
            .rows
            .checked(context, |p| refusal(&p).map_or(Ok(p), Err))?;
        let q = mkl_exponentials(self.generator.next_u32(), p.len())?;
        Ok(race_winner(p, &q))
    }
}

/// The throughput sampler: per-context cumulative probabilities (f64) and a seeded wyrand
/// generator; one uniform number and a binary search per character.
struct FastSampler<'a> {
    model: &'a Model,
    width: usize,
    /// Row-major cumulative probabilities; a row of NaN marks a context with no usable
    /// distribution.
    cumulative: Vec<f64>,
    rng: fastrand::Rng,
}

impl<'a> FastSampler<'a> {
    fn new(model: &'a Model, shaping: Shaping, seed: u64) -> Result<Self> {
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
            rng: fastrand::Rng::with_seed(seed),
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

/// Which names to keep: those that start with `prefix`, have at least `min_len` characters
/// (at most `max_len`: the cap cuts a name that never reaches `.`), are not in `exclude`, and,
/// when `distinct`, not drawn before. The others are redrawn, `max_attempts` times at most.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub prefix: Vec<usize>,
    pub min_len: usize,
    pub max_len: usize,
    pub exclude: Option<HashSet<String>>,
    pub distinct: bool,
    pub max_attempts: usize,
}

/// Draw `n` names that pass the filter, redrawing the others, and hand each to `emit` as it
/// comes (nothing is collected, so `n` can be as large as the caller likes). An error when
/// `max_attempts` draws have been rejected, saying how many names were found, and when
/// `cancel` is raised. `emit` may fail with the caller's own error type, which stops drawing.
pub fn generate_each<E: From<Error>>(
    sampler: &mut dyn NextChar,
    n: usize,
    filter: &Filter,
    cancel: &Cancel,
    mut emit: impl FnMut(String) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut seen = HashSet::new();
    let (mut found, mut rejected) = (0usize, 0usize);
    while found < n {
        let at = || format!("after {found} of {n} names");
        cancel.check(at).map_err(E::from)?;
        let indices = draw_name(sampler, &filter.prefix, filter.max_len, cancel, &at)?;
        let vocab = &sampler.model().vocab;
        let name: String = indices.iter().map(|&i| vocab.char(i)).collect();
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
            crate::bail_input!("gave up after {rejected} rejected draws with {found} of {n} names found; relax --min-len/--novel/--prefix or raise --max-attempts");
        }
    }
    Ok(())
}

/// A sampler with no options: its generator seeded with `seed`, `n` names of at most
/// `max_len` characters, collected.
pub fn sample_names(
    model: &Model,
    kind: SamplerKind,
    seed: i64,
    n: usize,
    max_len: usize,
) -> Result<Vec<String>> {
    let filter = Filter {
        max_len,
        max_attempts: usize::MAX,
        ..Filter::default()
    };
    let mut names = Vec::new();
    with_sampler(model, kind, Shaping::default(), seed, |sampler| {
        generate_each::<Error>(sampler, n, &filter, &Cancel::never(), |name| {
            names.push(name);
            Ok(())
        })
    })?;
    Ok(names)
}

/// A word as the model's indices: every character in its vocabulary, none the start/end
/// token. `what` names the word in errors ("prefix", "name").
pub fn encode_word(model: &Model, word: &str, what: &'static str) -> Result<Vec<usize>> {
    let indices = model.vocab.encode(word).map_err(|ch| {
        Error::input(format!(
            "{what} {word:?} has {ch:?}, which is not in the model's vocabulary {:?}",
            model.vocab.as_string()
        ))
    })?;
    if indices.contains(&0) {
        crate::bail_input!("{what} {word:?} contains '.', the start/end token");
    }
    Ok(indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cumulative_table_sums_in_f32_and_the_search_takes_the_first_bucket_not_below() {
        // 0.1 + 0.2 in f32 is 0.3 rounded up; the normalised buckets and the last one, 1.
        let table = cumulative_table(&[0.1, 0.2, 0.0, 0.7]).unwrap();
        let sum = 0.1f32 + 0.2 + 0.0 + 0.7;
        assert_eq!(
            table,
            [0.1 / sum, (0.1 + 0.2) / sum, (0.1 + 0.2) / sum, 1.0]
        );
        // A uniform equal to a bucket's value stays in it; an empty bucket is never chosen.
        assert_eq!(cumulative_pick(&table, 0.0), 0);
        assert_eq!(cumulative_pick(&table, f64::from(table[0])), 0);
        assert_eq!(cumulative_pick(&table, f64::from(table[0]) + 1e-12), 1);
        assert_eq!(cumulative_pick(&table, f64::from(table[1]) + 1e-12), 3);
        assert_eq!(cumulative_pick(&table, 1.0 - f64::EPSILON), 3);
        // Weights that do not add up to 1 are normalised; the kernel's refusals.
        assert_eq!(cumulative_table(&[2.0, 2.0]).unwrap(), [0.5, 1.0]);
        assert!(cumulative_table(&[0.0, 0.0]).is_err());
        assert!(cumulative_table(&[f32::NAN, 1.0]).is_err());
        assert!(cumulative_table(&[-0.5, 1.0]).is_err());
    }

    /// The lecture's first example, as PyTorch prints it (the figures):
    /// `p = torch.rand(3, generator=g)`, normalised, then `torch.multinomial(p, 20, True, g)`
    /// with g seeded 2147483647.
    #[test]
    fn twenty_cumulative_draws_from_three_random_weights_are_the_lectures() {
        let drawn = crate::device::with_cpu_seed(2147483647, || {
            let p = Tensor::rand([3], (Kind::Float, Device::Cpu));
            let p = Vec::<f32>::try_from(&p / p.sum(None::<Kind>)).unwrap();
            let table = cumulative_table(&p).unwrap();
            (0..20)
                .map(|_| cumulative_pick(&table, uniform_double().unwrap()))
                .collect::<Vec<_>>()
        });
        assert_eq!(
            drawn,
            [1, 1, 2, 0, 0, 2, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]
        );
    }

    #[test]
    fn an_mcg31_seed_is_taken_modulo_its_modulus_and_never_0() {
        assert_eq!(Mcg31::new(0).x, 1);
        assert_eq!(Mcg31::new(0x7fff_ffff).x, 1);
        assert_eq!(Mcg31::new(u32::MAX).x, 1);
        assert_eq!(Mcg31::new(0x8000_0000).x, 1);
        let mut stream = Mcg31::new(5);
        assert_eq!(stream.next_uniform(), (5.0 / 2147483647.0f64) as f32);
        assert_eq!(stream.x, 5 * 1_132_489_760 % 0x7fff_ffff);
    }

    /// `torch.empty(27).exponential_(generator=g)` with g seeded 2147483647, as PyTorch 2.6.0
    /// printed it (tests/fixtures/torch-2.6.0, made by scripts/research/torch26_names.py).
    #[test]
    fn the_exponentials_are_pytorch_2_6s_bit_for_bit() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/torch-2.6.0/names.json")).unwrap();
        let want: Vec<f32> = fixture["exponentials"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let seed = fixture["exponentials"]["seed"].as_u64().unwrap() as u32;
        let got = mkl_exponentials(Mt::new(seed).next_u32(), want.len()).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want));
    }

    #[test]
    fn the_race_goes_to_the_largest_ratio_and_the_first_of_equals() {
        assert_eq!(race_winner(&[0.2, 0.3, 0.5], &[1.0, 0.5, 2.0]), 1);
        assert_eq!(race_winner(&[0.5, 0.0, 0.5], &[1.0, 1e-30, 1.0]), 0);
        assert_eq!(race_winner(&[0.0, 1.0], &[f32::MIN_POSITIVE, 3.0]), 1);
    }
}
