//! Every mistake a user can make: a one-line error naming the file (and line) and what to do,
//! exit code 2, and no file created or changed.

use crate::common::*;

#[test]
fn data_files_that_are_missing_empty_or_not_files() {
    let dir = dir_with(&[("empty.txt", b""), ("blank.txt", b"\n  \n\r\n")]);
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    std::os::unix::fs::symlink("loop.txt", dir.path().join("loop.txt")).unwrap();
    rejects(
        &dir,
        &["train"],
        &["data/names.txt not found", "scripts/setup.sh"],
    );
    rejects(
        &dir,
        &["count", "--data", "nope.txt"],
        &["nope.txt not found"],
    );
    rejects(
        &dir,
        &["count", "--data", "folder"],
        &["folder is a directory"],
    );
    // Root reads any file whatever its mode, so unreadability is shown with a symlink loop.
    rejects(
        &dir,
        &["count", "--data", "loop.txt"],
        &["cannot read data file loop.txt"],
    );
    rejects(
        &dir,
        &["train", "--data", "empty.txt"],
        &["empty.txt has no names"],
    );
    rejects(
        &dir,
        &["count", "--data", "blank.txt"],
        &["blank.txt has no names"],
    );
}

#[test]
fn data_contents_that_cannot_be_names() {
    let long = format!("ab\n{}\n", "a".repeat(bigram::data::MAX_LINE_BYTES + 10));
    let dir = dir_with(&[
        ("latin1.txt", b"emma\nzo\xe9\n"),
        ("upper.txt", b"emma\nava\nOlivia\n"),
        ("accents.txt", "emma\nzoé\n".as_bytes()),
        ("hyphen.txt", b"anne-marie\n"),
        ("dot.txt", b"emma\nj.r\n"),
        ("long.txt", long.as_bytes()),
    ]);
    rejects(
        &dir,
        &["count", "--data", "latin1.txt"],
        &["latin1.txt:2:", "UTF-8"],
    );
    rejects(
        &dir,
        &["train", "--data", "upper.txt"],
        &["upper.txt:3:", "'O'", "--lowercase"],
    );
    rejects(
        &dir,
        &["count", "--data", "accents.txt"],
        &["accents.txt:2:", "'é'", "--vocab auto"],
    );
    rejects(
        &dir,
        &["count", "--data", "hyphen.txt"],
        &["hyphen.txt:1:", "'-'", "--vocab auto"],
    );
    rejects(
        &dir,
        &["count", "--data", "dot.txt", "--vocab", "auto"],
        &["dot.txt:2:", "start/end token"],
    );
    rejects(
        &dir,
        &["count", "--data", "dot.txt"],
        &["dot.txt:2:", "start/end token"],
    );
    rejects(
        &dir,
        &["count", "--data", "long.txt"],
        &["long.txt:2:", "longer than"],
    );
}

