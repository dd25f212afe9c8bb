//! The notebook, cell by cell: what each cell `In [1]` … `In [43]` computes, in its order and
//! under its number, with the tch calls that stand for its PyTorch lines (README, "Read the
//! port"). Reading the names and reading numbers back are what can fail; the arithmetic between
//! reads like PyTorch. What the cells show is kept in a [`Replay`] (`notebook/figures.rs`) and
//! printed by [`Replay::render`] (`notebook/render.rs`); neither holds any of the maths.

mod figures;
mod render;

pub use figures::{Corners, DataCells, Digests, ExampleCells, LayerCells, Replay, TrainingCells};

use crate::cancel::Cancel;
use crate::data::{labels, read_names, ReadOptions, Source};
use crate::device::with_cpu_seed;
use crate::error::{DataError, Result};
use crate::model::tensor_to_vec;
use crate::train::check_one_hot_size;
use figures::dtype_name;
use std::collections::{BTreeMap, HashMap};
use tch::kind::FLOAT_CPU;
use tch::{Device, IndexOp, Kind, Tensor};

/// The seed of the notebook's generator.
pub const SEED: i64 = 42;
/// Epochs of `In [40]`.
pub const EPOCHS: usize = 100;
/// Learning rate of `In [40]`.
pub const LEARNING_RATE: f64 = 50.0;
/// Learning rate of the single demonstration step, `In [26]`.
pub const DEMO_LEARNING_RATE: f64 = 0.01;

/// stoi of In [4]: each character's index.
type Stoi = HashMap<char, i64>;

/// Replay the notebook on `sources`, its tensors on `device` (weights drawn on the CPU, as the
/// notebook's are, then moved). Training stops between epochs once `cancel` is raised.
pub fn replay(sources: &[Source], device: Device, cancel: &Cancel) -> Result<Replay> {
    let (data, stoi, x_enc, y, c_enc) = data_cells(sources, device, cancel)?;
    let (layer, mut w) = layer_cells(&c_enc, &x_enc, device)?;
    let example = example_cells(&c_enc, &mut w, &stoi)?;
    let training = training_cells(&x_enc, &y, &w, cancel)?;
    Ok(Replay {
        data,
        layer,
        example,
        training,
    })
}

/// In [1]..In [9]: the names, their bigrams, stoi and itos, X and y, and X one-hot. Returns
/// what later cells use: stoi, X_enc, y and c_enc.
fn data_cells(
    sources: &[Source],
    device: Device,
    cancel: &Cancel,
) -> Result<(DataCells, Stoi, Tensor, Tensor, Tensor)> {
    // In [1]: the names as a list, one a line. The library reads and checks them: a line with
    // anything but a–z is an error naming its file and line.
    let options = ReadOptions {
        cancel: cancel.clone(),
        ..ReadOptions::default()
    };
    let names = read_names(sources, &options)?;

    // In [2]: the first name's bigrams: its characters after a '.', beside them before a '.'.
    let first = names.first().map_or("", String::as_str);
    let first_bigrams: Vec<(char, char)> = format!(".{first}")
        .chars()
        .zip(format!("{first}.").chars())
        .collect();

    // In [3] imports torch: the `use tch::…` lines above.

    // In [4]: stoi, '.' then a–z numbered from 0, the characters read_names allows.
    let stoi: Stoi = std::iter::once('.').chain('a'..='z').zip(0..).collect();
    // In [5]: itos, the same pairs the other way round.
    let itos: BTreeMap<i64, char> = stoi.iter().map(|(&c, &i)| (i, c)).collect();

    // In [6]: X, the first character of every bigram of every name; y, the one after it.
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for name in &names {
        for (char1, char2) in format!(".{name}").chars().zip(format!("{name}.").chars()) {
            xs.push(stoi[&char1]);
            ys.push(stoi[&char2]);
        }
    }
    // The cells show X[:10], and X one-hot must fit in memory.
    if xs.len() < 10 {
        let need =
            "the notebook replay shows the first 10 examples and needs at least that many bigrams";
        return Err(DataError::TooSmall {
            path: labels(sources),
            need: need.into(),
        }
        .into());
    }
    check_one_hot_size(xs.len(), 27)?;
    let x = Tensor::from_slice(&xs);
    let y = Tensor::from_slice(&ys).f_to_device(device)?;

    // In [7]: 'c' one-hot by hand: 27 zeros, then a 1 at c's index.
    let c_enc = Tensor::zeros([27], (Kind::Float, device));
    let _ = c_enc.i(stoi[&'c']).fill_(1.0);

    // In [8]: X one-hot: a row of 27 integers per example, 1 at its character's index.
    let x_enc = x.one_hot(27);
    let x_enc_head = Vec::<Vec<i64>>::try_from(&x_enc.i(..5))?;

    // In [9]: as floats, to be multiplied by float weights (and moved to `device`).
    let x_enc = x_enc.to_kind(Kind::Float).f_to_device(device)?;

    let cells = DataCells {
        first_names: names.iter().take(3).cloned().collect(),
        first_bigrams,
        vocab: itos.values().collect(),
        examples: xs.len(),
        x_head: xs[..10].to_vec(),
        y_head: ys[..10].to_vec(),
        c_enc: tensor_to_vec(&c_enc)?,
        x_enc_head,
        x_enc_dtype: dtype_name(x_enc.kind()),
    };
    Ok((cells, stoi, x_enc, y, c_enc))
}

