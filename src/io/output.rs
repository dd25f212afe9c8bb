//! Output files: planned before any work, written through a temporary file in the same folder
//! and renamed into place, so an interrupted or failed run never leaves a partial file and
//! never replaces a good one.
//!
//! Planning ([`plan_outputs`]) is where nothing gets lost: every output is resolved (through
//! symbolic links) and refused when it is an input of the same command, another output of it,
//! or something a rename would destroy (a device, a fifo, a socket). The null device is the
//! one exception: it means "keep nothing", so nothing is written to it. `-` is standard
//! output, for binary data only when stdout is not a terminal.

use super::Source;
use crate::error::{Error, Result};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where one output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A regular file (existing or not) at this resolved path: staged beside it and renamed.
    File(PathBuf),
    /// Standard output (`-`).
    Stdout,
    /// The null device: nothing is kept, and the device is left as it is.
    Discard,
}

/// One output of a command, checked.
#[derive(Clone, Debug)]
pub struct Output {
    /// The flag that named it (`--out`, `--plot`), for messages.
    pub flag: &'static str,
    /// The path as given.
    pub given: PathBuf,
    /// Where it really goes.
    pub destination: Destination,
}

impl Output {
    /// Stage `bytes` for this output; nothing visible changes until [`Pending::commit`].
    pub fn stage(&self, bytes: Vec<u8>) -> Result<Pending> {
        Ok(match &self.destination {
            Destination::File(path) => Pending::File(Staged::new(path, self.flag, &bytes)?),
            Destination::Stdout => Pending::Stdout(bytes),
            Destination::Discard => Pending::Discard {
                dash: self.given == Path::new("-"),
            },
        })
    }

    /// An interruption before this output was written, saying that nothing was saved (and
    /// that the old file is as it was); any other error as it is.
    pub fn nothing_saved(&self, err: Error) -> Error {
        let Error::Interrupted { at } = err else {
            return err;
        };
        // Said only of a file there was: of one that never existed, "as it was" would mislead.
        let kept = match &self.destination {
            Destination::File(path) if path.exists() => {
                format!(" ({} is as it was)", self.given.display())
            }
            _ => String::new(),
        };
        Error::Interrupted {
            at: format!("{at}; nothing was saved{kept}"),
        }
    }
}

/// An output ready to be put in place. Dropped uncommitted, it leaves nothing behind.
#[derive(Debug)]
pub enum Pending {
    File(Staged),
    Stdout(Vec<u8>),
    /// Nothing is kept. `dash`: given as `-`, so stdout is the output's all the same (it is
    /// the null device).
    Discard {
        dash: bool,
    },
}

