//! The command line's conventions: interrupts, closed pipes, reproducible files, reading data
//! the way a checkpoint was trained; and the layout rule that the library knows nothing of the
//! command line.

use crate::common::*;

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str], dir: &Path) -> Child {
    bigram_process()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Wait for the child, failing the test if it takes longer than `limit`.
fn wait_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut text).unwrap();
    text
}

#[test]
fn sigint_and_sigterm_during_training_exit_130_and_143_and_save_nothing() {
    // The third run has no old checkpoint, so the message must not say it is "as it was".
    for (sig, code, old) in [
        (libc::SIGINT, 130, true),
        (libc::SIGTERM, 143, true),
        (libc::SIGINT, 130, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model.safetensors");
        if old {
            count_model_at(&out);
        }
        let before = std::fs::read(&out).ok();
        let data = names_txt().display().to_string();
        let mut child = spawn(
            &["train", "--epochs", "100000", "--data", &data],
            dir.path(),
        );
        // The data summary is printed once the data is read, just before the epochs start.
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        assert!(first.contains("32033 names"), "{first}");
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, sig);
        let status = wait_within(&mut child, Duration::from_secs(30));
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        assert_eq!(status.code(), Some(code), "{rest}");
        assert!(rest.contains("interrupted at epoch"), "{rest}");
        assert!(rest.contains("nothing was saved"), "{rest}");
        let as_it_was = rest.contains("(model.safetensors is as it was)");
        assert_eq!(as_it_was, old, "{rest}");
        assert_eq!(std::fs::read(&out).ok(), before, "the checkpoint changed");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            usize::from(old),
            "files were left"
        );
    }
}

/// Start `bigram ARGS`, write `data` to its stdin, SIGINT it, then write `data` up to `more`
/// times again (until a broken pipe says the reader left) with stdin kept open, and wait up to
/// `limit`. Writing more than a pipe holds means that once the first write returns, the reader
/// has started, and the signal handlers with it. Returns the exit code and stderr.
fn interrupt_while_feeding(
    args: &[&str],
    dir: &Path,
    data: &[u8],
    more: usize,
    limit: Duration,
) -> (Option<i32>, String) {
    let mut child = spawn(args, dir);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(data).unwrap();
    signal(&child, libc::SIGINT);
    for _ in 0..more {
        if stdin.write_all(data).is_err() {
            break;
        }
    }
    let status = wait_within(&mut child, limit);
    drop(stdin);
    (status.code(), stderr_of(&mut child))
}

#[test]
fn an_interrupt_while_reading_stdin_stops_the_read_even_when_no_data_comes() {
    let dir = tempfile::tempdir().unwrap();
    let names = std::fs::read(names_txt()).unwrap();
    // Data flowing: the interrupt stops the read.
    let count = ["count", "--data", "-"];
    let (code, stderr) =
        interrupt_while_feeding(&count, dir.path(), &names, 64, Duration::from_secs(60));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted while reading stdin"),
        "{stderr}"
    );
    assert!(!dir.path().join("counts.safetensors").exists());

    // Blocked waiting for more data, stdin still open: one interrupt is enough. The grace of
    // 10 s is far above the reader's check interval; a read that ignored the interrupt
    // would wait here until the test closes stdin.
    for args in [&count[..], &["train", "--data", "-", "--epochs", "1"][..]] {
        let (code, stderr) =
            interrupt_while_feeding(args, dir.path(), &names, 0, Duration::from_secs(10));
        assert_eq!(code, Some(130), "{args:?}: {stderr}");
        assert!(
            stderr.contains("interrupted while reading stdin"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("counts.safetensors").exists());
    assert!(!dir.path().join("model.safetensors").exists());
}

#[test]
fn score_interrupted_while_waiting_for_names_on_stdin_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("counts.safetensors");
    count_model_at(&model);
    let names = std::fs::read(names_txt()).unwrap();
    let score = ["score", "--model", model.to_str().unwrap()];
    let (code, stderr) =
        interrupt_while_feeding(&score, dir.path(), &names, 0, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted while reading stdin"),
        "{stderr}"
    );
}

