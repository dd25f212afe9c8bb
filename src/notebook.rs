//! `bigram notebook`: the notebook replayed cell by cell with the library's own code.
//!
//! [`replay`] computes every value the notebook prints and returns them in a [`Replay`];
//! [`Replay::print`] writes them under their cell numbers with PyTorch's 4-decimal formatting
//! and a short word on what each cell does. Tests read the numbers from the struct, so the
//! printing can change without weakening them.

use crate::data::{Corpus, DataOptions, Keep};
use crate::model::tensor_to_vec;
use crate::train::{apply_update, initial_weights, onehot_epoch, OneHot, Update};
use crate::vocab::Vocab;
use anyhow::Result;
use std::fmt::Write as _;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The seed of the notebook's generator.
pub const SEED: i64 = 42;
/// Epochs of `In [40]`.
pub const EPOCHS: usize = 100;
/// Learning rate of `In [40]`.
pub const LEARNING_RATE: f64 = 50.0;
/// Learning rate of the single demonstration step, `In [26]`.
pub const DEMO_LEARNING_RATE: f64 = 0.01;

/// A 6×6 summary of a large matrix: its first and last three rows and columns, as PyTorch
/// prints it.
pub type Corners = Vec<Vec<f32>>;

/// sha256 (hex) of the float32 bytes of the large matrices of In [15]..In [18].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digests {
    /// X_enc @ W.
    pub logits: String,
    /// exp(logits).
    pub exp: String,
    /// The probabilities.
    pub probs: String,
    /// Their row sums.
    pub row_sums: String,
}

