//! `bigram notebook`: the notebook replayed cell by cell with the library's own code.
//!
//! [`replay`] computes every value the notebook prints and returns them in a [`Replay`], one
//! group of cells per field; [`Replay::render`] writes them under their cell numbers with
//! PyTorch's 4-decimal formatting. Tests and `parity --notebook` read the numbers from the
//! struct, so the printing can change without weakening them.

mod render;

use crate::cancel::Cancel;
use crate::data::{for_each_pair, Corpus, Examples, Keep, ReadOptions, Source};
use crate::error::{DataError, Result};
use crate::model::tensor_to_vec;
use crate::train::{apply_update, gradient, initial_weights, OneHot, Update};
use crate::vocab::Vocab;
use serde::Serialize;
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

/// Everything the notebook prints.
#[derive(Debug, Serialize)]
pub struct Replay {
    /// In [1]..In [9]: the data.
    pub data: DataCells,
    /// In [10]..In [18]: the untrained layer.
    pub layer: LayerCells,
    /// In [19]..In [27]: one example, its gradient and one step.
    pub example: ExampleCells,
    /// In [40]..In [43]: full training.
    pub training: TrainingCells,
}

/// In [1]..In [9].
#[derive(Debug, Serialize)]
pub struct DataCells {
    /// In [1]: the first three names.
    pub first_names: Vec<String>,
    /// In [2]: the bigrams of the first name (the notebook shows "emma", names.txt's first),
    /// made by the library's own example code.
    pub first_bigrams: Vec<(char, char)>,
    /// In [4]/[5]: the vocabulary (stoi and itos are its two directions).
    #[serde(serialize_with = "vocab_string")]
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
    /// In [9]: X_enc's dtype after `.float()`, as PyTorch names it.
    pub x_enc_dtype: String,
}

/// In [10]..In [18].
#[derive(Debug, Serialize)]
pub struct LayerCells {
    /// In [10]: the single neuron, 27×1 from seed 42.
    pub neuron: Vec<f32>,
    /// In [11]: c_enc @ neuron.
    pub c_dot_neuron: f32,
    /// In [13]: c_enc @ W, W 27×27 from seed 42 (row 3 of W).
    pub c_logits: Vec<f32>,
    /// In [15]: corners of X_enc @ W.
    pub logits: Corners,
    /// In [16]: corners of exp(logits).
    pub exp: Corners,
    /// In [17]: corners of the probabilities.
    pub probs: Corners,
    /// In [18]: the first and last three row sums of the probabilities.
    pub row_sums_ends: Vec<f32>,
    /// Every row sum (all 1 up to rounding).
    #[serde(skip)]
    pub row_sums: Vec<f32>,
    /// sha256 of every element of the matrices of In [15]..In [18].
    pub digests: Digests,
}

/// sha256 (hex) of the float32 bytes of the large matrices of In [15]..In [18].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
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

/// In [19]..In [27].
#[derive(Debug, Serialize)]
pub struct ExampleCells {
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
}

/// In [40]..In [43].
#[derive(Debug, Serialize)]
pub struct TrainingCells {
    /// In [43]: the loss `train()` returns with `W.data = -50 * W.grad` as written.
    pub loss_as_written: f64,
    /// The loss of the same 100 epochs with the intended `W.data += -50 * W.grad`.
    pub loss_gradient_descent: f64,
}

fn vocab_string<S: serde::Serializer>(vocab: &Vocab, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&vocab.as_string())
}

/// Run the notebook on `data` with the tensors on `device` (initial weights are always drawn
/// on the CPU and then moved). Training stops between epochs once `cancel` is raised.
pub fn replay(data: &[Source], device: Device, cancel: &Cancel) -> Result<Replay> {
    let options = ReadOptions {
        cancel: cancel.clone(),
        ..ReadOptions::default()
    };
    let keep = Keep {
        examples: true,
        names: true,
    };
    let corpus = Corpus::load(data, &options, 2, keep)?;
    let examples = corpus.examples.as_ref().filter(|e| e.len() >= 10).ok_or_else(|| {
        DataError::TooSmall {
            path: corpus.scan.labels(),
            need: "the notebook replay shows the first 10 examples and needs at least that many bigrams".into(),
        }
    })?;
    let vocab = &corpus.scan.vocab;
    let onehot = OneHot::new(examples, vocab.len(), device)?;
    let names = corpus.names.as_deref().unwrap_or_default();
    let c_enc = Tensor::zeros([vocab.len() as i64], (Kind::Float, device));
    let _ = c_enc.get(letter(vocab, 'c')?).fill_(1.0);
    let data = data_cells(names, examples, vocab, &onehot, &c_enc)?;
    let mut w = initial_weights(SEED, vocab.len(), vocab.len())
        .to_device(device)
        .set_requires_grad(true);
    let layer = layer_cells(&c_enc, &w, &onehot, device)?;
    let example = example_cells(&c_enc, &mut w, letter(vocab, 'a')?)?;
    let start = w.detach().copy();
    let training = TrainingCells {
        loss_as_written: train_cell(&onehot, &start, Update::Assign, cancel)?,
        loss_gradient_descent: train_cell(&onehot, &start, Update::Step, cancel)?,
    };
    Ok(Replay {
        data,
        layer,
        example,
        training,
    })
}

