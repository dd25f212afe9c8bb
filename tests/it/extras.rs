//! Beyond the notebook: pictures, train/dev/test splits, tuning, and trigrams.

use crate::common::*;
use bigram::tune::{best, TuneRow};

fn decode(path: &std::path::Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_rgb8()
}

/// Distinct colours in a picture, and whether it has both near-white and dark pixels.
fn variety(img: &image::RgbImage) -> (usize, bool) {
    let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    let light = img.pixels().any(|p| p.0.iter().all(|&c| c > 230));
    let dark = img.pixels().any(|p| p.0.iter().all(|&c| c < 80));
    (colours.len(), light && dark)
}

#[test]
fn heatmap_of_counts_and_of_a_model_is_a_readable_png() {
    let dir = tempfile::tempdir().unwrap();
    let counts_png = dir.path().join("bigrams.png");
    bigram()
        .args(["heatmap", "--data"])
        .arg(names_txt())
        .arg("--out")
        .arg(&counts_png)
        .assert()
        .success();
    let img = decode(&counts_png);
    assert_eq!(img.dimensions(), (1600, 1600));
    let (colours, contrast) = variety(&img);
    assert!(colours > 50 && contrast, "{colours} colours");
    // The most frequent bigram, "n." (6763), is the darkest cell: its centre is deep blue.
    let cell = 1600 / 27;
    let margin = (1600 - cell * 27) / 2;
    let (n, dot) = (14, 0);
    let p = img
        .get_pixel(
            (margin + dot * cell + 3) as u32,
            (margin + n * cell + 3) as u32,
        )
        .0;
    assert!(p[2] > p[0] && p[0] < 40, "n. cell colour {p:?}");

    let model = dir.path().join("counts.safetensors");
    count_model_at(&model);
    let probs_png = dir.path().join("probs.png");
    bigram()
        .args(["heatmap", "--size", "800", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&probs_png)
        .assert()
        .success();
    assert_eq!(decode(&probs_png).dimensions(), (800, 800));
}

#[test]
fn train_plots_its_loss_curve_with_the_dev_loss() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("loss.png");
    ok_output(
        bigram()
            .args([
                "train", "--json", "--method", "counts", "--split", "80/10/10", "--data",
            ])
            .arg(names_txt())
            .arg("--out")
            .arg(dir.path().join("m.safetensors"))
            .arg("--plot")
            .arg(&png),
    );
    let img = decode(&png);
    assert_eq!(img.dimensions(), (1200, 800));
    let (colours, contrast) = variety(&img);
    assert!(colours > 10 && contrast);
    // The three curves' colours are all there.
    for rgb in [[31, 119, 180], [255, 127, 14], [44, 160, 44]] {
        assert!(img.pixels().any(|p| p.0 == rgb), "no pixel of {rgb:?}");
    }
}

#[test]
fn a_one_epoch_loss_curve_shows_its_point() {
    // One epoch is one point: a line through it draws nothing. Left of the legend (which has
    // the colour too), the curve's colour must be somewhere.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("loss.png");
    ok_output(
        bigram()
            .args(["train", "--epochs", "1", "--out", "-", "--plot"])
            .arg(&png)
            .arg("--data")
            .arg(names_txt()),
    );
    let img = decode(&png);
    let curve = [31, 119, 180];
    let left_of_legend = img.enumerate_pixels().filter(|(x, _, _)| *x < 600);
    assert!(left_of_legend.filter(|(_, _, p)| p.0 == curve).count() > 10);
}

#[test]
fn the_loss_curve_labels_each_epoch_tick_once() {
    // Three epochs were labelled like `1 1 1 2 2 2 3`: ticks between epochs, each rounded.
    assert_eq!(bigram::plot::epoch_labels(3), ["1", "2", "3"]);
    // Whatever the run length: a few ticks (plotters aims at ten), rising, inside the axis.
    for epochs in 1..=2000 {
        let ticks: Vec<u32> = bigram::plot::epoch_labels(epochs)
            .iter()
            .map(|label| label.parse().unwrap())
            .collect();
        let last = epochs.max(2) as u32;
        assert!(
            (2..=11).contains(&ticks.len())
                && ticks.windows(2).all(|w| w[0] < w[1])
                && ticks.iter().all(|t| (1..=last).contains(t)),
            "{epochs} epochs: {ticks:?}"
        );
    }
}

fn split_json(command: &str, seed: &str) -> serde_json::Value {
    json(&split_output(command, seed, true))
}

/// What `command` prints for an 80/10/10 split of names.txt under `seed`, as JSON or as text.
fn split_output(command: &str, seed: &str, as_json: bool) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bigram();
    cmd.args([
        command,
        "--split",
        "80/10/10",
        "--split-seed",
        seed,
        "--data",
    ])
    .arg(names_txt())
    .arg("--out")
    .arg(dir.path().join("m.safetensors"));
    if as_json {
        cmd.arg("--json");
    }
    if command == "train" {
        cmd.args(["--method", "counts"]);
    }
    ok_output(&mut cmd)
}

