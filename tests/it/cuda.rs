//! `--device cuda`, on a machine that has a CUDA device. Without one, each test says it was
//! skipped (on stderr, seen with `cargo test -- --nocapture`) and passes: CI has no GPU, and a
//! GPU machine runs these by hand (README, "GPU").

use crate::common::*;

use bigram::model::Model;

/// CUDA devices the `bigram` binary sees (`bigram --version --json`).
fn cuda_devices() -> u64 {
    let out = bigram().args(["--version", "--json"]).output().unwrap();
    json(&out)["cuda_devices"].as_u64().unwrap_or(0)
}

/// True when there is a CUDA device; otherwise say that `test` was skipped.
fn have_cuda(test: &str) -> bool {
    let devices = cuda_devices();
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
