//! The integration tests: one test binary, so libtorch is linked once and the PyTorch
//! references a test runs are shared (cached per process) with every other test that asks for
//! the same one. One module per concern.

mod common;

mod bad_input;
mod bench;
mod commands;
mod cuda;
mod distributed;
mod extras;
mod interface;
mod methods;
mod names;
mod notebook;
mod nothing_lost;
mod parity;
mod properties;
mod scale;
mod setup;
