//! Reading each epoch's results back to the host: every epoch on the CPU; on CUDA
//! [`CUDA_SYNC_EPOCHS`] at a time, after a warm-up epoch (docs/gpu.md says why). Progress,
//! interrupts and the divergence check happen at the reads.

use crate::data::Counts;
use crate::error::{Error, Result};
use crate::model::LogProbs;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// What one epoch's forward pass measured, before its update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epoch {
    /// Its number, from 1.
    pub epoch: usize,
    /// NLL + L2: what the update descends.
    pub loss: f64,
    /// NLL alone.
    pub nll: f64,
    /// NLL of the held-out counts, when the run follows some.
    pub dev_nll: Option<f64>,
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
    /// Seconds spent in the epochs (data loading and warm-up not included).
    pub seconds: f64,
    /// Seconds of the CUDA warm-up epoch (`None` on the CPU, which needs none).
    pub warmup_seconds: Option<f64>,
}

/// Called after each epoch; an error stops training (an interrupt).
pub type OnEpoch<'a> = &'a mut dyn FnMut(&Epoch) -> Result<()>;

/// A loss this many times the first epoch's (or 1, if that is smaller) has exploded: plain
/// gradient descent at a workable rate only brings the loss down, and one that diverges
/// grows by orders of magnitude within a few epochs. Caught here, a run that would only
/// overflow much later (the counts method works in float64) stops as the one-hot loop does.
pub const EXPLODED: f64 = 10.0;

/// The learning rate the notebook trains with (and the command line's default): a divergence's
/// message names first the knob that is out of range at this rate.
pub const DEFAULT_LR: f64 = 50.0;

/// What a gradient step was made of: what a divergence's message needs to name the knob.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub lr: f64,
    /// The weight of the L2 penalty reg · mean(W²).
    pub reg: f64,
    /// How many weights W has (the mean's denominator).
    pub weights: usize,
}

impl Step {
    /// Each step scales W by `1 - 2·lr·reg/weights` for the L2 term alone: past `lr·reg >
    /// weights` that factor is below -1 and W grows every epoch, whatever the data says.
    fn l2_factor(&self) -> f64 {
        1.0 - 2.0 * (self.lr * self.reg / self.weights.max(1) as f64)
    }

    /// Whether the L2 term alone makes W grow (so `--reg` matters as much as `--lr`).
    fn l2_explodes(&self) -> bool {
        self.l2_factor() < -1.0
    }

    /// "training diverged {at}", with the knob to turn: `--lr`, or, when the L2 term alone
    /// makes W grow, first the one of `--reg` and `--lr` that is out of range on its own.
    pub fn diverged(&self, epoch: usize, at: &str) -> Error {
        let (lr, reg) = (crate::number(self.lr), crate::number(self.reg));
        let message = if !self.l2_explodes() {
            format!(
                "training diverged {at}; lower --lr (now {lr}) and try again; nothing was saved"
            )
        } else {
            let at_default_rate = Step {
                lr: DEFAULT_LR,
                ..*self
            };
            let knobs = match at_default_rate.l2_explodes() {
                true => format!("--reg (now {reg}) or --lr (now {lr})"),
                false => format!("--lr (now {lr}) or --reg (now {reg})"),
            };
            format!(
                "training diverged {at}; the L2 term alone scales W by {} every epoch (lr × reg = {} is above the {} weights), so W grows whatever the data: lower {knobs}; nothing was saved",
                crate::number(self.l2_factor()),
                crate::number(self.lr * self.reg),
                self.weights
            )
        };
        Error::Diverged { epoch, message }
    }
}

/// Epochs between reads of the losses on CUDA: progress, interrupts and the divergence check
/// happen at these points.
pub const CUDA_SYNC_EPOCHS: usize = 25;

