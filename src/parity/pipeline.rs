//! The training pipeline against `scripts/reference.py`: examples, initial and final weights,
//! every epoch's loss, the NLLs, and the names both models sample.

use super::report::{run_reference, wide, ParityConfig, ParityReport, Row, Rows};
use crate::data::{Corpus, Keep, ReadOptions, Source};
use crate::device::device_name;
use crate::error::Result;
use crate::model::{tensor_to_vec, Model};
use crate::sample::{sample_names, SamplerKind};
use crate::train::{initial_weights, train_from, Epoch, Method, TrainConfig, TrainData};
use serde::Deserialize;

/// The reference script, carried inside the binary so `parity` works from any folder.
pub const REFERENCE_SCRIPT: &str = include_str!("../../scripts/reference.py");

/// What the pipeline comparison trains and draws: the network with `train`'s epochs, rate, L2
/// weight and seed (by the notebook's one-hot method, as the reference trains it, on the
/// config's device); the count model with `smoothing`; and `n` names of at most `max_len`
/// characters drawn from each with `sample_seed`, at `order`.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub train: TrainConfig,
    pub smoothing: f64,
    pub sample_seed: i64,
    pub n: usize,
    pub max_len: usize,
    pub order: usize,
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
fn python_reference(config: &ParityConfig, pipeline: &Pipeline) -> Result<Reference> {
    let flags = [
        ("--seed", pipeline.train.seed.to_string()),
        ("--epochs", pipeline.train.epochs.to_string()),
        ("--lr", pipeline.train.lr.to_string()),
        ("--reg", pipeline.train.reg.to_string()),
        ("--smoothing", pipeline.smoothing.to_string()),
        ("--sample-seed", pipeline.sample_seed.to_string()),
        ("-n", pipeline.n.to_string()),
        ("--max-len", pipeline.max_len.to_string()),
        ("--order", pipeline.order.to_string()),
    ];
    let args: Vec<String> = flags
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect();
    run_reference(config, REFERENCE_SCRIPT, &args)
}

/// Compare the reference and the Rust side.
pub fn run(config: &ParityConfig, pipeline: &Pipeline) -> Result<ParityReport> {
    tch::set_num_threads(config.threads);
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
        pipeline.order,
        keep,
    )?;
    let reference = python_reference(config, pipeline)?;
    config
        .cancel
        .check(|| "after the PyTorch reference".into())?;
    let counts = &corpus.counts;
    let train = TrainConfig {
        method: Method::OneHot,
        device: config.device,
        ..pipeline.train
    };
    let w0 = initial_weights(train.seed, counts.rows, counts.width);
    let initial = wide(&tensor_to_vec(&w0)?);
    let data = TrainData {
        examples: corpus.examples.as_ref(),
        counts,
        dev: None,
    };
    let mut check = |e: &Epoch| {
        config
            .cancel
            .check(|| format!("at epoch {} of {}", e.epoch, train.epochs))
    };
    let trained = train_from(w0, data, &train, &mut check)?;
    let vocab = &corpus.scan.vocab;
    let network = Model::network(trained.w.shallow_clone(), vocab, pipeline.order);
    let count_model = Model::from_counts(counts, vocab, pipeline.order, pipeline.smoothing);
    let (seed, n, max_len) = (pipeline.sample_seed, pipeline.n, pipeline.max_len);
    let names = |model: &Model, kind| sample_names(model, kind, seed, n, max_len);
    let ours = Side {
        examples: corpus.examples.as_ref().map_or(0, |e| e.len()),
        initial_w: initial,
        losses: trained.losses.clone(),
        final_w: wide(&tensor_to_vec(&trained.w)?),
        final_nll: network.nll(counts)?,
        count_nll: count_model.nll(counts)?,
        network_names: names(&network, SamplerKind::Torch)?,
        count_names: names(&count_model, SamplerKind::Torch)?,
        network_names_cumulative: names(&network, SamplerKind::Torch113)?,
        count_names_cumulative: names(&count_model, SamplerKind::Torch113)?,
    };
    let shape = format!("{}×{}", counts.rows, counts.width);
    let rows = compare(config, pipeline, &reference, &ours, &shape);
    Ok(ParityReport {
        torch: reference.torch,
        threads: config.threads,
        device: device_name(config.device),
        rows,
        pytorch_train_seconds: Some(reference.train_seconds),
        rust_train_seconds: Some(trained.seconds),
    })
}

fn compare(
    config: &ParityConfig,
    pipeline: &Pipeline,
    reference: &Reference,
    rs: &Side,
    shape: &str,
) -> Vec<Row> {
    let mut rows = Rows::new(config.tolerance, config.device);
    let py = &reference.side;
    rows.one("examples", &py.examples, &rs.examples);
    rows.floats(
        &format!("initial W ({shape}), last value"),
        &py.initial_w,
        &rs.initial_w,
    );
    rows.losses(
        &format!("loss, epochs 1..{} (last shown)", pipeline.train.epochs),
        &py.losses,
        &rs.losses,
    );
    rows.floats(
        &format!("final W ({shape}), last value"),
        &py.final_w,
        &rs.final_w,
    );
    rows.float("NLL of the final W", py.final_nll, rs.final_nll);
    rows.float(
        &format!("count model NLL (smoothing {})", pipeline.smoothing),
        py.count_nll,
        rs.count_nll,
    );
    let seed = pipeline.sample_seed;
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