fn letter(vocab: &Vocab, c: char) -> Result<i64> {
    vocab
        .index(c)
        .map(|i| i as i64)
        .ok_or_else(|| crate::Error::invalid(format!("the vocabulary has no {c:?}")))
}

/// In [1]..In [9]: names, bigrams, vocabulary, examples and their one-hot encoding.
fn data_cells(
    names: &[String],
    examples: &Examples,
    vocab: &Vocab,
    onehot: &OneHot,
    c_enc: &Tensor,
) -> Result<DataCells> {
    let x_enc_head = Tensor::from_slice(&examples.inputs[..5]).one_hot(vocab.len() as i64);
    let x_enc_head: Vec<Vec<i64>> = (0..5)
        .map(|r| Vec::<i64>::try_from(&x_enc_head.get(r)).unwrap_or_default())
        .collect();
    let x_enc_dtype = match onehot.xenc.kind() {
        Kind::Float => "torch.float32".to_string(),
        other => format!("{other:?}"),
    };
    Ok(DataCells {
        first_names: names.iter().take(3).cloned().collect(),
        first_bigrams: first_name_bigrams(names, vocab),
        vocab: vocab.clone(),
        examples: examples.len(),
        x_head: examples.inputs[..10].to_vec(),
        y_head: examples.targets[..10].to_vec(),
        c_enc: tensor_to_vec(c_enc)?,
        x_enc_head,
        x_enc_dtype,
    })
}

/// In [2]: the first name's (previous, next) character pairs, from the same example code that
/// training uses.
fn first_name_bigrams(names: &[String], vocab: &Vocab) -> Vec<(char, char)> {
    let Some(indices) = names.first().and_then(|n| vocab.encode(n).ok()) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for_each_pair(&indices, vocab.len(), vocab.len(), |context, next| {
        pairs.push((vocab.char(context), vocab.char(next)));
    });
    pairs
}

/// In [10]..In [18]: one neuron, then the 27-neuron layer's forward pass over every example.
fn layer_cells(c_enc: &Tensor, w: &Tensor, onehot: &OneHot, device: Device) -> Result<LayerCells> {
    let width = w.size()[0] as usize;
    let neuron = initial_weights(SEED, width, 1).to_device(device);
    let logits = onehot.xenc.matmul(w);
    let exp = logits.exp();
    let probs = onehot.probabilities(w);
    let sums = probs.sum_dim_intlist(1, true, None::<Kind>);
    let row_sums = tensor_to_vec(&sums)?;
    let n = row_sums.len();
    Ok(LayerCells {
        neuron: tensor_to_vec(&neuron)?,
        c_dot_neuron: c_enc.matmul(&neuron).double_value(&[0]) as f32,
        c_logits: tensor_to_vec(&c_enc.matmul(w))?,
        logits: corners(&logits),
        exp: corners(&exp),
        probs: corners(&probs),
        row_sums_ends: [&row_sums[..3.min(n)], &row_sums[n.saturating_sub(3)..]].concat(),
        row_sums,
        digests: Digests {
            logits: digest(&logits)?,
            exp: digest(&exp)?,
            probs: digest(&probs)?,
            row_sums: digest(&sums)?,
        },
    })
}

/// In [19]..In [27]: 'a' after 'c', its loss and gradient, and one small step (W changes).
fn example_cells(c_enc: &Tensor, w: &mut Tensor, a: i64) -> Result<ExampleCells> {
    let c_probs_of = |w: &Tensor| {
        let pos = c_enc.matmul(w).exp();
        &pos / pos.sum(None::<Kind>)
    };
    let c_probs = c_probs_of(w);
    let p_before = c_probs.get(a);
    let loss = -p_before.log().mean(None::<Kind>);
    let grad = gradient(&loss, w)?;
    let grad_shape = grad.size();
    let grad_values = tensor_to_vec(&grad)?;
    apply_update(w, &grad, DEMO_LEARNING_RATE, Update::Step)?;
    Ok(ExampleCells {
        c_probs: tensor_to_vec(&c_probs)?,
        p_a_after_c: p_before.double_value(&[]) as f32,
        loss: loss.double_value(&[]) as f32,
        grad_shape,
        grad: grad_values,
        p_a_after_c_after_step: c_probs_of(w).get(a).double_value(&[]) as f32,
    })
}

/// In [40]/[43]: `train()` from `start`, its update line as written or as meant.
fn train_cell(onehot: &OneHot, start: &Tensor, update: Update, cancel: &Cancel) -> Result<f64> {
    let mut w = start.copy().set_requires_grad(true);
    let mut last = f64::NAN;
    for epoch in 1..=EPOCHS {
        cancel.check(|| format!("at epoch {epoch} of In [40]"))?;
        last = onehot
            .epoch(&mut w, LEARNING_RATE, None, update)?
            .0
            .f_double_value(&[])?;
    }
    Ok(last)
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

fn digest(t: &Tensor) -> Result<String> {
    use sha2::{Digest, Sha256};
    let bytes: Vec<u8> = tensor_to_vec(t)?
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}
