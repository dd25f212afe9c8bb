//! Checkpoints through the library: bytes written and read back bit for bit, every metadata key
//! written, the keys docs/checkpoints.md lists, and metadata that makes no sense refused by name.

use crate::common::{backticked, first_column};
use bigram::checkpoint::{keys, FORMAT};
use bigram::data::Counts;
use bigram::model::{Model, ModelKind};
use bigram::provenance::{DataFile, Meta, Method, Piece, Start};
use bigram::vocab::Vocab;
use bigram::Named;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use tch::Tensor;

fn model() -> Model {
    let w =
        Tensor::from_slice(&(0..729).map(|i| (i as f32).sin()).collect::<Vec<_>>()).view([27, 27]);
    let mut m = Model::network(w, &Vocab::letters(), 2);
    m.meta.seed = Some(7);
    m.meta.lr = Some(50.0);
    m
}

/// Bytes of a checkpoint whose metadata is `meta` exactly (no checks on the way out).
fn with_metadata(meta: &[(&str, &str)]) -> Vec<u8> {
    let w = vec![0u8; 27 * 27 * 4];
    let view = TensorView::new(Dtype::F32, vec![27, 27], &w).unwrap();
    let meta: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize([("W", view)], &Some(meta)).unwrap()
}

const NETWORK: [(&str, &str); 4] = [
    ("format", FORMAT),
    ("vocab", ".abcdefghijklmnopqrstuvwxyz"),
    ("order", "2"),
    ("kind", "network"),
];

#[test]
fn checkpoint_round_trips_bit_for_bit() {
    let m = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    m.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(back.weights().unwrap()), bits(m.weights().unwrap()));
    assert_eq!(back.meta.seed, Some(7));
    assert_eq!(back.kind, ModelKind::Network);
    assert!(back.counts.is_none());
}

/// A [`Meta`] whose values are the hard ones to keep: a subnormal, an infinity, a merge's
/// nested pieces, standard input's `null`s. Which fields it fills does not matter:
/// `every_key_is_written_read_back_and_listed_on_the_checkpoints_page` checks each key.
fn full_meta() -> Meta {
    let file = |p: &str| DataFile {
        path: Some(p.into()),
        sha256: Some(format!("{p}-sum")),
        range: Some([3, 14]),
    };
    let piece = Piece {
        path: "/a.safetensors".into(),
        sha256: "aa".into(),
        data_files: vec![file("/a.txt")],
        sources: vec![Piece {
            path: "/b.safetensors".into(),
            sha256: "bb".into(),
            data_files: vec![DataFile {
                path: None,
                sha256: None,
                range: None,
            }],
            sources: Vec::new(),
        }],
    };
    Meta {
        data_files: Some(vec![file("/x.txt"), file("/y.txt")]),
        lowercase: Some(true),
        split: Some("80/10/10".parse().unwrap()),
        split_seed: Some(7),
        counts_from: Some(file("/c.safetensors")),
        sources: Some(vec![piece]),
        seed: Some(-3),
        init: Some(Start {
            path: "/i.safetensors".into(),
            sha256: "ii".into(),
            epochs_total: 60,
            seed: Some("42".into()),
        }),
        epochs: Some(40),
        epochs_total: Some(100),
        lr: Some(0.1),
        reg: Some(1e-320),
        method: Some(Method::Index),
        device: Some("cuda:1".into()),
        threads: Some(3),
        final_loss: Some(2.490492343902588),
        nll: Some(f64::INFINITY),
        smoothing: Some(0.5),
    }
}

#[test]
fn every_metadata_field_is_written_and_read_back() {
    let full = full_meta();
    let mut m = model();
    m.meta = full.clone();
    let back = Model::from_bytes(&m.to_bytes().unwrap()).unwrap();
    assert_eq!(back.meta, full);
    assert_eq!(back.kind, ModelKind::Network);
    assert_eq!(
        (back.order, back.vocab.as_string()),
        (2, m.vocab.as_string())
    );

    // Checkpoints written before `data_files` name their file in `data_path`, `data_sha256`.
    let mut old = NETWORK.to_vec();
    old.extend([("data_path", "/old.txt"), ("data_sha256", "ff")]);
    let legacy = Model::from_bytes(&with_metadata(&old)).unwrap();
    let recorded = DataFile {
        path: Some("/old.txt".into()),
        sha256: Some("ff".into()),
        range: None,
    };
    assert_eq!(legacy.meta.data_files(), vec![recorded]);
}

/// The metadata keys of checkpoint bytes, sorted.
fn keys_of(bytes: &[u8]) -> Vec<String> {
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let mut keys: Vec<String> = header.metadata().clone().unwrap().into_keys().collect();
    keys.sort();
    keys
}

