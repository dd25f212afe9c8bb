//! The notebook in Rust, cell by cell in its order, under its names (`W`, `X_enc`, `c_probs`…).
//! Each cell shows what the notebook's shows, at the same point, via `jup` (Jupyter's display):
//! - `jup.show(n, label, &t)`: a tensor, as PyTorch prints it;
//! - `jup.print(n, label, text)`: any other value, as Python prints it (pyrepr, or Rust format!);
//! - `jup.percent(n, label, &p)`: a probability, as `f"{p * 100:.2f}%"`;
//! - `jup.say(n, words)`: a print() of words only.
//!
//! One call per printed value. The label is what the print() writes before the value; `""` is
//! the value alone (Out[n], print(W)). The values are PyTorch 2.13's, byte for byte; the words
//! are ours, as the notebook's text is not ours to copy.
//!
//! Rust has no notebook-wide variables, so the cells are grouped in functions: each takes what
//! its cells read (`&x` lends x to read it, `&mut x` to change it) and returns what later cells
//! use. In [44] and In [45] are ours: the smoothing and generation the notebook's TODO asks for.
//! `replay()`, at the bottom, runs the cells with the rest: the file, the device, Ctrl-C. Where
//! tch spells a call differently from PyTorch: the README's table, "Read the port".
// The notebook's capitals (W, X, X_enc) are kept, so Rust's snake_case lint is off.
#![allow(non_snake_case)]

// Not cells: the files under notebook/ hold what the notebook does not have (the names read
// and checked, Jupyter's display, the record of what was shown); the `use` lines bring in
// Rust's tools, and In [3] (import torch) is the `use tch` lines. The cells start below them.
mod figures;
mod ipynb;
mod jupyter;
mod plumbing;
mod render;

pub use figures::Replay;
pub use jupyter::Shown;

use crate::cancel::Cancel;
use crate::data::Source;
use crate::device::with_cpu_seed;
use crate::error::Result;
use crate::pyrepr::{dict_repr, float_repr, list_repr, size_repr, str_repr};
use figures::{Continuation, TrainingCells};
use jupyter::Jupyter;
use plumbing::{randn, Losses};
use std::collections::BTreeMap;

// In [3]: import torch. tch is PyTorch's own C++ library, libtorch, called from Rust.
use tch::kind::FLOAT_CPU;
use tch::{Device, IndexOp, Kind, Tensor}; // IndexOp: .i(), Python's [] on a tensor

/// stoi of In [4] (a BTreeMap: '.' sorts before 'a', so it keeps the dict's order).
type Stoi = BTreeMap<char, i64>;
/// itos of In [5].
type Itos = BTreeMap<i64, char>;

/// In [1], In [2], In [4], In [5]: the names (read by `replay()`), a name's bigrams, stoi and
/// itos.
fn vocabulary(names: &[String], jup: &mut Jupyter) -> (Stoi, Itos) {
    // quoted('c') is Python's repr 'c' (pyrepr writes Python's reprs); `|c| …` is `lambda c: …`
    let quoted = |c: &char| str_repr(&c.to_string());

    // In [1]: names = open("names.txt", "r").read().splitlines() is plumbing::names, in replay()
    let first_three = names.iter().take(3).map(|name| str_repr(name));
    jup.print(1, "the first three names", list_repr(first_three));

    // In [2]: zip('.emma', 'emma.'), from the first name ("emma" in names.txt; replay() has
    // checked there are names)
    let first = &names[0];
    let (starts, ends) = (format!(".{first}"), format!("{first}.")); // format!: an f-string
    let bigrams = starts.chars().zip(ends.chars());
    let tuples = bigrams.map(|(a, b)| format!("({}, {})", quoted(&a), quoted(&b)));
    jup.print(2, "the first name's bigrams", list_repr(tuples));

    // (In [3], import torch, is the `use tch` lines at the top.)
    // In [4]: "." + string.ascii_lowercase; enumerate() is written zip(0..): each char with 0,
    // 1, 2… as i64, tch's index type; collect() builds the type on the left, here the dict
    let stoi: Stoi = ".abcdefghijklmnopqrstuvwxyz".chars().zip(0..).collect();
    let pairs = stoi.iter().map(|(c, i)| (quoted(c), i.to_string()));
    jup.print(4, "", dict_repr(pairs));
    // In [5]: iter() gives references to the pairs; the & in |(&c, &i)| takes out the values
    let itos: Itos = stoi.iter().map(|(&c, &i)| (i, c)).collect();
    let pairs = itos.iter().map(|(i, c)| (i.to_string(), quoted(c)));
    jup.print(5, "", dict_repr(pairs));
    (stoi, itos)
}

