//! The notebook in Rust, cell by cell and in its order: In [1] … In [27], In [40], In [43],
//! In [30], then In [44] and In [45], which are ours (the smoothing and generation that the
//! notebook's TODO asks for, as the makemore lecture does them). Each cell is the notebook's
//! lines under the notebook's names, and ends by showing what the cell shows. `jup` is Jupyter's
//! display and nothing else (`notebook/jupyter.rs`), with one rule: `jup.show` takes a tensor
//! (written as its repr), `jup.print` a value already written as text, `jup.percent` a
//! probability (as `{p * 100:.2f}%`); an empty label `""` makes it the cell's `Out[n]`, a label
//! makes it a `print()` (the labels are our words, not the notebook's). A `?` after a
//! call passes its error up where Python would raise; the fallible `f_` twin of a tch method
//! (`f_double_value`) is used where the failure comes from outside the code (a device, the
//! data), the plain one for arithmetic that cannot fail. At the bottom, [`replay`] runs the
//! cells in order, with the plumbing the notebook does not have: the names read and checked and
//! the seeded `randn` (`notebook/plumbing.rs`), the device, Ctrl-C, and the record of what the
//! cells showed ([`Replay`], `notebook/figures.rs`). README, "Read the port".
// The notebook's capitals (W, X, X_enc) are kept, so Rust's snake_case lint is off.
#![allow(non_snake_case)]

mod figures;
mod ipynb;
mod jupyter;
mod plumbing;
mod render;

pub use figures::{Continuation, Corners, DataCells, Digests, ExampleCells, LayerCells};
pub use figures::{Replay, TrainingCells};
pub use jupyter::{Jupyter, Shown};

use crate::cancel::Cancel;
use crate::data::Source;
use crate::device::with_cpu_seed;
use crate::error::Result;
use crate::pyrepr::{dict_repr, float_repr, list_repr, size_repr, str_repr};
use plumbing::randn;
use std::collections::BTreeMap;
use tch::kind::FLOAT_CPU;
use tch::{Device, IndexOp, Kind, Tensor};

/// The seed of the notebook's generator (In [10], In [12]; and In [44]).
pub const SEED: i64 = 42;
/// Epochs of `In [40]` (and of In [44]).
pub const EPOCHS: usize = 100;
/// Learning rate of `In [40]` (and of In [44]).
pub const LEARNING_RATE: f64 = 50.0;
/// Learning rate of the single demonstration step, `In [26]`.
pub const DEMO_LEARNING_RATE: f64 = 0.01;
/// In [44]'s smoothing: `0.01 * (W**2).mean()` (`bigram train --reg`'s default).
pub const REG: f64 = 0.01;
/// In [45]'s generator seed (`bigram sample --seed`'s default).
pub const SAMPLE_SEED: i64 = 2147483647;
/// Names In [45] draws.
pub const NAMES: usize = 5;
/// In [45] cuts a name that has not ended by then (`bigram sample --max-len`'s default).
pub const MAX_LEN: usize = 50;

/// stoi of In [4] (a BTreeMap: '.' sorts before 'a', so it keeps the dict's order).
type Stoi = BTreeMap<char, i64>;
/// itos of In [5].
type Itos = BTreeMap<i64, char>;

