//! scripts/dask_count.py on real Dask clusters of two worker processes on this machine: the
//! shards' counts merged are `bigram count` of the whole file, tensor bytes for tensor bytes; a
//! bad shard fails the job with its file and line and writes nothing; a small file cut into
//! many pieces (empty, blank and repeated ones) still counts as the whole, written to stdout.
//! And the shards themselves, without Dask: `count --range`/`--shard` pieces merge into the
//! whole, overlapping ones are refused, a given vocabulary lets pieces beyond a-z merge.

use crate::common::*;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const INSTALL: &str = "run scripts/setup.sh (it adds Dask to the shared venv), or \
                       PYTHON -m pip install 'dask[distributed]>=2024.1' for your own Python";

fn driver() -> PathBuf {
    project_root().join("scripts/dask_count.py")
}

/// The driver with the binary under test, run by the references' Python.
fn dask_count(args: &[&str]) -> Command {
    let mut cmd = python_command();
    cmd.arg(driver())
        .arg("--bigram")
        .arg(assert_cmd::cargo::cargo_bin("bigram"))
        .args(args)
        .env_remove("DASK_SCHEDULER_ADDRESS")
        .stdin(Stdio::null());
    cmd
}

/// A local Dask cluster of two worker processes, shared by the tests that pass its address
/// (starting one takes seconds). Its process waits for the end of its stdin, which closes when
/// this test process exits, however it exits; then it closes the cluster.
struct Cluster {
    address: String,
    _process: Child,
    _stdin: ChildStdin,
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        // Its stderr goes to a file that is gone when this process ends, read on a failure.
        let mut log = tempfile::tempfile().unwrap();
        let script = "import dask, logging, sys, tempfile\n\
                      from distributed import LocalCluster\n\
                      with tempfile.TemporaryDirectory() as scratch, \\\n\
                      \x20   dask.config.set({'temporary-directory': scratch}), \\\n\
                      \x20   LocalCluster(n_workers=2, threads_per_worker=1, processes=True,\n\
                      \x20   dashboard_address=None, silence_logs=logging.ERROR) as cluster:\n\
                      \x20   print(cluster.scheduler_address, flush=True)\n\
                      \x20   sys.stdin.read()\n";
        let mut process = python_command()
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().unwrap())
            .spawn()
            .unwrap();
        let stdout = process.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let address = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        if !address.starts_with("tcp://127.0.0.1:") {
            use std::io::{Read, Seek};
            let mut said = String::new();
            let _ = log.rewind().and_then(|()| log.read_to_string(&mut said));
            panic!("no Dask cluster started ({INSTALL}): {said}");
        }
        Cluster {
            address: address.trim().to_string(),
            _stdin: process.stdin.take().unwrap(),
            _process: process,
        }
    })
}

/// The tensor `name` of a checkpoint: dtype, shape and bytes.
fn tensor(path: &Path, name: &str) -> (String, Vec<usize>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = file.tensor(name).unwrap();
    (
        format!("{:?}", view.dtype()),
        view.shape().to_vec(),
        view.data().to_vec(),
    )
}

/// `bigram count` of `data` read as one, the reference the driver's result must equal.
fn whole_count(data: &Path, out: &Path) {
    ok_output(
        bigram()
            .args(["count", "--quiet", "--data"])
            .arg(data)
            .arg("--out")
            .arg(out),
    );
}

