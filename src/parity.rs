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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tch::Device;

/// The reference script, carried inside the binary so `parity` works from any folder.
pub const REFERENCE_SCRIPT: &str = include_str!("../scripts/reference.py");

/// Default tolerance for floats on CUDA, where kernels differ from the CPU's.
pub const CUDA_TOLERANCE: f64 = 1e-4;

/// The PyTorch version the reference must run (the one tch 0.26 binds).
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
    /// Seconds of training on each side (absent for the notebook comparison).
    pub pytorch_train_seconds: Option<f64>,
    /// Seconds of training in Rust.
    pub rust_train_seconds: Option<f64>,
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
        if let (Some(py), Some(rs)) = (self.pytorch_train_seconds, self.rust_train_seconds) {
            out += &format!("training time: PyTorch {py:.3} s, Rust {rs:.3} s\n");
        }
        out
    }
}

/// Run one of the reference scripts (sent on stdin) with `args`, and return its stdout.
fn run_python(python: &Path, script: &str, args: &[String]) -> Result<Vec<u8>> {
    let mut child = Command::new(python)
        .arg("-")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            user(format!(
                "cannot run Python at {}: {e}; run scripts/setup.sh, or pass --python PATH to a Python with torch 2.13",
                python.display()
            ))
        })?;
    let sent = child
        .stdin
        .take()
        .context("no stdin for the reference")?
        .write_all(script.as_bytes());
    // A Python that exits before reading its script closes the pipe: its exit status and
    // stderr below say why, so a broken pipe here is not the error to report.
    if let Err(e) = sent {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("sending the reference script to Python");
        }
    }
    let output = child
        .wait_with_output()
        .context("waiting for the reference")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if stderr.contains("No module named 'torch'") {
            bail_user!(
                "the Python at {} has no torch; run scripts/setup.sh, or pass --python PATH to a Python with torch 2.13",
                python.display()
            );
        }
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        anyhow::bail!(
            "the PyTorch reference failed ({}):\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(output.stdout)
}

/// Run the Python reference and parse its JSON.
fn run_reference(config: &ParityConfig) -> Result<Reference> {
    let data = std::fs::canonicalize(&config.data).unwrap_or_else(|_| config.data.clone());
    let args: Vec<String> = vec![
        "--data".into(),
        data.display().to_string(),
        "--seed".into(),
        config.seed.to_string(),
        "--epochs".into(),
        config.epochs.to_string(),
        "--lr".into(),
        config.lr.to_string(),
        "--reg".into(),
        config.reg.to_string(),
        "--smoothing".into(),
        config.smoothing.to_string(),
        "--sample-seed".into(),
        config.sample_seed.to_string(),
        "-n".into(),
        config.n.to_string(),
        "--max-len".into(),
        config.max_len.to_string(),
        "--order".into(),
        config.order.to_string(),
        "--threads".into(),
        config.threads.to_string(),
    ];
    let stdout = run_python(&config.python, REFERENCE_SCRIPT, &args)?;
    let reference: Reference =
        serde_json::from_slice(&stdout).context("reading the reference's JSON")?;
    check_threads(reference.threads, config.threads)?;
    Ok(reference)
}

fn check_threads(reference: i32, ours: i32) -> Result<()> {
    if reference != ours {
        anyhow::bail!("the reference ran with {reference} threads, not {ours}");
    }
    Ok(())
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

/// The table being built: float rows within one tolerance, other rows exact.
struct Rows {
    tolerance: f64,
    rows: Vec<Row>,
}

impl Rows {
    fn new(tolerance: f64) -> Self {
        Self {
            tolerance,
            rows: Vec::new(),
        }
    }

    fn tolerance_text(&self) -> String {
        if self.tolerance == 0.0 {
            "identical".to_string()
        } else {
            format!("{:e}", self.tolerance)
        }
    }

    /// Floats compared element by element; the last value is shown. With `per_epoch`, a
    /// mismatch says from which epoch (1-based) it starts.
    fn floats(&mut self, quantity: &str, py: &[f64], rs: &[f64], per_epoch: bool) {
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
            tolerance: self.tolerance_text(),
            ok,
        });
    }

    /// Values that must be equal; `mismatches` is how many differ.
    fn exact(&mut self, quantity: &str, py: String, rs: String, mismatches: usize) {
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
    fn one<T: PartialEq + std::fmt::Display + ?Sized>(&mut self, quantity: &str, py: &T, rs: &T) {
        self.exact(quantity, head(&[py]), head(&[rs]), usize::from(py != rs));
    }

    /// Two lists compared item by item, the first few shown.
    fn list<T: PartialEq + std::fmt::Display>(&mut self, quantity: &str, py: &[T], rs: &[T]) {
        let mismatches =
            py.iter().zip(rs).filter(|(a, b)| a != b).count() + py.len().abs_diff(rs.len());
        self.exact(quantity, head(py), head(rs), mismatches);
    }
}

