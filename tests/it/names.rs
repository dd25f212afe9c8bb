//! What name seekers use: novel names, prefixes, temperature, top-k, length bounds, and scores
//! that agree with a log-probability worked out by hand from the checkpoint's W.

use crate::common::*;

use bigram::model::Model;
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
    let default = sample(&["-n", "40", "--seed", "5"]);
    assert_eq!(
        sample(&[
            "-n",
            "40",
            "--seed",
            "5",
            "--temperature",
            "1",
            "--top-k",
            "27"
        ]),
        default
    );
    assert_ne!(
        sample(&["-n", "40", "--seed", "5", "--top-k", "3"]),
        default
    );
    // A top-k wider than the vocabulary changes nothing, with any temperature.
    let warm = sample(&["-n", "40", "--seed", "5", "--temperature", "0.8"]);
    assert_eq!(
        sample(&[
            "-n",
            "40",
            "--seed",
            "5",
            "--temperature",
            "0.8",
            "--top-k",
            "30"
        ]),
        warm
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
    // 1e-46 is below f32's smallest positive value, the exact sampler's type.
    for (fast, temperature) in [
        (false, "0.01"),
        (true, "0.01"),
        (false, "1e-46"),
        (true, "1e-46"),
    ] {
        let mut args = vec!["-n", "20", "--temperature", temperature];
        if fast {
            args.push("--fast");
        }
        let names = sample(&args);
        assert_eq!(names.len(), 20);
        assert!(
            names.iter().all(|n| *n == greedy),
            "{names:?} vs {greedy:?}"
        );
    }
}

#[test]
fn novel_names_are_not_in_the_data() {
    let known = data_names();
    for extra in [&[][..], &["--fast"][..]] {
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
fn prefix_and_length_bounds_hold() {
    let names = sample(&["-n", "100", "--prefix", "ka", "--min-len", "5"]);
    assert_eq!(names.len(), 100);
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("ka") && n.chars().count() >= 5),
        "{names:?}"
    );
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
