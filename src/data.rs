//! Names on disk → validated character indices → bigram examples and counts.
//!
//! A data file has one name per line. Lines are read in large chunks and never all held at
//! once, so counting works on files of any size in flat memory. CRLF endings and surrounding
//! blanks are accepted, blank lines are skipped; every other surprise is a [`UserError`]
//! naming the file and line. This module owns reading and validation; what a model does with
//! the examples lives in `model` and `train`.
//!
//! [`UserError`]: crate::error::UserError

use crate::bail_user;
use crate::error::user;
use crate::vocab::{context_count, fold_case, next_context, Vocab, BOUNDARY, NOT_IN_VOCAB};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Longest accepted line, in bytes: a guard against feeding the tool a file that is not a
/// list of names (a single 10 GB line would otherwise be buffered whole).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Bytes read at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// Which vocabulary to read the data with.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum VocabChoice {
    /// `.` and `a`..`z`, the notebook's vocabulary.
    #[default]
    Letters,
    /// Every character found in the data, sorted, `.` first (a first pass over the file).
    Auto,
    /// A given vocabulary, e.g. a checkpoint's.
    Fixed(Box<Vocab>),
}

/// How to read a data file.
#[derive(Clone, Debug, Default)]
pub struct DataOptions {
    /// Fold upper-case letters to lower case instead of rejecting them.
    pub lowercase: bool,
    /// The vocabulary to check the names against.
    pub vocab: VocabChoice,
    /// The command has no `--lowercase`/`--vocab` flags: errors say to fix the file instead.
    pub without_flags: bool,
}

/// One name, as the reader hands it to a visitor.
pub struct Name<'a> {
    /// 1-based line number in the file.
    pub line: usize,
    /// The name after trimming (and folding, with `--lowercase`).
    pub text: &'a str,
    /// Vocabulary index of each character.
    pub indices: &'a [usize],
}

/// What a pass over a data file found.
#[derive(Clone, Debug)]
pub struct Scan {
    /// The file that was read.
    pub path: PathBuf,
    /// The vocabulary the names were checked against.
    pub vocab: Vocab,
    /// Number of names (non-blank lines).
    pub names: usize,
    /// Length of the longest name, in characters.
    pub longest: usize,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
}

impl Scan {
    /// Bigram examples: one per character plus the end token, for every name.
    pub fn summary(&self, examples: u64) -> String {
        format!(
            "{}: {} names, longest {} characters, {} examples, vocabulary of {} ({})",
            self.path.display(),
            self.names,
            self.longest,
            examples,
            self.vocab.len(),
            self.vocab.as_string()
        )
    }
}

/// Open a data file, turning the usual mistakes into one-line user errors.
fn open_data(path: &Path) -> Result<std::fs::File> {
    let hint = if path == Path::new("data/names.txt") {
        "; run scripts/setup.sh to fetch it, or pass --data PATH"
    } else {
        ""
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail_user!("data file {} not found{hint}", path.display())
        }
        Err(e) => bail_user!("cannot read data file {}: {e}", path.display()),
        Ok(m) if m.is_dir() => bail_user!(
            "data path {} is a directory; pass the names file itself",
            path.display()
        ),
        Ok(_) => {}
    }
    std::fs::File::open(path)
        .map_err(|e| user(format!("cannot open data file {}: {e}", path.display())))
}

