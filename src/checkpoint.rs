//! Checkpoints: a model as a safetensors file that Python reads as it is.
//!
//! The file holds `W` (float32, contexts × vocabulary), for a count model also `N` (int64, the
//! raw counts), and string metadata. What the metadata may say is one typed description,
//! [`Header`] (what the tensors mean) with [`Meta`] (how the model was made): writing fills it
//! in and serialises it, reading parses and validates it, and nothing else assembles or picks
//! apart metadata strings. The header's keys are written in sorted order, so the same model
//! gives the same bytes (the same command on the same data writes a byte-identical file).
//! Files are written through a temporary file and a rename; reading is bounded in size and
//! refuses anything but a regular file.

use crate::cancel::Cancel;
use crate::data::Counts;
use crate::error::{Error, Result};
use crate::io::WatchedRead;
use crate::model::{Model, ModelKind};
use crate::provenance::{text, Meta};
use crate::vocab::{context_count, Vocab};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;
use tch::Tensor;

/// Checkpoint format tag, stored under `format`; a file with any other is refused.
pub const FORMAT: &str = "bigram-checkpoint/1";

/// Checkpoints larger than this are refused before being read (a 3-gram over a large
/// vocabulary with its counts is still far below it).
pub const MAX_CHECKPOINT_BYTES: u64 = 512 << 20;

const NOT_OURS: &str = "not a bigram checkpoint (expected a safetensors file written by `bigram train` or `bigram count`)";

/// What a checkpoint's tensors mean: the first part of its metadata. The rest, how the model
/// was made, is [`Meta`]; both are read from and written to the same string map. Every value
/// is stored as a string (safetensors metadata maps strings to strings): numbers and flags as
/// Rust writes them, lists and records as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: String,
    /// The vocabulary, its characters in index order (`.` first).
    pub vocab: String,
    /// 2 for bigrams, 3 for trigrams.
    #[serde(with = "text")]
    pub order: usize,
    /// `network` or `counts`.
    #[serde(with = "text")]
    pub kind: ModelKind,
}

