//! Nothing is lost: an output never replaces an input, a device, a fifo or another output of
//! the same command; results are checked before anything is saved; nothing is counted twice;
//! a failing stderr is no crash. Each test asserts the exit code, the message, and that every
//! file, node and input is as it was (bytes and file types, `common::snapshot`).

use crate::common::*;

use std::ffi::CString;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

const NAMES: &[u8] = b"emma\nolivia\nava\nisabella\nsophia\nmia\n";

/// `mknod` a character device with these numbers, or `None` (and a note) where this process
/// may not make one.
fn char_device(at: &Path, major: u32, minor: u32) -> Option<PathBuf> {
    let c = CString::new(at.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string and plain integers; mknod only creates a file system node.
    let rc = unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFCHR | 0o666,
            libc::makedev(major, minor),
        )
    };
    if rc != 0 {
        eprintln!(
            "skipped: cannot mknod {} ({})",
            at.display(),
            std::io::Error::last_os_error()
        );
        return None;
    }
    Some(at.to_path_buf())
}

fn fifo(at: &Path) -> PathBuf {
    let c = CString::new(at.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates a file system node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    at.to_path_buf()
}

#[test]
fn an_output_never_replaces_the_data_it_reads() {
    let dir = dir_with(&[("d.txt", NAMES), ("d.png", NAMES)]);
    std::os::unix::fs::symlink("d.txt", dir.path().join("link.txt")).unwrap();
    let train = ["train", "--epochs", "1", "--data", "d.txt"];
    for out in ["d.txt", "link.txt", "./d.txt"] {
        rejects(
            &dir,
            &[&train[..], &["--out", out]].concat(),
            &["d.txt", "which this command reads"],
        );
        rejects(
            &dir,
            &["count", "--data", "d.txt", "--out", out],
            &["d.txt", "would replace it"],
        );
    }
    let train_png = [
        "train", "--epochs", "1", "--data", "d.png", "--plot", "d.png",
    ];
    rejects(&dir, &train_png, &["--plot d.png"]);
    rejects(
        &dir,
        &["heatmap", "--data", "d.png", "--out", "d.png"],
        &["--out d.png"],
    );
    // Standard input redirected from the file is the file too.
    let output = bigram_process()
        .args(["count", "--data", "-", "--out", "d.txt"])
        .current_dir(dir.path())
        .stdin(std::fs::File::open(dir.path().join("d.txt")).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("standard input"));
    assert_eq!(std::fs::read(dir.path().join("d.txt")).unwrap(), NAMES);
}

#[test]
fn two_outputs_of_one_command_are_never_one_file() {
    let dir = dir_with(&[("d.txt", NAMES)]);
    let stderr = rejects(
        &dir,
        &[
            "train", "--epochs", "1", "--data", "d.txt", "--plot", "p.png", "--out", "p.png",
        ],
        &["--out and --plot both name p.png"],
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn merge_never_writes_over_one_of_its_pieces() {
    let dir = dir_with(&[("a.txt", b"emma\nava\n"), ("b.txt", b"mia\n")]);
    for piece in ["a", "b"] {
        let (data, out) = (format!("{piece}.txt"), format!("{piece}.safetensors"));
        count_at(dir.path(), &data, &out);
    }
    rejects(
        &dir,
        &[
            "merge",
            "a.safetensors",
            "b.safetensors",
            "--out",
            "a.safetensors",
        ],
        &["--out a.safetensors is a.safetensors"],
    );
}

#[test]
fn device_nodes_and_fifos_stay_what_they_are() {
    let dir = dir_with(&[("d.txt", NAMES)]);
    let pipe = fifo(&dir.path().join("pipe"));
    fifo(&dir.path().join("pipe.png"));
    let count = |out: &Path| -> std::process::Output {
        bigram()
            .args(["count", "--data", "d.txt", "--out"])
            .arg(out)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    rejects(
        &dir,
        &["count", "--data", "d.txt", "--out", "pipe"],
        &["pipe is a fifo"],
    );
    let plot = [
        "train", "--epochs", "1", "--data", "d.txt", "--plot", "pipe.png",
    ];
    rejects(&dir, &plot, &["pipe.png is a fifo"]);
    assert!(std::fs::metadata(&pipe).unwrap().file_type().is_fifo());

    // A null device made here (never the real /dev/null): "keep nothing", and it stays.
    let Some(null) = char_device(&dir.path().join("null"), 1, 3) else {
        return;
    };
    let before = snapshot(dir.path());
    let output = count(&null);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("kept nothing"));
    let meta = std::fs::metadata(&null).unwrap();
    assert!(meta.file_type().is_char_device(), "the node was replaced");
    assert_eq!((libc::major(meta.rdev()), libc::minor(meta.rdev())), (1, 3));
    assert_eq!(snapshot(dir.path()), before);

    // Any other device is refused, and stays the device it was.
    let zero = char_device(&dir.path().join("zero"), 1, 5).unwrap();
    rejects(
        &dir,
        &["count", "--data", "d.txt", "--out", "zero"],
        &["zero is a character device"],
    );
    let meta = std::fs::metadata(&zero).unwrap();
    assert_eq!((libc::major(meta.rdev()), libc::minor(meta.rdev())), (1, 5));
}

#[test]
fn nothing_is_saved_when_stdout_fails() {
    let dir = dir_with(&[("d.txt", NAMES), ("c.safetensors", b"the old one")]);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [
        vec!["count", "--data", "d.txt", "--out", "c.safetensors"],
        vec!["count", "--data", "d.txt", "--out", "new.safetensors"],
        vec![
            "train",
            "--epochs",
            "1",
            "--data",
            "d.txt",
            "--out",
            "c.safetensors",
        ],
        vec![
            "heatmap", "--data", "d.txt", "--out", "h.png", "--size", "400",
        ],
    ] {
        let before = snapshot(dir.path());
        let output = bigram_process()
            .args(&args)
            .current_dir(dir.path())
            .stdout(full())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was saved"), "{args:?}: {stderr}");
        assert_eq!(snapshot(dir.path()), before, "{args:?}");
    }
}

#[test]
fn a_closed_or_full_stderr_is_no_crash_and_keeps_the_exit_code() {
    let dir = dir_with(&[("d.txt", NAMES)]);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for (args, code) in [
        (
            vec![
                "train",
                "--epochs",
                "2",
                "--data",
                "d.txt",
                "--out",
                "t.safetensors",
            ],
            0,
        ),
        (
            vec!["count", "--data", "d.txt", "--out", "c.safetensors"],
            0,
        ),
        (vec!["count", "--data", "nothere.txt"], 2),
        (
            vec![
                "tune",
                "--smoothing",
                "0,1",
                "--data",
                "d.txt",
                "--split",
                "50/50/0",
            ],
            0,
        ),
        (
            vec![
                "heatmap", "--data", "d.txt", "--out", "h.png", "--size", "400",
            ],
            0,
        ),
    ] {
        // Full: writes fail with ENOSPC.
        let output = bigram_process()
            .args(&args)
            .current_dir(dir.path())
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?} with stderr full"
        );
        // Closed by its reader: writes fail with EPIPE.
        let mut child = bigram_process()
            .args(&args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        assert_eq!(
            child.wait().unwrap().code(),
            Some(code),
            "{args:?} with stderr closed"
        );
    }
}

#[test]
fn every_method_stops_a_diverging_run_and_names_the_knob() {
    let dir = dir_with(&[("d.txt", NAMES), ("model.safetensors", b"the old one")]);
    for method in ["onehot", "index", "counts"] {
        rejects(
            &dir,
            &[
                "train", "--data", "d.txt", "--method", method, "--lr", "1e6", "--epochs", "20",
            ],
            &[
                "diverged at epoch",
                "lower --lr (now 1000000)",
                "nothing was saved",
            ],
        );
        let stderr = rejects(
            &dir,
            &[
                "train", "--data", "d.txt", "--method", method, "--reg", "100", "--epochs", "20",
            ],
            &["diverged at epoch", "--reg (now 100)", "nothing was saved"],
        );
        assert!(!stderr.contains("lower --lr (now 50) and"), "{stderr}");
    }
    // tune says which value diverged and picks among the others.
    let output = ok_output(
        bigram()
            .args([
                "tune", "--reg", "0.01,100", "--data", "d.txt", "--split", "50/50/0", "--json",
            ])
            .current_dir(dir.path()),
    );
    let report = json(&output);
    assert_eq!(
        report["rows"][1]["diverged_at"].as_u64().map(|e| e <= 3),
        Some(true),
        "{report}"
    );
    assert_eq!(report["best"]["value"], 0.01);
}

/// `bigram ARGS` in `dir`, which must succeed.
fn succeeds(dir: &Path, args: &[&str]) {
    bigram().args(args).current_dir(dir).assert().success();
}

/// `bigram count --data DATA --out OUT` in `dir`, which must succeed.
fn count_at(dir: &Path, data: &str, out: &str) {
    succeeds(dir, &["count", "--data", data, "--out", out]);
}

#[test]
fn merge_counts_each_piece_once() {
    let dir = dir_with(&[("a.txt", b"emma\nava\n"), ("b.txt", b"mia\nzoe\n")]);
    bigram()
        .args(["count", "--data", "-", "--out", "s.safetensors"])
        .current_dir(dir.path())
        .write_stdin("ella\nlily\n")
        .assert()
        .success();
    count_at(dir.path(), "b.txt", "b.safetensors");
    succeeds(
        dir.path(),
        &[
            "merge",
            "s.safetensors",
            "b.safetensors",
            "--out",
            "m.safetensors",
        ],
    );
    // The stdin piece is inside m: adding it again would count it twice.
    rejects(
        &dir,
        &[
            "merge",
            "m.safetensors",
            "s.safetensors",
            "--out",
            "twice.safetensors",
        ],
        &["both count the same checkpoint"],
    );
    // One level deeper still.
    count_at(dir.path(), "a.txt", "a.safetensors");
    succeeds(
        dir.path(),
        &[
            "merge",
            "m.safetensors",
            "a.safetensors",
            "--out",
            "m2.safetensors",
        ],
    );
    rejects(
        &dir,
        &[
            "merge",
            "m2.safetensors",
            "b.safetensors",
            "--out",
            "x.safetensors",
        ],
        &["m2.safetensors and b.safetensors both count"],
    );
    // The same data counted from stdin and by path.
    bigram()
        .args(["count", "--data", "-", "--out", "a-stdin.safetensors"])
        .current_dir(dir.path())
        .write_stdin(std::fs::read(dir.path().join("a.txt")).unwrap())
        .assert()
        .success();
    rejects(
        &dir,
        &[
            "merge",
            "a.safetensors",
            "a-stdin.safetensors",
            "--out",
            "x.safetensors",
        ],
        &[
            "the same data (the data file",
            "and data read from standard input)",
        ],
    );
    // A data file given twice is refused as merge refuses it.
    rejects(
        &dir,
        &[
            "count",
            "--data",
            "a.txt",
            "./a.txt",
            "--out",
            "x.safetensors",
        ],
        &["a.txt again", "counted twice"],
    );
    rejects(
        &dir,
        &[
            "train",
            "--data",
            "a.txt",
            "a.txt",
            "--out",
            "x.safetensors",
        ],
        &["counted twice"],
    );
}

/// A count checkpoint's bytes with metadata `changes` applied and `counts` as N (W is
/// log(N + 1)), written raw so that the reader, not the writer, is what is tested.
fn doctored(changes: &[(&str, &str)], counts: &[i64]) -> Vec<u8> {
    use safetensors::tensor::{Dtype, TensorView};
    let mut meta: std::collections::HashMap<String, String> = [
        ("format", "bigram-checkpoint/1"),
        ("vocab", ".abcdefghijklmnopqrstuvwxyz"),
        ("order", "2"),
        ("kind", "counts"),
        ("smoothing", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in changes {
        match *v {
            "" => meta.remove(*k),
            v => meta.insert(k.to_string(), v.to_string()),
        };
    }
    let w: Vec<u8> = counts
        .iter()
        .flat_map(|&c| ((c as f64 + 1.0).ln() as f32).to_le_bytes())
        .collect();
    let n: Vec<u8> = counts.iter().flat_map(|c| c.to_le_bytes()).collect();
    let tensors = [
        ("W", TensorView::new(Dtype::F32, vec![27, 27], &w).unwrap()),
        ("N", TensorView::new(Dtype::I64, vec![27, 27], &n).unwrap()),
    ];
    safetensors::serialize(tensors, &Some(meta)).unwrap()
}

#[test]
fn merge_writes_only_what_can_be_read_back() {
    let mut one = vec![0i64; 729];
    one[1] = 5;
    one[27] = 5;
    let mut huge = vec![0i64; 729];
    huge[1] = 1 << 62;
    let all_huge = vec![1i64 << 62; 729];
    let dir = dir_with(&[
        ("ok.safetensors", &doctored(&[], &one)),
        ("minus.safetensors", &doctored(&[("smoothing", "-1")], &one)),
        ("nan.safetensors", &doctored(&[("smoothing", "NaN")], &one)),
        ("abc.safetensors", &doctored(&[("smoothing", "abc")], &one)),
        ("huge1.safetensors", &doctored(&[], &huge)),
        (
            "huge2.safetensors",
            &doctored(&[("lowercase", "false")], &huge),
        ),
        ("wraps.safetensors", &doctored(&[], &all_huge)),
        ("zero1.safetensors", &doctored(&[], &[0; 729])),
        (
            "zero2.safetensors",
            &doctored(&[("lowercase", "false")], &[0; 729]),
        ),
    ]);
    for (bad, needle) in [
        ("minus.safetensors", "\"smoothing\" is -1"),
        ("nan.safetensors", "\"smoothing\" is NaN"),
        ("abc.safetensors", "\"smoothing\" is \"abc\""),
        ("wraps.safetensors", "64-bit"),
    ] {
        rejects(
            &dir,
            &["merge", "ok.safetensors", bad, "--out", "m.safetensors"],
            &[bad, needle],
        );
    }
    rejects(
        &dir,
        &[
            "merge",
            "huge1.safetensors",
            "huge2.safetensors",
            "--out",
            "m.safetensors",
        ],
        &["overflow"],
    );
    rejects(
        &dir,
        &[
            "merge",
            "zero1.safetensors",
            "zero2.safetensors",
            "--out",
            "m.safetensors",
        ],
        &["every count is zero"],
    );
    let stderr = rejects(
        &dir,
        &[
            "train",
            "--counts",
            "zero1.safetensors",
            "--out",
            "t.safetensors",
        ],
        &["all zero"],
    );
    assert!(!stderr.contains("--lr"), "{stderr}");
}

#[test]
fn checkpoints_of_another_format_are_refused_everywhere() {
    let mut one = vec![0i64; 729];
    one[1] = 5;
    let dir = dir_with(&[
        (
            "v2.safetensors",
            &doctored(&[("format", "bigram-checkpoint/2")], &one),
        ),
        ("hello.safetensors", &doctored(&[("format", "hello")], &one)),
        ("none.safetensors", &doctored(&[("format", "")], &one)),
        ("d.txt", NAMES),
    ]);
    for (file, needle) in [
        ("v2.safetensors", "\"bigram-checkpoint/2\" is not"),
        ("hello.safetensors", "\"hello\" is not"),
        ("none.safetensors", "no \"format\""),
    ] {
        for args in [
            vec!["sample", "--model", file],
            vec!["eval", "--model", file, "--data", "d.txt"],
            vec!["score", "emma", "--model", file],
            vec!["heatmap", "--model", file, "--out", "h.png"],
            vec![
                "train",
                "--init",
                file,
                "--data",
                "d.txt",
                "--out",
                "t.safetensors",
            ],
            vec!["merge", file, file, "--out", "m.safetensors"],
        ] {
            rejects(&dir, &args, &[file, needle]);
        }
    }
}

#[test]
fn a_checkpoint_on_a_device_is_refused_at_once_and_one_from_a_fifo_is_read() {
    let dir = dir_with(&[("d.txt", NAMES)]);
    let started = std::time::Instant::now();
    for args in [
        vec!["sample", "--model", "/dev/zero"],
        vec!["train", "--init", "/dev/zero", "--data", "d.txt"],
    ] {
        rejects(&dir, &args, &["/dev/zero", "character device"]);
    }
    assert!(started.elapsed().as_secs() < 30, "a read waited");
    // A fifo is read as it comes (`--model <(ssh host cat m.safetensors)`).
    count_at(dir.path(), "d.txt", "c.safetensors");
    let bytes = std::fs::read(dir.path().join("c.safetensors")).unwrap();
    let pipe = fifo(&dir.path().join("pipe.safetensors"));
    let writer = std::thread::spawn(move || std::fs::write(pipe, bytes).unwrap());
    let from_fifo = ok_output(
        bigram()
            .args(["sample", "-n", "5", "--model", "pipe.safetensors"])
            .current_dir(dir.path()),
    );
    writer.join().unwrap();
    let from_file = ok_output(
        bigram()
            .args(["sample", "-n", "5", "--model", "c.safetensors"])
            .current_dir(dir.path()),
    );
    assert_eq!(from_fifo.stdout, from_file.stdout);
    // A fifo nobody writes to: one Ctrl-C ends the wait.
    let child = bigram_process()
        .args(["sample", "--model", "pipe.safetensors"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Loading libtorch takes a while on a busy machine: the wait begins once it can be ended.
    wait_until_catching(child.id(), libc::SIGINT);
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("interrupted while reading pipe.safetensors"),
        "{stderr}"
    );
}

#[test]
fn stdout_redirected_to_a_file_is_an_output_too() {
    let dir = dir_with(&[("d.txt", NAMES), ("log.txt", b"a log\n")]);
    let run = |args: &[&str], stdout: &str, append: bool| {
        let before = snapshot(dir.path());
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .open(dir.path().join(stdout))
            .unwrap();
        let output = bigram_process()
            .args(args)
            .current_dir(dir.path())
            .stdout(file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(snapshot(dir.path()), before, "{args:?}");
        stderr
    };
    // The data file appended to, through `-`.
    let stderr = run(&["count", "--data", "d.txt", "--out", "-"], "d.txt", true);
    assert!(stderr.contains("stdout goes to d.txt"), "{stderr}");
    // An output that is the file stdout goes to, however it is named.
    for out in ["/dev/stdout", "/proc/self/fd/1", "log.txt"] {
        let stderr = run(&["count", "--data", "d.txt", "--out", out], "log.txt", true);
        assert!(
            stderr.contains("is the file stdout goes to"),
            "{out}: {stderr}"
        );
    }
    std::fs::write(dir.path().join("log.png"), b"old").unwrap();
    let plot = [
        "train", "--epochs", "1", "--data", "d.txt", "--out", "-", "--plot", "log.png",
    ];
    let stderr = run(&plot, "log.png", true);
    assert!(
        stderr.contains("--plot log.png is the file stdout goes to"),
        "{stderr}"
    );
}

#[test]
fn paths_that_cannot_name_a_new_file_say_why() {
    let dir = dir_with(&[("d.txt", NAMES)]);
    std::os::unix::fs::symlink("loop.safetensors", dir.path().join("loop.safetensors")).unwrap();
    for (out, needle) in [
        ("newdir/", "is a directory"),
        ("d.txt/x.safetensors", "d.txt is a file, not a folder"),
        ("loop.safetensors", "a loop of symbolic links"),
    ] {
        rejects(&dir, &["count", "--data", "d.txt", "--out", out], &[needle]);
    }
}

#[test]
fn out_dash_writes_the_checkpoint_to_stdout_byte_for_byte() {
    let dir = dir_with(&[("d.txt", NAMES)]);
    let file = ok_output(
        bigram()
            .args(["count", "--data", "d.txt", "--out", "c.safetensors"])
            .current_dir(dir.path()),
    );
    assert!(String::from_utf8_lossy(&file.stdout).contains("saved c.safetensors"));
    let piped = ok_output(
        bigram()
            .args(["count", "--data", "d.txt", "--out", "-"])
            .current_dir(dir.path()),
    );
    let written = std::fs::read(dir.path().join("c.safetensors")).unwrap();
    assert_eq!(piped.stdout, written, "stdout holds exactly the checkpoint");
    // The report went to stderr.
    assert!(String::from_utf8_lossy(&piped.stderr).contains("wrote it to stdout"));
    // Python reads what came through the pipe.
    let script = "import sys\nfrom safetensors.torch import load\nt = load(sys.stdin.buffer.read())\nprint(int(t['N'].sum()))";
    let mut py = python_command()
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    py.stdin.take().unwrap().write_all(&piped.stdout).unwrap();
    let out = py.wait_with_output().unwrap();
    let total = NAMES.iter().filter(|&&b| b != b'\n').count() + 6;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        total.to_string()
    );
    // merge too; two outputs on stdout cannot both be had.
    let merged = ok_output(
        bigram()
            .args(["merge", "c.safetensors", "--out", "-"])
            .current_dir(dir.path()),
    );
    let back = bigram::model::Model::from_bytes(&merged.stdout).unwrap();
    let counted = bigram::model::Model::from_bytes(&written).unwrap();
    assert_eq!(
        back.counts, counted.counts,
        "the merge of one piece, through stdout"
    );
    rejects(
        &dir,
        &[
            "train", "--epochs", "1", "--data", "d.txt", "--out", "-", "--plot", "-",
        ],
        &["both name -"],
    );
    // Stdout on the null device (redirected there, or closed: Rust reopens it there) keeps
    // nothing, and the report says so rather than "wrote it to stdout".
    for stdout in [
        Stdio::null(),
        Stdio::from(std::fs::File::open("/dev/null").unwrap()),
    ] {
        let output = bigram_process()
            .args(["count", "--data", "d.txt", "--out", "-"])
            .current_dir(dir.path())
            .stdout(stdout)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.is_empty(), "{report}");
    }
    let closed = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} count --data d.txt --out - >&-",
            assert_cmd::cargo::cargo_bin("bigram").display()
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&closed.stderr);
    assert_eq!(closed.status.code(), Some(0), "{said}");
    assert!(said.contains("kept nothing (--out -)"), "{said}");
    // Asked for as JSON, the report comes on stderr even with --quiet.
    let quiet = ok_output(
        bigram()
            .args([
                "count", "--data", "d.txt", "--out", "-", "--json", "--quiet",
            ])
            .current_dir(dir.path()),
    );
    let report: serde_json::Value = serde_json::from_slice(&quiet.stderr).unwrap();
    assert_eq!(report["out"], "-");
    // A reader that goes away loses the checkpoint: that is a failure, not a quiet end.
    let mut child = bigram_process()
        .args(["count", "--data", "d.txt", "--out", "-"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write stdout"), "{stderr}");
    assert!(!stderr.contains("wrote it to stdout"), "{stderr}");
}

#[test]
fn small_things_said_plainly() {
    let dir = dir_with(&[
        ("d.txt", NAMES),
        ("nul.txt", b"emma\nav\x00a\n"),
        ("esc.txt", b"emma\n\x1b[31mava\n"),
        ("cr.txt", b"emma\rava\rmia\r"),
    ]);
    for (file, needle) in [
        ("nul.txt", "U+0000"),
        ("esc.txt", "U+001B"),
        ("cr.txt", "carriage return"),
    ] {
        for vocab in ["letters", "auto"] {
            let stderr = rejects(
                &dir,
                &["count", "--data", file, "--vocab", vocab],
                &[file, needle],
            );
            assert!(!stderr.contains("--vocab auto"), "{stderr}");
            assert!(
                !stderr.contains('\x1b') && !stderr.contains('\0'),
                "raw bytes: {stderr:?}"
            );
        }
    }
    let many: String = (0..300u32)
        .map(|i| char::from_u32(0x4e00 + i).unwrap().to_string() + "\n")
        .collect();
    write(&dir, "many.txt", many);
    rejects(
        &dir,
        &["count", "--data", "many.txt", "--vocab", "auto"],
        &["many.txt has 301 distinct characters", "255"],
    );
    count_at(dir.path(), "d.txt", "c.safetensors");
    rejects(&dir, &["score", "", "--model", "c.safetensors"], &["empty"]);
    rejects(&dir, &["parity", "--data", "-"], &["a file"]);
    let tiny = ok_output(
        bigram()
            .args([
                "count",
                "--data",
                "d.txt",
                "--smoothing",
                "1e-320",
                "--out",
                "t.safetensors",
            ])
            .current_dir(dir.path()),
    );
    let text = String::from_utf8_lossy(&tiny.stdout);
    assert!(text.contains("smoothing 1e-320"), "{text}");
}

/// A folder with data, a count model of it, and other names of both: a hard link and a
/// symbolic link to each.
fn data_and_model() -> tempfile::TempDir {
    let dir = dir_with(&[("d.txt", NAMES), ("f", b"earlier notes\n")]);
    count_at(dir.path(), "d.txt", "m.safetensors");
    for (file, hard, soft) in [
        ("d.txt", "hard.txt", "link.txt"),
        ("m.safetensors", "hard.safetensors", "link.safetensors"),
    ] {
        std::fs::hard_link(dir.path().join(file), dir.path().join(hard)).unwrap();
        std::os::unix::fs::symlink(file, dir.path().join(soft)).unwrap();
    }
    dir
}

/// `line` (a shell command line) in `dir` exits 2, says every `needle` on stderr, and leaves
/// every file as it was.
#[track_caller]
fn refused_in_shell(dir: &Path, line: &str, needles: &[&str]) {
    let before = snapshot(dir);
    let run = shell(dir, line);
    assert_eq!(run.code, Some(2), "{line}: {}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{line}: {needle:?} not in {}",
            run.stderr
        );
    }
    assert_eq!(snapshot(dir), before, "{line} changed files");
}

#[test]
fn stdout_and_stderr_never_write_onto_what_a_command_reads() {
    let dir = data_and_model();
    let stdout_on_input = "which this command reads";
    for line in [
        "$BIGRAM sample --model m.safetensors >> m.safetensors",
        "$BIGRAM sample --model ./m.safetensors 1<> hard.safetensors",
        "$BIGRAM sample --novel --model m.safetensors --data d.txt >> link.txt",
        "$BIGRAM score emma --model m.safetensors >> m.safetensors",
        "$BIGRAM score emma --model link.safetensors 1<> hard.safetensors",
        "$BIGRAM score --model m.safetensors < d.txt >> hard.txt",
        "$BIGRAM eval --model m.safetensors --data d.txt >> d.txt",
        "$BIGRAM eval --model m.safetensors --data ./d.txt >> m.safetensors",
        "$BIGRAM tune --smoothing 0,1 --data d.txt >> d.txt",
        "$BIGRAM tune --smoothing 0,1 --data - < d.txt 1<> link.txt",
        "$BIGRAM notebook --data d.txt >> d.txt",
        "$BIGRAM notebook --data link.txt >> hard.txt",
        "$BIGRAM parity --data d.txt >> d.txt",
        "$BIGRAM parity --data d.txt --python /bin/sh >> ./d.txt",
        "$BIGRAM heatmap --model m.safetensors --out h.png >> m.safetensors",
        "$BIGRAM merge m.safetensors --out - >> hard.safetensors",
    ] {
        refused_in_shell(dir.path(), line, &["stdout goes to", stdout_on_input]);
    }
    // Stderr on an input: refused, and not even the message is written there.
    for line in [
        "$BIGRAM sample --model m.safetensors 2>> m.safetensors",
        "$BIGRAM eval --model m.safetensors --data d.txt 2>> hard.txt",
        "$BIGRAM count --data d.txt --out c.safetensors 2>> link.txt",
    ] {
        refused_in_shell(dir.path(), line, &[]);
    }
    // Not an input: the same commands run.
    let run = shell(dir.path(), "$BIGRAM sample --model m.safetensors -n 3 >> f");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let notes = std::fs::read_to_string(dir.path().join("f")).unwrap();
    assert_eq!(notes.lines().count(), 4, "{notes}");
}

#[test]
fn standard_input_is_the_file_it_was_redirected_from() {
    let dir = data_and_model();
    for line in [
        "$BIGRAM count --data d.txt - --out c.safetensors < d.txt",
        "$BIGRAM count --data - ./d.txt --out c.safetensors < hard.txt",
        "$BIGRAM train --epochs 1 --data d.txt - --out c.safetensors < link.txt",
        "$BIGRAM eval --model m.safetensors --data link.txt - < d.txt",
        "$BIGRAM tune --smoothing 0,1 --data hard.txt - < d.txt",
        "$BIGRAM count --data /dev/stdin - --out c.safetensors < d.txt",
    ] {
        refused_in_shell(dir.path(), line, &["(standard input)", "counted twice"]);
    }
    // Another file on stdin is data of its own.
    std::fs::write(dir.path().join("e.txt"), b"zoe\nmia\n").unwrap();
    let run = shell(
        dir.path(),
        "$BIGRAM count --data d.txt - --out c.safetensors < e.txt",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn an_output_is_never_the_file_stderr_goes_to() {
    let dir = data_and_model();
    for (line, log) in [
        ("$BIGRAM count --data d.txt --out /dev/stderr 2> f", "f"),
        (
            "$BIGRAM count --data d.txt --out /proc/self/fd/2 2>> f",
            "f",
        ),
        ("$BIGRAM count --data d.txt --out f 2>> f", "f"),
        ("$BIGRAM merge m.safetensors --out ./f 2>> f", "f"),
        ("$BIGRAM heatmap --data d.txt --out p.png 2> p.png", "p.png"),
    ] {
        let before = snapshot(dir.path());
        let run = shell(dir.path(), line);
        assert_eq!(run.code, Some(2), "{line}");
        // The report's file keeps what the shell and bigram wrote there: the refusal.
        let written = std::fs::read_to_string(dir.path().join(log)).unwrap();
        assert!(
            written.contains("is the file stderr goes to"),
            "{line}: {written}"
        );
        std::fs::write(dir.path().join("f"), b"earlier notes\n").unwrap();
        let _ = std::fs::remove_file(dir.path().join("p.png"));
        assert_eq!(snapshot(dir.path()), before, "{line} changed files");
    }
}

/// The pids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1);
        if ppid == Some(parent.to_string().as_str()) {
            found.extend(
                head.split_whitespace()
                    .next()
                    .and_then(|p| p.parse::<u32>().ok()),
            );
        }
    }
    found
}

#[test]
fn a_signal_to_parity_alone_ends_its_reference_at_once_and_leaves_no_child() {
    use std::os::unix::process::CommandExt;
    let names = names_txt();
    // SIGTERM (`timeout`, systemd, a CI runner), SIGINT sent to bigram alone, and SIGKILL,
    // which bigram cannot act on: the kernel ends the child.
    for (signal, code) in [
        (libc::SIGTERM, Some(143)),
        (libc::SIGINT, Some(130)),
        (libc::SIGKILL, None),
    ] {
        let child = bigram_process()
            .args(["parity", "--epochs", "3000", "--python"])
            .arg(python())
            .arg("--data")
            .arg(&names)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id();
        let waited = std::time::Instant::now();
        while children_of(pid).is_empty() {
            assert!(waited.elapsed().as_secs() < 60, "no reference started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // Python is importing torch or training: either way far from done at 3000 epochs.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let sent = std::time::Instant::now();
        // SAFETY: signalling our own child, bigram alone (not its group).
        unsafe { libc::kill(pid as i32, signal) };
        let output = child.wait_with_output().unwrap();
        let took = sent.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("signal {signal}: bigram ended {took:?} after it");
        assert_eq!(output.status.code(), code, "signal {signal}: {stderr}");
        assert!(took.as_secs() < 5, "signal {signal}: {took:?}: {stderr}");
        if code.is_some() {
            assert!(stderr.contains("PyTorch reference"), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
        assert_no_process_in_group(pid, &format!("parity, signal {signal}"));
    }
}

/// `line` under `ulimit -v KIB` in `dir`: exit 2, every `needle` said, no panic and no
/// aborted allocation (`shell`), and the folder's files as they were.
#[track_caller]
fn refused_under_cap(dir: &Path, kib: u64, line: &str, needles: &[&str]) {
    refused_in_shell(dir, &format!("ulimit -v {kib}; {line}"), needles);
}

#[test]
fn memory_that_grows_with_the_data_is_refused_before_it_is_taken() {
    let dir = data_and_model();
    // Large inputs sit in a folder of their own, which snapshots show as a folder unread.
    let big = dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    // 500 MB that take no disk, all NUL bytes: read, they would be refused as text, so a
    // refusal for memory proves it came from the size alone, before any reading.
    let sparse = std::fs::File::create(big.join("500mb.txt")).unwrap();
    sparse.set_len(500 << 20).unwrap();
    // 25 MB of names, made here.
    std::fs::write(big.join("names.txt"), "emma\n".repeat(5_000_000)).unwrap();
    // "would take about" for tensors, "outgrew" for a list growing from a stream.
    let tensors = ["this process", "--method counts", "bigram train --counts"];
    for line in [
        "$BIGRAM train --data big/500mb.txt --out w.safetensors",
        "$BIGRAM train --method index --data big/500mb.txt --out w.safetensors",
        "$BIGRAM train --method onehot --data big/names.txt --out w.safetensors",
        "$BIGRAM train --method index --data big/names.txt big/500mb.txt --out w.safetensors",
        "yes emma | $BIGRAM train --data - --out w.safetensors",
        "$BIGRAM tune --method onehot --reg 0.1,1 --data big/names.txt",
    ] {
        refused_under_cap(dir.path(), 1_000_000, line, &tensors);
    }
    // Refused from a file's size ("would take about"), or as a stream grows ("outgrew").
    let names = [
        "the names kept in memory",
        "this process",
        "smaller data file",
    ];
    for line in [
        "$BIGRAM score emma --model m.safetensors --data big/names.txt",
        "$BIGRAM sample --novel --model m.safetensors --data big/names.txt",
        "$BIGRAM sample --json --model m.safetensors --data - < big/names.txt",
    ] {
        refused_under_cap(dir.path(), 1_000_000, line, &names);
    }
    // A split keeps the names (a smaller cap: the count model's memory is flat besides).
    refused_under_cap(
        dir.path(),
        700_000,
        "$BIGRAM count --split 80/10/10 --data big/names.txt --out c.safetensors",
        &names,
    );
    refused_under_cap(
        dir.path(),
        1_000_000,
        "$BIGRAM notebook --data big/names.txt",
        &["the notebook replay's examples", "fewer names"],
    );
    // What grows with a flag, not the data: a picture's pixels, and the names --novel keeps so
    // that none comes twice (a high temperature makes nearly every draw new).
    refused_under_cap(
        dir.path(),
        700_000,
        "$BIGRAM heatmap --data d.txt --size 8000 --out h.png",
        &[
            "the heatmap's pixels",
            "left to this process",
            "smaller --size",
        ],
    );
    refused_under_cap(
        dir.path(),
        650_000,
        "$BIGRAM sample --model m.safetensors --novel --data d.txt --fast --temperature 1000 \
         --max-attempts 18446744073709551615 -n 100000000 > /dev/null",
        &["the names drawn", "outgrew", "fewer names (-n)"],
    );
    // The advice works under the same cap: memory independent of the data.
    for line in [
        "$BIGRAM train --method counts --data big/names.txt --out w.safetensors",
        "$BIGRAM count --data big/names.txt --out c.safetensors && $BIGRAM train --counts c.safetensors --out w.safetensors",
    ] {
        let run = shell(dir.path(), &format!("ulimit -v 1000000; {line}"));
        assert_eq!(run.code, Some(0), "{line}: {}", run.stderr);
    }
}

/// A list of names kept while reading grows by doubling: under any cap it either fits or is
/// refused with 2, never an aborted allocation (`shell` checks that). The caps cross the
/// line between the two here; memory that no check saw (glibc's per-thread arenas, a list's
/// doubling undercounted) made some of them abort.
#[test]
fn a_list_that_grows_is_refused_or_fits_under_every_cap() {
    let dir = data_and_model();
    std::fs::write(dir.path().join("emma.txt"), "emma\n".repeat(2_000_000)).unwrap();
    let mut codes = std::collections::BTreeSet::new();
    for kib in (500_000..=800_000).step_by(25_000) {
        let line = format!(
            "ulimit -v {kib}; $BIGRAM count --split 80/10/10 --data emma.txt --out c.safetensors"
        );
        let run = shell(dir.path(), &line);
        assert!(matches!(run.code, Some(0 | 2)), "{line}: {}", run.stderr);
        if run.code == Some(2) {
            assert!(
                run.stderr.contains("the names kept in memory"),
                "{}",
                run.stderr
            );
        }
        codes.insert(run.code);
    }
    // The caps must cross the line, or the test proves nothing about the checks.
    assert_eq!(codes, [Some(0), Some(2)].into(), "exit codes seen");
}

#[test]
fn threads_that_cannot_start_are_refused_with_one_line() {
    let dir = data_and_model();
    for line in [
        "$BIGRAM count --threads 1024 --data d.txt --out c.safetensors",
        "cat d.txt | $BIGRAM count --threads 1024 --data - --out c.safetensors",
        "$BIGRAM train --threads 1024 --epochs 1 --data d.txt --out c.safetensors",
        "$BIGRAM sample --threads 1024 --model m.safetensors",
    ] {
        refused_under_cap(
            dir.path(),
            3_000_000,
            line,
            &["the stacks of 1024 threads", "fewer --threads"],
        );
    }
    let run = shell(
        dir.path(),
        "ulimit -v 3000000; cat d.txt | $BIGRAM count --threads 2 --data - --out c.safetensors",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn threads_that_cannot_start_fall_back_and_give_the_same_bytes() {
    let dir = data_and_model();
    // Every thread bigram starts asks for an 8 GiB stack (RUST_MIN_STACK), which `ulimit -v`
    // cannot map: the counting threads, the checksum thread and the stdin reader all fail to
    // start. `ulimit -s 1024` keeps libtorch's 1024 thread stacks within the cap, so that
    // --threads 1024 is not refused before any of them is tried.
    let cap = "ulimit -s 1024; ulimit -v 5000000; export RUST_MIN_STACK=8589934592;";
    for (line, out) in [
        (
            "$BIGRAM count --threads 1024 --data d.txt --out OUT",
            "c.safetensors",
        ),
        (
            "cat d.txt | $BIGRAM count --threads 1024 --data - --out OUT",
            "s.safetensors",
        ),
        (
            "cat d.txt | $BIGRAM score --threads 1024 --model m.safetensors > OUT",
            "scores.txt",
        ),
    ] {
        let free = shell(dir.path(), &line.replace("OUT", &format!("free-{out}")));
        assert_eq!(free.code, Some(0), "{line}: {}", free.stderr);
        let capped = shell(dir.path(), &format!("{cap} {}", line.replace("OUT", out)));
        assert_eq!(capped.code, Some(0), "{line}: {}", capped.stderr);
        let bytes = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        assert!(bytes(out) == bytes(&format!("free-{out}")), "{line}");
    }
}

/// A checkpoint's bytes with its metadata, W and N (when it has one) changed by `edit`, written
/// raw so that the reader, not the writer, is what is tested.
fn rewritten(
    bytes: &[u8],
    edit: impl FnOnce(&mut std::collections::HashMap<String, String>, &mut [f32], &mut [i64]),
) -> Vec<u8> {
    use safetensors::tensor::{Dtype, SafeTensors, TensorView};
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap_or_default();
    let tensors = SafeTensors::deserialize(bytes).unwrap();
    let w_view = tensors.tensor("W").unwrap();
    let shape = w_view.shape().to_vec();
    let mut w: Vec<f32> = w_view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let mut n: Vec<i64> = tensors.tensor("N").map_or(Vec::new(), |v| {
        v.data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect()
    });
    edit(&mut meta, &mut w, &mut n);
    let w: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
    let n: Vec<u8> = n.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut views = vec![("W", TensorView::new(Dtype::F32, shape.clone(), &w).unwrap())];
    if !n.is_empty() {
        views.push(("N", TensorView::new(Dtype::I64, shape, &n).unwrap()));
    }
    safetensors::serialize(views, &Some(meta)).unwrap()
}

#[test]
fn checkpoints_that_would_print_other_names_than_they_say_are_refused_on_reading() {
    let dir = data_and_model();
    succeeds(
        dir.path(),
        &[
            "train",
            "--epochs",
            "2",
            "--data",
            "d.txt",
            "--out",
            "net.safetensors",
        ],
    );
    let net = std::fs::read(dir.path().join("net.safetensors")).unwrap();
    let counts = std::fs::read(dir.path().join("m.safetensors")).unwrap();
    let width = 27;
    // '.' at -inf after every context: no name could ever end.
    let never_ends = rewritten(&net, |_, w, _| {
        w.iter_mut()
            .step_by(width)
            .for_each(|v| *v = f32::NEG_INFINITY)
    });
    write(&dir, "never-ends.safetensors", never_ends);
    // The same but one context that can end: a model that can end its names is read.
    let ends_once = rewritten(&net, |_, w, _| {
        w.iter_mut()
            .skip(width)
            .step_by(width)
            .for_each(|v| *v = f32::NEG_INFINITY)
    });
    write(&dir, "ends-once.safetensors", ends_once);
    // A newline (or another control character) in the vocabulary.
    for (file, symbol) in [("newline", "\n"), ("tab", "\t")] {
        let bad = rewritten(&net, |meta, _, _| {
            let vocab = meta["vocab"].replacen('z', symbol, 1);
            meta.insert("vocab".into(), vocab);
        });
        write(&dir, &format!("{file}.safetensors"), bad);
    }
    // A count model whose W says other counts than its N (eval reads W; merge reads N).
    let disagrees = rewritten(&counts, |_, _, n| n[1] += 1000);
    write(&dir, "disagrees.safetensors", disagrees);
    let w_moved = rewritten(&counts, |_, w, _| w[28] += 0.5);
    write(&dir, "w-moved.safetensors", w_moved);
    // A smoothing so large that log(N + smoothing) is inf in float32: no finite W agrees.
    let w_huge_smoothing = rewritten(&counts, |meta, _, _| {
        meta.insert("smoothing".into(), "1e300".into());
    });
    write(&dir, "w-huge-smoothing.safetensors", w_huge_smoothing);
    // The other way round: a stored -inf where N has counts (log(N + 1) is finite).
    let w_minus_inf = rewritten(&counts, |_, w, _| w[28] = f32::NEG_INFINITY);
    write(&dir, "w-minus-inf.safetensors", w_minus_inf);
    for (file, needle) in [
        ("never-ends.safetensors", "no name could ever end"),
        ("newline.safetensors", "control character '\\n'"),
        ("tab.safetensors", "control character '\\t'"),
        ("disagrees.safetensors", "W disagrees with N"),
        ("w-moved.safetensors", "W disagrees with N"),
        ("w-huge-smoothing.safetensors", "W disagrees with N"),
        ("w-minus-inf.safetensors", "W disagrees with N"),
    ] {
        rejects(
            &dir,
            &["sample", "--fast", "--model", file],
            &[file, needle],
        );
        rejects(
            &dir,
            &["eval", "--model", file, "--data", "d.txt"],
            &[needle],
        );
        if file.starts_with('d') || file.starts_with('w') {
            rejects(&dir, &["merge", file, "--out", "x.safetensors"], &[needle]);
            rejects(
                &dir,
                &["train", "--counts", file, "--out", "x.safetensors"],
                &[needle],
            );
        }
    }
    let run = shell(
        dir.path(),
        "$BIGRAM sample -n 3 --model ends-once.safetensors",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // --max-len is capped where a name stays a few megabytes.
    for max_len in ["1000001", "18446744073709551615"] {
        for command in ["sample", "parity"] {
            rejects(
                &dir,
                &[command, "--max-len", max_len],
                &["--max-len", "1000000"],
            );
        }
    }
    let run = shell(
        dir.path(),
        "$BIGRAM sample --fast -n 1 --max-len 1000000 --model m.safetensors >/dev/null",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn small_exits_are_consistent() {
    let dir = data_and_model();
    // Help that cannot be written fails like any other output.
    for line in [
        "$BIGRAM --help > /dev/full",
        "$BIGRAM sample --help > /dev/full",
    ] {
        let run = shell(dir.path(), line);
        assert_eq!(run.code, Some(1), "{line}: {}", run.stderr);
        assert!(
            run.stderr.contains("No space left"),
            "{line}: {}",
            run.stderr
        );
    }
    let run = shell(dir.path(), "$BIGRAM --help | head -c 1 >/dev/null");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Nothing on stdin to score is bad input, as an empty data file is for eval and count.
    for line in [
        "$BIGRAM score --model m.safetensors < /dev/null",
        "printf '\\n  \\n' | $BIGRAM score --model m.safetensors --data d.txt",
        "$BIGRAM eval --model m.safetensors --data - < /dev/null",
        "$BIGRAM count --data - --out c.safetensors < /dev/null",
    ] {
        refused_in_shell(dir.path(), line, &["has no names"]);
    }
}

#[test]
fn a_running_total_merged_one_piece_at_a_time_stays_readable() {
    use bigram::data::Counts;
    use bigram::merge::merge;
    use bigram::model::Model;
    let dir = tempfile::tempdir().unwrap();
    let vocab = bigram::vocab::Vocab::letters();
    // Pieces of different counts (so different checksums), saved as `bigram count` saves.
    let piece = |k: u64| {
        let mut counts = Counts::new(27, 2);
        counts.cells[1] = k + 1;
        counts.cells[27] = 1;
        let mut model = Model::from_counts(&counts, &vocab, 2, 1.0);
        model.meta.smoothing = Some(1.0);
        let path = dir.path().join(format!("piece-{k}.safetensors"));
        model.save(&path).unwrap();
        path
    };
    let read = |path: &Path| {
        let never = bigram::cancel::Cancel::never();
        bigram::checkpoint::read(path, &never).unwrap().model
    };
    // 70 merges (what `bigram merge` runs), each of the running total and one new piece, each
    // written and read back: provenance nested one level per merge made the 63rd unreadable.
    let mut total = piece(0);
    for k in 1..=70 {
        let never = bigram::cancel::Cancel::never();
        let merged = merge(&[total.clone(), piece(k)], None, 1, &never).unwrap();
        total = dir.path().join(format!("total-{k}.safetensors"));
        merged.save(&total).unwrap();
    }
    let sources = read(&total).meta.sources.unwrap();
    assert_eq!(sources.len(), 71, "every leaf piece, once");
    assert!(sources.iter().all(|s| s.sources.is_empty()), "flat");
    // Through the binary, as a user goes on: one more merge, then every command reads it.
    piece(71);
    let merged = "$BIGRAM merge total-70.safetensors piece-71.safetensors --out final.safetensors";
    let run = shell(dir.path(), merged);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let n = read(&dir.path().join("final.safetensors")).counts.unwrap();
    // Nothing lost or doubled: a->. is 1 + 2 + ... + 72, .->a once per piece.
    assert_eq!(
        (n.cells[1], n.cells[27], n.total()),
        (72 * 73 / 2, 72, 72 * 75 / 2)
    );
    std::fs::write(dir.path().join("d.txt"), "a\naa\n").unwrap();
    for line in [
        "$BIGRAM sample -n 2 --model final.safetensors",
        "$BIGRAM score a --model final.safetensors",
        "$BIGRAM eval --model final.safetensors --data d.txt",
        "$BIGRAM heatmap --model final.safetensors --out h.png",
        "$BIGRAM train --counts final.safetensors --epochs 1 --out net.safetensors",
    ] {
        let run = shell(dir.path(), line);
        assert_eq!(run.code, Some(0), "{line}: {}", run.stderr);
    }
    // A leaf counted again, however many merges ago, is still refused, and so is a total
    // merged with an earlier total of its own chain.
    for again in ["piece-5.safetensors", "total-9.safetensors"] {
        refused_in_shell(
            dir.path(),
            &format!("$BIGRAM merge final.safetensors {again} --out again.safetensors"),
            &["the same checkpoint", again],
        );
    }
}

#[test]
fn a_bad_metadata_value_is_quoted_short() {
    let dir = data_and_model();
    let counts = std::fs::read(dir.path().join("m.safetensors")).unwrap();
    // 300 KB values: a number that is not one, a vocabulary that does not start with '.', and
    // provenance that is not the JSON expected.
    for (key, value) in [
        ("smoothing", "7".repeat(300_000) + "x"),
        ("vocab", "a".repeat(300_000)),
        ("sources", "[".repeat(300_000)),
    ] {
        let long = rewritten(&counts, |meta, _, _| {
            meta.insert(key.into(), value);
        });
        write(&dir, "long.safetensors", long);
        for line in [
            "$BIGRAM sample --model long.safetensors",
            "$BIGRAM merge m.safetensors long.safetensors --out t.safetensors",
        ] {
            let before = snapshot(dir.path());
            let run = shell(dir.path(), line);
            let (code, stderr) = (run.code, run.stderr);
            let start: String = stderr.chars().take(1000).collect();
            assert_eq!(code, Some(2), "{line}: {start}");
            assert!(stderr.len() < 600, "{key}: {} bytes: {start}", stderr.len());
            assert!(stderr.contains("long.safetensors"), "{key}: {stderr}");
            assert_eq!(snapshot(dir.path()), before, "{line} changed files");
        }
    }
}