/// Call `visit` with each non-blank, trimmed line (1-based line number, text), and return the
/// file's sha256. Reads in chunks; only one line is ever buffered.
pub fn for_each_line(
    path: &Path,
    mut visit: impl FnMut(usize, &str) -> Result<()>,
) -> Result<String> {
    let mut carry: Vec<u8> = Vec::new();
    let mut line = 0usize;
    let mut handle = |line: usize, bytes: &[u8]| -> Result<()> {
        let bytes = if line == 1 {
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
        } else {
            bytes
        };
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() {
            return Ok(());
        }
        if bytes.is_ascii() {
            // SAFETY: ASCII bytes are valid UTF-8 (a fast path: names are mostly ASCII).
            return visit(line, unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            user(format!(
                "{}:{line}: not valid UTF-8 (byte {} of the line); names files must be UTF-8 text",
                path.display(),
                e.valid_up_to() + 1
            ))
        })?;
        visit(line, text)
    };
    let sha256 = read_chunks(path, open_data(path)?, |chunk| {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            line += 1;
            if carry.is_empty() {
                handle(line, &chunk[start..end])?;
            } else {
                carry.extend_from_slice(&chunk[start..end]);
                check_line_length(path, line, carry.len())?;
                handle(line, &carry)?;
                carry.clear();
            }
            start = end + 1;
        }
        carry.extend_from_slice(&chunk[start..]);
        check_line_length(path, line + 1, carry.len())?;
        Ok(true)
    })?;
    if !carry.is_empty() {
        handle(line + 1, &carry)?;
    }
    sha256.ok_or_else(|| anyhow::anyhow!("{} was not read to its end", path.display()))
}

/// Feed a file to `f` in large chunks, hashing every byte on a second thread meanwhile.
/// `f` returns `Ok(false)` to stop early; the sha256 (hex) comes back only when the whole file
/// was read. At most a few chunks are in flight, so memory stays flat.
fn read_chunks(
    path: &Path,
    mut file: std::fs::File,
    mut f: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<Option<String>> {
    use std::io::Read;
    use std::sync::Arc;
    let (to_hasher, chunks) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(4);
    let hasher = std::thread::spawn(move || {
        let mut hasher = Sha256::new();
        for chunk in chunks {
            hasher.update(&chunk[..]);
        }
        format!("{:x}", hasher.finalize())
    });
    let read_all = (|| -> Result<bool> {
        loop {
            let mut buf = Vec::with_capacity(CHUNK_BYTES);
            (&mut file)
                .take(CHUNK_BYTES as u64)
                .read_to_end(&mut buf)
                .map_err(|e| user(format!("cannot read {}: {e}", path.display())))?;
            if buf.is_empty() {
                return Ok(true);
            }
            let chunk = Arc::new(buf);
            to_hasher
                .send(Arc::clone(&chunk))
                .map_err(|_| anyhow::anyhow!("the checksum thread stopped"))?;
            if !f(&chunk)? {
                return Ok(false);
            }
        }
    })();
    drop(to_hasher);
    let sha256 = hasher
        .join()
        .map_err(|_| anyhow::anyhow!("the checksum thread panicked"))?;
    Ok(read_all?.then_some(sha256))
}

fn check_line_length(path: &Path, line: usize, len: usize) -> Result<()> {
    if len > MAX_LINE_BYTES {
        bail_user!(
            "{}:{line}: line longer than {} bytes; is this a file of names, one per line?",
            path.display(),
            MAX_LINE_BYTES
        );
    }
    Ok(())
}

/// The sha256 of a file, hex (to recognise the training data later).
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open {} to checksum it", path.display()))?;
    read_chunks(path, file, |_| Ok(true))?
        .ok_or_else(|| anyhow::anyhow!("{} was not read to its end", path.display()))
}

impl DataOptions {
    /// The vocabulary these options read `path` with (a first pass over it for `--vocab auto`).
    pub fn resolve_vocab(&self, path: &Path) -> Result<Vocab> {
        match &self.vocab {
            VocabChoice::Letters => Ok(Vocab::letters()),
            VocabChoice::Fixed(v) => Ok(v.as_ref().clone()),
            VocabChoice::Auto => vocab_of_file(path, self.lowercase),
        }
    }
}

