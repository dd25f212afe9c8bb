//! bigram: a character-level bigram model of names on tch (libtorch), a faithful port of a
//! PyTorch notebook, finished: training with smoothing, a count model, sampling, evaluation,
//! checkpoints, and a checker of parity with PyTorch.
//!
//! Data flows `vocab` → `data` → `model` → `train` / `sample` → `cli`; `notebook` replays the
//! original notebook with the same code, and `parity` compares it with a PyTorch reference.

pub mod cli;
pub mod data;
pub mod device;
pub mod error;
pub mod model;
pub mod notebook;
pub mod parity;
pub mod plot;
pub mod sample;
pub mod train;
pub mod tune;
pub mod vocab;
