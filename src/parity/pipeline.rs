//! The training pipeline against `scripts/reference.py`: examples, initial and final weights,
//! every epoch's loss, the NLLs, and the names both models sample.

use super::report::{run_reference, wide, ParityReport, Row, Rows};
use crate::cancel::Cancel;
use crate::data::{Corpus, Keep, ReadOptions, Source};
use crate::device::device_name;
use crate::error::Result;
use crate::model::{tensor_to_vec, Model};
use crate::sample::{sample_names, SamplerKind};
use crate::train::{initial_weights, train_from, Epoch, Method, TrainConfig, TrainData};
use serde::Deserialize;
use std::path::PathBuf;
use tch::Device;

/// The reference script, carried inside the binary so `parity` works from any folder.
pub const REFERENCE_SCRIPT: &str = include_str!("../../scripts/reference.py");

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
    /// Allowed |difference| for floats (None: 0 on the CPU, [`super::report::CUDA_TOLERANCE`] on CUDA).
    pub tolerance: Option<f64>,
    /// The Python with torch 2.13.
    pub python: PathBuf,
    /// Intra-op threads on both sides.
    pub threads: i32,
    /// Checked between epochs.
    pub cancel: Cancel,
}

/// What the reference prints: both sides' figures, and its own.
#[derive(Debug, Deserialize)]
struct Reference {
    torch: String,
    #[serde(flatten)]
    side: Side,
    cumulative_check: CumulativeCheck,
    train_seconds: f64,
}

/// What each side computes, in the reference's terms.
#[derive(Debug, Deserialize)]
struct Side {
    examples: usize,
    initial_w: Vec<f64>,
    losses: Vec<f64>,
    final_w: Vec<f64>,
    final_nll: f64,
    count_nll: f64,
    network_names: Vec<String>,
    count_names: Vec<String>,
    network_names_cumulative: Vec<String>,
    count_names_cumulative: Vec<String>,
}

/// The reference's check of its plain cumulative sampler against PyTorch's kernel.
#[derive(Debug, Deserialize)]
struct CumulativeCheck {
    samples_per_call: usize,
    draws: usize,
    mismatches: usize,
}

/// Run the Python reference and parse its JSON.
fn python_reference(config: &ParityConfig) -> Result<Reference> {
    let flags = [
        ("--seed", config.seed.to_string()),
        ("--epochs", config.epochs.to_string()),
        ("--lr", config.lr.to_string()),
        ("--reg", config.reg.to_string()),
        ("--smoothing", config.smoothing.to_string()),
        ("--sample-seed", config.sample_seed.to_string()),
        ("-n", config.n.to_string()),
        ("--max-len", config.max_len.to_string()),
        ("--order", config.order.to_string()),
    ];
    let args: Vec<String> = flags
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect();
    let (python, data, threads) = (&config.python, &config.data, config.threads);
    run_reference(
        python,
        REFERENCE_SCRIPT,
        data,
        threads,
        &args,
        &config.cancel,
    )
}

