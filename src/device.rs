//! Where tensors live and how libtorch runs: parsing a device, the global CPU generator, and
//! what libtorch this process loaded.

use crate::error::Result;
use std::path::PathBuf;
use tch::{Device, Tensor};

/// Parse `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available, else CPU), checking that the
/// device is really there: asking for CUDA on a machine without it is an error, not a panic.
pub fn parse_device(spec: &str) -> Result<Device> {
    let spec = spec.trim().to_ascii_lowercase();
    match spec.as_str() {
        "cpu" => Ok(Device::Cpu),
        "auto" => {
            // A backend that cannot load leaves the CPU, as on a machine without CUDA.
            let _ = load_cuda_backend();
            Ok(Device::cuda_if_available())
        }
        "cuda" => cuda(0),
        _ => match spec.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => cuda(n),
            _ => crate::bail_input!("unknown device {spec:?}; use cpu, cuda, cuda:N or auto"),
        },
    }
}

fn cuda(index: usize) -> Result<Device> {
    if let Err(error) = load_cuda_backend() {
        crate::bail_input!("CUDA was asked for, but libtorch's GPU backend did not load: {error}; use --device cpu or --device auto");
    }
    if !tch::Cuda::is_available() {
        crate::bail_input!("CUDA was asked for but is not available here (no GPU, or libtorch was built without CUDA); use --device cpu or --device auto");
    }
    let count = tch::Cuda::device_count() as usize;
    if index >= count {
        crate::bail_input!(
            "device cuda:{index} does not exist; this machine has {} (cuda:0..cuda:{})",
            crate::plural(count, "CUDA device"),
            count.saturating_sub(1)
        );
    }
    Ok(Device::Cuda(index))
}

/// Load libtorch's GPU backend, once per process; what the loader said if it failed. The
/// binary does not link it, to start 0.13 s sooner (docs/gpu.md): this loads `libtorch.so`
/// beside the loaded `libtorch_cpu`, which brings the backend its build has. libtorch asks
/// which devices exist once and keeps the answer, so this must run before the first tensor
/// operation. A process linked with the backend (the test executables) loads nothing new.
pub fn load_cuda_backend() -> std::result::Result<(), String> {
    static LOADED: std::sync::OnceLock<std::result::Result<(), String>> =
        std::sync::OnceLock::new();
    LOADED.get_or_init(open_gpu_backend).clone()
}

fn open_gpu_backend() -> std::result::Result<(), String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // Without /proc (macOS, where CUDA does not exist) there is nothing to find or load.
    let library = loaded_library_dir("libtorch_cpu").map(|dir| dir.join("libtorch.so"));
    let Some(library) = library.filter(|library| library.exists()) else {
        return Ok(());
    };
    // SAFETY: loading runs libtorch's own initialisers, which register its kernels. The
    // library is never closed (forgotten): those kernels must stay for the life of the process.
    let loaded = unsafe { Library::open(Some(&library), RTLD_NOW | RTLD_GLOBAL) };
    loaded.map(std::mem::forget).map_err(|e| e.to_string())
}

/// A device's name as the user would type it.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(n) => format!("cuda:{n}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Serialises use of libtorch's global CPU generator: seeding and the draws that follow must
/// not interleave with another thread's (tests run in parallel threads).
static CPU_GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Whether this thread holds [`CPU_GENERATOR`]: a second hold would wait for itself forever.
    static HELD_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The global CPU generator, seeded and held: what is drawn from it follows from the seed, and no
/// other thread seeds or draws through it until it is dropped. tch has no generator object, so
/// this stands for one, for a program that draws from one generator at a time.
pub struct CpuGenerator {
    _held: std::sync::MutexGuard<'static, ()>,
}

impl CpuGenerator {
    /// `torch.Generator().manual_seed(seed)`: seeds the CPU's generator and holds it. Panics
    /// when this thread holds it already (the lock is not re-entrant: it would deadlock).
    pub fn manual_seed(seed: i64) -> Self {
        assert!(
            !HELD_HERE.replace(true),
            "this thread already holds the CPU generator; drop that CpuGenerator first"
        );
        let held = CPU_GENERATOR
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tch::manual_seed(seed);
        Self { _held: held }
    }

