//! Reading names: lines trimmed and checked against a vocabulary, each name handed to a
//! visitor with its line number (what is accepted is said in `data`'s module doc).

use super::source::{labels, no_names, unreadable, Input, CHUNK_BYTES};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::provenance::DataFile;
use crate::vocab::{fold_case, Vocab, BOUNDARY, MAX_SYMBOLS};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Longest accepted line, in bytes: a guard against feeding the tool a file that is not a
/// list of names (a single 10 GB line would otherwise be buffered whole).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Which vocabulary to read the data with.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum VocabChoice {
    /// `.` and `a`..`z`, the notebook's vocabulary.
    #[default]
    Letters,
    /// Every character found in the data, sorted, `.` first (a first pass over the data).
    Auto,
    /// A given vocabulary, e.g. a checkpoint's.
    Fixed(Box<Vocab>),
}

/// How to read names.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Fold upper-case letters to lower case instead of rejecting them.
    pub lowercase: bool,
    /// The vocabulary to check the names against.
    pub vocab: VocabChoice,
    /// Checked between chunks: reading stops promptly when it is raised.
    pub cancel: Cancel,
    /// Threads that count a large file in parallel parts (0: one per core).
    pub threads: usize,
    /// Read only the lines that start in this part of the (one, regular) file.
    pub range: Option<super::ByteRange>,
    /// Whether the caller offers `--lowercase` and `--vocab auto`, so that a message about a
    /// character the vocabulary lacks may suggest them (otherwise it says to fix the file).
    pub offers_flags: bool,
}

/// What a pass over the data found.
#[derive(Clone, Debug)]
pub struct Scan {
    /// How the inputs were named, as one line (`a.txt, b.txt`; `stdin` for standard input).
    pub labels: String,
    /// The files, in the order read, as checkpoints record them.
    pub files: Vec<DataFile>,
    /// The vocabulary the names were checked against.
    pub vocab: Vocab,
    /// Number of names (non-blank lines).
    pub names: usize,
    /// Length of the longest name, in characters.
    pub longest: usize,
}

impl Scan {
    /// What a pass over `inputs` found; data without a name is refused.
    pub(crate) fn new(
        inputs: &[Input],
        files: Vec<DataFile>,
        vocab: &Vocab,
        names: usize,
        longest: usize,
    ) -> Result<Self> {
        let labels = labels(inputs.iter().map(|i| &i.label));
        match inputs.iter().find_map(|i| i.range) {
            Some((start, end)) if names == 0 => crate::bail_input!("data file {labels} has no names in bytes {start}..{end}: no name starts in that range; give a wider --range, or fewer parts to --shard"),
            None if names == 0 => return Err(no_names(&labels)),
            _ => {}
        }
        Ok(Scan {
            labels,
            files,
            vocab: vocab.clone(),
            names,
            longest,
        })
    }
}

/// Feed a data file's bytes (`label` names it) to `f` in large chunks, hashing every byte on a
/// second thread meanwhile when `checksum`. `f` returns `Ok(false)` to stop early; the sha256
/// (hex) comes back only when the whole input was read. At most a few chunks are in flight,
/// so memory stays flat.
pub(crate) fn read_chunks(
    mut reader: impl Read,
    label: &str,
    cancel: &Cancel,
    checksum: bool,
    mut f: impl FnMut(&[u8]) -> Result<bool>,
) -> Result<Option<String>> {
    let (to_hasher, chunks) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(4);
    let spawned = checksum.then(|| {
        std::thread::Builder::new().spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in chunks {
                hasher.update(&chunk[..]);
            }
            format!("{:x}", hasher.finalize())
        })
    });
    // No thread to spare (the system's limit, an address-space cap): hash here, between reads.
    let mut inline = matches!(spawned, Some(Err(_))).then(Sha256::new);
    let hasher = spawned.and_then(std::result::Result::ok);
    let read_all = (|| -> Result<bool> {
        loop {
            cancel.check(|| format!("while reading {label}"))?;
            let mut buf = Vec::with_capacity(CHUNK_BYTES);
            if let Err(e) = (&mut reader).take(CHUNK_BYTES as u64).read_to_end(&mut buf) {
                return Err(crate::io::read_failed(cancel, "data file", label, e));
            }
            if buf.is_empty() {
                return Ok(true);
            }
            let chunk = Arc::new(buf);
            if hasher.is_some() && to_hasher.send(Arc::clone(&chunk)).is_err() {
                return Err(Error::failed("the checksum thread stopped"));
            }
            if let Some(inline) = inline.as_mut() {
                inline.update(&chunk[..]);
            }
            if !f(&chunk)? {
                return Ok(false);
            }
        }
    })();
    drop(to_hasher);
    let sha256 = match hasher {
        Some(h) => Some(
            h.join()
                .map_err(|_| Error::failed("the checksum thread panicked"))?,
        ),
        None => inline.map(|h| format!("{:x}", h.finalize())),
    };
    let complete = read_all?;
    Ok(sha256.filter(|_| complete))
}

