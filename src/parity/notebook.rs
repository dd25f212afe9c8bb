//! The notebook's cells against `scripts/notebook_reference.py`: every figure `bigram notebook`
//! prints, every element of its large matrices (by digest) on the CPU, the continuation
//! (In [44], In [45]), and, on the CPU, each value the cells show as text against PyTorch's.

use super::report::{run_reference, ParityConfig, ParityReport, Row, Rows};
use crate::data::Source;
use crate::device::device_name;
use crate::error::Result;
use crate::notebook::{Replay, Shown};
use serde::Deserialize;
use std::collections::BTreeMap;
use tch::Device;

/// What `scripts/notebook_reference.py` prints: every figure of the notebook.
#[derive(Debug, Deserialize)]
struct NotebookReference {
    torch: String,
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
    losses_as_written: Vec<f64>,
    losses_gradient_descent: Vec<f64>,
    continuation_losses: Vec<f64>,
    continuation_names: Vec<String>,
    /// Every value the cells show, as `[cell, text]`.
    shown: Vec<(u32, String)>,
}

/// The notebook reference script, carried inside the binary.
pub const NOTEBOOK_SCRIPT: &str = include_str!("../../scripts/notebook_reference.py");

/// Replay the notebook in Rust and with PyTorch, and compare every figure it prints.
pub fn run_notebook(config: &ParityConfig) -> Result<ParityReport> {
    tch::set_num_threads(config.threads);
    // The replay first: a data file it refuses gets its one-line error.
    let sources = [Source::File(config.data.clone())];
    let replay = crate::notebook::replay(&sources, config.device, &config.cancel)?;
    compare_replay(&replay, config)
}

/// Compare a replay of `config.data`, made on `config.device` at `config.threads`, with the
/// cells run by PyTorch at that count: the second half of [`run_notebook`], for a replay that
/// is already at hand.
pub fn compare_replay(replay: &Replay, config: &ParityConfig) -> Result<ParityReport> {
    let py: NotebookReference = run_reference(config, NOTEBOOK_SCRIPT, &[])?;
    let rows = compare_notebook(&py, replay, config);
    Ok(ParityReport {
        torch: py.torch,
        threads: config.threads,
        device: device_name(config.device),
        rows,
        pytorch_train_seconds: None,
        rust_train_seconds: None,
    })
}

fn compare_notebook(py: &NotebookReference, rs: &Replay, config: &ParityConfig) -> Vec<Row> {
    let mut rows = Rows::new(config.tolerance, config.device);
    compare_data(&mut rows, py, rs);
    compare_layer(&mut rows, py, rs, config.device == Device::Cpu);
    let e = &rs.example;
    rows.floats("In [19] P(next | c)", &py.c_probs, &e.c_probs);
    rows.float("In [20] P('a' after 'c')", py.p_a_after_c, e.p_a_after_c);
    rows.float("In [21] loss", py.loss, e.loss);
    rows.list("In [23] W.grad size", &py.grad_shape, &e.grad_shape);
    rows.floats("In [24] W.grad (27×27)", &py.grad, &e.grad);
    rows.float(
        "In [27] P('a' after 'c') after one step",
        py.p_a_after_c_after_step,
        e.p_a_after_c_after_step,
    );
    let t = &rs.training;
    rows.float(
        "In [43] train() as written",
        py.loss_as_written,
        t.loss_as_written,
    );
    rows.float(
        "In [43] train() as meant (+=)",
        py.loss_gradient_descent,
        t.loss_gradient_descent,
    );
    // Every epoch's loss too: the In [43] note describes their course.
    rows.losses(
        "In [40] loss of every epoch, as written",
        &py.losses_as_written,
        &t.as_written_by_epoch,
    );
    rows.losses(
        "In [40] loss of every epoch, as meant (+=)",
        &py.losses_gradient_descent,
        &t.gradient_descent_by_epoch,
    );
    let c = &rs.continuation;
    rows.losses(
        "In [44] loss of every epoch, smoothed",
        &py.continuation_losses,
        &c.losses,
    );
    rows.list("In [45] names", &py.continuation_names, &c.names);
    if config.device == Device::Cpu {
        compare_shown(&mut rows, &py.shown, &rs.shown);
    }
    rows.rows
}