/// In [1], In [2], In [4], In [5]: the names, a name's bigrams, stoi and itos.
fn vocabulary(names: &[String], jup: &mut Jupyter) -> (Stoi, Itos) {
    // repr() of a one-character str: 'c'
    let quoted = |c: &char| str_repr(&c.to_string());

    // In [1]: names = open("names.txt").read().splitlines(), done in `replay()` at the bottom
    // by plumbing::names, which also checks every name is a–z
    let first_three = names.iter().take(3).map(|name| str_repr(name));
    jup.print(1, "the first three names", list_repr(first_three));

    // In [2]: zip('.emma', 'emma.'), for the first name (names[0]: "" if there were none)
    let first = names.first().map_or("", String::as_str);
    let (starts, ends) = (format!(".{first}"), format!("{first}."));
    let bigrams = starts.chars().zip(ends.chars());
    let tuples = bigrams.map(|(a, b)| format!("({}, {})", quoted(&a), quoted(&b)));
    jup.print(2, "the first name's bigrams", list_repr(tuples));

    // In [3] imports torch: the `use tch::…` lines at the top (tch: libtorch from Rust).
    // In [4]
    let stoi: Stoi = ".abcdefghijklmnopqrstuvwxyz".chars().zip(0..).collect();
    let pairs = stoi.iter().map(|(c, i)| (quoted(c), i.to_string()));
    jup.print(4, "stoi", dict_repr(pairs));
    // In [5]
    let itos: Itos = stoi.iter().map(|(&c, &i)| (i, c)).collect();
    let pairs = itos.iter().map(|(i, c)| (i.to_string(), quoted(c)));
    jup.print(5, "itos", dict_repr(pairs));
    (stoi, itos)
}

/// In [6]: X, the first character of every bigram; y, the one after it.
fn examples(names: &[String], stoi: &Stoi, jup: &mut Jupyter) -> (Tensor, Tensor) {
    let (mut X, mut y) = (Vec::new(), Vec::new());
    for name in names {
        for (char1, char2) in format!(".{name}").chars().zip(format!("{name}.").chars()) {
            X.push(stoi[&char1]);
            y.push(stoi[&char2]);
        }
    }
    jup.print(6, "examples", X.len().to_string());
    // Rust's {:?} of a list of integers is Python's print of it: [0, 5, 13, …]
    jup.print(6, "X[:10]", format!("{:?}", &X[..10]));
    jup.print(6, "y[:10]", format!("{:?}", &y[..10]));
    let X = Tensor::from_slice(&X); // X = torch.tensor(X)
    let y = Tensor::from_slice(&y);
    (X, y)
}

/// In [7]: 'c' one-hot, by hand.
fn c_one_hot(stoi: &Stoi, jup: &mut Jupyter) -> Result<Tensor> {
    let c_index = stoi[&'c'];
    // torch.zeros(27): float32 on the CPU
    let c_enc = Tensor::zeros([27], FLOAT_CPU);
    // c_enc[c_index] = 1: .i() is [], a view of c_enc; fill_ sets it (its return unused: `let _`)
    let _ = c_enc.i(c_index).fill_(1.0);
    jup.print(7, "c's index", c_index.to_string());
    jup.show(7, "its one-hot encoding", &c_enc)?;
    Ok(c_enc)
}

/// In [8], In [9]: X one-hot, then as floats.
fn one_hot(X: &Tensor, jup: &mut Jupyter) -> Result<Tensor> {
    // In [8]: F.one_hot(X, num_classes=27), then X_enc[:5], which tch spells X_enc.i(..5)
    let X_enc = X.one_hot(27);
    jup.show(8, "", &X_enc.i(..5))?;
    // In [9]
    let X_enc = X_enc.to_kind(Kind::Float); // X_enc.float()
    jup.show(9, "", &X_enc.i(0))?;
    Ok(X_enc)
}