/// Compare the reference and the Rust side.
pub fn run(config: &ParityConfig) -> Result<ParityReport> {
    crate::device::set_threads(config.threads);
    // Read the data first: a file the Rust side refuses gets its one-line error, not a
    // Python traceback.
    let read = ReadOptions {
        cancel: config.cancel.clone(),
        ..ReadOptions::default()
    };
    let keep = Keep {
        examples: true,
        names: false,
    };
    let corpus = Corpus::load(
        &[Source::File(config.data.clone())],
        &read,
        config.order,
        keep,
    )?;
    let reference = python_reference(config)?;
    config
        .cancel
        .check(|| "after the PyTorch reference".into())?;
    let counts = &corpus.counts;
    let w0 = initial_weights(config.seed, counts.rows, counts.width);
    let initial = wide(&tensor_to_vec(&w0)?);
    let train_config = TrainConfig {
        epochs: config.epochs,
        lr: config.lr,
        reg: config.reg,
        seed: config.seed,
        method: Method::OneHot,
        device: config.device,
    };
    let data = TrainData {
        examples: corpus.examples.as_ref(),
        counts,
        dev: None,
    };
    let mut check = |e: &Epoch| {
        config
            .cancel
            .check(|| format!("at epoch {} of {}", e.epoch, config.epochs))
    };
    let trained = train_from(w0, data, &train_config, &mut check)?;
    let vocab = &corpus.scan.vocab;
    let network = Model::network(trained.w.shallow_clone(), vocab, config.order);
    let count_model = Model::from_counts(counts, vocab, config.order, config.smoothing);
    let names = |model: &Model, kind: SamplerKind| {
        sample_names(model, kind, config.sample_seed, config.n, config.max_len)
    };
    let network_names = names(&network, SamplerKind::Torch)?;
    let count_names = names(&count_model, SamplerKind::Torch)?;
    let network_names_cumulative = names(&network, SamplerKind::Torch113)?;
    let count_names_cumulative = names(&count_model, SamplerKind::Torch113)?;

    let ours = Side {
        examples: corpus.examples.as_ref().map_or(0, |e| e.len()),
        initial_w: initial,
        losses: trained.losses.clone(),
        final_w: wide(&tensor_to_vec(&trained.w)?),
        final_nll: network.nll(counts)?,
        count_nll: count_model.nll(counts)?,
        network_names,
        count_names,
        network_names_cumulative,
        count_names_cumulative,
    };
    let shape = format!("{}×{}", counts.rows, counts.width);
    let rows = compare(config, &reference, &ours, &shape);
    Ok(ParityReport {
        torch: reference.torch,
        threads: config.threads,
        device: device_name(config.device),
        rows,
        pytorch_train_seconds: Some(reference.train_seconds),
        rust_train_seconds: Some(trained.seconds),
    })
}

fn compare(config: &ParityConfig, reference: &Reference, rs: &Side, shape: &str) -> Vec<Row> {
    let mut rows = Rows::new(config.tolerance, config.device);
    let py = &reference.side;
    rows.one("examples", &py.examples, &rs.examples);
    rows.floats(
        &format!("initial W ({shape}), last value"),
        &py.initial_w,
        &rs.initial_w,
        false,
    );
    rows.floats(
        &format!("loss, epochs 1..{} (last shown)", config.epochs),
        &py.losses,
        &rs.losses,
        true,
    );
    rows.floats(
        &format!("final W ({shape}), last value"),
        &py.final_w,
        &rs.final_w,
        false,
    );
    rows.floats(
        "NLL of the final W",
        &[py.final_nll],
        &[rs.final_nll],
        false,
    );
    rows.floats(
        &format!("count model NLL (smoothing {})", config.smoothing),
        &[py.count_nll],
        &[rs.count_nll],
        false,
    );
    let seed = config.sample_seed;
    rows.list(
        &format!("network names (seed {seed})"),
        &py.network_names,
        &rs.network_names,
    );
    rows.list(
        &format!("count model names (seed {seed})"),
        &py.count_names,
        &rs.count_names,
    );
    // The reference's plain cumulative draws against the kernel PyTorch still runs for more
    // than one sample: the rows below compare with PyTorch's kernel, not only our reading.
    let check = &reference.cumulative_check;
    rows.exact(
        &format!(
            "torch-1.13 draws = torch.multinomial(p, {})",
            check.samples_per_call
        ),
        format!("{} draws", check.draws),
        "(PyTorch only)".into(),
        check.mismatches,
    );
    rows.list(
        &format!("network names, torch-1.13 (seed {seed})"),
        &py.network_names_cumulative,
        &rs.network_names_cumulative,
    );
    rows.list(
        &format!("count model names, torch-1.13 (seed {seed})"),
        &py.count_names_cumulative,
        &rs.count_names_cumulative,
    );
    rows.rows
}
