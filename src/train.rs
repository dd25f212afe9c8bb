//! Training the network: full-batch gradient descent on the mean negative log likelihood plus
//! an L2 penalty (the network's smoothing), exactly as the notebook does it.
//!
//! Three methods reach the same objective:
//! - `onehot`: the notebook's operations (one-hot matmul, exp/sum, index, log, mean, backward),
//!   bit-identical to PyTorch on the CPU;
//! - `index`: a row lookup W[X] and tch's cross entropy, skipping the one-hot matmul;
//! - `counts`: the objective rewritten over the counts matrix C, with the gradient written out,
//!   O(contexts × vocab) per epoch instead of O(examples × contexts × vocab).
//!
//! This module knows nothing of files or flags; it takes examples or counts and returns weights.

use crate::bail_user;
use crate::data::{Counts, Examples};
use anyhow::Result;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// How to compute each epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Method {
    /// The notebook's one-hot matmul (PyTorch-exact).
    #[default]
    OneHot,
    /// Row lookup and cross entropy.
    Index,
    /// Closed-form gradient over the counts matrix, in plain Rust.
    Counts,
}

impl Method {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::OneHot => "onehot",
            Method::Index => "index",
            Method::Counts => "counts",
        }
    }
}

/// Hyper-parameters of one training run.
#[derive(Clone, Copy, Debug)]
pub struct TrainConfig {
    /// Passes over the whole data set.
    pub epochs: usize,
    /// Learning rate of the plain gradient step.
    pub lr: f64,
    /// Weight of the mean(W²) penalty.
    pub reg: f64,
    /// Seed of the CPU generator that draws the initial weights.
    pub seed: i64,
    /// How epochs are computed.
    pub method: Method,
    /// Where the tensors live (`counts` always runs on the CPU).
    pub device: Device,
}

/// What training produced.
#[derive(Debug)]
pub struct Trained {
    /// Final weights, on the CPU.
    pub w: Tensor,
    /// Loss (NLL + L2) of every epoch, from its forward pass, before its update.
    pub losses: Vec<f64>,
    /// NLL alone of every epoch.
    pub nlls: Vec<f64>,
    /// NLL of the held-out counts at every epoch, with the weights of that epoch's forward
    /// pass (empty when none were given).
    pub dev_nlls: Vec<f64>,
    /// Seconds spent in the epochs (data loading not included).
    pub seconds: f64,
}

/// Initial weights: a standard normal `rows × width` matrix from the CPU generator seeded with
/// `seed` (the same numbers as `torch.randn((rows, width), generator=Generator().manual_seed(seed))`).
/// Always drawn on the CPU, so a CUDA run starts from the CPU run's weights.
pub fn initial_weights(seed: i64, rows: usize, width: usize) -> Tensor {
    crate::device::with_cpu_seed(seed, || {
        Tensor::randn([rows as i64, width as i64], (Kind::Float, Device::Cpu))
    })
}

/// Largest one-hot input the `onehot` method builds (the machines this runs on have 24 GB).
pub const MAX_ONE_HOT_BYTES: u128 = 8 << 30;

/// The notebook's tensors for one-hot training, on one device.
pub struct OneHot {
    /// One-hot inputs, float, `examples × contexts`.
    pub xenc: Tensor,
    /// Target index of each example.
    pub targets: Tensor,
    /// 0..examples, to pick each row's target probability.
    pub rows: Tensor,
}

impl OneHot {
    /// Encode examples for a model with `contexts` rows; refuses (a user error) a one-hot
    /// matrix too large to build, pointing at the methods that need none.
    pub fn new(examples: &Examples, contexts: usize, device: Device) -> Result<Self> {
        // The int64 one-hot and its float copy: 12 bytes a cell while both exist.
        let bytes = examples.len() as u128 * contexts as u128 * 12;
        if bytes > MAX_ONE_HOT_BYTES {
            bail_user!(
                "the one-hot input would take {:.1} GiB ({} examples × {contexts} contexts); use --method index or --method counts, which reach the same objective without it",
                bytes as f64 / (1u64 << 30) as f64,
                examples.len()
            );
        }
        let inputs = Tensor::from_slice(&examples.inputs);
        let xenc = inputs
            .one_hot(contexts as i64)
            .to_kind(Kind::Float)
            .to_device(device);
        let targets = Tensor::from_slice(&examples.targets).to_device(device);
        let rows = Tensor::arange(examples.len() as i64, (Kind::Int64, device));
        Ok(Self {
            xenc,
            targets,
            rows,
        })
    }

    /// Probabilities of the next character for every example: exp(xenc @ W), rows normalised.
    pub fn probabilities(&self, w: &Tensor) -> Tensor {
        let counts = self.xenc.matmul(w).exp();
        &counts / counts.sum_dim_intlist(1, true, None::<Kind>)
    }

