//! Beyond one file and one run: counts of shards merge into the counts of the whole, a network
//! trains from merged counts, several files (or stdin) read as one, and training resumes from
//! a checkpoint exactly.

use crate::common::*;

use bigram::cancel::Cancel;
use bigram::data::ReadOptions;
use bigram::dataset::{Dataset, FitOptions};
use bigram::model::Model;
use bigram::train::{initial_weights, train_from, Method, TrainConfig, TrainData};
use std::path::{Path, PathBuf};

/// names.txt cut into `n` shards of whole lines, written into `dir`.
fn shards(dir: &Path, n: usize) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(names_txt()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(lines.len().div_ceil(n))
        .enumerate()
        .map(|(i, chunk)| {
            let path = dir.join(format!("shard{i}.txt"));
            std::fs::write(&path, chunk.join("\n") + "\n").unwrap();
            path
        })
        .collect()
}

fn count(data: &[&Path], out: &Path, extra: &[&str]) {
    bigram()
        .arg("count")
        .args(extra)
        .arg("--data")
        .args(data)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn counts_method(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        lr: 50.0,
        reg: 0.01,
        seed: 42,
        method: Method::Counts,
        device: tch::Device::Cpu,
    }
}

#[test]
fn shards_counted_apart_and_merged_are_the_whole_and_train_the_same_network() {
    let dir = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    for (i, shard) in shards(dir.path(), 4).iter().enumerate() {
        let out = dir.path().join(format!("shard{i}.safetensors"));
        count(&[shard], &out, &[]);
        parts.push(out);
    }
    let merged = dir.path().join("merged.safetensors");
    bigram()
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let whole = dir.path().join("whole.safetensors");
    count(&[&names_txt()], &whole, &[]);
    let (merged_model, whole_model) = (Model::load(&merged).unwrap(), Model::load(&whole).unwrap());
    assert_eq!(
        merged_model.counts, whole_model.counts,
        "the counts add up to the whole's"
    );
    assert_eq!(merged_model.counts.as_ref().unwrap().total(), 228146);
    assert_eq!(
        merged_model.meta.nll, whole_model.meta.nll,
        "the count model's NLL"
    );
    // Python reads the raw counts as they are.
    let script = "import sys\nfrom safetensors.torch import load_file\nn = load_file(sys.argv[1])['N']\nprint(str(n.dtype), n.sum().item(), n[0, 1].item())";
    let py = python_command()
        .args(["-c", script])
        .arg(&merged)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let n = merged_model.counts.as_ref().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        format!("torch.int64 {} {}", n.total(), n.cells[1])
    );
    let sources = merged_model.meta.sources.clone().unwrap();
    assert_eq!(sources.len(), 4);
    assert!(sources[0].sha256.len() == 64);

    // The network from the merged counts is the counts method's network on the whole file.
    let from_counts = Dataset::from_counts(
        &bigram::checkpoint::read(&merged, &bigram::cancel::Cancel::never()).unwrap(),
    )
    .unwrap();
    let fit = FitOptions {
        order: 2,
        examples: false,
        split: None,
    };
    let from_data = Dataset::load(&names_source(), &ReadOptions::default(), fit).unwrap();
    let run = |data: &Dataset| {
        let w0 = initial_weights(42, 27, 27);
        let fit_data = TrainData {
            examples: None,
            counts: data.counts(),
            dev: None,
        };
        train_from(w0, fit_data, &counts_method(100), &mut |_| Ok(())).unwrap()
    };
    let (a, b) = (run(&from_counts), run(&from_data));
    assert_eq!(a.losses, b.losses);
    let bits = |t: &tch::Tensor| Vec::<f32>::try_from(&t.reshape([-1])).unwrap();
    assert_eq!(bits(&a.w), bits(&b.w));
    // And through the command line.
    let trained = |args: &[&str], out: &str| {
        let out = dir.path().join(out);
        bigram()
            .arg("train")
            .args(args)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        Model::load(&out).unwrap().weights().unwrap()
    };
    let data = names_txt().display().to_string();
    let merged_arg = merged.display().to_string();
    assert_eq!(
        trained(&["--counts", &merged_arg], "a.safetensors"),
        trained(&["--method", "counts", "--data", &data], "b.safetensors")
    );
}

