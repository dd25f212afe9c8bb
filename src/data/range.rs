//! A part of one file, for counting a large file in pieces wherever it lies: bytes
//! `START..END`, or the I-th of K equal byte ranges. A piece holds exactly the lines that
//! start inside its bytes (a line that starts before them belongs to the piece before; one that
//! starts inside is read to its end), so pieces cut anywhere, mid-line too, hold every line
//! once and their counts add up to the whole file's.

use std::fmt;

/// A byte range of one file, as asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `start..end`; `None` is the end of the file.
    Bytes { start: u64, end: Option<u64> },
    /// The `index`-th (from 1) of `of` equal byte ranges.
    Shard { index: u64, of: u64 },
}

impl ByteRange {
    /// Parse `START:END` or `START:` (to the end of the file).
    pub fn parse_bytes(text: &str) -> Result<Self, String> {
        let (start, end) = text.split_once(':').ok_or_else(|| {
            format!("{text:?} is not START:END (byte offsets; END may be left out)")
        })?;
        let offset = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("{s:?} is not a byte offset (a whole number, 0 or more)"))
        };
        let start = offset(start)?;
        let end = match end.trim() {
            "" => None,
            e => Some(offset(e)?),
        };
        if end.is_some_and(|e| e < start) {
            return Err(format!("{text:?} ends before it starts"));
        }
        Ok(ByteRange::Bytes { start, end })
    }

    /// Parse `I/K`: the I-th of K equal byte ranges, 1 ≤ I ≤ K.
    pub fn parse_shard(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not I/K with 1 <= I <= K (the I-th of K equal parts)");
        let (i, k) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let of: u64 = k.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > of {
            return Err(bad());
        }
        Ok(ByteRange::Shard { index, of })
    }

    /// The bytes `[start, end)` this range stands for in a file of `size` bytes.
    pub fn bounds(self, size: u64) -> (u64, u64) {
        match self {
            ByteRange::Bytes { start, end } => {
                let end = end.unwrap_or(size).min(size);
                (start.min(end), end)
            }
            ByteRange::Shard { index, of } => {
                let at = |i: u64| (u128::from(size) * u128::from(i) / u128::from(of)) as u64;
                (at(index - 1), at(index))
            }
        }
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ByteRange::Bytes { start, end: None } => write!(f, "bytes {start}.."),
            ByteRange::Bytes {
                start,
                end: Some(end),
            } => write!(f, "bytes {start}..{end}"),
            ByteRange::Shard { index, of } => write!(f, "shard {index}/{of}"),
        }
    }
}
