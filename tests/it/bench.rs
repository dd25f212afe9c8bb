//! scripts/bench.sh, the benchmark, still runs: in its tiny configuration (seconds) it prints
//! its table with every group of rows, and leaves nothing in the temporary folder it used.

use std::path::Path;

#[test]
fn the_benchmark_script_prints_its_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/bench.sh"))
        .arg("--tiny")
        .env("BIGRAM_BIN", assert_cmd::cargo::cargo_bin("bigram"))
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("| group | what | result | ratio | notes |"),
        "{stdout}"
    );
    for row in [
        "| train | PyTorch one-hot loop",
        "| train | bigram --method onehot",
        "| train | bigram --method counts",
        "| sample | fast sampler",
        "| count | `wc -l`",
        "| count | bigram count",
    ] {
        assert!(stdout.contains(row), "no row {row:?} in:\n{stdout}");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "the benchmark left {left:?}");
}
