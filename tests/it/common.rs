//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The checkout the tests belong to. cargo sets `CARGO_MANIFEST_DIR` when it runs them; read
/// at run time first, so a test executable copied to another machine (a GPU machine with no
/// Rust, docs/gpu.md) can be pointed at a checkout there.
pub fn project_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The data set the project's numbers refer to, placed by scripts/setup.sh.
pub fn names_txt() -> PathBuf {
    let path = project_root().join("data/names.txt");
    assert!(
        path.is_file(),
        "data/names.txt is missing: run scripts/setup.sh first"
    );
    path
}

/// names.txt as the library's data source.
pub fn names_source() -> Vec<bigram::data::Source> {
    vec![bigram::data::Source::File(names_txt())]
}

/// How the processes the tests start wait for their OpenMP threads. The suite runs two tests
/// at a time, each starting processes of two threads, on machines with few cores: threads that
/// spin while they wait take the cores the others need (a fifth of the suite's time here).
/// Waiting passively changes no result: the thread count, not the wait, decides how a sum is
/// split.
const OMP_WAIT: (&str, &str) = ("OMP_WAIT_POLICY", "PASSIVE");

/// glibc's allocator settings for speed that `bigram` gives itself (`device::tune_allocator`; not
/// its one arena, which keeps memory checks true and changes no speed measured), for the
/// Python references too: a training epoch frees and allocates tensors of tens of MB, which
/// glibc otherwise returns to the kernel and faults in again each time (a tenth of a
/// reference's time here). Where memory comes from changes no result. `bigram` passes them on
/// to the Python that `parity` starts.
const MALLOC: [(&str, &str); 2] = [
    ("MALLOC_MMAP_THRESHOLD_", "33554432"),
    ("MALLOC_TRIM_THRESHOLD_", "1073741824"),
];

/// The built `bigram` binary, run from a given folder.
pub fn bigram() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("bigram").expect("the bigram binary is built");
    cmd.env(OMP_WAIT.0, OMP_WAIT.1).envs(MALLOC);
    cmd
}

/// names.txt read as bigrams, with the list of examples (the notebook's X and y) kept.
pub fn names_with_examples() -> bigram::data::Corpus {
    let keep = bigram::data::Keep {
        examples: true,
        names: false,
    };
    let options = bigram::data::ReadOptions::default();
    bigram::data::Corpus::load(&names_source(), &options, 2, keep).unwrap()
}

/// The built `bigram` binary as a plain process, for tests that set its standard streams.
pub fn bigram_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("bigram"));
    cmd.env(OMP_WAIT.0, OMP_WAIT.1).envs(MALLOC);
    cmd
}

/// The Python with torch (`python()`) as a process to start.
pub fn python_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(python());
    cmd.env(OMP_WAIT.0, OMP_WAIT.1).envs(MALLOC);
    cmd
}

/// The thread count the tests pin wherever they compare exact floats: a result is exact only
/// for the thread count it was computed with, so both sides of a comparison use this one.
pub const THREADS: i32 = 2;

/// The Python with torch 2.13 that the references run with, found at run time the way
/// `bigram parity` finds it.
pub fn python() -> PathBuf {
    bigram::parity::default_python().unwrap_or_else(|| {
        panic!(
            "no Python with torch 2.13 found: run scripts/setup.sh, or set BIGRAM_PYTHON to a \
             Python that has torch 2.13.0, numpy and safetensors"
        )
    })
}

/// scripts/reference.py (PyTorch 2.13) on names.txt with `args`, run live and parsed. The
/// same settings give the cached result however they are written (in any order, with or
/// without defaults): every test in the process shares one run per setting. Pass `--threads`
/// to compare exact floats.
pub fn reference(args: &[&str]) -> serde_json::Value {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cell = Arc<OnceLock<serde_json::Value>>;
    static CACHE: Mutex<Option<HashMap<Vec<String>, Cell>>> = Mutex::new(None);
    // One cell per setting: tests asking for it at once wait for the one run.
    let cell: Cell = CACHE
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .entry(reference_key(args))
        .or_default()
        .clone();
    cell.get_or_init(|| {
        let script = project_root().join("scripts/reference.py");
        let output = python_command()
            .arg(script)
            .arg("--data")
            .arg(names_txt())
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "reference.py {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        json(&output)
    })
    .clone()
}

/// The settings `args` give reference.py, as a canonical list: options sorted, numbers written
/// one way, and the script's defaults left out (each option takes one value).
fn reference_key(args: &[&str]) -> Vec<String> {
    const DEFAULTS: [(&str, &str); 9] = [
        ("--seed", "42"),
        ("--epochs", "100"),
        ("--lr", "50"),
        ("--reg", "0.01"),
        ("--smoothing", "1"),
        ("--sample-seed", "2147483647"),
        ("-n", "10"),
        ("--max-len", "50"),
        ("--order", "2"),
    ];
    let number = |v: &str| v.parse::<f64>().map_or(v.to_string(), |x| x.to_string());
    assert!(
        args.len().is_multiple_of(2),
        "reference options take one value each: {args:?}"
    );
    let mut settings: Vec<(String, String)> = args
        .chunks(2)
        .map(|pair| (pair[0].to_string(), number(pair[1])))
        .filter(|(k, v)| !DEFAULTS.iter().any(|(dk, dv)| dk == k && number(dv) == *v))
        .collect();
    settings.sort();
    settings.into_iter().flat_map(|(k, v)| [k, v]).collect()
}

