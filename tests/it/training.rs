//! The epochs through the library: the seed's weights are the notebook's, an epoch is
//! PyTorch's step bit for bit, the counts method's gradient is autograd's, and a failing or
//! diverging epoch is an error that says why.

use bigram::data::{Counts, Examples};
use bigram::device::CpuGenerator;
use bigram::model::{tensor_to_vec, Model};
use bigram::train::{
    initial_weights, train, CountsObjective, Method, OneHot, TrainConfig, TrainData,
};
use bigram::vocab::Vocab;
use bigram::Error;
use tch::{Device, Kind, Tensor};

#[test]
fn seed_42_draws_the_notebook_weights() {
    // In [10]: torch.randn((27, 1), generator=Generator().manual_seed(42)) starts
    // 1.9269, 1.4873, 0.9007, -2.1055.
    let w = initial_weights(42, 27, 1);
    let v = tensor_to_vec(&w).unwrap();
    for (got, want) in v.iter().zip([1.9269, 1.4873, 0.9007, -2.1055]) {
        assert!((got - want).abs() < 6e-5, "{got} vs {want}");
    }
}

/// The CPU generator's lock is not re-entrant: a second hold in one thread panics at once
/// where it would wait for itself forever, and a dropped one can be taken again.
#[test]
fn a_second_cpu_generator_in_one_thread_panics_instead_of_deadlocking() {
    let twice = std::thread::spawn(|| {
        let _first = CpuGenerator::manual_seed(1);
        let _second = CpuGenerator::manual_seed(2);
    });
    let panic = twice.join().unwrap_err();
    let message = (panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(
        message.contains("already holds the CPU generator"),
        "{message}"
    );
    let first = CpuGenerator::manual_seed(42).randn([1]);
    let again = CpuGenerator::manual_seed(42).randn([1]);
    assert_eq!(first.double_value(&[0]), again.double_value(&[0]));
}

#[test]
fn an_epoch_steps_by_the_backward_gradient_and_leaves_no_grad_on_w() {
    let examples = Examples {
        inputs: vec![0, 1, 1, 2, 0, 2, 1],
        targets: vec![1, 2, 0, 0, 2, 1, 1],
    };
    let onehot = OneHot::new(&examples, 3, Device::Cpu).unwrap();
    let w0 = initial_weights(7, 3, 3);

    // PyTorch's way, three epochs: W.grad = None, loss.backward(), W += -lr * W.grad. tch
    // cannot unset a gradient, so each epoch starts from a fresh leaf with none.
    let mut reference = w0.copy();
    let mut want_losses = Vec::new();
    for _ in 0..3 {
        let mut leaf = reference.detach().set_requires_grad(true);
        let loss = onehot.nll(&leaf).unwrap() + leaf.pow_tensor_scalar(2).mean(None::<Kind>) * 0.1;
        loss.backward();
        want_losses.push(loss.double_value(&[]));
        let step = leaf.grad() * -5.0;
        tch::no_grad(|| leaf.f_add_(&step).map(|_| ())).unwrap();
        reference = leaf.detach();
    }

    let mut w = w0.copy().set_requires_grad(true);
    let mut got_losses = Vec::new();
    for _ in 0..3 {
        let (loss, _) = onehot.epoch(&mut w, 5.0, 0.1).unwrap();
        got_losses.push(loss.double_value(&[]));
    }
    assert!(!w.grad().defined(), "the epoch accumulated into W.grad");
    assert_eq!(got_losses, want_losses);
    let got: Vec<f32> = Vec::try_from(&w.detach().reshape([-1])).unwrap();
    let want: Vec<f32> = Vec::try_from(&reference.detach().reshape([-1])).unwrap();
    assert_eq!(got.len(), 9);
    assert_ne!(got, tensor_to_vec(&w0).unwrap(), "W did not move");
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want));
}

#[test]
fn a_libtorch_failure_in_an_epoch_is_an_error_not_a_panic() {
    // An out-of-memory error cannot be caused here past the memory check; a target outside
    // the vocabulary fails in the same libtorch calls (one_hot, index, nll_loss).
    let counts = Counts::new(3, 2);
    let bad = Examples {
        inputs: vec![0, 1, 2],
        targets: vec![1, 2, 7],
    };
    let data = TrainData {
        examples: Some(&bad),
        counts: &counts,
        dev: None,
    };
    for method in [Method::OneHot, Method::Index] {
        let config = TrainConfig {
            epochs: 1,
            lr: 1.0,
            reg: 0.0,
            seed: 1,
            method,
            device: Device::Cpu,
        };
        let err = train(data, &config, &mut |_| Ok(())).unwrap_err();
        assert!(matches!(err, Error::Torch(_)), "{method:?}: {err:?}");
    }
    let inputs_beyond = Examples {
        inputs: vec![0, 5],
        targets: vec![0, 1],
    };
    assert!(OneHot::new(&inputs_beyond, 3, Device::Cpu).is_err());
}