/// Read a data file, check every name against `vocab` (from [`DataOptions::resolve_vocab`]),
/// and call `visit` with each one.
pub fn scan_names(
    path: &Path,
    options: &DataOptions,
    vocab: &Vocab,
    mut visit: impl FnMut(Name<'_>) -> Result<()>,
) -> Result<Scan> {
    let mut names = 0usize;
    let mut longest = 0usize;
    let mut indices: Vec<usize> = Vec::new();
    let mut folded = String::new();
    let sha256 = for_each_line(path, |line, text| {
        let text = if options.lowercase {
            folded = fold_case(text);
            folded.as_str()
        } else {
            text
        };
        indices.clear();
        if text.is_ascii() {
            for &b in text.as_bytes() {
                match vocab.ascii_index(b) {
                    NOT_IN_VOCAB => return Err(bad_char(path, line, text, b as char, options)),
                    i => indices.push(i as usize),
                }
            }
        } else {
            for c in text.chars() {
                match vocab.index(c) {
                    Some(i) if c != BOUNDARY => indices.push(i),
                    _ => return Err(bad_char(path, line, text, c, options)),
                }
            }
        }
        if indices.contains(&0) {
            return Err(bad_char(path, line, text, BOUNDARY, options));
        }
        names += 1;
        longest = longest.max(indices.len());
        visit(Name {
            line,
            text,
            indices: &indices,
        })
    })?;
    if names == 0 {
        bail_user!(
            "data file {} has no names (it is empty or has only blank lines)",
            path.display()
        );
    }
    Ok(Scan {
        path: path.to_path_buf(),
        vocab: vocab.clone(),
        names,
        longest,
        sha256,
    })
}

/// A first pass for `--vocab auto`: every character in the file.
fn vocab_of_file(path: &Path, lowercase: bool) -> Result<Vocab> {
    let mut seen = std::collections::BTreeSet::new();
    for_each_line(path, |line, text| {
        let folded;
        let text = if lowercase {
            folded = fold_case(text);
            folded.as_str()
        } else {
            text
        };
        for c in text.chars() {
            if c == BOUNDARY {
                return Err(bad_char(path, line, text, c, &DataOptions::default()));
            }
            seen.insert(c);
        }
        Ok(())
    })?;
    Vocab::from_chars(seen)
}

/// The error for a character the vocabulary does not have, saying what to do about it.
fn bad_char(path: &Path, line: usize, text: &str, c: char, options: &DataOptions) -> anyhow::Error {
    let shown: String = if text.chars().count() > 40 {
        text.chars().take(40).chain("…".chars()).collect()
    } else {
        text.to_string()
    };
    let at = format!("{}:{line}", path.display());
    if c == BOUNDARY {
        return user(format!(
            "{at}: {shown:?} contains '.', which is the start/end token and cannot be part of a name; remove it"
        ));
    }
    if options.without_flags {
        return user(format!(
            "{at}: character {c:?} (U+{:04X}) in {shown:?} is not in the vocabulary this command reads with; fix the file",
            c as u32
        ));
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    let vocab_has_lower = match &options.vocab {
        VocabChoice::Fixed(v) => v.index(lower).is_some(),
        _ => lower.is_ascii_lowercase(),
    };
    if c.is_uppercase() && !options.lowercase && vocab_has_lower {
        return user(format!(
            "{at}: upper-case {c:?} in {shown:?}; pass --lowercase to fold names to lower case"
        ));
    }
    let fix = match &options.vocab {
        VocabChoice::Fixed(_) => "the model's vocabulary cannot encode it",
        _ => "pass --vocab auto to build the vocabulary from the data",
    };
    user(format!(
        "{at}: character {c:?} (U+{:04X}) in {shown:?} is not in the vocabulary; {fix}",
        c as u32
    ))
}

/// Bigram (or n-gram) counts: how often each next character follows each context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Contexts (rows): `width^(order-1)`.
    pub rows: usize,
    /// Vocabulary size (columns).
    pub width: usize,
    /// Row-major `rows × width` counts.
    pub cells: Vec<u64>,
}

impl Counts {
    /// All-zero counts for a vocabulary width and model order.
    pub fn new(width: usize, order: usize) -> Self {
        let rows = context_count(width, order);
        Self {
            rows,
            width,
            cells: vec![0; rows * width],
        }
    }

    /// Count every (context, next) pair of one name, `.`-padded at both ends.
    #[inline]
    pub fn add_name(&mut self, indices: &[usize]) {
        let (rows, width) = (self.rows, self.width);
        for_each_pair(indices, rows, width, |context, next| {
            self.cells[context * width + next] += 1;
        });
    }

    /// Total number of pairs counted (the number of examples).
    pub fn total(&self) -> u64 {
        self.cells.iter().sum()
    }

    /// The counts as a `rows × width` int64 tensor on the CPU.
    pub fn to_tensor(&self) -> tch::Tensor {
        let cells: Vec<i64> = self.cells.iter().map(|&c| c as i64).collect();
        tch::Tensor::from_slice(&cells).view([self.rows as i64, self.width as i64])
    }
}

/// Call `f(context_row, next_index)` for each example of a name: its characters and then the
/// end token, each with the `order - 1` characters before it (start-padded with `.`).
#[inline]
pub fn for_each_pair(
    indices: &[usize],
    rows: usize,
    width: usize,
    mut f: impl FnMut(usize, usize),
) {
    let mut context = 0usize;
    for &ix in indices.iter().chain(std::iter::once(&0)) {
        f(context, ix);
        context = next_context(context, ix, width, rows);
    }
}

/// Inputs and targets of every example, in file order (the notebook's X and y).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Examples {
    /// Context row of each example (for bigrams, the previous character's index).
    pub inputs: Vec<i64>,
    /// Index of the character that follows.
    pub targets: Vec<i64>,
}

