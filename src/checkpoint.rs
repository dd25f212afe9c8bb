//! Checkpoints: a model as a safetensors file that Python reads as it is.
//!
//! The file holds `W` (float32, contexts × vocabulary), for a count model also `N` (int64, the
//! raw counts), and string metadata: `format`, `vocab`, `order`, `kind` and how the model was
//! made. The header's keys are written in sorted order, so the same model gives the same bytes
//! (the same command on the same data writes a byte-identical file). Files are written
//! through a temporary file and a rename.

use crate::data::Counts;
use crate::error::{CheckpointError, Error, Result};
use crate::model::{Model, ModelKind};
use crate::vocab::{context_count, Vocab};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::Tensor;

/// Checkpoint format tag, stored under `format` in the metadata.
pub const FORMAT: &str = "bigram-checkpoint/1";

/// Checkpoints larger than this are refused before being read (a 3-gram over a large
/// vocabulary with its counts is still far below it).
const MAX_CHECKPOINT_BYTES: u64 = 512 << 20;

const NOT_OURS: &str = "not a bigram checkpoint (expected a safetensors file written by `bigram train` or `bigram count`)";

impl Model {
    /// The checkpoint's bytes: safetensors with a header in sorted key order.
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
                .map_err(|e| Error::internal(format!("cannot describe a tensor: {e:?}")))
        };
        let mut tensors = vec![("W", view(Dtype::F32, &w)?)];
        if let Some(n) = &n {
            tensors.push(("N", view(Dtype::I64, n)?));
        }
        let mut meta: std::collections::HashMap<String, String> =
            self.meta.clone().into_iter().collect();
        meta.insert("format".into(), FORMAT.into());
        meta.insert("vocab".into(), self.vocab.as_string());
        meta.insert("order".into(), self.order.to_string());
        meta.insert("kind".into(), self.kind.as_str().into());
        let bytes = safetensors::serialize(tensors, &Some(meta))
            .map_err(|e| Error::internal(format!("cannot serialise the checkpoint: {e:?}")))?;
        canonical_header(&bytes)
    }

    /// Write the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::files::write_atomically(path, &self.to_bytes()?)
    }

    /// Read a checkpoint, checking that it is one of ours and that its tensors fit its
    /// vocabulary.
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let size = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CheckpointError::NotFound { path: shown }.into())
            }
            Err(source) => {
                return Err(CheckpointError::Unreadable {
                    path: shown,
                    source,
                }
                .into())
            }
            Ok(m) if m.is_dir() => return Err(CheckpointError::IsDirectory { path: shown }.into()),
            Ok(m) => m.len(),
        };
        if size > MAX_CHECKPOINT_BYTES {
            return Err(CheckpointError::TooLarge { path: shown, size }.into());
        }
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Unreadable {
            path: shown.clone(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|why| CheckpointError::Invalid { path: shown, why }.into())
    }

    /// Parse checkpoint bytes; the error says what is wrong, without the file name.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| format!("{NOT_OURS}: {e}"))?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| format!("{NOT_OURS}: {e}"))?;
        let meta: BTreeMap<String, String> = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| format!("{NOT_OURS}: metadata has no {key:?}"))
        };
        let vocab = Vocab::parse(get("vocab")?).map_err(|e| format!("bad vocabulary: {e}"))?;
        let order: usize = get("order")?
            .parse()
            .ok()
            .filter(|o| (2..=3).contains(o))
            .ok_or("metadata \"order\" must be 2 or 3")?;
        let kind = match get("kind")?.as_str() {
            "network" => ModelKind::Network,
            "counts" => ModelKind::Counts,
            other => return Err(format!("unknown model kind {other:?}")),
        };
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
        let counts = match tensors.tensor("N") {
            Ok(n) => Some(read_counts(&n, &shape, order, &vocab)?),
            Err(_) => None,
        };
        Ok(Self {
            w: Tensor::from_slice(&values).view([rows as i64, vocab.len() as i64]),
            vocab,
            order,
            kind,
            counts,
            meta,
        })
    }
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
    Ok(Counts {
        rows: shape[0],
        width: shape[1],
        cells,
    })
}

/// Rewrite a safetensors file's JSON header with its keys sorted (serde_json's maps are
/// ordered), padded with spaces to 8 bytes as the format does. The data offsets are relative
/// to the end of the header, so the tensor bytes follow unchanged.
fn canonical_header(bytes: &[u8]) -> Result<Vec<u8>> {
    let bad = || Error::internal("the checkpoint writer produced an unreadable header");
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

/// Where a run that resumes from a checkpoint started: recorded as its `init` metadata, so
/// that a chain of resumed runs can be traced back to its seed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Start {
    /// The starting checkpoint, absolute.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// The epochs behind it, since the seed's weights, through every earlier resume.
    pub epochs_total: u64,
    /// The seed the chain started from, however many resumes ago.
    pub seed: Option<String>,
}

impl Start {
    /// The record of starting from `model`, read from `path`.
    pub fn of(path: &Path, model: &Model) -> Result<Self> {
        let chain: Option<serde_json::Value> = model
            .meta
            .get("init")
            .and_then(|chain| serde_json::from_str(chain).ok());
        let seed = model.meta.get("seed").cloned().or_else(|| {
            chain
                .as_ref()
                .and_then(|c| c["seed"].as_str().map(String::from))
        });
        let epochs_total = model
            .meta
            .get("epochs_total")
            .or(model.meta.get("epochs"))
            .and_then(|e| e.parse().ok())
            .unwrap_or(0);
        Ok(Self {
            path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            sha256: crate::data::sha256_file(path)?,
            epochs_total,
            seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let w = Tensor::from_slice(&(0..729).map(|i| (i as f32).sin()).collect::<Vec<_>>())
            .view([27, 27]);
        let mut m = Model::network(w, &Vocab::letters(), 2);
        for (k, v) in [("seed", "7"), ("zeta", "last"), ("alpha", "first")] {
            m.meta.insert(k.into(), v.into());
        }
        m
    }

    #[test]
    fn checkpoint_round_trips_bit_for_bit() {
        let m = model();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        m.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(back.weights().unwrap()), bits(m.weights().unwrap()));
        assert_eq!(back.meta["seed"], "7");
        assert_eq!(back.kind, ModelKind::Network);
        assert!(back.counts.is_none());
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
    fn garbage_is_a_clear_error_not_a_panic() {
        let err = Model::from_bytes(b"hello world, not safetensors").unwrap_err();
        assert!(err.contains("not a bigram checkpoint"), "{err}");
        assert!(Model::from_bytes(&[]).is_err());
    }
}
