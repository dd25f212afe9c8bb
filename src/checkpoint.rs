//! Checkpoints: a model as a safetensors file that Python reads as it is (docs/checkpoints.md
//! says what it holds). Its metadata is one typed description, [`Header`] with [`Meta`]:
//! writing serialises it with its keys sorted (the same model gives the same bytes), reading
//! parses and validates it, and nothing else handles metadata strings. Files are written
//! through a temporary file and a rename; reading is bounded in size.

use crate::cancel::Cancel;
use crate::data::Counts;
use crate::error::{Error, Result};
use crate::io::WatchedRead;
use crate::model::{Model, ModelKind};
use crate::provenance::{DataFile, Meta};
use crate::vocab::{context_count, Vocab};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use serde_aux::serde_introspection::serde_introspect;
use serde_with::{serde_as, DisplayFromStr};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::Tensor;

/// Checkpoint format tag, stored under `format`; a file with any other is refused.
pub const FORMAT: &str = "bigram-checkpoint/1";

/// Checkpoints larger than this are refused before being read (a 3-gram over a large
/// vocabulary with its counts is still far below it).
pub const MAX_CHECKPOINT_BYTES: u64 = 512 << 20;

const NOT_OURS: &str = "not a bigram checkpoint (expected a safetensors file written by `bigram train` or `bigram count`)";

/// What a checkpoint's tensors mean; how the model was made is [`Meta`], in the same string map.
#[serde_as]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: String,
    /// The vocabulary, its characters in index order (`.` first).
    pub vocab: String,
    /// 2 for bigrams, 3 for trigrams.
    #[serde_as(as = "DisplayFromStr")]
    pub order: usize,
    /// `network` or `counts`.
    pub kind: ModelKind,
}

impl Model {
    /// The checkpoint's bytes: safetensors, laid out as its writer lays them out (the wider
    /// dtype first: N, then W), with the JSON header's keys sorted (serde_json's maps are
    /// ordered, so the same model gives the same bytes) and padded with spaces to 8 bytes.
    /// Metadata that [`Model::from_bytes`] would refuse is not written.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
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
        let w: Vec<u8> = self
            .weights()?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let n = (self.counts.as_ref()).map(|c| {
            c.cells
                .iter()
                .flat_map(|&v| (v as i64).to_le_bytes())
                .collect()
        });
        let tensors = n
            .map(|n| ("N", "I64", n))
            .into_iter()
            .chain([("W", "F32", w)]);
        let mut json = serde_json::json!({ "__metadata__": metadata });
        let (shape, mut data) = ([self.rows(), self.vocab.len()], Vec::new());
        for (name, dtype, bytes) in tensors {
            let offsets = [data.len(), data.len() + bytes.len()];
            json[name] =
                serde_json::json!({ "dtype": dtype, "shape": shape, "data_offsets": offsets });
            data.extend(bytes);
        }
        let mut json = serde_json::to_vec(&json)
            .map_err(|e| Error::failed(format!("cannot serialise the checkpoint: {e}")))?;
        json.resize(json.len().div_ceil(8) * 8, b' ');
        Ok([&(json.len() as u64).to_le_bytes()[..], &json, &data].concat())
    }

    /// Write the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::Staged::new(path, "output", &self.to_bytes()?)?.commit()
    }

    /// Read a checkpoint, checking that it is one of ours and that its tensors fit its
    /// vocabulary ([`read`], for callers that never stop early).
    pub fn load(path: &Path) -> Result<Self> {
        Ok(read(path, &Cancel::never())?.model)
    }

    /// Parse checkpoint bytes; the error says what is wrong, without the file name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
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
        let values: Vec<f32> = read_tensor(&w, "W", Dtype::F32, &shape, order)?
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
            Ok(n) => Some(read_counts(&n, &shape, order)?),
            Err(_) => None,
        };
        // A count model's W is derived from N and the smoothing: commands that read W (eval,
        // sample) and those that read N (merge, train --counts) must see one model.
        if let (ModelKind::Counts, Some(n), Some(s)) = (header.kind, &counts, meta.smoothing) {
            let derived = Model::from_counts(n, &vocab, order, s)
                .weights()
                .map_err(|e| e.to_string())?;
            // Equal, or within a few float32 steps of a finite stored W, as another program's
            // log may round differently; an infinite value on either side is close to nothing.
            let close = |a: f32, b: f32| {
                a == b || b.is_finite() && (a - b).abs() <= 1e-5 * b.abs().max(1.0)
            };
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

/// A checkpoint as read: the path it was read from (what messages name), the model, and the
/// sha256 of the very bytes it was parsed from (what `merge` and `train --init` record, without
/// reading the file a second time).
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub model: Model,
    pub sha256: String,
}

impl Loaded {
    /// The raw counts of a count checkpoint (from `bigram count` or `bigram merge`); a trained
    /// network, or a count model saved without them, is refused.
    pub fn raw_counts(&self) -> Result<&Counts> {
        let invalid = |why: &str| Error::input(format!("{}: {why}", self.path.display()));
        if self.model.kind != ModelKind::Counts {
            return Err(invalid("it is a trained network, not a count model; give a checkpoint from `bigram count` or `bigram merge`"));
        }
        self.model.counts.as_ref().ok_or_else(|| {
            invalid(
                "it has no raw counts (N); count the data again with this version of `bigram count`",
            )
        })
    }
}