impl Examples {
    /// Append the examples of one name.
    pub fn add_name(&mut self, indices: &[usize], rows: usize, width: usize) {
        for_each_pair(indices, rows, width, |context, next| {
            self.inputs.push(context as i64);
            self.targets.push(next as i64);
        });
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

/// What to keep in memory besides the counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keep {
    /// The example list (needed by the one-hot and index training methods).
    pub examples: bool,
    /// The names themselves (needed for splits and for novelty checks).
    pub names: bool,
}

/// A data file read once: counts always, examples and names on request.
#[derive(Debug)]
pub struct Corpus {
    /// What the pass found (path, vocabulary, sizes, checksum).
    pub scan: Scan,
    /// Model order the counts and examples were made for (2 = bigram).
    pub order: usize,
    /// Counts of every (context, next) pair.
    pub counts: Counts,
    /// Every example, when asked for.
    pub examples: Option<Examples>,
    /// Every name, when asked for.
    pub names: Option<Vec<String>>,
}

impl Corpus {
    /// Read a data file in one pass.
    pub fn load(path: &Path, options: &DataOptions, order: usize, keep: Keep) -> Result<Self> {
        let vocab = options.resolve_vocab(path)?;
        if !keep.examples && !keep.names && !options.lowercase {
            if let Some((scan, counts)) = count_plain_ascii(path, &vocab, order)? {
                return Ok(Self {
                    scan,
                    order,
                    counts,
                    examples: None,
                    names: None,
                });
            }
        }
        let mut counts = Counts::new(vocab.len(), order);
        let mut examples = keep.examples.then(Examples::default);
        let mut names = keep.names.then(Vec::new);
        let scan = scan_names(path, options, &vocab, |name| {
            counts.add_name(name.indices);
            if let Some(ex) = examples.as_mut() {
                ex.add_name(name.indices, counts.rows, counts.width);
            }
            if let Some(list) = names.as_mut() {
                list.push(name.text.to_string());
            }
            Ok(())
        })?;
        Ok(Self {
            scan,
            order,
            counts,
            examples,
            names,
        })
    }

    /// One line saying what was read (for stderr).
    pub fn summary(&self) -> String {
        self.scan.summary(self.counts.total())
    }
}

/// How to split names into train, dev and test parts: three whole percentages summing to 100,
/// written `80/10/10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitSpec {
    /// Percent of the names in each part: train, dev, test.
    pub percents: [u32; 3],
}

impl std::str::FromStr for SplitSpec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let percents: Vec<u32> = parts
            .iter()
            .map(|p| p.trim().parse::<u8>().map(u32::from))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| format!("{s:?} is not TRAIN/DEV/TEST percentages like 80/10/10"))?;
        match percents[..] {
            [train, dev, test] if train + dev + test == 100 && train > 0 => Ok(Self {
                percents: [train, dev, test],
            }),
            [_, _, _] => Err(format!(
                "{s:?}: the three parts must add up to 100, with some for training"
            )),
            _ => Err(format!(
                "{s:?} is not TRAIN/DEV/TEST percentages like 80/10/10"
            )),
        }
    }
}

