//! `--tensorboard DIR` read back by TensorBoard itself: its event reader (EventAccumulator) and
//! its server's HTTP API see every epoch's `Loss/train` and `Loss/test`; bad folders are refused
//! before any work, and a run that fails leaves no log behind.

use crate::common::*;

use bigram::tensorboard::EventLog;
use bigram::train::Epoch;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Every scalar under `logdir`, per run (folder) and tag, as TensorBoard's own reader sees it:
/// `{run: {tag: [[step, value], ...]}}`.
fn scalars(logdir: &Path) -> serde_json::Value {
    let script = "import json, sys\n\
                  from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer\n\
                  m = EventMultiplexer(size_guidance={'scalars': 0})\n\
                  m.AddRunsFromDirectory(sys.argv[1]); m.Reload()\n\
                  print(json.dumps({run: {tag: [[e.step, e.value] for e in m.Scalars(run, tag)]\n\
                  \x20   for tag in tags['scalars']} for run, tags in m.Runs().items()}))\n";
    let output = python_command()
        .args(["-c", script])
        .arg(logdir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "TensorBoard's reader failed (scripts/setup.sh installs tensorboard into the shared \
         venv): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn steps(points: &serde_json::Value) -> Vec<u64> {
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_u64().unwrap())
        .collect()
}

/// A TensorBoard server on 127.0.0.1, stopped (and waited for) when dropped.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(logdir: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = python_command()
        .args([
            "-m",
            "tensorboard.main",
            "--host",
            "127.0.0.1",
            "--load_fast=false",
        ])
        .arg("--port")
        .arg(port.to_string())
        .arg("--logdir")
        .arg(logdir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server(child, port)
}

/// GET `path` from the server: the body of a 200 answer, or None (not up yet, or not found).
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?;
    (status == "200").then(|| body.to_string())
}

#[test]
fn train_logs_each_epochs_loss_and_dev_nll_as_tensorboard_reads_and_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("runs/first");
    let output = ok_output(
        bigram()
            .args(["train", "--epochs", "7", "--split", "80/10/10", "--json"])
            .args([
                "--data",
                names_txt().to_str().unwrap(),
                "--threads",
                &threads_arg(),
                "--out",
                dir.path().join("m.safetensors").to_str().unwrap(),
                "--tensorboard",
                logdir.to_str().unwrap(),
            ]),
    );
    let report = json(&output);
    let read = scalars(&logdir);
    let run = &read["."];
    assert_eq!(
        steps(&run["Loss/train"]),
        (1..=7).collect::<Vec<_>>(),
        "{read}"
    );
    assert_eq!(
        steps(&run["Loss/test"]),
        (1..=7).collect::<Vec<_>>(),
        "{read}"
    );
    // The last epoch's loss as train reports it, as float32 (TensorBoard's scalars are).
    let last = run["Loss/train"][6][1].as_f64().unwrap();
    assert_eq!(last, report["loss"].as_f64().unwrap() as f32 as f64);
    // The report names the event file, which is in the folder asked for.
    let file = Path::new(report["tensorboard"].as_str().unwrap());
    assert_eq!(file.parent(), Some(logdir.as_path()));

    // TensorBoard's server shows the same points through its HTTP API.
    let server = serve(dir.path().join("runs").as_path());
    let path = "/data/plugin/scalars/scalars?run=first&tag=Loss%2Ftrain";
    let deadline = Instant::now() + Duration::from_secs(90);
    let served = loop {
        if let Some(body) = get(server.1, path) {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "TensorBoard did not serve {path}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    drop(server);
    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    let served: Vec<(u64, f64)> = served
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[1].as_u64().unwrap(), p[2].as_f64().unwrap()))
        .collect();
    let read: Vec<(u64, f64)> = run["Loss/train"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    assert_eq!(served, read);
}

