//! The notebook in Rust, cell by cell in its order, under its names (`W`, `X_enc`, `c_probs`…).
//! Each cell shows what the notebook's shows, at the same point, via `jup` (Jupyter's display):
//! - `jup.show(n, label, &t)`: a tensor, as PyTorch prints it;
//! - `jup.print(n, label, text)`: any other value, already written as Python prints it;
//! - `jup.percent(n, label, &p)`: a probability, as `f"{p * 100:.2f}%"`;
//! - `jup.say(n, words)`: a print() of words only.
//!
//! There is one call per printed value. The values are printed as PyTorch 2.13 prints them; the
//! words are ours: a label stands for the text a print() writes before its value, and an empty
//! label `""` shows the value alone, as Out[n] or a bare print(x) does.
//!
//! Rust has no notebook-wide variables, so the cells are grouped in functions: each takes what
//! its cells read (`&x` lends x to read it, `&mut x` to change it) and returns what later cells
//! use. In [44] and In [45] are ours: the smoothing and generation the notebook's TODO asks for.
//! tch's spellings of PyTorch's calls: the README's table, "Read the port". Our helpers are
//! named where first used; their `use` lines sit at the bottom, with `replay()`, which runs the
//! cells with what the notebook does not have: the file, the device, Ctrl-C.
// The notebook's capitals (W, X, X_enc) are kept, so Rust's snake_case lint is off.
#![allow(non_snake_case)]

// In [3]: import torch. tch: Rust's bindings to libtorch, PyTorch's C++ core.
use tch::kind::FLOAT_CPU;
// IndexOp is a trait: its method .i(), Python's [] on a tensor, works once `use` brings it in
use tch::{Device, IndexOp, Kind, Tensor};

/// In [1], In [2]: the names (read by `replay()`, as `names.txt`'s lines; `&[String]`, a list
/// of strings, lent) and a name's bigrams.
fn names_and_bigrams(names: &[String], jup: &mut Jupyter) {
    // In [1]: names[:3], each name as Python's repr 'emma' (str_repr and list_repr, ours, in
    // pyrepr.rs, write Python's reprs). iter() gives each name in turn (a reference to it);
    // `|name| …` is `lambda name: …`
    let first_three = names.iter().take(3).map(|name| str_repr(name));
    jup.print(1, "the first three names", list_repr(first_three));

    // In [2]: zip('.emma', 'emma.'), from the first name, "emma" in names.txt
    let first = &names[0];
    let (starts, ends) = (format!(".{first}"), format!("{first}.")); // format!: an f-string
    let bigrams = starts.chars().zip(ends.chars());
    // display only: each pair written as Python prints a tuple, ('.', 'e'); quoted(c), ours
    // (at the bottom), is a char's repr
    let tuples = bigrams.map(|(a, b)| format!("({}, {})", quoted(a), quoted(b)));
    jup.print(2, "the first name's bigrams", list_repr(tuples));
}

/// stoi's type (In [4]), named by `type`: a BTreeMap, a dict kept in key order ('.' first).
type Stoi = BTreeMap<char, i64>;
/// itos's type (In [5]).
type Itos = BTreeMap<i64, char>;

/// In [4], In [5]: stoi and itos.
fn vocabulary(jup: &mut Jupyter) -> (Stoi, Itos) {
    // In [4]: "." + string.ascii_lowercase, enumerated. zip(0..) pairs each char with 0, 1, 2…
    // (as i64, tch's index type); collect() builds the type written on the left, a dict here.
    let stoi: Stoi = ".abcdefghijklmnopqrstuvwxyz".chars().zip(0..).collect();
    // display only. iter() gives the pairs as references; the & in |(&c, i)| takes out the char
    let pairs = stoi.iter().map(|(&c, i)| (quoted(c), i.to_string()));
    // dict_repr, from pyrepr.rs like str_repr, writes Python's repr of a dict
    jup.print(4, "", dict_repr(pairs));
    // In [5]
    let itos: Itos = stoi.iter().map(|(&c, &i)| (i, c)).collect();
    let pairs = itos.iter().map(|(i, &c)| (i.to_string(), quoted(c)));
    jup.print(5, "", dict_repr(pairs));
    (stoi, itos) // the last expression, with no `;`, is what the function returns
}

