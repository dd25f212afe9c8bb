//! What name seekers use: novel names, prefixes, temperature, top-k, length bounds, and scores
//! that agree with a log-probability worked out by hand from the checkpoint's W.

use crate::common::*;

use bigram::model::Model;
use bigram::sample::{SamplerKind, Shaping};
use bigram::Named;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A count model (smoothing 1) of names.txt, made once for this file's tests.
fn counts_model() -> &'static (tempfile::TempDir, PathBuf) {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("counts.safetensors");
        count_model_at(&path);
        (dir, path)
    })
}

fn sample(args: &[&str]) -> Vec<String> {
    sample_names(&counts_model().1, args)
}

fn data_names() -> HashSet<String> {
    std::fs::read_to_string(names_txt())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn neutral_temperature_and_full_top_k_are_the_default_sampler() {
    for sampler in ["torch", "torch-2.0", "torch-1.13"] {
        let with = |extra: &[&str]| {
            let mut args = vec!["-n", "40", "--seed", "5", "--sampler", sampler];
            args.extend_from_slice(extra);
            sample(&args)
        };
        let default = with(&[]);
        assert_eq!(with(&["--temperature", "1", "--top-k", "27"]), default);
        assert_ne!(with(&["--top-k", "3"]), default, "{sampler}");
        // A top-k wider than the vocabulary changes nothing, with any temperature.
        let warm = with(&["--temperature", "0.8"]);
        assert_ne!(warm, default, "{sampler}");
        assert_eq!(with(&["--temperature", "0.8", "--top-k", "30"]), warm);
    }
    assert_ne!(
        sample(&["-n", "40", "--seed", "5", "--sampler", "torch-1.13"]),
        sample(&["-n", "40", "--seed", "5"]),
        "the two PyTorch samplers give other names from one seed"
    );
}

#[test]
fn a_tiny_temperature_gives_the_most_likely_name_every_time() {
    // Greedy decoding by hand: from '.', take each row's largest logit until '.'.
    let model = Model::load(&counts_model().1).unwrap();
    let w = model.weights().unwrap();
    let mut greedy = String::new();
    let mut row = 0;
    loop {
        let logits = &w[row * 27..(row + 1) * 27];
        let next = (0..27)
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .unwrap();
        if next == 0 {
            break;
        }
        greedy.push(model.vocab.char(next));
        row = next;
    }
    // 1e-46 is below f32's smallest positive value, the PyTorch samplers' type.
    for sampler in ["torch", "torch-2.0", "torch-1.13", "fast"] {
        for temperature in ["0.01", "1e-46"] {
            let args = [
                "-n",
                "20",
                "--temperature",
                temperature,
                "--sampler",
                sampler,
            ];
            let names = sample(&args);
            assert_eq!(names.len(), 20);
            assert!(
                names.iter().all(|n| *n == greedy),
                "{sampler}: {names:?} vs {greedy:?}"
            );
        }
    }
}

#[test]
fn novel_names_are_not_in_the_data() {
    let known = data_names();
    let samplers = [&[][..], &["--fast"], &["--sampler", "torch-1.13"]];
    for extra in samplers {
        let mut args = vec!["-n", "200", "--novel"];
        args.extend_from_slice(extra);
        let names = sample(&args);
        assert_eq!(names.len(), 200);
        assert!(names.iter().all(|n| !known.contains(n)));
        let distinct: HashSet<&String> = names.iter().collect();
        assert_eq!(
            distinct.len(),
            200,
            "--novel names are new to the data and to each other"
        );
    }
}

#[test]
fn a_rank_or_in_data_that_cannot_be_given_is_said_not_dropped() {
    // The checkpoint's data file changes after training: score has no names to rank among,
    // and sample --json none to say in_data by. Each says so on stderr, and what to do.
    let dir = dir_with(&[("d.txt", b"emma\nava\n")]);
    let count = ["count", "--data", "d.txt", "--out", "model.safetensors"];
    ok_output(bigram().args(count).current_dir(dir.path()));
    std::fs::write(dir.path().join("d.txt"), "emma\nava\nmia\n").unwrap();
    for (args, what) in [
        (&["score", "emma"][..], "no rank"),
        (&["sample", "--json", "-n", "1"][..], "no in_data"),
    ] {
        let out = ok_output(bigram().args(args).current_dir(dir.path()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(what) && stderr.contains("--data"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn prefix_and_length_bounds_hold() {
    for sampler in ["torch", "torch-2.0", "torch-1.13"] {
        let args = ["-n", "100", "--prefix", "ka", "--min-len", "5"];
        let names = sample(&[&args[..], &["--sampler", sampler]].concat());
        assert_eq!(names.len(), 100);
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("ka") && n.chars().count() >= 5),
            "{sampler}: {names:?}"
        );
    }
    let fast = sample(&[
        "-n",
        "1000",
        "--prefix",
        "ka",
        "--min-len",
        "4",
        "--max-len",
        "6",
        "--fast",
    ]);
    assert_eq!(fast.len(), 1000);
    assert!(fast
        .iter()
        .all(|n| n.starts_with("ka") && (4..=6).contains(&n.chars().count())));
}

#[test]
fn impossible_requests_are_clear_errors() {
    let run = |args: &[&str]| {
        bigram()
            .arg("sample")
            .arg("--model")
            .arg(&counts_model().1)
            .args(args)
            .output()
            .unwrap()
    };
    let bad_prefix = run(&["--prefix", "K9"]);
    assert_eq!(bad_prefix.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_prefix.stderr).contains("prefix \"K9\""));
    let capped = run(&["-n", "5", "--min-len", "45", "--max-attempts", "50"]);
    assert_eq!(capped.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&capped.stderr).contains("gave up after 50 rejected draws"));
    // The cap counts rejections only: unfiltered sampling never hits it.
    let many = run(&["-n", "200000", "--fast", "--max-attempts", "1"]);
    assert!(many.status.success());
    assert_eq!(many.stdout.iter().filter(|&&b| b == b'\n').count(), 200_000);
}

/// log p(name) by hand: Σ over its bigrams (end token included) of log softmax(W[row])[next].
fn log_prob_by_hand(w: &[f32], model: &Model, name: &str) -> f64 {
    let mut total = 0.0;
    let mut row = 0usize;
    for next in name
        .chars()
        .map(|c| model.vocab.index(c).unwrap())
        .chain([0])
    {
        let logits: Vec<f64> = w[row * 27..(row + 1) * 27]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let log_z = logits.iter().map(|v| v.exp()).sum::<f64>().ln();
        total += logits[next] - log_z;
        row = next;
    }
    total
}

#[test]
fn score_agrees_with_a_hand_computed_log_probability_and_with_sample_json() {
    let (_, path) = counts_model();
    let model = Model::load(path).unwrap();
    let w = model.weights().unwrap();
    let output = bigram()
        .args(["score", "--json", "--model"])
        .arg(path)
        .args(["emma", "zzz"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let rows: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "one row per name");
    for (row, name) in rows.iter().zip(["emma", "zzz"]) {
        let by_hand = log_prob_by_hand(&w, &model, name);
        close(row["log_prob"].as_f64().unwrap(), by_hand, 1e-9);
        close(
            row["nll_per_bigram"].as_f64().unwrap(),
            -by_hand / (name.len() + 1) as f64,
            1e-9,
        );
        assert!(row["rank"].as_u64().unwrap() >= 1);
    }
    assert!(
        rows[0]["rank"].as_u64() < rows[1]["rank"].as_u64(),
        "emma is more name-like than zzz"
    );

    let sampled = ok_output(
        bigram()
            .args(["sample", "--json", "-n", "15", "--model"])
            .arg(path),
    );
    let known = data_names();
    let lines: Vec<String> = String::from_utf8(sampled.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 15, "one JSON object per name");
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = v["name"].as_str().unwrap();
        close(
            v["log_prob"].as_f64().unwrap(),
            log_prob_by_hand(&w, &model, name),
            1e-9,
        );
        assert_eq!(v["in_data"].as_bool().unwrap(), known.contains(name));
    }

    let stdin = bigram()
        .args(["score", "--model"])
        .arg(path)
        .write_stdin("emma\nava\n")
        .output()
        .unwrap();
    assert!(stdin.status.success());
    let table = String::from_utf8(stdin.stdout).unwrap();
    assert_eq!(
        table.lines().count(),
        3,
        "a header and one row per name: {table}"
    );
    assert!(table.contains("emma") && table.contains("ava") && table.contains("rank"));
    let invalid = bigram()
        .args(["score", "--model"])
        .arg(path)
        .arg("zoë")
        .output()
        .unwrap();
    assert_eq!(invalid.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("name \"zoë\""));
}

/// The names: what PyTorch before 2.0 drew in the makemore lecture, and what
/// `torch.multinomial(p, k > 1)` still draws; PyTorch 2.13 gave them with these models.
const LECTURE_COUNT_NAMES: [&str; 5] = ["mor", "axx", "minaymoryles", "kondlaisah", "anchshizarie"];
const LECTURE_NETWORK_NAMES: [&str; 5] =
    ["mor", "axx", "minaymoryles", "kondmaisah", "anchthizarie"];

#[test]
fn the_lecture_names_come_from_the_torch_1_13_sampler_for_both_models() {
    let lecture = ["--seed", "2147483647", "-n", "5", "--threads", "2"];
    let pytorch = reference(&lecture);
    let as_names =
        |v: &serde_json::Value| -> Vec<String> { serde_json::from_value(v.clone()).unwrap() };
    let count = sample(&["--sampler", "torch-1.13", "-n", "5"]);
    assert_eq!(count, LECTURE_COUNT_NAMES);
    assert_eq!(count, as_names(&pytorch["count_names_cumulative"]));

    // The lecture's training is `train`'s defaults with the weights' seed it used.
    let dir = tempfile::tempdir().unwrap();
    let network = dir.path().join("lecture.safetensors");
    ok_output(
        bigram()
            .args(["train", "--seed", "2147483647", "--threads"])
            .arg(threads_arg())
            .arg("--data")
            .arg(names_txt())
            .arg("--out")
            .arg(&network),
    );
    let names = sample_names(&network, &["--sampler", "torch-1.13", "-n", "5"]);
    assert_eq!(names, LECTURE_NETWORK_NAMES);
    assert_eq!(names, as_names(&pytorch["network_names_cumulative"]));
    // The default sampler still gives today's PyTorch names.
    let today = sample_names(&network, &["-n", "5"]);
    assert_eq!(today, as_names(&pytorch["network_names"]));
}

#[test]
fn json_names_the_sampler_and_fast_is_sampler_fast() {
    for (args, name) in [
        (&[][..], "torch"),
        (&["--sampler", "torch-2.0"][..], "torch-2.0"),
        (&["--sampler", "torch-1.13"][..], "torch-1.13"),
        (&["--sampler", "fast"][..], "fast"),
        (&["--fast"][..], "fast"),
    ] {
        let output = ok_output(
            bigram()
                .args(["sample", "--json", "-n", "3", "--model"])
                .arg(&counts_model().1)
                .args(args),
        );
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["sampler"], name, "{args:?}");
        }
    }
    assert_eq!(
        sample(&["--fast", "-n", "30"]),
        sample(&["--sampler", "fast", "-n", "30"])
    );
    let both = bigram()
        .args(["sample", "--fast", "--sampler", "torch", "--model"])
        .arg(&counts_model().1)
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

/// A network whose row for "." has the logit `value` for 'e' (the others 0), written to `dir`.
fn network_with_start_logit(dir: &tempfile::TempDir, value: f32, every: bool) -> PathBuf {
    let vocab = bigram::vocab::Vocab::letters();
    let mut w = vec![0.0f32; 27 * 27];
    if every {
        w[..27].fill(value);
    } else {
        w[5] = value;
    }
    let w = tch::Tensor::from_slice(&w).reshape([27, 27]);
    let path = dir.path().join(format!("big{value}{every}.safetensors"));
    Model::network(w, &vocab, 2).save(&path).unwrap();
    path
}

/// Logits above ~88.72 overflow float32's exp, the PyTorch samplers' arithmetic (PyTorch gets
/// NaN there too): the error says so and how to sample anyway; the model itself is usable.
#[test]
fn logits_that_overflow_float32_exp_are_explained_and_the_fast_sampler_works() {
    let dir = tempfile::tempdir().unwrap();
    let large = network_with_start_logit(&dir, 100.0, false);
    for sampler in ["torch", "torch-2.0", "torch-1.13"] {
        let output = bigram()
            .args(["sample", "--sampler", sampler, "--model"])
            .arg(&large)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        for needle in [
            "logits after \".\" reach 100",
            "exp overflows float32 above about 88.72",
            "--sampler fast",
            "--temperature",
        ] {
            assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
        }
        assert!(!stderr.contains("retrain"), "{stderr}");
    }
    // 'e' is e^100 times likelier than any other start, and its row is flat.
    let fast = sample_names(&large, &["--sampler", "fast", "-n", "20"]);
    assert!(fast.iter().all(|n| n.starts_with('e')), "{fast:?}");
    // `score` works in float64: log p("e") = log p(e | .) + log p(. | e) = about 0 - ln 27.
    let score = ok_output(
        bigram()
            .args(["score", "--json", "--model"])
            .arg(&large)
            .arg("e"),
    );
    close(
        json(&score)["log_prob"].as_f64().unwrap(),
        -27f64.ln(),
        1e-9,
    );

    // No exp overflows, but 27 of them add up past f32::MAX (e^88 is about 1.7e38).
    let sum = network_with_start_logit(&dir, 88.0, true);
    let output = bigram()
        .args(["sample", "--model"])
        .arg(&sum)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("reach 88 and their exponentials add up past"),
        "{stderr}"
    );
}

