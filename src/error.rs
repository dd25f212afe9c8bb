//! The library's errors. Each message says what went wrong and, where the caller can fix it,
//! what to do ("...; pass `--lowercase` to fold names to lower case"), written where the error
//! is raised: there is no second layer that maps kinds of error to advice. Context that only
//! the caller knows (which switches it offers) comes in as data, e.g. in
//! [`crate::data::ReadOptions`].
//!
//! Most failures are an [`Error::Input`] (a message); the typed variants are the ones code
//! branches on. [`Error::exit_code`] is the command line's exit code for each ([`EXIT_CODES`]).

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// A problem with what the caller asked for (a file, a value, a checkpoint, a device): the
    /// message names it and says what to do.
    #[error("{0}")]
    Input(String),
    /// A failure that is not the caller's input: the program itself (a thread that died), a
    /// write that failed once the work was done, the PyTorch reference.
    #[error("{0}")]
    Failed(String),
    /// Training diverged at `epoch` (1-based); the message says which knob to turn. A tuning
    /// run records it and goes on with the next value.
    #[error("{message}")]
    Diverged { epoch: usize, message: String },
    /// Stopped on request (a [`crate::cancel::Cancel`] was raised) `at` a point such as "at
    /// epoch 3 of 100".
    #[error("interrupted {at}")]
    Interrupted { at: String },
    /// Stderr goes to a file the command reads: nothing may be written there, this message
    /// included, so the exit code alone says it.
    #[error("stderr goes to {input}, which this command reads: writing there would change it")]
    StderrIsInput { input: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// An I/O error outside the cases above, with what was being done.
    #[error("{context}: {error}")]
    Io {
        context: String,
        error: std::io::Error,
    },
}

/// `return Err(Error::Input(format!(...)).into())`: a problem with the caller's input, the
/// advice in its text.
#[macro_export]
macro_rules! bail_input {
    ($($arg:tt)*) => {
        return Err($crate::Error::Input(format!($($arg)*)).into())
    };
}

impl Error {
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    pub fn failed(msg: impl Into<String>) -> Self {
        Error::Failed(msg.into())
    }

    pub fn io(context: impl Into<String>, error: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            error,
        }
    }

    /// The command line's exit code, as [`EXIT_CODES`] says: 2 when the caller can fix it by
    /// changing its input, 1 for anything else (each variant is named, so that a new one has
    /// to say which it is). After an interrupt the caller exits 128 + the signal.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Diverged { .. } | Error::StderrIsInput { .. } => 2,
            Error::Failed(_) | Error::Interrupted { .. } | Error::Torch(_) | Error::Io { .. } => 1,
        }
    }
}

/// The exit codes and what each means, in one sentence: `bigram --help` ends with it, and a
/// test holds docs/errors.md to it. A new code is added here and in
/// [`Error::exit_code`].
pub const EXIT_CODES: &str = "Exit codes: 0 success, 2 a usage or input error (the message says what to do), 1 anything else, 130 or 143 when stopped by Ctrl-C or SIGTERM.";
