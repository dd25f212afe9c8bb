//! The counting fast path: one table-driven pass over the bytes with no per-line buffers, for
//! data whose names are plain ASCII vocabulary letters with optional surrounding blanks.
//!
//! A file is cut into parts at line starts, the parts are counted on all cores at once and
//! their counts added (counts of disjoint sets of lines add exactly), while another thread
//! computes the file's sha256. Plain bigram data (letters and newlines, nothing else) is
//! counted as byte pairs in one tight loop; other data the fast path takes goes through a
//! table of byte classes. Anything the table does not handle (a character outside the
//! vocabulary, `.`, non-ASCII text, a BOM, a blank inside a name, an over-long line) makes the
//! path hand over: the caller then reads the data with the line reader, which accepts it or
//! reports the exact error. The counts are the same either way (tests check).

use super::examples::Counts;
use super::read::{read_chunks, ReadOptions, MAX_LINE_BYTES};
use super::source::Input;
use super::source::CHUNK_BYTES;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::vocab::{next_context, Vocab, NOT_IN_VOCAB};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;

/// Files smaller than this are counted in one part (threads would cost more than they save).
const PARALLEL_MIN_BYTES: u64 = 8 << 20;

const BLANK: u8 = u8::MAX - 1;
const NEWLINE: u8 = u8::MAX - 2;
const _: () = assert!(NOT_IN_VOCAB > BLANK && BLANK > NEWLINE && NEWLINE > 127);

/// What counting found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub counts: Counts,
    /// Names (non-blank lines).
    pub names: usize,
    /// Length of the longest name.
    pub longest: usize,
}

/// Byte classes for a vocabulary: a vocabulary index (1..width), BLANK, NEWLINE, or
/// NOT_IN_VOCAB. `None` when the vocabulary is not plain ASCII.
fn classes(vocab: &Vocab) -> Option<[u8; 256]> {
    if vocab
        .chars()
        .iter()
        .any(|c| !c.is_ascii() || c.is_ascii_whitespace())
    {
        return None;
    }
    let mut class = [NOT_IN_VOCAB; 256];
    for (b, slot) in class.iter_mut().enumerate() {
        let b = b as u8;
        *slot = match b {
            b'\n' => NEWLINE,
            // What `trim_ascii` strips in the line reader.
            _ if b.is_ascii_whitespace() => BLANK,
            _ => match vocab.index(b as char) {
                Some(i) if i > 0 => i as u8,
                _ => NOT_IN_VOCAB,
            },
        };
    }
    Some(class)
}

/// Counting state across the chunks of one part, which starts at a line start.
struct PartCounter<'a> {
    class: &'a [u8; 256],
    tally: Tally,
    /// Per name: context row, length, whether blanks followed its letters.
    context: usize,
    len: usize,
    trailing_blank: bool,
    /// Offsets (within the part) of the current line's first byte and of the next chunk.
    line_start: usize,
    offset: usize,
}

impl<'a> PartCounter<'a> {
    fn new(class: &'a [u8; 256], width: usize, order: usize) -> Self {
        Self {
            class,
            tally: Tally {
                counts: Counts::new(width, order),
                names: 0,
                longest: 0,
            },
            context: 0,
            len: 0,
            trailing_blank: false,
            line_start: 0,
            offset: 0,
        }
    }

