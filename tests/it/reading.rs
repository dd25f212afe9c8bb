//! Reading names files through the library: blanks and CRLF accepted, bad lines named, several
//! files read as one, and the counting fast path agreeing with the line reader.

use bigram::cancel::Cancel;
use bigram::data::*;
use bigram::vocab::Vocab;

fn write(content: &[u8]) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content).unwrap();
    f
}

fn source(f: &tempfile::NamedTempFile) -> Vec<Source> {
    vec![Source::File(f.path().to_path_buf())]
}

const BOTH: Keep = Keep {
    examples: true,
    names: true,
};

#[test]
fn crlf_blanks_and_spaces_are_accepted() {
    let f = write(b"  emma \r\n\r\n\nava\r\nbo");
    let c = Corpus::load(&source(&f), &ReadOptions::default(), 2, BOTH).unwrap();
    assert_eq!(c.names.unwrap(), vec!["emma", "ava", "bo"]);
    assert_eq!(c.counts.total(), 5 + 4 + 3);
}

#[test]
fn read_names_lists_the_names_and_refuses_a_bad_line() {
    let f = write(b"emma\r\n\n ava \nbo");
    let names = read_names(&source(&f), &ReadOptions::default()).unwrap();
    assert_eq!(names, ["emma", "ava", "bo"]);
    let bad = write(b"emma\nav.a\n");
    let err = read_names(&source(&bad), &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains(":2:"), "{err}");
    let empty = write(b"\n\n");
    assert!(read_names(&source(&empty), &ReadOptions::default()).is_err());
}

#[test]
fn upper_case_is_an_error_naming_the_line_unless_folded() {
    let f = write(b"emma\nOlivia\n");
    let offered = ReadOptions {
        offers_flags: true,
        ..Default::default()
    };
    let err = Corpus::load(&source(&f), &offered, 2, Keep::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(":2:") && msg.contains("'O'"), "{msg}");
    // The upper-case letter's lower-case form is known: folding is the fix.
    assert!(msg.contains("--lowercase"), "{msg}");
    let opts = ReadOptions {
        lowercase: true,
        ..Default::default()
    };
    let c = Corpus::load(&source(&f), &opts, 2, BOTH).unwrap();
    assert_eq!(c.names.unwrap()[1], "olivia");
}

#[test]
fn auto_vocab_takes_hyphens_and_accents() {
    let f = write("anne-marie\nzoé\n".as_bytes());
    let opts = ReadOptions {
        vocab: VocabChoice::Auto,
        ..Default::default()
    };
    let c = Corpus::load(&source(&f), &opts, 2, Keep::default()).unwrap();
    assert_eq!(c.scan.vocab.as_string(), ".-aeimnorzé");
    assert_eq!(c.counts.total(), 11 + 4);
}

#[test]
fn several_files_read_as_one() {
    let (a, b) = (write(b"emma\nava\n"), write(b"bo\n"));
    let both = [source(&a), source(&b)].concat();
    let joined = write(b"emma\nava\nbo\n");
    for keep in [Keep::default(), BOTH] {
        let two = Corpus::load(&both, &ReadOptions::default(), 2, keep).unwrap();
        let one = Corpus::load(&source(&joined), &ReadOptions::default(), 2, keep).unwrap();
        assert_eq!(two.counts, one.counts);
        assert_eq!(two.examples, one.examples);
        assert_eq!(two.scan.files.len(), 2);
        assert_eq!(
            two.scan.files[1].sha256.as_deref(),
            Some(sha256_of(b.path(), &Cancel::never()).unwrap().as_str())
        );
    }
}

#[test]
fn counting_fast_path_agrees_with_the_line_reader() {
    let vocab = Vocab::letters();
    let never = Cancel::never();
    // The whole of `bytes`, in `parts` parts read `chunk` bytes at a time.
    let fast = |bytes: &[u8], order, parts, chunk| {
        let all = (0, bytes.len() as u64);
        count::count_in_parts(bytes, all, &vocab, order, parts, chunk, &never).unwrap()
    };
    // A blank inside a name is the line reader's to refuse: the fast path hands over.
    assert!(fast(b"emma\nzzyzx\tq\n", 2, 1, 64).is_none());
    let g = write(b"  emma \r\n\r\n\nava\r\nbo\nzzyzx");
    let bytes = std::fs::read(g.path()).unwrap();
    for order in [2, 3] {
        let tally = fast(&bytes, order, 3, 4).unwrap();
        let keep = Keep {
            examples: true,
            names: false,
        };
        let slow = Corpus::load(&source(&g), &ReadOptions::default(), order, keep).unwrap();
        assert_eq!(tally.counts, slow.counts);
        assert_eq!((tally.names, tally.longest), (4, 5));
    }
    assert!(fast("zoé\n".as_bytes(), 2, 1, 64).is_none());
}

#[test]
fn chunk_boundaries_do_not_split_names() {
    // Many names so that some straddle the 1 MiB chunk edge, and enough bytes (> 8 MiB)
    // for the file to be counted in parallel parts.
    let mut content = Vec::new();
    for i in 0..1_200_000 {
        content.extend_from_slice(if i % 2 == 0 { b"abcdefg\n" } else { b"xyz\n" });
    }
    let f = write(&content);
    let c = Corpus::load(&source(&f), &ReadOptions::default(), 2, Keep::default()).unwrap();
    assert_eq!(c.scan.names, 1_200_000);
    assert_eq!(c.counts.total(), 600_000 * 8 + 600_000 * 4);
    assert_eq!(
        c.scan.files[0].sha256.as_deref(),
        Some(sha256_of(f.path(), &Cancel::never()).unwrap().as_str())
    );
    let listed = Corpus::load(&source(&f), &ReadOptions::default(), 2, BOTH).unwrap();
    assert_eq!(listed.counts, c.counts);
}
