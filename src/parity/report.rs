//! What both parity comparisons share: their config, the Python reference run (found,
//! started, its output parsed) and the table of rows compared, with its tolerance.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::PathBuf;
use std::process::Command;
use tch::Device;

/// Where and how a comparison runs, the pipeline's or the notebook's: on the names in `data`
/// (the reference reads it by path), the Rust side on `device`, floats within `tolerance`
/// (None: 0 on the CPU, [`CUDA_TOLERANCE`] on CUDA), the reference run by `python` (with
/// torch 2.13), both sides at `threads` intra-op threads; `cancel` is checked between epochs.
#[derive(Clone, Debug)]
pub struct ParityConfig {
    pub data: PathBuf,
    pub device: Device,
    pub tolerance: Option<f64>,
    pub python: PathBuf,
    pub threads: i32,
    pub cancel: Cancel,
}

/// Default tolerance for floats on CUDA, where kernels differ from the CPU's.
pub const CUDA_TOLERANCE: f64 = 1e-4;

/// What to do when no Python with torch can run the references.
const NO_TORCH_FIX: &str =
    "run scripts/setup.sh, or pass --python PATH to a Python with torch 2.13";

/// The PyTorch version the references must run (the one tch 0.26 binds).
pub const TORCH_VERSION: &str = "2.13.0";

/// The Python with torch to run the references with, looked up at run time: `BIGRAM_PYTHON`,
/// else the `bin/python` of `BIGRAM_VENV`, else of the venv `scripts/setup.sh` shares between
/// checkouts (`$XDG_CACHE_HOME` or `~/.cache`, `bigram/torch-2.13.0-venv`) when it exists.
pub fn default_python() -> Option<PathBuf> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(python) = env("BIGRAM_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let venv = match env("BIGRAM_VENV") {
        Some(venv) => PathBuf::from(venv),
        None => env("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".cache")))?
            .join("bigram")
            .join(format!("torch-{TORCH_VERSION}-venv")),
    };
    let python = venv.join("bin").join("python");
    python.is_file().then_some(python)
}

/// One line of the table: a quantity, PyTorch's value and Rust's (or short forms of them).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub quantity: String,
    pub pytorch: String,
    pub rust: String,
    /// Largest |difference| (floats), or the number of mismatches (integers, names).
    pub difference: String,
    pub tolerance: String,
    /// Within tolerance.
    pub ok: bool,
}

/// The comparison: the reference's PyTorch version, the threads on both sides, the Rust side's
/// device, every quantity in pipeline order, and the seconds of training on each side (absent
/// for the notebook comparison).
#[derive(Clone, Debug, Serialize)]
pub struct ParityReport {
    pub torch: String,
    pub threads: i32,
    pub device: String,
    pub rows: Vec<Row>,
    pub pytorch_train_seconds: Option<f64>,
    pub rust_train_seconds: Option<f64>,
}

impl ParityReport {
    /// The first quantity that diverged.
    pub fn first_failure(&self) -> Option<&Row> {
        self.rows.iter().find(|r| !r.ok)
    }

    /// The table, each column as wide as its widest cell, then the verdict.
    pub fn render(&self) -> String {
        let header = ["quantity", "PyTorch", "Rust", "max |diff|", "tolerance", ""];
        let rows = self.rows.iter().map(|r| {
            let mark = if r.ok { "✓" } else { "✗" };
            [
                &*r.quantity,
                &*r.pytorch,
                &*r.rust,
                &*r.difference,
                &*r.tolerance,
                mark,
            ]
        });
        let cells: Vec<[&str; 6]> = std::iter::once(header).chain(rows).collect();
        let widths: [usize; 6] = std::array::from_fn(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        });
        let threads = crate::plural(self.threads, "thread");
        let mut out = format!(
            "PyTorch {} (Python reference) vs bigram on {}, {threads}\n",
            self.torch, self.device
        );
        for c in &cells {
            let padded: Vec<String> = c
                .iter()
                .zip(widths)
                .map(|(s, w)| format!("{s:<w$}"))
                .collect();
            out += padded.join("  ").trim_end();
            out.push('\n');
        }
        match self.first_failure() {
            None => out += "parity holds: every quantity within tolerance\n",
            Some(r) => out += &format!("parity FAILS: first divergence at {}\n", r.quantity),
        }
        if let (Some(py), Some(rs)) = (self.pytorch_train_seconds, self.rust_train_seconds) {
            out += &format!("training time: PyTorch {py:.3} s, Rust {rs:.3} s\n");
        }
        out
    }
}

