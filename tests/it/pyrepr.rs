//! The formatter (src/pyrepr.rs) against PyTorch's own `repr()`, live: scripts/repr_reference.py
//! draws 240 random tensors (float32, float64, int64, bool; 0-d to 4-d, some summarized; from
//! 1e-9 to 1e11, with zeros, -0.0, whole numbers, inf and nan) and 240 random floats, and writes
//! the tensors as safetensors beside what PyTorch and Python print for them.

use crate::common::*;

use bigram::pyrepr::{float_repr, tensor_repr};
use tch::Tensor;

#[test]
fn random_tensors_and_floats_print_as_pytorch_and_python_print_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tensors.safetensors");
    let output = python_command()
        .arg(project_root().join("scripts/repr_reference.py"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let tensors: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(&file)
        .unwrap()
        .into_iter()
        .collect();

    let cases = reference["tensors"].as_array().unwrap();
    assert!(cases.len() >= 200);
    let mut layouts = [0; 3]; // scientific, summarized, whole floats
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let t = tensors[name].set_requires_grad(case["requires_grad"].as_bool().unwrap());
        let pytorch = case["repr"].as_str().unwrap();
        assert_eq!(tensor_repr(&t).unwrap(), pytorch, "{name}");
        layouts[0] += usize::from(pytorch.contains("e+") || pytorch.contains("e-"));
        layouts[1] += usize::from(pytorch.contains("..."));
        layouts[2] += usize::from(pytorch.contains("0.,"));
    }
    assert!(layouts.iter().all(|&n| n >= 10), "{layouts:?}");

    for case in reference["floats"].as_array().unwrap() {
        let x = f64::from_bits(case["bits"].as_u64().unwrap());
        assert_eq!(float_repr(x), case["repr"].as_str().unwrap(), "{x:e}");
    }
}
