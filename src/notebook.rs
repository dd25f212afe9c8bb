//! The notebook in Rust: its cells in its order, under its names (`W`, `X_enc`, `c_probs`…), in
//! one function, `replay()`, as a notebook's cells share one set of variables. Each cell starts
//! with `// In [n]:` and its Python. `// In [n] (ours):`, blocks headed `ours, not a cell` and
//! lines marked `ours` are our own: the device, Ctrl-C, the record of the run, and In [44] and
//! In [45], the smoothing and generation the notebook's TODO asks for; and, from render.rs, the
//! heading of each cell in the output (`In [n]: what it does`), the note under Out[43] and the
//! line that says where the notebook ends. The Rust is explained once, in docs/reading-rust.md.
//! What a cell shows goes through `jup` (Jupyter's display, ours)
//! and is printed as `label: value`, or alone under an empty label `""` (the cell's `Out[n]`,
//! or a bare `print(x)`):
//! - `jup.show(n, label, &t)?`: a tensor, as its repr (`?`: reading a tensor back can fail);
//! - `jup.print(n, label, text)`: any other value, already written as Python prints it;
//! - `jup.percent(n, label, &p)?`: a probability, as `f"{p * 100:.2f}%"`;
//! - `jup.say(n, words)`: a print() of words only. The words are ours (no prose is copied from
//!   the notebook), so their Python is written `print("…")`.
#![allow(non_snake_case)] // the notebook's names: W, X, X_enc