impl Model {
    /// The checkpoint's bytes: safetensors with a header in sorted key order. Metadata that
    /// [`Model::from_bytes`] would refuse is not written.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let w: Vec<u8> = self
            .weights()?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let shape = vec![self.rows(), self.vocab.len()];
        let n: Option<Vec<u8>> = self.counts.as_ref().map(|c| {
            c.cells
                .iter()
                .flat_map(|&v| (v as i64).to_le_bytes())
                .collect()
        });
        let view = |dtype, bytes| {
            TensorView::new(dtype, shape.clone(), bytes)
                .map_err(|e| Error::failed(format!("cannot describe a tensor: {e:?}")))
        };
        let mut tensors = vec![("W", view(Dtype::F32, &w)?)];
        if let Some(n) = &n {
            tensors.push(("N", view(Dtype::I64, n)?));
        }
        let header = Header {
            format: FORMAT.into(),
            vocab: self.vocab.as_string(),
            order: self.order,
            kind: self.kind,
        };
        let metadata = to_metadata(&header, &self.meta)?;
        // The writer checks with the reader: nothing is written that every command refuses.
        from_metadata(metadata.clone()).map_err(|why| {
            Error::failed(format!(
                "refusing to write a checkpoint that could not be read back: {why}"
            ))
        })?;
        let bytes = safetensors::serialize(tensors, &Some(metadata))
            .map_err(|e| Error::failed(format!("cannot serialise the checkpoint: {e:?}")))?;
        canonical_header(&bytes)
    }

    /// Write the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_atomically(path, &self.to_bytes()?)
    }

    /// Read a checkpoint, checking that it is one of ours and that its tensors fit its
    /// vocabulary ([`read`], for callers that never stop early).
    pub fn load(path: &Path) -> Result<Self> {
        Ok(read(path, &Cancel::never())?.model)
    }

    /// Parse checkpoint bytes; the error says what is wrong, without the file name.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let (_, st_header) =
            SafeTensors::read_metadata(bytes).map_err(|e| format!("{NOT_OURS}: {e}"))?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| format!("{NOT_OURS}: {e}"))?;
        let (header, meta) = from_metadata(st_header.metadata().clone().unwrap_or_default())?;
        let vocab = Vocab::parse(&header.vocab).map_err(|e| format!("bad vocabulary: {e}"))?;
        let order = header.order;
        let rows = context_count(vocab.len(), order);
        let shape = [rows, vocab.len()];
        let w = tensors
            .tensor("W")
            .map_err(|_| format!("{NOT_OURS}: it has no tensor named W"))?;
        let values: Vec<f32> = read_tensor(&w, "W", Dtype::F32, &shape, order, &vocab)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if values.iter().any(|v| v.is_nan() || *v == f32::INFINITY) {
            return Err("W contains NaN or +inf".into());
        }
        // Sampling ends a name only by drawing `.`: with it at -inf after every context, a
        // name would grow until memory ran out.
        if values
            .chunks_exact(vocab.len())
            .all(|row| row[0] == f32::NEG_INFINITY)
        {
            return Err("W gives the end of a name ('.') probability 0 after every context: no name could ever end".into());
        }
        let counts = match tensors.tensor("N") {
            Ok(n) => Some(read_counts(&n, &shape, order, &vocab)?),
            Err(_) => None,
        };
        // A count model's W is derived from N and the smoothing: commands that read W (eval,
        // sample) and those that read N (merge, train --counts) must see one model.
        if let (ModelKind::Counts, Some(n), Some(s)) = (header.kind, &counts, meta.smoothing) {
            let derived = Model::from_counts(n, &vocab, order, s)
                .weights()
                .map_err(|e| e.to_string())?;
            // Within a few float32 steps: another program's log may round differently.
            let close = |a: f32, b: f32| a == b || (a - b).abs() <= 1e-5 * a.abs().max(1.0);
            if derived.iter().zip(&values).any(|(&a, &b)| !close(a, b)) {
                return Err("W disagrees with N: a count model's W is log(N + smoothing)".into());
            }
        }
        Ok(Self {
            w: Tensor::from_slice(&values).view([rows as i64, vocab.len() as i64]),
            vocab,
            order,
            kind: header.kind,
            counts,
            meta,
        })
    }
}

/// A checkpoint as read: the model and the sha256 of the very bytes it was parsed from (what
/// `merge` and `train --init` record, without reading the file a second time).
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub model: Model,
    /// sha256 of the file's bytes.
    pub sha256: String,
}

/// Read the checkpoint at `path`: a regular file, or a fifo (`--model <(ssh host cat m)`), of at
/// most [`MAX_CHECKPOINT_BYTES`], parsed and validated. A device or a socket is refused (it
/// would never end, or never start). A fifo is opened and read watching `cancel`, so a stop
/// request ends a wait for its writer.
pub fn read(path: &Path, cancel: &Cancel) -> Result<Loaded> {
    let shown = path.display().to_string();
    let unreadable = |e| crate::io::unreadable("checkpoint", &shown, e);
    let too_large = |size| {
        Error::input(format!(
            "{shown} is {size} bytes, too large to be a bigram checkpoint"
        ))
    };
    let missing = "; make one with `bigram train` or `bigram count`";
    let meta = crate::io::input_metadata(path, "checkpoint", missing)?;
    let mut bytes = Vec::new();
    if meta.is_file() {
        if meta.len() > MAX_CHECKPOINT_BYTES {
            return Err(too_large(meta.len()));
        }
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CHECKPOINT_BYTES + 1).read_to_end(&mut bytes))
            .map_err(unreadable)?;
    } else if crate::io::is_fifo(&meta) {
        let owned = path.to_path_buf();
        let stream = WatchedRead::open(move || std::fs::File::open(owned), cancel.clone());
        if let Err(source) = stream
            .take(MAX_CHECKPOINT_BYTES + 1)
            .read_to_end(&mut bytes)
        {
            cancel.check(|| format!("while reading checkpoint {shown}"))?;
            return Err(unreadable(source));
        }
    } else {
        let kind = crate::io::file_type_name(&meta);
        crate::bail_input!("checkpoint {shown} is a {kind}, not a regular file");
    }
    if bytes.len() as u64 > MAX_CHECKPOINT_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let model = Model::from_bytes(&bytes)
        .map_err(|why| Error::input(format!("{shown}: {}", excerpt(why))))?;
    use sha2::{Digest, Sha256};
    Ok(Loaded {
        model,
        sha256: format!("{:x}", Sha256::digest(&bytes)),
    })
}

