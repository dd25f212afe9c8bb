//! Inputs: paths checked before reading, which name what they are for ("data file",
//! "checkpoint") and what is wrong; and reads of streams (standard input, fifos, devices) that
//! see a stop request while the stream is quiet, copied to a temporary file when they must be
//! read twice.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

/// How often a reader blocked on a quiet stream looks at the flag.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);

/// Bytes a watched stream's helper thread reads at a time.
const WATCH_CHUNK_BYTES: usize = 1 << 20;

/// A reader that stays responsive to a stop request while its stream has nothing to give (a
/// terminal, an idle pipe, a fifo nobody has opened for writing yet). The signal handlers
/// restart an interrupted `open(2)` or `read(2)`, so a call blocked on stdin would not return
/// until data came; here the stream is opened and read on a helper thread, and this side
/// waits for it in short slices, checking the flag between them. When no thread can start,
/// the stream is read on this one, checking the flag between reads.
///
/// Once stop is asked for, `read` fails with an error whose inner error is [`Stopped`]; callers
/// report it as the interruption (see [`Cancel::check`]). The helper thread may stay blocked in
/// its read until data comes or the process ends. The end of the stream is only reported when
/// the helper saw it: a helper that died early is an error, never a short stream.
pub struct WatchedRead {
    pieces: Receiver<Piece>,
    /// The stream itself, read on this thread, when no helper thread could start.
    inline: Option<Box<dyn Read + Send>>,
    /// The chunk being read.
    current: std::io::Cursor<Vec<u8>>,
    state: State,
    cancel: Cancel,
}

/// What the helper thread sends: a chunk, the end (`None`), or the error that ended the stream.
type Piece = std::io::Result<Option<Vec<u8>>>;

/// Where the stream stands on this side.
enum State {
    Open,
    Ended,
    /// Failed: the error's kind and text, given again to every later read.
    Failed(std::io::ErrorKind, String),
}

impl State {
    fn failed(e: std::io::Error) -> Self {
        // Never `Interrupted`: `read_to_end` and friends would retry it forever.
        let kind = match e.kind() {
            std::io::ErrorKind::Interrupted => std::io::ErrorKind::Other,
            kind => kind,
        };
        State::Failed(kind, e.to_string())
    }
}

/// The error a [`WatchedRead`] returns once stop was asked for.
#[derive(Debug, thiserror::Error)]
#[error("stop was asked for")]
pub struct Stopped;

impl WatchedRead {
    /// Read `inner` on a helper thread, watching `cancel` while waiting for it.
    pub fn new(inner: impl Read + Send + 'static, cancel: Cancel) -> Self {
        Self::open(move || Ok(inner), cancel)
    }

    /// Open a stream with `open` and read it, both on a helper thread (opening a fifo waits
    /// for a writer), watching `cancel` meanwhile. An error from `open` is the first read's.
    pub fn open<R, F>(open: F, cancel: Cancel) -> Self
    where
        R: Read + Send + 'static,
        F: FnOnce() -> std::io::Result<R> + Send + 'static,
    {
        // Two chunks in flight: the helper keeps reading while this side works on one.
        let (send, pieces) = sync_channel(2);
        // The opener goes to the helper once it runs, so that this side keeps it otherwise.
        let (give, take) = sync_channel::<F>(1);
        let spawned = std::thread::Builder::new()
            .name("stream-reader".into())
            .spawn(move || {
                let Ok(open) = take.recv() else { return };
                let last = open().and_then(|inner| read_into(inner, &send));
                let _ = send.send(last);
            });
        let mut read = Self {
            pieces,
            inline: None,
            current: Default::default(),
            state: State::Open,
            cancel,
        };
        match spawned {
            Ok(_) => {
                let _ = give.send(open);
            }
            // No thread to spare (the system's limit, an address-space cap): the stream is read
            // here, where a quiet one holds a stop off until its next bytes (a second signal
            // still ends the process at once).
            Err(_) => match open() {
                Ok(inner) => read.inline = Some(Box::new(inner)),
                Err(e) => read.state = State::failed(e),
            },
        }
        read
    }

    /// The file at `path` (a fifo or a device too), opened on the helper thread: opening a
    /// fifo waits for its writer.
    pub fn path(path: &Path, cancel: &Cancel) -> Self {
        let path = path.to_path_buf();
        Self::open(move || std::fs::File::open(path), cancel.clone())
    }