/// In [10] … In [18]: one neuron, then a layer of 27 and its forward pass over every example.
fn layer(c_enc: &Tensor, X_enc: &Tensor, stoi: &Stoi, jup: &mut Jupyter) -> Result<Tensor> {
    // In [10]: gen = torch.Generator().manual_seed(42); W = torch.randn((27, 1), generator=gen)
    // (drawn on the CPU, as the notebook draws it, then put where c_enc is: plumbing.rs)
    let W = randn(SEED, [27, 1], c_enc.device())?;
    jup.show(10, "one neuron's 27 weights", &W)?;
    // In [11]
    jup.show(11, "", &c_enc.matmul(&W))?; // c_enc @ W; matmul borrows W: &W

    // In [12]: the generator seeded again; requires_grad=True
    let W = randn(SEED, [27, 27], c_enc.device())?.set_requires_grad(true);
    // In [13]
    let c_output = c_enc.matmul(&W);
    jup.show(13, "", &c_output)?;
    // In [14]: for letter, logit in zip(stoi.keys(), c_output): print(f"{letter}: {logit:.4f}")
    // zip(0..) counts in i64, the index type tch takes (enumerate would count in usize)
    for (letter, i) in stoi.keys().zip(0..) {
        // c_output[i].item(): the index list holds one index per dimension (`&[]` for a 0-d
        // tensor); f_ is the fallible twin, a Result where the plain one panics
        let logit = c_output.f_double_value(&[i])?;
        jup.print(14, &letter.to_string(), format!("{logit:.4}")); // Python's {logit:.4f}
    }
    // In [15]
    let logits = X_enc.matmul(&W);
    jup.show(15, "", &logits)?;
    // In [16]
    let pos_values = logits.exp();
    jup.show(16, "", &pos_values)?;
    // In [17]: pos_values.sum(dim=1, keepdims=True); None::<Kind>: the sum keeps the dtype.
    // tch's `a / b` consumes a Tensor given by value; `&pos_values` lends it, so it lives on.
    let probs = &pos_values / pos_values.sum_dim_intlist(1, true, None::<Kind>);
    jup.show(17, "", &probs)?;
    // In [18]
    jup.show(18, "", &probs.sum_dim_intlist(1, true, None::<Kind>))?;
    Ok(W)
}

/// In [19] … In [27]: one example, 'a' after 'c': its loss, W's gradient, and one small step,
/// which changes `W`'s values.
fn one_step(c_enc: &Tensor, W: &mut Tensor, stoi: &Stoi, jup: &mut Jupyter) -> Result<()> {
    // In [19]: W is already a reference here (`&mut Tensor`), so no `&` as in In [11]
    let c_logits = c_enc.matmul(W);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>); // c_pos.sum()
    jup.show(19, "", &c_probs)?;
    // In [20]: c_probs[stoi["a"]], printed as f"{original_prediction * 100:.2f}%"
    let original_prediction = c_probs.i(stoi[&'a']);
    jup.percent(20, "P('a' after 'c'), untrained", &original_prediction)?;
    // In [21]
    let loss = -original_prediction.log().mean(None::<Kind>);
    jup.show(21, "", &loss)?;
    // In [22]: W.grad = None (tch zeroes it instead; W has none yet), then loss.backward().
    W.zero_grad();
    loss.backward();
    // In [23]: W.grad.size()
    jup.print(23, "", size_repr(&W.grad().size()));
    // In [24]
    jup.show(24, "", &W.grad())?;
    // In [25]
    jup.show(25, "", &W.grad().i(3))?;
    // In [26]: W.data += -0.01 * W.grad. tch has no `.data`; PyTorch's other spelling of it,
    // `with torch.no_grad(): W += step`, is here `tch::no_grad(|| …)`: the closure `|| …` runs
    // with autograd off, so the step is not recorded. `*W`: W is borrowed, *W is the tensor itself.
    let step = W.grad() * -DEMO_LEARNING_RATE; // -0.01 * W.grad (the constants at the top)
    tch::no_grad(|| *W += step);
    // In [27]
    jup.percent(27, "before the step", &original_prediction)?;
    let c_logits = c_enc.matmul(W);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>);
    let new_prediction = c_probs.i(stoi[&'a']);
    jup.percent(27, "after the step", &new_prediction)
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
/// `backward()` and `line`'s update of `W` (a leaf tracking gradients). The notebook's train()
/// uses the globals X_enc, y and W; ours takes them, and `line`, so that In [43] can run it as
/// written and as meant from the same W. Returns the loss of every epoch (for the figures),
/// taken before its update; `cancel` (Ctrl-C) is checked between epochs.
pub fn train(
    X_enc: &Tensor,
    y: &Tensor,
    W: &mut Tensor,
    line: UpdateLine,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    // torch.arange(X_enc.size(0)), made once as it is the same every epoch (the same values):
    // size2()?.0 is size(0) of a 2-d tensor, and arange's options are (dtype, device)
    let rows = Tensor::arange(X_enc.size2()?.0, (Kind::Int64, X_enc.device()));
    let mut losses = Vec::with_capacity(EPOCHS);
    // for _ in range(100): EPOCHS is 100; `epoch` only names where a Ctrl-C stopped
    for epoch in 1..=EPOCHS {
        cancel.check(|| format!("at epoch {epoch} of In [40]"))?;
        // Forward: every example's row of W (In [15]), softmax (In [16], In [17]),
        let logits = X_enc.matmul(W);
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        // the probability of each example's label, probs[torch.arange(n), y] (one index
        // tensor per dimension; None would be `:`), and the NLL loss, as In [21]
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        let loss = -predictions.log().mean(None::<Kind>);
        // Backward: clear the gradient (W.grad = None, In [22]), backpropagate,
        W.zero_grad();
        loss.backward();
        // and update W by -50 * W.grad (LEARNING_RATE is 50), under no_grad as in In [26]; the
        // match picks the line: set_data(&step) is `W.data = step` (W stays the leaf tracking
        // gradients, with step's values), `*W += step` is `W.data += step`.
        let step = W.grad() * -LEARNING_RATE;
        tch::no_grad(|| match line {
            UpdateLine::AsWritten => W.set_data(&step),
            UpdateLine::Intended => *W += step,
        });
        losses.push(loss.f_double_value(&[])?); // loss.item()
    }
    Ok(losses)
}