fn digest(t: &Tensor) -> Result<String> {
    use sha2::{Digest, Sha256};
    let bytes: Vec<u8> = tensor_to_vec(t)?
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

/// Everything the notebook prints.
#[derive(Debug)]
pub struct Replay {
    /// In [1]: the first three names.
    pub first_names: Vec<String>,
    /// In [2]: the bigrams of the first name (the notebook shows "emma", names.txt's first),
    /// made by the library's own example code.
    pub first_bigrams: Vec<(char, char)>,
    /// In [4]/[5]: the vocabulary (stoi and itos are its two directions).
    pub vocab: Vocab,
    /// In [6]: number of examples.
    pub examples: usize,
    /// In [6]: X[:10].
    pub x_head: Vec<i64>,
    /// In [6]: y[:10].
    pub y_head: Vec<i64>,
    /// In [7]: the one-hot encoding of 'c'.
    pub c_enc: Vec<f32>,
    /// In [8]: the first five one-hot rows of X, as integers.
    pub x_enc_head: Vec<Vec<i64>>,
    /// In [9]: X_enc's kind after `.float()`.
    pub x_enc_kind: Kind,
    /// In [10]: the single neuron, 27×1 from seed 42.
    pub neuron: Vec<f32>,
    /// In [11]: c_enc @ neuron.
    pub c_dot_neuron: f32,
    /// In [13]: c_enc @ W, W 27×27 from seed 42 (row 3 of W).
    pub c_logits: Vec<f32>,
    /// In [15]: corners of X_enc @ W.
    pub logits: Corners,
    /// sha256 of every float32 of X_enc @ W, exp(logits), the probabilities and their row
    /// sums: what parity compares element for element on the CPU.
    pub digests: Digests,
    /// In [16]: corners of exp(logits).
    pub exp: Corners,
    /// In [17]: corners of the probabilities.
    pub probs: Corners,
    /// In [18]: every row sum of the probabilities (all 1 up to rounding).
    pub row_sums: Vec<f32>,
    /// In [19]: probabilities of the letter after 'c'.
    pub c_probs: Vec<f32>,
    /// In [20]: P('a' after 'c').
    pub p_a_after_c: f32,
    /// In [21]: -log P('a' after 'c').
    pub loss: f32,
    /// In [23]: the gradient's shape.
    pub grad_shape: Vec<i64>,
    /// In [24]: the full gradient, row-major.
    pub grad: Vec<f32>,
    /// In [27]: P('a' after 'c') after one step of 0.01.
    pub p_a_after_c_after_step: f32,
    /// In [43]: the loss `train()` returns with `W.data = -50 * W.grad` as written.
    pub loss_as_written: f64,
    /// The loss of the same 100 epochs with the intended `W.data += -50 * W.grad`.
    pub loss_gradient_descent: f64,
}

fn corners(t: &Tensor) -> Corners {
    let (rows, cols) = t.size2().unwrap_or((0, 0));
    let pick = |n: i64| -> Vec<i64> {
        if n <= 6 {
            (0..n).collect()
        } else {
            vec![0, 1, 2, n - 3, n - 2, n - 1]
        }
    };
    let t = t.detach().to_device(Device::Cpu);
    pick(rows)
        .into_iter()
        .map(|r| {
            pick(cols)
                .into_iter()
                .map(|c| t.double_value(&[r, c]) as f32)
                .collect()
        })
        .collect()
}

/// Run the notebook on `data` with the tensors on `device` (initial weights are always drawn
/// on the CPU and then moved).
pub fn replay(data: &Path, device: Device) -> Result<Replay> {
    let corpus = Corpus::load(
        data,
        &DataOptions {
            without_flags: true,
            ..DataOptions::default()
        },
        2,
        Keep {
            examples: true,
            names: true,
        },
    )?;
    if corpus.counts.total() < 10 {
        crate::bail_user!(
            "{}: the notebook replay shows the first 10 examples and needs at least that many bigrams",
            data.display()
        );
    }
    let names = corpus.names.as_deref().unwrap_or_default();
    let examples = corpus.examples.as_ref().expect("asked for examples");
    let vocab = corpus.scan.vocab.clone();
    let width = vocab.len() as i64;
    let c = vocab.index('c').expect("'c' is a letter") as i64;
    let a = vocab.index('a').expect("'a' is a letter") as i64;

    let first_names: Vec<String> = names.iter().take(3).cloned().collect();
    let first_bigrams = first_name_bigrams(names, &vocab);

    // In [7]: one-hot by hand.
    let c_enc = Tensor::zeros([width], (Kind::Float, device));
    let _ = c_enc.get(c).fill_(1.0);

    let data = OneHot::new(examples, vocab.len(), device)?;
    let x_enc_head = Tensor::from_slice(&examples.inputs[..5]).one_hot(width);
    let x_enc_head: Vec<Vec<i64>> = (0..5)
        .map(|r| Vec::<i64>::try_from(&x_enc_head.get(r)).unwrap_or_default())
        .collect();

    // In [10]-[11]: a single neuron.
    let neuron = initial_weights(SEED, vocab.len(), 1).to_device(device);
    let c_dot_neuron = c_enc.matmul(&neuron).double_value(&[0]) as f32;

    // In [12]-[13]: a layer of 27 neurons.
    let mut w = initial_weights(SEED, vocab.len(), vocab.len())
        .to_device(device)
        .set_requires_grad(true);
    let c_logits = c_enc.matmul(&w);

    // In [15]-[18]: the forward pass over every example.
    let logits = data.xenc.matmul(&w);
    let exp = logits.exp();
    let probs = data.probabilities(&w);
    let row_sums_tensor = probs.sum_dim_intlist(1, true, None::<Kind>);
    let row_sums = tensor_to_vec(&row_sums_tensor)?;
    let digests = Digests {
        logits: digest(&logits)?,
        exp: digest(&exp)?,
        probs: digest(&probs)?,
        row_sums: digest(&row_sums_tensor)?,
    };

    // In [19]-[21]: one example, 'a' after 'c'.
    let c_probs_of = |w: &Tensor| {
        let pos = c_enc.matmul(w).exp();
        &pos / pos.sum(None::<Kind>)
    };
    let c_probs = c_probs_of(&w);
    let p_before = c_probs.get(a);
    let loss = -p_before.log().mean(None::<Kind>);

    // In [22]-[26]: its gradient, and one small step.
    w.zero_grad();
    loss.backward();
    let grad = w.grad();
    let grad_shape = grad.size();
    let grad_values = tensor_to_vec(&grad)?;
    apply_update(&mut w, DEMO_LEARNING_RATE, Update::Step)?;
    let p_after = c_probs_of(&w).get(a).double_value(&[]) as f32;

    // In [40]/[43]: train() as written, then as meant, both from the weights after In [26].
    let start = w.detach().copy();
    let run = |update: Update| -> Result<f64> {
        let mut w = start.copy().set_requires_grad(true);
        let mut last = f64::NAN;
        for _ in 0..EPOCHS {
            last = onehot_epoch(&data, &mut w, LEARNING_RATE, None, update)?.0;
        }
        Ok(last)
    };
    let loss_as_written = run(Update::Assign)?;
    let loss_gradient_descent = run(Update::Step)?;

    Ok(Replay {
        first_names,
        first_bigrams,
        vocab,
        examples: examples.len(),
        x_head: examples.inputs[..10].to_vec(),
        y_head: examples.targets[..10].to_vec(),
        c_enc: tensor_to_vec(&c_enc)?,
        x_enc_head,
        x_enc_kind: data.xenc.kind(),
        neuron: tensor_to_vec(&neuron)?,
        c_dot_neuron,
        c_logits: tensor_to_vec(&c_logits)?,
        logits: corners(&logits),
        digests,
        exp: corners(&exp),
        probs: corners(&probs),
        row_sums,
        c_probs: tensor_to_vec(&c_probs)?,
        p_a_after_c: p_before.double_value(&[]) as f32,
        loss: loss.double_value(&[]) as f32,
        grad_shape,
        grad: grad_values,
        p_a_after_c_after_step: p_after,
        loss_as_written,
        loss_gradient_descent,
    })
}

/// In [2]: the first name's (previous, next) character pairs, from the same example code that
/// training uses.
fn first_name_bigrams(names: &[String], vocab: &Vocab) -> Vec<(char, char)> {
    let Some(indices) = names.first().and_then(|n| vocab.encode(n).ok()) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    crate::data::for_each_pair(&indices, vocab.len(), vocab.len(), |context, next| {
        pairs.push((vocab.char(context), vocab.char(next)));
    });
    pairs
}

/// Format numbers as PyTorch does at 4 decimals: same width, right-aligned, wrapped at 80
/// columns, `indent` spaces before continuation lines.
fn format_row(values: &[f32], indent: usize) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("{v:.4}")).collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    let per_line = ((80 - indent) / (width + 2)).max(1);
    let lines: Vec<String> = cells
        .chunks(per_line)
        .map(|chunk| {
            chunk
                .iter()
                .map(|c| format!("{c:>width$}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    lines.join(&format!(",\n{}", " ".repeat(indent)))
}

fn format_vector(values: &[f32]) -> String {
    format!("tensor([{}])", format_row(values, 8))
}

fn format_corners(m: &Corners) -> String {
    let cells: Vec<String> = m.iter().flatten().map(|v| format!("{v:.4}")).collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    let row = |r: &Vec<f32>| {
        let c: Vec<String> = r
            .iter()
            .map(|v| format!("{:>width$}", format!("{v:.4}")))
            .collect();
        format!(
            "[{}, {}, {},  ..., {}, {}, {}]",
            c[0], c[1], c[2], c[3], c[4], c[5]
        )
    };
    let top: Vec<String> = m[..3].iter().map(row).collect();
    let bottom: Vec<String> = m[3..].iter().map(row).collect();
    format!(
        "tensor([{},\n        ...,\n        {}])",
        top.join(",\n        "),
        bottom.join(",\n        ")
    )
}

fn percent(p: f32) -> String {
    format!("{:.2}%", p * 100.0)
}

impl Replay {
    /// The replay as text: each cell's number, a line on what it does, and what it prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut cell = |n: u32, what: &str, body: String| {
            let _ = writeln!(out, "In [{n}]: {what}\n{body}\n");
        };
        let quoted: Vec<String> = self.first_names.iter().map(|n| format!("'{n}'")).collect();
        cell(
            1,
            "read names.txt, one name per line",
            format!("first three names: [{}]", quoted.join(", ")),
        );
        let bigrams: Vec<String> = self
            .first_bigrams
            .iter()
            .map(|(a, b)| format!("('{a}', '{b}')"))
            .collect();
        cell(
            2,
            "a name's bigrams, with '.' before and after it",
            format!(
                "{}: [{}]",
                self.first_names.first().map_or("", String::as_str),
                bigrams.join(", ")
            ),
        );
        let stoi: Vec<String> = self
            .vocab
            .chars()
            .iter()
            .enumerate()
            .map(|(i, c)| format!("'{c}': {i}"))
            .collect();
        cell(
            4,
            "stoi: each character's index",
            format!("{{{}}}", stoi.join(", ")),
        );
        let itos: Vec<String> = self
            .vocab
            .chars()
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{i}: '{c}'"))
            .collect();
        cell(
            5,
            "itos: back from index to character",
            format!("{{{}}}", itos.join(", ")),
        );
        cell(
            6,
            "X holds each bigram's first character, y the one after it",
            format!(
                "{} examples\nX[:10] = {:?}\ny[:10] = {:?}",
                self.examples, self.x_head, self.y_head
            ),
        );
        cell(
            7,
            "'c' one-hot encoded by hand",
            format!("index 3: {}", format_vector(&self.c_enc)),
        );
        let rows: Vec<String> = self
            .x_enc_head
            .iter()
            .map(|r| {
                format!(
                    "[{}]",
                    r.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        cell(
            8,
            "one_hot of X[:5] (integers)",
            format!("tensor([{}])", rows.join(",\n        ")),
        );
        cell(
            9,
            "converted to float for the matmul",
            format!("X_enc kind: {:?}", self.x_enc_kind),
        );
        cell(
            10,
            "one neuron: 27 weights from a generator seeded with 42",
            format_vector(&self.neuron),
        );
        cell(
            11,
            "a one-hot input picks one weight",
            format!("c_enc @ W = tensor([{:.4}])", self.c_dot_neuron),
        );
        cell(
            13,
            "27 neurons: c_enc @ W picks row 3 of the 27×27 matrix",
            format_vector(&self.c_logits),
        );
        let listed: Vec<String> = self
            .vocab
            .chars()
            .iter()
            .zip(&self.c_logits)
            .map(|(ch, v)| format!("{ch}: {v:.4}"))
            .collect();
        cell(14, "each logit beside its letter", listed.join("\n"));
        cell(
            15,
            "logits of every example, X_enc @ W (corners)",
            format_corners(&self.logits),
        );
        cell(16, "exp makes them positive", format_corners(&self.exp));
        cell(
            17,
            "divided by their row sums: probabilities",
            format_corners(&self.probs),
        );
        let sums = |i: usize| format!("[{:.4}]", self.row_sums[i]);
        let n = self.row_sums.len();
        cell(
            18,
            "every row sums to 1",
            format!(
                "tensor([{},\n        {},\n        {},\n        ...,\n        {},\n        {},\n        {}])",
                sums(0), sums(1), sums(2), sums(n - 3), sums(n - 2), sums(n - 1)
            ),
        );
        cell(
            19,
            "probabilities of the letter after 'c'",
            format_vector(&self.c_probs),
        );
        cell(
            20,
            "the untrained model's P('a' after 'c')",
            format!("P('a' after 'c') = {}", percent(self.p_a_after_c)),
        );
        cell(
            21,
            "negative log likelihood of that one example",
            format!("loss = tensor({:.4})", self.loss),
        );
        cell(
            23,
            "backward(): one derivative per weight",
            format!("W.grad size: {:?}", self.grad_shape),
        );
        let width = self.vocab.len();
        let nonzero_rows: Vec<usize> = (0..width)
            .filter(|r| {
                self.grad[r * width..(r + 1) * width]
                    .iter()
                    .any(|&g| g != 0.0)
            })
            .collect();
        cell(
            24,
            "only the row 'c' selected has a gradient",
            format!("rows with a non-zero gradient: {nonzero_rows:?}"),
        );
        cell(
            25,
            "row 3 of the gradient",
            format_vector(&self.grad[3 * width..4 * width]),
        );
        cell(
            27,
            "after one step of 0.01 against the gradient",
            format!(
                "P('a' after 'c'): {} before, {} after",
                percent(self.p_a_after_c),
                percent(self.p_a_after_c_after_step)
            ),
        );
        cell(
            43,
            "train(): 100 epochs at learning rate 50",
            format!(
                "as written: {}\n\
                 Note: `W.data = -50 * W.grad` assigns instead of stepping, so each epoch replaces W\n\
                 by the scaled gradient of the previous W and the loss stalls near 3.09.\n\
                 with the intended `W.data += -50 * W.grad`, from the same starting weights: {:.4}",
                self.loss_as_written, self.loss_gradient_descent
            ),
        );
        out
    }
}
