//! The library's errors: typed values that carry the facts (the file, the line, the character,
//! the value that diverged) and no advice about command-line flags.
//!
//! Each error says what went wrong in library terms; the `bigram` binary adds the advice that
//! names its flags and picks the exit code. [`Error::is_input`] tells a problem with what the
//! caller asked for (a file, a value, a checkpoint) from a failure of the program itself.

use std::path::PathBuf;
use thiserror::Error;

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the library can fail with.
/// What grows with the data ([`crate::memory`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryUse {
    /// The one-hot method's tensors (the notebook's xenc, logits, probabilities, gradients).
    OneHot,
    /// The index method's tensors (W[X], log-softmax, gradients).
    Index,
    /// The list of examples kept while reading (the notebook's X and y).
    Examples,
    /// The names kept while reading (for a split, or to tell known names from new ones).
    Names,
    /// The notebook replay's examples and their one-hot encoding, all held at once.
    Notebook,
    /// The stacks of this many threads (`--threads`).
    Threads(usize),
}

impl MemoryUse {
    /// In words, for messages.
    pub fn as_str(self) -> String {
        match self {
            MemoryUse::Threads(n) => return format!("the stacks of {n} threads"),
            MemoryUse::OneHot => "the onehot method's tensors",
            MemoryUse::Index => "the index method's tensors",
            MemoryUse::Examples => "the list of examples",
            MemoryUse::Names => "the names kept in memory",
            MemoryUse::Notebook => "the notebook replay's examples and their one-hot encoding",
        }
        .to_string()
    }
}

/// Bytes in a GiB, for messages.
const GIB: f64 = (1u64 << 30) as f64;

#[derive(Debug, Error)]
pub enum Error {
    /// A data file is missing, unreadable or holds something that is not a list of names.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A checkpoint is missing, unreadable or not one of ours.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// An output file cannot be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Training cannot start or went wrong.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Sampling cannot give what was asked for.
    #[error(transparent)]
    Sample(#[from] SampleError),
    /// The device asked for does not exist here.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The PyTorch reference could not be run or disagreed about its setup.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// Count checkpoints that cannot be added up.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// A request that cannot be met with these inputs (the text says which and why).
    #[error("{0}")]
    Invalid(String),
    /// Memory that grows with the data would take more than this process has left.
    #[error("{} would take about {:.2} GiB, and {:.2} GiB is left to this process", .what.as_str(), *.need as f64 / GIB, *.available as f64 / GIB)]
    Memory {
        /// What would take it.
        what: MemoryUse,
        /// Bytes it would take (an upper bound).
        need: u64,
        /// Bytes left (`ulimit -v`, the cgroup, the system).
        available: u64,
    },
    /// Stopped on request (a [`crate::cancel::Cancel`] was raised) before finishing.
    #[error("interrupted {at}")]
    Interrupted {
        /// Where: "at epoch 3 of 100", "while reading data/names.txt"...
        at: String,
    },
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// A failure of the program itself (a thread that died, a writer that produced nonsense).
    #[error("{0}")]
    Internal(String),
    /// An I/O error outside the cases above.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl Error {
    /// True when the caller can fix it by changing its input: a file, a value, a checkpoint, a
    /// device. False for failures of the program or of libtorch, and for interruptions.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Data(_)
            | Error::Checkpoint(_)
            | Error::Sample(_)
            | Error::Device(_)
            | Error::Merge(_)
            | Error::Invalid(_)
            | Error::Memory { .. } => true,
            Error::Output(e) => !matches!(
                e,
                OutputError::WriteFailed { .. } | OutputError::Changed { .. }
            ),
            Error::Train(e) => !matches!(e, TrainError::Internal(_)),
            Error::Reference(e) => matches!(
                e,
                ReferenceError::NoPython
                    | ReferenceError::NotRunnable { .. }
                    | ReferenceError::NoTorch { .. }
            ),
            Error::Interrupted { .. } | Error::Internal(_) | Error::Torch(_) | Error::Io { .. } => {
                false
            }
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A request that cannot be met.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    /// A failure of the program itself.
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }
}

