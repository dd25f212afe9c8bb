//! `bigram train`: fit the network by gradient descent and save a checkpoint.

use super::args::TensorboardArg;
use super::args::{variants, DeviceArg, OptimArgs, OrderArg, ReadArgs, RegArg, SplitArgs};
use super::printer::Report;
use super::split::SplitReport;
use super::Context;
use bigram::device::parse_device;
use bigram::io::{check_png, plan_outputs, Source};
use bigram::tensorboard::EventLog;
use bigram::train::{fit, method_for, Fit, Method, Summary, TrainOn};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    #[command(flatten, next_help_heading = "Input")]
    read: ReadArgs,
    #[command(flatten, next_help_heading = "Input")]
    split: SplitArgs,
    /// Train from the raw counts of a count checkpoint (`bigram count`, `bigram merge`) instead
    /// of reading data: the counts method, no data file needed.
    #[arg(long, value_name = "CKPT", help_heading = "Input", conflicts_with_all = ["data", "lowercase", "vocab", "order"])]
    counts: Option<PathBuf>,
    /// Start from this checkpoint's weights instead of the seed's (same vocabulary and order);
    /// plain gradient descent has no other state, so training resumes exactly.
    #[arg(long, value_name = "CKPT", conflicts_with = "seed")]
    init: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Output")]
    tensorboard: TensorboardArg,
    /// Also draw the loss per epoch (and the dev NLL when splitting) to this PNG.
    #[arg(long, value_name = "PNG")]
    plot: Option<PathBuf>,
    /// Where to write the checkpoint (safetensors; written atomically).
    #[arg(long, default_value = "model.safetensors", value_name = "PATH")]
    out: PathBuf,
    #[command(flatten, next_help_heading = "Optimisation")]
    optim: OptimArgs,
    #[command(flatten, next_help_heading = "Optimisation")]
    reg: RegArg,
    /// How each epoch is computed (all reach the same objective) [default: onehot; counts with
    /// --counts].
    #[arg(long, value_parser = variants::<Method>(), help_heading = "Optimisation")]
    method: Option<Method>,
    #[command(flatten, next_help_heading = "Model")]
    order: OrderArg,
    #[command(flatten, next_help_heading = "Device")]
    device: DeviceArg,
}

/// What `train` reports: the run's numbers, where the checkpoint went, and the split's NLLs.
#[derive(Serialize)]
struct TrainReport {
    #[serde(flatten)]
    run: Summary,
    out: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<SplitReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tensorboard: Option<String>,
    #[serde(skip)]
    saved: String,
    #[serde(skip)]
    plot: Option<String>,
}

impl Report for TrainReport {
    fn render(&self) -> String {
        let run = &self.run;
        let mut text = format!(
            "epoch {}: loss {:.4} (nll {:.4} + L2)\n\
             {} (nll of the saved weights on the training data: {:.4}; {:.2} s training, {} method)\n",
            run.epochs, run.loss, run.last_epoch_nll, self.saved, run.nll, run.seconds, run.method
        );
        if let Some(split) = &self.split {
            text += &split.line;
        }
        if let Some(plot) = &self.plot {
            text += &format!("loss curve: {plot}\n");
        }
        if let Some(log) = &self.tensorboard {
            text += &format!("TensorBoard log: {log}\n");
        }
        text
    }
}

impl super::Run for TrainArgs {
    fn inputs(&self) -> Vec<Source> {
        let counts = self.counts.clone().map(|c| vec![Source::File(c)]);
        let mut inputs = counts.unwrap_or_else(|| self.read.data.data.clone());
        inputs.extend(self.init.clone().map(Source::File));
        inputs
    }
    fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let split = self.split.split.is_some();
        let method = method_for(self.counts.as_deref(), self.method, split)?;
        let device = parse_device(&self.device.device)?;
        // The checkpoint (and the picture), checked against each other and against what is read.
        let mut planned = vec![("--out", self.out.as_path())];
        planned.extend(self.plot.as_deref().map(|plot| ("--plot", plot)));
        let outputs = plan_outputs(&planned, &super::Run::inputs(&self))?;
        if let Some(plot) = outputs.get(1) {
            check_png(plot)?;
        }
        let tensorboard = self.tensorboard.checked()?;
        let read = self.read.options(ctx);
        let names = || TrainOn::Names {
            sources: &self.read.data.data,
            read: &read,
            order: self.order.value,
            split: self.split.get(),
        };
        let run = Fit {
            data: self.counts.as_deref().map_or_else(names, TrainOn::Counts),
            init: self.init.as_deref(),
            config: self.optim.config(self.reg.value, method, device),
            threads: ctx.threads,
            cancel: &ctx.cancel,
            tensorboard,
        };
        let bar = ctx.printer.epoch_bar(self.optim.epochs);
        let fitted = fit(&run, &mut |data| ctx.note_data(data), &mut |e| {
            bar.set_position(e.epoch as u64);
            bar.set_message(format!("{:.4}", e.loss));
            Ok(())
        })
        .map_err(|e| outputs[0].nothing_saved(e))?;
        // Staged, neither replaces a file until delivered: a failed picture leaves all as it was.
        let picture = outputs.get(1).map(|p| p.stage(fitted.loss_curve()?));
        let mut pending = vec![outputs[0].stage(fitted.model.to_bytes()?)?];
        pending.extend(picture.transpose()?);
        let report = TrainReport {
            run: fitted.summary(),
            out: self.out.display().to_string(),
            split: SplitReport::of(&fitted.data, &fitted.model)?,
            saved: super::printer::outcome(&outputs[0]),
            plot: outputs.get(1).map(super::printer::shown),
            tensorboard: fitted
                .log
                .as_ref()
                .map(|log| log.path().display().to_string()),
        };
        ctx.printer.deliver(&report, pending)?;
        Ok(fitted.log.map(EventLog::keep).transpose().map(|_| ())?)
    }
}
