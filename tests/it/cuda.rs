//! `--device cuda`, on a machine that has a CUDA device. Without one, each test says it was
//! skipped (on stderr, seen with `cargo test -- --nocapture`) and passes: CI has no GPU, and a
//! GPU machine runs these by hand (docs/gpu.md). Parsing a device and reading the runtime are
//! tested on every machine.

use crate::common::*;

use bigram::device::{load_cuda_backend, parse_device, runtime};
use bigram::model::Model;
use tch::Device;

/// CUDA devices the `bigram` binary sees (`bigram --version --json`).
fn cuda_devices() -> u64 {
    let out = bigram().args(["--version", "--json"]).output().unwrap();
    json(&out)["cuda_devices"].as_u64().unwrap_or(0)
}

/// True when there is a CUDA device; otherwise say that `test` was skipped. The binary loads
/// CUDA late and this process links it at start: both must see the same devices, or a binary
/// that lost CUDA would skip every test here.
fn have_cuda(test: &str) -> bool {
    let devices = cuda_devices();
    let here = if tch::Cuda::is_available() {
        tch::Cuda::device_count()
    } else {
        0
    };
    assert_eq!(
        i64::try_from(devices).unwrap(),
        here,
        "CUDA devices seen by `bigram --version` against this test process"
    );
    if devices == 0 {
        eprintln!("{test}: skipped, no CUDA device here (bigram --version reports none)");
    }
    devices > 0
}

/// Float32 rounding over 100 epochs of different kernels: the CPU and CUDA runs agree to this.
const CUDA_VS_CPU: f64 = 1e-4;

fn train(device: &str, dir: &tempfile::TempDir, extra: &[&str]) -> (serde_json::Value, Vec<f32>) {
    let out = dir.path().join(format!("{device}.safetensors"));
    let output = ok_output(
        bigram()
            .args([
                "train",
                "--json",
                "--threads",
                &threads_arg(),
                "--device",
                device,
                "--data",
            ])
            .arg(names_txt())
            .arg("--out")
            .arg(&out)
            .args(extra),
    );
    (json(&output), Model::load(&out).unwrap().weights().unwrap())
}

#[test]
fn cuda_training_agrees_with_cpu_training_and_reports_its_warm_up_apart() {
    if !have_cuda("cuda_training_agrees_with_cpu_training") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for method in ["onehot", "index"] {
        let (cpu, cpu_w) = train("cpu", &dir, &["--method", method]);
        let (cuda, cuda_w) = train("cuda", &dir, &["--method", method]);
        assert_eq!(cuda["device"], "cuda:0");
        for key in ["loss", "nll"] {
            close(
                cuda[key].as_f64().unwrap(),
                cpu[key].as_f64().unwrap(),
                CUDA_VS_CPU,
            );
        }
        assert_eq!(cpu_w.len(), cuda_w.len());
        for (a, b) in cpu_w.iter().zip(&cuda_w) {
            close(f64::from(*a), f64::from(*b), CUDA_VS_CPU);
        }
        assert!(cuda["warmup_seconds"].as_f64().unwrap() > 0.0);
        assert!(cpu["warmup_seconds"].is_null());
    }
}

#[test]
fn parity_holds_on_cuda_for_the_pipeline_and_the_notebook() {
    if !have_cuda("parity_holds_on_cuda") {
        return;
    }
    for extra in [&[][..], &["--notebook"][..]] {
        let out = bigram()
            .args(["parity", "--json", "--device", "cuda", "--data"])
            .arg(names_txt())
            .args(extra)
            .output()
            .unwrap();
        let report = json(&out);
        for row in report["rows"].as_array().unwrap() {
            assert!(row["ok"].as_bool().unwrap(), "{extra:?}: {row}");
        }
        assert_eq!(out.status.code(), Some(0));
    }
}

#[test]
fn notebook_on_cuda_prints_every_figure() {
    if !have_cuda("notebook_on_cuda_prints_every_figure") {
        return;
    }
    let out = bigram()
        .args(["notebook", "--device", "cuda", "--data"])
        .arg(names_txt())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cell in [
        1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 27, 43,
    ] {
        assert!(
            text.contains(&format!("In [{cell}]:")),
            "In [{cell}] missing"
        );
    }
    assert!(text.contains("0.69%") && text.contains("3.0856"), "{text}");
}