    /// Forward pass: NLL of the targets, -mean(log p[row, target]).
    pub fn nll(&self, w: &Tensor) -> Tensor {
        let probs = self.probabilities(w);
        let picked = probs.index(&[Some(&self.rows), Some(&self.targets)]);
        -picked.log().mean(None::<Kind>)
    }
}

/// What the update line of an epoch does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// `W += -lr * grad`: gradient descent.
    Step,
    /// `W.data = -lr * grad`: the notebook's `In [40]` as written (it replaces W).
    Assign,
}

/// One epoch of the notebook's loop: forward, loss (+ `reg * mean(W²)` when `reg` is given),
/// fresh gradient, backward, update without tracking gradients. Returns (loss, nll) of the
/// forward pass, computed before the update.
pub fn onehot_epoch(
    data: &OneHot,
    w: &mut Tensor,
    lr: f64,
    reg: Option<f64>,
    update: Update,
) -> Result<(f64, f64)> {
    let nll = data.nll(w);
    let loss = match reg {
        Some(reg) => &nll + w.pow_tensor_scalar(2).mean(None::<Kind>) * reg,
        None => nll.shallow_clone(),
    };
    w.zero_grad();
    loss.f_backward()?;
    apply_update(w, lr, update)?;
    Ok((loss.f_double_value(&[])?, nll.f_double_value(&[])?))
}

/// The update without tracking gradients: `W += -lr * grad` or, as written in the notebook,
/// `W.data = -lr * grad`.
pub fn apply_update(w: &mut Tensor, lr: f64, update: Update) -> Result<()> {
    let step = w.grad() * -lr;
    tch::no_grad(|| match update {
        Update::Step => w.f_add_(&step).map(|_| ()),
        Update::Assign => {
            w.set_data(&step);
            Ok(())
        }
    })?;
    Ok(())
}

/// One epoch of the `index` method: W[X] and cross entropy, same objective and update.
fn index_epoch(
    inputs: &Tensor,
    targets: &Tensor,
    w: &mut Tensor,
    lr: f64,
    reg: f64,
) -> Result<(f64, f64)> {
    let logits = w.index_select(0, inputs);
    let nll = logits.cross_entropy_for_logits(targets);
    let loss = &nll + w.pow_tensor_scalar(2).mean(None::<Kind>) * reg;
    w.zero_grad();
    loss.f_backward()?;
    apply_update(w, lr, Update::Step)?;
    Ok((loss.f_double_value(&[])?, nll.f_double_value(&[])?))
}

/// Train from the seed's initial weights, following the NLL of held-out `dev` counts when
/// given. `examples` is needed by `onehot` and `index`; `counts` by `counts`.
/// `on_epoch(epoch, loss)` is called after each epoch (1-based) and may stop training by
/// returning an error (e.g. on SIGINT).
pub fn train(
    examples: Option<&Examples>,
    counts: &Counts,
    dev: Option<&Counts>,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(usize, f64) -> Result<()>,
) -> Result<Trained> {
    let w0 = initial_weights(config.seed, counts.rows, counts.width);
    train_from(w0, examples, counts, dev, config, &mut on_epoch)
}