#[test]
fn splits_add_up_and_are_deterministic_for_a_seed() {
    for command in ["train", "count"] {
        let a = split_json(command, "42");
        let split = &a["split"];
        // The report says how the names were split: the flags as the data set recorded them.
        let how = (split["spec"].as_str(), split["seed"].as_u64());
        assert_eq!(how, (Some("80/10/10"), Some(42)), "{command}");
        let sizes: Vec<u64> = ["train", "dev", "test"]
            .iter()
            .map(|p| split[p]["names"].as_u64().unwrap())
            .collect();
        assert_eq!(sizes.iter().sum::<u64>(), 32033);
        assert_eq!(sizes[0], 32033 * 8 / 10);
        for part in ["train", "dev", "test"] {
            let nll = split[part]["nll"].as_f64().unwrap();
            assert!(nll > 2.3 && nll < 2.7, "{command} {part}: {nll}");
        }
        // The text report gives the same figures, in the split's order.
        let text = String::from_utf8(split_output(command, "42", false).stdout).unwrap();
        let nll = |part: &str| split[part]["nll"].as_f64().unwrap();
        let line = format!(
            "nll by part: train {:.4}, dev {:.4}, test {:.4}\n",
            nll("train"),
            nll("dev"),
            nll("test")
        );
        assert!(text.contains(&line), "{command}: {text}");
        let b = split_json(command, "42");
        assert_eq!(a["split"], b["split"]);
        let c = split_json(command, "7");
        assert_ne!(a["split"]["dev"]["nll"], c["split"]["dev"]["nll"]);
    }
}

#[test]
fn tune_picks_the_lowest_dev_nll() {
    for (flag, values) in [
        ("--reg", "0,0.001,0.01,0.1,1"),
        ("--smoothing", "0,0.1,1,10"),
    ] {
        let out = ok_output(
            bigram()
                .args(["tune", "--json", flag, values, "--data"])
                .arg(names_txt()),
        );
        let report = json(&out);
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows.len(), values.split(',').count());
        let dev = |r: &serde_json::Value| r["dev_nll"].as_f64().unwrap_or(f64::INFINITY);
        let lowest = rows.iter().map(dev).fold(f64::INFINITY, f64::min);
        assert_eq!(dev(&report["best"]), lowest);
        // More regularisation than useful costs: reg 1 is worse than reg 0 on dev.
        if flag == "--reg" {
            assert!(dev(&rows[4]) > dev(&rows[0]));
        }
    }
}

#[test]
fn trigram_count_model_beats_the_bigram_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tri.safetensors");
    let out = bigram()
        .args(["count", "--json", "--order", "3", "--data"])
        .arg(names_txt())
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(out.status.success());
    let nll = json(&out)["nll"].as_f64().unwrap();
    // Two characters of context predict better than one: far below the bigram count model
    // (the shared default reference's; the count model does not depend on the training).
    let bigram_nll = reference(&["--threads", &threads_arg()])["count_nll"]
        .as_f64()
        .unwrap();
    assert!(nll < bigram_nll - 0.2, "{nll} vs {bigram_nll}");
    let names = bigram()
        .args(["sample", "-n", "20", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(names.status.success());
    let text = String::from_utf8(names.stdout).unwrap();
    assert_eq!(text.lines().count(), 20);
    assert!(text
        .lines()
        .all(|n| n.chars().all(|c| c.is_ascii_lowercase())));
    assert_eq!(bigram::model::Model::load(&model).unwrap().order, 3);
    let eval = bigram()
        .args(["eval", "--json", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(names_txt())
        .output()
        .unwrap();
    assert!(eval.status.success());
    let pytorch = reference(&["--order", "3", "--epochs", "1", "--threads", &threads_arg()]);
    let pytorch_nll = pytorch["count_nll"].as_f64().unwrap();
    assert_eq!(nll, pytorch_nll, "PyTorch's trigram count model");
    assert_eq!(json(&eval)["nll"].as_f64().unwrap(), pytorch_nll);
}

#[test]
fn trigram_parity_with_pytorch_holds() {
    let out = bigram()
        .args([
            "parity", "--json", "--order", "3", "--epochs", "3", "--lr", "20", "-n", "5", "--data",
        ])
        .arg(names_txt())
        .output()
        .unwrap();
    let report = json(&out);
    for row in report["rows"].as_array().unwrap() {
        assert!(row["ok"].as_bool().unwrap(), "{row}");
    }
    assert_eq!(out.status.code(), Some(0));
}

fn row(value: f64, dev_nll: f64) -> TuneRow {
    TuneRow {
        value,
        train_nll: 0.0,
        dev_nll,
        diverged_at: None,
    }
}

#[test]
fn best_is_the_lowest_dev_nll() {
    let rows = [
        row(0.0, 2.5),
        row(0.1, 2.4),
        row(1.0, f64::NAN),
        row(2.0, 2.4),
        row(3.0, f64::INFINITY),
    ];
    assert_eq!(best(&rows).map(|i| rows[i].value), Some(0.1));
    assert!(best(&[]).is_none());
    assert!(best(&[row(0.0, f64::INFINITY)]).is_none());
}