/// In [6]: X, the first character of every bigram; y, the one after it.
fn examples(names: &[String], stoi: &Stoi, jup: &mut Jupyter) -> (Tensor, Tensor) {
    // X = [], y = []. Vec::new(): the type Vec's own function `new`, like Python's list();
    // `mut`: these lists will change
    let (mut X, mut y) = (Vec::new(), Vec::new());
    for name in names {
        for (char1, char2) in format!(".{name}").chars().zip(format!("{name}.").chars()) {
            // stoi[char1]: a Rust map is indexed by a reference to its key, &char1
            X.push(stoi[&char1]);
            y.push(stoi[&char2]);
        }
    }
    jup.print(6, "examples", X.len().to_string());
    // Rust's {:?} of a list of integers is Python's print of it: [0, 5, 13, …]
    jup.print(6, "X[:10]", format!("{:?}", &X[..10])); // &X[..10]: X[:10], borrowed
    jup.print(6, "y[:10]", format!("{:?}", &y[..10]));
    // X = torch.tensor(X): `let X` again makes a new X (the list's name is reused, "shadowed")
    let X = Tensor::from_slice(&X);
    let y = Tensor::from_slice(&y);
    (X, y)
}

/// In [7]: 'c' one-hot, by hand. `Result<Tensor>`: a Tensor or an error (short for
/// `Result<Tensor, crate::error::Error>`, our error type); `Ok(x)` wraps x as the success.
fn c_one_hot(stoi: &Stoi, jup: &mut Jupyter) -> Result<Tensor> {
    // stoi["c"]: &'c' is a reference to the char 'c' (a map is indexed by one), not a lifetime
    let c_index = stoi[&'c'];
    // torch.zeros(27): float32 on the CPU
    let c_enc = Tensor::zeros([27], FLOAT_CPU);
    // c_enc[c_index] = 1: .i() is [], a view of c_enc (a new Tensor sharing its memory), and
    // fill_ sets it, so c_enc's values change; its return is unused (`let _`). No `mut` on
    // c_enc: Rust asks for it on what is borrowed to be changed (`&mut`), here the view.
    let _ = c_enc.i(c_index).fill_(1.0);
    // One print() of two values: one call for each. show can fail (writing a tensor's repr
    // reads it back); `?` then passes the error up, where Python raises.
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
    // In [10]: W = torch.randn((27, 1), generator=torch.Generator().manual_seed(42)). tch has no
    // generator object: randn(seed, shape, device), ours (notebook/plumbing.rs), seeds the CPU's
    // random generator and draws from it, then puts W on the run's device (CPU or GPU), which
    // c_enc is on
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
    // In [14]: zip(stoi.keys(), c_output): each letter, with its index i for c_output[i]
    jup.say(14, "The untrained layer's logit for each letter after 'c':");
    for (letter, i) in stoi.keys().zip(0..) {
        // The f-string formats c_output[i].item(); c_output.f_double_value(&[i]) reads it.
        // &[i]: one index per dimension. An f_ method is the fallible twin of the plain one: a
        // Result instead of a panic (the README's "Read the port" says where we use them).
        let logit = c_output.f_double_value(&[i])?;
        jup.print(14, &letter.to_string(), format!("{logit:.4}"));
    }
    // In [15]
    let logits = X_enc.matmul(&W);
    jup.show(15, "", &logits)?;
    // In [16]
    let pos_values = logits.exp();
    jup.show(16, "", &pos_values)?;
    // In [17]: pos_values.sum(dim=1, keepdims=True). The last argument is a dtype, or None to
    // keep the tensor's; `None::<Kind>` is None with its type (Kind, a dtype) spelled out.
    // tch's `a / b` consumes a Tensor given by value; `&pos_values` lends it, so it lives on.
    let probs = &pos_values / pos_values.sum_dim_intlist(1, true, None::<Kind>);
    jup.show(17, "", &probs)?;
    // In [18]
    jup.show(18, "", &probs.sum_dim_intlist(1, true, None::<Kind>))?;
    Ok(W)
}

