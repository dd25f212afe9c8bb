//! Reading names files through the library: blanks and CRLF accepted, bad lines named, several
//! files read as one, and the counting fast path agreeing with the line reader.

use bigram::cancel::Cancel;
use bigram::data::*;
use bigram::vocab::{context_count, next_context, Vocab};

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
        let file = write(bytes).reopen().unwrap();
        count::count_in_parts(&file, all, &vocab, order, parts, chunk, &never).unwrap()
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

/// The kernel's files say size 0 to stat, whatever they hold: counting one must read it to its
/// end, not trust the size (the fast path used to find no names in it).
#[cfg(target_os = "linux")]
#[test]
fn a_file_whose_size_stat_does_not_know_is_read_to_its_end() {
    let ostype = std::path::Path::new("/proc/sys/kernel/ostype"); // "Linux\n"
    assert_eq!(std::fs::metadata(ostype).unwrap().len(), 0);
    let opts = ReadOptions {
        vocab: VocabChoice::Fixed(Box::new(Vocab::parse(".Linux").unwrap())),
        ..Default::default()
    };
    let sources = [Source::File(ostype.to_path_buf())];
    let c = Corpus::load(&sources, &opts, 2, Keep::default()).unwrap();
    assert_eq!((c.scan.names, c.counts.total()), (1, 6));
    let copy = write(&std::fs::read(ostype).unwrap());
    let sha = sha256_of(copy.path(), &Cancel::never()).unwrap();
    assert_eq!(c.scan.files[0].sha256.as_deref(), Some(sha.as_str()));
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

#[test]
fn emma_gives_the_notebook_bigrams() {
    let mut ex = Examples::default();
    let emma: Vec<usize> = Vocab::letters().encode("emma").unwrap();
    ex.add_name(&emma, 27, 27);
    // ('.','e'), ('e','m'), ('m','m'), ('m','a'), ('a','.')
    assert_eq!(ex.inputs, vec![0, 5, 13, 13, 1]);
    assert_eq!(ex.targets, vec![5, 13, 13, 1, 0]);
}

#[test]
fn trigram_contexts_start_with_two_dots() {
    let mut ex = Examples::default();
    ex.add_name(&[1, 2], 729, 27); // "ab"
    assert_eq!(ex.inputs, vec![0, 1, 27 + 2]);
    assert_eq!(ex.targets, vec![1, 2, 0]);
}

#[test]
fn counts_add_cell_by_cell() {
    let mut a = Counts::new(27, 2);
    a.add_name(&[1, 2]);
    let mut b = Counts::new(27, 2);
    b.add_name(&[1]);
    a.add(&b);
    assert_eq!(a.total(), 3 + 2);
    assert_eq!(a.cells[1], 2, "'.' then 'a' twice");
}

#[test]
fn ranges_and_shards_parse_and_cover_the_file() {
    assert_eq!(
        ByteRange::parse_bytes("10:20"),
        Ok(ByteRange::Bytes {
            start: 10,
            end: Some(20)
        })
    );
    assert_eq!(
        ByteRange::parse_bytes("7:").map(|r| r.bounds(100)),
        Ok((7, 100))
    );
    for bad in ["10", "20:10", "a:b", "-1:3"] {
        assert!(ByteRange::parse_bytes(bad).is_err(), "{bad}");
    }
    for bad in ["0/3", "4/3", "1", "1/0", "x/2"] {
        assert!(ByteRange::parse_shard(bad).is_err(), "{bad}");
    }
    // Shards meet end to end and cover every byte, whatever the size.
    for size in [0u64, 1, 2, 10, 1001] {
        let mut next = 0;
        for i in 1..=7 {
            let (s, e) = ByteRange::parse_shard(&format!("{i}/7"))
                .unwrap()
                .bounds(size);
            assert_eq!(s, next);
            next = e;
        }
        assert_eq!(next, size);
    }
}

#[test]
fn split_specs_parse_and_refuse_nonsense() {
    assert_eq!(
        "80/10/10".parse::<SplitSpec>().unwrap().percents,
        [80, 10, 10]
    );
    assert!("80/10".parse::<SplitSpec>().is_err());
    assert!("80/10/20".parse::<SplitSpec>().is_err());
    assert!("0/50/50".parse::<SplitSpec>().is_err());
    assert!("a/b/c".parse::<SplitSpec>().is_err());
    assert!("4294967295/101/0".parse::<SplitSpec>().is_err());
}

#[test]
fn splits_add_up_and_depend_only_on_the_seed() {
    let names: Vec<String> = (0..1003).map(|i| "a".repeat(i % 7 + 1)).collect();
    let v = Vocab::letters();
    let spec: SplitSpec = "80/10/10".parse().unwrap();
    let a = Splits::new(names.clone(), &v, 2, spec, 42, true);
    let b = Splits::new(names.clone(), &v, 2, spec, 42, false);
    let c = Splits::new(names.clone(), &v, 2, spec, 43, false);
    assert_eq!(
        (a.train.names.len(), a.dev.names.len(), a.test.names.len()),
        (802, 100, 101)
    );
    assert_eq!(a.train.names, b.train.names);
    assert_ne!(a.train.names, c.train.names);
    let total: u64 = a.parts().iter().map(|(_, p)| p.counts.total()).sum();
    let whole: u64 = names.iter().map(|n| n.len() as u64 + 1).sum();
    assert_eq!(total, whole);
    assert_eq!(
        a.train.examples.as_ref().map(|e| e.len() as u64),
        Some(a.train.counts.total())
    );
    assert!(b.train.examples.is_none() && a.dev.examples.is_none());
}

#[test]
fn letters_map_as_the_notebook_prints() {
    let v = Vocab::letters();
    assert_eq!(v.len(), 27);
    assert_eq!(v.index('.'), Some(0));
    assert_eq!(v.index('a'), Some(1));
    assert_eq!(v.index('c'), Some(3));
    assert_eq!(v.index('z'), Some(26));
    assert_eq!(v.index('A'), None);
    assert_eq!(v.char(13), 'm');
}

#[test]
fn auto_vocab_is_sorted_with_boundary_first() {
    let v = Vocab::from_chars("zé-ab".chars()).unwrap();
    assert_eq!(v.as_string(), ".-abzé");
    assert_eq!(v.index('é'), Some(5));
}

#[test]
fn parse_rejects_duplicates_and_missing_boundary() {
    assert!(Vocab::parse("abc").is_err());
    assert!(Vocab::parse(".aba").is_err());
    assert_eq!(
        Vocab::parse(&Vocab::letters().as_string()).unwrap(),
        Vocab::letters()
    );
}

#[test]
fn trigram_context_is_base_width() {
    assert_eq!(context_count(27, 2), 27);
    assert_eq!(context_count(27, 3), 729);
    assert_eq!(next_context(0, 0, 27, 729), 0);
    assert_eq!(next_context(2, 5, 27, 729), 59);
    assert_eq!(next_context(7 * 27 + 2, 5, 27, 729), 59);
    assert_eq!(next_context(3, 7, 27, 27), 7);
}
