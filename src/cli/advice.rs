//! From an error to what the user reads and the exit code: the library's facts, plus advice
//! that names this program's flags. Exit codes: 0 success, 2 a problem with the input (the
//! message says what to do), 1 anything else, 128 + the signal after an interrupt.

use super::context::ReadFlags;
use bigram::error::{
    CheckpointError, DataError, DeviceError, MergeError, MergeFact, OutputError, ReferenceError,
    SampleError, Step, TrainError, VocabKind,
};
use bigram::files::Output;
use bigram::memory::Use;
use bigram::Error;

/// A problem with the command line that clap cannot see (two flags that clash, a value that
/// makes no sense with another).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Return early with a [`Usage`] error built like `format!`.
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::cli::advice::Usage(format!($($arg)*))))
    };
}
pub(crate) use usage;

/// An interruption says that nothing was written, and that the old file is as it was.
pub fn nothing_saved(err: bigram::Error, out: &Output) -> bigram::Error {
    match err {
        bigram::Error::Interrupted { at } if out.is_file() => bigram::Error::Interrupted {
            at: format!(
                "{at}; nothing was saved ({} is as it was)",
                out.given.display()
            ),
        },
        bigram::Error::Interrupted { at } => bigram::Error::Interrupted {
            at: format!("{at}; nothing was saved"),
        },
        other => other,
    }
}

/// The exit code of an error.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.is::<Usage>() {
        return 2;
    }
    match err.downcast_ref::<Error>() {
        Some(e) if e.is_input() => 2,
        _ => 1,
    }
}

/// The one line (or few) the user reads.
pub fn message(err: &anyhow::Error, flags: ReadFlags) -> String {
    match err.downcast_ref::<Error>() {
        Some(e) => explain(e, flags),
        None => format!("{err:#}"),
    }
}

fn explain(err: &Error, flags: ReadFlags) -> String {
    match err {
        Error::Data(e) => data(e, flags),
        Error::Checkpoint(CheckpointError::NotFound { .. }) => {
            format!("{err}; make one with `bigram train` or `bigram count`")
        }
        Error::Output(OutputError::NotPng { .. }) => {
            format!("{err}; give a file name ending in .png")
        }
        Error::Output(OutputError::IsInput { .. }) => format!("{err}; choose another path"),
        Error::Output(OutputError::SameOutput { .. }) => {
            format!("{err}; give each its own path")
        }
        Error::Output(OutputError::NotRegular { flag, .. }) => format!(
            "{err}; give a file path, or `{flag} -` to write to stdout (`{flag} /dev/null` keeps nothing)"
        ),
        Error::Output(OutputError::StdoutIsTerminal { .. }) => {
            format!("{err}; redirect stdout to a file or a pipe")
        }
        Error::Output(OutputError::IsStdout { flag, .. }) => {
            format!("{err}; write it with `{flag} -`, or redirect stdout elsewhere")
        }
        Error::Output(OutputError::IsStderr { .. }) => {
            format!("{err}; give another path, or redirect stderr elsewhere")
        }
        Error::Output(OutputError::StdoutIsInput { .. }) => {
            format!("{err}; redirect stdout elsewhere")
        }
        Error::Output(OutputError::WriteFailed { .. }) => {
            format!("{err}; the output it was putting in place was not written")
        }
        Error::Memory { what, .. } => match what {
            Use::OneHot | Use::Index | Use::Examples => format!(
                "{err}; use --method counts, whose memory does not grow with the data, or `bigram count` then `bigram train --counts`"
            ),
            Use::Names => format!(
                "{err}; give a smaller data file (without --split, counting needs no names kept)"
            ),
            Use::Notebook => format!(
                "{err}; replay the notebook on fewer names (`head -n 100000 FILE > part.txt`)"
            ),
            Use::Threads(_) => format!("{err}; give fewer --threads, or raise `ulimit -v`"),
        },
        Error::Train(e) => train(e),
        Error::Sample(SampleError::NoDistribution { .. }) => format!(
            "{err}; retrain it (a smaller --lr, or --smoothing above 0) or choose another --prefix"
        ),
        Error::Sample(SampleError::Overflow { .. }) => format!(
            "{err}; the model itself is fine: sample it with --sampler fast (float64, each row shifted by its maximum) or a --temperature other than 1 (each row shifted by its maximum before exp), which give other names than PyTorch would"
        ),
        Error::Sample(SampleError::GaveUp { .. }) => {
            format!("{err}; relax --min-len/--novel/--prefix or raise --max-attempts")
        }
        Error::Device(e) => device(e),
        Error::Merge(MergeError::Mismatch {
            fact: MergeFact::Smoothing,
            ..
        }) => {
            format!("{err}; pass --smoothing to choose the merged model's")
        }
        Error::Merge(MergeError::Duplicate { .. }) => {
            format!("{err}: merging would count it twice; give each piece once")
        }
        Error::Merge(MergeError::NoCounts { .. }) => {
            format!("{err}; count its data again with this version of `bigram count`")
        }
        Error::Merge(MergeError::Mismatch { .. }) => {
            format!("{err}; count every piece with the same --vocab, --order and --lowercase")
        }
        Error::Reference(e) => reference(e),
        _ => err.to_string(),
    }
}