/// The metadata map safetensors writes: the header's keys and the meta's, as strings.
fn to_metadata(header: &Header, meta: &Meta) -> Result<std::collections::HashMap<String, String>> {
    let bad = |e: serde_json::Error| Error::failed(format!("cannot describe the metadata: {e}"));
    let mut map: std::collections::HashMap<String, String> =
        serde_json::from_value(serde_json::to_value(meta).map_err(bad)?).map_err(bad)?;
    let header: std::collections::HashMap<String, String> =
        serde_json::from_value(serde_json::to_value(header).map_err(bad)?).map_err(bad)?;
    map.extend(header);
    Ok(map)
}

/// Parse and validate a file's metadata: the format first (a file of another format may mean
/// anything by its other keys), then every value, naming the key of the first that is wrong.
fn from_metadata(
    map: std::collections::HashMap<String, String>,
) -> std::result::Result<(Header, Meta), String> {
    match map.get("format").map(String::as_str) {
        None => return Err(format!("{NOT_OURS}: metadata has no \"format\"")),
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "checkpoint format {other:?} is not {FORMAT:?}, the one this bigram reads"
            ))
        }
    }
    for key in ["vocab", "order", "kind"] {
        if !map.contains_key(key) {
            return Err(format!("{NOT_OURS}: metadata has no {key:?}"));
        }
    }
    let value = serde_json::to_value(map).map_err(|e| e.to_string())?;
    let header: Header = typed(&value)?;
    if !(2..=3).contains(&header.order) {
        return Err("metadata \"order\" must be 2 or 3".into());
    }
    let meta: Meta = typed(&value)?;
    meta.validate()?;
    Ok((header, meta))
}

/// A typed view of the metadata map; an error names the key whose value does not parse.
fn typed<T: serde::de::DeserializeOwned>(
    map: &serde_json::Value,
) -> std::result::Result<T, String> {
    serde_path_to_error::deserialize(map)
        .map_err(|e| format!("metadata {:?} is {}", e.path().to_string(), e.inner()))
}

/// A reason for refusing a checkpoint as a message shows it: a bad value it quotes may be
/// megabytes long, so a long reason keeps its start (what is wrong) and its end (why), with
/// `…` for the middle.
fn excerpt(why: String) -> String {
    let chars = why.chars().count();
    if chars <= 240 {
        return why;
    }
    let head: String = why.chars().take(160).collect();
    let tail: String = why.chars().skip(chars - 80).collect();
    format!("{head} … {tail}")
}

/// A tensor's bytes once its dtype and shape are the ones a model of this order needs.
fn read_tensor<'a>(
    t: &'a TensorView<'a>,
    name: &str,
    dtype: Dtype,
    shape: &[usize; 2],
    order: usize,
    vocab: &Vocab,
) -> std::result::Result<&'a [u8], String> {
    if t.dtype() != dtype {
        return Err(format!(
            "{name} has dtype {:?}; expected {dtype:?}",
            t.dtype()
        ));
    }
    if t.shape() != shape {
        return Err(format!(
            "{name} has shape {:?}; a model of order {order} over {} symbols needs {:?}",
            t.shape(),
            vocab.len(),
            shape
        ));
    }
    Ok(t.data())
}