#[test]
fn each_sampler_is_found_by_its_own_name() {
    use strum::VariantArray;
    for &kind in SamplerKind::VARIANTS {
        assert_eq!(SamplerKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(SamplerKind::from_name("torch-2.7"), None);
}

#[test]
fn docs_sampling_describes_every_sampler_in_its_order() {
    use strum::VariantArray;
    let page = include_str!("../../docs/sampling.md");
    // The first column of each row: `NAME` and maybe a note.
    let listed: Vec<String> = first_column(page, "| `--sampler` | gives, for a seed,")
        .iter()
        .filter_map(|cell| backticked(cell).into_iter().next())
        .collect();
    let names: Vec<&str> = SamplerKind::VARIANTS
        .iter()
        .map(|kind| kind.name())
        .collect();
    assert_eq!(listed, names);
}

#[test]
fn shaping_shifts_divides_and_keeps_the_top_k_with_ties() {
    let shaping = Shaping {
        temperature: 0.5,
        top_k: Some(2),
    };
    let shaped = shaping.apply(&[1.0f64, 3.0, 3.0, 0.0]);
    assert_eq!(shaped, vec![f64::NEG_INFINITY, 0.0, 0.0, f64::NEG_INFINITY]);
    let single = shaping.apply(&[1.0f32, 3.0, 3.0, 0.0]);
    assert_eq!(single, vec![f32::NEG_INFINITY, 0.0, 0.0, f32::NEG_INFINITY]);
    let all = Shaping {
        temperature: 2.0,
        top_k: Some(9),
    };
    assert_eq!(all.apply(&[2.0f64, 0.0]), vec![0.0, -1.0]);
    // Below f32's smallest positive value: still the largest logits alone, in both types.
    let frozen = Shaping {
        temperature: 1e-46,
        top_k: None,
    };
    let logits = [1.0, 3.0, 3.0 - 1e-6, 3.0, 0.0];
    let weights: Vec<f64> = frozen.apply(&logits).into_iter().map(f64::exp).collect();
    assert_eq!(weights, [0.0, 1.0, 0.0, 1.0, 0.0]);
    let single: Vec<f32> = frozen.apply(&logits.map(|v| v as f32));
    let weights: Vec<f32> = single.into_iter().map(f32::exp).collect();
    assert_eq!(weights, [0.0, 1.0, 0.0, 1.0, 0.0]);
    // Above f32's largest value, with an impossible character (-inf): flat, not NaN.
    let flat = Shaping {
        temperature: 1e39,
        top_k: None,
    };
    let weights: Vec<f32> = flat
        .apply(&[1.0f32, f32::NEG_INFINITY, 3.0])
        .into_iter()
        .map(f32::exp)
        .collect();
    assert_eq!(weights, [1.0, 0.0, 1.0]);
    assert!(Shaping::default().is_identity(27));
    assert!(!shaping.is_identity(27));
}

#[test]
fn a_model_of_folded_names_folds_what_it_scores_and_one_of_lower_case_names_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(&dir, "Caps.txt", "Emma\nAVA\nbob\n");
    let folded = dir.path().join("folded.safetensors");
    bigram()
        .args(["count", "--lowercase", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&folded)
        .assert()
        .success();
    let score = |model: &std::path::Path, names: &[&str]| {
        let mut cmd = bigram();
        cmd.args(["score", "--json", "--model"]).arg(model);
        cmd.args(names).output().unwrap()
    };
    // Emma is emma to a model that folded its data: the same score and rank, under its name.
    let scored = score(&folded, &["Emma", "emma", "EMMA"]);
    assert!(scored.status.success(), "{scored:?}");
    let rows: Vec<serde_json::Value> = String::from_utf8(scored.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    for (row, name) in rows.iter().zip(["Emma", "emma", "EMMA"]) {
        assert_eq!(row["name"], name);
        assert_eq!(row["log_prob"], rows[1]["log_prob"], "{row}");
        assert_eq!(row["rank"], rows[1]["rank"], "{row}");
    }
    // A prefix too: every name drawn after `Em` starts with em.
    let drawn = sample_names(&folded, &["--prefix", "Em", "-n", "5"]);
    assert!(drawn.iter().all(|n| n.starts_with("em")), "{drawn:?}");
    // A model of names.txt, read as it is (lower case): the refusal says what it would score.
    let (_, plain) = counts_model();
    let refused = score(plain, &["Emma"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'E'") && stderr.contains("give \"emma\""),
        "{stderr}"
    );
}