fn data(err: &DataError, flags: ReadFlags) -> String {
    match err {
        // The default file is missing: setup has not been run.
        DataError::NotFound { path } if path == super::args::DEFAULT_DATA => {
            format!("{err}; run scripts/setup.sh to fetch it, or pass --data PATH")
        }
        DataError::IsDirectory { .. } => format!("{err}; pass the names file itself"),
        DataError::NotUtf8 { .. } => format!("{err}; names files must be UTF-8 text"),
        DataError::LineTooLong { .. } => format!("{err}; is this a file of names, one per line?"),
        DataError::Boundary { .. } => format!("{err}; remove it"),
        DataError::ControlCharacter { ch: '\r', .. } => format!(
            "{err}: the file's lines end with a carriage return alone (old Mac style); convert them to newlines, e.g. tr '\\r' '\\n' < old.txt > new.txt"
        ),
        DataError::ControlCharacter { .. } => {
            format!("{err}; names files are text, one name per line: remove it")
        }
        DataError::VocabularyTooLarge { .. } => format!(
            "{err}; is this a file of names? Keep to letters (the default vocabulary, with --lowercase), or remove the rare characters"
        ),
        DataError::Repeated { .. } => format!("{err}; give each file once"),
        DataError::UnknownCharacter {
            path,
            line,
            name,
            ch,
            lowercase,
            lower_known,
            vocab,
        } => {
            if flags == ReadFlags::None {
                return format!(
                    "{path}:{line}: character {ch:?} (U+{:04X}) in {name:?} is not in the vocabulary this command reads with; fix the file",
                    *ch as u32
                );
            }
            if ch.is_uppercase() && !lowercase && *lower_known {
                return format!(
                    "{path}:{line}: upper-case {ch:?} in {name:?}; pass --lowercase to fold names to lower case"
                );
            }
            match vocab {
                VocabKind::Model => format!("{err}; the model's vocabulary cannot encode it"),
                _ => format!("{err}; pass --vocab auto to build the vocabulary from the data"),
            }
        }
        _ => err.to_string(),
    }
}

fn train(err: &TrainError) -> String {
    match err {
        TrainError::Diverged { step, .. } | TrainError::DivergedAfter { step, .. } => {
            let (lr, reg) = (super::printer::number(step.lr), super::printer::number(step.reg));
            if !step.l2_explodes() {
                return format!("{err}; lower --lr (now {lr}) and try again; nothing was saved");
            }
            // Both knobs set the L2 step; name first the one that is out of range on its own
            // (a --reg that explodes even at the default rate, or else the rate).
            let at_default_rate = Step {
                lr: super::args::DEFAULT_LR,
                ..*step
            };
            let knobs = if at_default_rate.l2_explodes() {
                format!("--reg (now {reg}) or --lr (now {lr})")
            } else {
                format!("--lr (now {lr}) or --reg (now {reg})")
            };
            format!(
                "{err}; the L2 term alone scales W by {:.3} every epoch (lr × reg = {} is above the {} weights), so W grows whatever the data: lower {knobs}; nothing was saved",
                step.l2_factor(),
                super::printer::number(step.lr * step.reg),
                step.weights
            )
        }
        TrainError::OneHotTooLarge { .. } => format!(
            "{err}; use --method index or --method counts, which reach the same objective without it"
        ),
        TrainError::InitNotFinite => {
            format!("{err}; start from a network, or from a count model with --smoothing above 0")
        }
        TrainError::InitShape { .. } | TrainError::InitMismatch { .. } => {
            format!("{err}; --init needs a checkpoint of the same vocabulary and order")
        }
        TrainError::Internal(_) => err.to_string(),
    }
}

fn device(err: &DeviceError) -> String {
    match err {
        DeviceError::Unknown { .. } => format!("{err}; use cpu, cuda, cuda:N or auto"),
        DeviceError::NoCuda | DeviceError::CudaBackend { .. } => {
            format!("{err}; use --device cpu or --device auto")
        }
        DeviceError::NoSuchCuda { count, .. } => {
            format!("{err} (cuda:0..cuda:{})", count.saturating_sub(1))
        }
    }
}

fn reference(err: &ReferenceError) -> String {
    let fix = "run scripts/setup.sh, or pass --python PATH to a Python with torch 2.13";
    match err {
        ReferenceError::NoPython => format!("{err}; run scripts/setup.sh or pass --python PATH"),
        ReferenceError::NotRunnable { .. } | ReferenceError::NoTorch { .. } => {
            format!("{err}; {fix}")
        }
        _ => err.to_string(),
    }
}
