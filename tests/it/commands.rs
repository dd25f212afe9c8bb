//! `train`, `count`, `sample` and `eval` as a user runs them: numbers, files, JSON, exit codes.
//! Every exact figure comes from PyTorch 2.13 run live (scripts/reference.py) at the same
//! thread count as the Rust side, never from this program's own output.

use crate::common::*;

use bigram::model::Model;
use bigram::train::{train, Method, TrainConfig, TrainData};
use std::path::PathBuf;
use std::sync::OnceLock;

/// PyTorch's run of the defaults (seed 42, 100 epochs, lr 50, reg 0.01) at `THREADS`.
fn pytorch() -> serde_json::Value {
    reference(&["--threads", &threads_arg()])
}

/// One default `bigram train --json` run at `THREADS`, shared by the tests of this file.
fn trained() -> &'static (tempfile::TempDir, PathBuf, serde_json::Value) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, serde_json::Value)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model.safetensors");
        let output = ok_output(
            bigram()
                .args(["train", "--json", "--threads", &threads_arg(), "--data"])
                .arg(names_txt())
                .arg("--out")
                .arg(&out),
        );
        let report = json(&output);
        (dir, out, report)
    })
}

fn count_json(smoothing: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let output = ok_output(
        bigram()
            .args(["count", "--json", "--smoothing", smoothing, "--data"])
            .arg(names_txt())
            .arg("--out")
            .arg(dir.path().join("counts.safetensors")),
    );
    json(&output)
}

/// The last value of a JSON array of numbers.
fn last(v: &serde_json::Value) -> f64 {
    v.as_array().unwrap().last().unwrap().as_f64().unwrap()
}

#[test]
fn default_training_matches_pytorch_and_ends_below_2_50_and_above_the_count_model() {
    let (_, out, report) = trained();
    let loss = report["loss"].as_f64().unwrap();
    assert_eq!(loss, last(&pytorch()["losses"]), "PyTorch's last epoch");
    assert_eq!(report["threads"], THREADS);
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
    // In this process, as in the reference: the bits depend on the thread count.
    tch::set_num_threads(THREADS);
    let corpus = names_with_examples();
    let config = TrainConfig {
        epochs: 10,
        lr: 50.0,
        reg: 0.01,
        seed: 42,
        method: Method::OneHot,
        device: tch::Device::Cpu,
    };
    let data = TrainData {
        examples: corpus.examples.as_ref(),
        counts: &corpus.counts,
        dev: None,
    };
    let run = train(data, &config, &mut |_| Ok(())).unwrap();
    assert_eq!(run.losses.len(), 10);
    for pair in run.losses.windows(2) {
        assert!(pair[1] < pair[0], "loss went up: {pair:?}");
    }
    assert_eq!(run.losses[0], pytorch()["losses"][0].as_f64().unwrap());
}

#[test]
fn checkpoint_round_trips_bit_for_bit() {
    let (_, out, _) = trained();
    let model = Model::load(out).unwrap();
    let again = tempfile::tempdir().unwrap();
    let copy = again.path().join("copy.safetensors");
    model.save(&copy).unwrap();
    let back = Model::load(&copy).unwrap();
    assert!(
        weight_bits(&back) == weight_bits(&model),
        "W changed in a save/load round trip"
    );
    assert_eq!(back.meta, model.meta);
    assert_eq!(
        f64::from(model.weights().unwrap()[0]),
        pytorch()["final_w"][0].as_f64().unwrap(),
        "PyTorch's final W[0,0]"
    );
    assert_eq!(model.meta.seed, Some(42));
    assert_eq!(model.meta.threads, Some(THREADS));
    // Where the data came from: names.txt with the checksum its README gives.
    let files = model.meta.data_files.clone().unwrap();
    assert_eq!(
        files[0].sha256.as_deref(),
        Some("0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d")
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
    let output = python_command()
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
    let ours = Model::load(out).unwrap().weights().unwrap();
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
    assert_eq!(eval["nll"], report["nll"]);
    assert_eq!(eval["examples"], 228146);
    assert_eq!(
        eval["nll"].as_f64().unwrap(),
        pytorch()["final_nll"].as_f64().unwrap(),
        "the NLL PyTorch gives the same final W"
    );
}

/// PyTorch's count model (the reference trains one epoch too; only the counts matter here).
/// The reference's count model at `smoothing`. Its NLL does not depend on the training, so
/// the default smoothing reads the run the other tests share, and the others train one epoch.
fn pytorch_counts(smoothing: &str) -> serde_json::Value {
    if smoothing == "1" {
        return pytorch();
    }
    reference(&[
        "--epochs",
        "1",
        "--smoothing",
        smoothing,
        "--threads",
        &threads_arg(),
    ])
}

#[test]
fn count_model_nll_matches_pytorch() {
    let mut nll = std::collections::HashMap::new();
    for smoothing in ["1", "0", "0.5"] {
        let ours = count_json(smoothing)["nll"].clone();
        assert_eq!(
            ours,
            pytorch_counts(smoothing)["count_nll"],
            "smoothing {smoothing}"
        );
        nll.insert(smoothing, ours.as_f64().unwrap());
    }
    // Add-one smoothing costs a little on the data it was counted from.
    assert!(nll["1"] > nll["0"]);
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
    assert_eq!(model.kind, bigram::model::ModelKind::Counts);
    let pytorch = pytorch_counts("1");
    let names: Vec<String> = pytorch["count_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sample_names(&counts, &["-n", "10"]),
        names,
        "PyTorch's names"
    );
    let eval = bigram()
        .args(["eval", "--json", "--model"])
        .arg(&counts)
        .arg("--data")
        .arg(names_txt())
        .output()
        .unwrap();
    assert!(eval.status.success());
    assert_eq!(json(&eval)["nll"], pytorch["count_nll"]);
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
