//! The names of each PyTorch era that `--sampler` offers. The 2.0-2.6 era cannot be run live
//! (its wheel is not the one the suite installs): its names come from a fixture that a real
//! PyTorch 2.6.0 drew (scripts/research/torch26_names.py, tests/fixtures/torch-2.6.0), from
//! the checkpoints committed beside it.

use crate::common::*;

use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    project_root().join("tests/fixtures/torch-2.6.0")
}

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir().join("names.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap()
}

#[test]
fn torch_2_0_draws_the_names_pytorch_2_6_drew_for_every_fixture_case() {
    let fixture = fixture();
    assert!(fixture["torch"].as_str().unwrap().starts_with("2.6.0"));
    let cases = fixture["cases"].as_array().unwrap();
    let mut total = 0;
    for case in cases {
        let model = fixture_dir().join(case["model"].as_str().unwrap());
        let (seed, n) = (case["seed"].to_string(), case["n"].to_string());
        let temperature = case["temperature"].to_string();
        let mut args = vec!["--sampler", "torch-2.0", "--seed", &seed, "-n", &n];
        args.extend(["--temperature", &temperature]);
        args.extend(["--prefix", case["prefix"].as_str().unwrap()]);
        let top_k = case["top_k"].to_string();
        if !case["top_k"].is_null() {
            args.extend(["--top-k", &top_k]);
        }
        let want = strings(&case["names"]);
        assert_eq!(sample_names(&model, &args), want, "{case}");
        total += want.len();
    }
    // What the fixture must cover: enough names, a trained network, a smoothing other than 1.
    assert!(total >= 500, "{total} names");
    let models: Vec<&str> = cases.iter().map(|c| c["model"].as_str().unwrap()).collect();
    assert!(models.contains(&"network.safetensors"));
    assert!(models.contains(&"counts-s0.5.safetensors"));
}

/// The names most learners of the lecture got from its count model (PyTorch 2.0 to 2.6 on
/// x86), from a count model made here and now.
#[test]
fn the_lecture_count_model_gives_junide_under_torch_2_0() {
    let dir = tempfile::tempdir().unwrap();
    let counts = dir.path().join("counts.safetensors");
    count_model_at(&counts);
    let lecture = strings(&fixture()["lecture"]["names"]);
    let names = sample_names(&counts, &["--sampler", "torch-2.0", "-n", "20"]);
    assert_eq!(names, lecture);
    assert_eq!(names[..5], ["junide", "janasah", "p", "cony", "a"]);
}

/// The torch-2.0 sampler's generator is rand_mt's Mt: it must be libtorch's, number for number.
#[test]
fn the_mersenne_twister_is_libtorchs_cpu_generator() {
    use tch::{Device, Kind, Tensor};
    // The C++ standard's check: the 10000th number of mt19937 seeded 5489 is 4123659995.
    let mut standard = rand_mt::Mt::new(5489);
    let tenth_thousand = (0..10_000).map(|_| standard.next_u32()).last();
    assert_eq!(tenth_thousand, Some(4_123_659_995));
    // libtorch's generator, live: an int32 `random_()` is one 32-bit number modulo 2^31.
    // 1000 draws cross a renewal of the 624-word state.
    for seed in [2147483647i64, -3, 1 << 40] {
        let _generator = bigram::device::CpuGenerator::manual_seed(seed);
        let mut t = Tensor::empty([1000], (Kind::Int, Device::Cpu));
        let drawn = Vec::<i32>::try_from(t.random_()).unwrap();
        let mut mine = rand_mt::Mt::new(seed as u32);
        let expected: Vec<i32> = (0..1000)
            .map(|_| (mine.next_u32() % (1 << 31)) as i32)
            .collect();
        assert_eq!(drawn, expected, "seed {seed}");
    }
}
