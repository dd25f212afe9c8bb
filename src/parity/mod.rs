//! `bigram parity`: run a PyTorch reference script and the same steps in Rust, and compare
//! every quantity.
//!
//! On the CPU both sides run the same libtorch kernels in the same order with the same number
//! of threads, so the default tolerance is 0: losses and weights must be bit-identical, counts
//! and names exact. On CUDA the Rust side runs on the GPU and is compared with a tolerance.
//! Two comparisons exist: the training pipeline (`scripts/reference.py`, [`run`]) and the
//! notebook's cells (`scripts/notebook_reference.py`, [`run_notebook`]).

mod notebook;
mod pipeline;
mod report;

pub use notebook::{compare_replay, run_notebook, NOTEBOOK_SCRIPT};
pub use pipeline::{run, Pipeline, REFERENCE_SCRIPT};
pub use report::{default_python, ParityConfig, ParityReport, Row, CUDA_TOLERANCE, TORCH_VERSION};
