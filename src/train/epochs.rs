//! The epochs: full-batch gradient descent on the mean negative log likelihood plus an L2
//! penalty (the network's smoothing), as the notebook does it, by one of three [`Method`]s
//! that reach the same objective (docs/training.md compares them). Reading results back and
//! spotting divergence is `readback`'s; a whole run is [`super::fit`].

use super::counts::CountsObjective;
use super::readback::{warm_up, Epoch, EpochLog, OnEpoch, Step, Trained, CUDA_SYNC_EPOCHS};
use crate::data::{Counts, Examples, Source};
use crate::error::{Error, Result};
use crate::memory;
use crate::provenance::Method;
use tch::{Device, Kind, Tensor};

/// Largest one-hot input the `onehot` method builds. The one-hot matrix is the notebook's
/// operation, not a necessity: past this size (its int64 and float copies, with libtorch's
/// products beside them, would strain an ordinary workstation) the `index` and `counts`
/// methods reach the same objective without it, and the error says so.
pub const MAX_ONE_HOT_BYTES: u128 = 8 << 30;

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

/// What a run trains on: the examples (for `onehot` and `index`), their counts, and held-out
/// counts to follow epoch by epoch.
#[derive(Clone, Copy, Debug)]
pub struct TrainData<'a> {
    /// The examples, when the method needs them.
    pub examples: Option<&'a Examples>,
    /// Their counts.
    pub counts: &'a Counts,
    /// Held-out counts whose NLL is followed.
    pub dev: Option<&'a Counts>,
}

/// Initial weights: a standard normal `rows × width` matrix from the CPU generator seeded with
/// `seed` (the same numbers as `torch.randn((rows, width), generator=Generator().manual_seed(seed))`).
/// Always drawn on the CPU, so a CUDA run starts from the CPU run's weights.
pub fn initial_weights(seed: i64, rows: usize, width: usize) -> Tensor {
    crate::device::CpuGenerator::manual_seed(seed).randn([rows as i64, width as i64])
}

/// Train from the seed's initial weights.
pub fn train(data: TrainData<'_>, config: &TrainConfig, on_epoch: OnEpoch<'_>) -> Result<Trained> {
    let w0 = initial_weights(config.seed, data.counts.rows, data.counts.width);
    train_from(w0, data, config, on_epoch)
}

/// Train from given initial weights (a checkpoint's, to resume).
pub fn train_from(
    w0: Tensor,
    data: TrainData<'_>,
    config: &TrainConfig,
    on_epoch: OnEpoch<'_>,
) -> Result<Trained> {
    let want = vec![data.counts.rows, data.counts.width];
    let got: Vec<usize> = w0.size().iter().map(|&d| d as usize).collect();
    if got != want {
        crate::bail_input!("the initial weights have shape {got:?}; this data needs {want:?}; --init needs a checkpoint of the same vocabulary and order");
    }
    let (rows, width) = (data.counts.rows, data.counts.width);
    let count = data.examples.map_or(0, |ex| ex.len() as u64);
    check_memory(config.method, count, rows, width)?;
    let examples = || {
        let needs = format!("the {} method needs the examples", config.method);
        data.examples.ok_or_else(|| Error::failed(needs))
    };
    let step = Step {
        lr: config.lr,
        reg: config.reg,
        weights: rows * width,
    };
    let trained = match config.method {
        Method::OneHot => {
            let onehot = OneHot::new(examples()?, rows, config.device)?;
            run_tensor_epochs(w0, data.dev, step, config, on_epoch, |w| {
                onehot.epoch(w, config.lr, config.reg)
            })?
        }
        Method::Index => {
            let ex = examples()?;
            let inputs = Tensor::f_from_slice(&ex.inputs)?.f_to_device(config.device)?;
            let targets = Tensor::f_from_slice(&ex.targets)?.f_to_device(config.device)?;
            run_tensor_epochs(w0, data.dev, step, config, on_epoch, |w| {
                index_epoch(&inputs, &targets, w, config)
            })?
        }
        Method::Counts => run_counts_epochs(w0, data, step, config, on_epoch)?,
    };
    // The last update comes after the last loss was checked: it can still overflow.
    if !bool::try_from(trained.w.isfinite().all())? {
        let at = format!(
            "after epoch {}: the final weights are not finite",
            config.epochs
        );
        return Err(step.diverged(config.epochs, &at));
    }
    Ok(trained)
}

