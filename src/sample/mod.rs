//! Drawing names from a model.
//!
//! One loop draws a name: from the context's row, draw the next character, stop at `.` or at
//! the length cap. Four samplers ([`SamplerKind`]; which PyTorch each matches, and why, in
//! docs/sampling.md) differ only in how they draw one character, each in its own file: the
//! exact one (`torch.rs`) is libtorch's `multinomial` itself, the PyTorch 2.0 and 1.13 ones
//! (`torch20.rs`, `torch113.rs`) repeat those kernels in Rust, and the fast one (`fast.rs`)
//! reads precomputed tables. What they draw from, a context's row reshaped by temperature and
//! top-k ([`Shaping`]), is `rows.rs`'s. Filters (prefix, length, novelty) sit on top of the
//! loop.

mod fast;
mod rows;
mod torch;
mod torch113;
mod torch20;

use rows::Draw;
pub use rows::Shaping;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::vocab::next_context;
use crate::Named;
use std::collections::HashSet;

/// How often, in characters, a name being drawn checks for a stop request: a model that never
/// ends a name can draw for a long time under a large length cap.
const CANCEL_EVERY: usize = 4096;

/// Which sampler draws the characters. Adding one: a file in src/sample/ with its draw ([`Draw`]),
/// a variant here (`VARIANTS` lists it), its line in [`SamplerKind::describe`] and its arm in
/// [`sampler`] (the compiler asks for both), its row in docs/sampling.md.
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

/// A sampler: its model, and how it draws each character.
pub struct Sampler<'a> {
    pub model: &'a Model,
    draw: Draw<'a>,
}

/// The sampler of `kind` over `model`, its generator seeded with `seed`: libtorch's CPU
/// generator for the PyTorch 2.7 and 1.13 samplers (seeded and held while the sampler lives,
/// see [`crate::device::CpuGenerator`]), the sampler's own for the PyTorch 2.0 and fast ones.
pub fn sampler<'a>(
    model: &'a Model,
    kind: SamplerKind,
    shaping: Shaping,
    seed: i64,
) -> Result<Sampler<'a>> {
    let draw = match kind {
        SamplerKind::Torch => torch::exact(model, shaping, seed),
        SamplerKind::Torch20 => torch20::exponential_race(model, shaping, seed),
        SamplerKind::Torch113 => torch113::cumulative(model, shaping, seed),
        SamplerKind::Fast => fast::fast(model, shaping, seed)?,
    };
    Ok(Sampler { model, draw })
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

/// Draw characters after `prefix` until `.`, or until the name has `max_len` characters.
/// Returns the whole name (prefix included), without the end token. Every [`CANCEL_EVERY`]
/// characters it stops with `Interrupted` if `cancel` was raised, where `at` says.
pub fn draw_name(
    sampler: &mut Sampler<'_>,
    prefix: &[usize],
    max_len: usize,
    cancel: &Cancel,
    at: &dyn Fn() -> String,
) -> Result<Vec<usize>> {
    let (width, rows) = (sampler.model.vocab.len(), sampler.model.rows());
    let mut context = 0usize;
    let mut name = Vec::with_capacity(8);
    for &ix in prefix {
        context = next_context(context, ix, width, rows);
        name.push(ix);
    }
    while name.len() < max_len {
        let ix = (sampler.draw)(context)?;
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
/// comes (nothing is collected but, with `distinct`, the names seen, checked against memory as
/// they grow, so `n` can be as large as memory allows). An error when
/// `max_attempts` draws have been rejected, saying how many names were found, and when
/// `cancel` is raised. `emit` may fail with the caller's own error type, which stops drawing.
pub fn generate_each<E: From<Error>>(
    sampler: &mut Sampler<'_>,
    n: usize,
    filter: &Filter,
    cancel: &Cancel,
    mut emit: impl FnMut(String) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut seen = HashSet::new();
    let (left, mut seen_bytes) = (crate::memory::available(), 0);
    let (mut found, mut rejected) = (0usize, 0usize);
    while found < n {
        let at = || format!("after {found} of {}", crate::plural(n, "name"));
        cancel.check(at).map_err(E::from)?;
        let indices = draw_name(sampler, &filter.prefix, filter.max_len, cancel, &at)?;
        let vocab = &sampler.model.vocab;
        let name: String = indices.iter().map(|&i| vocab.char(i)).collect();
        let keep = indices.len() >= filter.min_len
            && !filter
                .exclude
                .as_ref()
                .is_some_and(|set| set.contains(&name))
            && (!filter.distinct || seen.insert(name.clone()));
        if keep {
            if filter.distinct {
                // A set entry, twice over while the table grows, and the name's own block.
                seen_bytes += 2 * 40 + 32 + name.len() as u64;
                let what = "the names drawn (kept so that none comes twice)";
                let advice = "ask for fewer names (-n)";
                crate::memory::refuse_growth(seen_bytes, left, what, advice)?;
            }
            found += 1;
            emit(name)?;
            continue;
        }
        rejected += 1;
        if rejected >= filter.max_attempts {
            crate::bail_input!("gave up after {} with {found} of {} found; relax --min-len/--novel/--prefix or raise --max-attempts", crate::plural(rejected, "rejected draw"), crate::plural(n, "name"));
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
    let mut sampler = sampler(model, kind, Shaping::default(), seed)?;
    generate_each::<Error>(&mut sampler, n, &filter, &Cancel::never(), |name| {
        names.push(name);
        Ok(())
    })?;
    Ok(names)
}

/// A word as the model's indices, folded to lower case if the training data was: each character
/// in its vocabulary, none the start/end token. `what` names it in errors ("prefix", "name").
pub fn encode_word(model: &Model, word: &str, what: &'static str) -> Result<Vec<usize>> {
    let lower = crate::vocab::fold_case(word);
    let read = if model.lowercase() { &lower } else { word };
    let indices = model.vocab.encode(read).map_err(|ch| {
        // A capital the model knows in lower case: say what it would read.
        let fix = match ch.is_uppercase() && model.vocab.encode(&lower).is_ok() {
            true => format!("; its names are lower case: give {lower:?}"),
            false => String::new(),
        };
        Error::input(format!(
            "{what} {word:?} has {ch:?}, which is not in the model's vocabulary {:?}{fix}",
            model.vocab.as_string()
        ))
    })?;
    if indices.contains(&0) {
        crate::bail_input!("{what} {word:?} contains '.', the start/end token");
    }
    Ok(indices)
}