/// In [19] … In [27]: one example, 'a' after 'c': its loss, W's gradient, and one small step,
/// which changes `W`'s values. `Result<()>`: nothing (`()`, Python's None) or an error.
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
    // In [22]: W.grad = None, then loss.backward(). tch can't unset a grad: it zeroes it, which
    // does nothing here, as W has no gradient yet
    W.zero_grad();
    loss.backward();
    // In [23]: W.grad.size(), written by size_repr (pyrepr's) as torch.Size([27, 27])
    jup.print(23, "", size_repr(&W.grad().size()));
    // In [24]
    jup.show(24, "", &W.grad())?;
    // In [25]
    jup.show(25, "", &W.grad().i(3))?;
    // In [26]: W.data += -0.01 * W.grad, a change autograd does not record. tch spells it as
    // PyTorch's `with torch.no_grad(): W += step`: no_grad runs the closure `|| …` with autograd
    // off. (tch's `W.data =` is set_data, In [40]; it has no `W.data +=`.)
    let step = -0.01 * W.grad();
    // W is a reference here; *W is the tensor it refers to
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

/// In [40]: `train()`, which returns `loss.item()`. The notebook's reads the globals X_enc, y
/// and W; ours takes them, and `losses`, an argument of ours: it keeps each epoch's loss for our
/// figures and, on Ctrl-C, returns an error, which `?` passes up: the replay ends there.
fn train(X_enc: &Tensor, y: &Tensor, W: &mut Tensor, losses: &mut Losses) -> Result<f64> {
    // `loss` is declared before the loop (empty for now), as Python's outlives the loop
    let mut loss = Tensor::new();
    // for _ in range(100): 100 passes over all the examples
    for _ in 0..100 {
        // Forward pass: each example's one-hot row picks its row of W (as c_enc did, In [13])
        let logits = X_enc.matmul(W);
        // softmax: exp, then each row divided by its sum (In [16], In [17])
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        // probs[torch.arange(X_enc.size(0)), y]: row i's probability of y[i]. tch takes an
        // Option per dimension, Some(index) or None (Python's `:`): .i() takes numbers and
        // ranges, .index tensors. `y` is already a reference, so no `&`. arange: (dtype, device)
        let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        // the NLL loss, as In [21]
        loss = -predictions.log().mean(None::<Kind>);

        // Backward pass: zero the last gradient (tch's W.grad = None, In [22]), backpropagate
        W.zero_grad();
        loss.backward();
        // W.data = -50 * W.grad: `=` where In [26] has `+=`, so W is replaced by the step, not
        // moved by it (see In [43]); set_data is tch's `W.data =`
        W.set_data(&(-50.0 * W.grad()));
        losses.record(&loss)?; // ours, not the notebook's: keep the loss; Ctrl-C ends here
    }
    // return loss.item(); `Ok(…?)` converts tch's error, if any, to our error type
    Ok(loss.f_double_value(&[])?)
}

/// In [43]: train(), once, on the W that In [26] left. As the update line replaces W, the loss
/// stalls near 3.09; `replay()` also runs In [40] as meant (`train_as_meant`, In [44]) and
/// prints its loss under Out[43], as ours. (Out[43] is PyTorch 2.13's figure: the notebook's
/// 3.085660934448242 came from an older PyTorch; the README says more.)
fn call_train(
    X_enc: &Tensor,
    y: &Tensor,
    W: &mut Tensor,
    losses: &mut Losses,
    jup: &mut Jupyter,
) -> Result<()> {
    let loss = train(X_enc, y, W, losses)?;
    jup.print(43, "", float_repr(loss)); // float_repr (pyrepr's): Python's repr of a float
    Ok(())
}

// In [30], the notebook's last cell, holds only comments (the steps of training once more).

// The cells below are ours, not the notebook's: its TODO, smoothing (In [44]) and generation
// (In [45]). They keep the notebook's names; `ix` and `ix_enc`, one drawn character's index and
// its one-hot row, are ours.

/// In [44]: its first part, `train_as_meant`, ours: In [40]'s train() as the cell means it,
/// which In [44]'s smoothing (below) runs with l2 = 0.01 and `replay()` with l2 = 0 for the note
/// under Out[43]. Its loop is train()'s but for two changes, each marked `changed`: the update
/// steps W (`+=`), and `l2 * (W**2).mean()` is added to the loss.
fn train_as_meant(
    X_enc: &Tensor,
    y: &Tensor,
    W: &mut Tensor,
    l2: f64,
    losses: &mut Losses,
) -> Result<f64> {
    let mut loss = Tensor::new();
    for _ in 0..100 {
        let logits = X_enc.matmul(W);
        let pos = logits.exp();
        let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
        let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
        let predictions = probs.index(&[Some(&rows), Some(y)]);
        let nll = -predictions.log().mean(None::<Kind>);
        // changed: nll + l2 * (W**2).mean(), W**2 being pow_tensor_scalar(2); with 0, the nll
        // alone, so that with l2 = 0 the loss is computed as train() computes it, op for op.
        // `if c { a } else { b }` is Python's `a if c else b`
        loss = if l2 > 0.0 {
            nll + l2 * W.pow_tensor_scalar(2).mean(None::<Kind>)
        } else {
            nll
        };
        W.zero_grad();
        loss.backward();
        // changed: W.data += -50 * W.grad, a step as in In [26] (no_grad runs the closure
        // `|| …` with autograd off; *W is the tensor W refers to)
        let step = -50.0 * W.grad();
        tch::no_grad(|| *W += step);
        losses.record(&loss)?;
    }
    Ok(loss.f_double_value(&[])?)
}