    /// `torch.randn(shape, generator=self)`: float32, on the CPU.
    pub fn randn(&self, shape: impl AsRef<[i64]>) -> Tensor {
        Tensor::randn(shape.as_ref(), tch::kind::FLOAT_CPU)
    }

    /// `torch.multinomial(probs, samples, replacement, generator=self)`, for `probs` on the CPU.
    pub fn multinomial(&self, probs: &Tensor, samples: i64, replacement: bool) -> Result<Tensor> {
        Ok(probs.f_multinomial(samples, replacement)?)
    }
}

impl Drop for CpuGenerator {
    fn drop(&mut self) {
        HELD_HERE.set(false);
    }
}

/// Keep freed tensor buffers in the heap instead of returning them to the kernel.
///
/// Each one-hot epoch allocates and frees several 25 MB tensors. glibc serves blocks that
/// large with fresh `mmap`s, so every epoch pays page faults for memory it just released;
/// raising the mmap and trim thresholds lets it reuse them. The operations, and so the
/// numbers, are unchanged; the one-hot loop gets about a fifth faster. Call once at start-up.
///
/// One arena for every thread, too: glibc gives each thread that allocates an arena of its
/// own, reserving 64 MB of address space that no memory check sees, so under `ulimit -v` a
/// list the checks allowed could still fail to grow (an abort, not a refusal).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// What this process runs on, for `bigram --version` and bug reports: the loaded libtorch's
/// version (when it says) and folder, the CUDA devices it sees, and its own thread count.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Runtime {
    pub libtorch: Option<String>,
    pub libtorch_dir: Option<PathBuf>,
    pub cuda_devices: usize,
    /// The CUDA runtime version libtorch's CUDA backend was built for (`12.8`, `13.0`), when
    /// that backend is loaded: present on a CUDA build even where no GPU is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda_runtime: Option<String>,
    /// Why libtorch's GPU backend did not load, when it was there and failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda_backend_error: Option<String>,
    pub default_threads: i32,
}

pub fn runtime() -> Runtime {
    let libtorch_dir = loaded_library_dir("libtorch_cpu");
    let libtorch = libtorch_dir.as_deref().and_then(version_near);
    let cuda_backend_error = load_cuda_backend().err();
    let cuda_runtime = tch::utils::has_cudart().then(|| {
        let version = tch::utils::version_cudart();
        format!("{}.{}", version / 1000, version % 1000 / 10)
    });
    Runtime {
        libtorch,
        libtorch_dir,
        // libtorch's is_available() is device_count() > 0.
        cuda_devices: tch::Cuda::device_count().max(0) as usize,
        cuda_runtime,
        cuda_backend_error,
        default_threads: tch::get_num_threads(),
    }
}

/// The version written beside a libtorch `lib` folder: `build-version` in a libtorch
/// download, `version.py` in a PyTorch install (`__version__ = '2.13.0+cu130'`).
fn version_near(lib: &std::path::Path) -> Option<String> {
    let root = lib.parent()?;
    if let Ok(v) = std::fs::read_to_string(root.join("build-version")) {
        return Some(v.trim().to_string());
    }
    let py = std::fs::read_to_string(root.join("version.py")).ok()?;
    let line = py.lines().find(|l| l.starts_with("__version__"))?;
    let value = line.split_once('=')?.1.trim();
    Some(value.trim_matches(|c| c == '\'' || c == '"').to_string())
}

/// The folder of a loaded shared library whose file name starts with `stem`, from this
/// process's memory map (None where there is no /proc).
fn loaded_library_dir(stem: &str) -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let library = maps
        .lines()
        .filter_map(|line| line.find('/').map(|at| std::path::Path::new(&line[at..])))
        .find(|path| {
            let name = path.file_name().map(|name| name.to_string_lossy());
            name.is_some_and(|name| name.starts_with(stem))
        })?;
    std::fs::canonicalize(library.parent()?).ok()
}