#[test]
fn a_cuda_trained_checkpoint_samples_the_cpus_names() {
    if !have_cuda("a_cuda_trained_checkpoint_samples_the_cpus_names") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    train("cpu", &dir, &[]);
    train("cuda", &dir, &[]);
    let names = |device: &str| {
        sample_names(
            &dir.path().join(format!("{device}.safetensors")),
            &["-n", "20"],
        )
    };
    assert_eq!(names("cuda"), names("cpu"));
}

#[test]
fn a_cuda_device_that_is_not_there_is_refused() {
    let devices = cuda_devices();
    let out = bigram()
        .args(["train", "--device", &format!("cuda:{devices}"), "--data"])
        .arg(names_txt())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = if devices == 0 {
        "not available"
    } else {
        "does not exist"
    };
    assert!(stderr.contains(expected), "{stderr}");
}

/// Whether libtorch's CUDA backend started in a `bigram` run with `args`: the dynamic loader,
/// asked to (`LD_DEBUG=libs`, glibc), names each library whose start-up code it runs.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn starts_cuda_backend(args: &[&str]) -> bool {
    let output = ok_output(bigram().args(args).env("LD_DEBUG", "libs"));
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .any(|line| line.contains("calling init:") && line.contains("/libtorch_cuda.so"))
}

/// The binary loads libtorch's CUDA backend only for what may use it (a device other than
/// the CPU, `--version`), so counting and sampling start without its 0.13 s. Loaded that late,
/// it is still the backend libtorch uses: `--version` reports the CUDA runtime it was built
/// for, which only the real backend knows. This runs without a GPU; the tests above check the
/// same with one.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_cuda_backend_loads_only_for_a_device_that_may_be_cuda_and_is_the_one_libtorch_uses() {
    let version = json(&ok_output(bigram().args(["--version", "--json"])));
    let dir = std::path::PathBuf::from(version["libtorch_dir"].as_str().unwrap());
    if !dir.join("libtorch_cuda.so").exists() {
        assert!(version.get("cuda_runtime").is_none(), "{version}");
        eprintln!("skipped: a CPU-only libtorch in {}", dir.display());
        return;
    }
    let built_for = version["cuda_runtime"].as_str().unwrap_or_else(|| {
        panic!(
            "the CUDA backend is in {} but libtorch does not see it: {version}",
            dir.display()
        )
    });
    assert!(
        built_for.split('.').all(|part| part.parse::<u32>().is_ok()),
        "{built_for}"
    );
    let data = names_txt().display().to_string();
    assert!(starts_cuda_backend(&["--version"]));
    assert!(starts_cuda_backend(&[
        "train",
        "--device",
        "auto",
        "--epochs",
        "1",
        "--data",
        &data,
        "--out",
        "/dev/null"
    ]));
    for args in [
        &["count", "--data", &data, "--out", "/dev/null"][..],
        &[
            "train",
            "--epochs",
            "1",
            "--data",
            &data,
            "--out",
            "/dev/null",
        ][..],
        &["--help"][..],
    ] {
        assert!(!starts_cuda_backend(args), "{args:?} loaded it");
    }
}

#[test]
fn cpu_and_auto_always_parse() {
    assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
    assert_eq!(parse_device("CPU").unwrap(), Device::Cpu);
    assert!(parse_device("auto").is_ok());
}

#[test]
fn nonsense_is_an_input_error() {
    let err = parse_device("tpu").unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(parse_device("cuda:x").is_err());
}

#[test]
fn missing_cuda_is_an_input_error() {
    let said = match load_cuda_backend() {
        Err(_) => Some("did not load"),
        Ok(()) if !tch::Cuda::is_available() => Some("not available"),
        Ok(()) => None,
    };
    if let Some(said) = said {
        let err = parse_device("cuda").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(said), "{err}");
    }
    let err = parse_device("cuda:999").unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn the_loaded_libtorch_says_its_version() {
    let runtime = runtime();
    if cfg!(target_os = "linux") {
        let version = runtime.libtorch.expect("libtorch's folder has its version");
        assert!(version.starts_with("2."), "{version}");
    }
    assert!(runtime.default_threads >= 1);
}