#[test]
fn every_method_stops_when_the_loss_explodes_and_names_the_l2_step() {
    let mut counts = Counts::new(3, 2);
    counts.cells = vec![0, 5, 2, 1, 0, 3, 4, 1, 0];
    let examples = Examples {
        inputs: vec![0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2],
        targets: vec![1, 1, 1, 1, 1, 2, 2, 0, 2, 2, 2, 0, 0, 0, 0, 1],
    };
    assert_eq!(examples.len() as u64, counts.total());
    let data = TrainData {
        examples: Some(&examples),
        counts: &counts,
        dev: None,
    };
    for method in [Method::OneHot, Method::Index, Method::Counts] {
        // lr · reg = 50 · 100 is far past the 9 weights: W grows by |1 - 2·5000/9| a step.
        let config = TrainConfig {
            epochs: 50,
            lr: 50.0,
            reg: 100.0,
            seed: 1,
            method,
            device: Device::Cpu,
        };
        let err = train(data, &config, &mut |_| Ok(())).unwrap_err();
        match err {
            Error::Diverged { epoch, message } => {
                assert!(epoch <= 3, "{method:?} ran to epoch {epoch}");
                assert!(
                    message.contains("the L2 term alone"),
                    "{method:?}: {message}"
                );
            }
            other => panic!("{method:?}: {other}"),
        }
        // A workable step trains to the end with the loss going down.
        let calm = TrainConfig {
            lr: 1.0,
            reg: 0.01,
            ..config
        };
        let trained = train(data, &calm, &mut |_| Ok(())).unwrap();
        assert_eq!(trained.losses.len(), 50);
        assert!(trained.losses[49] < trained.losses[0], "{method:?}");
        // A huge rate diverges without the L2 term being the cause.
        let wild = TrainConfig {
            lr: 1e6,
            reg: 0.0,
            ..config
        };
        match train(data, &wild, &mut |_| Ok(())).unwrap_err() {
            Error::Diverged { message, .. } => {
                assert!(!message.contains("L2"), "{method:?}: {message}")
            }
            other => panic!("{method:?}: {other}"),
        }
    }
}

#[test]
fn counts_gradient_matches_autograd_on_the_same_objective() {
    let mut counts = Counts::new(27, 2);
    for (i, c) in counts.cells.iter_mut().enumerate() {
        *c = ((i * 7919) % 13) as u64;
    }
    let w: Vec<f64> = (0..27 * 27)
        .map(|i| ((i * 37) % 11) as f64 / 4.0 - 1.25)
        .collect();
    let mut objective = CountsObjective::new(w.len());
    let (loss, _) = objective.evaluate(&counts, &w, 0.1);

    let wt = Tensor::from_slice(&w)
        .view([27, 27])
        .set_requires_grad(true);
    let c = counts.to_tensor().to_kind(Kind::Double);
    let nll = -(&c * wt.log_softmax(1, None::<Kind>)).sum(None::<Kind>) / c.sum(None::<Kind>);
    let auto = nll + wt.pow_tensor_scalar(2).mean(None::<Kind>) * 0.1;
    auto.backward();
    assert!((auto.double_value(&[]) - loss).abs() < 1e-12);
    let g: Vec<f64> = Vec::try_from(&wt.grad().reshape([-1])).unwrap();
    for (a, b) in g.iter().zip(&objective.grad) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn nll_of_uniform_logits_is_log_width() {
    let mut counts = Counts::new(27, 2);
    counts.cells[5] = 3;
    counts.cells[30] = 1;
    let w = Tensor::zeros([27, 27], (Kind::Float, tch::Device::Cpu));
    let model = Model::network(w, &Vocab::letters(), 2);
    assert!((model.nll(&counts).unwrap() - 27f64.ln()).abs() < 1e-12);
}

#[test]
fn unseen_cells_of_an_unsmoothed_count_model_cost_nothing_seen_ones_infinity() {
    let mut counts = Counts::new(27, 2);
    counts.add_name(&[1]);
    let model = Model::from_counts(&counts, &Vocab::letters(), 2, 0.0);
    assert!(model.nll(&counts).unwrap().is_finite());
    let mut other = Counts::new(27, 2);
    other.add_name(&[2]);
    assert_eq!(model.nll(&other).unwrap(), f64::INFINITY);
}

/// One name, `a`: every method fits its two examples (`.a`, `a.`) almost perfectly, so the
/// NLL is written 0.0000, never -0.0000 (the device's -mean(log 1) is -0), in the text and in
/// the JSON; and the counts of one are singular (1 name, 1 character), where written.
#[test]
fn one_name_trains_to_an_nll_of_zero_and_is_counted_in_the_singular() {
    use crate::common::{bigram, ok_output, write};
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "one.txt", "a\n");
    let train = |method: &str, json: bool| {
        let mut cmd = bigram();
        cmd.args(["train", "--data", "one.txt", "--method", method]);
        ok_output(cmd.args(json.then_some("--json")).current_dir(dir.path()))
    };
    for method in ["onehot", "index", "counts"] {
        let text = train(method, false);
        let stdout = String::from_utf8_lossy(&text.stdout);
        assert!(stdout.contains("(nll 0.0000 + L2)"), "{method}: {stdout}");
        assert!(!stdout.contains("-0.0"), "{method}: {stdout}");
        let stderr = String::from_utf8_lossy(&text.stderr);
        let summary = "one.txt: 1 name, longest 1 character, 2 examples, vocabulary of 27";
        assert!(stderr.contains(summary), "{method}: {stderr}");
        let report = crate::common::json(&train(method, true));
        let nll = report["last_epoch_nll"].as_f64().unwrap();
        assert!(nll.is_sign_positive() && nll < 5e-5, "{method}: {report}");
    }
    let eval = ok_output(
        bigram()
            .args(["eval", "--data", "one.txt"])
            .current_dir(dir.path()),
    );
    let stdout = String::from_utf8_lossy(&eval.stdout);
    assert!(stdout.contains(" over 2 examples (1 name) of "), "{stdout}");
}