#[test]
fn several_files_and_stdin_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let files = shards(dir.path(), 2);
    let out = |name: &str| dir.path().join(name);
    count(&[&files[0], &files[1]], &out("two.safetensors"), &[]);
    let joined = format!(
        "{} count --data <(cat {} {}) --out {}",
        assert_cmd::cargo::cargo_bin("bigram").display(),
        files[0].display(),
        files[1].display(),
        out("piped.safetensors").display()
    );
    let status = std::process::Command::new("bash")
        .args(["-c", &joined])
        .status()
        .unwrap();
    assert!(status.success());
    bigram()
        .args(["count", "--data", "-", "--out"])
        .arg(out("stdin.safetensors"))
        .write_stdin(std::fs::read(names_txt()).unwrap())
        .assert()
        .success();
    let two = Model::load(&out("two.safetensors")).unwrap();
    for other in ["piped.safetensors", "stdin.safetensors"] {
        let other = Model::load(&out(other)).unwrap();
        assert_eq!(two.counts, other.counts, "{other:?}");
        assert_eq!(two.meta.nll, other.meta.nll);
    }
    let files = two.meta.data_files.clone().unwrap();
    assert_eq!(files.len(), 2, "each file with its checksum");
    for (entry, path) in files.iter().zip(&files_of(&two)) {
        assert_eq!(
            entry.sha256.as_deref(),
            Some(
                bigram::data::sha256_of(path, &Cancel::never())
                    .unwrap()
                    .as_str()
            )
        );
    }
    let stdin = Model::load(&out("stdin.safetensors")).unwrap();
    let files = stdin.meta.data_files.clone().unwrap();
    assert!(files[0].path.is_none(), "stdin has no path: {files:?}");
    assert_eq!(
        files[0].sha256.as_deref(),
        Some(
            bigram::data::sha256_of(&names_txt(), &Cancel::never())
                .unwrap()
                .as_str()
        ),
        "the checksum of the bytes stdin gave"
    );
    // A network too: the one-hot examples of two files are those of their concatenation.
    let network = |data: &[&str], name: &str| {
        let path = out(name);
        let mut cmd = bigram();
        cmd.args([
            "train",
            "--epochs",
            "3",
            "--threads",
            &threads_arg(),
            "--out",
        ])
        .arg(&path)
        .arg("--data")
        .args(data);
        if data == ["-"] {
            cmd.write_stdin(std::fs::read(names_txt()).unwrap());
        }
        cmd.assert().success();
        Model::load(&path).unwrap().weights().unwrap()
    };
    let (a, b) = (
        files_of(&two)[0].display().to_string(),
        files_of(&two)[1].display().to_string(),
    );
    assert_eq!(
        network(&[&a, &b], "n1.safetensors"),
        network(&["-"], "n2.safetensors")
    );
}

/// The data files a checkpoint records.
fn files_of(model: &Model) -> Vec<PathBuf> {
    let files = model.meta.data_files.clone().unwrap();
    files
        .iter()
        .map(|f| PathBuf::from(f.path.as_deref().unwrap()))
        .collect()
}