/// In [43]: `train()` from the W that In [26] left, run twice: as In [40] is written (its
/// update line replaces W instead of stepping it), then as it is meant. The cell shows the first
/// run's last loss; `bigram notebook` adds the second's and a note (`notebook/render.rs`).
fn train_both_ways(
    X_enc: &Tensor,
    y: &Tensor,
    W: &Tensor,
    jup: &mut Jupyter,
    cancel: &Cancel,
) -> Result<TrainingCells> {
    // W.detach().clone(): W's values, a tensor of their own outside the autograd graph
    let start = W.detach().copy();
    // each run trains its own copy of start, a leaf again, with requires_grad=True as in In [12]
    let mut W = start.copy().set_requires_grad(true);
    let as_written = train(X_enc, y, &mut W, UpdateLine::AsWritten, cancel)?;
    // The notebook's train() returns the last epoch's loss.item(), a Python float, and Jupyter
    // shows its repr; ours returns every epoch's, the last one shown.
    // as_written[-1]: Out[43] in the notebook, labelled here as the cell is run twice
    let last = as_written.last().copied().unwrap_or(f64::NAN);
    jup.print(43, "as written", float_repr(last));
    let mut W = start.copy().set_requires_grad(true);
    let intended = train(X_enc, y, &mut W, UpdateLine::Intended, cancel)?;
    // Both runs, kept for the figures and `--json` (notebook/figures.rs).
    TrainingCells::new(as_written, intended, [&start, &W])
}

// In [30], the notebook's last cell, holds only comments (the steps of training once more).

// The cells below are ours, not the notebook's: its TODO, smoothing and then generation. They
// keep the notebook's names; `ix` (the lecture's) and `ix_enc`, one drawn character's index
// and its one-hot row, are ours: the notebook never draws a character.

/// In [44]: smoothing as the makemore lecture does it (Karpathy's, which the notebook follows):
/// W drawn afresh from the generator seeded with 42, then [`EPOCHS`] steps of In [40]'s
/// intended update on the NLL plus `0.01 * (W**2).mean()`, which pulls every weight towards 0,
/// so every next letter keeps some probability. Returns W and the loss of every epoch.
fn smoothing(
    X_enc: &Tensor,
    y: &Tensor,
    jup: &mut Jupyter,
    cancel: &Cancel,
) -> Result<(Tensor, Vec<f64>)> {
    let mut W = randn(SEED, [27, 27], X_enc.device())?.set_requires_grad(true);
    let rows = Tensor::arange(X_enc.size2()?.0, (Kind::Int64, X_enc.device()));
    let mut losses = Vec::with_capacity(EPOCHS);
    for epoch in 1..=EPOCHS {
        cancel.check(|| format!("at epoch {epoch} of In [44]"))?;
        let logits = X_enc.matmul(&W);
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        // the loss of In [40], plus 0.01 * (W**2).mean()
        let loss =
            -predictions.log().mean(None::<Kind>) + W.pow_tensor_scalar(2).mean(None::<Kind>) * REG;
        W.zero_grad();
        loss.backward();
        let step = W.grad() * -LEARNING_RATE;
        tch::no_grad(|| W += step); // W is our own here, not borrowed as in train(): no `*`
        losses.push(loss.f_double_value(&[])?);
    }
    let last = losses.last().copied().unwrap_or(f64::NAN);
    jup.print(44, "loss after the last epoch", float_repr(last));
    Ok((W, losses))
}