/// Run one of the reference scripts (sent on stdin) with `config`'s Python on its data at its
/// thread count, with `args` besides, and parse the JSON it prints. A stop request ends the
/// Python at once ([`crate::child`]).
pub(super) fn run_reference<T: serde::de::DeserializeOwned>(
    config: &ParityConfig,
    script: &str,
    args: &[String],
) -> Result<T> {
    let (python, threads) = (&config.python, config.threads);
    let data = std::fs::canonicalize(&config.data).unwrap_or_else(|_| config.data.clone());
    let mut command = Command::new(python);
    command.arg("-").arg("--data").arg(data);
    command.arg("--threads").arg(threads.to_string()).args(args);
    let output = crate::child::run(
        command,
        script.as_bytes(),
        &config.cancel,
        "the PyTorch reference",
        |e| {
            Error::input(format!(
                "cannot run Python at {}: {e}; {NO_TORCH_FIX}",
                python.display()
            ))
        },
    )?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if stderr.contains("No module named 'torch'") {
            crate::bail_input!(
                "the Python at {} has no torch; {NO_TORCH_FIX}",
                python.display()
            );
        }
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(Error::failed(format!(
            "the PyTorch reference failed ({}):\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    parse_reference(&output.stdout, threads)
}

/// Parse a reference's JSON and check that it ran with the asked thread count.
fn parse_reference<T: serde::de::DeserializeOwned>(stdout: &[u8], threads: i32) -> Result<T> {
    #[derive(serde::Deserialize)]
    struct Threads {
        threads: i32,
    }
    let unexpected = |e: serde_json::Error| {
        Error::failed(format!(
            "the PyTorch reference printed something unexpected: {e}"
        ))
    };
    let seen: Threads = serde_json::from_slice(stdout).map_err(unexpected)?;
    if seen.threads != threads {
        return Err(Error::failed(format!(
            "the reference ran with {}, not {threads}",
            crate::plural(seen.threads, "thread")
        )));
    }
    serde_json::from_slice(stdout).map_err(unexpected)
}

/// The largest |difference| (NaN against a number counts as infinite), and where the first
/// difference is.
fn max_abs_diff(a: &[f64], b: &[f64]) -> (f64, Option<usize>) {
    let mut worst = 0.0f64;
    let mut first = None;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = if x == y { 0.0 } else { (x - y).abs() };
        let d = if d.is_nan() { f64::INFINITY } else { d };
        if d > 0.0 && first.is_none() {
            first = Some(i);
        }
        worst = worst.max(d);
    }
    (worst, first)
}

/// The table being built: float rows within one tolerance, other rows exact.
pub(super) struct Rows {
    tolerance: f64,
    pub(super) rows: Vec<Row>,
}

impl Rows {
    /// A table whose floats are within `tolerance`: by default 0 on the CPU, where both sides
    /// run the same kernels, and [`CUDA_TOLERANCE`] on CUDA.
    pub(super) fn new(tolerance: Option<f64>, device: Device) -> Self {
        let tolerance = tolerance.unwrap_or(match device {
            Device::Cpu => 0.0,
            _ => CUDA_TOLERANCE,
        });
        Self {
            tolerance,
            rows: Vec::new(),
        }
    }

    /// Floats compared element by element, Rust's float32 or float64 as float64; the last
    /// value is shown.
    pub(super) fn floats<T: Copy + Into<f64>>(&mut self, quantity: &str, py: &[f64], rs: &[T]) {
        let rs: Vec<f64> = rs.iter().map(|&x| x.into()).collect();
        self.compare_floats(quantity, py, &rs, false);
    }

    /// One loss per epoch: a mismatch says from which epoch (1-based) it starts.
    pub(super) fn losses(&mut self, quantity: &str, py: &[f64], rs: &[f64]) {
        self.compare_floats(quantity, py, rs, true);
    }

    fn compare_floats(&mut self, quantity: &str, py: &[f64], rs: &[f64], per_epoch: bool) {
        let (diff, first) = max_abs_diff(py, rs);
        let ok = py.len() == rs.len() && diff <= self.tolerance;
        let from = match (per_epoch, first) {
            (true, Some(i)) if !ok => format!(" (from epoch {})", i + 1),
            _ => String::new(),
        };
        let show = |v: &[f64]| v.last().map(|x| format!("{x:.17}")).unwrap_or_default();
        self.rows.push(Row {
            quantity: quantity.into(),
            pytorch: show(py),
            rust: show(rs),
            difference: if diff == 0.0 {
                "0".into()
            } else {
                format!("{diff:.1e}{from}")
            },
            tolerance: match self.tolerance {
                0.0 => "identical".into(),
                t => format!("{t:e}"),
            },
            ok,
        });
    }

    pub(super) fn float(&mut self, quantity: &str, py: f64, rs: impl Into<f64>) {
        self.floats(quantity, &[py], &[rs.into()]);
    }

    /// Values that must be equal; `mismatches` is how many differ.
    pub(super) fn exact(&mut self, quantity: &str, py: String, rs: String, mismatches: usize) {
        self.rows.push(Row {
            quantity: quantity.into(),
            pytorch: py,
            rust: rs,
            difference: mismatches.to_string(),
            tolerance: "exact".into(),
            ok: mismatches == 0,
        });
    }

    /// One value that must be equal on both sides.
    pub(super) fn one<T: PartialEq + std::fmt::Display + ?Sized>(
        &mut self,
        quantity: &str,
        py: &T,
        rs: &T,
    ) {
        self.exact(quantity, head(&[py]), head(&[rs]), usize::from(py != rs));
    }

    /// Two lists compared item by item, the first few shown.
    pub(super) fn list<T: PartialEq + std::fmt::Display>(
        &mut self,
        quantity: &str,
        py: &[T],
        rs: &[T],
    ) {
        let mismatches =
            py.iter().zip(rs).filter(|(a, b)| a != b).count() + py.len().abs_diff(rs.len());
        self.exact(quantity, head(py), head(rs), mismatches);
    }
}

/// The first three items of a list, each on one line (a newline shown as ⏎) and cut at 16
/// characters.
fn head<T: std::fmt::Display>(v: &[T]) -> String {
    let short = |n: &T| {
        let n = n.to_string().replace('\n', "⏎");
        match n.char_indices().nth(16) {
            Some((cut, _)) => format!("{}…", &n[..cut]),
            None => n,
        }
    };
    let mut s = v.iter().take(3).map(short).collect::<Vec<_>>().join(" ");
    if v.len() > 3 {
        s += " …";
    }
    s
}

/// float32 values as the float64 the table compares.
pub(super) fn wide(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}
