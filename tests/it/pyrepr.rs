//! The formatter (src/pyrepr.rs) against PyTorch's own `repr()`, live: scripts/repr_reference.py
//! draws 240 random tensors (float32, float64, int64, bool; 0-d to 4-d, some summarized; from
//! 1e-9 to 1e11, with zeros, -0.0, whole numbers, inf and nan) and 240 random floats, and writes
//! the tensors as safetensors beside what PyTorch and Python print for them. Below it, tensors
//! the notebook never shows, each expected text as PyTorch 2.13's `repr()` printed it.

use crate::common::*;

use bigram::pyrepr::{float_repr, grad_fn_name, size_repr, tensor_repr};
use tch::{Device, Kind, Tensor};

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

fn repr(t: &Tensor) -> String {
    tensor_repr(t).unwrap()
}

#[test]
fn integers_and_bools_share_one_width() {
    assert_eq!(
        repr(&Tensor::from_slice(&[1i64, 22, -3])),
        "tensor([ 1, 22, -3])"
    );
    assert_eq!(
        repr(&Tensor::from_slice(&[true, false])),
        "tensor([ True, False])"
    );
    assert_eq!(
        repr(&Tensor::from_slice(&[true, true])),
        "tensor([True, True])"
    );
    assert_eq!(
        repr(&Tensor::from_slice(&[1i32, 2])),
        "tensor([1, 2], dtype=torch.int32)"
    );
    assert_eq!(repr(&Tensor::from(7i64)), "tensor(7)");
}

#[test]
fn floats_switch_to_scientific_notation_where_pytorch_does() {
    assert_eq!(
        repr(&Tensor::from_slice(&[1e-5f32, 1.0])),
        "tensor([1.0000e-05, 1.0000e+00])"
    );
    assert_eq!(
        repr(&Tensor::from_slice(&[-123456.0f32, 0.01])),
        "tensor([-1.2346e+05,  1.0000e-02])"
    );
    let wrapped =
        "tensor([1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09,\n        \
        1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09,\n        \
        1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09, 1.0000e+09,\n        \
        1.0000e+09, 1.0000e+09])";
    assert_eq!(
        repr(&Tensor::full([20], 1e9, (Kind::Float, Device::Cpu))),
        wrapped
    );
}

#[test]
fn zeros_whole_numbers_and_non_finite_values() {
    assert_eq!(
        repr(&Tensor::from_slice(&[0.0f32, -0.0])),
        "tensor([0., -0.])"
    );
    // -0.0000 is wider than the shared width and is not cut.
    assert_eq!(
        repr(&Tensor::from_slice(&[1.5f32, -0.0])),
        "tensor([1.5000, -0.0000])"
    );
    let column = Tensor::from_slice(&[1.0f32, -2.0]).view([2, 1]);
    assert_eq!(repr(&column), "tensor([[ 1.],\n        [-2.]])");
    assert_eq!(
        repr(&Tensor::from_slice(&[f32::NAN, 1.5, f32::NEG_INFINITY])),
        "tensor([   nan, 1.5000,   -inf])"
    );
    assert_eq!(
        repr(&Tensor::from_slice(&[f32::NAN, 0.0])),
        "tensor([nan, 0.])"
    );
    assert_eq!(repr(&Tensor::from(4.97471f32)), "tensor(4.9747)");
}

#[test]
fn dtypes_and_empty_tensors_carry_their_suffixes() {
    assert_eq!(
        repr(&Tensor::from_slice(&[0.5f64, 2.25])),
        "tensor([0.5000, 2.2500], dtype=torch.float64)"
    );
    assert_eq!(repr(&Tensor::from_slice::<f32>(&[])), "tensor([])");
    assert_eq!(
        repr(&Tensor::zeros([2, 0], (Kind::Float, Device::Cpu))),
        "tensor([], size=(2, 0))"
    );
    assert_eq!(
        repr(&Tensor::from_slice::<i64>(&[])),
        "tensor([], dtype=torch.int64)"
    );
}

#[test]
fn past_1000_elements_only_the_edges_are_shown() {
    assert_eq!(
        repr(&Tensor::arange(2000, (Kind::Int64, Device::Cpu))),
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    );
    // Three dimensions: blank lines between the outer blocks, `...` rows inside them.
    let t = Tensor::arange(2000, (Kind::Float, Device::Cpu)).view([2, 10, 100]) / 7.0;
    let text = repr(&t);
    assert!(text.starts_with(
        "tensor([[[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 1.3857e+01,\n          \
         1.4000e+01, 1.4143e+01],\n         [1.4286e+01,"
    ));
    assert!(text.contains("4.2714e+01],\n         ...,\n         [1.0000e+02, 1.0014e+02"));
    assert!(text.contains("1.4271e+02]],\n\n        [[1.4286e+02, 1.4300e+02"));
    assert!(text.ends_with("2.8529e+02,\n          2.8543e+02, 2.8557e+02]]])"));
    let three = Tensor::arange(8, (Kind::Float, Device::Cpu)).view([2, 2, 2]) / 3.0;
    assert_eq!(
        repr(&three),
        "tensor([[[0.0000, 0.3333],\n         [0.6667, 1.0000]],\n\n        \
         [[1.3333, 1.6667],\n         [2.0000, 2.3333]]])"
    );
}

#[test]
fn a_leaf_requires_grad_and_a_result_names_its_grad_fn() {
    let w = Tensor::from_slice(&[1.0f32, 2.0]).set_requires_grad(true);
    assert_eq!(repr(&w), "tensor([1., 2.], requires_grad=True)");
    // The node's exact name is compared with PyTorch's live (tests/it/notebook.rs).
    let doubled = (&w * 2.0).view([2, 1]);
    let name = grad_fn_name(&doubled).unwrap();
    assert!(name.starts_with("ViewBackward"), "{name}");
    assert_eq!(
        repr(&doubled),
        format!("tensor([[2.],\n        [4.]], grad_fn=<{name}>)")
    );
    assert_eq!(grad_fn_name(&w), None);
    assert_eq!(grad_fn_name(&w.detach()), None);
}

#[test]
fn a_suffix_that_would_pass_80_columns_starts_a_line() {
    // 24 empty dimensions make a 77-column size=: it starts a line, dtype= starts another, as it
    // would pass 80 columns after the size on its line, and requires_grad=True follows dtype=.
    let dims = vec!["0"; 24].join(", ");
    let empty = Tensor::zeros([0i64; 24], (Kind::Double, Device::Cpu)).set_requires_grad(true);
    assert_eq!(
        repr(&empty),
        format!(
            "tensor([],\n       size=({dims}),\n       dtype=torch.float64, requires_grad=True)"
        )
    );
    // Nine elements fill a line to 79 columns, which PyTorch counts as 81.
    let nine = Tensor::from_slice(&[0.5f64; 9]).set_requires_grad(true);
    assert_eq!(
        repr(&nine),
        format!(
            "tensor([{}],\n       dtype=torch.float64, requires_grad=True)",
            ["0.5000"; 9].join(", ")
        )
    );
}

#[test]
fn floats_print_as_python_reprs_them() {
    for (x, python) in [
        (1.0, "1.0"),
        (1e16, "1e+16"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (123456789012345680.0, "1.2345678901234568e+17"),
        (-0.0, "-0.0"),
        (3.085660934448242, "3.085660934448242"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (0.1, "0.1"),
        (100.0, "100.0"),
        (1234567890123456.8, "1234567890123456.8"),
        (f64::NAN, "nan"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        assert_eq!(float_repr(x), python, "{x:e}");
    }
    assert_eq!(size_repr(&[27, 27]), "torch.Size([27, 27])");
}
