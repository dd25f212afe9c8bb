//! What bigram asks of the system, through the library: outputs staged beside their
//! destination and renamed into place, streams read while watching for a stop request, child
//! processes that end when asked, and memory checked before it is taken.

use bigram::cancel::Cancel;
use bigram::child::run;
use bigram::io::{plan_outputs, Source, Staged, Stopped, WatchedRead};
use bigram::memory::{available, check};
use bigram::Error;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn an_uncommitted_file_leaves_the_destination_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("m.safetensors");
    std::fs::write(&target, b"old").unwrap();
    drop(Staged::new(&target, "--out", b"new").unwrap());
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    Staged::new(&target, "--out", b"new")
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
}

#[test]
fn a_destination_that_became_a_fifo_since_planning_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("m.safetensors");
    let planned = plan_outputs(&[("--out", &target)], &[]).unwrap();
    let pending = planned[0].stage(b"new".to_vec()).unwrap();
    let c = std::ffi::CString::new(target.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates a file system node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let err = pending.check().unwrap_err();
    assert!(err.to_string().contains("--out"), "{err}");
    assert!(err.to_string().contains("became a fifo"), "{err}");
    assert_eq!(err.exit_code(), 1, "a failure of the run, not of the input");
    assert!(pending.commit().is_err());
    assert!(std::fs::metadata(&target).unwrap().file_type().is_fifo());
}

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.txt");
    std::fs::write(&data, b"emma\n").unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let inputs = [Source::File(data.clone())];
    for out in [&data, &link, &dir.path().join(".").join("d.txt")] {
        let err = plan_outputs(&[("--out", out)], &inputs).unwrap_err();
        assert!(err.to_string().contains("d.txt"), "{err}");
    }
    let png = dir.path().join("p.png");
    let err = plan_outputs(&[("--out", &png), ("--plot", &png)], &inputs).unwrap_err();
    assert!(err.to_string().contains("--plot"), "{err}");
    let fine = plan_outputs(
        &[("--out", &dir.path().join("m")), ("--plot", &png)],
        &inputs,
    )
    .unwrap();
    assert_eq!(fine.len(), 2);
    // Through a link, the file written is the link's target.
    let target = dir.path().join("t.safetensors");
    std::fs::write(&target, b"old").unwrap();
    let via = dir.path().join("via.safetensors");
    std::os::unix::fs::symlink(&target, &via).unwrap();
    let planned = plan_outputs(&[("--out", &via)], &inputs).unwrap();
    planned[0].stage(b"new".to_vec()).unwrap().commit().unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
    assert!(std::fs::symlink_metadata(&via)
        .unwrap()
        .file_type()
        .is_symlink());
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
    let (read_returned, returned) = std::sync::mpsc::channel::<()>();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        flag.store(2, Ordering::Relaxed);
        // If the flag goes unseen, end the stream after 5 s: the read then gives Ok(0)
        // and fails the test instead of hanging it.
        let _ = returned.recv_timeout(Duration::from_secs(5));
        drop(release);
    });
    let result = reader.read(&mut [0u8; 8]);
    drop(read_returned);
    raiser.join().unwrap();
    let err = result.unwrap_err();
    assert!(err.get_ref().is_some_and(|e| e.is::<Stopped>()), "{err}");
}

/// Gives `first` once, then fails as a dying thread would.
struct DiesAfter(Option<Vec<u8>>);

impl Read for DiesAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let first = self.0.take().expect("the helper died");
        buf[..first.len()].copy_from_slice(&first);
        Ok(first.len())
    }
}

#[test]
fn a_helper_that_dies_or_fails_is_an_error_not_a_short_stream() {
    let mut reader = WatchedRead::new(DiesAfter(Some(b"emma\n".to_vec())), Cancel::never());
    let mut got = Vec::new();
    let err = reader.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"emma\n");
    assert!(err.to_string().contains("stopped before its end"), "{err}");

    let missing = || -> std::io::Result<std::io::Empty> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such fifo",
        ))
    };
    let mut reader = WatchedRead::open(missing, Cancel::never());
    for _ in 0..2 {
        let err = reader.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    }
}

#[test]
fn a_watched_read_passes_every_byte_through_in_order() {
    // More than three of the 1 MiB chunks the helper thread reads at a time.
    let data: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i % 251) as u8).collect();
    let mut reader = WatchedRead::new(std::io::Cursor::new(data.clone()), Cancel::never());
    let mut got = Vec::new();
    reader.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data);
}

#[test]
fn a_child_runs_with_its_input_and_gives_its_output() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "cat; echo oops >&2; exit 3"]);
    let done = run(cmd, b"hello\n", &Cancel::never(), "sh", |e| {
        Error::io("sh", e)
    })
    .unwrap();
    assert_eq!(done.stdout, b"hello\n");
    assert_eq!(done.stderr, b"oops\n");
    assert_eq!(done.status.code(), Some(3));
}

#[test]
fn a_stop_request_ends_the_child_at_once() {
    let flag = Arc::new(AtomicUsize::new(0));
    let cancel = Cancel::new(Arc::clone(&flag));
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.store(15, Ordering::Relaxed);
    });
    let started = std::time::Instant::now();
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    let err = run(cmd, b"", &cancel, "sleep", |e| Error::io("sleep", e)).unwrap_err();
    raiser.join().unwrap();
    assert!(matches!(err, Error::Interrupted { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn what_is_left_is_known_here_and_an_absurd_need_is_refused() {
    let left = available().expect("Linux says how much memory is available");
    assert!(left > 0);
    let (tensors, advice) = ("the onehot method's tensors", bigram::data::USE_COUNTS);
    assert!(check(1, tensors, advice).is_ok());
    let err = check(u64::MAX, tensors, advice).unwrap_err();
    assert!(err.to_string().contains("onehot"), "{err}");
    assert!(err.to_string().contains("--method counts"), "{err}");
    assert_eq!(err.exit_code(), 2, "a refusal of what was asked");
}

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