/// How the vocabulary a name was checked against was chosen (which fix applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VocabKind {
    /// The notebook's `.` and a-z.
    Letters,
    /// Built from the data.
    FromData,
    /// A checkpoint's.
    Model,
}

/// Problems with a data file.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file does not exist.
    #[error("data file {path} not found")]
    NotFound {
        /// The path given.
        path: String,
    },
    /// The path is a folder.
    #[error("data path {path} is a directory")]
    IsDirectory {
        /// The path given.
        path: String,
    },
    /// The file cannot be opened or read.
    #[error("cannot read data file {path}: {source}")]
    Unreadable {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not UTF-8.
    #[error("{path}:{line}: not valid UTF-8 (byte {byte} of the line)")]
    NotUtf8 {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// 1-based position of the first bad byte in the line.
        byte: usize,
    },
    /// A line is longer than any name could be.
    #[error("{path}:{line}: line longer than {limit} bytes")]
    LineTooLong {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// No line holds a name.
    #[error("data file {path} has no names (it is empty or has only blank lines)")]
    NoNames {
        /// The file (or files, comma-separated).
        path: String,
    },
    /// A name contains the start/end token.
    #[error("{path}:{line}: {name:?} contains '.', which is the start/end token and cannot be part of a name")]
    Boundary {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The name, shortened when long.
        name: String,
    },
    /// A character the vocabulary does not have.
    #[error("{path}:{line}: character {ch:?} (U+{code:04X}) in {name:?} is not in the vocabulary", code = *ch as u32)]
    UnknownCharacter {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The name, shortened when long.
        name: String,
        /// The character.
        ch: char,
        /// Whether names were being folded to lower case.
        lowercase: bool,
        /// Whether the vocabulary has the character's lower-case form.
        lower_known: bool,
        /// Where the vocabulary came from.
        vocab: VocabKind,
    },
    /// A control character (a NUL, an escape, a lone carriage return) inside a line.
    #[error("{path}:{line}: control character U+{code:04X} in {name:?}", code = *ch as u32)]
    ControlCharacter {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The name, shortened when long (printed escaped).
        name: String,
        /// The character.
        ch: char,
    },
    /// More distinct characters than a vocabulary holds.
    #[error(
        "{path} has {symbols} distinct characters with '.', more than a vocabulary holds ({max})"
    )]
    VocabularyTooLarge {
        /// The file (or files, comma-separated).
        path: String,
        /// How many symbols the data would need.
        symbols: usize,
        /// The most a vocabulary holds.
        max: usize,
    },
    /// One file given twice.
    #[error("data file {second} is {first} again: its names would be counted twice")]
    Repeated {
        /// The first time it was given.
        first: String,
        /// The second.
        second: String,
    },
    /// A data file too small for what was asked.
    #[error("{path}: {need}")]
    TooSmall {
        /// The file.
        path: String,
        /// What it lacks.
        need: String,
    },
}

