//! scripts/setup.sh on a machine that already has libtorch, and with macOS's tools (no
//! `flock`, no `sha256sum`): it installs nothing, writes cargo's pointer to what it found,
//! places names.txt, and refuses a libtorch of the wrong version with advice.

use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of the checkout's setup script in a fresh folder (it works on the folder above it).
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup.sh");
    std::fs::copy(script, dir.path().join("scripts/setup.sh")).unwrap();
    dir
}

/// A PATH with every tool of this machine but `hidden`.
fn path_without(hidden: &[&str]) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = bin.path().join(&name);
            if hidden.iter().any(|h| name == *h) || link.exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(entry.path(), link);
        }
    }
    bin
}

/// The torch folder of the references' Python (the shared venv's, after setup), found without
/// importing torch (which takes seconds).
fn torch_folder() -> PathBuf {
    let out = python_command()
        .args([
            "-c",
            "import importlib.util; print(importlib.util.find_spec('torch').submodule_search_locations[0])",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn setup(dir: &Path, path: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(dir.join("scripts/setup.sh"))
        .env("PATH", path)
        .env("BIGRAM_NAMES", names_txt())
        .env_remove("LIBTORCH")
        .env_remove("BIGRAM_PYTHON")
        .env_remove("BIGRAM_VENV")
        .env_remove("LIBTORCH_USE_PYTORCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn an_existing_libtorch_is_used_and_nothing_installed_without_flock_or_sha256sum() {
    let tools = path_without(&["flock", "sha256sum"]);
    let torch = torch_folder();
    let nowhere = tempfile::tempdir().unwrap().path().join("no-venv");
    let dir = checkout();
    let out = setup(
        dir.path(),
        tools.path(),
        &[
            ("LIBTORCH", &torch.display().to_string()),
            ("BIGRAM_VENV", &nowhere.display().to_string()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("installing nothing"), "{stderr}");
    assert!(!nowhere.exists(), "a venv was made");
    let config = std::fs::read_to_string(dir.path().join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains(&format!("LIBTORCH = \"{}\"", torch.display())),
        "{config}"
    );
    assert!(
        !config.contains("force"),
        "the caller's own variables must win: {config}"
    );
    // names.txt was checked with the fallback checksum tool.
    assert_eq!(
        std::fs::read(dir.path().join("data/names.txt")).unwrap(),
        std::fs::read(names_txt()).unwrap()
    );
}

/// A venv of its own that uses the references' venv (its interpreter and its packages), so
/// that setup checks it, and locks it, without touching the real one.
fn venv_beside(real: &Path) -> tempfile::TempDir {
    let venv = tempfile::tempdir().unwrap();
    std::fs::create_dir(venv.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(real.join("bin/python"), venv.path().join("bin/python")).unwrap();
    std::os::unix::fs::symlink(real.join("lib"), venv.path().join("lib")).unwrap();
    std::fs::copy(real.join("pyvenv.cfg"), venv.path().join("pyvenv.cfg")).unwrap();
    venv
}

#[test]
fn a_ready_venv_is_checked_under_a_lock_folder_without_flock() {
    let real = python().parent().unwrap().parent().unwrap().to_path_buf();
    assert!(
        real.join("pyvenv.cfg").is_file(),
        "this test needs the references' Python to be a venv's (set BIGRAM_PYTHON to one, or run scripts/setup.sh): {}",
        real.display()
    );
    let venv = venv_beside(&real);
    let tools = path_without(&["flock", "sha256sum"]);
    let dir = checkout();
    let out = setup(
        dir.path(),
        tools.path(),
        &[("BIGRAM_VENV", &venv.path().display().to_string())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("already in"), "{stderr}");
    let lock = PathBuf::from(format!("{}.lock.d", venv.path().display()));
    assert!(!lock.exists(), "the lock folder was left behind");
    let config = std::fs::read_to_string(dir.path().join(".cargo/config.toml")).unwrap();
    assert!(config.contains("BIGRAM_PYTHON"), "{config}");
}

#[test]
fn a_folder_that_is_not_a_venv_is_never_cleared() {
    let not_a_venv = tempfile::tempdir().unwrap();
    std::fs::write(not_a_venv.path().join("keep.txt"), "mine").unwrap();
    let dir = checkout();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let out = setup(
        dir.path(),
        Path::new(&path),
        &[("BIGRAM_VENV", &not_a_venv.path().display().to_string())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a Python venv"), "{stderr}");
    assert!(not_a_venv.path().join("keep.txt").exists());
}

#[test]
fn a_libtorch_of_another_version_is_refused_with_the_release_that_fits_it() {
    let fake = tempfile::tempdir().unwrap();
    std::fs::write(
        fake.path().join("version.py"),
        "__version__ = '2.11.0+cu130'\n",
    )
    .unwrap();
    let dir = checkout();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let out = setup(
        dir.path(),
        Path::new(&path),
        &[("LIBTORCH", &fake.path().display().to_string())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2.13.0") && stderr.contains("tch 0.24"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!dir.path().join(".cargo/config.toml").exists());
}

/// A venv whose Python is the references' own, seen through a wrapper: its Dask is the one in
/// `site/` (an old 2023.1 at first, which hides the real one), and `-m pip install` only logs
/// its arguments to `pip.log` and puts a Dask 2024.8 there.
fn venv_with_old_dask() -> tempfile::TempDir {
    let venv = tempfile::tempdir().unwrap();
    let dist = venv.path().join("site/distributed-2023.1.0.dist-info");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("METADATA"),
        "Metadata-Version: 2.1\nName: distributed\nVersion: 2023.1.0\n",
    )
    .unwrap();
    std::fs::create_dir(venv.path().join("bin")).unwrap();
    let wrapper = venv.path().join("bin/python");
    std::fs::write(
        &wrapper,
        format!(
            r#"#!/usr/bin/env bash
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$1 $2 $3" = "-m pip install" ]; then
  printf '%s\n' "$*" >>"$here/pip.log"
  rm -rf "$here"/site/distributed-*.dist-info
  mkdir -p "$here/site/distributed-2024.8.0.dist-info"
  printf 'Metadata-Version: 2.1\nName: distributed\nVersion: 2024.8.0\n' >"$here/site/distributed-2024.8.0.dist-info/METADATA"
  exit 0
fi
PYTHONPATH="$here/site${{PYTHONPATH:+:$PYTHONPATH}}" exec '{}' "$@"
"#,
            python().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    venv
}

fn pip_calls(venv: &Path) -> Vec<String> {
    std::fs::read_to_string(venv.join("pip.log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_ready_venv_without_dask_gets_dask_alone_added_once() {
    let venv = venv_with_old_dask();
    let dir = checkout();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let env = [("BIGRAM_VENV", venv.path().to_str().unwrap())];
    let out = setup(dir.path(), Path::new(&path), &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("adding dask[distributed]>=2024.1"),
        "{stderr}"
    );
    let calls = pip_calls(venv.path());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].contains("dask[distributed]>=2024.1") && !calls[0].contains("torch"),
        "only Dask is installed: {calls:?}"
    );
    // Run again, it only checks.
    let out = setup(dir.path(), Path::new(&path), &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("adding"), "{stderr}");
    assert_eq!(pip_calls(venv.path()).len(), 1);
}

#[test]
fn a_python_of_the_callers_without_dask_gets_a_warning_and_nothing_installed() {
    let venv = venv_with_old_dask();
    let python = venv.path().join("bin/python");
    let dir = checkout();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let out = setup(
        dir.path(),
        Path::new(&path),
        &[("BIGRAM_PYTHON", python.to_str().unwrap())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let advice = format!(
        "{} -m pip install 'dask[distributed]>=2024.1'",
        python.display()
    );
    assert!(
        stderr.contains("warning") && stderr.contains(&advice),
        "{stderr}"
    );
    assert!(
        pip_calls(venv.path()).is_empty(),
        "installed into the caller's Python"
    );
    let config = std::fs::read_to_string(dir.path().join(".cargo/config.toml")).unwrap();
    assert!(config.contains("BIGRAM_PYTHON"), "{config}");
}