/// Each cell's shown values as text, against what PyTorch and Python print for the same
/// values (on the CPU only: CUDA's figures match within a tolerance, which text cannot say).
fn compare_shown(rows: &mut Rows, py: &[(u32, String)], rs: &[Shown]) {
    // Each cell's texts on both sides, the cells in order.
    let mut cells: BTreeMap<u32, [Vec<&str>; 2]> = BTreeMap::new();
    for (cell, text) in py {
        cells.entry(*cell).or_default()[0].push(text);
    }
    for shown in rs {
        cells.entry(shown.cell).or_default()[1].push(&shown.text);
    }
    for (cell, [py, rs]) in cells {
        rows.list(&format!("In [{cell}] as shown"), &py, &rs);
    }
}

/// In [1]..In [9].
fn compare_data(rows: &mut Rows, py: &NotebookReference, rs: &Replay) {
    let d = &rs.data;
    let pair = |(a, b): &(char, char)| format!("{a}{b}");
    rows.list("In [1] first names", &py.first_names, &d.first_names);
    rows.list(
        "In [2] emma's bigrams",
        &py.first_bigrams.iter().map(pair).collect::<Vec<_>>(),
        &d.first_bigrams.iter().map(pair).collect::<Vec<_>>(),
    );
    rows.one("In [4] stoi, In [5] itos", &py.vocab, &d.vocab);
    rows.one("In [6] examples", &py.examples, &d.examples);
    rows.list("In [6] X[:10]", &py.x_head, &d.x_head);
    rows.list("In [6] y[:10]", &py.y_head, &d.y_head);
    rows.floats("In [7] c one-hot", &py.c_enc, &d.c_enc);
    rows.list(
        "In [8] one_hot(X)[:5]",
        &py.x_enc_head.concat(),
        &d.x_enc_head.concat(),
    );
    rows.one("In [9] X_enc dtype", &py.x_enc_dtype, &d.x_enc_dtype);
}

/// In [10]..In [18]; the digests of every element on the CPU only (CUDA is compared within a
/// tolerance, which a digest cannot express).
fn compare_layer(rows: &mut Rows, py: &NotebookReference, rs: &Replay, digests: bool) {
    let l = &rs.layer;
    rows.floats("In [10] one neuron (27×1)", &py.neuron, &l.neuron);
    rows.float("In [11] c_enc @ neuron", py.c_dot_neuron, l.c_dot_neuron);
    rows.floats("In [13] c_enc @ W", &py.c_logits, &l.c_logits);
    let mut matrix = |name: &str, py: &[Vec<f64>], rs: &[Vec<f32>], hashes: [&String; 2]| {
        rows.floats(&format!("{name}, corners"), &py.concat(), &rs.concat());
        if digests {
            rows.one(
                &format!("{name}, every element (sha256)"),
                hashes[0],
                hashes[1],
            );
        }
    };
    let d = &l.digests;
    matrix(
        "In [15] logits",
        &py.logits,
        &l.logits,
        [&py.logits_sha256, &d.logits],
    );
    matrix(
        "In [16] exp(logits)",
        &py.exp,
        &l.exp,
        [&py.exp_sha256, &d.exp],
    );
    matrix(
        "In [17] probabilities",
        &py.probs,
        &l.probs,
        [&py.probs_sha256, &d.probs],
    );
    rows.floats(
        "In [18] row sums, first and last three",
        &py.row_sums_head_tail,
        &l.row_sums_ends,
    );
    if digests {
        rows.one(
            "In [18] row sums, every element (sha256)",
            &py.row_sums_sha256,
            &l.digests.row_sums,
        );
    }
}