impl Pending {
    /// Refuse it now, before anything is reported, when its destination is no longer a place a
    /// file may be renamed to ([`Staged`]).
    pub fn check(&self) -> Result<()> {
        match self {
            Pending::File(staged) => staged.check_target().map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Put it in place: rename the staged file, or write the bytes to stdout.
    pub fn commit(self) -> Result<()> {
        match self {
            Pending::File(staged) => staged.commit(),
            Pending::Stdout(bytes) => {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)
                    .and_then(|()| out.flush())
                    .map_err(|e| write_failed(Path::new("stdout"), e))
            }
            Pending::Discard { .. } => Ok(()),
        }
    }
}

/// Check a command's outputs before any work: `outputs` are `(flag, path)` pairs, `inputs`
/// what it reads. Refused, each with one line: an output that is an input (the same file,
/// however reached), two outputs that are one file, an existing output that is a folder, a
/// device other than the null device, a fifo or a socket, a folder that does not exist or
/// cannot be written, and `-` when stdout is a terminal or is taken by another output.
pub fn plan_outputs(outputs: &[(&'static str, &Path)], inputs: &[Source]) -> Result<Vec<Output>> {
    let mut planned: Vec<(Output, Option<Identity>)> = Vec::new();
    let input_ids = input_identities(inputs);
    let stdout = fd_identity(1);
    let stderr = fd_identity(2);
    for &(flag, path) in outputs {
        let output = resolve(flag, path)?;
        let id = match &output.destination {
            Destination::File(resolved) => identity(resolved),
            _ => None,
        };
        if let Some(id) = &id {
            if Some(id) == stdout.as_ref() {
                crate::bail_input!("{flag} {} is the file stdout goes to: the results printed there and the output would replace each other; write it with `{flag} -`, or redirect stdout elsewhere", path.display());
            }
            // `--out /dev/stderr 2> f`, `--out f 2> f`: the renamed file would take the place
            // of the one the report is written to, and the report would be lost.
            if Some(id) == stderr.as_ref() {
                crate::bail_input!("{flag} {} is the file stderr goes to: the report written there would be lost when the output replaced it; give another path, or redirect stderr elsewhere", path.display());
            }
            if let Some((input, _)) = input_ids.iter().find(|(_, i)| i == id) {
                crate::bail_input!("{flag} {} is {input}, which this command reads: writing it would replace it; choose another path", path.display());
            }
        }
        for (other, other_id) in &planned {
            let same = match (&output.destination, &other.destination) {
                (Destination::Stdout, Destination::Stdout) => true,
                (Destination::File(a), Destination::File(b)) => {
                    a == b || (id.is_some() && id == *other_id)
                }
                _ => false,
            };
            if same {
                crate::bail_input!("{} and {flag} both name {}: one would replace the other; give each its own path", other.flag, path.display());
            }
        }
        planned.push((output, id));
    }
    Ok(planned.into_iter().map(|(o, _)| o).collect())
}

/// Check where stdout and stderr go against what a command reads, before any work: the command
/// line does it once for every command, before any output is planned. Stdout or stderr
/// redirected to a file the command reads (`>> data.txt`, `1<> model.safetensors`, `2>>
/// data.txt`, through any name of the file) is refused: writing there would change it.
pub fn check_streams(inputs: &[Source]) -> Result<()> {
    let input_ids = input_identities(inputs);
    // The input that standard stream `fd` writes to, if any.
    let input_at = |fd| {
        let id = fd_identity(fd)?;
        input_ids
            .iter()
            .find(|(_, i)| *i == id)
            .map(|(input, _)| input.clone())
    };
    if let Some(input) = input_at(1) {
        crate::bail_input!("stdout goes to {input}, which this command reads: writing there would change it; redirect stdout elsewhere");
    }
    match input_at(2) {
        Some(input) => Err(Error::StderrIsInput { input }),
        None => Ok(()),
    }
}

/// The inputs' identities, each with its name as given (standard input when it is a file).
fn input_identities(inputs: &[Source]) -> Vec<(String, Identity)> {
    inputs
        .iter()
        .filter_map(|input| match input {
            Source::File(path) => Some((path.display().to_string(), identity(path)?)),
            Source::Stdin => Some(("standard input".to_string(), fd_identity(0)?)),
        })
        .collect()
}

/// Whether `path` is the file standard input was redirected from (`--data d.txt - < d.txt`,
/// or from any other name of it).
pub fn is_stdin(path: &Path) -> bool {
    identity(path).is_some_and(|id| Some(id) == fd_identity(0))
}

/// One output resolved: `-`, the null device, or a regular file (or a new one) whose folder
/// exists and can be written.
fn resolve(flag: &'static str, path: &Path) -> Result<Output> {
    let shown = path.display().to_string();
    let output = |destination| Output {
        flag,
        given: path.to_path_buf(),
        destination,
    };
    if path == Path::new("-") {
        if std::io::stdout().is_terminal() {
            crate::bail_input!("{flag} - writes binary data to stdout, and stdout is a terminal; redirect stdout to a file or a pipe");
        }
        // `> /dev/null`, or a stdout that was closed (Rust reopens it on the null device):
        // nothing written there is kept, and the report says so.
        if fd_metadata(1).is_some_and(|m| is_null_device(&m)) {
            return Ok(output(Destination::Discard));
        }
        return Ok(output(Destination::Stdout));
    }
    if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(is_directory(&shown));
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(is_directory(&shown)),
        Ok(m) if m.is_file() => {
            let resolved =
                std::fs::canonicalize(path).map_err(|e| unwritable(&shown, e))?;
            probe(&resolved, &shown)?;
            Ok(output(Destination::File(resolved)))
        }
        Ok(m) if is_null_device(&m) => Ok(output(Destination::Discard)),
        Ok(m) => Err(Error::input(format!(
            "{flag} {shown} is a {}, not a regular file: bigram writes a file and renames it into place, which would replace it; give a file path, or `{flag} -` to write to stdout (`{flag} /dev/null` keeps nothing)",
            file_type_name(&m)
        ))),
        Err(e) if std::fs::symlink_metadata(path).is_ok() => Err(Error::input(format!(
            "cannot write {shown}: it is {}",
            match e.raw_os_error() {
                Some(libc::ELOOP) => "a loop of symbolic links",
                _ => "a symbolic link to a file that does not exist",
            }
        ))),
        Err(_) => Ok(output(Destination::File(new_file(path)?))),
    }
}

/// Where a file that does not exist yet will be: its folder resolved (it must be a folder, and
/// writable), and its name.
fn new_file(path: &Path) -> Result<PathBuf> {
    let shown = path.display().to_string();
    let dir = parent_dir(path);
    let shown_dir = dir.display().to_string();
    if std::fs::metadata(&dir).is_ok_and(|m| !m.is_dir()) {
        crate::bail_input!("cannot write {shown}: {shown_dir} is a file, not a folder");
    }
    let resolved_dir = std::fs::canonicalize(&dir).map_err(|_| {
        Error::input(format!(
            "cannot write {shown}: folder {shown_dir} does not exist"
        ))
    })?;
    let name = path.file_name().ok_or_else(|| is_directory(&shown))?;
    let resolved = resolved_dir.join(name);
    probe(&resolved, &shown)?;
    Ok(resolved)
}

/// A file can be created in the destination's folder (checked before any work). The error is
/// the folder's, without the probe's own name.
fn probe(resolved: &Path, shown: &str) -> Result<()> {
    tempfile::Builder::new()
        .prefix(".bigram-probe")
        .tempfile_in(parent_dir(resolved))
        .map_err(|e| unwritable(shown, std::io::Error::from(e.kind())))?;
    Ok(())
}

/// A file's identity: its device and inode, so that two paths to one file (a symbolic link, a
/// hard link, `./x` and `x`) are seen as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity(u64, u64);

/// Whether two paths name one existing file, however each reaches it.
pub fn same_file(a: &Path, b: &Path) -> bool {
    identity(a).is_some_and(|id| Some(id) == identity(b))
}

fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Identity(m.dev(), m.ino()))
}

