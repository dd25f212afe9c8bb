//! Link the binary so that it finds libtorch at run time, and the test executables so that
//! they start with its CUDA backend.
//!
//! torch-sys tells dependants where libtorch lives (`DEP_TCH_LIBTORCH_LIB`). An rpath to that
//! folder lets `bigram` run with no `LD_LIBRARY_PATH` (`DYLD_LIBRARY_PATH` on macOS).
//!
//! The binary does not link `libtorch.so`, the library that brings `libtorch_cuda.so`: it
//! loads it when a command may use a GPU (`bigram::device::load_cuda_backend`), so that every
//! other command starts without the CUDA backend's start-up. The integration tests link it
//! (`--no-as-needed -ltorch`, Linux only): they run CUDA code in-process, after other tests
//! have already asked libtorch which devices exist. Only GNU-style linkers take these flags:
//! Apple's spells the rpath `-rpath,<dir>` and has no `--no-as-needed` (nor CUDA); other
//! targets get neither.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").ok();
    match os.as_str() {
        "linux" => {
            if let Some(lib) = lib {
                println!("cargo:rustc-link-arg=-Wl,-rpath={lib}");
            }
            println!("cargo:rustc-link-arg-tests=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg-tests=-ltorch");
        }
        "macos" => {
            if let Some(lib) = lib {
                println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
            }
        }
        _ => {}
    }
}
