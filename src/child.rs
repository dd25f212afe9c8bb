//! Child processes (the Python that runs a PyTorch reference): started so that none outlives
//! `bigram`, and ended at once when a stop is asked for.
//!
//! On Linux the child asks the kernel to kill it when `bigram` dies, however it dies (a second
//! Ctrl-C exits at once, a SIGKILL gives no chance to clean up). Everywhere, a child still
//! running when its handle is dropped (an error, a panic unwinding) is killed and reaped, and a
//! raised [`Cancel`] kills it within [`POLL_INTERVAL`] instead of waiting for it to finish.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::process::{Child, Command, Output};
use std::time::Duration;

/// How often a wait for a child looks at the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A running child, killed and reaped when dropped before it finished.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Start `command` with `input` on its stdin and wait for it, collecting stdout and stderr.
/// A raised `cancel` kills it and returns [`Error::Interrupted`] (`what` says what was
/// running). The error of a child that cannot start is `spawn_failed`'s.
pub fn run(
    mut command: Command,
    input: &[u8],
    cancel: &Cancel,
    what: &str,
    spawn_failed: impl FnOnce(std::io::Error) -> Error,
) -> Result<Output> {
    // Its streams are temporary files, not pipes: nothing has to be written or read while it
    // runs (no thread to feed or drain it), and a child that writes much never waits on us.
    let file = |bytes: &[u8]| -> Result<(File, File)> {
        let made = tempfile::tempfile().and_then(|mut file| {
            file.write_all(bytes)?;
            file.rewind()?;
            Ok((file.try_clone()?, file))
        });
        made.map_err(|e| Error::io(format!("making a temporary file for {what}"), e))
    };
    let (stdin, stdout, stderr) = (file(input)?, file(b"")?, file(b"")?);
    command.stdin(stdin.0).stdout(stdout.0).stderr(stderr.0);
    die_with_parent(&mut command);
    let mut child = Running(command.spawn().map_err(spawn_failed)?);
    let status = loop {
        if cancel.reason().is_some() {
            // Dropping the handle kills and reaps the child.
            drop(child);
            return Err(Error::Interrupted {
                at: format!("while {what} ran (it was stopped)"),
            });
        }
        match child.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(POLL_INTERVAL),
            Err(e) => return Err(Error::io(format!("waiting for {what}"), e)),
        }
    };
    let read = |mut file: File| -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        (file.rewind().and_then(|()| file.read_to_end(&mut bytes)))
            .map_err(|e| Error::io(format!("reading {what}'s output"), e))?;
        Ok(bytes)
    };
    Ok(Output {
        status,
        stdout: read(stdout.1)?,
        stderr: read(stderr.1)?,
    })
}

/// Have the kernel kill the child when this process ends, however it ends.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid is async-signal-safe; read before the fork.
    let parent = unsafe { libc::getpid() };
    // SAFETY: between fork and exec only async-signal-safe calls are made (prctl, getppid),
    // and nothing is allocated.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the request was made: nothing would send the signal.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}