/// Read the checkpoint at `path`: a regular file, or a fifo (`--model <(ssh host cat m)`), of at
/// most [`MAX_CHECKPOINT_BYTES`], parsed and validated. A device or a socket is refused (it
/// would never end, or never start). It is opened and read watching `cancel`, so a stop
/// request ends a wait for a fifo's writer.
pub fn read(path: &Path, cancel: &Cancel) -> Result<Loaded> {
    let shown = path.display().to_string();
    let too_large = |size| {
        Error::input(format!(
            "{shown} is {size} bytes, too large to be a bigram checkpoint"
        ))
    };
    let missing = "; make one with `bigram train` or `bigram count`";
    let meta = crate::io::input_metadata(path, "checkpoint", missing)?;
    if !meta.is_file() && !std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
        let kind = crate::io::file_type_name(&meta);
        crate::bail_input!("checkpoint {shown} is a {kind}, not a regular file");
    }
    if meta.len() > MAX_CHECKPOINT_BYTES {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    WatchedRead::path(path, cancel)
        .take(MAX_CHECKPOINT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::io::read_failed(cancel, "checkpoint", &shown, e))?;
    if bytes.len() as u64 > MAX_CHECKPOINT_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let model = Model::from_bytes(&bytes)
        .map_err(|why| Error::input(format!("{shown}: {}", excerpt(why))))?;
    use sha2::{Digest, Sha256};
    Ok(Loaded {
        path: path.to_path_buf(),
        model,
        sha256: format!("{:x}", Sha256::digest(&bytes)),
    })
}

/// Every key a checkpoint's metadata holds: [`Header`]'s fields, then [`Meta`]'s, as their
/// serde derives name them. The writer and the reader are those derives, so a field added to
/// either struct is written, read and listed here at once.
pub fn keys() -> Vec<&'static str> {
    [serde_introspect::<Header>(), serde_introspect::<Meta>()].concat()
}

/// The metadata map safetensors writes: the header's keys and the meta's, as strings.
fn to_metadata(header: &Header, meta: &Meta) -> Result<HashMap<String, String>> {
    fn strings(value: impl Serialize) -> serde_json::Result<HashMap<String, String>> {
        serde_json::from_value(serde_json::to_value(value)?)
    }
    let bad = |e| Error::failed(format!("cannot describe the metadata: {e}"));
    let mut map = strings(meta).map_err(bad)?;
    map.extend(strings(header).map_err(bad)?);
    Ok(map)
}

/// Parse and validate a file's metadata: the format first (a file of another format may mean
/// anything by its other keys), then every value, naming the key of the first that is wrong.
fn from_metadata(mut map: HashMap<String, String>) -> Result<(Header, Meta), String> {
    match map.get("format").map(String::as_str) {
        None => return Err(format!("{NOT_OURS}: metadata has no \"format\"")),
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "checkpoint format {other:?} is not {FORMAT:?}, the one this bigram reads"
            ))
        }
    }
    for key in serde_introspect::<Header>() {
        if !map.contains_key(*key) {
            return Err(format!("{NOT_OURS}: metadata has no {key:?}"));
        }
    }
    // Checkpoints written before `data_files` record their one data file as `data_path` and
    // `data_sha256`: read as the list that replaced them.
    if !map.contains_key("data_files") {
        if let Some(path) = map.remove("data_path") {
            let file = DataFile {
                path: Some(path),
                sha256: map.remove("data_sha256"),
                range: None,
            };
            let files = serde_json::to_string(&[file]).map_err(|e| e.to_string())?;
            map.insert("data_files".into(), files);
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

/// A typed view of the metadata map; an error names the key whose value does not parse, and
/// quotes the value.
fn typed<T: serde::de::DeserializeOwned>(map: &serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(map).map_err(|e| {
        let key = e.path().to_string();
        match map.get(&key).and_then(serde_json::Value::as_str) {
            Some(value) => format!("metadata {key:?} is {value:?} ({})", e.inner()),
            None => format!("metadata {key:?} is {}", e.inner()),
        }
    })
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
) -> Result<&'a [u8], String> {
    if t.dtype() != dtype {
        return Err(format!(
            "{name} has dtype {:?}; expected {dtype:?}",
            t.dtype()
        ));
    }
    if t.shape() != shape {
        return Err(format!(
            "{name} has shape {:?}; a model of order {order} over {} symbols needs {shape:?}",
            t.shape(),
            shape[1]
        ));
    }
    Ok(t.data())
}

/// The raw counts, each at least 0 and their total within a 64-bit count.
fn read_counts(n: &TensorView<'_>, shape: &[usize; 2], order: usize) -> Result<Counts, String> {
    let cells = read_tensor(n, "N", Dtype::I64, shape, order)?
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