/// 12 epochs, then 8 more from the checkpoint, against 20 straight: what resuming must keep
/// (the weights' bits, the epoch count, the chain) shows from the first resumed epoch.
#[test]
fn training_resumed_from_a_checkpoint_is_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = names_txt().display().to_string();
    let run = |args: &[&str], out: &str| -> Model {
        let path = dir.path().join(out);
        bigram()
            .args([
                "train",
                "--threads",
                &threads_arg(),
                "--data",
                &data,
                "--out",
            ])
            .arg(&path)
            .args(args)
            .assert()
            .success();
        Model::load(&path).unwrap()
    };
    let straight = run(&["--epochs", "20"], "straight.safetensors");
    run(&["--epochs", "12"], "first.safetensors");
    let first_path = dir.path().join("first.safetensors").display().to_string();
    let resumed = run(
        &["--epochs", "8", "--init", &first_path],
        "resumed.safetensors",
    );
    assert_eq!(
        weight_bits(&resumed),
        weight_bits(&straight),
        "12 + 8 epochs are 20"
    );
    assert_eq!(resumed.meta.final_loss, straight.meta.final_loss);
    assert_eq!(resumed.meta.epochs_total, Some(20));
    let chain = resumed.meta.init.clone().unwrap();
    assert_eq!(chain.epochs_total, 12);
    assert_eq!(
        chain.seed.as_deref(),
        Some("42"),
        "the chain remembers its seed"
    );
    assert!(resumed.meta.seed.is_none(), "this run drew no weights");
    let sha = bigram::data::sha256_of(Path::new(&first_path), &Cancel::never()).unwrap();
    assert_eq!(chain.sha256, sha);

    // Every one of the 8 losses is the straight run's, epoch 13 onwards.
    tch::set_num_threads(THREADS);
    let fit = FitOptions {
        order: 2,
        examples: true,
        split: None,
    };
    let corpus = Dataset::load(&names_source(), &ReadOptions::default(), fit).unwrap();
    let data = TrainData {
        examples: corpus.examples(),
        counts: corpus.counts(),
        dev: None,
    };
    let config = |epochs| TrainConfig {
        method: Method::OneHot,
        ..counts_method(epochs)
    };
    let all = train_from(initial_weights(42, 27, 27), data, &config(20), &mut |_| {
        Ok(())
    })
    .unwrap();
    let first = Model::load(Path::new(&first_path)).unwrap();
    let rest = train_from(first.w, data, &config(8), &mut |_| Ok(())).unwrap();
    assert_eq!(rest.losses[..], all.losses[12..]);
}

#[test]
fn counts_that_do_not_add_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "letters.txt", "emma\nava\n");
    write(&dir, "other.txt", "olivia\nmia\n");
    write(&dir, "accents.txt", "zoé\nchloë\n");
    let path = |name: &str| dir.path().join(name);
    let (letters, other) = (path("letters.txt"), path("other.txt"));
    count(&[&letters], &path("a.safetensors"), &[]);
    // The same data counted again, with another smoothing: other bytes, the same counts.
    count(
        &[&letters],
        &path("again.safetensors"),
        &["--smoothing", "0.5"],
    );
    count(&[&other], &path("tri.safetensors"), &["--order", "3"]);
    count(
        &[&path("accents.txt")],
        &path("auto.safetensors"),
        &["--vocab", "auto"],
    );
    count(
        &[&other],
        &path("smooth.safetensors"),
        &["--smoothing", "0.5"],
    );
    count(
        &[&other],
        &path("split.safetensors"),
        &["--split", "50/50/0"],
    );
    count(&[&other], &path("zero.safetensors"), &["--smoothing", "0"]);
    bigram()
        .args(["train", "--epochs", "1", "--method", "counts", "--data"])
        .arg(&other)
        .arg("--out")
        .arg(path("net.safetensors"))
        .assert()
        .success();
    for (second, needle, extra) in [
        ("tri.safetensors", "different orders", &[][..]),
        ("auto.safetensors", "different vocabularies", &[]),
        ("net.safetensors", "trained network", &[]),
        ("smooth.safetensors", "--smoothing", &[]),
        ("split.safetensors", "different splits", &[]),
        ("a.safetensors", "both count the same checkpoint", &[]),
        (
            "again.safetensors",
            "both count the data file",
            &["--smoothing", "1"],
        ),
    ] {
        let out = bigram()
            .args(["merge", "a.safetensors", second, "--out", "m.safetensors"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{second}: {stderr}");
        assert!(stderr.contains(needle), "{second}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!path("m.safetensors").exists());
    }
    // A smoothing given on the command line settles it.
    bigram()
        .args([
            "merge",
            "a.safetensors",
            "smooth.safetensors",
            "--smoothing",
            "1",
        ])
        .args(["--out", "m.safetensors"])
        .current_dir(dir.path())
        .assert()
        .success();
    // An unsmoothed count model has -inf weights: no start for training.
    let out = bigram()
        .args(["train", "--init", "zero.safetensors", "--data", "other.txt"])
        .args(["--out", "n.safetensors"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not all finite"));
}