/// Call `visit` with each non-blank, trimmed line of an input (1-based line number, text, folded
/// to lower case with `options.lowercase`), and return its sha256 when `checksum`. Only one
/// line is ever buffered. An input restricted to a
/// byte range is still read from its start, so that line numbers are the file's own and the
/// checksum the whole file's; lines that do not start in the range are only looked past.
pub(crate) fn for_each_line(
    input: &Input,
    options: &ReadOptions,
    checksum: bool,
    mut visit: impl FnMut(usize, &str) -> Result<()>,
) -> Result<Option<String>> {
    let path = input.label.as_str();
    let bounds = input.range.unwrap_or((0, u64::MAX));
    let mut carry: Vec<u8> = Vec::new();
    let mut line = 0usize;
    // Offsets in the input of the chunk being read and of the current line's first byte.
    let (mut chunk_at, mut line_at) = (0u64, 0u64);
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
        match std::str::from_utf8(bytes) {
            Ok(text) if options.lowercase => visit(line, &fold_case(text)),
            Ok(text) => visit(line, text),
            Err(e) => Err(Error::input(format!(
                "{path}:{line}: not valid UTF-8 (byte {} of the line); names files must be UTF-8 text",
                e.valid_up_to() + 1
            ))),
        }
    };
    let reader = input.open()?;
    let sha256 = read_chunks(reader, path, &options.cancel, checksum, |chunk| {
        if line_at >= bounds.1 {
            // Past the range: read on only for the checksum.
            return Ok(checksum);
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            line += 1;
            if !(bounds.0..bounds.1).contains(&line_at) {
                // A line before the range: looked past, never held.
            } else if carry.is_empty() {
                handle(line, &chunk[start..end])?;
            } else {
                carry.extend_from_slice(&chunk[start..end]);
                check_line_length(path, line, carry.len())?;
                handle(line, &carry)?;
                carry.clear();
            }
            start = end + 1;
            line_at = chunk_at + start as u64;
            if line_at >= bounds.1 {
                return Ok(checksum);
            }
        }
        if (bounds.0..bounds.1).contains(&line_at) {
            carry.extend_from_slice(&chunk[start..]);
            check_line_length(path, line + 1, carry.len())?;
        }
        chunk_at += chunk.len() as u64;
        Ok(true)
    })?;
    if !carry.is_empty() {
        handle(line + 1, &carry)?;
    }
    Ok(sha256)
}

fn check_line_length(path: &str, line: usize, len: usize) -> Result<()> {
    if len > MAX_LINE_BYTES {
        crate::bail_input!("{path}:{line}: line longer than {MAX_LINE_BYTES} bytes; is this a file of names, one per line?");
    }
    Ok(())
}

/// The sha256 of a file, hex (to recognise training data later), read as a data file is
/// ([`read_chunks`]), stopping between chunks once `cancel` is raised.
pub fn sha256_of(path: &Path, cancel: &Cancel) -> Result<String> {
    let label = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| unreadable(&label, e))?;
    let sha256 = read_chunks(file, &label, cancel, true, |_| Ok(true))?;
    Ok(sha256.unwrap_or_default()) // always there: the whole file was read
}

/// The vocabulary `options` read the inputs with (a first pass over them for `Auto`).
pub(crate) fn resolve_vocab(inputs: &[Input], options: &ReadOptions) -> Result<Vocab> {
    match &options.vocab {
        VocabChoice::Letters => Ok(Vocab::letters()),
        VocabChoice::Fixed(v) => Ok(v.as_ref().clone()),
        VocabChoice::Auto => vocab_of(inputs, options),
    }
}