/// On CUDA, one epoch on a copy of `w0` (its seconds): kernels load and memory is set aside
/// before the timed epochs. Nothing on the CPU.
pub(super) fn warm_up(
    w0: &Tensor,
    device: Device,
    epoch: &mut impl FnMut(&mut Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<Option<f64>> {
    let Device::Cuda(index) = device else {
        return Ok(None);
    };
    let start = Instant::now();
    let mut scratch = w0.to_device(device).copy().set_requires_grad(true);
    let _warm = epoch(&mut scratch)?;
    tch::Cuda::synchronize(index as i64);
    Ok(Some(start.elapsed().as_secs_f64()))
}

/// Losses and NLLs per epoch (and the dev part's, when one is followed), read back to the host
/// every `every` epochs, each checked to be finite and not exploded ([`EXPLODED`]), and
/// reported to the caller's callback.
pub(super) struct EpochLog<'a> {
    every: usize,
    step: Step,
    pending: Vec<(usize, Tensor, Tensor)>,
    dev: Option<&'a Counts>,
    /// Copies of the weights whose dev NLLs are pending: on CUDA they stay on the device and
    /// are read back with the losses, so following the dev part adds no per-epoch stall.
    dev_weights: Vec<Tensor>,
    losses: Vec<f64>,
    nlls: Vec<f64>,
    dev_nlls: Vec<f64>,
    on_epoch: OnEpoch<'a>,
    start: Instant,
}

impl<'a> EpochLog<'a> {
    pub(super) fn new(
        epochs: usize,
        step: Step,
        every: usize,
        dev: Option<&'a Counts>,
        on_epoch: OnEpoch<'a>,
    ) -> Self {
        // A huge --epochs is allowed (an interrupt stops it): the vectors grow as epochs pass.
        let capacity = epochs.min(1 << 16);
        Self {
            every,
            step,
            pending: Vec::new(),
            dev,
            dev_weights: Vec::new(),
            losses: Vec::with_capacity(capacity),
            nlls: Vec::with_capacity(capacity),
            dev_nlls: Vec::new(),
            on_epoch,
            start: Instant::now(),
        }
    }

    /// The weights of the coming epoch's forward pass, whose dev NLL that epoch reports.
    pub(super) fn observe(&mut self, w: &Tensor) {
        if self.dev.is_some() {
            self.dev_weights.push(w.detach().copy());
        }
    }

    pub(super) fn push(&mut self, epoch: usize, loss: Tensor, nll: Tensor) -> Result<()> {
        self.pending.push((epoch, loss.detach(), nll.detach()));
        if self.pending.len() >= self.every {
            self.flush()?;
        }
        Ok(())
    }

    /// Read the pending values in one transfer and record them in order.
    pub(super) fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        // Losses then NLLs, stacked on the device: one copy to the host, one wait.
        let values: Vec<&Tensor> = pending
            .iter()
            .map(|(_, loss, _)| loss)
            .chain(pending.iter().map(|(_, _, nll)| nll))
            .collect();
        let read = Tensor::f_stack(&values, 0)?
            .f_to_device(Device::Cpu)?
            .f_to_kind(Kind::Double)?;
        let mut losses = Vec::<f64>::try_from(&read)?;
        let nlls = losses.split_off(pending.len());
        let mut dev_nlls = self.read_dev_nlls()?.into_iter();
        for ((&(epoch, ..), loss), nll) in pending.iter().zip(losses).zip(nlls) {
            self.record(Epoch {
                epoch,
                loss,
                // A perfect fit's -mean(log 1) is -0 on the device: 0, as model::nll gives it.
                nll: nll + 0.0,
                dev_nll: dev_nlls.next(),
            })?;
        }
        Ok(())
    }

    /// The dev NLLs of the weights observed since the last read, in order.
    fn read_dev_nlls(&mut self) -> Result<Vec<f64>> {
        let (Some(dev), false) = (self.dev, self.dev_weights.is_empty()) else {
            return Ok(Vec::new());
        };
        let weights =
            Tensor::stack(&std::mem::take(&mut self.dev_weights), 0).to_device(Device::Cpu);
        (0..weights.size()[0])
            .map(|i| Ok(LogProbs::of_logits(&weights.get(i))?.nll(dev)))
            .collect()
    }

    pub(super) fn record(&mut self, epoch: Epoch) -> Result<()> {
        // Diverged: not finite, or past [`EXPLODED`] times the first epoch's loss.
        let (n, loss, first) = (epoch.epoch, epoch.loss, self.losses.first().copied());
        if !loss.is_finite() || first.is_some_and(|first| loss > EXPLODED * first.max(1.0)) {
            let change = match first {
                Some(first) if loss.is_finite() => {
                    format!("the loss grew from {first:.4} to {loss:.4e}")
                }
                _ => format!("the loss became {loss}"),
            };
            return Err(self.step.diverged(n, &format!("at epoch {n}: {change}")));
        }
        self.losses.push(epoch.loss);
        self.nlls.push(epoch.nll);
        self.dev_nlls.extend(epoch.dev_nll);
        (self.on_epoch)(&epoch)
    }

    /// The run's record, ending with the final weights `w` (made, and copied to the CPU, after
    /// the clock stops) and the warm-up's seconds.
    pub(super) fn finish(self, w: impl FnOnce() -> Tensor, warmup_seconds: Option<f64>) -> Trained {
        Trained {
            seconds: self.start.elapsed().as_secs_f64(),
            w: w().detach().to_device(Device::Cpu),
            losses: self.losses,
            nlls: self.nlls,
            dev_nlls: self.dev_nlls,
            warmup_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_read_in_batches_come_back_in_order_and_a_nan_names_its_epoch() {
        let step = Step {
            lr: 1.0,
            reg: 0.0,
            weights: 9,
        };
        let losses = [2.5f32, 2.25, 2.125, 2.0625, 2.03125, 2.015625, 2.0078125];
        let mut seen = Vec::new();
        let mut on_epoch = |e: &Epoch| {
            seen.push((e.epoch, e.loss));
            Ok(())
        };
        // Every 3 epochs, as on CUDA: two batches of 3 (stacked reads) and 1 at the end.
        let mut log = EpochLog::new(7, step, 3, None, &mut on_epoch);
        for (i, &loss) in losses.iter().enumerate() {
            log.push(i + 1, Tensor::from(loss), Tensor::from(loss - 1.0))
                .unwrap();
        }
        log.flush().unwrap();
        let got = log.finish(|| Tensor::from(0.0f32), None);
        let want: Vec<f64> = losses.iter().map(|&l| f64::from(l)).collect();
        assert_eq!(got.losses, want);
        assert_eq!(got.nlls, want.iter().map(|l| l - 1.0).collect::<Vec<_>>());
        assert_eq!(seen, (1..=7).zip(want.iter().copied()).collect::<Vec<_>>());

        let mut on_epoch = |_: &Epoch| Ok(());
        let mut log = EpochLog::new(7, step, 3, None, &mut on_epoch);
        log.push(1, Tensor::from(1.0f32), Tensor::from(1.0f32))
            .unwrap();
        log.push(2, Tensor::from(f32::NAN), Tensor::from(1.0f32))
            .unwrap();
        let err = log
            .push(3, Tensor::from(1.0f32), Tensor::from(1.0f32))
            .unwrap_err();
        assert!(err.to_string().contains("epoch 2"), "{err}");
    }
}