/// Replays the notebook on `sources` (the names files: names.txt here), its tensors on `device`
/// (CPU or GPU); Ctrl-C raises `cancel` (a flag), which ends the replay while the names are read
/// or after an epoch of a training. Returns a `Replay` (figures.rs): what the cells showed and
/// computed, or our error (`Result`, error.rs).
#[allow(clippy::too_many_lines, reason = "a notebook's cells share one scope")]
pub fn replay(sources: &[Source], device: Device, cancel: &Cancel) -> Result<Replay> {
    let mut jup = Jupyter::new(); // ours: Jupyter's display

    // In [1]: names = open("names.txt", "r").read().splitlines(); print(f"…{names[:3]}")
    // plumbing::names (ours) also checks that each name is a–z only, that there are 10 bigrams or
    // more (the record keeps X[:10]), and that the data fits
    let names = plumbing::names(sources, cancel)?;
    // names[:3] is take(3), which, like Python's slice, accepts a shorter list; list_repr (ours,
    // pyrepr.rs) writes a list as Python's print() does
    jup.print(1, "names[:3]", list_repr(names.iter().take(3)));

    // In [2]: print(f"…{list(zip('.emma', 'emma.'))}")
    // collect() makes the list, as list() does
    let bigrams: Vec<(char, char)> = ".emma".chars().zip("emma.".chars()).collect();
    jup.print(2, "emma's bigrams", list_repr(&bigrams));

    // In [3]: import torch
    // Tensor is torch.Tensor, Kind a dtype, IndexOp gives .i() for []
    use tch::{IndexOp, Kind, Tensor};

    // In [4]: import string
    // stoi = {char:int_val for (int_val, char) in enumerate("." + string.ascii_lowercase)}
    // print(stoi)
    // Rust has no string.ascii_lowercase, so the letters are written out. This `use` is for the
    // dict's type, a BTreeMap, which keeps its keys sorted
    use std::collections::BTreeMap;
    // zip(0..) counts as enumerate() does, in i64 (tch's index type), but gives (char, i), the
    // other way round; '.' sorts first, so the keys' order is the notebook's
    let stoi: BTreeMap<char, i64> = ".abcdefghijklmnopqrstuvwxyz".chars().zip(0..).collect();
    jup.print(4, "", dict_repr(&stoi));

    // In [5]: itos = {num: letter for letter, num in stoi.items()}, then print(itos)
    // |(&c, &i)| (i, c) is `letter, num` → `num: letter`; the &s copy each out of the map
    let itos: BTreeMap<i64, char> = stoi.iter().map(|(&c, &i)| (i, c)).collect();
    jup.print(5, "", dict_repr(&itos));

    // In [6]: X = []; y = []
    let (mut X, mut y) = (Vec::new(), Vec::new());
    // for name in names:
    for name in &names {
        // for char1, char2 in zip("." + name, name + "."):
        // format!(".{name}") is "." + name
        for (char1, char2) in format!(".{name}").chars().zip(format!("{name}.").chars()) {
            // X.append(stoi[char1]); y.append(stoi[char2]): a map is indexed by a reference, &
            X.push(stoi[&char1]);
            y.push(stoi[&char2]);
        }
    }
    // print(f"…{len(X)}…"), then X[:10] and y[:10] the same way
    jup.print(6, "examples", X.len().to_string());
    jup.print(6, "X[:10]", list_repr(X.iter().take(10)));
    jup.print(6, "y[:10]", list_repr(y.iter().take(10)));
    // X = torch.tensor(X); y = torch.tensor(y)
    let X = Tensor::from_slice(&X);
    let y = Tensor::from_slice(&y);

    // In [7]: c_index = stoi["c"]; c_enc = torch.zeros(27); c_enc[c_index] = 1
    // print(f"…{c_index}…{c_enc}")
    let c_index = stoi[&'c'];
    // torch.zeros' defaults written out: a dtype and a device, float32 on the CPU (Device is
    // imported at the bottom, with the names replay's signature uses)
    let c_enc = Tensor::zeros([27], (Kind::Float, Device::Cpu));
    // c_enc[c_index] = 1: .i() is [] (IndexOp), a view of c_enc's numbers, and fill_ writes
    // into the view, so c_enc needs no `mut`; `let _ =` drops the view fill_ returns
    let _ = c_enc.i(c_index).fill_(1.0);
    jup.print(7, "c_index", c_index.to_string());
    jup.show(7, "c_enc", &c_enc)?;

    // In [8]: X_enc = F.one_hot(X, num_classes = 27), then X_enc[:5]
    // import torch.nn.functional as F: nothing to import, as F.one_hot is a method of X in tch;
    // X_enc[:5] is X_enc.i(..5)
    // `mut`: In [9] and the device move rebind it, as Python does (docs/reading-rust.md)
    let mut X_enc = X.one_hot(27);
    jup.show(8, "", &X_enc.i(..5))?;

    // In [9]: X_enc = X_enc.float(), then X_enc[0]
    X_enc = X_enc.to_kind(Kind::Float); // .float()
    jup.show(9, "", &X_enc.i(0))?;

    // ours, not a cell: the cells compute on the run's device from here. f_to_device is .to();
    // tch's f_ methods return a Result, whose error `?` hands back to our caller.
    // X_enc is reassigned, not a new `let`, so that its CPU copy, the big one, is freed now (a
    // new `let` would hide it but keep it alive until the function ends)
    X_enc = X_enc.f_to_device(device)?;
    let c_enc = c_enc.f_to_device(device)?;
    let y = y.f_to_device(device)?;

    // In [10]: gen = torch.Generator().manual_seed(42); W = torch.randn((27, 1), generator=gen);
    // print("…"); print(W)
    // gen: CpuGenerator::manual_seed(42) (ours, src/device.rs, as tch has no generator object)
    // seeds torch's one CPU generator and holds it (a lock) while it lives: a named gen would
    // still hold it when In [12] seeds again, so it is used unnamed (In [45]'s g is named, as
    // nothing draws after it). Then W moves to the run's device
    let W = CpuGenerator::manual_seed(42)
        .randn([27, 1])
        .f_to_device(device)?; // ours: the run's device
    jup.say(10, "A neuron: 27 weights, one per element of an input:");
    jup.show(10, "", &W)?;

    // In [11]: print("…"); c_enc @ W
    jup.say(11, "c_enc's only 1 is at index 3, so c_enc @ W is W[3]:");
    jup.show(11, "", &c_enc.matmul(&W))?; // @ is matmul

    // In [12]: gen = torch.Generator().manual_seed(42)
    // W = torch.randn((27, 27), generator = gen, requires_grad=True)
    // requires_grad=True is .set_requires_grad(true), after our device move, so that W is a
    // leaf (its .grad fills) as Python's is; `mut`, as zero_grad() and set_data() will change W
    let mut W = CpuGenerator::manual_seed(42)
        .randn([27, 27])
        .f_to_device(device)? // ours: the run's device, as in In [10]
        .set_requires_grad(true);

    // In [13]: c_output = c_enc @ W, then c_output
    let c_output = c_enc.matmul(&W);
    jup.show(13, "", &c_output)?;

    // In [14]: print("…")
    jup.say(14, "The untrained layer's logit for each letter after 'c':");
    // for letter, logit in zip(stoi.keys(), c_output): print(f"{letter}: {logit:.4f}")
    // iter::<f64>() gives c_output's elements as floats (Python's loop gives 0-d tensors);
    // {logit:.4} is {logit:.4f}, and the letter is the label, written before it
    for (letter, logit) in stoi.keys().zip(c_output.iter::<f64>()?) {
        jup.print(14, &letter.to_string(), format!("{logit:.4}"));
    }

    // In [15]: logits = X_enc @ W, then logits
    let logits = X_enc.matmul(&W);
    jup.show(15, "", &logits)?;

    // In [16]: pos_values = logits.exp(), then pos_values
    let pos_values = logits.exp();
    jup.show(16, "", &pos_values)?;

    // In [17]: probs = pos_values / pos_values.sum(dim=1, keepdims=True), then probs
    // sum over dims is sum_dim_intlist in tch: (1, true, None::<Kind>) is dim=1, keepdims=True
    // and no dtype to convert to (::<Kind> says which type's None, as Rust must know)
    // `&`: / takes its operands by value, so &pos_values lends it, and the right side can read it
    let probs = &pos_values / pos_values.sum_dim_intlist(1, true, None::<Kind>);
    jup.show(17, "", &probs)?;

    // In [18]: probs.sum(dim=1, keepdims=True)
    jup.show(18, "", &probs.sum_dim_intlist(1, true, None::<Kind>))?;

    // In [19]: c_logits = c_enc @ W; c_pos = c_logits.exp(); c_probs = c_pos / c_pos.sum()
    let c_logits = c_enc.matmul(&W);
    let c_pos = c_logits.exp();
    // c_pos.sum(): tch's sum takes a dtype, None to keep float32; so does mean
    let c_probs = &c_pos / c_pos.sum(None::<Kind>);
    jup.show(19, "", &c_probs)?;

    // In [20]: original_prediction = c_probs[stoi["a"]]
    // print(f"…{original_prediction * 100:.2f}%…")
    let original_prediction = c_probs.i(stoi[&'a']);
    jup.percent(20, "P('a' after 'c'), untrained", &original_prediction)?;

    // In [21]: loss = -original_prediction.log().mean()
    let loss = -original_prediction.log().mean(None::<Kind>);
    jup.show(21, "", &loss)?;

    // In [22]: W.grad = None; loss.backward()
    // tch cannot unset a gradient: zero_grad zeroes it (W has none yet, so nothing happens)
    W.zero_grad();
    loss.backward();

    // In [23]: W.grad.size()
    // W.grad is a method in tch; size_repr (ours) writes torch.Size([27, 27])
    jup.print(23, "", size_repr(&W.grad().size()));

    // In [24]: W.grad
    jup.show(24, "", &W.grad())?;

    // In [25]: W.grad[3]
    jup.show(25, "", &W.grad().i(3))?;

    // In [26]: W.data += -0.01 * W.grad
    // W.data() is W.data: not a copy but W's own numbers, untracked by autograd, so `data += …`
    // changes W; Rust's += needs a `mut` variable, hence `let mut data`
    let mut data = W.data();
    data += -0.01 * W.grad();

    // In [27]: print(f"…{original_prediction * 100:.2f}%…")
    jup.percent(27, "before the step", &original_prediction)?;
    // c_logits = c_enc @ W; c_pos = c_logits.exp(); c_probs = c_pos / c_pos.sum()
    let c_logits = c_enc.matmul(&W);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>);
    // new_prediction = c_probs[stoi["a"]]; print(f"…{new_prediction * 100:.2f}%…")
    let new_prediction = c_probs.i(stoi[&'a']);
    jup.percent(27, "after the step", &new_prediction)?;

    // ours, not a cell: four things the notebook does not do, none of which changes W.
    // 1. keep what In [1] to In [27] showed, as figures (figures.rs)
    let demonstration = Replay::record_cells(&names, &bigrams, &itos, &X, &y, &jup)?;
    // 2. free In [15] to In [17]'s big tensors before training: jup keeps the tensors it showed
    //    and lets go of them; drop is del
    jup.forget_tensors();
    drop((logits, pos_values, probs));
    // 3. start: a copy of W as In [26] left it, for our note under Out[43], which trains it
    //    after In [44] with the update the notebook meant. start = W.detach().clone() (copy()
    //    is torch's .clone(), a deep copy)
    let start = W.detach().copy();
    // 4. each epoch's loss, kept with a Ctrl-C check, to be shown under Out[43]
    let mut losses_43 = Losses::new(43, cancel);

    // In [40]: def train():   (the notebook's execution counts go 27, 40, 43)
    // A closure, not a fn, as it reads X_enc and y and changes W (and our losses_43), as the
    // notebook's train() does with its globals (docs/reading-rust.md)
    let mut train = || -> Result<f64> {
        // loss is declared before the loop so that it outlives it, as Python's does;
        // Tensor::new() holds no data yet
        let mut loss = Tensor::new();
        // for _ in range(100):
        for _ in 0..100 {
            // logits = X_enc @ W
            let logits = X_enc.matmul(&W);
            // pos = logits.exp(); probs = pos / pos.sum(dim=1, keepdims=True)
            let pos = logits.exp();
            let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
            // predictions = probs[torch.arange(X_enc.size(0)), y]
            // rows is torch.arange(X_enc.size(0)), made on X_enc's device (Python's: the CPU);
            // size(0) is size()[0]
            let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
            // .index takes one Some(index tensor) per dimension (None would be `:`) and pairs
            // them as PyTorch does; .i() would take every row × column
            let predictions = probs.index(&[Some(&rows), Some(&y)]);
            // loss = -predictions.log().mean()
            loss = -predictions.log().mean(None::<Kind>);
            // W.grad = None: zero_grad(), as in In [22]
            W.zero_grad();
            // loss.backward()
            loss.backward();
            // W.data = -50 * W.grad: `=` where In [26] has `+=`, so W is replaced by the step;
            // W.data = x is W.set_data(&x)
            W.set_data(&(-50 * W.grad()));
            losses_43.record(&loss)?; // ours: keep the loss; Ctrl-C ends the replay here
        }
        // return loss.item(): f_double_value with no index, as loss is 0-d; `?` hands on tch's
        // error as ours, and Ok wraps the value again, as the closure returns a Result
        Ok(loss.f_double_value(&[])?)
    };

    // In [43]: train()
    // The notebook printed 3.085660934448242: the last digits follow libtorch's thread count,
    // which sets the order of the mean's sum (docs/parity.md). Under Out[43], render.rs writes
    // two lines of ours: why the loss stalls near 3.09 (from losses_43, as the update replaces
    // W), and the loss of In [40] as meant, run from start after In [44]
    jup.print(43, "", float_repr(train()?)); // float_repr (ours): Python's repr of a float

    // In [30]: the notebook's last cell, after its TODO (smoothing, then generation), holds only
    // comments (training's steps).

    // Ours from here, past the notebook's end: In [44] and In [45] for the TODO, and the run our
    // note under Out[43] needs. Names the notebook used before come back as new variables.

    // In [44] (ours): smoothing, as Andrej Karpathy's makemore lecture does it, from the
    // notebook's seed 42 (the lecture's is 2147483647): In [40] as meant, with an L2 term, which
    // pulls the logits towards 0, and so each row's probabilities towards uniform. In Python:
    //   def train_as_meant(W, l2):
    //       for _ in range(100):
    //           ...                                                    # In [40]'s lines
    //           loss = -predictions.log().mean() + l2 * (W**2).mean()  # changed
    //           W.grad = None; loss.backward()
    //           W.data += -50 * W.grad                                 # changed
    //       return loss.item()
    //   W = torch.randn((27, 27), generator=torch.Generator().manual_seed(42), requires_grad=True)
    //   print(f"…{train_as_meant(W, 0.01)}")
    // train_as_meant also takes a Losses (ours), which keeps each epoch's loss as In [40]'s do
    let train_as_meant = |W: &mut Tensor, l2: f64, losses: &mut Losses| -> Result<f64> {
        let mut loss = Tensor::new();
        for _ in 0..100 {
            // In [40]'s lines (their Python is there) down to `changed`; W is lent here already,
            // so no `&`
            let logits = X_enc.matmul(W);
            let pos = logits.exp();
            let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
            let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
            let predictions = probs.index(&[Some(&rows), Some(&y)]);
            // changed: the loss, with the L2 term (W**2 is pow_tensor_scalar(2))
            loss = -predictions.log().mean(None::<Kind>)
                + l2 * W.pow_tensor_scalar(2).mean(None::<Kind>);
            W.zero_grad();
            loss.backward();
            // changed: W.data += -50 * W.grad, a step through data, as in In [26]
            let mut data = W.data();
            data += -50 * W.grad();
            losses.record(&loss)?; // ours, as in In [40]
        }
        Ok(loss.f_double_value(&[])?)
    };
    let mut W = CpuGenerator::manual_seed(42)
        .randn([27, 27])
        .f_to_device(device)? // ours: the run's device, then requires_grad, as in In [12]
        .set_requires_grad(true);
    let mut losses_44 = Losses::new(44, cancel);
    let last_loss = float_repr(train_as_meant(&mut W, 0.01, &mut losses_44)?);
    jup.print(44, "the last epoch's loss (NLL + L2)", last_loss);

    // ours, not a cell: the note under Out[43]. In [40] as meant from start, W as In [26] left
    // it: In [44]'s train_as_meant with l2 = 0, whose loss and gradient are In [40]'s. In Python:
    //   W_meant = start.requires_grad_(); train_as_meant(W_meant, 0)
    // render.rs writes the note from both trainings' losses: why In [40]'s loss stalls, then this
    // run's last loss ("Ours, not the notebook's: … 2.4732"), so the loss returned is not used.
    // .requires_grad_() is .set_requires_grad(true), as In [12]'s requires_grad=True
    let mut W_meant = start.set_requires_grad(true);
    // 43: these losses are shown under Out[43]
    let mut losses_meant = Losses::new(43, cancel);
    train_as_meant(&mut W_meant, 0.0, &mut losses_meant)?;
    let training = TrainingCells::new(losses_43.into(), losses_meant.into());

    // ours, not a cell: names are drawn on the CPU, whose generator is seeded, and none if the
    // training diverged (multinomial refuses NaN)
    let W = W.f_to_device(Device::Cpu)?;
    let names_to_draw = if losses_44.diverged() { 0 } else { 5 };

    // In [45] (ours): 5 names from In [44]'s W, in Python:
    //   g = torch.Generator().manual_seed(2147483647)
    //   for _ in range(5):  # ours: names_to_draw
    //       name, ix = "", 0
    //       while len(name) < 50:  # ours: so that every name ends
    //           ix_enc = F.one_hot(torch.tensor([ix]), num_classes=27).float()
    //           logits = ix_enc @ W; pos = logits.exp()
    //           probs = pos / pos.sum(dim=1, keepdims=True)
    //           ix = torch.multinomial(probs, 1, replacement=True, generator=g).item()
    //           if ix == 0: break
    //           name += itos[ix]
    //       print(name)
    // g locks the CPU's generator, seeded, until the replay ends
    let g = CpuGenerator::manual_seed(2147483647);
    for _ in 0..names_to_draw {
        // ix: the index of the character drawn, an i64 as stoi's values are
        let (mut name, mut ix) = (String::new(), 0);
        // len() counts bytes, here characters, as itos's letters are ASCII
        while name.len() < 50 {
            let ix_enc = Tensor::from_slice(&[ix]).one_hot(27).to_kind(Kind::Float);
            let logits = ix_enc.matmul(&W);
            let pos = logits.exp();
            let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
            // g.multinomial(&probs, 1, true) (device.rs) is torch.multinomial(probs, 1,
            // replacement=True, generator=g); .item() of the 1×1 draw is the element at [0, 0]
            ix = g.multinomial(&probs, 1, true)?.f_int64_value(&[0, 0])?;
            if ix == 0 {
                break;
            }
            name.push(itos[&ix]);
        }
        jup.print(45, "", name);
    }

    // ours, not a cell: the record of what the cells showed and computed (figures.rs)
    let continuation = Continuation::new(losses_44.into(), &W, &jup)?;
    Ok(Replay::new(demonstration, training, continuation, jup))
}

// The plumbing, below the cells: what they use and the notebook does not have, in notebook/:
// figures.rs (the record of what was shown), jupyter.rs (Jupyter's display), plumbing.rs
// (reading, Losses), render.rs and ipynb.rs (the text and .ipynb outputs).
// CpuGenerator, the seeded generator, is ours too (src/device.rs): it calls tch::manual_seed
// and Tensor::randn or multinomial under a lock. list_repr, dict_repr, size_repr and float_repr
// (pyrepr.rs) write a value as Python's print() or repr() does. A `use` line covers the whole
// file wherever it stands, so these stand here, below the cells; the cells' own imports are in
// In [3] and In [4].
mod figures;
mod ipynb;
mod jupyter;
mod plumbing;
mod render;

pub use figures::Replay;
pub use jupyter::Shown;

use crate::cancel::Cancel;
use crate::data::Source;
use crate::device::CpuGenerator;
use crate::error::Result;
use crate::pyrepr::{dict_repr, float_repr, list_repr, size_repr};
use figures::{Continuation, TrainingCells};
use jupyter::Jupyter;
use plumbing::Losses;
use tch::Device;
