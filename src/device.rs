//! Where tensors live: parsing `--device` and checking that the device exists.

use crate::bail_user;
use anyhow::Result;
use tch::Device;

/// Parse `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available, else CPU), checking that the
/// device is really there: asking for CUDA on a machine without it is a user error, not a panic.
pub fn parse_device(spec: &str) -> Result<Device> {
    let spec = spec.trim().to_ascii_lowercase();
    match spec.as_str() {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(Device::cuda_if_available()),
        "cuda" => cuda(0),
        _ => match spec.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => cuda(n),
            _ => bail_user!("unknown device {spec:?}; use cpu, cuda, cuda:N or auto"),
        },
    }
}

fn cuda(index: usize) -> Result<Device> {
    if !tch::Cuda::is_available() {
        bail_user!(
            "CUDA was asked for but is not available here (no GPU, or libtorch was built without CUDA); use --device cpu or --device auto"
        );
    }
    let count = tch::Cuda::device_count() as usize;
    if index >= count {
        bail_user!("device cuda:{index} does not exist; this machine has {count} CUDA device(s) (cuda:0..cuda:{})", count - 1);
    }
    Ok(Device::Cuda(index))
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

/// Seed the global CPU generator with `seed` and run `draw` while no other thread can touch it.
pub fn with_cpu_seed<T>(seed: i64, draw: impl FnOnce() -> T) -> T {
    let _guard = CPU_GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    tch::manual_seed(seed);
    draw()
}

/// Keep freed tensor buffers in the heap instead of returning them to the kernel.
///
/// Each one-hot epoch allocates and frees several 25 MB tensors. glibc serves blocks that
/// large with fresh `mmap`s, so every epoch pays page faults for memory it just released;
/// raising the mmap and trim thresholds lets it reuse them. The operations, and so the
/// numbers, are unchanged; the one-hot loop gets about a fifth faster. Call once at start-up.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_auto_always_parse() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        assert_eq!(parse_device("CPU").unwrap(), Device::Cpu);
        assert!(parse_device("auto").is_ok());
    }

    #[test]
    fn nonsense_is_a_user_error() {
        let err = parse_device("tpu").unwrap_err();
        assert!(crate::error::is_user_error(&err));
        assert!(parse_device("cuda:x").is_err());
    }

    #[test]
    fn missing_cuda_is_a_user_error() {
        if !tch::Cuda::is_available() {
            let err = parse_device("cuda").unwrap_err();
            assert!(crate::error::is_user_error(&err));
            assert!(err.to_string().contains("not available"));
        }
        let err = parse_device("cuda:999").unwrap_err();
        assert!(crate::error::is_user_error(&err));
    }
}