impl std::fmt::Display for SplitSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.percents;
        write!(f, "{a}/{b}/{c}")
    }
}

/// One part of a split: its names, their counts and their examples.
#[derive(Clone, Debug)]
pub struct Part {
    /// The names, in shuffled order.
    pub names: Vec<String>,
    /// Counts of the part's examples.
    pub counts: Counts,
    /// The part's examples (for the one-hot and index methods).
    pub examples: Examples,
}

impl Part {
    fn of(names: Vec<String>, vocab: &Vocab, order: usize) -> Self {
        let mut counts = Counts::new(vocab.len(), order);
        let mut examples = Examples::default();
        for name in &names {
            let indices = vocab
                .encode(name)
                .expect("names were checked against this vocabulary when read");
            counts.add_name(&indices);
            examples.add_name(&indices, counts.rows, counts.width);
        }
        Self {
            names,
            counts,
            examples,
        }
    }
}

/// Train, dev and test parts of a data set.
#[derive(Clone, Debug)]
pub struct Splits {
    /// What the model is fitted on.
    pub train: Part,
    /// For choosing settings.
    pub dev: Part,
    /// For the final figure.
    pub test: Part,
}

impl Splits {
    /// Shuffle the names with `seed` (the same seed, the same parts) and cut them by `spec`.
    /// Parts are whole names; train and dev sizes are rounded down, test takes the rest.
    pub fn new(
        mut names: Vec<String>,
        vocab: &Vocab,
        order: usize,
        spec: SplitSpec,
        seed: u64,
    ) -> Self {
        fastrand::Rng::with_seed(seed).shuffle(&mut names);
        let n = names.len();
        let n_train = (n * spec.percents[0] as usize / 100).max(1);
        let n_dev = (n * spec.percents[1] as usize / 100).min(n - n_train);
        let test = names.split_off(n_train + n_dev);
        let dev = names.split_off(n_train);
        Self {
            train: Part::of(names, vocab, order),
            dev: Part::of(dev, vocab, order),
            test: Part::of(test, vocab, order),
        }
    }

