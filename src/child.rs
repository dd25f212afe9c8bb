//! Child processes (the Python that runs a PyTorch reference): started so that none outlives
//! `bigram`, and ended at once when a stop is asked for.
//!
//! On Linux the child asks the kernel to kill it when `bigram` dies, however it dies (a second
//! Ctrl-C exits at once, a SIGKILL gives no chance to clean up). Everywhere, a child still
//! running when its handle is dropped (an error, a panic unwinding) is killed and reaped, and a
//! raised [`Cancel`] kills it within [`POLL_INTERVAL`] instead of waiting for it to finish.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
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
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    die_with_parent(&mut command);
    let mut child = Running(command.spawn().map_err(spawn_failed)?);
    let stdin = child.0.stdin.take();
    let stdout = child.0.stdout.take();
    let stderr = child.0.stderr.take();
    let input = input.to_vec();
    let thread = |name: &str| std::thread::Builder::new().name(format!("{what} {name}"));
    let helper_failed = |e| Error::io(format!("starting a thread to talk to {what}"), e);
    // A Python that exits before reading its script closes the pipe: its exit status and
    // stderr say why, so a failed write is not the error to report.
    let writer = thread("stdin")
        .spawn(move || {
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(&input);
            }
        })
        .map_err(helper_failed)?;
    let out_reader = thread("stdout")
        .spawn(move || read_all(stdout))
        .map_err(helper_failed)?;
    let err_reader = thread("stderr")
        .spawn(move || read_all(stderr))
        .map_err(helper_failed)?;
    let status = loop {
        if cancel.reason().is_some() {
            // Dropping the handle kills and reaps the child; the pipes then close, and the
            // helper threads end with them.
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
    let joined = |handle: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
        handle
            .join()
            .map_err(|_| Error::failed(format!("reading {what}'s output failed")))?
            .map_err(|e| Error::io(format!("reading {what}'s output"), e))
    };
    let _ = writer.join();
    Ok(Output {
        status,
        stdout: joined(out_reader)?,
        stderr: joined(err_reader)?,
    })
}

fn read_all(stream: Option<impl Read>) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if let Some(mut stream) = stream {
        stream.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
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