#[test]
fn the_fixes_the_errors_suggest_work() {
    let dir = dir_with(&[
        ("upper.txt", b"Emma\r\n  AVA \r\n\r\nolivia"),
        ("intl.txt", "anne-marie\nzoé\nchloë\n".as_bytes()),
        ("one.txt", b"emma\n"),
        (
            "longish.txt",
            format!("{}\n", "ab".repeat(50_000)).as_bytes(),
        ),
    ]);
    let run = |args: &[&str]| {
        let out = bigram()
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out)
    };
    let folded = run(&["count", "--json", "--data", "upper.txt", "--lowercase"]);
    assert_eq!(folded["names"], 3);
    assert_eq!(folded["examples"], 5 + 4 + 7);
    // The checkpoint remembers --lowercase, so the data it names reads the same way again.
    let scored = ok_output(
        bigram()
            .args(["score", "--json", "--model", "counts.safetensors", "ava"])
            .current_dir(dir.path()),
    );
    assert!(json(&scored)["rank"].as_u64().is_some());
    let auto = run(&[
        "train", "--json", "--epochs", "5", "--data", "intl.txt", "--vocab", "auto",
    ]);
    assert_eq!(auto["examples"], 11 + 4 + 6);
    let names = bigram()
        .args(["sample", "-n", "30"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(names.status.success());
    let alphabet: Vec<char> = "-abcehilmnorzéë".chars().collect();
    for name in String::from_utf8(names.stdout).unwrap().lines() {
        assert!(name.chars().all(|c| alphabet.contains(&c)), "{name:?}");
    }
    assert_eq!(
        run(&[
            "count",
            "--json",
            "--data",
            "one.txt",
            "--out",
            "one.safetensors"
        ])["examples"],
        5
    );
    assert_eq!(
        run(&[
            "count",
            "--json",
            "--data",
            "longish.txt",
            "--out",
            "l.safetensors"
        ])["examples"],
        100_001
    );
}

#[test]
fn flags_out_of_range() {
    let dir = dir_with(&[]);
    rejects(&dir, &["train", "--epochs", "0"], &["--epochs"]);
    rejects(&dir, &["train", "--epochs", "-3"], &["--epochs"]);
    for lr in ["0", "-1", "NaN", "inf"] {
        rejects(&dir, &["train", "--lr", lr], &["--lr"]);
    }
    rejects(&dir, &["train", "--reg", "-0.1"], &["--reg"]);
    rejects(&dir, &["count", "--smoothing", "-1"], &["--smoothing"]);
    rejects(&dir, &["sample", "-n", "0"], &["--count"]);
    // Beyond 1024, OpenMP's buffers or the counting threads could not be made.
    for threads in ["0", "1025", "2147483647"] {
        rejects(&dir, &["eval", "--threads", threads], &["--threads"]);
        rejects(&dir, &["count", "--threads", threads], &["--threads"]);
    }
    rejects(
        &dir,
        &["train", "--device", "tpu"],
        &["unknown device \"tpu\""],
    );
    rejects(&dir, &["train", "--device", "cuda:7"], &["CUDA"]);
    if !tch::Cuda::is_available() {
        rejects(
            &dir,
            &["train", "--device", "cuda"],
            &["CUDA", "not available", "--device cpu"],
        );
        rejects(&dir, &["notebook", "--device", "cuda"], &["not available"]);
    }
}

#[test]
fn checkpoints_that_are_not_ours() {
    let real = tempfile::tempdir().unwrap();
    let model = real.path().join("m.safetensors");
    count_model_at(&model);
    let bytes = std::fs::read(&model).unwrap();
    let header = |json: &str| {
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(json.as_bytes());
        out
    };
    let meta = r#""__metadata__":{"format":"bigram-checkpoint/1","vocab":".abcdefghijklmnopqrstuvwxyz","order":"2","kind":"network"}"#;
    let mut no_w = header(&format!(
        r#"{{{meta},"V":{{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}}}"#
    ));
    no_w.extend_from_slice(&[0u8; 4]);
    let mut shape = header(&format!(
        r#"{{{meta},"W":{{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}}}"#
    ));
    shape.extend_from_slice(&[0u8; 16]);
    let mut dtype = header(&format!(
        r#"{{{meta},"W":{{"dtype":"F64","shape":[27,27],"data_offsets":[0,5832]}}}}"#
    ));
    dtype.extend_from_slice(&vec![0u8; 5832]);
    let dir = dir_with(&[
        ("truncated.safetensors", &bytes[..bytes.len() / 2]),
        ("random.safetensors", &[7u8; 3000][..]),
        ("no_w.safetensors", &no_w),
        ("shape.safetensors", &shape),
        ("dtype.safetensors", &dtype),
        ("intl.txt", "zoé\n".as_bytes()),
    ]);
    rejects(
        &dir,
        &["sample", "--model", "missing.safetensors"],
        &["missing.safetensors not found", "bigram train"],
    );
    rejects(
        &dir,
        &["sample", "--model", "truncated.safetensors"],
        &["truncated.safetensors", "not a bigram checkpoint"],
    );
    rejects(
        &dir,
        &["eval", "--model", "random.safetensors"],
        &["random.safetensors", "not a bigram checkpoint"],
    );
    rejects(
        &dir,
        &["sample", "--model", "no_w.safetensors"],
        &["no_w.safetensors", "no tensor named W"],
    );
    rejects(
        &dir,
        &["sample", "--model", "shape.safetensors"],
        &["shape.safetensors", "shape [2, 2]", "[27, 27]"],
    );
    rejects(
        &dir,
        &["sample", "--model", "dtype.safetensors"],
        &["dtype.safetensors", "F64"],
    );
    let m = model.display().to_string();
    rejects(
        &dir,
        &["eval", "--model", &m, "--data", "intl.txt"],
        &["intl.txt:1:", "'é'", "model's vocabulary"],
    );
}

#[test]
fn outputs_that_cannot_be_written_are_refused_before_training() {
    let dir = dir_with(&[]);
    let data = names_txt().display().to_string();
    rejects(
        &dir,
        &[
            "train",
            "--data",
            &data,
            "--out",
            "no/such/folder/m.safetensors",
        ],
        &["no/such/folder", "does not exist"],
    );
    let stderr = rejects(
        &dir,
        &["train", "--data", &data, "--out", "/proc/m.safetensors"],
        &["cannot write /proc/m.safetensors"],
    );
    assert!(
        !stderr.contains("32033 names"),
        "the data was read first: {stderr}"
    );
    rejects(
        &dir,
        &["count", "--data", &data, "--out", "/proc/c.safetensors"],
        &["cannot write"],
    );
}

#[test]
fn divergence_stops_training_and_saves_nothing() {
    let dir = dir_with(&[]);
    let data = names_txt().display().to_string();
    rejects(
        &dir,
        &["train", "--data", &data, "--lr", "1e6", "--epochs", "5"],
        &["diverged at epoch 2", "nothing was saved"],
    );
}

#[test]
fn sigterm_during_training_leaves_the_old_checkpoint_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.safetensors");
    count_model_at(&out);
    let before = std::fs::read(&out).unwrap();
    let mut child = bigram_process()
        .args(["train", "--epochs", "100000", "--data"])
        .arg(names_txt())
        .arg("--out")
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The data summary is printed once the data is read, just before the epochs start.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    assert!(first.contains("32033 names"), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(143), "128 + SIGTERM");
    assert!(rest.contains("interrupted at epoch"), "{rest}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the old checkpoint changed"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files were left behind");
}

#[test]
fn models_without_a_usable_distribution_are_errors_not_panics() {
    let dir = dir_with(&[("ab.txt", b"ab\nab\n")]);
    // Without smoothing, the row after 'c' (never seen) is all zeros.
    bigram()
        .args([
            "count",
            "--smoothing",
            "0",
            "--data",
            "ab.txt",
            "--out",
            "zero.safetensors",
        ])
        .current_dir(dir.path())
        .assert()
        .success();
    let samplers = [
        &[][..],
        &["--fast"],
        &["--sampler", "torch-2.0"],
        &["--sampler", "torch-1.13"],
    ];
    for sampler in samplers {
        let mut args = vec!["sample", "--model", "zero.safetensors", "--prefix", "c"];
        args.extend_from_slice(sampler);
        rejects(
            &dir,
            &args,
            &["no usable next-character distribution after \"c\""],
        );
    }
    // One huge step: the loss of epoch 1 is fine, the weights after it are not.
    let data = names_txt().display().to_string();
    rejects(
        &dir,
        &["train", "--data", &data, "--epochs", "1", "--lr", "1e40"],
        &["diverged", "nothing was saved"],
    );
}

#[test]
fn more_flags_and_files_that_make_no_sense() {
    let wide: String = (0..12_000)
        .map(|i| {
            let name: String = (0..10)
                .map(|j| char::from(b'!' + ((i * 7 + j * 13) % 90) as u8))
                .filter(|&c| c != '.')
                .collect();
            name + "\n"
        })
        .collect();
    let dir = dir_with(&[
        ("tiny.txt", b"emma\n"),
        ("Upper.txt", b"emma\nAva\nbo\nli\n"),
        ("wide.txt", wide.as_bytes()),
    ]);
    rejects(
        &dir,
        &["notebook", "--data", "Upper.txt"],
        &["Upper.txt:2:", "tr A-Z a-z"],
    );
    rejects(
        &dir,
        &["train", "--plot", "loss.gif", "--data", "tiny.txt"],
        &["loss.gif", ".png"],
    );
    rejects(
        &dir,
        &["heatmap", "--out", "map.jpg", "--data", "tiny.txt"],
        &["map.jpg", ".png"],
    );
    rejects(
        &dir,
        &["count", "--smoothing", "1e39", "--data", "tiny.txt"],
        &["--smoothing"],
    );
    rejects(
        &dir,
        &[
            "train", "--order", "3", "--vocab", "auto", "--data", "wide.txt",
        ],
        &["GiB", "--method index or --method counts"],
    );
    rejects(
        &dir,
        &["notebook", "--data", "tiny.txt"],
        &["tiny.txt", "at least"],
    );
    rejects(
        &dir,
        &["train", "--split", "4294967295/101/0"],
        &["--split"],
    );
    rejects(&dir, &["train", "--split", "90/20/0"], &["add up to 100"]);
    rejects(
        &dir,
        &["heatmap", "--model", "m.safetensors", "--data", "tiny.txt"],
        &["cannot be used with"],
    );
    rejects(
        &dir,
        &["sample", "--model", "-"],
        &["checkpoint `-`", "/dev/stdin"],
    );
    rejects(&dir, &["tune"], &["--reg", "--smoothing"]);
    // Each value to try is checked as --smoothing's is, and said as a number is written.
    rejects(&dir, &["tune", "--reg", "0.1,1e308"], &["--reg", "1e308"]);
    rejects(
        &dir,
        &["tune", "--smoothing", "1,NaN"],
        &["--smoothing", "NaN"],
    );
    // An impossible bigram under a count model without smoothing: infinite NLL, not NaN.
    let zero = dir.path().join("zero.safetensors");
    bigram()
        .args(["count", "--smoothing", "0", "--data", "tiny.txt", "--out"])
        .arg(&zero)
        .current_dir(dir.path())
        .assert()
        .success();
    let eval = bigram()
        .args(["eval", "--data", "Upper.txt", "--lowercase", "--model"])
        .arg(&zero)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(eval.status.success());
    assert!(
        String::from_utf8_lossy(&eval.stdout).starts_with("nll inf"),
        "{}",
        String::from_utf8_lossy(&eval.stdout)
    );
    rejects(
        &dir,
        &["sample", "--min-len", "9", "--max-len", "3"],
        &["--min-len 9 is above --max-len 3"],
    );
}

#[test]
fn a_byte_range_where_no_name_starts_says_so_and_asks_for_a_wider_one() {
    // Lines start at bytes 0 and 4 of 8: 0..0, 1..4 and 5.. hold no line start, the second
    // of four shards (2..4) neither; the file itself has names.
    let dir = dir_with(&[("two.txt", b"ann\nbob\n")]);
    for (args, bytes) in [
        (["--range", "0:0"], "bytes 0..0"),
        (["--range", "1:4"], "bytes 1..4"),
        (["--range", "5:"], "bytes 5..8"),
        (["--shard", "2/4"], "bytes 2..4"),
    ] {
        let stderr = rejects(
            &dir,
            &["count", "--data", "two.txt", args[0], args[1]],
            &["two.txt has no names in ", bytes, "wider --range"],
        );
        assert!(!stderr.contains("empty"), "{args:?}: {stderr}");
    }
}

#[test]
fn capitals_in_data_for_a_command_without_lowercase_say_what_works() {
    let dir = dir_with(&[("Upper.txt", b"emma\nAva\nbo\n")]);
    let model = dir.path().join("counts.safetensors");
    count_model_at(&model);
    let model = model.to_str().unwrap();
    let copy = "tr A-Z a-z";
    for (args, model_advice) in [
        (&["notebook", "--data", "Upper.txt"][..], false),
        (&["parity", "--data", "Upper.txt"][..], false),
        (
            &["sample", "--model", model, "--novel", "--data", "Upper.txt"][..],
            true,
        ),
        (
            &["score", "emma", "--model", model, "--data", "Upper.txt"][..],
            true,
        ),
    ] {
        let stderr = rejects(&dir, args, &["Upper.txt:2:", "upper-case 'A'", copy]);
        let said = stderr.contains("a model trained with --lowercase");
        assert_eq!(said, model_advice, "{args:?}: {stderr}");
    }
}