/// `THREADS` as a command-line argument.
pub fn threads_arg() -> String {
    THREADS.to_string()
}

/// `cmd`'s output, once it has succeeded (a failure shows its stderr).
#[track_caller]
pub fn ok_output(cmd: &mut assert_cmd::Command) -> std::process::Output {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The commands clap knows, in its order: `Cli::command()`'s subcommands as `bigram --help`
/// lists them, less clap's own `help`. Lists in docs and tests are checked against these.
pub fn commands() -> Vec<String> {
    let help = String::from_utf8(ok_output(bigram().arg("--help")).stdout).unwrap();
    let listed = help
        .split("\nCommands:\n")
        .nth(1)
        .expect("--help lists its commands");
    listed
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|command| *command != "help")
        .map(String::from)
        .collect()
}

/// The bits of a model's weights, to compare them exactly.
pub fn weight_bits(model: &bigram::model::Model) -> Vec<u32> {
    model
        .weights()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
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

/// Everything directly in `dir`: each regular file with its bytes, anything else (a link, a
/// fifo, a device node, a folder) with what it is, so that a node replaced by a file shows.
pub fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut files = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let kind = meta.file_type();
        let content = if kind.is_file() {
            std::fs::read(&path).unwrap()
        } else if kind.is_symlink() {
            format!("link to {:?}", std::fs::read_link(&path).unwrap()).into_bytes()
        } else if kind.is_char_device() || kind.is_block_device() {
            let rdev = meta.rdev();
            format!("device {}:{}", libc::major(rdev), libc::minor(rdev)).into_bytes()
        } else if kind.is_fifo() {
            b"fifo".to_vec()
        } else {
            format!("{kind:?}").into_bytes()
        };
        files.insert(path.display().to_string(), content);
    }
    files
}

/// Run `bigram ARGS` in `dir`; expect exit code 2, one error line containing every `needle`,
/// and `dir` unchanged.
#[track_caller]
pub fn rejects(dir: &tempfile::TempDir, args: &[&str], needles: &[&str]) -> String {
    let before = snapshot(dir.path());
    let output = bigram()
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?} -> {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in {stderr:?}"
        );
    }
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert_eq!(snapshot(dir.path()), before, "{args:?} changed files");
    stderr.into_owned()
}

/// A temporary folder holding `files` (name, bytes).
pub fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        write(&dir, name, content);
    }
    dir
}

/// What a shell command line did: its exit code and stderr.
pub struct ShellRun {
    /// The exit code of the line.
    pub code: Option<i32>,
    /// What the line wrote on stderr (redirections inside the line take theirs away).
    pub stderr: String,
}

/// Run `line` with `sh -c` in `dir`, as a user types it (`$BIGRAM` is the built binary), in a
/// process group of its own; then check what every such run must hold: no panic, no aborted
/// allocation, and no process of the group left behind.
#[track_caller]
pub fn shell(dir: &std::path::Path, line: &str) -> ShellRun {
    use std::os::unix::process::CommandExt;
    let child = std::process::Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env("BIGRAM", assert_cmd::cargo::cargo_bin("bigram"))
        .env(OMP_WAIT.0, OMP_WAIT.1)
        .envs(MALLOC)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = child.id();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{line}: {stderr}");
    assert!(!stderr.contains("memory allocation"), "{line}: {stderr}");
    assert_no_process_in_group(group, line);
    ShellRun {
        code: output.status.code(),
        stderr,
    }
}

/// No process of process group `group` is left (a child that outlived the command).
#[track_caller]
pub fn assert_no_process_in_group(group: u32, what: &str) {
    // A process that is ending may take a moment to leave /proc.
    for _ in 0..50 {
        let left = processes_in_group(group);
        if left.is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{what}: left running: {:?}", processes_in_group(group));
}

/// The processes of a process group, as `pid command` (zombies are gone already).
pub fn processes_in_group(group: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str()) {
            found.push(head.replace(" (", " ").to_string());
        }
    }
    found
}

/// Wait until process `pid` catches `signal` (its handlers are installed: a process that is
/// still loading libtorch would die of the signal instead), at most 60 s.
#[track_caller]
pub fn wait_until_catching(pid: u32, signal: i32) {
    let started = std::time::Instant::now();
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (signal - 1)) != 0);
        if caught {
            return;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "{pid} never caught {signal}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The first cell of each row of the first Markdown table after `after` in `page` (its header
/// and separator rows skipped): the lists the docs keep by hand, for a test to hold against the
/// code's own.
pub fn first_column(page: &str, after: &str) -> Vec<String> {
    let start = page
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?} in the page"));
    let rows = page[start..]
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2);
    rows.map(|row| row.split('|').nth(1).unwrap_or_default().trim().to_string())
        .collect()
}

/// The `quoted` names in `text`, in order.
pub fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}
