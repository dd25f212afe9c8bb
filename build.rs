//! Link the binary so that it finds libtorch at run time and keeps its CUDA backend.
//!
//! torch-sys tells dependants where libtorch lives (`DEP_TCH_LIBTORCH_LIB`). An rpath to that
//! folder lets `bigram` run with no `LD_LIBRARY_PATH`; `--no-as-needed -ltorch` keeps
//! `libtorch.so` (and through it `libtorch_cuda.so`) linked even though no symbol of ours names
//! it, otherwise CUDA is never seen on a GPU machine.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath={lib}");
    }
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
}
