//! The vocabulary: which characters a model knows and the index of each (stoi / itos).
//!
//! Index 0 is always `.`, the token that marks both the start and the end of a name. The
//! default vocabulary is `.` followed by `a`..`z` (27 symbols), as in the notebook. This module
//! knows nothing of files; `data` turns lines into indices with it.

use crate::error::Result;
use std::collections::HashMap;

/// The boundary token: before the first and after the last character of every name.
pub const BOUNDARY: char = '.';

/// Marks a byte that is not an ASCII member of the vocabulary (in its table, and the fast
/// counter's).
pub const NOT_IN_VOCAB: u8 = u8::MAX;

/// An ordered set of characters with `.` at index 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<char>,
    others: HashMap<char, usize>,
    ascii: [u8; 256],
}

/// The most symbols a vocabulary holds, `.` included (an index must fit a byte, one value
/// of which marks "not in the vocabulary").
pub const MAX_SYMBOLS: usize = 255;

impl Vocab {
    /// `.` plus the 26 lower-case ASCII letters: the notebook's vocabulary.
    pub fn letters() -> Self {
        Self::parse(".abcdefghijklmnopqrstuvwxyz").expect("the built-in vocabulary is valid")
    }

    /// A vocabulary from its string form: `.` first, then each character once.
    pub fn parse(symbols: &str) -> Result<Self> {
        let chars: Vec<char> = symbols.chars().collect();
        if chars.first() != Some(&BOUNDARY) {
            crate::bail_input!(
                "a vocabulary must start with '.', the boundary token; got {symbols:?}"
            );
        }
        if chars.len() > MAX_SYMBOLS {
            crate::bail_input!(
                "a vocabulary of {} characters is too large ({MAX_SYMBOLS} at most)",
                chars.len()
            );
        }
        let mut ascii = [NOT_IN_VOCAB; 256];
        let mut others = HashMap::new();
        for (i, &c) in chars.iter().enumerate() {
            // A name is one line: a newline (or any control character) in the vocabulary
            // would let one name print as several.
            if c.is_control() {
                crate::bail_input!("the vocabulary {symbols:?} holds the control character {c:?}");
            }
            let seen = if c.is_ascii() {
                std::mem::replace(&mut ascii[c as usize], i as u8) != NOT_IN_VOCAB
            } else {
                others.insert(c, i).is_some()
            };
            if seen {
                crate::bail_input!("the vocabulary {symbols:?} lists {c:?} twice");
            }
        }
        Ok(Self {
            chars,
            others,
            ascii,
        })
    }

    /// The vocabulary of a set of characters, sorted, with `.` put first (as makemore does).
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> Result<Self> {
        let mut set: Vec<char> = chars.into_iter().filter(|&c| c != BOUNDARY).collect();
        set.sort_unstable();
        set.dedup();
        let symbols: String = std::iter::once(BOUNDARY).chain(set).collect();
        Self::parse(&symbols)
    }

    /// How many symbols, `.` included.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Never true: `.` is always there.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The index of a character (stoi), if it is in the vocabulary.
    pub fn index(&self, c: char) -> Option<usize> {
        if c.is_ascii() {
            match self.ascii[c as usize] {
                NOT_IN_VOCAB => None,
                i => Some(i as usize),
            }
        } else {
            self.others.get(&c).copied()
        }
    }

    /// The character at an index (itos).
    pub fn char(&self, index: usize) -> char {
        self.chars[index]
    }

    /// All symbols in index order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The string form, which [`Vocab::parse`] reads back (stored in checkpoints).
    pub fn as_string(&self) -> String {
        self.chars.iter().collect()
    }

    /// Indices of a word's characters, or the first character that is not in the vocabulary.
    pub fn encode(&self, word: &str) -> Result<Vec<usize>, char> {
        word.chars().map(|c| self.index(c).ok_or(c)).collect()
    }
}

/// The number of rows of a model's weight matrix: one per context of `order - 1` characters.
pub fn context_count(width: usize, order: usize) -> usize {
    width.pow(order as u32 - 1)
}

/// The row after `context` once `ix` has been read: the last `order - 1` characters read as a
/// number in base `width`, oldest first, where `rows = width^(order-1)` (for bigrams just `ix`,
/// without a division).
#[inline]
pub fn next_context(context: usize, ix: usize, width: usize, rows: usize) -> usize {
    if rows == width {
        ix
    } else {
        (context * width + ix) % rows
    }
}

/// Lower-case a name for `--lowercase`, the same way wherever names are read.
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}