/// In [45]: [`NAMES`] names, one character at a time: the last one, one-hot, through W,
/// softmax, and one draw from the generator seeded with 2147483647, until '.'.
fn generation(W: &Tensor, itos: &Itos, jup: &mut Jupyter) -> Result<Vec<String>> {
    // g = torch.Generator().manual_seed(2147483647): tch has no generator object, so
    // with_cpu_seed seeds the CPU's own (under a lock) while the closure draws from it
    with_cpu_seed(SAMPLE_SEED, || {
        let mut names = Vec::with_capacity(NAMES);
        for _ in 0..NAMES {
            let (mut name, mut ix) = (String::new(), 0); // ix: the last character's index
            while name.len() < MAX_LEN {
                // F.one_hot(torch.tensor([ix]), num_classes=27).float(), as In [8] and In [9]
                let ix_enc = Tensor::from_slice(&[ix]).one_hot(27).to_kind(Kind::Float);
                let logits = ix_enc.matmul(W);
                let pos = logits.exp();
                let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
                // torch.multinomial(probs, 1, replacement=True, generator=g).item(): the draw
                // is 1×1, so its one element is at [0, 0]
                ix = probs.f_multinomial(1, true)?.f_int64_value(&[0, 0])?;
                if ix == 0 {
                    break;
                }
                name.push(itos[&ix]);
            }
            jup.print(45, "", name.clone());
            names.push(name);
        }
        Ok(names)
    })
}

// The plumbing, below the cells: it reads the names, puts the tensors on the device, runs the
// cells in order and keeps what they showed.

/// Replay the notebook on `sources`, its tensors on `device` (weights drawn on the CPU, as the
/// notebook's are, then moved). Training stops between epochs once `cancel` is raised.
pub fn replay(sources: &[Source], device: Device, cancel: &Cancel) -> Result<Replay> {
    let names = plumbing::names(sources, cancel)?;
    let mut jup = Jupyter::new();
    let (stoi, itos) = vocabulary(&names, &mut jup);
    let (X, y) = examples(&names, &stoi, &mut jup);
    let c_enc = c_one_hot(&stoi, &mut jup)?;
    let X_enc = one_hot(&X, &mut jup)?;
    // The cells from In [10] on multiply these by W, on the device (X stays on the CPU).
    let (c_enc, X_enc) = (c_enc.f_to_device(device)?, X_enc.f_to_device(device)?);
    let y = y.f_to_device(device)?;
    let mut W = layer(&c_enc, &X_enc, &stoi, &mut jup)?;
    one_step(&c_enc, &mut W, &stoi, &mut jup)?;
    // What In [1] … In [27] showed, as figures; `jup` then drops the tensors it kept for them,
    // so that the trainings run without that memory held.
    let demonstration = Replay::read_cells(&names, [&X, &y], &mut jup)?;
    let training = train_both_ways(&X_enc, &y, &W, &mut jup, cancel)?;
    let (W, losses) = smoothing(&X_enc, &y, &mut jup, cancel)?;
    // Names are drawn on the CPU, from its seeded generator, as `bigram sample` draws them;
    // none from weights whose training diverged (render.rs says so).
    let drawn = if losses.iter().all(|loss| loss.is_finite()) {
        generation(&W.f_to_device(Device::Cpu)?, &itos, &mut jup)?
    } else {
        Vec::new()
    };
    let continuation = Continuation::new(losses, drawn);
    let shown = jup.into_shown();
    Ok(Replay::new(demonstration, training, continuation, shown))
}
