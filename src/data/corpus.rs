//! A corpus: the data read once, its counts always, its examples and names on request.

use super::count::count_fast;
use super::examples::{Counts, Examples};
use super::read::{resolve_vocab, scan_names, ReadOptions, Scan, VocabChoice};
use super::source::Input;
use crate::error::Result;
use crate::io::Source;

/// Bytes an example kept takes at most: its input and target (i64 each), three times over
/// while a list grows (the old block and the one twice its size).
pub const EXAMPLE_BYTES: u64 = 48;

/// Bytes a name kept takes at most besides its text: its String (24 bytes) twice over, as the
/// list's capacity is at most twice its length, and the allocator's smallest block around
/// its text (32). (While the list doubles, the old block adds 24 more a name for a moment:
/// that is in the quarter left for reading.) 64 was short of the 80.
const NAME_BYTES: u64 = 2 * 24 + 32;

/// What to do when the examples kept, or tensors made of them, would not fit in memory.
pub const USE_COUNTS: &str = "use --method counts, whose memory does not grow with the data, or `bigram count` then `bigram train --counts`";

/// What to do when the names kept would not fit in memory.
pub const FEWER_NAMES: &str =
    "give a smaller data file (without --split, counting needs no names kept)";

/// What to keep in memory besides the counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keep {
    /// The example list (needed by the one-hot and index training methods).
    pub examples: bool,
    /// The names themselves (needed for splits and for novelty checks).
    pub names: bool,
}

/// The data read once: counts always, examples and names on request.
#[derive(Debug)]
pub struct Corpus {
    /// What the pass found (files, vocabulary, sizes, checksums).
    pub scan: Scan,
    /// Counts of every (context, next) pair.
    pub counts: Counts,
    /// Every example, when asked for.
    pub examples: Option<Examples>,
    /// Every name, when asked for.
    pub names: Option<Vec<String>>,
}

/// Every name of `sources`, in order, as a list: the data read and checked as every command
/// reads it. For code that wants the names themselves, like the notebook's first cell.
pub fn read_names(sources: &[Source], options: &ReadOptions) -> Result<Vec<String>> {
    let keep = Keep {
        examples: false,
        names: true,
    };
    let corpus = Corpus::load(sources, options, 2, keep)?;
    Ok(corpus.names.unwrap_or_default())
}

impl Corpus {
    /// Read the sources (as if they were one file) in one pass, or two for `VocabChoice::Auto`.
    pub fn load(
        sources: &[Source],
        options: &ReadOptions,
        order: usize,
        keep: Keep,
    ) -> Result<Self> {
        let twice = options.vocab == VocabChoice::Auto;
        let mut inputs = Input::prepare(sources, twice, &options.cancel)?;
        if let Some(range) = options.range {
            Input::restrict(&mut inputs, range)?;
        }
        let vocab = resolve_vocab(&inputs, options)?;
        let counts_only = !keep.examples && !keep.names && !options.lowercase;
        if counts_only && inputs.iter().all(|i| i.file().is_some()) {
            if let Some(corpus) = Self::count_only(&inputs, &vocab, order, options)? {
                return Ok(corpus);
            }
        }
        let mut counts = Counts::new(vocab.len(), order);
        let mut examples = keep.examples.then(Examples::default);
        let mut names = keep.names.then(Vec::new);
        // What is kept grows with the data (a stream may never end): refused before the
        // allocator would fail, with room for the lists' doubling as they grow.
        let left = crate::memory::available();
        let mut kept = 0u64;
        let (what, advice) = match keep.examples {
            true => ("the list of examples", USE_COUNTS),
            false => ("the names kept in memory", FEWER_NAMES),
        };
        let scan = scan_names(&inputs, options, &vocab, |text, indices| {
            if keep.examples {
                kept += EXAMPLE_BYTES * (indices.len() as u64 + 1);
            }
            if keep.names {
                kept += NAME_BYTES + text.len() as u64;
            }
            crate::memory::refuse_growth(kept, left, what, advice)?;
            counts.add_name(indices);
            if let Some(ex) = examples.as_mut() {
                ex.add_name(indices, counts.rows, counts.width);
            }
            if let Some(list) = names.as_mut() {
                list.push(text.to_string());
            }
            Ok(())
        })?;
        Ok(Self {
            scan,
            counts,
            examples,
            names,
        })
    }

    /// Counts alone, on the fast path; `None` when some input needs the line reader.
    fn count_only(
        inputs: &[Input],
        vocab: &crate::vocab::Vocab,
        order: usize,
        options: &ReadOptions,
    ) -> Result<Option<Self>> {
        let mut counts = Counts::new(vocab.len(), order);
        let (mut names, mut longest) = (0, 0);
        let mut files = Vec::new();
        for input in inputs {
            let Some((tally, sha256)) = count_fast(input, vocab, order, options)? else {
                return Ok(None);
            };
            counts.add(&tally.counts);
            names += tally.names;
            longest = longest.max(tally.longest);
            files.push(input.record(sha256));
        }
        Ok(Some(Self {
            scan: Scan::new(inputs, files, vocab, names, longest)?,
            counts,
            examples: None,
            names: None,
        }))
    }

    /// One line saying what was read (for stderr).
    pub fn summary(&self) -> String {
        let scan = &self.scan;
        format!(
            "{}: {}, longest {}, {}, vocabulary of {} ({})",
            scan.labels,
            crate::plural(scan.names, "name"),
            crate::plural(scan.longest, "character"),
            crate::plural(self.counts.total(), "example"),
            scan.vocab.len(),
            scan.vocab.as_string()
        )
    }
}
