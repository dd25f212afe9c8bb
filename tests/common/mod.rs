//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The data set the project's numbers refer to, placed by scripts/setup.sh.
pub fn names_txt() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/names.txt");
    assert!(
        path.is_file(),
        "data/names.txt is missing: run scripts/setup.sh first"
    );
    path
}

/// The built `bigram` binary, run from a given folder.
pub fn bigram() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("bigram").expect("the bigram binary is built")
}

/// The Python of the setup's venv (torch 2.13, safetensors).
pub fn python() -> PathBuf {
    PathBuf::from(env!("BIGRAM_PYTHON"))
}

/// Write `content` to a file in `dir` and return its path.
pub fn write(dir: &tempfile::TempDir, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// stdout parsed as one JSON value.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Assert two floats agree within `tol`.
#[track_caller]
pub fn close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
}

/// Write the count model (smoothing 1) of names.txt to `out` with `bigram count`.
pub fn count_model_at(out: &std::path::Path) {
    bigram()
        .args(["count", "--data"])
        .arg(names_txt())
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// `bigram sample --model MODEL ARGS`: the names it prints, one per line (it must succeed).
pub fn sample_names(model: &std::path::Path, args: &[&str]) -> Vec<String> {
    let output = bigram()
        .arg("sample")
        .arg("--model")
        .arg(model)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}