/// Problems with a checkpoint file.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// The file does not exist.
    #[error("checkpoint {path} not found")]
    NotFound {
        /// The path given.
        path: String,
    },
    /// The path is a folder.
    #[error("checkpoint path {path} is a directory")]
    IsDirectory {
        /// The path given.
        path: String,
    },
    /// It cannot be read.
    #[error("cannot read checkpoint {path}: {source}")]
    Unreadable {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A device or a socket: reading it would never end, or never start.
    #[error("checkpoint {path} is a {kind}, not a regular file")]
    NotRegular {
        /// The path given.
        path: String,
        /// What it is ("fifo", "character device"...).
        kind: &'static str,
    },
    /// Larger than any checkpoint of ours.
    #[error("{path} is {size} bytes, too large to be a bigram checkpoint")]
    TooLarge {
        /// The path given.
        path: String,
        /// Its size in bytes.
        size: u64,
    },
    /// Not a checkpoint of ours, or a damaged one.
    #[error("{path}: {why}")]
    Invalid {
        /// The path given.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Problems with a file to be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// The folder it would go in does not exist.
    #[error("cannot write {path}: folder {dir} does not exist")]
    NoFolder {
        /// The path given.
        path: String,
        /// Its folder.
        dir: String,
    },
    /// The path is a folder.
    #[error("cannot write {path}: it is a directory")]
    IsDirectory {
        /// The path given.
        path: String,
    },
    /// The folder refuses new files, or writing failed.
    #[error("cannot write {path}: {source}")]
    Unwritable {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Pictures are PNG files.
    #[error("{path}: pictures are written as PNG")]
    NotPng {
        /// The path given.
        path: String,
    },
    /// The output is a file the same command reads.
    #[error("{flag} {path} is {input}, which this command reads: writing it would replace it")]
    IsInput {
        /// The flag that named it.
        flag: &'static str,
        /// The path given.
        path: String,
        /// The input it is (as given).
        input: String,
    },
    /// Two outputs of one command are one file.
    #[error("{first} and {second} both name {path}: one would replace the other")]
    SameOutput {
        /// The first flag.
        first: &'static str,
        /// The second.
        second: &'static str,
        /// The path.
        path: String,
    },
    /// A device, a fifo or a socket, which writing a file and renaming it into place would
    /// replace.
    #[error("{flag} {path} is a {kind}, not a regular file: bigram writes a file and renames it into place, which would replace it")]
    NotRegular {
        /// The flag that named it.
        flag: &'static str,
        /// The path given.
        path: String,
        /// What it is.
        kind: &'static str,
    },
    /// A symbolic link that leads nowhere.
    #[error("cannot write {path}: it is {why}")]
    BadLink {
        /// The path given.
        path: String,
        /// Where it leads ("a loop of symbolic links"...).
        why: &'static str,
    },
    /// The path's folder is a file.
    #[error("cannot write {path}: {dir} is a file, not a folder")]
    NotAFolder {
        /// The path given.
        path: String,
        /// Its would-be folder.
        dir: String,
    },
    /// The output is the file stdout was redirected to.
    #[error("{flag} {path} is the file stdout goes to: the results printed there and the output would replace each other")]
    IsStdout {
        /// The flag that named it.
        flag: &'static str,
        /// The path given.
        path: String,
    },
    /// The output is the file stderr was redirected to.
    #[error("{flag} {path} is the file stderr goes to: the report written there would be lost when the output replaced it")]
    IsStderr {
        /// The flag that named it.
        flag: &'static str,
        /// The path given.
        path: String,
    },
    /// Stderr was redirected to a file the command reads: nothing is written there, this
    /// message included.
    #[error("stderr goes to {input}, which this command reads: writing there would change it")]
    StderrIsInput {
        /// The input (as given).
        input: String,
    },
    /// Stdout was redirected to a file the command reads.
    #[error("stdout goes to {input}, which this command reads: writing there would change it")]
    StdoutIsInput {
        /// The input (as given).
        input: String,
    },
    /// A destination that became something else than a regular file while the command ran.
    #[error("{flag} {path} became a {kind} while bigram ran: it was left as it is, and nothing was saved")]
    Changed {
        /// The flag that named it.
        flag: &'static str,
        /// The destination.
        path: String,
        /// What it is now.
        kind: &'static str,
    },
    /// Writing or putting in place failed once the work was done (a full disk, a closed
    /// pipe): nothing of it is in place.
    #[error("cannot write {path}: {source}")]
    WriteFailed {
        /// The output.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Binary data asked for on a terminal.
    #[error("{flag} - writes binary data to stdout, and stdout is a terminal")]
    StdoutIsTerminal {
        /// The flag.
        flag: &'static str,
    },
}

/// Problems before or during training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The loss of an epoch is NaN or infinite, or has exploded (grown far past where it
    /// started).
    #[error("training diverged at epoch {epoch}: {}", loss_change(*loss, *first))]
    Diverged {
        /// The 1-based epoch whose forward pass gave it.
        epoch: usize,
        /// The loss.
        loss: f64,
        /// The first epoch's loss, when it was finite.
        first: Option<f64>,
        /// The step that was taken.
        step: Step,
    },
    /// The last update made the weights non-finite.
    #[error("training diverged after epoch {epochs}: the final weights are not finite")]
    DivergedAfter {
        /// Epochs run.
        epochs: usize,
        /// The step that was taken.
        step: Step,
    },
    /// The one-hot input would not fit in memory.
    #[error(
        "the one-hot input would take {gib:.1} GiB ({examples} examples × {contexts} contexts)"
    )]
    OneHotTooLarge {
        /// Its size.
        gib: f64,
        /// Examples.
        examples: usize,
        /// Contexts (rows of W).
        contexts: usize,
    },
    /// A starting checkpoint whose weights are not all finite (an unsmoothed count model).
    #[error("the starting checkpoint's weights are not all finite")]
    InitNotFinite,
    /// A starting checkpoint of another kind than the data.
    #[error("the starting checkpoint is a model of {model}, and the data is read as {data}")]
    InitMismatch {
        /// The checkpoint's order and vocabulary.
        model: String,
        /// The data's.
        data: String,
    },
    /// Initial weights that do not fit the data.
    #[error("the initial weights have shape {got:?}; this data needs {want:?}")]
    InitShape {
        /// The initial weights' shape.
        got: Vec<usize>,
        /// The shape the data needs.
        want: Vec<usize>,
    },
    /// A method was given less data than it needs (a bug of the caller).
    #[error("{0}")]
    Internal(String),
}