/// The first three items of a list, each cut at 16 characters.
fn head<T: std::fmt::Display>(v: &[T]) -> String {
    let short = |n: &T| {
        let n = n.to_string();
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

fn default_tolerance(device: Device) -> f64 {
    match device {
        Device::Cpu => 0.0,
        _ => CUDA_TOLERANCE,
    }
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
    let counts = &corpus.counts;
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

    let mut rows = Rows::new(
        config
            .tolerance
            .unwrap_or_else(|| default_tolerance(config.device)),
    );
    rows.exact(
        "examples",
        reference.examples.to_string(),
        examples.len().to_string(),
        usize::from(reference.examples != examples.len()),
    );
    rows.floats(
        &format!("initial W ({shape}), last value"),
        &reference.initial_w,
        &initial,
        false,
    );
    rows.floats(
        &format!("loss, epochs 1..{} (last shown)", config.epochs),
        &reference.losses,
        &trained.losses,
        true,
    );
    rows.floats(
        &format!("final W ({shape}), last value"),
        &reference.final_w,
        &as_f64(tensor_to_vec(&trained.w)?),
        false,
    );
    rows.floats(
        "NLL of the final W",
        &[reference.final_nll],
        &[network.nll(counts)],
        false,
    );
    rows.floats(
        &format!("count model NLL (smoothing {})", config.smoothing),
        &[reference.count_nll],
        &[count_model.nll(counts)],
        false,
    );
    rows.list(
        &format!("network names (seed {})", config.sample_seed),
        &reference.network_names,
        &network_names,
    );
    rows.list(
        &format!("count model names (seed {})", config.sample_seed),
        &reference.count_names,
        &count_names,
    );
    Ok(ParityReport {
        torch: reference.torch,
        threads: config.threads,
        device: device_name(config.device),
        rows: rows.rows,
        pytorch_train_seconds: Some(reference.train_seconds),
        rust_train_seconds: Some(trained.seconds),
    })
}

/// What `scripts/notebook_reference.py` prints: every figure of the notebook.
#[derive(Debug, Deserialize)]
struct NotebookReference {
    torch: String,
    threads: i32,
    first_names: Vec<String>,
    first_bigrams: Vec<(char, char)>,
    vocab: String,
    examples: usize,
    x_head: Vec<i64>,
    y_head: Vec<i64>,
    c_enc: Vec<f64>,
    x_enc_head: Vec<Vec<i64>>,
    x_enc_dtype: String,
    neuron: Vec<f64>,
    c_dot_neuron: f64,
    c_logits: Vec<f64>,
    logits: Vec<Vec<f64>>,
    exp: Vec<Vec<f64>>,
    probs: Vec<Vec<f64>>,
    logits_sha256: String,
    exp_sha256: String,
    probs_sha256: String,
    row_sums_sha256: String,
    row_sums_head_tail: Vec<f64>,
    c_probs: Vec<f64>,
    p_a_after_c: f64,
    loss: f64,
    grad_shape: Vec<i64>,
    grad: Vec<f64>,
    p_a_after_c_after_step: f64,
    loss_as_written: f64,
    loss_gradient_descent: f64,
}

/// The notebook reference script, carried inside the binary.
pub const NOTEBOOK_SCRIPT: &str = include_str!("../scripts/notebook_reference.py");

/// What `parity --notebook` compares.
#[derive(Clone, Debug)]
pub struct NotebookParityConfig {
    /// The names file.
    pub data: PathBuf,
    /// Device of the Rust replay.
    pub device: Device,
    /// Allowed |difference| for floats (None: 0 on the CPU, [`CUDA_TOLERANCE`] on CUDA).
    pub tolerance: Option<f64>,
    /// The Python with torch 2.13.
    pub python: PathBuf,
    /// Intra-op threads on both sides.
    pub threads: i32,
}

/// Replay the notebook in Rust and with PyTorch, and compare every figure it prints.
pub fn run_notebook(config: &NotebookParityConfig) -> Result<ParityReport> {
    tch::set_num_threads(config.threads);
    // The replay first: a data file it refuses gets its one-line error.
    let replay = crate::notebook::replay(&config.data, config.device)?;
    let data = std::fs::canonicalize(&config.data).unwrap_or_else(|_| config.data.clone());
    let args = [
        "--data".to_string(),
        data.display().to_string(),
        "--threads".into(),
        config.threads.to_string(),
    ];
    let stdout = run_python(&config.python, NOTEBOOK_SCRIPT, &args)?;
    let py: NotebookReference =
        serde_json::from_slice(&stdout).context("reading the notebook reference's JSON")?;
    check_threads(py.threads, config.threads)?;
    let rows = compare_notebook(&py, &replay, config);
    Ok(ParityReport {
        torch: py.torch,
        threads: config.threads,
        device: device_name(config.device),
        rows,
        pytorch_train_seconds: None,
        rust_train_seconds: None,
    })
}

fn compare_notebook(
    py: &NotebookReference,
    rs: &crate::notebook::Replay,
    config: &NotebookParityConfig,
) -> Vec<Row> {
    let cpu = config.device == Device::Cpu;
    let mut rows = Rows::new(
        config
            .tolerance
            .unwrap_or_else(|| default_tolerance(config.device)),
    );
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let pair = |(a, b): &(char, char)| format!("{a}{b}");
    rows.list("In [1] first names", &py.first_names, &rs.first_names);
    rows.list(
        "In [2] first name's bigrams",
        &py.first_bigrams.iter().map(pair).collect::<Vec<_>>(),
        &rs.first_bigrams.iter().map(pair).collect::<Vec<_>>(),
    );
    rows.one("In [4] stoi, In [5] itos", &py.vocab, &rs.vocab.as_string());
    rows.one("In [6] examples", &py.examples, &rs.examples);
    rows.list("In [6] X[:10]", &py.x_head, &rs.x_head);
    rows.list("In [6] y[:10]", &py.y_head, &rs.y_head);
    rows.floats("In [7] c one-hot", &py.c_enc, &wide(&rs.c_enc), false);
    rows.list(
        "In [8] one_hot(X)[:5]",
        &py.x_enc_head.concat(),
        &rs.x_enc_head.concat(),
    );
    let kind = match rs.x_enc_kind {
        tch::Kind::Float => "torch.float32".to_string(),
        other => format!("{other:?}"),
    };
    rows.one("In [9] X_enc dtype", &py.x_enc_dtype, &kind);
    rows.floats(
        "In [10] one neuron (27×1)",
        &py.neuron,
        &wide(&rs.neuron),
        false,
    );
    rows.floats(
        "In [11] c_enc @ neuron",
        &[py.c_dot_neuron],
        &[f64::from(rs.c_dot_neuron)],
        false,
    );
    rows.floats(
        "In [13] c_enc @ W",
        &py.c_logits,
        &wide(&rs.c_logits),
        false,
    );
    let matrices = [
        (
            "In [15] logits",
            &py.logits,
            &rs.logits,
            &py.logits_sha256,
            &rs.digests.logits,
        ),
        (
            "In [16] exp(logits)",
            &py.exp,
            &rs.exp,
            &py.exp_sha256,
            &rs.digests.exp,
        ),
        (
            "In [17] probabilities",
            &py.probs,
            &rs.probs,
            &py.probs_sha256,
            &rs.digests.probs,
        ),
    ];
    for (name, py_m, rs_m, py_hash, rs_hash) in matrices {
        let rs_flat: Vec<f64> = rs_m.iter().flat_map(|r| wide(r)).collect();
        rows.floats(&format!("{name}, corners"), &py_m.concat(), &rs_flat, false);
        if cpu {
            rows.one(&format!("{name}, every element (sha256)"), py_hash, rs_hash);
        }
    }
    let n = rs.row_sums.len();
    let ends: Vec<f32> = if n >= 6 {
        [&rs.row_sums[..3], &rs.row_sums[n - 3..]].concat()
    } else {
        rs.row_sums.clone()
    };
    rows.floats(
        "In [18] row sums, first and last three",
        &py.row_sums_head_tail,
        &wide(&ends),
        false,
    );
    if cpu {
        rows.one(
            "In [18] row sums, every element (sha256)",
            &py.row_sums_sha256,
            &rs.digests.row_sums,
        );
    }
    rows.floats(
        "In [19] P(next | c)",
        &py.c_probs,
        &wide(&rs.c_probs),
        false,
    );
    rows.floats(
        "In [20] P('a' after 'c')",
        &[py.p_a_after_c],
        &[f64::from(rs.p_a_after_c)],
        false,
    );
    rows.floats("In [21] loss", &[py.loss], &[f64::from(rs.loss)], false);
    rows.list("In [23] W.grad size", &py.grad_shape, &rs.grad_shape);
    rows.floats("In [24] W.grad (27×27)", &py.grad, &wide(&rs.grad), false);
    rows.floats(
        "In [27] P('a' after 'c') after one step",
        &[py.p_a_after_c_after_step],
        &[f64::from(rs.p_a_after_c_after_step)],
        false,
    );
    rows.floats(
        "In [43] train() as written",
        &[py.loss_as_written],
        &[rs.loss_as_written],
        false,
    );
    rows.floats(
        "In [43] train() as meant (+=)",
        &[py.loss_gradient_descent],
        &[rs.loss_gradient_descent],
        false,
    );
    rows.rows
}
