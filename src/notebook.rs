//! The notebook in Rust: its cells in its order, under its names (`W`, `X_enc`, `c_probs`…), all
//! in one function, `replay()`, as a notebook's cells all share one set of variables. What a cell
//! shows, it records where the notebook's shows it, through `jup` (Jupyter's display, ours),
//! and render.rs prints the record once the cells have run (a cell's `say` words first):
//! - `jup.show(n, label, &t)`: a tensor, as PyTorch prints it;
//! - `jup.print(n, label, text)`: any other value, already written as Python prints it;
//! - `jup.percent(n, label, &p)`: a probability, as `f"{p * 100:.2f}%"`;
//! - `jup.say(n, words)`: a print() of words only.
//!
//! The values are printed as PyTorch 2.13 prints them; the words are ours: a label stands for the
//! text a print() writes before its value, and an empty label `""` shows the value alone. Blocks
//! headed `ours, not a cell` and lines marked `ours` do what the notebook does not (the file, the
//! device, Ctrl-C, the record of the run, whose notes render.rs prints). In [44] and In [45] are
//! ours too: the smoothing and generation the notebook's TODO asks for. tch's spellings of
//! PyTorch's calls: the README's table, "Read the port".
// The notebook's capitals (W, X, X_enc) are kept, so Rust's snake_case lint is off: `#![…]`
// applies to the whole file, `#[…]` (as on replay) to the item after it.
#![allow(non_snake_case)]