#[test]
fn every_key_is_written_read_back_and_listed_on_the_checkpoints_page() {
    // A value for each key: the first of these samples the reader takes for it, so a new
    // field needs no line here (only one of a new kind of value does).
    let samples = [
        "7",
        "true",
        "80/10/10",
        "onehot",
        r#"{"path":"/i","sha256":"ii","epochs_total":60,"seed":"42"}"#,
        r#"[{"path":"/a","sha256":"aa","data_files":[{"path":null,"sha256":null}]}]"#,
    ];
    let mut full = NETWORK.to_vec();
    for key in keys()
        .into_iter()
        .filter(|k| !NETWORK.iter().any(|(f, _)| f == k))
    {
        let value = samples.iter().find(|v| {
            let mut one = NETWORK.to_vec();
            one.push((key, v));
            Model::from_bytes(&with_metadata(&one)).is_ok()
        });
        let value = value.unwrap_or_else(|| panic!("no sample is a valid {key:?}: add one"));
        full.push((key, value));
    }
    let read = Model::from_bytes(&with_metadata(&full)).unwrap();
    let written = read.to_bytes().unwrap();
    let mut want: Vec<String> = keys().into_iter().map(String::from).collect();
    want.sort();
    assert_eq!(keys_of(&written), want, "a key is not written");
    assert_eq!(Model::from_bytes(&written).unwrap().meta, read.meta);

    let page = include_str!("../../docs/checkpoints.md");
    // The first column of the table: `key` or `key`, `key`.
    let mut listed: Vec<String> = first_column(page, "# Checkpoints\n")
        .iter()
        .flat_map(|cell| backticked(cell))
        .collect();
    listed.sort();
    assert_eq!(listed, want);
}

#[test]
fn an_unknown_or_missing_format_is_refused() {
    for format in [Some("bigram-checkpoint/2"), Some("hello"), None] {
        let mut meta: Vec<(&str, &str)> = NETWORK[1..].to_vec();
        if let Some(f) = format {
            meta.push(("format", f));
        }
        let err = Model::from_bytes(&with_metadata(&meta)).unwrap_err();
        match format {
            Some(f) => assert!(err.contains(&format!("{f:?}")), "{err}"),
            None => assert!(err.contains("no \"format\""), "{err}"),
        }
    }
    assert!(Model::from_bytes(&with_metadata(&NETWORK)).is_ok());
}

#[test]
fn a_missing_header_key_is_refused_by_name() {
    for (key, _) in &NETWORK[1..] {
        let meta: Vec<(&str, &str)> = NETWORK.iter().filter(|(k, _)| k != key).copied().collect();
        let err = Model::from_bytes(&with_metadata(&meta)).unwrap_err();
        assert!(err.contains(&format!("metadata has no {key:?}")), "{err}");
    }
}

#[test]
fn values_that_make_no_sense_are_refused_by_name() {
    for (key, value) in [
        ("smoothing", "-1"),
        ("smoothing", "NaN"),
        ("smoothing", "abc"),
        ("smoothing", "inf"),
        ("lr", "0"),
        ("epochs", "-5"),
        ("method", "sgd"),
        ("lowercase", "yes"),
        ("data_files", "[{]"),
        ("order", "4"),
        ("kind", "lstm"),
    ] {
        let mut meta: Vec<(&str, &str)> =
            NETWORK.iter().filter(|(k, _)| *k != key).copied().collect();
        meta.push((key, value));
        let err = Model::from_bytes(&with_metadata(&meta)).unwrap_err();
        assert!(err.contains(key), "{key}={value}: {err}");
        // A method it does not know is refused with the names of those it does.
        if key == "method" {
            for method in <Method as strum::VariantArray>::VARIANTS {
                assert!(err.contains(method.name()), "{err}");
            }
        }
    }
}

#[test]
fn the_same_model_gives_the_same_bytes() {
    let first = model().to_bytes().unwrap();
    for _ in 0..5 {
        assert_eq!(model().to_bytes().unwrap(), first);
    }
}

#[test]
fn count_models_keep_their_raw_counts() {
    let mut counts = Counts::new(27, 2);
    counts.add_name(&[5, 13, 13, 1]);
    let m = Model::from_counts(&counts, &Vocab::letters(), 2, 1.0);
    let back = Model::from_bytes(&m.to_bytes().unwrap()).unwrap();
    assert_eq!(back.counts.as_ref(), Some(&counts));
    assert_eq!(back.kind, ModelKind::Counts);
}

#[test]
fn counts_whose_total_overflows_are_refused() {
    let mut counts = Counts::new(27, 2);
    counts.cells.iter_mut().for_each(|c| *c = 1 << 62);
    let m = Model::from_counts(&counts, &Vocab::letters(), 2, 1.0);
    let err = Model::from_bytes(&m.to_bytes().unwrap()).unwrap_err();
    assert!(err.contains("64-bit"), "{err}");
}

#[test]
fn garbage_is_a_clear_error_not_a_panic() {
    let err = Model::from_bytes(b"hello world, not safetensors").unwrap_err();
    assert!(err.contains("not a bigram checkpoint"), "{err}");
    assert!(Model::from_bytes(&[]).is_err());
}