/// What a gradient step was made of: what advice about a divergence needs to name the knob.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// The learning rate.
    pub lr: f64,
    /// The weight of the L2 penalty reg · mean(W²).
    pub reg: f64,
    /// How many weights W has (the mean's denominator).
    pub weights: usize,
}

impl Step {
    /// Each step scales W by `1 - 2·lr·reg/weights` for the L2 term alone: past `lr·reg >
    /// weights` that factor is below -1 and W grows every epoch, whatever the data says.
    pub fn l2_factor(&self) -> f64 {
        1.0 - 2.0 * (self.lr * self.reg / self.weights.max(1) as f64)
    }

    /// Whether the L2 term alone makes W grow (so `--reg` matters as much as `--lr`).
    pub fn l2_explodes(&self) -> bool {
        self.l2_factor() < -1.0
    }
}

/// "the loss became NaN", "the loss grew from 103.8 to 1.67e4".
fn loss_change(loss: f64, first: Option<f64>) -> String {
    match first {
        Some(first) if loss.is_finite() => format!("the loss grew from {first:.4} to {loss:.4e}"),
        _ => format!("the loss became {loss}"),
    }
}

/// Problems while sampling or scoring.
#[derive(Debug, Error)]
pub enum SampleError {
    /// A context's next-character distribution cannot be drawn from.
    #[error("the model has no usable next-character distribution after {context:?} ({why})")]
    NoDistribution {
        /// The context's characters.
        context: String,
        /// Why (overflowing or all-zero weights).
        why: String,
    },
    /// A context's logits are too large for p = exp(logits) / sum in float32, the arithmetic
    /// of the PyTorch-exact samplers (as of PyTorch itself, which gets NaN there).
    #[error(
        "the logits after {context:?} reach {largest} and {}: the PyTorch samplers' p = exp(logits) / sum (float32, as in PyTorch) is not a distribution there",
        if *exp_overflows {
            "exp overflows float32 above about 88.72"
        } else {
            "their exponentials add up past float32's largest value (about 3.4e38)"
        }
    )]
    Overflow {
        /// The context's characters.
        context: String,
        /// The row's largest logit.
        largest: f32,
        /// Whether exp of a single logit overflowed (otherwise only their sum did).
        exp_overflows: bool,
    },
    /// Too many draws were rejected by the filters.
    #[error("gave up after {rejected} rejected draws with {found} of {wanted} names found")]
    GaveUp {
        /// Draws rejected.
        rejected: usize,
        /// Names kept.
        found: usize,
        /// Names asked for.
        wanted: usize,
    },
    /// A word the model's vocabulary cannot encode.
    #[error("{what} {word:?} has {ch:?}, which is not in the model's vocabulary {vocab:?}")]
    NotInVocabulary {
        /// "prefix" or "name".
        what: &'static str,
        /// The word.
        word: String,
        /// The first character not in the vocabulary.
        ch: char,
        /// The vocabulary.
        vocab: String,
    },
    /// A word containing the start/end token.
    #[error("{what} {word:?} contains '.', the start/end token")]
    Boundary {
        /// "prefix" or "name".
        what: &'static str,
        /// The word.
        word: String,
    },
}

