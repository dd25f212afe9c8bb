//! Files and streams, in one place: outputs (`output.rs`) and inputs (`input.rs`). What the
//! bytes mean (names, checkpoints) is the business of `data` and `checkpoint`.

mod input;
mod output;

pub use input::{input_metadata, read_failed, unreadable, Source, Stopped, WatchedRead};
pub use output::*;
