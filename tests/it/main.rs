//! The integration tests: one test binary, so libtorch is linked once and the PyTorch
//! references a test runs are shared (cached per process) with every other test that asks for
//! the same one. One module per concern.

mod common;

/// This process trains in-process too: give it the allocator settings the binary gives itself
/// (`device::tune_allocator`), before `main`, while no other thread runs.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array"]
static TUNE_ALLOCATOR: extern "C" fn() = {
    extern "C" fn tune_allocator() {
        bigram::device::tune_allocator();
    }
    tune_allocator
};

mod bad_input;
mod bench;
mod checkpoint;
mod commands;
mod cuda;
mod distributed;
mod eras;
mod extras;
mod interface;
mod ipynb;
mod methods;
mod names;
mod notebook;
mod nothing_lost;
mod parity;
mod properties;
mod pyrepr;
mod reading;
mod scale;
mod setup;
mod system;
mod tensorboard;
mod training;