/// Seconds of CPU time a running child has used (utime + stime of /proc/PID/stat).
fn cpu_seconds(child: &Child) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf only reads a system constant.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// A model that all but never ends a name (its '.' column is -40: one chance in about 10^18 a
/// character; one that never ends is refused on reading) under the cap of a million
/// characters: the stop request is seen inside the name, not only between names.
#[test]
fn an_interrupt_stops_a_name_that_never_ends() {
    let dir = tempfile::tempdir().unwrap();
    let w = tch::Tensor::zeros([27, 27], (tch::Kind::Float, tch::Device::Cpu));
    let _ = w.narrow(1, 0, 1).fill_(-40.0);
    let path = dir.path().join("endless.safetensors");
    let vocab = bigram::vocab::Vocab::letters();
    bigram::model::Model::network(w, &vocab, 2)
        .save(&path)
        .unwrap();
    let model = path.to_str().unwrap();
    for (sampler, sig, code) in [
        ("torch", libc::SIGINT, 130),
        ("torch-1.13", libc::SIGTERM, 143),
    ] {
        let args = [
            "sample",
            "--model",
            model,
            "--max-len",
            "1000000",
            "--sampler",
            sampler,
        ];
        let mut child = spawn(&args, dir.path());
        // Start-up takes well under a second of CPU: past one, it is drawing the first name.
        let start = Instant::now();
        while cpu_seconds(&child) < 1.0 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "it never got going"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        signal(&child, sig);
        let status = wait_within(&mut child, Duration::from_secs(10));
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), Some(code), "{sampler}: {stderr}");
        assert!(
            stderr.contains("interrupted after 0 of 10 names, ")
                && stderr.contains("characters into a name"),
            "{sampler}: {stderr}"
        );
        let mut stdout = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        assert_eq!(stdout, "", "{sampler}: no name, not even a cut one");
    }
}

/// Run `bigram ARGS` with its stdout closed before it writes (as `bigram ... | head -0`).
fn with_stdout_closed(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let mut child = spawn(args, dir);
    drop(child.stdout.take());
    drop(child.stdin.take());
    let status = wait_within(&mut child, Duration::from_secs(120));
    (status.code(), stderr_of(&mut child))
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = names_txt().display().to_string();
    count_model_at(&dir.path().join("model.safetensors"));
    // The notebook trains twice for 100 epochs: a few hundred names show its stdout as well.
    let names = std::fs::read_to_string(names_txt()).unwrap();
    let head: String = names.lines().take(300).map(|n| format!("{n}\n")).collect();
    let small = write(&dir, "small.txt", head).display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["eval", "--data", &data],
        vec!["notebook", "--data", &small],
        vec!["score", "emma", "ava", "--data", &data],
        vec!["tune", "--smoothing", "0,1", "--data", &data],
        vec!["sample", "-n", "100000", "--fast"],
        vec!["count", "--data", &data, "--out", "c.safetensors"],
        vec![
            "train",
            "--epochs",
            "2",
            "--method",
            "counts",
            "--data",
            &data,
            "--out",
            "t.safetensors",
        ],
        vec![
            "heatmap", "--data", &data, "--out", "h.png", "--size", "400",
        ],
        vec!["parity", "--data", &small, "--epochs", "2"],
        vec!["merge", "model.safetensors", "--out", "merged.safetensors"],
        vec!["completions", "bash"],
    ];
    // Every command: one added to the command line and not here fails.
    let mut tried: Vec<String> = commands.iter().map(|args| args[0].to_string()).collect();
    let mut known = crate::common::commands();
    tried.sort();
    known.sort();
    assert_eq!(tried, known, "a command is missing from this list");
    for args in commands {
        let (code, stderr) = with_stdout_closed(&args, dir.path());
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn the_same_command_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = names_txt().display().to_string();
    for (command, extra) in [("train", &["--epochs", "5"][..]), ("count", &[][..])] {
        let bytes: Vec<Vec<u8>> = (0..2)
            .map(|i| {
                let out = dir.path().join(format!("{command}{i}.safetensors"));
                bigram()
                    .arg(command)
                    .args(extra)
                    .args(["--threads", &threads_arg(), "--data", &data, "--out"])
                    .arg(&out)
                    .assert()
                    .success();
                std::fs::read(out).unwrap()
            })
            .collect();
        assert!(
            bytes[0] == bytes[1],
            "two `{command}` runs wrote different files"
        );
    }
}