/// In [44]: then smoothing, as Andrej Karpathy's makemore lecture on this bigram model does it,
/// but with W drawn again from the notebook's seed 42 (the lecture's is 2147483647): 100 epochs of
/// In [40] as meant on the NLL plus `0.01 * (W**2).mean()`, which pulls every weight towards 0
/// so that every next letter keeps some probability. Returns W.
fn smoothing(X_enc: &Tensor, y: &Tensor, losses: &mut Losses, jup: &mut Jupyter) -> Result<Tensor> {
    let mut W = randn(42, [27, 27], X_enc.device())?.set_requires_grad(true);
    let loss = train_as_meant(X_enc, y, &mut W, 0.01, losses)?;
    jup.print(44, "the last epoch's loss", float_repr(loss));
    Ok(W)
}

/// In [45]: 5 names from In [44]'s W, a character at a time, starting from '.' (index 0): the
/// last character drawn, one-hot, through W, softmax, and one draw from the generator seeded
/// with 2147483647, until '.' is drawn again (or the name reaches 50 characters, a cap of ours
/// so that every name ends).
fn generation(W: &Tensor, itos: &Itos, jup: &mut Jupyter) -> Result<Vec<String>> {
    // g = torch.Generator().manual_seed(2147483647): tch has no generator object, so
    // with_cpu_seed, ours (device.rs), seeds the CPU's own (under a lock) while the closure
    // `|| { … }` draws from it; a `?` inside passes an error out of the closure, and
    // with_cpu_seed returns it
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

// The plumbing, below the cells: what the cells use and the notebook does not have, and
// replay(), which reads the names, puts the tensors on the device, runs the cells in order and
// keeps what they showed. The files under notebook/: figures.rs (the record of what was shown),
// jupyter.rs (Jupyter's display), plumbing.rs (reading, the seeded randn, Losses), render.rs and
// ipynb.rs (the text and .ipynb outputs). `mod` names those files; `pub use` re-exports two of
// their types to the rest of the program; `use` brings names in.
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

/// Python's repr of a character, 'c'.
fn quoted(c: char) -> String {
    str_repr(&c.to_string())
}

/// Replay the notebook on `sources`, its tensors on `device` (weights drawn on the CPU, as the
/// notebook's are, then moved): In [1] … In [27], In [43] (which runs In [40]) and In [40] as
/// meant, then ours, In [44] and In [45]. Training stops between epochs once `cancel` is raised.
pub fn replay(sources: &[Source], device: Device, cancel: &Cancel) -> Result<Replay> {
    let names = plumbing::names(sources, cancel)?;
    let mut jup = Jupyter::new();
    names_and_bigrams(&names, &mut jup);
    let (stoi, itos) = vocabulary(&mut jup);
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
    // Our run below starts from the W that In [43] changes (detach().copy(): W.detach().clone())
    let start = W.detach().copy();
    let mut as_written = Losses::new(43, cancel);
    call_train(&X_enc, &y, &mut W, &mut as_written, &mut jup)?;
    // Ours: In [40] as meant (+=), from the same W, for the line under Out[43] (render.rs)
    let mut W = start.copy().set_requires_grad(true);
    let mut intended = Losses::new(43, cancel);
    train_as_meant(&X_enc, &y, &mut W, 0.0, &mut intended)?;
    // .into(): each Losses becomes the Vec of its losses
    let training = TrainingCells::new(as_written.into(), intended.into(), [&start, &W])?;
    let mut losses = Losses::new(44, cancel);
    let W = smoothing(&X_enc, &y, &mut losses, &mut jup)?;
    let losses: Vec<f64> = losses.into();
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