    /// The parts with their names.
    pub fn parts(&self) -> [(&'static str, &Part); 3] {
        [
            ("train", &self.train),
            ("dev", &self.dev),
            ("test", &self.test),
        ]
    }
}

/// The counting fast path: one pass over the bytes with no per-line buffers, for files whose
/// names are plain ASCII vocabulary letters with optional surrounding blanks.
///
/// Returns `None` at the first byte it does not handle (a character outside the vocabulary,
/// `.`, non-ASCII text, a BOM, a blank inside a name, an over-long line), and the caller then
/// reads the file with [`scan_names`], which accepts it or reports the exact error. The counts
/// are the same either way (a unit test checks).
fn count_plain_ascii(path: &Path, vocab: &Vocab, order: usize) -> Result<Option<(Scan, Counts)>> {
    const BLANK: u8 = u8::MAX - 1;
    const NEWLINE: u8 = u8::MAX - 2;
    const _: () = assert!(NOT_IN_VOCAB > BLANK && BLANK > NEWLINE && NEWLINE > 127);
    if vocab
        .chars()
        .iter()
        .any(|c| !c.is_ascii() || c.is_ascii_whitespace())
    {
        return Ok(None);
    }
    // Byte classes: a vocabulary index (1..width), BLANK, NEWLINE, or NOT_IN_VOCAB.
    let mut class = [NOT_IN_VOCAB; 256];
    for b in 0..=255u8 {
        class[b as usize] = match b {
            b'\n' => NEWLINE,
            // What `trim_ascii` strips in the line reader.
            _ if b.is_ascii_whitespace() => BLANK,
            _ => match vocab.ascii_index(b) {
                0 => NOT_IN_VOCAB,
                i => i,
            },
        };
    }
    let mut counts = Counts::new(vocab.len(), order);
    let (rows, width) = (counts.rows, counts.width);
    let (mut names, mut longest) = (0usize, 0usize);
    // Per name: context row, length, and whether blanks followed its letters.
    let (mut context, mut len, mut trailing_blank) = (0usize, 0usize, false);
    // Offset in the file of the current line's first byte, and of the current chunk.
    let (mut line_start, mut chunk_start) = (0usize, 0usize);
    let sha256 = read_chunks(path, open_data(path)?, |chunk| {
        // Work on local copies: state reached through the closure's captures would be
        // reloaded from memory at every byte.
        let cells = &mut counts.cells[..];
        let (mut ctx, mut n, mut blank) = (context, len, trailing_blank);
        let (mut found, mut long, mut start) = (names, longest, line_start);
        for (i, &b) in chunk.iter().enumerate() {
            let c = class[b as usize];
            if c < NEWLINE {
                // A letter: the hot path (ASCII vocabularies have fewer than 128 symbols).
                if blank {
                    return Ok(false);
                }
                let ix = c as usize;
                cells[ctx * width + ix] += 1;
                ctx = next_context(ctx, ix, width, rows);
                n += 1;
                continue;
            }
            match c {
                NEWLINE => {
                    let at = chunk_start + i;
                    if at - start > MAX_LINE_BYTES {
                        return Ok(false);
                    }
                    if n > 0 {
                        cells[ctx * width] += 1;
                        found += 1;
                        long = long.max(n);
                    }
                    (ctx, n, blank) = (0, 0, false);
                    start = at + 1;
                }
                BLANK => blank = n > 0,
                _ => return Ok(false),
            }
        }
        (context, len, trailing_blank) = (ctx, n, blank);
        (names, longest, line_start) = (found, long, start);
        chunk_start += chunk.len();
        Ok(true)
    })?;
    let Some(sha256) = sha256 else {
        return Ok(None);
    };
    if chunk_start - line_start > MAX_LINE_BYTES {
        return Ok(None);
    }
    if len > 0 {
        counts.cells[context * width] += 1;
        names += 1;
        longest = longest.max(len);
    }
    if names == 0 {
        return Ok(None);
    }
    let scan = Scan {
        path: path.to_path_buf(),
        vocab: vocab.clone(),
        names,
        longest,
        sha256,
    };
    Ok(Some((scan, counts)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(content: &[u8]) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn emma_gives_the_notebook_bigrams() {
        let mut ex = Examples::default();
        let v = Vocab::letters();
        let emma: Vec<usize> = v.encode("emma").unwrap();
        ex.add_name(&emma, 27, 27);
        // ('.','e'), ('e','m'), ('m','m'), ('m','a'), ('a','.')
        assert_eq!(ex.inputs, vec![0, 5, 13, 13, 1]);
        assert_eq!(ex.targets, vec![5, 13, 13, 1, 0]);
    }

    #[test]
    fn trigram_contexts_start_with_two_dots() {
        let mut ex = Examples::default();
        ex.add_name(&[1, 2], 729, 27); // "ab"
        assert_eq!(ex.inputs, vec![0, 1, 27 + 2]);
        assert_eq!(ex.targets, vec![1, 2, 0]);
    }

    #[test]
    fn crlf_blanks_and_spaces_are_accepted() {
        let f = write(b"  emma \r\n\r\n\nava\r\nbo");
        let c = Corpus::load(
            f.path(),
            &DataOptions::default(),
            2,
            Keep {
                examples: true,
                names: true,
            },
        )
        .unwrap();
        assert_eq!(c.names.unwrap(), vec!["emma", "ava", "bo"]);
        assert_eq!(c.counts.total(), 5 + 4 + 3);
    }

    #[test]
    fn upper_case_names_the_line_and_suggests_lowercase() {
        let f = write(b"emma\nOlivia\n");
        let err = Corpus::load(f.path(), &DataOptions::default(), 2, Keep::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(":2:") && msg.contains("--lowercase"), "{msg}");
        let opts = DataOptions {
            lowercase: true,
            ..Default::default()
        };
        let c = Corpus::load(
            f.path(),
            &opts,
            2,
            Keep {
                names: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.names.unwrap()[1], "olivia");
    }

    #[test]
    fn auto_vocab_takes_hyphens_and_accents() {
        let f = write("anne-marie\nzoé\n".as_bytes());
        let opts = DataOptions {
            vocab: VocabChoice::Auto,
            ..Default::default()
        };
        let c = Corpus::load(f.path(), &opts, 2, Keep::default()).unwrap();
        assert_eq!(c.scan.vocab.as_string(), ".-aeimnorzé");
        assert_eq!(c.counts.total(), 11 + 4);
    }

    #[test]
    fn counting_fast_path_agrees_with_the_line_reader() {
        // A blank inside a name is the line reader's to refuse: the fast path hands over.
        let inner = write(b"emma\nzzyzx\tq\n");
        assert!(count_plain_ascii(inner.path(), &Vocab::letters(), 2)
            .unwrap()
            .is_none());
        let g = write(b"  emma \r\n\r\n\nava\r\nbo\nzzyzx");
        for order in [2, 3] {
            let (fast_scan, fast) = count_plain_ascii(g.path(), &Vocab::letters(), order)
                .unwrap()
                .unwrap();
            let keep = Keep {
                examples: true,
                names: false,
            };
            let slow = Corpus::load(g.path(), &DataOptions::default(), order, keep).unwrap();
            assert_eq!(fast, slow.counts);
            assert_eq!(fast_scan.names, 4);
            assert_eq!(fast_scan.longest, 5);
            assert_eq!(fast_scan.sha256, slow.scan.sha256);
        }
        let odd = write("zoé\n".as_bytes());
        assert!(count_plain_ascii(odd.path(), &Vocab::letters(), 2)
            .unwrap()
            .is_none());
    }

    #[test]
    fn split_specs_parse_and_refuse_nonsense() {
        assert_eq!(
            "80/10/10".parse::<SplitSpec>().unwrap().percents,
            [80, 10, 10]
        );
        assert!("80/10".parse::<SplitSpec>().is_err());
        assert!("80/10/20".parse::<SplitSpec>().is_err());
        assert!("0/50/50".parse::<SplitSpec>().is_err());
        assert!("a/b/c".parse::<SplitSpec>().is_err());
        assert!("4294967295/101/0".parse::<SplitSpec>().is_err());
    }

    #[test]
    fn splits_add_up_and_depend_only_on_the_seed() {
        let names: Vec<String> = (0..1003)
            .map(|i| format!("n{}", "a".repeat(i % 7 + 1)))
            .map(|n| n[1..].to_string())
            .collect();
        let v = Vocab::letters();
        let spec: SplitSpec = "80/10/10".parse().unwrap();
        let a = Splits::new(names.clone(), &v, 2, spec, 42);
        let b = Splits::new(names.clone(), &v, 2, spec, 42);
        let c = Splits::new(names.clone(), &v, 2, spec, 43);
        assert_eq!(
            (a.train.names.len(), a.dev.names.len(), a.test.names.len()),
            (802, 100, 101)
        );
        assert_eq!(a.train.names, b.train.names);
        assert_ne!(a.train.names, c.train.names);
        let total: u64 = a.parts().iter().map(|(_, p)| p.counts.total()).sum();
        let whole: u64 = names.iter().map(|n| n.len() as u64 + 1).sum();
        assert_eq!(total, whole);
    }

    #[test]
    fn chunk_boundaries_do_not_split_names() {
        // Many names so that some straddle the 1 MiB chunk edge.
        let mut content = Vec::new();
        for i in 0..200_000 {
            content.extend_from_slice(if i % 2 == 0 { b"abcdefg\n" } else { b"xyz\n" });
        }
        let f = write(&content);
        let c = Corpus::load(f.path(), &DataOptions::default(), 2, Keep::default()).unwrap();
        assert_eq!(c.scan.names, 200_000);
        assert_eq!(c.counts.total(), 100_000 * 8 + 100_000 * 4);
        assert_eq!(c.scan.sha256, sha256_file(f.path()).unwrap());
    }
}
