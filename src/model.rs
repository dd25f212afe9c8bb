//! The model: a matrix of logits W, one row per context and one column per next character,
//! with its vocabulary, and its checkpoint file.
//!
//! Both kinds of model share this shape. The network learns W by gradient descent (`train`);
//! the count model sets W = log(N + smoothing), so that exp/sum of a row gives its smoothed
//! bigram frequencies and `sample` and `eval` serve both without knowing which is which.
//! Checkpoints are safetensors files holding `W` (float32) and string metadata.

use crate::bail_user;
use crate::data::Counts;
use crate::error::user;
use crate::vocab::{context_count, Vocab};
use anyhow::{Context, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Checkpoint format tag, stored under `format` in the metadata.
pub const FORMAT: &str = "bigram-checkpoint/1";

/// Checkpoints larger than this are refused before being read (a 3-gram over a large
/// vocabulary is still far below it).
const MAX_CHECKPOINT_BYTES: u64 = 512 << 20;

/// How the weights were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// Trained by gradient descent on the one-hot network.
    Network,
    /// Smoothed counts: W = log(N + smoothing).
    Counts,
}

impl ModelKind {
    /// The name stored in checkpoints.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Network => "network",
            ModelKind::Counts => "counts",
        }
    }
}

/// Logits for the next character given the previous `order - 1` characters.
#[derive(Debug)]
pub struct Model {
    /// `contexts × vocab` float32 logits on the CPU.
    pub w: Tensor,
    /// The characters the rows and columns stand for.
    pub vocab: Vocab,
    /// 2 for bigrams, 3 for trigrams.
    pub order: usize,
    /// Network or counts.
    pub kind: ModelKind,
    /// How it was made: seed, epochs, lr, reg, smoothing, losses, data checksum...
    pub meta: BTreeMap<String, String>,
}

impl Model {
    /// The count model of some counts: W = log(N + smoothing), computed as the reference does
    /// (`(N + s).float().log()`).
    pub fn from_counts(counts: &Counts, vocab: &Vocab, order: usize, smoothing: f64) -> Self {
        let w = (counts.to_tensor() + smoothing).to_kind(Kind::Float).log();
        Self {
            w,
            vocab: vocab.clone(),
            order,
            kind: ModelKind::Counts,
            meta: BTreeMap::new(),
        }
    }

    /// Number of rows (contexts).
    pub fn rows(&self) -> usize {
        context_count(self.vocab.len(), self.order)
    }

    /// Mean negative log likelihood of counted examples under this model.
    ///
    /// The project's one formula, used by `eval`, `count`, the training report and the Python
    /// reference alike: -Σ C·log_softmax(W) / ΣC in float64, with empty cells contributing 0
    /// (so a count model without smoothing, whose unseen cells are -inf, stays finite).
    pub fn nll(&self, counts: &Counts) -> f64 {
        nll_of_logits(&self.w, counts)
    }

    /// The weights as a row-major `Vec<f32>`.
    pub fn weights(&self) -> Vec<f32> {
        // W is a float32 CPU tensor by construction (`from_counts`, `from_bytes`, training).
        tensor_to_vec(&self.w).expect("W is a float tensor on the CPU")
    }

    /// Write the checkpoint atomically: a temporary file in the same folder, then a rename, so
    /// an interrupted save never leaves a partial file at `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let weights = self.weights();
        let bytes: Vec<u8> = weights.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape = vec![self.rows(), self.vocab.len()];
        let view = TensorView::new(Dtype::F32, shape, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot describe W for safetensors: {e:?}"))?;
        let mut meta: HashMap<String, String> = self.meta.clone().into_iter().collect();
        meta.insert("format".into(), FORMAT.into());
        meta.insert("vocab".into(), self.vocab.as_string());
        meta.insert("order".into(), self.order.to_string());
        meta.insert("kind".into(), self.kind.as_str().into());
        let serialized = safetensors::serialize([("W", view)], &Some(meta))
            .map_err(|e| anyhow::anyhow!("cannot serialise the checkpoint: {e:?}"))?;
        write_atomically(path, &serialized)
    }

    /// Read a checkpoint, checking that it is one of ours and that W fits its vocabulary.
    pub fn load(path: &Path) -> Result<Self> {
        let shown = path.display();
        let size = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail_user!(
                "checkpoint {shown} not found; make one with `bigram train` or `bigram count`"
            ),
            Err(e) => bail_user!("cannot read checkpoint {shown}: {e}"),
            Ok(m) if m.is_dir() => bail_user!("checkpoint path {shown} is a directory"),
            Ok(m) => m.len(),
        };
        if size > MAX_CHECKPOINT_BYTES {
            bail_user!("{shown} is {size} bytes, too large to be a bigram checkpoint");
        }
        let bytes = std::fs::read(path)
            .map_err(|e| user(format!("cannot read checkpoint {shown}: {e}")))?;
        Self::from_bytes(&bytes).map_err(|e| user(format!("{shown}: {e}")))
    }

    /// Parse checkpoint bytes; the error says what is wrong, without the file name.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let not_ours = "not a bigram checkpoint (expected a safetensors file written by `bigram train` or `bigram count`)";
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| format!("{not_ours}: {e}"))?;
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| format!("{not_ours}: {e}"))?;
        let meta: BTreeMap<String, String> = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| format!("{not_ours}: metadata has no {key:?}"))
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
        let w = tensors
            .tensor("W")
            .map_err(|_| format!("{not_ours}: it has no tensor named W"))?;
        if w.dtype() != Dtype::F32 {
            return Err(format!("W has dtype {:?}; expected F32", w.dtype()));
        }
        let rows = context_count(vocab.len(), order);
        if w.shape() != [rows, vocab.len()] {
            return Err(format!(
                "W has shape {:?}; a model of order {order} over {} symbols needs [{rows}, {}]",
                w.shape(),
                vocab.len(),
                vocab.len()
            ));
        }
        let values: Vec<f32> = w
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if values.iter().any(|v| v.is_nan() || *v == f32::INFINITY) {
            return Err("W contains NaN or +inf".into());
        }
        let w = Tensor::from_slice(&values).view([rows as i64, vocab.len() as i64]);
        Ok(Self {
            w,
            vocab,
            order,
            kind,
            meta,
        })
    }
}