/// [`train`] from given initial weights (the parity checker perturbs them), also following
/// the NLL of held-out `dev` counts epoch by epoch when given.
pub fn train_from(
    w0: Tensor,
    examples: Option<&Examples>,
    counts: &Counts,
    dev: Option<&Counts>,
    config: &TrainConfig,
    on_epoch: &mut dyn FnMut(usize, f64) -> Result<()>,
) -> Result<Trained> {
    // A huge --epochs is allowed (SIGINT stops it); the vectors grow as epochs pass.
    let mut losses = Vec::with_capacity(config.epochs.min(1 << 16));
    let mut nlls = Vec::with_capacity(config.epochs.min(1 << 16));
    let mut dev_nlls = Vec::new();
    let mut follow_dev = |w: &Tensor| {
        if let Some(dev) = dev {
            dev_nlls.push(crate::model::nll_of_logits(w, dev));
        }
    };
    let mut record = |epoch: usize, (loss, nll): (f64, f64)| -> Result<()> {
        if !loss.is_finite() {
            bail_user!(
                "training diverged at epoch {epoch}: the loss became {loss}; lower --lr (now {}) and try again; nothing was saved",
                config.lr
            );
        }
        losses.push(loss);
        nlls.push(nll);
        on_epoch(epoch, loss)
    };
    let needs_examples =
        || anyhow::anyhow!("the {} method needs the examples", config.method.as_str());
    let start;
    let w = match config.method {
        Method::OneHot => {
            let data = OneHot::new(
                examples.ok_or_else(needs_examples)?,
                counts.rows,
                config.device,
            )?;
            let mut w = w0.to_device(config.device).set_requires_grad(true);
            start = Instant::now();
            for epoch in 1..=config.epochs {
                follow_dev(&w);
                record(
                    epoch,
                    onehot_epoch(&data, &mut w, config.lr, Some(config.reg), Update::Step)?,
                )?;
            }
            w
        }
        Method::Index => {
            let ex = examples.ok_or_else(needs_examples)?;
            let inputs = Tensor::from_slice(&ex.inputs).to_device(config.device);
            let targets = Tensor::from_slice(&ex.targets).to_device(config.device);
            let mut w = w0.to_device(config.device).set_requires_grad(true);
            start = Instant::now();
            for epoch in 1..=config.epochs {
                follow_dev(&w);
                record(
                    epoch,
                    index_epoch(&inputs, &targets, &mut w, config.lr, config.reg)?,
                )?;
            }
            w
        }
        Method::Counts => {
            let mut w: Vec<f64> = crate::model::tensor_to_vec(&w0)?
                .into_iter()
                .map(f64::from)
                .collect();
            let mut grad = vec![0f64; w.len()];
            start = Instant::now();
            let mut scratch = vec![0f64; w.len()];
            for epoch in 1..=config.epochs {
                if let Some(dev) = dev {
                    dev_nlls.push(counts_loss_and_grad(dev, &w, 0.0, &mut scratch).1);
                }
                let (loss, nll) = counts_loss_and_grad(counts, &w, config.reg, &mut grad);
                for (wi, gi) in w.iter_mut().zip(&grad) {
                    *wi -= config.lr * gi;
                }
                record(epoch, (loss, nll))?;
            }
            let w: Vec<f32> = w.into_iter().map(|v| v as f32).collect();
            Tensor::from_slice(&w).view([counts.rows as i64, counts.width as i64])
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let w = w.detach().to_device(Device::Cpu);
    // The last update comes after the last loss was checked: it can still overflow.
    if !bool::try_from(w.isfinite().all())? {
        bail_user!(
            "training diverged after epoch {}: the final weights are not finite; lower --lr (now {}) and try again; nothing was saved",
            config.epochs,
            config.lr
        );
    }
    Ok(Trained {
        w,
        losses,
        nlls,
        dev_nlls,
        seconds,
    })
}

/// The objective over counts and its gradient, in f64:
/// loss = -(1/N) Σ C·log softmax(W) + reg·mean(W²),
/// grad = (1/N)(rowsum(C)·softmax(W) − C) + 2·reg·W / |W|.
/// Returns (loss, nll) and writes the gradient into `grad`.
pub fn counts_loss_and_grad(counts: &Counts, w: &[f64], reg: f64, grad: &mut [f64]) -> (f64, f64) {
    let width = counts.width;
    let n = counts.total() as f64;
    let size = w.len() as f64;
    let mut nll = 0.0;
    let mut sum_sq = 0.0;
    for ((row, c_row), g_row) in w
        .chunks_exact(width)
        .zip(counts.cells.chunks_exact(width))
        .zip(grad.chunks_exact_mut(width))
    {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|v| (v - max).exp()).sum();
        let log_z = max + z.ln();
        let row_total: u64 = c_row.iter().sum();
        for ((&wij, &cij), gij) in row.iter().zip(c_row).zip(g_row.iter_mut()) {
            let logp = wij - log_z;
            if cij > 0 {
                nll -= cij as f64 * logp;
            }
            *gij = (row_total as f64 * logp.exp() - cij as f64) / n + 2.0 * reg * wij / size;
            sum_sq += wij * wij;
        }
    }
    let nll = nll / n;
    (nll + reg * sum_sq / size, nll)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_42_draws_the_notebook_weights() {
        // In [10]: torch.randn((27, 1), generator=Generator().manual_seed(42)) starts
        // 1.9269, 1.4873, 0.9007, -2.1055.
        let w = initial_weights(42, 27, 1);
        let v = crate::model::tensor_to_vec(&w).unwrap();
        for (got, want) in v.iter().zip([1.9269, 1.4873, 0.9007, -2.1055]) {
            assert!((got - want).abs() < 6e-5, "{got} vs {want}");
        }
    }

    #[test]
    fn counts_gradient_matches_autograd_on_the_same_objective() {
        let mut counts = Counts::new(27, 2);
        for (i, c) in counts.cells.iter_mut().enumerate() {
            *c = ((i * 7919) % 13) as u64;
        }
        let w0 = initial_weights(3, 27, 27);
        let w: Vec<f64> = crate::model::tensor_to_vec(&w0)
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        let mut grad = vec![0.0; w.len()];
        let (loss, _) = counts_loss_and_grad(&counts, &w, 0.1, &mut grad);

        let wt = Tensor::from_slice(&w)
            .view([27, 27])
            .set_requires_grad(true);
        let c = counts.to_tensor().to_kind(Kind::Double);
        let nll = -(&c * wt.log_softmax(1, None::<Kind>)).sum(None::<Kind>) / c.sum(None::<Kind>);
        let auto = nll + wt.pow_tensor_scalar(2).mean(None::<Kind>) * 0.1;
        auto.backward();
        assert!((auto.double_value(&[]) - loss).abs() < 1e-12);
        let g: Vec<f64> = Vec::try_from(&wt.grad().reshape([-1])).unwrap();
        for (a, b) in g.iter().zip(&grad) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
