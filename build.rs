//! Link the binary so that it finds libtorch at run time and keeps its CUDA backend.
//!
//! torch-sys tells dependants where libtorch lives (`DEP_TCH_LIBTORCH_LIB`). An rpath to that
//! folder lets `bigram` run with no `LD_LIBRARY_PATH` (`DYLD_LIBRARY_PATH` on macOS). On Linux,
//! `--no-as-needed -ltorch` also keeps `libtorch.so` (and through it `libtorch_cuda.so`) linked
//! even though no symbol of ours names it; otherwise CUDA is never seen on a GPU machine.
//! Only GNU-style linkers take these flags: Apple's spells the rpath `-rpath,<dir>` and has no
//! `--no-as-needed` (nor CUDA); other targets get neither.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").ok();
    match os.as_str() {
        "linux" => {
            if let Some(lib) = lib {
                println!("cargo:rustc-link-arg=-Wl,-rpath={lib}");
            }
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg=-ltorch");
        }
        "macos" => {
            if let Some(lib) = lib {
                println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
            }
        }
        _ => {}
    }
}