#[test]
fn eval_reads_data_the_way_the_checkpoint_was_trained() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "upper.txt", "Emma\nAVA\nolivia\n");
    write(&dir, "lower.txt", "emma\nava\nolivia\n");
    bigram()
        .args([
            "count",
            "--lowercase",
            "--data",
            "upper.txt",
            "--out",
            "m.safetensors",
        ])
        .current_dir(dir.path())
        .assert()
        .success();
    let nll = |data: &str| {
        let out = ok_output(
            bigram()
                .args(["eval", "--json", "--model", "m.safetensors", "--data", data])
                .current_dir(dir.path()),
        );
        json(&out)["nll"].as_f64().unwrap()
    };
    assert_eq!(nll("upper.txt"), nll("lower.txt"));
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_library_knows_nothing_of_the_command_line_and_files_stay_small() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(!lib.contains("mod cli"), "src/lib.rs declares the CLI");
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        let in_cli = file.starts_with(src.join("cli")) || file == src.join("main.rs");
        if !in_cli {
            for name in ["clap", "indicatif", "signal_hook"] {
                assert!(!text.contains(name), "{} names {name}", file.display());
            }
        } else if file.starts_with(src.join("cli")) {
            // A command (flags → options → one library call → report) reads in a minute.
            let limit = match text.contains("impl super::Run for") {
                true => 150,
                false => 300,
            };
            let lines = text.lines().count();
            assert!(lines <= limit, "{} has {lines} lines", file.display());
        }
        // No function longer than 100 lines (rustfmt puts a function's closing brace at the
        // indentation of its `fn`).
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let body = line.trim_start();
            let starts_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "unsafe extern \"C\" fn ",
            ]
            .iter()
            .any(|p| body.starts_with(p));
            if !starts_fn || line.ends_with(';') {
                continue;
            }
            // The notebook's replay is its cells, which share one scope as the notebook's do:
            // one function, bounded instead by the port's 250 lines of code (tests/it/notebook.rs).
            if file == src.join("notebook.rs") && body.starts_with("pub fn replay(") {
                continue;
            }
            let close = format!("{}}}", &line[..line.len() - body.len()]);
            let end = lines[i..].iter().position(|l| *l == close).unwrap_or(0);
            assert!(
                end <= 100,
                "{}:{}: a function of {end} lines",
                file.display(),
                i + 1
            );
        }
    }
}

#[test]
fn no_source_file_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = python_command()
        .arg(root.join("scripts/import_circles.py"))
        .arg(root.join("src"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("0 import circle(s) among"), "{report}");
}

#[test]
fn the_readme_lists_every_command_in_its_order() {
    let readme = include_str!("../../README.md");
    // The first column of each row: `bigram COMMAND`.
    let listed: Vec<String> = first_column(readme, "\n## Commands\n")
        .iter()
        .filter_map(|cell| {
            Some(
                backticked(cell)
                    .first()?
                    .strip_prefix("bigram ")?
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(listed, commands());
}

#[test]
fn help_and_docs_give_the_exit_codes_of_the_error_module() {
    let help = bigram().arg("--help").output().unwrap();
    let errors_md = include_str!("../../docs/errors.md");
    for (page, text) in [
        ("--help", String::from_utf8(help.stdout).unwrap()),
        ("docs/errors.md", errors_md.into()),
    ] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(bigram::error::EXIT_CODES), "{page}: {text}");
    }
}

#[test]
fn version_names_the_libtorch_it_runs_on_and_completions_print() {
    let out = bigram().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("bigram {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("libtorch 2.13.0"), "{text}");
    assert!(text.contains("CUDA: "), "{text}");
    assert!(text.contains("threads: "), "{text}");
    let json = json(&bigram().args(["--version", "--json"]).output().unwrap());
    assert!(json["libtorch"].as_str().unwrap().starts_with("2.13.0"));
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef bigram"),
        ("fish", "complete -c bigram"),
    ] {
        let out = bigram().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("parity"), "{shell} completes the commands");
    }
}

#[test]
fn quiet_silences_summaries_but_not_results_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = names_txt().display().to_string();
    let out = bigram()
        .args(["count", "--quiet", "--data", &data])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("count model"));
    let failed = bigram()
        .args(["count", "--quiet", "--data", "missing.txt"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("missing.txt not found"));
}

#[test]
fn data_that_would_be_ignored_or_would_eat_the_names_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = names_txt().display().to_string();
    count_model_at(&dir.path().join("model.safetensors"));
    let run = |args: &[&str]| {
        bigram()
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    // sample uses --data only to tell known names from new ones.
    let ignored = run(&["sample", "--data", &data]);
    assert_eq!(ignored.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ignored.stderr).contains("--novel"));
    assert!(run(&["sample", "--novel", "--data", &data])
        .status
        .success());
    // score: `--data` takes every word after it.
    let eaten = run(&["score", "--data", &data, "emma"]);
    assert_eq!(eaten.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&eaten.stderr).contains("before --data"));
    let scored = run(&["score", "emma", "--data", &data]);
    assert!(scored.status.success());
}

#[test]
fn tune_interrupted_names_the_knob_and_value_it_was_trying() {
    // Thousands of smoothings take seconds; the interrupt comes once the split is printed.
    let values: Vec<String> = (0..15_000).map(|v| v.to_string()).collect();
    let data = names_txt().display().to_string();
    let mut child = bigram_process()
        .args([
            "tune",
            "--order",
            "3",
            "--data",
            &data,
            "--smoothing",
            &values.join(","),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("split ") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no split line");
    }
    signal(&child, libc::SIGINT);
    let status = wait_within(&mut child, Duration::from_secs(30));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        rest.contains("interrupted before the run with smoothing "),
        "{rest}"
    );
    assert!(!rest.contains("reg"), "{rest}");
}