/// The canonical NLL (see [`Model::nll`]) of any logits tensor.
pub fn nll_of_logits(w: &Tensor, counts: &Counts) -> f64 {
    let logp = no_nan(
        w.detach()
            .to_kind(Kind::Double)
            .log_softmax(1, None::<Kind>),
    );
    let c = counts
        .to_tensor()
        .to_device(logp.device())
        .to_kind(Kind::Double);
    let empty = c.eq(0.0);
    let total = -(&c * logp.masked_fill(&empty, 0.0)).sum(None::<Kind>) / c.sum(None::<Kind>);
    total.double_value(&[])
}

/// log_softmax of a row that is all -inf (a count model without smoothing, for a context it
/// never saw) is NaN; such a row gives every character probability 0, so log p is -inf.
fn no_nan(logp: Tensor) -> Tensor {
    let nan = logp.isnan();
    logp.masked_fill(&nan, f64::NEG_INFINITY)
}

/// A tensor's values, row-major, as f32 (moved to the CPU first).
pub fn tensor_to_vec(t: &Tensor) -> Result<Vec<f32>> {
    let flat = t
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Float)
        .reshape([-1]);
    Ok(Vec::<f32>::try_from(&flat)?)
}

/// Refuse a picture path early unless it names a PNG (the only format drawn).
pub fn check_png(path: &Path) -> Result<()> {
    let is_png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        bail_user!(
            "{}: pictures are written as PNG; give a file name ending in .png",
            path.display()
        );
    }
    check_writable(path)
}

/// Refuse an output path early, before any work: its folder must exist and be writable.
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        bail_user!(
            "cannot write {}: folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail_user!("cannot write {}: it is a directory", path.display());
    }
    let probe = tempfile::Builder::new()
        .prefix(".bigram-probe")
        .tempfile_in(&dir)
        .map_err(|e| user(format!("cannot write {}: {e}", path.display())))?;
    drop(probe);
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Write bytes to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".bigram-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| user(format!("cannot write {}: {e}", path.display())))?;
    // tempfile creates 0600 files; a checkpoint is an ordinary file (0644 before the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| user(format!("cannot write {}: {}", path.display(), e.error)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips_bit_for_bit() {
        let w = Tensor::from_slice(&(0..729).map(|i| (i as f32).sin()).collect::<Vec<_>>())
            .view([27, 27]);
        let mut m = Model {
            w,
            vocab: Vocab::letters(),
            order: 2,
            kind: ModelKind::Network,
            meta: BTreeMap::new(),
        };
        m.meta.insert("seed".into(), "7".into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        m.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(back.weights()), bits(m.weights()));
        assert_eq!(back.meta["seed"], "7");
        assert_eq!(back.kind, ModelKind::Network);
    }

    #[test]
    fn garbage_is_a_clear_error_not_a_panic() {
        let err = Model::from_bytes(b"hello world, not safetensors").unwrap_err();
        assert!(err.contains("not a bigram checkpoint"), "{err}");
        assert!(Model::from_bytes(&[]).is_err());
    }

    #[test]
    fn nll_of_uniform_logits_is_log_width() {
        let mut counts = Counts::new(27, 2);
        counts.cells[5] = 3;
        counts.cells[30] = 1;
        let w = Tensor::zeros([27, 27], (Kind::Float, tch::Device::Cpu));
        assert!((nll_of_logits(&w, &counts) - 27f64.ln()).abs() < 1e-12);
    }
}

/// log p(next | context) for every cell, in f64: what scoring a name needs.
#[derive(Clone, Debug)]
pub struct LogProbs {
    width: usize,
    rows: usize,
    cells: Vec<f64>,
}

impl LogProbs {
    /// log_softmax of each row of a model's logits.
    pub fn of(model: &Model) -> Result<Self> {
        let logp = no_nan(model.w.to_kind(Kind::Double).log_softmax(1, None::<Kind>));
        let cells = Vec::<f64>::try_from(&logp.reshape([-1]))?;
        Ok(Self {
            width: model.vocab.len(),
            rows: model.rows(),
            cells,
        })
    }

    /// log p of a whole name: the sum over its examples, the end token included.
    pub fn of_name(&self, indices: &[usize]) -> f64 {
        let mut total = 0.0;
        crate::data::for_each_pair(indices, self.rows, self.width, |context, next| {
            total += self.cells[context * self.width + next];
        });
        total
    }
}
