//! Compile the grad_fn shim, link the binary so that it finds libtorch at run time, and the
//! test executables so that they start with its CUDA backend.
//!
//! The shim (`src/pyrepr/grad_fn.cpp`, one function) reads the name of a tensor's autograd
//! node, which tch does not bind: it is built against the same libtorch headers, as C++17 with
//! the `_GLIBCXX_USE_CXX11_ABI` value torch-sys uses for a `LIBTORCH` folder
//! (`LIBTORCH_CXX11_ABI`, 1 unless set; PyTorch wheels since 2.7 are built with 1).
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
    compile_grad_fn_shim(lib.as_deref());
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

/// Builds `src/pyrepr/grad_fn.cpp` against libtorch's headers: `<lib>/../include`, or
/// `$LIBTORCH/include` where torch-sys did not say where its lib folder is.
fn compile_grad_fn_shim(lib: Option<&str>) {
    const SHIM: &str = "src/pyrepr/grad_fn.cpp";
    println!("cargo:rerun-if-changed={SHIM}");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let include = match (lib, std::env::var("LIBTORCH")) {
        (Some(lib), _) => std::path::Path::new(lib).join("../include"),
        (None, Ok(root)) => std::path::Path::new(&root).join("include"),
        (None, Err(_)) => {
            panic!("neither torch-sys (DEP_TCH_LIBTORCH_LIB) nor LIBTORCH says where libtorch is")
        }
    };
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .std("c++17")
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .define("GLOG_USE_GLOG_EXPORT", None)
        .file(SHIM)
        .compile("bigram_grad_fn");
}
