//! `train`, `count`, `sample` and `eval` as a user runs them: numbers, files, JSON, exit codes.
//! Reference figures come from PyTorch 2.13 on names.txt (scripts/reference.py and the
//! notebook's loop), not from this program's output.

mod common;
use common::*;

use bigram::data::{Corpus, DataOptions, Keep};
use bigram::model::Model;
use bigram::train::{train, Method, TrainConfig};
use std::path::PathBuf;
use std::sync::OnceLock;

/// One default `bigram train --json` run shared by the tests of this file.
fn trained() -> &'static (tempfile::TempDir, PathBuf, serde_json::Value) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, serde_json::Value)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model.safetensors");
        let output = bigram()
            .args(["train", "--json", "--data"])
            .arg(names_txt())
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = json(&output);
        (dir, out, report)
    })
}

fn count_json(smoothing: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let output = bigram()
        .args(["count", "--json", "--smoothing", smoothing, "--data"])
        .arg(names_txt())
        .arg("--out")
        .arg(dir.path().join("counts.safetensors"))
        .output()
        .unwrap();
    assert!(output.status.success());
    json(&output)
}

#[test]
fn default_training_ends_below_2_50_and_above_the_count_model() {
    let (_, out, report) = trained();
    let loss = report["loss"].as_f64().unwrap();
    // PyTorch 2.13, same loop: 2.49049234390258789 after 100 epochs (lr 50, reg 0.01, seed 42).
    close(loss, 2.490492343902588, 1e-6);
    assert!(loss < 2.50);
    assert!(loss > count_json("1")["nll"].as_f64().unwrap());
    for key in [
        "epochs", "lr", "reg", "seed", "device", "loss", "nll", "seconds", "out",
    ] {
        assert!(report.get(key).is_some(), "train --json has no {key}");
    }
    assert_eq!(report["method"], "onehot");
    assert!(out.is_file());
}