/// In [10]..In [18]: one neuron, then a layer of 27 and its forward pass over every example.
/// Returns the layer's weights W as well.
fn layer_cells(c_enc: &Tensor, x_enc: &Tensor, device: Device) -> Result<(LayerCells, Tensor)> {
    // In [10]: one neuron: 27 weights from a normal generator seeded with 42.
    let neuron = with_cpu_seed(SEED, || Tensor::randn([27, 1], FLOAT_CPU)).f_to_device(device)?;
    // In [11]: a one-hot input times the neuron picks one of its weights.
    let c_dot_neuron = c_enc.matmul(&neuron);
    // In [12]: 27 neurons, one a column, from the generator seeded again; W tracks gradients.
    let w = with_cpu_seed(SEED, || Tensor::randn([27, 27], FLOAT_CPU))
        .f_to_device(device)?
        .set_requires_grad(true);
    // In [13]: c's one-hot input picks row 3 of W.
    let c_output = c_enc.matmul(&w);
    // In [14] prints that row beside the letters: nothing to compute.
    // In [15]: the logits of every example.
    let logits = x_enc.matmul(&w);
    // In [16]: exp makes them positive.
    let pos_values = logits.exp();
    // In [17]: each row divided by its sum: the probabilities of the next character.
    let probs = &pos_values / pos_values.sum_dim_intlist(1, true, None::<Kind>);
    // In [18]: every row now sums to 1.
    let row_sums = probs.sum_dim_intlist(1, true, None::<Kind>);

    let shown = [&logits, &pos_values, &probs, &row_sums];
    let cells = LayerCells::read(&neuron, &c_dot_neuron, &c_output, shown)?;
    Ok((cells, w))
}

/// In [19]..In [27]: one example, 'a' after 'c': its loss, W's gradient, and one small step,
/// which moves `w`.
fn example_cells(c_enc: &Tensor, w: &mut Tensor, stoi: &Stoi) -> Result<ExampleCells> {
    // In [19]: the probabilities of the letter after 'c': its logits, exp, over their sum.
    let c_logits = c_enc.matmul(w);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>);
    // In [20]: the untrained model's probability that 'a' follows 'c'.
    let original_prediction = c_probs.i(stoi[&'a']);
    // In [21]: the negative log likelihood of that one example.
    let loss = -original_prediction.log().mean(None::<Kind>);
    // In [22]: clear W's gradient, then backpropagate: backward() fills W.grad.
    w.zero_grad();
    loss.backward();
    // In [23], In [24], In [25]: W.grad, one derivative per weight: its shape, all of it, and
    // row 3, the one row that is not zero (the row c picked).
    let grad = w.grad();
    // In [26]: one step of 0.01 against the gradient, with gradient tracking off.
    let step = &grad * -DEMO_LEARNING_RATE;
    tch::no_grad(|| *w += step);
    // In [27]: the probability of 'a' after 'c' again, through the moved W.
    let c_pos = c_enc.matmul(w).exp();
    let new_prediction = (&c_pos / c_pos.sum(None::<Kind>)).i(stoi[&'a']);
    ExampleCells::read(
        [&c_probs, &original_prediction, &loss, &grad],
        &new_prediction,
    )
}

/// The update line of `In [40]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateLine {
    /// `W.data = -50 * W.grad`, as the cell is written: W becomes the scaled gradient.
    AsWritten,
    /// `W.data += -50 * W.grad`, the step against the gradient that the cell means.
    Intended,
}

/// In [40]: `train()`: [`EPOCHS`] passes over every example, each a forward pass,
/// `backward()` and `line`'s update of `w` (a leaf tracking gradients). Returns the loss of
/// every epoch, taken before its update; `cancel` is checked between epochs.
pub fn train(
    x_enc: &Tensor,
    y: &Tensor,
    w: &mut Tensor,
    line: UpdateLine,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    let rows = Tensor::arange(x_enc.size2()?.0, (Kind::Int64, x_enc.device()));
    let mut losses = Vec::with_capacity(EPOCHS);
    for epoch in 1..=EPOCHS {
        cancel.check(|| format!("at epoch {epoch} of In [40]"))?;
        // Forward: the logits, softmax, each example's probability of its y, their NLL.
        let logits = x_enc.matmul(w);
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        let loss = -predictions.log().mean(None::<Kind>);
        // Backward: clear W's gradient, then backward() fills W.grad.
        w.zero_grad();
        loss.backward();
        // The update, with gradient tracking off: the line as written, or as meant.
        let step = w.grad() * -LEARNING_RATE;
        tch::no_grad(|| match line {
            UpdateLine::AsWritten => w.set_data(&step),
            UpdateLine::Intended => *w += step,
        });
        losses.push(loss.f_double_value(&[])?);
    }
    Ok(losses)
}

/// In [40]..In [43]: `train()` twice from the weights In [26] left, its update line as written
/// and as meant.
fn training_cells(
    x_enc: &Tensor,
    y: &Tensor,
    w: &Tensor,
    cancel: &Cancel,
) -> Result<TrainingCells> {
    let start = w.detach().copy();
    // In [43]: train() as written, then as meant from the same W; each returns its last loss.
    let mut w = start.copy().set_requires_grad(true);
    let as_written = train(x_enc, y, &mut w, UpdateLine::AsWritten, cancel)?;
    let mut w = start.copy().set_requires_grad(true);
    let intended = train(x_enc, y, &mut w, UpdateLine::Intended, cancel)?;
    TrainingCells::new(as_written, intended, [&start, &w])
}

// In [30], the notebook's last cell, holds only comments (the steps of training once more).