/// A first pass for `VocabChoice::Auto`: every character in the inputs.
fn vocab_of(inputs: &[Input], options: &ReadOptions) -> Result<Vocab> {
    let mut seen = std::collections::BTreeSet::new();
    for input in inputs {
        for_each_line(input, options, false, |line, text| {
            // Control characters are never letters of a name: a vocabulary built from the
            // data must not take them in (nor print them back to a terminal).
            let dot = text.contains(BOUNDARY).then_some(BOUNDARY);
            if let Some(c) = dot.or_else(|| text.chars().find(|c| c.is_control())) {
                return Err(refused(&input.label, line, text, c));
            }
            seen.extend(text.chars());
            Ok(())
        })?;
    }
    let symbols = seen.len() + usize::from(!seen.contains(&BOUNDARY));
    if symbols > MAX_SYMBOLS {
        crate::bail_input!(
            "{} has {symbols} distinct characters with '.', more than a vocabulary holds ({MAX_SYMBOLS}); is this a file of names? Keep to letters (the default vocabulary, with --lowercase), or remove the rare characters",
            labels(inputs.iter().map(|i| &i.label))
        );
    }
    Vocab::from_chars(seen)
}

/// Read the inputs, check every name against `vocab` (from [`resolve_vocab`]), and call
/// `visit` with each one: its text (trimmed, and folded with `lowercase`) and the vocabulary
/// index of each character.
pub(crate) fn scan_names(
    inputs: &[Input],
    options: &ReadOptions,
    vocab: &Vocab,
    mut visit: impl FnMut(&str, &[usize]) -> Result<()>,
) -> Result<Scan> {
    let (mut names, mut longest) = (0usize, 0usize);
    let mut indices: Vec<usize> = Vec::new();
    let mut files = Vec::with_capacity(inputs.len());
    for input in inputs {
        let path = input.label.as_str();
        let sha256 = for_each_line(input, options, true, |line, text| {
            encode_name(text, vocab, &mut indices)
                .map_err(|c| bad_char(path, line, text, c, vocab, options))?;
            names += 1;
            longest = longest.max(indices.len());
            visit(text, &indices)
        })?;
        files.push(input.record(sha256));
    }
    Scan::new(inputs, files, vocab, names, longest)
}

/// The indices of a name's characters, or the first character it may not have.
fn encode_name(text: &str, vocab: &Vocab, indices: &mut Vec<usize>) -> Result<(), char> {
    indices.clear();
    for c in text.chars() {
        match vocab.index(c) {
            Some(i) if c != BOUNDARY => indices.push(i),
            _ => return Err(c),
        }
    }
    Ok(())
}

/// A name shortened for an error message.
fn shown(text: &str) -> String {
    if text.chars().count() > 40 {
        text.chars().take(40).chain("…".chars()).collect()
    } else {
        text.to_string()
    }
}

/// The error for a character no name may have, whatever the vocabulary: the start/end token
/// `.`, or a control character.
fn refused(path: &str, line: usize, text: &str, ch: char) -> Error {
    let (name, code) = (shown(text), ch as u32);
    let at = format!("{path}:{line}: control character U+{code:04X} in {name:?}");
    Error::Input(match ch {
        BOUNDARY => format!("{path}:{line}: {name:?} contains '.', which is the start/end token and cannot be part of a name; remove it"),
        '\r' => format!("{at}: the file's lines end with a carriage return alone (old Mac style); convert them to newlines, e.g. tr '\\r' '\\n' < old.txt > new.txt"),
        _ => format!("{at}; names files are text, one name per line: remove it"),
    })
}

/// The error for a character the vocabulary does not have, with the fix that applies.
fn bad_char(
    path: &str,
    line: usize,
    text: &str,
    c: char,
    vocab: &Vocab,
    options: &ReadOptions,
) -> Error {
    if c == BOUNDARY || c.is_control() {
        return refused(path, line, text, c);
    }
    let name = shown(text);
    let at = format!(
        "{path}:{line}: character {c:?} (U+{:04X}) in {name:?} is not in the vocabulary",
        c as u32
    );
    let lower = c.to_lowercase().next().unwrap_or(c);
    let fixed = matches!(options.vocab, VocabChoice::Fixed(_));
    let lower_known = match fixed {
        true => vocab.index(lower).is_some(),
        false => lower.is_ascii_lowercase(),
    };
    let copy = "this command reads names as they are: give a lower-case copy of the file (tr A-Z a-z < in.txt > lower.txt)";
    let fix = match (options.offers_flags, fixed) {
        (true, _) => "pass --lowercase to fold names to lower case".into(),
        (false, true) => format!("{copy}, or a model trained with --lowercase"),
        (false, false) => copy.into(),
    };
    Error::Input(match () {
        _ if c.is_uppercase() && !options.lowercase && lower_known => {
            format!("{path}:{line}: upper-case {c:?} in {name:?}; {fix}")
        }
        _ if !options.offers_flags => format!("{at} this command reads with; fix the file"),
        _ if fixed => format!("{at}; the model's vocabulary cannot encode it"),
        _ => format!("{at}; pass --vocab auto to build the vocabulary from the data"),
    })
}