/// The epoch loop shared by the tensor methods: an optional warm-up on CUDA, then `epoch`
/// (which updates W and returns its forward pass's loss and NLL) `config.epochs` times.
fn run_tensor_epochs(
    w0: Tensor,
    dev: Option<&Counts>,
    step: Step,
    config: &TrainConfig,
    on_epoch: OnEpoch<'_>,
    mut epoch: impl FnMut(&mut Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<Trained> {
    let warmup_seconds = warm_up(&w0, config.device, &mut epoch)?;
    let every = if config.device.is_cuda() {
        CUDA_SYNC_EPOCHS
    } else {
        1
    };
    let mut w = w0.to_device(config.device).set_requires_grad(true);
    let mut log = EpochLog::new(config.epochs, step, every, dev, on_epoch);
    for n in 1..=config.epochs {
        log.observe(&w);
        let (loss, nll) = epoch(&mut w)?;
        log.push(n, loss, nll)?;
    }
    log.flush()?;
    Ok(log.finish(|| w, warmup_seconds))
}

/// The `counts` method: the objective over the counts in f64, on the CPU.
fn run_counts_epochs(
    w0: Tensor,
    data: TrainData<'_>,
    step: Step,
    config: &TrainConfig,
    on_epoch: OnEpoch<'_>,
) -> Result<Trained> {
    let mut w: Vec<f64> = crate::model::tensor_to_vec(&w0)?
        .into_iter()
        .map(f64::from)
        .collect();
    let mut objective = CountsObjective::new(w.len());
    let mut scratch = CountsObjective::new(w.len());
    let mut log = EpochLog::new(config.epochs, step, 1, None, on_epoch);
    for epoch in 1..=config.epochs {
        let dev_nll = data.dev.map(|dev| scratch.evaluate(dev, &w, 0.0).1);
        let (loss, nll) = objective.evaluate(data.counts, &w, config.reg);
        for (wi, gi) in w.iter_mut().zip(&objective.grad) {
            *wi -= config.lr * gi;
        }
        log.record(Epoch {
            epoch,
            loss,
            nll,
            dev_nll,
        })?;
    }
    // The f64 -> f32 weights are made after the clock stops, as the tensor methods' copy to
    // the CPU is.
    let shape = [data.counts.rows as i64, data.counts.width as i64];
    Ok(log.finish(
        || {
            let w: Vec<f32> = w.into_iter().map(|v| v as f32).collect();
            Tensor::from_slice(&w).view(shape)
        },
        None,
    ))
}

/// The notebook's tensors for one-hot training, on one device.
pub struct OneHot {
    /// One-hot inputs, float, `examples × contexts`.
    xenc: Tensor,
    /// Target index of each example.
    targets: Tensor,
    /// 0..examples: each example's row, to pick its target's probability.
    example_index: Tensor,
}

impl OneHot {
    /// Encode examples for a model with `contexts` rows; refuses a one-hot matrix too large to
    /// build (the other methods need none). Here and in the epochs, every tensor the size of
    /// the data comes from an `f_` call: libtorch out of memory is an error, not a panic.
    pub fn new(examples: &Examples, contexts: usize, device: Device) -> Result<Self> {
        check_one_hot_size(examples.len(), contexts)?;
        let inputs = Tensor::f_from_slice(&examples.inputs)?;
        let xenc = inputs
            .f_one_hot(contexts as i64)?
            .f_to_kind(Kind::Float)?
            .f_to_device(device)?;
        let targets = Tensor::f_from_slice(&examples.targets)?.f_to_device(device)?;
        let example_index = Tensor::f_arange(examples.len() as i64, (Kind::Int64, device))?;
        Ok(Self {
            xenc,
            targets,
            example_index,
        })
    }

    /// Forward pass: NLL of the targets, -mean(log p[row, target]), with p the probabilities
    /// of the next character for every example: exp(xenc @ W), rows normalised.
    pub fn nll(&self, w: &Tensor) -> Result<Tensor> {
        let exp_logits = self.xenc.f_matmul(w)?.f_exp()?;
        let sums = exp_logits.f_sum_dim_intlist(1, true, None::<Kind>)?;
        let probs = exp_logits.f_div(&sums)?;
        let picked = probs.f_index(&[Some(&self.example_index), Some(&self.targets)])?;
        Ok(picked.f_log()?.f_mean(None::<Kind>)?.f_neg()?)
    }

    /// One epoch of the notebook's loop: forward, loss (+ `reg * mean(W²)`), its gradient,
    /// update without tracking gradients. Returns the forward pass's loss and NLL (0-dim
    /// tensors on the device), computed before the update.
    pub fn epoch(&self, w: &mut Tensor, lr: f64, reg: f64) -> Result<(Tensor, Tensor)> {
        descend(w, self.nll(w)?, lr, reg)
    }
}

/// Refuses a one-hot input of `examples` rows of `contexts` too large to build: the int64
/// one-hot and its float copy take 12 bytes a cell while both exist.
pub fn check_one_hot_size(examples: usize, contexts: usize) -> Result<()> {
    let bytes = examples as u128 * contexts as u128 * 12;
    if bytes > MAX_ONE_HOT_BYTES {
        crate::bail_input!(
            "the one-hot input would take {:.1} GiB ({examples} examples × {contexts} contexts); use --method index or --method counts, which reach the same objective without it",
            bytes as f64 / (1u64 << 30) as f64
        );
    }
    Ok(())
}

/// The gradient of `loss` with respect to `w`, fresh each call: what PyTorch leaves in `W.grad`
/// after `W.grad = None; loss.backward()`. Taking it from the backward pass directly, rather
/// than zeroing `w.grad()` and accumulating into it, saves a fill and an add per epoch (two
/// kernel launches on CUDA, where an epoch is launch-bound) and gives the same bits.
fn gradient(loss: &Tensor, w: &Tensor) -> Result<Tensor> {
    let grad = Tensor::f_run_backward(&[loss], &[w], false, false)?.pop();
    match grad {
        Some(grad) if grad.defined() => Ok(grad),
        _ => Err(Error::failed("the backward pass gave W no gradient")),
    }
}

/// One epoch of the `index` method: W[X] and cross entropy, same objective and update.
fn index_epoch(
    inputs: &Tensor,
    targets: &Tensor,
    w: &mut Tensor,
    config: &TrainConfig,
) -> Result<(Tensor, Tensor)> {
    // tch's cross_entropy_for_logits, through calls that can fail.
    let log_probs = w
        .f_index_select(0, inputs)?
        .f_log_softmax(-1, Kind::Float)?;
    let nll = log_probs.f_nll_loss::<Tensor>(targets, None, tch::Reduction::Mean, -100)?;
    descend(w, nll, config.lr, config.reg)
}

/// The rest of an epoch of either tensor method, from its NLL: the loss (+ `reg * mean(W²)`),
/// its gradient and the update. Returns the loss and NLL of the weights before the update.
fn descend(w: &mut Tensor, nll: Tensor, lr: f64, reg: f64) -> Result<(Tensor, Tensor)> {
    let loss = &nll + w.pow_tensor_scalar(2).mean(None::<Kind>) * reg;
    let step = gradient(&loss, w)? * -lr;
    // The update without tracking gradients: `W += -lr * grad`.
    tch::no_grad(|| w.f_add_(&step).map(|_| ()))?;
    Ok((loss, nll))
}

/// Refuse a run whose tensors would take more memory than is left, before any is taken (the
/// counts method's take none): `examples` is their count, or an upper bound of it (a file's
/// size, before reading it).
pub fn check_memory(method: Method, examples: u64, contexts: usize, width: usize) -> Result<()> {
    let what = format!("the {method} method's tensors");
    let need = tensor_bytes(method, examples, contexts, width);
    memory::check(need, &what, crate::data::USE_COUNTS)
}

/// The most bytes `method`'s tensors take at once for `examples` examples (0 for counts).
pub fn tensor_bytes(method: Method, examples: u64, contexts: usize, width: usize) -> u64 {
    let (contexts, width) = (contexts as u64, width as u64);
    let per_example = match method {
        // Inputs, targets and rows as tensors; the int64 one-hot beside its float copy, or
        // the float one-hot beside the forward and backward passes' examples × width floats.
        Method::OneHot => 32 + (12 * contexts).max(4 * contexts + 28 * width),
        // Inputs and targets as tensors; W[X], its log-softmax and their gradients.
        Method::Index => 16 + 24 * width,
        Method::Counts => 0,
    };
    examples.saturating_mul(per_example)
}

/// [`check_memory`] before reading: each byte of the data files gives at most one example
/// (a character, or the end of a name), and the vocabulary has at least the 27 letters.
/// Streams are checked as they are read ([`crate::data::Corpus::load`]).
pub fn check_memory_of_files(method: Method, sources: &[Source], order: usize) -> Result<()> {
    let Some(bytes) = crate::data::size_of(sources) else {
        return Ok(());
    };
    let width = crate::vocab::Vocab::letters().len();
    let contexts = crate::vocab::context_count(width, order);
    check_memory(method, bytes + sources.len() as u64, contexts, width)
}