/// The raw counts, each at least 0 and their total within a 64-bit count.
fn read_counts(
    n: &TensorView<'_>,
    shape: &[usize; 2],
    order: usize,
    vocab: &Vocab,
) -> std::result::Result<Counts, String> {
    let cells = read_tensor(n, "N", Dtype::I64, shape, order, vocab)?
        .chunks_exact(8)
        .map(|b| {
            let v = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            u64::try_from(v).map_err(|_| "N contains a negative count".to_string())
        })
        .collect::<std::result::Result<Vec<u64>, String>>()?;
    let counts = Counts {
        rows: shape[0],
        width: shape[1],
        cells,
    };
    if counts.checked_total().is_none() {
        return Err("the counts in N add up to more than a 64-bit count holds".into());
    }
    Ok(counts)
}

/// Rewrite a safetensors file's JSON header with its keys sorted (serde_json's maps are
/// ordered), padded with spaces to 8 bytes as the format does. The data offsets are relative
/// to the end of the header, so the tensor bytes follow unchanged.
fn canonical_header(bytes: &[u8]) -> Result<Vec<u8>> {
    let bad = || Error::failed("the checkpoint writer produced an unreadable header");
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let len = u64::from_le_bytes(len_bytes) as usize;
    let header = bytes.get(8..8 + len).ok_or_else(bad)?;
    let value: serde_json::Value = serde_json::from_slice(header).map_err(|_| bad())?;
    let mut json = serde_json::to_vec(&value).map_err(|_| bad())?;
    json.resize(json.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - len);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[8 + len..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::{DataFile, Piece, Start};

    fn model() -> Model {
        let w = Tensor::from_slice(&(0..729).map(|i| (i as f32).sin()).collect::<Vec<_>>())
            .view([27, 27]);
        let mut m = Model::network(w, &Vocab::letters(), 2);
        m.meta.seed = Some(7);
        m.meta.lr = Some(50.0);
        m
    }

    /// Bytes of a checkpoint whose metadata is `meta` exactly (no checks on the way out).
    fn with_metadata(meta: &[(&str, &str)]) -> Vec<u8> {
        let w = vec![0u8; 27 * 27 * 4];
        let view = TensorView::new(Dtype::F32, vec![27, 27], &w).unwrap();
        let meta: std::collections::HashMap<String, String> = meta
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

    /// Every field of [`Meta`] filled in.
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
            method: Some("index".into()),
            device: Some("cuda:1".into()),
            threads: Some(3),
            final_loss: Some(2.490492343902588),
            nll: Some(f64::INFINITY),
            smoothing: Some(0.5),
            // Legacy fields are read, never written: checked below.
            data_path: None,
            data_sha256: None,
        }
    }

    #[test]
    fn every_metadata_field_is_written_and_read_back() {
        let full = full_meta();
        // Every field is filled in: a new field left out of this test fails here.
        let value = serde_json::to_value(&full).unwrap();
        let listed = value.as_object().unwrap().len();
        assert_eq!(
            listed, 18,
            "a Meta field is not written, or this test misses it"
        );
        let mut m = model();
        m.meta = full.clone();
        let back = Model::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(back.meta, full);
        assert_eq!(back.kind, ModelKind::Network);
        assert_eq!(
            (back.order, back.vocab.as_string()),
            (2, m.vocab.as_string())
        );

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

    #[test]
    fn the_checkpoints_page_lists_exactly_the_keys_written() {
        let page = include_str!("../docs/checkpoints.md");
        let section = page
            .split("# Checkpoints\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/checkpoints.md has a Checkpoints section");
        // The first column of the table: `key` or `key`, `key`.
        let mut listed: Vec<String> = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .flat_map(|l| {
                let first = l.split('|').nth(1).unwrap_or_default();
                first
                    .split(',')
                    .map(|k| k.trim().trim_matches('`').to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        listed.sort();
        let mut m = model();
        m.meta = full_meta();
        let mut written: Vec<String> = to_metadata(
            &Header {
                format: FORMAT.into(),
                vocab: m.vocab.as_string(),
                order: 2,
                kind: ModelKind::Network,
            },
            &m.meta,
        )
        .unwrap()
        .into_keys()
        .collect();
        written.sort();
        assert_eq!(listed, written);
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
}