#[track_caller]
fn assert_same_counts(merged: &Path, whole: &Path) {
    for name in ["N", "W"] {
        let (got, want) = (tensor(merged, name), tensor(whole, name));
        assert_eq!(
            (&got.0, &got.1),
            (&want.0, &want.1),
            "{name}: dtype and shape"
        );
        assert!(got.2 == want.2, "{name}: the bytes differ");
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap()
}

#[test]
fn names_cut_into_five_pieces_on_a_local_cluster_of_two_workers_count_as_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus.safetensors");
    let output = run(
        dask_count(&["--workers", "2", "--pieces", "5", "--json", "--data"])
            .arg(names_txt())
            .arg("--out")
            .arg(&out),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report = json(&output);
    assert_eq!(report["shards"], 5, "{report}");
    assert_eq!(report["cluster"], "local", "{report}");
    assert_eq!(
        report["workers"], 2,
        "both worker processes counted: {report}"
    );
    assert_eq!(report["examples"], 228146, "{report}");
    let whole = dir.path().join("whole.safetensors");
    whole_count(&names_txt(), &whole);
    assert_same_counts(&out, &whole);
}

#[test]
fn a_bad_line_fails_the_job_with_its_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(names_txt()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[19_999] = "Bob"; // line 20000, in the fourth of five pieces
    let bad = write(&dir, "bad.txt", lines.join("\n") + "\n");
    let out = dir.path().join("out.safetensors");
    let address = &cluster().address;

    // A shard of the file, read at its bytes on a worker: bigram's own message.
    let output = run(
        dask_count(&["--scheduler", address, "--pieces", "5", "--data"])
            .arg(&bad)
            .arg("--out")
            .arg(&out),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:20000:", bad.display())),
        "{stderr}"
    );
    assert!(stderr.contains("shard 4/5"), "{stderr}");
    assert!(!out.exists(), "a failed job wrote its output");

    // Files as shards, from a pattern: the bad file's own name and line.
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).unwrap();
    for (i, chunk) in lines.chunks(lines.len().div_ceil(5)).enumerate() {
        std::fs::write(shards.join(format!("{i}.txt")), chunk.join("\n") + "\n").unwrap();
    }
    let pattern = format!("{}/*.txt", shards.display());
    let output = run(dask_count(&["--scheduler", address, "--data", &pattern])
        .arg("--out")
        .arg(&out));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let at = 20_000 - 3 * lines.len().div_ceil(5);
    let want = format!("{}:{at}:", shards.join("3.txt").display());
    assert!(stderr.contains(&want), "want {want} in: {stderr}");
    assert!(!out.exists(), "a failed job wrote its output");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "only bad.txt and shards/: {left:?}");
}

#[test]
fn a_small_file_in_more_pieces_than_lines_with_blank_and_repeated_pieces_counts_as_the_whole_on_stdout(
) {
    let dir = tempfile::tempdir().unwrap();
    // Cut into 8 byte ranges, 4 hold a name, 3 none and one only blank lines (bigram refuses
    // both alone: the driver leaves them out). Two pieces are "ann\n": other ranges of the
    // file, so the merge adds them.
    let small = write(&dir, "small.txt", "ann\nbob\nann\n\n\n\nann\n");
    let output = run(dask_count(&[
        "--scheduler",
        &cluster().address,
        "--pieces",
        "8",
        "--json",
        "--data",
    ])
    .arg(&small)
    .args(["--out", "-"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The checkpoint on stdout, so the report is stderr's last line.
    let report: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("no JSON report last on stderr ({e}): {stderr}"));
    assert_eq!(report["shards"], 4, "{report}");
    assert_eq!(report["empty"], 4, "{report}");
    let out = write(&dir, "small.safetensors", &output.stdout);
    let whole = dir.path().join("whole.safetensors");
    whole_count(&small, &whole);
    assert_same_counts(&out, &whole);
}

#[test]
fn a_billion_pieces_of_a_small_file_are_at_most_one_a_byte_and_count_as_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    // 20 lines of 2 bytes: a line starts at every even byte.
    let text: String = ('a'..='t').map(|c| format!("{c}\n")).collect();
    let small = write(&dir, "small.txt", &text);
    let out = dir.path().join("out.safetensors");
    let output = run(dask_count(&[
        "--scheduler",
        &cluster().address,
        "--pieces",
        "1000000000",
        "--json",
        "--data",
    ])
    .arg(&small)
    .arg("--out")
    .arg(&out));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report = json(&output);
    // 40 bytes, 40 shards of a byte: the 20 that hold a line start, and 20 that hold none.
    assert_eq!(
        (&report["shards"], &report["empty"]),
        (&20.into(), &20.into()),
        "{report}"
    );
    let whole = dir.path().join("whole.safetensors");
    whole_count(&small, &whole);
    assert_same_counts(&out, &whole);
}

#[test]
fn an_output_that_is_an_input_or_not_a_regular_file_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(&dir, "names.txt", "ann\nbob\n");
    let output = run(dask_count(&["--data"]).arg(&data).arg("--out").arg(&data));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is the input"), "{stderr}");
    assert_eq!(std::fs::read(&data).unwrap(), b"ann\nbob\n");

    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let output = run(dask_count(&["--data"]).arg(&data).arg("--out").arg(&fifo));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let kind = std::fs::metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
}

/// `bigram count ARGS --quiet --data DATA --out OUT`, which must succeed.
fn count_piece(data: &Path, args: &[&str], out: &Path) {
    ok_output(
        bigram()
            .args(["count", "--quiet"])
            .args(args)
            .arg("--data")
            .arg(data)
            .arg("--out")
            .arg(out),
    );
}

/// `bigram merge PIECES --out OUT`, which must succeed.
fn merge_pieces(pieces: &[PathBuf], out: &Path) {
    ok_output(
        bigram()
            .args(["merge", "--quiet"])
            .args(pieces)
            .arg("--out")
            .arg(out),
    );
}

