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
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("interrupted while reading checkpoint pipe.safetensors"),
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