    /// The rest of the stream copied to a temporary file, for a stream that must be read more
    /// than once; `what` and `label` name it in messages ("data file", "stdin").
    pub fn spool(mut self, what: &str, label: &str) -> Result<tempfile::NamedTempFile> {
        let mut tmp = tempfile::NamedTempFile::new()
            .map_err(|e| Error::io(format!("creating a temporary copy of {label}"), e))?;
        let mut buf = vec![0u8; WATCH_CHUNK_BYTES];
        loop {
            let n = match self.read(&mut buf) {
                Ok(0) => return Ok(tmp),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_failed(&self.cancel, what, label, e)),
            };
            tmp.write_all(&buf[..n])
                .map_err(|e| Error::io(format!("copying {label} to a temporary file"), e))?;
        }
    }

    /// Wait for the next piece from the helper, checking the flag every slice.
    fn next_piece(&mut self) -> std::io::Result<()> {
        loop {
            if self.cancel.reason().is_some() {
                return Err(std::io::Error::other(Stopped));
            }
            match self.pieces.recv_timeout(WATCH_INTERVAL) {
                Ok(Ok(Some(chunk))) => self.current = std::io::Cursor::new(chunk),
                Ok(Ok(None)) => self.state = State::Ended,
                Ok(Err(e)) => self.state = State::failed(e),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => {
                    self.state = State::Failed(
                        std::io::ErrorKind::Other,
                        "the thread reading the stream stopped before its end".into(),
                    )
                }
            }
            return Ok(());
        }
    }
}

/// The helper's loop: sends chunks, and returns what ends the stream (its end or an error).
/// One buffer is reused; each chunk sent is as long as what one read gave.
fn read_into(mut inner: impl Read, send: &SyncSender<Piece>) -> Piece {
    let mut buf = vec![0u8; WATCH_CHUNK_BYTES];
    loop {
        match inner.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                if send.send(Ok(Some(buf[..n].to_vec()))).is_err() {
                    return Ok(None); // the reading side is gone; nobody will see this
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl Read for WatchedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(inner) = &mut self.inline {
            if self.cancel.reason().is_some() {
                return Err(std::io::Error::other(Stopped));
            }
            return inner.read(buf);
        }
        loop {
            match (self.current.read(buf)?, &self.state) {
                (0, State::Ended) => return Ok(0),
                (0, State::Failed(kind, text)) => {
                    return Err(std::io::Error::new(*kind, text.clone()))
                }
                (0, State::Open) if !buf.is_empty() => self.next_piece()?,
                (n, _) => return Ok(n),
            }
        }
    }
}

/// What a command reads: a file, or standard input (`-`). Data is read from it, and no output
/// of the command may replace it ([`super::plan_outputs`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    File(PathBuf),
    /// Standard input, written `-` (it may be a file redirected with `<`).
    Stdin,
}

impl Source {
    /// The file's path; `None` for standard input.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(path) => Some(path),
            Source::Stdin => None,
        }
    }
}

impl std::str::FromStr for Source {
    type Err = std::convert::Infallible;

    /// `-` is standard input, anything else a file path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "-" => Source::Stdin,
            path => Source::File(PathBuf::from(path)),
        })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Stdin => f.write_str("stdin"),
        }
    }
}

/// A path to be read, looked at before reading: refused when it is missing (`missing` is the
/// advice then, e.g. "; make one with `bigram train`"), a folder, or cannot be looked at.
/// `what` names it in the message ("data file", "checkpoint").
pub fn input_metadata(path: &Path, what: &str, missing: &str) -> Result<std::fs::Metadata> {
    match std::fs::metadata(path) {
        // `-` is stdin for data files only, which never come here.
        Err(_) if path == Path::new("-") => {
            crate::bail_input!("{what} `-`: to read one from standard input, give /dev/stdin")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::bail_input!("{what} {} not found{missing}", path.display())
        }
        Err(e) => Err(unreadable(what, &path.display().to_string(), e)),
        Ok(m) if m.is_dir() => crate::bail_input!(
            "{what} {} is a directory; pass the file itself",
            path.display()
        ),
        Ok(m) => Ok(m),
    }
}

/// An input that cannot be opened or read (`label` as the user gave it, or "stdin").
pub fn unreadable(what: &str, label: &str, e: std::io::Error) -> Error {
    Error::input(format!("cannot read {what} {label}: {e}"))
}

/// A read of an input that failed: the interruption once stop was asked for (a watched read
/// fails then), else [`unreadable`].
pub fn read_failed(cancel: &Cancel, what: &str, label: &str, e: std::io::Error) -> Error {
    match cancel.check(|| format!("while reading {label}")) {
        Err(stopped) => stopped,
        Ok(()) => unreadable(what, label, e),
    }
}
