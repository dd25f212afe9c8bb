//! `bigram parity`: run the PyTorch reference (`scripts/reference.py`) and the same steps in
//! Rust, and compare every quantity.
//!
//! On the CPU both sides run the same libtorch kernels in the same order with the same number
//! of threads, so the default tolerance is 0: losses and weights must be bit-identical, counts
//! and names exact. On CUDA the Rust side runs on the GPU and is compared with a tolerance.

use crate::bail_user;
use crate::data::{Corpus, DataOptions, Keep};
use crate::device::device_name;
use crate::error::user;
use crate::model::{tensor_to_vec, Model, ModelKind};
use crate::sample::sample_names;
use crate::train::{initial_weights, train_from, Method, TrainConfig};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tch::Device;

/// The reference script, carried inside the binary so `parity` works from any folder.
pub const REFERENCE_SCRIPT: &str = include_str!("../scripts/reference.py");

/// Default tolerance for floats on CUDA, where kernels differ from the CPU's.
pub const CUDA_TOLERANCE: f64 = 1e-4;

/// The Python that `scripts/setup.sh` installed torch into, as known when this binary was
/// built (`.cargo/config.toml` passes it), or `BIGRAM_PYTHON` at run time.
pub fn default_python() -> Option<PathBuf> {
    std::env::var_os("BIGRAM_PYTHON")
        .map(PathBuf::from)
        .or_else(|| option_env!("BIGRAM_PYTHON").map(PathBuf::from))
}

/// What to compare.
#[derive(Clone, Debug)]
pub struct ParityConfig {
    /// The names file.
    pub data: PathBuf,
    /// Seed of the initial weights.
    pub seed: i64,
    /// Training epochs.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// L2 weight.
    pub reg: f64,
    /// Count-model smoothing.
    pub smoothing: f64,
    /// Seed of the sampler.
    pub sample_seed: i64,
    /// Names to sample from each model.
    pub n: usize,
    /// Cap on a sampled name's length.
    pub max_len: usize,
    /// 2 (bigram) or 3 (trigram).
    pub order: usize,
    /// Device of the Rust side.
    pub device: Device,
    /// Allowed |difference| for floats (None: 0 on the CPU, [`CUDA_TOLERANCE`] on CUDA).
    pub tolerance: Option<f64>,
    /// The Python with torch 2.13.
    pub python: PathBuf,
    /// Intra-op threads on both sides.
    pub threads: i32,
    /// Test-only: added to W[0,0] on the Rust side before training, to show a failure.
    pub perturb: Option<f32>,
}

/// What the reference prints.
#[derive(Debug, Deserialize)]
struct Reference {
    torch: String,
    threads: i32,
    examples: usize,
    initial_w: Vec<f64>,
    losses: Vec<f64>,
    final_w: Vec<f64>,
    final_nll: f64,
    count_nll: f64,
    network_names: Vec<String>,
    count_names: Vec<String>,
    train_seconds: f64,
}

/// One line of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// What is compared.
    pub quantity: String,
    /// PyTorch's value (or a short form of it).
    pub pytorch: String,
    /// Rust's value.
    pub rust: String,
    /// Largest |difference| (floats), or the number of mismatches (integers, names).
    pub difference: String,
    /// What is allowed.
    pub tolerance: String,
    /// Within tolerance.
    pub ok: bool,
}

/// The comparison.
#[derive(Clone, Debug, Serialize)]
pub struct ParityReport {
    /// PyTorch version of the reference.
    pub torch: String,
    /// Threads on both sides.
    pub threads: i32,
    /// Device of the Rust side.
    pub device: String,
    /// Every compared quantity, in pipeline order.
    pub rows: Vec<Row>,
    /// Seconds of training on each side (100 epochs take about the same).
    pub pytorch_train_seconds: f64,
    /// Seconds of training in Rust.
    pub rust_train_seconds: f64,
}

