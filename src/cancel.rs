//! A request to stop, raised from elsewhere (the binary's signal handler) and checked by the
//! library's long loops: reading data chunk by chunk (checksums and copies of stdin too),
//! training epoch by epoch, drawing name by name, and [`WatchedRead`] while a stream is quiet.
//! The library never installs handlers itself; it only looks at the flag.

use crate::error::{Error, Result};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

/// How often a reader blocked on a quiet stream looks at the flag.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);

/// Bytes a watched stream's helper thread reads at a time.
const WATCH_CHUNK_BYTES: usize = 1 << 20;

/// A shared flag: 0 while nothing asked to stop, otherwise a non-zero reason chosen by whoever
/// raised it (the binary stores the signal number).
#[derive(Clone, Debug, Default)]
pub struct Cancel(Option<Arc<AtomicUsize>>);

impl Cancel {
    /// A token nobody can raise: for callers that never stop early.
    pub fn never() -> Self {
        Self(None)
    }

    /// A token watching `flag`.
    pub fn new(flag: Arc<AtomicUsize>) -> Self {
        Self(Some(flag))
    }

    /// The reason stop was asked for, if it was.
    pub fn reason(&self) -> Option<usize> {
        let flag = self.0.as_ref()?;
        match flag.load(Ordering::Relaxed) {
            0 => None,
            reason => Some(reason),
        }
    }

    /// `Err(Interrupted)` once stop was asked for; `at` says where ("at epoch 3 of 100").
    pub fn check(&self, at: impl FnOnce() -> String) -> Result<()> {
        match self.reason() {
            None => Ok(()),
            Some(_) => Err(Error::Interrupted { at: at() }),
        }
    }
}

/// A reader that stays responsive to a stop request while its stream has nothing to give (a
/// terminal, an idle pipe). The signal handlers restart an interrupted `read(2)`, so a read
/// blocked on stdin would not return until data came; here the stream is read on a helper
/// thread and this side waits for it in short slices, checking the flag between them.
///
/// Once stop is asked for, `read` fails with an error whose inner error is [`Stopped`]; callers
/// report it as the interruption (see [`Cancel::check`]). The helper thread may stay blocked in
/// its read until data comes or the process ends.
pub struct WatchedRead {
    chunks: Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    offset: usize,
    done: bool,
    cancel: Cancel,
}

/// The error a [`WatchedRead`] returns once stop was asked for.
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stop was asked for")
    }
}

impl std::error::Error for Stopped {}

impl WatchedRead {
    /// Read `inner` on a helper thread, watching `cancel` while waiting for it.
    pub fn new(inner: impl Read + Send + 'static, cancel: Cancel) -> Self {
        // Two chunks in flight: the helper keeps reading while this side works on one.
        let (send, chunks) = sync_channel(2);
        let helper = send.clone();
        let spawned = std::thread::Builder::new()
            .name("stream-reader".into())
            .spawn(move || read_into(inner, helper));
        if let Err(e) = spawned {
            // No thread to read on: a read error, rather than a read that cannot be stopped.
            let _ = send.try_send(Err(e));
        }
        Self {
            chunks,
            current: Vec::new(),
            offset: 0,
            done: false,
            cancel,
        }
    }
}

/// The helper's loop: chunks until the end of the stream, an error, or nobody is listening.
fn read_into(mut inner: impl Read, send: SyncSender<std::io::Result<Vec<u8>>>) {
    loop {
        let mut buf = vec![0u8; WATCH_CHUNK_BYTES];
        let chunk = match inner.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if send.send(chunk).is_err() || failed {
            return; // nobody is listening any more, or the error ends the stream
        }
    }
}

impl Read for WatchedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.offset == self.current.len() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            if self.cancel.reason().is_some() {
                return Err(std::io::Error::other(Stopped));
            }
            match self.chunks.recv_timeout(WATCH_INTERVAL) {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.offset = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.done = true,
            }
        }
        let n = buf.len().min(self.current.len() - self.offset);
        buf[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_the_flag_stops_the_next_check() {
        let flag = Arc::new(AtomicUsize::new(0));
        let cancel = Cancel::new(Arc::clone(&flag));
        assert!(cancel.check(|| "here".into()).is_ok());
        flag.store(15, Ordering::Relaxed);
        assert_eq!(cancel.reason(), Some(15));
        let err = cancel.check(|| "at epoch 2 of 9".into()).unwrap_err();
        assert_eq!(err.to_string(), "interrupted at epoch 2 of 9");
        assert!(Cancel::never().check(|| unreachable!()).is_ok());
    }

    /// A stream that gives nothing until `release` is dropped, like a quiet pipe.
    struct Quiet(std::sync::mpsc::Receiver<()>);

    impl Read for Quiet {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(0)
        }
    }

    #[test]
    fn a_watched_read_blocked_on_a_quiet_stream_stops_when_asked() {
        let (release, quiet) = std::sync::mpsc::channel::<()>();
        let flag = Arc::new(AtomicUsize::new(0));
        let mut reader = WatchedRead::new(Quiet(quiet), Cancel::new(Arc::clone(&flag)));
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flag.store(2, Ordering::Relaxed);
        });
        let err = reader.read(&mut [0u8; 8]).unwrap_err();
        assert!(err.get_ref().is_some_and(|e| e.is::<Stopped>()), "{err}");
        raiser.join().unwrap();
        drop(release);
    }

    #[test]
    fn a_watched_read_passes_every_byte_through_in_order() {
        let data: Vec<u8> = (0..3 * WATCH_CHUNK_BYTES + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut reader = WatchedRead::new(std::io::Cursor::new(data.clone()), Cancel::never());
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data);
    }
}