/// The identity of what a standard stream (0, 1 or 2) is, when it is a regular file
/// (`< names.txt`, `> out.txt`, `2> log.txt`).
fn fd_identity(fd: i32) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = fd_metadata(fd)?;
    m.is_file().then(|| Identity(m.dev(), m.ino()))
}

/// What a standard stream (0, 1 or 2) is open on.
fn fd_metadata(fd: i32) -> Option<std::fs::Metadata> {
    use std::os::fd::{AsFd, BorrowedFd};
    // SAFETY: 0, 1 and 2 stay open for the life of the process (Rust reopens them on /dev/null
    // when they start closed); the borrow only lasts for this clone.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned = borrowed.as_fd().try_clone_to_owned().ok()?;
    std::fs::File::from(owned).metadata().ok()
}

/// The null device (`/dev/null`, or a node made with its numbers).
fn is_null_device(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    m.file_type().is_char_device()
        && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == m.rdev())
}

/// What a file system object is, in words ("fifo", "character device"...).
pub fn file_type_name(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    [
        (t.is_fifo(), "fifo"),
        (t.is_char_device(), "character device"),
        (t.is_block_device(), "block device"),
        (t.is_socket(), "socket"),
        (t.is_dir(), "directory"),
        (t.is_file(), "regular file"),
    ]
    .into_iter()
    .find_map(|(is, name)| is.then_some(name))
    .unwrap_or("special file")
}

/// Refuse a picture written to a file unless its name says PNG (the only format drawn); stdout
/// and the null device take it whatever their name.
pub fn check_png(output: &Output) -> Result<()> {
    let is_png = output
        .given
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if matches!(output.destination, Destination::File(_)) && !is_png {
        crate::bail_input!(
            "{}: pictures are written as PNG; give a file name ending in .png",
            output.given.display()
        );
    }
    Ok(())
}

/// `path` made absolute (symbolic links resolved), or as given when it cannot be: what
/// checkpoints record of the files they came from.
pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file written beside its destination and not yet in place: [`Staged::commit`] renames it
/// there; dropped uncommitted, it is removed and the destination is untouched.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    /// The flag that named the destination, for messages.
    flag: &'static str,
}

impl Staged {
    /// `bytes` staged for `target`, with `target`'s extension; `flag` names it in messages.
    pub fn new(target: &Path, flag: &'static str, bytes: &[u8]) -> Result<Self> {
        let suffix = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let mut tmp = tempfile::Builder::new()
            .prefix(".bigram-")
            .suffix(&format!(".tmp{suffix}"))
            .tempfile_in(parent_dir(target))
            .map_err(|source| write_failed(target, source))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|source| write_failed(target, source))?;
        Ok(Self {
            tmp,
            target: target.to_path_buf(),
            flag,
        })
    }

    /// Refuse a destination that stopped being a regular file since the outputs were planned
    /// (a fifo or a device made there meanwhile): it is left as it is. Returns the
    /// permissions of the file it will replace, if any.
    fn check_target(&self) -> Result<Option<std::fs::Permissions>> {
        match std::fs::symlink_metadata(&self.target) {
            Ok(m) if m.is_file() => Ok(Some(m.permissions())),
            Ok(m) => Err(Error::failed(format!(
                "{} {} became a {} while bigram ran: it was left as it is, and nothing was saved",
                self.flag,
                self.target.display(),
                file_type_name(&m)
            ))),
            Err(_) => Ok(None),
        }
    }

    /// Put the file in place, with the permissions of the file it replaces (a new one is
    /// readable by all, 0644: a temporary file starts as 0600). Something other than a
    /// regular file that appeared there since the outputs were planned is left alone.
    pub fn commit(self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mode = self.check_target()?;
        let mode = mode.unwrap_or_else(|| std::fs::Permissions::from_mode(0o644));
        let _ = self.tmp.as_file().set_permissions(mode);
        self.tmp
            .persist(&self.target)
            .map_err(|e| write_failed(&self.target, e.error))?;
        Ok(())
    }
}

/// Writing or putting in place failed once the work was done (a full disk, a closed pipe).
fn write_failed(path: &Path, e: std::io::Error) -> Error {
    Error::failed(format!(
        "cannot write {}: {e}; the output it was putting in place was not written",
        path.display()
    ))
}

/// An output path that cannot be written (a folder that refuses new files).
fn unwritable(shown: &str, e: std::io::Error) -> Error {
    Error::input(format!("cannot write {shown}: {e}"))
}

fn is_directory(shown: &str) -> Error {
    Error::input(format!("cannot write {shown}: it is a directory"))
}
