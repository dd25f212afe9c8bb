//! Errors the user can fix (exit code 2) as opposed to failures of the program (exit code 1).
//!
//! Library code returns `anyhow::Result`; a user-fixable problem is raised as a [`UserError`]
//! somewhere in the chain, and `main` decides the exit code from that in one place.

use std::fmt;

/// A problem with the user's input: a flag, a data file, a checkpoint, a path.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Training was stopped by SIGINT or SIGTERM before it finished.
#[derive(Debug)]
pub struct Interrupted(pub String);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Wrap a message as a user error.
pub fn user(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(msg.into()))
}

/// Return early with a user error built like `format!`.
#[macro_export]
macro_rules! bail_user {
    ($($arg:tt)*) => {
        return Err($crate::error::user(format!($($arg)*)))
    };
}

/// True when the error (or anything it wraps) is the user's to fix.
pub fn is_user_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UserError>())
}

/// The process exit code for an error: 2 for user errors, 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if is_user_error(err) {
        2
    } else {
        1
    }
}
