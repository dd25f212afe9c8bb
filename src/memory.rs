//! Memory that grows with the data, checked before it is taken: a run that cannot fit is
//! refused at its start (from the file's size), or as soon as the data read shows it (a
//! stream), never aborted by the allocator halfway.
//!
//! What is left is the least of what the address-space limit (`ulimit -v`), the cgroup's
//! memory limit and the system's available memory allow. The estimates are upper bounds of
//! the largest tensors and lists a method holds at once; what is independent of the data
//! (libtorch itself, the 27 × 27 counts) is already in the process when the check runs.

use crate::error::Result;

/// Refuse `need` bytes of `what` (as the message names it: "the list of examples") when more
/// is needed than is left to this process; `advice` says what to do instead.
pub fn check(need: u64, what: &str, advice: &str) -> Result<()> {
    refuse_past(need, available(), what, advice)
}

/// Refuse `threads` threads when their stacks cannot all be mapped: under `ulimit -v`, OpenMP
/// aborts the process when it cannot start a thread, and libtorch starts them all at its first
/// parallel operation. Each takes a stack of `ulimit -s` (8 MiB when unlimited), besides the
/// reading and counting threads bigram itself starts (which fall back when they cannot).
pub fn check_threads(threads: usize) -> Result<()> {
    let stack = soft_limit(Limit::Stack).unwrap_or(8 << 20);
    let need = threads as u64 * (stack + (2 << 20));
    let what = format!("the stacks of {}", crate::plural(threads, "thread"));
    let advice = "give fewer --threads, or raise `ulimit -v`";
    refuse_past(need, address_space_left(), &what, advice)
}

/// [`check`] against what is `available`, when that is known: a problem with the input (exit
/// 2), which the message says how to make smaller.
fn refuse_past(need: u64, available: Option<u64>, what: &str, advice: &str) -> Result<()> {
    match available {
        Some(left) if need > left => crate::bail_input!(
            "{what} would take about {}, and {} is left to this process; {advice}",
            size(need),
            size(left)
        ),
        _ => Ok(()),
    }
}

/// Refuse a list that grows as it goes (names read from a stream, names drawn) once it holds
/// `kept` bytes, more than three quarters of what is `available`: the last quarter is left for
/// the reading itself (buffers, the checksum thread) and the list's doubling. What it would
/// take in all is not known yet.
pub fn refuse_growth(kept: u64, available: Option<u64>, what: &str, advice: &str) -> Result<()> {
    match available.map(|left| left - left / 4) {
        Some(left) if kept > left => crate::bail_input!(
            "{what} outgrew the {} this process can give it; {advice}",
            size(left)
        ),
        _ => Ok(()),
    }
}

/// In MiB below a GiB: "0.08 GiB" says too little.
fn size(bytes: u64) -> String {
    match bytes >> 30 {
        0 => format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64),
        _ => format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64),
    }
}

/// Bytes this process may still take, when something says (`None`: no limit is known).
pub fn available() -> Option<u64> {
    [address_space_left(), cgroup_left(), system_available()]
        .into_iter()
        .flatten()
        .min()
}

/// What `ulimit -v` leaves: the soft limit less the address space already mapped (`None`
/// without /proc).
fn address_space_left() -> Option<u64> {
    let limit = soft_limit(Limit::AddressSpace)?;
    Some(limit.saturating_sub(own_kib("VmSize:")? * 1024))
}

/// This process's peak resident memory in MiB (VmHWM), where /proc tells it.
pub fn peak_rss_mib() -> Option<f64> {
    Some(own_kib("VmHWM:")? as f64 / 1024.0)
}

/// A figure of this process's /proc status, in KiB.
fn own_kib(key: &str) -> Option<u64> {
    kib(&std::fs::read_to_string("/proc/self/status").ok()?, key)
}

enum Limit {
    AddressSpace,
    Stack,
}

/// A soft limit (`ulimit -v`, `ulimit -s`), when there is one.
fn soft_limit(which: Limit) -> Option<u64> {
    let resource = match which {
        Limit::AddressSpace => libc::RLIMIT_AS,
        Limit::Stack => libc::RLIMIT_STACK,
    };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct it is given.
    let known = unsafe { libc::getrlimit(resource, &mut limit) } == 0;
    (known && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// What the cgroup (v2) leaves: memory.max less memory.current (`None` without /proc).
fn cgroup_left() -> Option<u64> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    Some(read("memory.max")?.saturating_sub(read("memory.current")?))
}

/// The system's available memory and free swap (`None` without /proc).
fn system_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    Some((kib(&info, "MemAvailable:")? + kib(&info, "SwapFree:").unwrap_or(0)) * 1024)
}

/// The figure in KiB on the line of a /proc file that starts with `key`.
fn kib(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