/// Replays the notebook on `sources` (`&[Source]`: a list of files, lent; names.txt here), its
/// tensors on `device` (a `Device`, CPU or GPU); training stops between epochs once `cancel` (a
/// `Cancel`, raised by Ctrl-C) is raised. Returns what the cells showed, as a `Replay`.
/// `Result<Replay>`: a Replay or an error (our error type). `pub`: usable outside this file.
/// Our helpers are named where first used; the `use` lines for them sit at the bottom.
#[allow(clippy::too_many_lines, reason = "a notebook's cells share one scope")]
pub fn replay(sources: &[Source], device: Device, cancel: &Cancel) -> Result<Replay> {
    // ours: Jupyter's display, which keeps what each cell shows. Jupyter::new(): the type's own
    // function `new`, as Python's Jupyter() would be. `mut`: jup's methods change it in place
    // (they take `&mut self`), and Rust allows that only on a `mut` variable, a temporary, or
    // through a `&mut` reference
    let mut jup = Jupyter::new();

    // In [1]: names = open("names.txt", "r").read().splitlines()
    // plumbing::names, ours (plumbing.rs), also checks that
    // each name is a–z only and that the data fits the cells and the memory; `?` passes its
    // error up, where Python would raise.
    let names = plumbing::names(sources, cancel)?;
    // names[:3]: iter() lends each name in turn (&String), lazily, as a Python generator does,
    // and take(3) keeps three. list_repr, ours (pyrepr.rs), writes a list as Python prints it,
    // ['emma', 'olivia', 'ava'].
    jup.print(1, "the first three names", list_repr(names.iter().take(3)));

    // In [2]: print(f"…{list(zip('.emma', 'emma.'))}")
    // chars(): a string's characters, one by one; zip pairs them, and list_repr writes each pair
    // as Python prints a tuple, ('.', 'e')
    let bigrams = ".emma".chars().zip("emma.".chars());
    jup.print(2, "emma's bigrams", list_repr(bigrams));

    // In [3]: import torch
    // tch: Rust's bindings to libtorch, PyTorch's C++ core. A `use` covers its whole block
    // wherever it sits: it is here to mirror In [3] (Device, needed by replay's signature, outside
    // the block, is imported at the bottom). IndexOp is a trait (a set of methods, like a Python
    // protocol): its .i(), Python's [] with ints and slices (for tensors, see In [40]), works
    // once imported.
    use tch::{kind::FLOAT_CPU, IndexOp, Kind, Tensor};

    // In [4]: stoi = {char:int_val for (int_val, char) in enumerate("." + string.ascii_lowercase)}
    // ascii_lowercase is written out: Rust has no such constant.
    // zip(0..) pairs each char with 0, 1, 2… (Rust's enumerate() counts as usize; zip(0..)
    // counts as the type on the left asks: i64, tch's index type). collect() builds that type, a
    // BTreeMap: a dict with its keys sorted ('.' sorts first, so its order is the notebook's).
    let stoi: BTreeMap<char, i64> = ".abcdefghijklmnopqrstuvwxyz".chars().zip(0..).collect();
    // print(stoi): dict_repr, from pyrepr.rs like list_repr, writes a dict as Python prints it;
    // &stoi lends it
    jup.print(4, "", dict_repr(&stoi));

    // In [5]: itos = {num: letter for letter, num in stoi.items()}, then print(itos)
    // iter() gives stoi's pairs as references; `&x` in a pattern copies the value out of a
    // reference, and the type on the left holds values, so (&c, &i) copies both out.
    // `|(&c, &i)| (i, c)` takes each pair apart and gives it back swapped.
    let itos: BTreeMap<i64, char> = stoi.iter().map(|(&c, &i)| (i, c)).collect();
    jup.print(5, "", dict_repr(&itos));

    // In [6]: X = [], y = [], then a loop over the names' bigrams
    // Vec::new(): the type Vec's own function `new`, like Python's list(), its element type (i64)
    // taken from the pushes below; `mut`: push changes them. `let (a, b) = (…)` is Python's
    // `a, b = …`
    let (mut X, mut y) = (Vec::new(), Vec::new());
    // &names: the list, lent to the loop (without &, the loop would use it up)
    for name in &names {
        // format!(".{name}"): f".{name}"
        for (char1, char2) in format!(".{name}").chars().zip(format!("{name}.").chars()) {
            // stoi[char1]: a Rust map is indexed by a reference to its key, &char1
            X.push(stoi[&char1]);
            y.push(stoi[&char2]);
        }
    }
    jup.print(6, "examples", X.len().to_string());
    // &X[..10]: X[:10], lent
    jup.print(6, "X[:10]", list_repr(&X[..10]));
    jup.print(6, "y[:10]", list_repr(&y[..10]));
    // X = torch.tensor(X): `let X` again makes a new X (the list's name is reused, "shadowed");
    // the old X is hidden, not freed: it lives until replay() ends, unless dropped
    let X = Tensor::from_slice(&X);
    let y = Tensor::from_slice(&y);

    // In [7]: c_index = stoi["c"]
    // In Rust 'c' is a char and "c" a string (Python has no such difference); &'c' is a reference
    // to the char, as a map is indexed by one
    let c_index = stoi[&'c'];
    // torch.zeros(27): [27] is the shape (a Rust array where Python takes an int or a tuple),
    // FLOAT_CPU is (Kind::Float, Device::Cpu), float32 on the CPU (Kind::Float: the Float
    // variant of the enum Kind)
    let c_enc = Tensor::zeros([27], FLOAT_CPU);
    // c_enc[c_index] = 1: .i(c_index) is a view, a new handle on c_enc's numbers; fill_(1.0)
    // writes 1 into it, so c_enc changes too. fill_ needs `&mut self`, which a temporary value
    // provides, so c_enc needs no `mut` (a Tensor is a handle on numbers: `mut` is about the
    // handle, not whether its numbers change). fill_ returns the view again; `let _ =` discards
    // it.
    let _ = c_enc.i(c_index).fill_(1.0);
    // The cell's one print() has two values, so two calls. show can fail (writing a tensor's
    // repr reads it back), hence its `?`.
    jup.print(7, "c's index", c_index.to_string());
    jup.show(7, "its one-hot encoding", &c_enc)?;

    // In [8]: X_enc = F.one_hot(X, num_classes = 27), then X_enc[:5], which tch spells
    // X_enc.i(..5) (`..5` is `:5`). one_hot is a method of X in tch, so In [8]'s `import
    // torch.nn.functional as F` has no counterpart
    let X_enc = X.one_hot(27);
    jup.show(8, "", &X_enc.i(..5))?;

    // In [9]: X_enc = X_enc.float(), then X_enc[0]; Kind is tch's dtype
    let X_enc = X_enc.to_kind(Kind::Float);
    jup.show(9, "", &X_enc.i(0))?;

    // ours, not a cell: from here on, the cells compute on the run's device (X stays on the
    // CPU, and In [45] draws on the CPU).
    // f_to_device is .to(device); an f_ method returns tch's error where the plain one would
    // panic, and `?` passes it up
    let (c_enc, X_enc, y) = (
        c_enc.f_to_device(device)?,
        X_enc.f_to_device(device)?,
        y.f_to_device(device)?,
    );

    // In [10]: W = torch.randn((27, 1), generator=torch.Generator().manual_seed(42))
    // tch has no generator object: seeded_randn(seed, shape, device), ours (plumbing.rs), seeds
    // the CPU's random generator, draws from it, then puts W on the device
    let W = seeded_randn(42, [27, 1], device)?;
    jup.say(10, "A neuron: 27 weights, one per element of an input:");
    jup.show(10, "", &W)?;

    // In [11]: c_enc @ W
    jup.say(11, "c_enc's only 1 is at index 3, so c_enc @ W is W[3]:");
    jup.show(11, "", &c_enc.matmul(&W))?; // c_enc @ W; matmul borrows W: &W

    // In [12]: W = torch.randn((27, 27), generator = gen, requires_grad=True), gen seeded again
    // `mut`: tch declares zero_grad (In [22]) and set_data (In [40]) `&mut self`, as jup's
    // methods are
    let mut W = seeded_randn(42, [27, 27], device)?.set_requires_grad(true);

    // In [13]: c_output = c_enc @ W
    let c_output = c_enc.matmul(&W);
    jup.show(13, "", &c_output)?;

    // In [14]: for letter, logit in zip(stoi.keys(), c_output): print(f"{letter}: {logit:.4f}")
    // iter::<f64>() reads c_output's numbers as floats (`::<f64>` names the type), and can fail
    // (c_output must be 1-d), hence `?`. {logit:.4} is {logit:.4f}; &letter.to_string() lends
    // the new String as the label
    jup.say(14, "The untrained layer's logit for each letter after 'c':");
    for (letter, logit) in stoi.keys().zip(c_output.iter::<f64>()?) {
        jup.print(14, &letter.to_string(), format!("{logit:.4}"));
    }

    // In [15]: logits = X_enc @ W
    let logits = X_enc.matmul(&W);
    jup.show(15, "", &logits)?;

    // In [16]: pos_values = logits.exp()
    let pos_values = logits.exp();
    jup.show(16, "", &pos_values)?;

    // In [17]: probs = pos_values / pos_values.sum(dim=1, keepdims=True)
    // tch names each form of sum apart: sum_dim_intlist(dim, keepdims, dtype) is the one with
    // dims, the dtype None to keep the tensor's; `None::<Kind>` is None with its type (Kind, a
    // dtype) spelled out, as the parameter is generic and a bare None leaves Rust no type to
    // infer. tch's `a / b` consumes a Tensor given by
    // value; `&pos_values` lends it, so it lives on.
    let probs = &pos_values / pos_values.sum_dim_intlist(1, true, None::<Kind>);
    jup.show(17, "", &probs)?;

    // In [18]: probs.sum(dim=1, keepdims=True)
    jup.show(18, "", &probs.sum_dim_intlist(1, true, None::<Kind>))?;

    // In [19]: c_logits = c_enc @ W, c_pos = c_logits.exp(), c_probs = c_pos / c_pos.sum()
    let c_logits = c_enc.matmul(&W);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>); // c_pos.sum()
    jup.show(19, "", &c_probs)?;

    // In [20]: original_prediction = c_probs[stoi["a"]], printed as
    // f"{original_prediction * 100:.2f}%"
    let original_prediction = c_probs.i(stoi[&'a']);
    jup.percent(20, "P('a' after 'c'), untrained", &original_prediction)?;

    // In [21]: loss = -original_prediction.log().mean()
    let loss = -original_prediction.log().mean(None::<Kind>);
    jup.show(21, "", &loss)?;

    // In [22]: W.grad = None, then loss.backward()
    // tch can't unset a grad: it zeroes it, which does nothing here, as W has no gradient yet
    W.zero_grad();
    loss.backward();

    // In [23]: W.grad.size()
    // W.grad() is a method in tch, an attribute in Python; size_repr (pyrepr.rs) writes the size
    // as torch.Size([27, 27])
    jup.print(23, "", size_repr(&W.grad().size()));

    // In [24]: W.grad
    jup.show(24, "", &W.grad())?;

    // In [25]: W.grad[3]
    jup.show(25, "", &W.grad().i(3))?;

    // In [26]: W.data += -0.01 * W.grad
    // W.data(), as W.data: a handle to W's numbers that autograd does not track. `+=` takes
    // `&mut self`, like fill_, but its left side must be a named variable, not a temporary:
    // hence `let mut data`. As they are W's own numbers, W changes too.
    let mut data = W.data();
    data += -0.01 * W.grad();

    // In [27]: original_prediction printed; c_logits … c_probs as in In [19]; new_prediction =
    // c_probs[stoi["a"]], printed
    jup.percent(27, "before the step", &original_prediction)?;
    let c_logits = c_enc.matmul(&W);
    let c_pos = c_logits.exp();
    let c_probs = &c_pos / c_pos.sum(None::<Kind>);
    let new_prediction = c_probs.i(stoi[&'a']);
    jup.percent(27, "after the step", &new_prediction)?;

    // ours, not a cell: bookkeeping. read_cells (figures.rs) records, as figures, what In [1]
    // … In [27] showed ([&X, &y]: an array of two borrowed tensors, for their heads and size),
    // then has jup let go of the tensors it kept. Then drop(), like Python's del, drops these
    // handles, which frees In [15] … In [17]'s tensors (drop takes one value, so the three go as
    // one tuple), so that the trainings run without them.
    let demonstration = Replay::read_cells(&names, [&X, &y], &mut jup)?;
    drop((logits, pos_values, probs));
    // The W In [43] starts from, kept for our run of In [40] as meant (detach().copy():
    // .detach().clone()). Execution counts 28, 29, 31 to 39, 41 and 42 are missing from the
    // notebook, and what those cells did is unknown (they may have been earlier runs of train());
    // we take W as In [27] left it.
    let start = W.detach().copy();
    // Losses (plumbing.rs) keeps each epoch's loss for the figures; at Ctrl-C, record() returns
    // an error that ends the replay. 43 is the cell named in that error
    let mut losses = Losses::new(43, cancel);

    // In [40]: def train(): 100 epochs of forward pass, backward pass and update
    // A closure, not a `fn`, as a Rust fn cannot see replay()'s variables: `|| { … }` is a function
    // that reads the variables around it, as train() reads the notebook's X_enc, y and W. After
    // `->`, `Result<f64>`: it returns a float (loss.item()) or an error. `mut`, as calling it
    // changes what it captured (W, losses). Its hold on them ends at its last call (In [43]). A `?`
    // inside returns the error from the closure, and `train()?` then passes it out of replay().
    let mut train = || -> Result<f64> {
        // `loss` is declared before the loop, as Python's outlives the loop; Tensor::new() is an
        // undefined tensor (no data at all), like `loss = None`; `mut`: reassigned each epoch
        let mut loss = Tensor::new();
        // for _ in range(100): 100 passes over all the examples
        for _ in 0..100 {
            // Forward pass: each example's one-hot row picks its row of W (as c_enc did, In [13])
            let logits = X_enc.matmul(&W);
            // softmax: exp, then each row divided by its sum (In [16], In [17])
            let pos = logits.exp();
            let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
            // probs[torch.arange(X_enc.size(0)), y]: row i's probability of y[i].
            // arange(X_enc.size(0)) with (dtype, device): size() is a list, so size()[0]; the
            // device is ours (Python's arange makes rows on the CPU), so that rows is made where
            // X_enc is
            let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
            // .index takes a tensor per dimension, each Some(t) (Some/None: Rust's Option,
            // Python's Optional; None would be Python's `:`), and picks pairs as PyTorch does;
            // .i() with two tensors would pick every row × column instead
            let predictions = probs.index(&[Some(&rows), Some(&y)]);
            // the NLL loss, as In [21]
            loss = -predictions.log().mean(None::<Kind>);
            // Backward pass: zero the last gradient (tch's stand-in for W.grad = None, In [22]:
            // the same values, but a -0 in the new gradient becomes +0), then backpropagate
            W.zero_grad();
            loss.backward();
            // W.data = -50 * W.grad: `=` where In [26] has `+=`, so W is replaced by the step,
            // not moved by it (see In [43]); set_data is tch's `W.data =`, and it takes the new
            // values lent (&)
            W.set_data(&(-50 * W.grad()));
            losses.record(&loss)?; // ours, not the notebook's: keep the loss; Ctrl-C ends here
        }
        // return loss.item(): f_double_value takes an index per dimension, so none (&[]) for a
        // 0-d tensor. `?` converts tch's error, if any, to ours and returns it; `Ok(x)` is the
        // success value. A block's last expression, without `;`, is its value: here, the
        // closure's
        Ok(loss.f_double_value(&[])?)
    };

    // In [43]: train()
    // As the update replaces W, the loss stalls near 3.09. Out[43]'s last digits differ from the
    // notebook's: float32 sums over 228,146 rows round differently with the PyTorch version and
    // the thread count (docs/parity.md), and the notebook's W may have started elsewhere (above).
    // `loss` is now loss.item(), a float (shadowing again).
    let loss = train()?;
    // float_repr (pyrepr.rs): Python's repr of a float
    jup.print(43, "", float_repr(loss));
    // ours: into() converts to the type it is wanted as, here the one on the left, a list of
    // floats
    let as_written: Vec<f64> = losses.into();

    // ours, not a cell: train_as_meant is In [40] with the update fixed. It runs twice: here,
    // from In [43]'s starting W, for our note under Out[43] (render.rs prints it, from
    // `training`), and in In [44] with the L2 term. It is train()'s loop with two changes, each
    // marked `changed`: the update steps W (`+=`), and `l2 * (W**2).mean()` is added to the loss
    // (its part before that named `nll`). Its arguments are what differs between the runs: W
    // (whichever it is given), l2 and losses (`&mut`: lent to be changed). No `mut` on the
    // closure: it changes only what it is given, not what it captures.
    let train_as_meant = |W: &mut Tensor, l2: f64, losses: &mut Losses| -> Result<f64> {
        let mut loss = Tensor::new();
        for _ in 0..100 {
            // W is already a reference (&mut Tensor, which serves where & is asked): no &
            let logits = X_enc.matmul(W);
            let pos = logits.exp();
            let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
            let rows = Tensor::arange(X_enc.size()[0], (Kind::Int64, X_enc.device()));
            let predictions = probs.index(&[Some(&rows), Some(&y)]);
            let nll = -predictions.log().mean(None::<Kind>);
            // changed: nll + l2 * (W**2).mean(). With l2 = 0 the term is left out, so that the
            // loss is computed with train()'s ops.
            // `if c { a } else { b }` is Python's `a if c else b`
            loss = if l2 > 0.0 {
                // W ** 2: pow_tensor_scalar; the exponent may be an int or a float
                nll + l2 * W.pow_tensor_scalar(2).mean(None::<Kind>)
            } else {
                nll
            };
            // W is `&mut`, so methods that take `&mut self` (zero_grad) work through it
            W.zero_grad();
            loss.backward();
            // changed: W.data += -50 * W.grad, a step as in In [26]
            let mut data = W.data();
            data += -50 * W.grad();
            losses.record(&loss)?;
        }
        Ok(loss.f_double_value(&[])?)
    };
    // Our note after Out[43]: In [40] as meant, from the W In [43] started from, with no l2 term;
    // render.rs prints its last epoch's loss, from `training`. 43 is the cell named if Ctrl-C
    // stops it
    let mut W_meant = start.copy().set_requires_grad(true);
    let mut intended = Losses::new(43, cancel);
    train_as_meant(&mut W_meant, 0.0, &mut intended)?;
    // into() here: to the list of floats TrainingCells::new (figures.rs) asks for
    let training = TrainingCells::new(as_written, intended.into(), [&start, &W_meant])?;

    // In [30], the notebook's last cell, after its TODO, holds only comments (training's steps).

    // The TODO asks for smoothing, then generation: In [44] and In [45] are ours. They keep the
    // notebook's names, and add `ix` and `ix_enc`, one drawn character's index and its one-hot row.

    // In [44] (ours): smoothing, in Python:
    //   W = torch.randn((27, 27), generator=torch.Generator().manual_seed(42), requires_grad=True)
    //   train(), with its loss `nll + 0.01 * (W**2).mean()` and its update `W.data += -50 * W.grad`
    // As Andrej Karpathy's makemore lecture does it, but from the notebook's seed 42 (the
    // lecture's is 2147483647); the L2 term pulls the logits towards 0, and so each row's
    // probabilities towards uniform
    let mut W = seeded_randn(42, [27, 27], device)?.set_requires_grad(true);
    let mut losses = Losses::new(44, cancel);
    let loss = train_as_meant(&mut W, 0.01, &mut losses)?;
    jup.print(44, "the last epoch's loss (NLL + L2)", float_repr(loss));
    let losses: Vec<f64> = losses.into();

    // ours, not a cell: `return` leaves replay() early, as Python's does: no names if the training
    // diverged (`!`: not; .any(…): any(…)), as multinomial refuses NaN probabilities (the replay's
    // text says so instead). Names are drawn on the CPU: only the CPU's generator is seeded
    // (with_cpu_seed, below).
    if losses.iter().any(|l| !l.is_finite()) {
        let continuation = Continuation::new(losses, Vec::new()); // figures.rs
        return Ok(Replay::new(demonstration, training, continuation, jup));
    }
    let W = W.f_to_device(Device::Cpu)?;

    // In [45] (ours): 5 names from In [44]'s W, in Python:
    //   g = torch.Generator().manual_seed(2147483647)
    //   for _ in range(5):
    //       name, ix = "", 0
    //       while True:
    //           ix_enc = F.one_hot(torch.tensor([ix]), num_classes=27).float()
    //           logits = ix_enc @ W; pos = logits.exp()
    //           probs = pos / pos.sum(dim=1, keepdims=True)
    //           ix = torch.multinomial(probs, 1, replacement=True, generator=g).item()
    //           if ix == 0: break
    //           name += itos[ix]
    //       print(name)
    // (ours: a name also stops at 50 characters, so that every name ends). tch has no generator
    // object: with_cpu_seed, ours (device.rs), seeds the CPU's own generator (under a lock) while
    // the closure draws from it, and returns what the closure returns. The closure changes jup
    // but needs no `mut`: it is handed straight to with_cpu_seed, not kept in a variable.
    let drawn = with_cpu_seed(2147483647, || -> Result<Vec<String>> {
        let mut drawn = Vec::new(); // ours: the names, kept for the record
        for _ in 0..5 {
            // ix: the index of the last character drawn, 0 ('.') to start; String::new() is "".
            // `mut`: name grows (push), ix is reassigned
            let (mut name, mut ix) = (String::new(), 0);
            while name.len() < 50 {
                // F.one_hot(torch.tensor([ix]), num_classes=27).float(), as In [8] and In [9]
                // &[ix]: a one-element array, lent
                let ix_enc = Tensor::from_slice(&[ix]).one_hot(27).to_kind(Kind::Float);
                let logits = ix_enc.matmul(&W);
                let pos = logits.exp();
                let probs = &pos / pos.sum_dim_intlist(1, true, None::<Kind>);
                // torch.multinomial(probs, 1, replacement=True, generator=g).item(): the draw
                // is 1×1, so its one element is at [0, 0]
                ix = probs.f_multinomial(1, true)?.f_int64_value(&[0, 0])?;
                if ix == 0 {
                    break; // the name ends at '.'
                }
                name.push(itos[&ix]);
            }
            jup.print(45, "", &name); // print(name)
            drawn.push(name);
        }
        Ok(drawn)
    })?;

    // ours, not a cell: the record of what the cells showed and computed (figures.rs)
    let continuation = Continuation::new(losses, drawn);
    Ok(Replay::new(demonstration, training, continuation, jup))
}

// The plumbing, below the cells: what they use and the notebook does not have. The files under
// notebook/: figures.rs (the record of what was shown), jupyter.rs (Jupyter's display),
// plumbing.rs (reading, the seeded randn, Losses), render.rs and ipynb.rs (the text and .ipynb
// outputs). `mod` names those files; `pub use` re-exports two of their types to the rest of the
// program; `use` brings names in; `crate::` is this program's own modules.
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
use crate::pyrepr::{dict_repr, float_repr, list_repr, size_repr};
use figures::{Continuation, TrainingCells};
use jupyter::Jupyter;
use plumbing::{seeded_randn, Losses};
use std::collections::BTreeMap;
use tch::Device;