#[test]
fn shards_and_ranges_cut_mid_line_merge_into_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.safetensors");
    whole_count(&names_txt(), &whole);
    let text = std::fs::read(names_txt()).unwrap();
    // 1001 and 100000 fall inside names; 150000 is a line start.
    for at in [1001, 100_000] {
        assert!(
            text[at - 1] != b'\n' && text[at] != b'\n',
            "{at} is mid-line"
        );
    }
    let cuts: [&[&str]; 2] = [
        &["--shard 1/3", "--shard 2/3", "--shard 3/3"],
        &[
            "--range 0:1001",
            "--range 1001:100000",
            "--range 100000:150000",
            "--range 150000:",
        ],
    ];
    for pieces in cuts {
        let mut outs = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let out = dir.path().join(format!("piece{i}.safetensors"));
            let args: Vec<&str> = piece.split(' ').collect();
            count_piece(&names_txt(), &args, &out);
            outs.push(out);
        }
        let merged = dir.path().join("merged.safetensors");
        merge_pieces(&outs, &merged);
        assert_same_counts(&merged, &whole);
    }
}

#[test]
fn overlapping_ranges_and_a_whole_file_with_its_range_are_refused_and_nothing_is_written() {
    let dir = dir_with(&[("a.txt", b"ann\nbob\ncy\ndee\n")]);
    let data = dir.path().join("a.txt");
    for (name, args) in [
        ("first.st", &["--range", "0:6"][..]),
        ("second.st", &["--range", "5:"]),
        ("rest.st", &["--range", "6:"]),
        ("whole.st", &[]),
    ] {
        count_piece(&data, args, &dir.path().join(name));
    }
    // 0..6 and 5.. share byte 5 (no line starts there, but the ranges overlap as asked).
    rejects(
        &dir,
        &["merge", "first.st", "second.st", "--out", "m.st"],
        &[
            "first.st and second.st both count overlapping data",
            "bytes 0..6",
            "bytes 5..15",
        ],
    );
    rejects(
        &dir,
        &["merge", "rest.st", "whole.st", "--out", "m.st"],
        &[
            "rest.st and whole.st both count overlapping data",
            "a.txt bytes 6..15",
        ],
    );
    rejects(
        &dir,
        &["merge", "first.st", "first.st", "--out", "m.st"],
        &["the same checkpoint"],
    );
    let merged = dir.path().join("m.st");
    merge_pieces(
        &[dir.path().join("first.st"), dir.path().join("rest.st")],
        &merged,
    );
    assert_same_counts(&merged, &dir.path().join("whole.st"));
}

#[test]
fn pieces_beyond_a_to_z_counted_with_a_given_vocabulary_merge_into_the_whole() {
    // 'é' and '-' only in the second half: each half alone finds other characters.
    let dir = dir_with(&[("a.txt", "ann\nbob\ncy\nzoé\nanne-marie\n".as_bytes())]);
    let data = dir.path().join("a.txt");
    let whole = dir.path().join("whole.st");
    count_piece(&data, &["--vocab", "auto"], &whole);
    let (first, second) = (dir.path().join("1.st"), dir.path().join("2.st"));
    for (piece, out) in [("1/2", &first), ("2/2", &second)] {
        count_piece(&data, &["--vocab", "auto", "--shard", piece], out);
    }
    rejects(
        &dir,
        &["merge", "1.st", "2.st", "--out", "m.st"],
        &["vocabular"],
    );
    let given = whole.to_str().unwrap();
    for (piece, out) in [("1/2", &first), ("2/2", &second)] {
        count_piece(&data, &["--vocab-from", given, "--shard", piece], out);
    }
    let merged = dir.path().join("m.st");
    merge_pieces(&[first, second], &merged);
    assert_same_counts(&merged, &whole);
}

#[test]
fn a_range_is_one_regular_file_and_its_errors_name_the_line_of_the_whole_file() {
    let dir = dir_with(&[("a.txt", b"ann\nbob\ncy\nDee\n"), ("b.txt", b"ann\n")]);
    let stderr = rejects(
        &dir,
        &[
            "count", "--shard", "2/2", "--data", "a.txt", "--out", "x.st",
        ],
        &["a.txt:4:"],
    );
    assert!(stderr.contains("'D'"), "{stderr}");
    rejects(
        &dir,
        &[
            "count", "--range", "0:", "--data", "a.txt", "b.txt", "--out", "x.st",
        ],
        &["one data file, not 2"],
    );
    let output = bigram()
        .args(["count", "--range", "0:3", "--data", "-", "--out", "x.st"])
        .current_dir(dir.path())
        .write_stdin("ann\n")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be read at an offset"), "{stderr}");
    assert!(!dir.path().join("x.st").exists());
}