impl ParityReport {
    /// True when every row holds.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.ok)
    }

    /// The first quantity that diverged, in pipeline order.
    pub fn first_failure(&self) -> Option<&Row> {
        self.rows.iter().find(|r| !r.ok)
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let header = ["quantity", "PyTorch", "Rust", "max |diff|", "tolerance", ""];
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.quantity.clone(),
                    r.pytorch.clone(),
                    r.rust.clone(),
                    r.difference.clone(),
                    r.tolerance.clone(),
                    if r.ok { "✓" } else { "✗" }.to_string(),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..6)
            .map(|i| {
                cells
                    .iter()
                    .map(|c| c[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |c: &[String]| {
            c.iter()
                .zip(&widths)
                .map(|(s, w)| format!("{s:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = format!(
            "PyTorch {} (Python reference) vs bigram on {}, {} thread(s)\n",
            self.torch, self.device, self.threads
        );
        out += &line(&header.map(String::from));
        out.push('\n');
        for c in &cells {
            out += &line(c);
            out.push('\n');
        }
        match self.first_failure() {
            None => out += "parity holds: every quantity within tolerance\n",
            Some(r) => out += &format!("parity FAILS: first divergence at {}\n", r.quantity),
        }
        out += &format!(
            "training time: PyTorch {:.3} s, Rust {:.3} s\n",
            self.pytorch_train_seconds, self.rust_train_seconds
        );
        out
    }
}

/// Run the Python reference and parse its JSON.
fn run_reference(config: &ParityConfig) -> Result<Reference> {
    let data = std::fs::canonicalize(&config.data).unwrap_or_else(|_| config.data.clone());
    let mut child = Command::new(&config.python)
        .arg("-")
        .arg("--data")
        .arg(&data)
        .args(["--seed", &config.seed.to_string()])
        .args(["--epochs", &config.epochs.to_string()])
        .args(["--lr", &config.lr.to_string()])
        .args(["--reg", &config.reg.to_string()])
        .args(["--smoothing", &config.smoothing.to_string()])
        .args(["--sample-seed", &config.sample_seed.to_string()])
        .args(["-n", &config.n.to_string()])
        .args(["--max-len", &config.max_len.to_string()])
        .args(["--order", &config.order.to_string()])
        .args(["--threads", &config.threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            user(format!(
                "cannot run Python at {}: {e}; run scripts/setup.sh, or pass --python PATH to a Python with torch 2.13",
                config.python.display()
            ))
        })?;
    child
        .stdin
        .take()
        .context("no stdin for the reference")?
        .write_all(REFERENCE_SCRIPT.as_bytes())
        .context("sending the reference script to Python")?;
    let output = child
        .wait_with_output()
        .context("waiting for the reference")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if stderr.contains("No module named 'torch'") {
            bail_user!(
                "the Python at {} has no torch; run scripts/setup.sh, or pass --python PATH to a Python with torch 2.13",
                config.python.display()
            );
        }
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        anyhow::bail!(
            "the PyTorch reference failed ({}):\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    serde_json::from_slice(&output.stdout).context("reading the reference's JSON")
}

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

/// Compare the reference and the Rust side.
pub fn run(config: &ParityConfig) -> Result<ParityReport> {
    tch::set_num_threads(config.threads);
    // Read the data first: a file the Rust side refuses gets its one-line error, not a
    // Python traceback.
    let corpus = Corpus::load(
        &config.data,
        &DataOptions {
            without_flags: true,
            ..DataOptions::default()
        },
        config.order,
        Keep {
            examples: true,
            names: false,
        },
    )?;
    let reference = run_reference(config)?;
    if reference.threads != config.threads {
        anyhow::bail!(
            "the reference ran with {} threads, not {}",
            reference.threads,
            config.threads
        );
    }
    let counts = &corpus.counts;
    let tolerance = config.tolerance.unwrap_or(match config.device {
        Device::Cpu => 0.0,
        _ => CUDA_TOLERANCE,
    });
    let tol_text = if tolerance == 0.0 {
        "identical".to_string()
    } else {
        format!("{tolerance:e}")
    };
    let mut rows = Vec::new();
    let mut floats = |quantity: String, py: &[f64], rs: &[f64], show_epoch: bool| {
        let (diff, first) = max_abs_diff(py, rs);
        let ok = py.len() == rs.len() && diff <= tolerance;
        let where_ = match (show_epoch, first) {
            (true, Some(i)) if !ok => format!(" (from epoch {})", i + 1),
            _ => String::new(),
        };
        let show = |v: &[f64]| v.last().map(|x| format!("{x:.17}")).unwrap_or_default();
        rows.push(Row {
            quantity,
            pytorch: show(py),
            rust: show(rs),
            difference: if diff == 0.0 {
                "0".into()
            } else {
                format!("{diff:.1e}{where_}")
            },
            tolerance: tol_text.clone(),
            ok,
        });
    };

    let examples = corpus.examples.as_ref().expect("asked for examples");
    let w0 = initial_weights(config.seed, counts.rows, counts.width);
    if let Some(delta) = config.perturb {
        let _ = w0.get(0).get(0).f_add_scalar_(f64::from(delta))?;
    }
    let as_f64 = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
    let shape = format!("{}×{}", counts.rows, counts.width);
    let train_config = TrainConfig {
        epochs: config.epochs,
        lr: config.lr,
        reg: config.reg,
        seed: config.seed,
        method: Method::OneHot,
        device: config.device,
    };
    let initial = as_f64(tensor_to_vec(&w0)?);
    let trained = train_from(
        w0,
        Some(examples),
        counts,
        None,
        &train_config,
        &mut |_, _| Ok(()),
    )?;
    let network = Model {
        w: trained.w.shallow_clone(),
        vocab: corpus.scan.vocab.clone(),
        order: config.order,
        kind: ModelKind::Network,
        meta: Default::default(),
    };
    let count_model =
        Model::from_counts(counts, &corpus.scan.vocab, config.order, config.smoothing);
    let network_names = sample_names(&network, config.sample_seed, config.n, config.max_len)?;
    let count_names = sample_names(&count_model, config.sample_seed, config.n, config.max_len)?;

    let exact = |quantity: &str, py: String, rs: String, mismatches: usize| Row {
        quantity: quantity.into(),
        pytorch: py,
        rust: rs,
        difference: mismatches.to_string(),
        tolerance: "exact".into(),
        ok: mismatches == 0,
    };
    let mut all = vec![exact(
        "examples",
        reference.examples.to_string(),
        examples.len().to_string(),
        usize::from(reference.examples != examples.len()),
    )];
    floats(
        format!("initial W ({shape}), last value"),
        &reference.initial_w,
        &initial,
        false,
    );
    floats(
        format!("loss, epochs 1..{} (last shown)", config.epochs),
        &reference.losses,
        &trained.losses,
        true,
    );
    floats(
        format!("final W ({shape}), last value"),
        &reference.final_w,
        &as_f64(tensor_to_vec(&trained.w)?),
        false,
    );
    floats(
        "NLL of the final W".into(),
        &[reference.final_nll],
        &[network.nll(counts)],
        false,
    );
    floats(
        format!("count model NLL (smoothing {})", config.smoothing),
        &[reference.count_nll],
        &[count_model.nll(counts)],
        false,
    );
    all.append(&mut rows);
    let names_row = |quantity: &str, py: &[String], rs: &[String]| {
        let mismatches =
            py.iter().zip(rs).filter(|(a, b)| a != b).count() + py.len().abs_diff(rs.len());
        let head = |v: &[String]| {
            let short = |n: &String| match n.char_indices().nth(12) {
                Some((cut, _)) => format!("{}…", &n[..cut]),
                None => n.clone(),
            };
            let mut s = v.iter().take(3).map(short).collect::<Vec<_>>().join(" ");
            if v.len() > 3 {
                s += " …";
            }
            s
        };
        exact(quantity, head(py), head(rs), mismatches)
    };
    all.push(names_row(
        &format!("network names (seed {})", config.sample_seed),
        &reference.network_names,
        &network_names,
    ));
    all.push(names_row(
        &format!("count model names (seed {})", config.sample_seed),
        &reference.count_names,
        &count_names,
    ));
    Ok(ParityReport {
        torch: reference.torch,
        threads: config.threads,
        device: device_name(config.device),
        rows: all,
        pytorch_train_seconds: reference.train_seconds,
        rust_train_seconds: trained.seconds,
    })
}