    /// Count a chunk; false to hand over to the line reader.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let (rows, width) = (self.tally.counts.rows, self.tally.counts.width);
        let class = self.class;
        // Work on locals: state reached through `self` would be reloaded at every byte.
        let cells = &mut self.tally.counts.cells[..];
        let (mut ctx, mut n, mut blank) = (self.context, self.len, self.trailing_blank);
        let (mut found, mut long, mut start) =
            (self.tally.names, self.tally.longest, self.line_start);
        for (i, &b) in chunk.iter().enumerate() {
            let c = class[b as usize];
            if c < NEWLINE {
                // A letter: the hot path.
                if blank {
                    return false;
                }
                let ix = c as usize;
                cells[ctx * width + ix] += 1;
                ctx = next_context(ctx, ix, width, rows);
                n += 1;
                continue;
            }
            match c {
                NEWLINE => {
                    let at = self.offset + i;
                    if at - start > MAX_LINE_BYTES {
                        return false;
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
                _ => return false,
            }
        }
        (self.context, self.len, self.trailing_blank) = (ctx, n, blank);
        (self.tally.names, self.tally.longest, self.line_start) = (found, long, start);
        self.offset += chunk.len();
        true
    }

    /// The part's tally once all its bytes were fed; `None` to hand over. The part ends as if
    /// a newline followed it, so a last line without one still ends its name.
    fn finish(mut self) -> Option<Tally> {
        self.feed(b"\n").then_some(self.tally)
    }
}

/// The line start at or after `offset`: just past the next newline (or the end).
fn next_line_start(src: &File, offset: u64) -> std::io::Result<u64> {
    if offset == 0 {
        return Ok(0);
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut at = offset - 1;
    loop {
        let n = src.read_at(&mut buf, at)?;
        if n == 0 {
            return Ok(at);
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(at + i as u64 + 1);
        }
        at += n as u64;
    }
}

/// Counting state across the chunks of one part of plain bigram data: nothing but
/// vocabulary letters and newlines, so no byte needs a class. Every byte pair is counted in a
/// 256 × 256 table in one tight loop (the previous byte is the only state), and the pairs are
/// read as bigrams at the end: newline-letter starts a name, letter-newline ends it.
struct PairCounter {
    table: Vec<u64>,
    prev: u8,
    longest: usize,
    /// Offsets (within the part) of the current line's first byte and of the next chunk.
    line_start: usize,
    offset: usize,
}

impl PairCounter {
    fn new() -> Self {
        Self {
            table: vec![0; 1 << 16],
            prev: b'\n',
            longest: 0,
            line_start: 0,
            offset: 0,
        }
    }

    /// Count a chunk; false when a line is longer than any name may be.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let table = &mut self.table[..];
        let mut prev = self.prev as usize;
        for &b in chunk {
            table[(prev << 8) | b as usize] += 1;
            prev = b as usize;
        }
        self.prev = prev as u8;
        // Line lengths, between the newlines memchr finds (many bytes at a time).
        for i in memchr::memchr_iter(b'\n', chunk) {
            let at = self.offset + i;
            self.longest = self.longest.max(at - self.line_start);
            self.line_start = at + 1;
        }
        self.offset += chunk.len();
        self.longest <= MAX_LINE_BYTES
    }

    /// The part's tally; `None` when some byte is not a vocabulary letter or a newline, or a
    /// line is too long (the general counter or the line reader take over). The part ends as
    /// if a newline followed it: a last line without one still ends its name, and after a
    /// newline the extra one is a blank line.
    fn finish(mut self, vocab: &Vocab) -> Option<Tally> {
        if !self.feed(b"\n") {
            return None;
        }
        // Byte → vocabulary index; the newline stands for the boundary `.` (index 0).
        let mut index = [usize::MAX; 256];
        index[b'\n' as usize] = 0;
        for (i, c) in vocab.chars().iter().enumerate().skip(1) {
            index[*c as usize] = i;
        }
        let mut counts = Counts::new(vocab.len(), 2);
        let mut names = 0;
        for (pair, &n) in self.table.iter().enumerate().filter(|(_, &n)| n > 0) {
            let (a, b) = (index[pair >> 8], index[pair & 0xff]);
            if a == usize::MAX || b == usize::MAX {
                return None;
            }
            if (a, b) == (0, 0) {
                continue; // a blank line
            }
            counts.cells[a * counts.width + b] += n;
            names += u64::from(b == 0) * n;
        }
        Some(Tally {
            counts,
            names: names as usize,
            longest: self.longest,
        })
    }
}

/// Feed the bytes `start..end` of `src` to `feed`, `chunk` at a time; false when `feed`
/// hands over or the read ends early.
fn feed_range(
    src: &File,
    (start, end): (u64, u64),
    chunk: usize,
    cancel: &Cancel,
    mut feed: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<bool> {
    let mut buf = vec![0u8; chunk.max(1)];
    let mut at = start;
    while at < end {
        if cancel.reason().is_some() {
            return Ok(false);
        }
        let want = (end - at).min(buf.len() as u64) as usize;
        let n = src.read_at(&mut buf[..want], at)?;
        if n == 0 || !feed(&buf[..n]) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

/// Count one part, which starts at a line start: the pair table for plain bigram data, the
/// byte classes for anything else the fast path takes.
fn count_part(
    src: &File,
    range: (u64, u64),
    class: &[u8; 256],
    vocab: &Vocab,
    order: usize,
    chunk: usize,
    cancel: &Cancel,
) -> std::io::Result<Option<Tally>> {
    if order == 2 {
        let mut pairs = PairCounter::new();
        if feed_range(src, range, chunk, cancel, |bytes| pairs.feed(bytes))? {
            if let Some(tally) = pairs.finish(vocab) {
                return Ok(Some(tally));
            }
        }
    }
    let mut counter = PartCounter::new(class, vocab.len(), order);
    if !feed_range(src, range, chunk, cancel, |bytes| counter.feed(bytes))? {
        return Ok(None);
    }
    Ok(counter.finish())
}

/// Count the lines of `src` that start in the bytes `[start, end)` (from the first line start
/// at or after `start` to the first at or after `end`), cut into `parts` pieces at line starts,
/// each read `chunk` bytes at a time on its own thread, and add the tallies (counts of disjoint
/// lines add exactly). `None` when any part hands over.
pub fn count_in_parts(
    src: &File,
    (start, end): (u64, u64),
    vocab: &Vocab,
    order: usize,
    parts: usize,
    chunk: usize,
    cancel: &Cancel,
) -> std::io::Result<Option<Tally>> {
    let Some(class) = classes(vocab) else {
        return Ok(None);
    };
    let first = next_line_start(src, start)?;
    let last = next_line_start(src, end)?.max(first);
    let mut cuts = vec![first];
    for k in 1..parts.max(1) as u64 {
        let cut = next_line_start(src, first + (last - first) * k / parts as u64)?;
        cuts.push(cut.clamp(*cuts.last().unwrap_or(&first), last));
    }
    cuts.push(last);
    let ranges: Vec<(u64, u64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let count = |range| count_part(src, range, &class, vocab, order, chunk, cancel);
    let count = &count;
    let tallies: Vec<std::io::Result<Option<Tally>>> = std::thread::scope(|scope| {
        // A part whose thread cannot be started (the system's thread limit) is counted
        // here instead: the sum is the same either way.
        let handles: Vec<_> = ranges[1..]
            .iter()
            .map(|&range| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || count(range))
                    .map_err(|_| range)
            })
            .collect();
        let first = count(ranges[0]);
        std::iter::once(first)
            .chain(handles.into_iter().map(|handle| {
                match handle {
                    // A panic in a counting thread is a bug: it goes on as the panic it is.
                    Ok(h) => h
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(range) => count(range),
                }
            }))
            .collect()
    });
    let mut total = Tally {
        counts: Counts::new(vocab.len(), order),
        names: 0,
        longest: 0,
    };
    for tally in tallies {
        let Some(tally) = tally? else {
            return Ok(None);
        };
        total.counts.add(&tally.counts);
        total.names += tally.names;
        total.longest = total.longest.max(tally.longest);
    }
    Ok(Some(total))
}

/// Count one file on the fast path: in parallel parts (one per core, for files large enough
/// to gain), with its sha256 computed on another thread meanwhile. `None` to hand over.
pub(crate) fn count_fast(
    input: &Input,
    vocab: &Vocab,
    order: usize,
    options: &ReadOptions,
) -> Result<Option<(Tally, Option<String>)>> {
    let cancel = &options.cancel;
    let Some(path) = input.file() else {
        return Ok(None);
    };
    let unreadable = |e| super::source::unreadable(&input.label, e);
    let file = File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    // The parts are read at offsets below the size stat gives, which a file of the kernel's
    // (/proc: 0) does not say: the line reader reads it to its end.
    if size == 0 {
        return Ok(None);
    }
    let bounds = input.range.unwrap_or((0, size));
    let parts = match bounds.1 - bounds.0 >= PARALLEL_MIN_BYTES {
        true if options.threads > 0 => options.threads,
        true => std::thread::available_parallelism().map_or(1, |n| n.get()),
        false => 1,
    };
    // The checksum covers the bytes counted: a file that grows meanwhile is read to that size.
    let hash = || {
        read_chunks(input.open()?.take(size), &input.label, cancel, true, |_| {
            Ok(true)
        })
    };
    let (tally, sha256) = std::thread::scope(|scope| {
        let hasher = std::thread::Builder::new().spawn_scoped(scope, hash);
        let tally = count_in_parts(&file, bounds, vocab, order, parts, CHUNK_BYTES, cancel);
        let sha256 = match hasher {
            Ok(hasher) => hasher
                .join()
                .unwrap_or_else(|_| Err(crate::Error::failed("the checksum thread panicked"))),
            // No thread to spare: the checksum is computed here, after the counting.
            Err(_) => hash(),
        };
        (tally, sha256)
    });
    cancel.check(|| format!("while reading {}", input.label))?;
    let Some(tally) = tally.map_err(unreadable)? else {
        return Ok(None);
    };
    Ok(Some((tally, sha256?)))
}
