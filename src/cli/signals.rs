//! Ctrl-C and SIGTERM: from the start of the process, the first one asks the running command to
//! stop at its next check (between data chunks, epochs or names, and every 4096 characters of
//! a long name; nothing is saved), a second one exits at once. The exit code is 128 + the
//! signal: 130 for SIGINT, 143 for SIGTERM.

use bigram::cancel::Cancel;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;

/// Install the handlers; the token is raised with the signal's number.
pub fn install() -> std::io::Result<Cancel> {
    let raised = Arc::new(AtomicBool::new(false));
    let which = Arc::new(AtomicUsize::new(0));
    for signal in [SIGINT, SIGTERM] {
        // Handlers run in the order registered: a signal that finds the flag already raised
        // ends the process before raising it again.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            128 + signal,
            Arc::clone(&raised),
        )?;
        signal_hook::flag::register(signal, Arc::clone(&raised))?;
        signal_hook::flag::register_usize(signal, Arc::clone(&which), signal as usize)?;
    }
    Ok(Cancel::new(which))
}
