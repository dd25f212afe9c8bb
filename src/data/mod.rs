//! Names on disk → validated character indices → bigram examples and counts.
//!
//! Data comes from files or standard input, one name per line, read in large chunks and never
//! all held at once, so counting works on data of any size in flat memory. CRLF endings and
//! surrounding blanks are accepted and blank lines skipped; every other surprise is an error
//! naming the file and line, and what to do. This module owns reading
//! and validation; what a model does with the examples lives in `model` and `train`.

mod corpus;
pub mod count;
mod examples;
mod range;
mod read;
mod source;
mod split;

pub use crate::io::Source;
pub use corpus::{read_names, Corpus, Keep, EXAMPLE_BYTES, FEWER_NAMES, USE_COUNTS};
pub use examples::{for_each_pair, Counts, Examples};
pub use range::ByteRange;
pub use read::{sha256_of, ReadOptions, Scan, VocabChoice, MAX_LINE_BYTES};
pub use source::{labels, no_names, size_of, unreadable, DEFAULT_PATH};
pub use split::{Part, SplitSpec, Splits};
