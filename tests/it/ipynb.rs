//! `notebook --ipynb FILE`: the port as a Jupyter notebook that nbformat validates, one code
//! cell per cell of the notebook holding the port's own Rust, each output what `bigram
//! notebook` printed; and the checks every output gets.

use crate::common::*;

const FIVE: &[u8] = b"emma\nolivia\nava\nisabella\nsophia\n";

/// The notebook's cells in its order (In [30] comes last), then the port's two of its own.
const CELLS: [u64; 32] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
    27, 40, 43, 30, 44, 45,
];

/// nbformat's own validation, then the notebook as JSON.
fn validated(path: &std::path::Path) -> serde_json::Value {
    let script = "import nbformat, sys\n\
                  nbformat.validate(nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT))\n";
    let output = python_command()
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "nbformat refused it (scripts/setup.sh installs nbformat into the shared venv): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn text(lines: &serde_json::Value) -> String {
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

#[test]
fn the_notebook_validates_and_holds_the_ports_rust_and_this_runs_outputs() {
    let dir = dir_with(&[("five.txt", FIVE)]);
    let printed = ok_output(bigram().current_dir(dir.path()).args([
        "notebook",
        "--data",
        "five.txt",
        "--ipynb",
        "port.ipynb",
    ]));
    let printed = String::from_utf8(printed.stdout).unwrap();
    let notebook = validated(&dir.path().join("port.ipynb"));
    assert_eq!(notebook["metadata"]["kernelspec"]["name"], "rust");
    assert_eq!(notebook["metadata"]["language_info"]["name"], "rust");
    let cells = notebook["cells"].as_array().unwrap();
    let code: Vec<&serde_json::Value> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
    let numbers: Vec<u64> = code
        .iter()
        .map(|c| c["execution_count"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, CELLS);
    // Every line of every code cell is a line of the port itself.
    let port = std::fs::read_to_string(project_root().join("src/notebook.rs")).unwrap();
    let port_lines: std::collections::HashSet<&str> = port.lines().map(str::trim).collect();
    for cell in &code {
        let source = text(&cell["source"]);
        // Every cell but In [3] (imports) and In [30] (comments only) holds code.
        let n = cell["execution_count"].as_u64().unwrap();
        let code_lines = source.lines().filter(|l| !l.trim_start().starts_with("//"));
        assert!(
            [3, 30].contains(&n) || code_lines.count() > 0,
            "In [{n}] holds no code"
        );
        for line in source.lines() {
            assert!(
                port_lines.contains(line.trim()),
                "not in src/notebook.rs: {line:?}"
            );
        }
    }
    // Each output is what `bigram notebook` printed for that cell, In [43]'s loss included.
    for cell in &code {
        for output in cell["outputs"].as_array().unwrap() {
            let shown = text(&output["text"]);
            assert!(printed.contains(&shown), "{shown:?} not in {printed}");
        }
    }
    let in_43 = code.iter().find(|c| c["execution_count"] == 43).unwrap();
    let in_43 = text(&in_43["outputs"][0]["text"]);
    // Out[43]: the line under In [43]'s heading.
    let mut lines = printed.lines();
    lines.find(|l| l.starts_with("In [43]:")).unwrap();
    let loss_line = lines.next().unwrap();
    assert!(loss_line.parse::<f64>().is_ok(), "{loss_line}");
    assert!(in_43.contains(loss_line), "{in_43}");
    // Markdown of our own before the groups.
    assert!(
        cells
            .iter()
            .filter(|c| c["cell_type"] == "markdown")
            .count()
            >= 5
    );
}

#[test]
fn an_ipynb_on_stdout_sends_the_replay_to_stderr() {
    let dir = dir_with(&[("five.txt", FIVE)]);
    let output = ok_output(
        bigram()
            .current_dir(dir.path())
            .args(["notebook", "--data", "five.txt", "--ipynb", "-"]),
    );
    let notebook: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(notebook["nbformat"], 4);
    assert!(String::from_utf8_lossy(&output.stderr).contains("In [43]"));
}

#[test]
fn an_ipynb_that_names_an_input_or_lies_under_a_file_is_refused_and_a_full_disk_leaves_nothing() {
    let dir = dir_with(&[("five.txt", FIVE), ("notes", b"mine\n")]);
    let notebook = ["notebook", "--data", "five.txt", "--ipynb"];
    let args = |target: &'static str| [&notebook[..], &[target]].concat();
    rejects(&dir, &args("five.txt"), &["--ipynb", "reads"]);
    rejects(&dir, &args("./five.txt"), &["--ipynb", "reads"]);
    rejects(&dir, &args("notes/port.ipynb"), &["notes"]);

    // A disk that fills while writing it (a file size limit of 4 KiB): exit 1, nothing left.
    let before = snapshot(dir.path());
    let output = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", "trap '' XFSZ; ulimit -f 8; exec \"$@\"", "sh"])
        .arg(assert_cmd::cargo::cargo_bin("bigram"))
        .args(args("port.ipynb"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(snapshot(dir.path()), before, "a partial notebook was left");
}

#[test]
fn every_cell_marker_sits_where_its_code_starts() {
    // rustfmt moves a comment that follows a line with a trailing comment under that comment,
    // far to the right: a `// In [n]` moved so would start no cell in the exported notebook.
    let port = std::fs::read_to_string(project_root().join("src/notebook.rs")).unwrap();
    let lines: Vec<&str> = port.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    for (i, line) in lines.iter().enumerate() {
        if !line.trim_start().starts_with("// In [") {
            continue;
        }
        let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
        let next = next.unwrap_or_else(|| panic!("line {}: nothing after {line:?}", i + 1));
        assert_eq!(indent(line), indent(next), "line {}: {line:?}", i + 1);
    }
    // Any comment so moved sits at a column no block starts at.
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("//") {
            assert_eq!(indent(line) % 4, 0, "line {}: {line:?}", i + 1);
        }
    }
}