#[test]
fn tune_logs_each_value_in_its_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = names_txt();
    let data = data.to_str().unwrap();
    let logdir = dir.path().join("tb");
    let tb = logdir.to_str().unwrap();
    ok_output(bigram().args([
        "tune",
        "--reg",
        "0.01,1",
        "--epochs",
        "4",
        "--quiet",
        "--data",
        data,
        "--tensorboard",
        tb,
    ]));
    ok_output(bigram().args([
        "tune",
        "--smoothing",
        "0.5,2",
        "--quiet",
        "--data",
        data,
        "--tensorboard",
        tb,
    ]));
    let read = scalars(&logdir);
    for run in ["reg=0.01", "reg=1"] {
        assert_eq!(steps(&read[run]["Loss/train"]), [1, 2, 3, 4], "{read}");
        assert_eq!(steps(&read[run]["Loss/test"]), [1, 2, 3, 4], "{read}");
    }
    for run in ["smoothing=0.5", "smoothing=2"] {
        assert_eq!(steps(&read[run]["Loss/test"]), [0], "{read}");
    }
}

#[test]
fn a_tensorboard_folder_that_is_a_file_or_an_input_is_refused_before_any_work() {
    let dir = dir_with(&[("names.txt", b"emma\nava\n"), ("notes", b"mine\n")]);
    // The last, a folder that cannot be made there (a read-only place; /proc refuses even
    // root), is the caller's path, refused with 2 as --out's would be, once the data is read.
    let proc_runs = "cannot start a TensorBoard log in /proc/bigram-runs";
    for (folder, needle) in [
        ("notes", "--tensorboard"),
        ("names.txt", "--tensorboard"),
        ("notes/runs", "--tensorboard"),
        ("-", "--tensorboard"),
        ("/proc/bigram-runs", proc_runs),
    ] {
        let args = ["train", "--data", "names.txt", "--out", "m.safetensors"];
        rejects(
            &dir,
            &[&args[..], &["--tensorboard", folder]].concat(),
            &[needle],
        );
    }
    rejects(
        &dir,
        &[
            "tune",
            "--data",
            "names.txt",
            "--reg",
            "0.1",
            "--tensorboard",
            "notes",
        ],
        &["not a folder"],
    );
}

#[test]
fn a_run_that_fails_leaves_no_log_and_no_folder_behind() {
    let dir = dir_with(&[(
        "names.txt",
        "emma\nolivia\nava\nmia\n".repeat(50).as_bytes(),
    )]);
    // Diverges at epoch 2 (exit 2): nothing saved, no log.
    let output = bigram()
        .current_dir(dir.path())
        .args([
            "train",
            "--data",
            "names.txt",
            "--reg",
            "100",
            "--tensorboard",
            "tb",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(snapshot(dir.path()).len(), 1, "only names.txt is left");

    // A disk that fills while logging (a file size limit: writes past 2 KiB fail): exit 1, no
    // half-written log, no checkpoint.
    let output = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", "trap '' XFSZ; ulimit -f 4; exec \"$@\"", "sh"])
        .arg(assert_cmd::cargo::cargo_bin("bigram"))
        .args([
            "train",
            "--data",
            "names.txt",
            "--epochs",
            "60",
            "--split",
            "80/10/10",
        ])
        .args(["--tensorboard", "runs/a"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TensorBoard log"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(snapshot(dir.path()).len(), 1, "only names.txt is left");
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn a_log_not_kept_leaves_neither_its_file_nor_the_folders_made_for_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("runs/a");
    let epoch = Epoch {
        epoch: 1,
        loss: 2.5,
        nll: 2.5,
        dev_nll: None,
    };
    let mut log = EventLog::create(&dir, "a run").unwrap();
    log.record(&epoch).unwrap();
    assert!(log.path().exists());
    drop(log);
    assert!(!root.path().join("runs").exists());

    let mut log = EventLog::create(&dir, "a run").unwrap();
    log.record(&epoch).unwrap();
    let kept = log.keep().unwrap();
    assert!(kept.exists());
    let name = kept.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("events.out.tfevents."), "{name}");
    // The host's name comes next, as the system gives it (Linux also shows it in /proc).
    #[cfg(target_os = "linux")]
    {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let host: String = (host.chars())
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let pid = std::process::id();
        assert!(name.contains(&format!(".{host}.{pid}.")), "{name}");
    }
    assert!(
        name.contains(&format!(".{}.", std::process::id())),
        "{name}"
    );
}

#[test]
fn crc32c_is_the_castagnoli_checksum() {
    // The standard check value of CRC-32C ("123456789"), which event records are checksummed
    // with. The masking is checked by TensorBoard's reader, which refuses a record whose masked
    // checksum is wrong (the tests above).
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
}