/// Devices that are not there.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// Not a device name.
    #[error("unknown device {spec:?}")]
    Unknown {
        /// What was given.
        spec: String,
    },
    /// No CUDA here.
    #[error(
        "CUDA was asked for but is not available here (no GPU, or libtorch was built without CUDA)"
    )]
    NoCuda,
    /// libtorch's GPU backend is there but did not load (a missing CUDA runtime library).
    #[error("CUDA was asked for, but libtorch's GPU backend did not load: {error}")]
    CudaBackend {
        /// What the loader said.
        error: String,
    },
    /// A CUDA index past the last device.
    #[error("device cuda:{index} does not exist; this machine has {count} CUDA device(s)")]
    NoSuchCuda {
        /// The index asked for.
        index: usize,
        /// Devices present.
        count: usize,
    },
}

/// Problems running the PyTorch reference.
#[derive(Debug, Error)]
pub enum ReferenceError {
    /// No Python with torch was found.
    #[error("no Python with torch is known")]
    NoPython,
    /// The interpreter cannot be started.
    #[error("cannot run Python at {python}: {source}")]
    NotRunnable {
        /// The interpreter.
        python: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The interpreter has no torch.
    #[error("the Python at {python} has no torch")]
    NoTorch {
        /// The interpreter.
        python: PathBuf,
    },
    /// The script failed.
    #[error("the PyTorch reference failed ({status}):\n{stderr}")]
    Failed {
        /// Its exit status.
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// The script printed something unexpected.
    #[error("the PyTorch reference printed something unexpected: {0}")]
    Output(String),
    /// The reference ran with another thread count than asked.
    #[error("the reference ran with {reference} threads, not {ours}")]
    Threads {
        /// What it reported.
        reference: i32,
        /// What was asked.
        ours: i32,
    },
}

/// Count checkpoints that cannot be added up.
#[derive(Debug, Error)]
pub enum MergeError {
    /// A trained network: it has weights, not counts.
    #[error("{path} is a trained network; only count models (from `bigram count` or `bigram merge`) can be merged")]
    NotCounts {
        /// The checkpoint.
        path: String,
    },
    /// A count checkpoint written before raw counts were kept.
    #[error("{path} has no raw counts (N)")]
    NoCounts {
        /// The checkpoint.
        path: String,
    },
    /// The same counts twice: one checkpoint given twice, or two that counted the same file.
    #[error("{first} and {other} both count {what}")]
    Duplicate {
        /// The first checkpoint.
        first: String,
        /// The one that repeats it.
        other: String,
        /// What they share.
        what: String,
    },
    /// Counts too large for a checkpoint's int64 tensor.
    #[error("the merged counts overflow a 64-bit count")]
    Overflow,
    /// The pieces hold no bigram at all.
    #[error("the pieces hold no bigrams: every count is zero")]
    Empty,
    /// Two checkpoints that differ in what makes counts addable.
    #[error("{first} and {other} have different {fact}: {first_value:?} and {other_value:?}")]
    Mismatch {
        /// What differs.
        fact: MergeFact,
        /// The first checkpoint.
        first: String,
        /// The one that differs from it.
        other: String,
        /// The first one's value.
        first_value: String,
        /// The other's value.
        other_value: String,
    },
}

/// What must be the same for counts to add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeFact {
    /// The vocabulary.
    Vocabulary,
    /// The order.
    Order,
    /// Case folding.
    CaseFolding,
    /// The split (and its seed).
    Split,
    /// The smoothing (only when none is given for the merged model).
    Smoothing,
}

impl std::fmt::Display for MergeFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MergeFact::Vocabulary => "vocabularies",
            MergeFact::Order => "orders",
            MergeFact::CaseFolding => "case folding",
            MergeFact::Split => "splits",
            MergeFact::Smoothing => "smoothings",
        })
    }
}