#[test]
fn loss_decreases_over_the_first_ten_epochs() {
    let corpus = Corpus::load(
        &names_txt(),
        &DataOptions::default(),
        2,
        Keep {
            examples: true,
            names: false,
        },
    )
    .unwrap();
    let config = TrainConfig {
        epochs: 10,
        lr: 50.0,
        reg: 0.01,
        seed: 42,
        method: Method::OneHot,
        device: tch::Device::Cpu,
    };
    let run = train(
        corpus.examples.as_ref(),
        &corpus.counts,
        None,
        &config,
        |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(run.losses.len(), 10);
    for pair in run.losses.windows(2) {
        assert!(pair[1] < pair[0], "loss went up: {pair:?}");
    }
    // PyTorch 2.13: the first epoch's loss is 3.706476926803589.
    close(run.losses[0], 3.706476926803589, 1e-7);
}

#[test]
fn checkpoint_round_trips_bit_for_bit() {
    let (_, out, _) = trained();
    let model = Model::load(out).unwrap();
    let again = tempfile::tempdir().unwrap();
    let copy = again.path().join("copy.safetensors");
    model.save(&copy).unwrap();
    let back = Model::load(&copy).unwrap();
    let bits = |m: &Model| m.weights().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert!(
        bits(&back) == bits(&model),
        "W changed in a save/load round trip"
    );
    assert_eq!(back.meta, model.meta);
    // PyTorch 2.13 ends at W[0,0] = -2.56732392311096191 for the default run.
    assert_eq!(f64::from(model.weights()[0]), -2.567323923110962);
    assert_eq!(model.meta["seed"], "42");
    assert_eq!(
        model.meta["data_sha256"],
        "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
    );
}

#[test]
fn python_safetensors_reads_the_same_w() {
    let (_, out, _) = trained();
    let script = "import json,sys\n\
        from safetensors.torch import load_file\n\
        from safetensors import safe_open\n\
        w = load_file(sys.argv[1])['W']\n\
        meta = safe_open(sys.argv[1], 'pt').metadata()\n\
        print(json.dumps({'dtype': str(w.dtype), 'shape': list(w.shape), 'w': w.reshape(-1).tolist(), 'kind': meta['kind'], 'vocab': meta['vocab']}))";
    let output = std::process::Command::new(python())
        .args(["-c", script])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let py = json(&output);
    assert_eq!(py["dtype"], "torch.float32");
    assert_eq!(py["shape"], serde_json::json!([27, 27]));
    assert_eq!(py["kind"], "network");
    assert_eq!(py["vocab"], ".abcdefghijklmnopqrstuvwxyz");
    let ours = Model::load(out).unwrap().weights();
    let theirs: Vec<f32> = py["w"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn eval_of_a_fresh_checkpoint_equals_its_reported_nll() {
    let (_, out, report) = trained();
    let output = bigram()
        .args(["eval", "--json", "--model"])
        .arg(out)
        .arg("--data")
        .arg(names_txt())
        .output()
        .unwrap();
    assert!(output.status.success());
    let eval = json(&output);
    close(
        eval["nll"].as_f64().unwrap(),
        report["nll"].as_f64().unwrap(),
        1e-5,
    );
    assert_eq!(eval["examples"], 228146);
    // scripts/reference.py (PyTorch 2.13) gives the final W an NLL of 2.47490504090630914.
    assert_eq!(eval["nll"].as_f64().unwrap(), 2.474905040906309);
}

#[test]
fn count_model_nll_matches_pytorch() {
    // PyTorch 2.13 on names.txt: -mean(log P[X, y]) with P = (N + s) / row sums.
    close(count_json("1")["nll"].as_f64().unwrap(), 2.4546, 1e-4);
    close(count_json("0")["nll"].as_f64().unwrap(), 2.4540, 1e-4);
}

#[test]
fn sampling_is_reproducible_per_seed_and_stays_in_the_vocabulary() {
    let (_, out, _) = trained();
    let first = sample_names(out, &["-n", "50", "--seed", "7"]);
    assert_eq!(first.len(), 50);
    assert_eq!(first, sample_names(out, &["-n", "50", "--seed", "7"]));
    assert_ne!(first, sample_names(out, &["-n", "50", "--seed", "8"]));
    for name in &first {
        assert!(name.chars().all(|c| c.is_ascii_lowercase()), "{name:?}");
    }
}

#[test]
fn max_len_caps_names_and_n_zero_is_refused() {
    let (_, out, _) = trained();
    let names = sample_names(out, &["-n", "200", "--max-len", "3"]);
    assert_eq!(names.len(), 200);
    assert!(names.iter().all(|n| n.chars().count() <= 3));
    assert!(
        names.iter().any(|n| n.chars().count() == 3),
        "some names should hit the cap"
    );
    let zero = bigram()
        .arg("sample")
        .arg("--model")
        .arg(out)
        .args(["-n", "0"])
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2));
    assert!(zero.stdout.is_empty());
}

#[test]
fn counts_checkpoint_serves_sample_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let counts = dir.path().join("counts.safetensors");
    count_model_at(&counts);
    let model = Model::load(&counts).unwrap();
    assert_eq!(model.meta["kind"], "counts");
    // The count model's first names for the default seed, from PyTorch 2.13 (scripts/reference.py).
    assert_eq!(
        sample_names(&counts, &["-n", "3"]),
        ["cexze", "momasurailezitynn", "konimittain"]
    );
    let eval = bigram()
        .args(["eval", "--json", "--model"])
        .arg(&counts)
        .arg("--data")
        .arg(names_txt())
        .output()
        .unwrap();
    close(json(&eval)["nll"].as_f64().unwrap(), 2.4546, 1e-4);
}

#[test]
fn usage_and_input_errors_exit_2_other_failures_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = bigram()
        .args(["train", "--data", "no/such/names.txt"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let default_missing = bigram()
        .arg("count")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(default_missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&default_missing.stderr).contains("scripts/setup.sh"));
    let bad_flag = bigram()
        .args(["train", "--epochs", "many"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
    let unknown = bigram().arg("fly").output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(bigram().arg("--help").output().unwrap().status.success());
    // A failure that is not the user's input: the reference interpreter runs but fails.
    let broken = bigram()
        .args(["parity", "--python", "/bin/false", "--data"])
        .arg(names_txt())
        .output()
        .unwrap();
    assert_eq!(
        broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
    assert!(String::from_utf8_lossy(&broken.stderr).contains("reference failed"));
}