/// In [6]: X, the first character of every bigram; y, the one after it.
fn examples(names: &[String], stoi: &Stoi, jup: &mut Jupyter) -> (Tensor, Tensor) {
    let (mut X, mut y) = (Vec::new(), Vec::new()); // X = [], y = []; `mut`: they will change
    for name in names {
        for (char1, char2) in format!(".{name}").chars().zip(format!("{name}.").chars()) {
            // stoi[char1]: a Rust map is indexed by a reference to its key, &char1
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

/// In [7]: 'c' one-hot, by hand. `Result<Tensor>`: a Tensor or an error; `Ok(x)` returns x.
fn c_one_hot(stoi: &Stoi, jup: &mut Jupyter) -> Result<Tensor> {
    // stoi["c"]: &'c' is a reference to the char 'c' (a map is indexed by one), not a lifetime
    let c_index = stoi[&'c'];
    // torch.zeros(27): float32 on the CPU (no `mut`: fill_ below writes through a view of it)
    let c_enc = Tensor::zeros([27], FLOAT_CPU);
    // c_enc[c_index] = 1: .i() is [], a view of c_enc; fill_ sets it (its return unused: `let _`)
    let _ = c_enc.i(c_index).fill_(1.0);
    // One print() of two values: one call for each. `?` passes an error up, where Python raises.
    jup.print(7, "c's index", c_index.to_string());
    jup.show(7, "its one-hot encoding", &c_enc)?;
    Ok(c_enc)
}

/// In [8], In [9]: X one-hot, then as floats.
fn X_one_hot(X: &Tensor, jup: &mut Jupyter) -> Result<Tensor> {
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
    // In [10]: gen = torch.Generator().manual_seed(42); W = torch.randn((27, 1), generator=gen).
    // tch has no generator object: plumbing's randn(seed, shape, device) seeds the CPU's, draws on
    // the CPU, as the notebook does, then puts W where c_enc is (replay() chooses the device).
    let W = randn(42, [27, 1], c_enc.device())?;
    jup.say(10, "A neuron: 27 weights, one per element of an input:");
    jup.show(10, "", &W)?;
    // In [11]
    jup.say(11, "c_enc's only 1 is at index 3, so c_enc @ W is W[3]:");
    jup.show(11, "", &c_enc.matmul(&W))?; // c_enc @ W; matmul borrows W: &W

    // In [12]: the generator seeded again; requires_grad=True
    let W = randn(42, [27, 27], c_enc.device())?.set_requires_grad(true);
    // In [13]
    let c_output = c_enc.matmul(&W);
    jup.show(13, "", &c_output)?;
    // In [14]: zip(stoi.keys(), c_output) as each letter with its index i, then c_output[i]
    jup.say(14, "The untrained layer's logit for each letter after 'c':");
    for (letter, i) in stoi.keys().zip(0..) {
        // c_output[i].item(): the index list holds one index per dimension (`&[]` for a 0-d
        // tensor). f_ is tch's fallible twin, a Result where the plain one panics: we use it where
        // a value leaves a tensor (item), a multinomial draw or a device move; the maths is plain.
        let logit = c_output.f_double_value(&[i])?;
        jup.print(14, &letter.to_string(), format!("{logit:.4}")); // f"{letter}: {logit:.4f}"
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
    // In [22]: W.grad = None, then loss.backward(). tch can't unset a grad, it zeroes it (none yet)
    W.zero_grad();
    loss.backward();
    // In [23]: W.grad.size()
    jup.print(23, "", size_repr(&W.grad().size()));
    // In [24]
    jup.show(24, "", &W.grad())?;
    // In [25]
    jup.show(25, "", &W.grad().i(3))?;
    // In [26]: W.data += -0.01 * W.grad. tch has no `.data` to add to; PyTorch's other spelling,
    // `with torch.no_grad(): W += step`, is here `tch::no_grad(|| …)`: the closure `|| …` runs
    // with autograd off, so the step is not recorded. `*W`: W is borrowed, *W is the tensor itself.
    let step = W.grad() * -0.01;
    tch::no_grad(|| *W += step);
    // In [27]
    jup.percent(27, "before the step", &original_prediction)?;
    let c_logits = c_enc.matmul(W);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>);
    let new_prediction = c_probs.i(stoi[&'a']);
    jup.percent(27, "after the step", &new_prediction)?;
    Ok(())
}

/// In [40]'s update line: the cell writes `=` where In [26] writes `+=`, so W is replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateLine {
    /// `W.data = -50 * W.grad`, as the cell is written: W becomes the scaled gradient.
    AsWritten,
    /// `W.data += -50 * W.grad`, the step against the gradient that the cell means.
    Intended,
}

/// In [40]: `train()`. The notebook's train() reads the globals X_enc, y and W; Rust has no
/// globals, so ours takes them. Two arguments are ours: `line`, which update line to run (the
/// notebook runs it as written; `replay()` also runs it as meant), and `losses`, which keeps
/// each epoch's loss for the figures and stops the loop on Ctrl-C. Returns `loss.item()`.
pub fn train(
    X_enc: &Tensor,
    y: &Tensor,
    W: &mut Tensor,
    line: UpdateLine,
    losses: &mut Losses,
) -> Result<f64> {
    // `loss` is declared before the loop (empty for now), as Python's outlives the loop
    let mut loss = Tensor::new();
    // for _ in range(100): 100 passes over all the examples
    for _ in 0..100 {
        // Forward pass: each example's one-hot row picks its row of W (as c_enc did, In [13])
        let logits = X_enc.matmul(W);
        // softmax: exp, then each row divided by its sum (In [16], In [17])
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        // each row's probability for its label, probs[torch.arange(X_enc.size(0)), y]: one
        // index tensor per dimension (None would be `:`); arange's options: (dtype, device)
        let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        // the NLL loss, as In [21]
        loss = -predictions.log().mean(None::<Kind>);

        // Backward pass: zero the last gradient (tch's W.grad = None, In [22]), backpropagate,
        W.zero_grad();
        loss.backward();
        // then update W, under no_grad as in In [26]: as written (set_data, `W.data = step`) W
        // becomes the step; as meant (`*W += step`, `W.data += step`) it moves by the step
        let step = W.grad() * -50.0;
        tch::no_grad(|| match line {
            UpdateLine::AsWritten => W.set_data(&step),
            UpdateLine::Intended => *W += step,
        });
        losses.record(&loss)?; // ours: the loss for the figures; Ctrl-C stops here
    }
    // return loss.item() (`Ok(…?)`: tch's error, if any, becomes ours)
    Ok(loss.f_double_value(&[])?)
}

/// The notebook's In [43], one call of train(), on the W that In [26] left (its numbering skips
/// cells its author ran). Out[43] is PyTorch 2.13's value; the notebook's 3.085660934448242 came
/// from an older PyTorch, so only its last digits differ. Returns every epoch's loss.
fn call_train(
    X_enc: &Tensor,
    y: &Tensor,
    W: &mut Tensor,
    jup: &mut Jupyter,
    cancel: &Cancel,
) -> Result<Vec<f64>> {
    let mut losses = Losses::new(43, cancel);
    // In [43]
    let loss = train(X_enc, y, W, UpdateLine::AsWritten, &mut losses)?;
    jup.print(43, "", float_repr(loss));

    Ok(losses.into())
}

// In [30], the notebook's last cell, holds only comments (the steps of training once more).

// The cells below are ours, not the notebook's: its TODO, smoothing and then generation. They
// keep the notebook's names; `ix` (makemore's) and `ix_enc`, one drawn character's index
// and its one-hot row, are ours: the notebook never draws a character.

/// In [44]: smoothing (as Andrej Karpathy's makemore lecture does it for this model): W drawn
/// again from the generator seeded with 42, then 100 epochs of In [40] as meant, on the NLL
/// plus `0.01 * (W**2).mean()` (so train()'s loop is written again, with that term), which pulls
/// every weight towards 0: every next letter keeps some probability. Returns W and the losses.
fn smoothing(
    X_enc: &Tensor,
    y: &Tensor,
    jup: &mut Jupyter,
    cancel: &Cancel,
) -> Result<(Tensor, Vec<f64>)> {
    let mut losses = Losses::new(44, cancel); // ours, as in train()
    let mut W = randn(42, [27, 27], X_enc.device())?.set_requires_grad(true);
    let mut loss = Tensor::new();
    for _ in 0..100 {
        let logits = X_enc.matmul(&W);
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        // the loss of In [40], plus 0.01 * (W**2).mean(): W**2 is pow_tensor_scalar(2)
        loss = -predictions.log().mean(None::<Kind>)
            + W.pow_tensor_scalar(2).mean(None::<Kind>) * 0.01;
        W.zero_grad();
        loss.backward();
        let step = W.grad() * -50.0;
        tch::no_grad(|| W += step); // W is our own here, not borrowed as in train(): no `*`
        losses.record(&loss)?;
    }
    let loss = loss.f_double_value(&[])?; // loss.item()
    jup.print(44, "the last epoch's loss", float_repr(loss));
    Ok((W, losses.into()))
}

/// In [45]: 5 names from In [44]'s W, a character at a time: the last one drawn ('.', 0, first),
/// one-hot, through W, softmax, and one draw from the generator seeded with 2147483647, until
/// '.' is drawn (or the name reaches 50 characters, a cap of ours so that every name ends).
fn generation(W: &Tensor, itos: &Itos, jup: &mut Jupyter) -> Result<Vec<String>> {
    // g = torch.Generator().manual_seed(2147483647): tch has no generator object, so
    // with_cpu_seed seeds the CPU's own (under a lock) while the closure draws from it
    with_cpu_seed(2147483647, || {
        let mut drawn = Vec::new();
        for _ in 0..5 {
            // ix: the index of the last character drawn, 0 ('.') to start
            let (mut name, mut ix) = (String::new(), 0);
            while name.len() < 50 {
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
            jup.print(45, "", &name); // print(name)
            drawn.push(name);
        }
        Ok(drawn)
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
    let X_enc = X_one_hot(&X, &mut jup)?;
    // The cells from In [10] on multiply these by W, on the device (X stays on the CPU).
    let (c_enc, X_enc) = (c_enc.f_to_device(device)?, X_enc.f_to_device(device)?);
    let y = y.f_to_device(device)?;
    let mut W = layer(&c_enc, &X_enc, &stoi, &mut jup)?;
    one_step(&c_enc, &mut W, &stoi, &mut jup)?;
    // What In [1] … In [27] showed, as figures; `jup` then drops the tensors it kept for them,
    // so that the trainings run without that memory held.
    let demonstration = Replay::read_cells(&names, [&X, &y], &mut jup)?;
    let start = W.detach().copy(); // In [43] changes W; our run below starts where it did
    let as_written = call_train(&X_enc, &y, &mut W, &mut jup, cancel)?;
    // Ours: In [40] as meant (+=), from the same W, for the line under Out[43] (render.rs) and
    // for the test that `bigram train` gives the same bits
    let mut W = start.copy().set_requires_grad(true);
    let mut intended = Losses::new(43, cancel);
    train(&X_enc, &y, &mut W, UpdateLine::Intended, &mut intended)?;
    let training = TrainingCells::new(as_written, intended.into(), [&start, &W])?;
    let (W, losses) = smoothing(&X_enc, &y, &mut jup, cancel)?;
    // Names are drawn on the CPU, from its seeded generator, as `bigram sample` draws them;
    // none from weights whose training diverged (render.rs says so).
    let drawn = if losses.iter().all(|loss| loss.is_finite()) {
        generation(&W.f_to_device(Device::Cpu)?, &itos, &mut jup)?
    } else {
        Vec::new()
    };
    let continuation = Continuation::new(losses, drawn);
    Ok(Replay::new(demonstration, training, continuation, jup))
}
