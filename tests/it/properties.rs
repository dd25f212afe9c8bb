//! Arbitrary input never panics the data loader or the checkpoint reader: each returns Ok or
//! an error, and what it accepts is consistent.

use bigram::data::count::count_in_parts;
use bigram::data::{Corpus, Keep, ReadOptions, Source, VocabChoice};
use bigram::model::Model;
use proptest::prelude::*;
use std::io::Write;

fn load(bytes: &[u8], options: &ReadOptions) -> bigram::Result<Corpus> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    Corpus::load(
        &[Source::File(file.path().to_path_buf())],
        options,
        2,
        Keep {
            examples: true,
            names: true,
        },
    )
}

fn check_consistent(corpus: &Corpus) {
    let names = corpus.names.as_ref().unwrap();
    let expected: u64 = names.iter().map(|n| n.chars().count() as u64 + 1).sum();
    assert_eq!(corpus.counts.total(), expected);
    assert_eq!(corpus.examples.as_ref().unwrap().len() as u64, expected);
    assert!(names.iter().all(|n| !n.is_empty() && !n.contains('.')));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_load_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for vocab in [VocabChoice::Letters, VocabChoice::Auto] {
            let options = ReadOptions { lowercase: bytes.first() == Some(&0), vocab, ..Default::default() };
            match load(&bytes, &options) {
                Ok(corpus) => check_consistent(&corpus),
                Err(e) => prop_assert_eq!(e.exit_code(), 2, "not a user error: {:#}", e),
            }
        }
    }

    #[test]
    fn arbitrary_lines_load_or_fail_cleanly(lines in proptest::collection::vec("[ a-zA-Z.é\\-\r\t]{0,12}", 0..30)) {
        let text = lines.join("\n");
        for vocab in [VocabChoice::Letters, VocabChoice::Auto] {
            let options = ReadOptions { lowercase: false, vocab, ..Default::default() };
            match load(text.as_bytes(), &options) {
                Ok(corpus) => check_consistent(&corpus),
                Err(e) => prop_assert_eq!(e.exit_code(), 2, "not a user error: {:#}", e),
            }
        }
    }

    #[test]
    fn counting_fast_path_matches_the_line_reader(lines in proptest::collection::vec("[ a-z\r\t\x0b\x0c.A]{0,10}", 1..30)) {
        let text = lines.join("\n");
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let options = ReadOptions::default();
        let source = [Source::File(file.path().to_path_buf())];
        // Counts alone take the byte-level fast path; asking for names forces the line reader.
        let fast = Corpus::load(&source, &options, 2, Keep::default());
        let slow = Corpus::load(&source, &options, 2, Keep { examples: false, names: true });
        match (fast, slow) {
            (Ok(f), Ok(s)) => {
                prop_assert_eq!(f.counts, s.counts);
                prop_assert_eq!(f.scan.names, s.scan.names);
                prop_assert_eq!(f.scan.longest, s.scan.longest);
            }
            (Err(f), Err(s)) => {
                prop_assert_eq!(f.to_string(), s.to_string());
                prop_assert_eq!(f.exit_code(), 2);
            }
            (f, s) => prop_assert!(false, "fast {:?} vs line reader {:?}", f.map(|c| c.counts.total()), s.map(|c| c.counts.total())),
        }
    }

    #[test]
    fn counting_in_parallel_parts_equals_counting_whole(
        lines in proptest::collection::vec("[a-z]{0,9}|[ a-z\r\t]{0,7}|[a-zA.]{0,4}", 1..60),
        trailing in any::<bool>(),
        parts in 1usize..9,
        chunk in 1usize..48,
        order in 2usize..=3,
    ) {
        let mut text = lines.join("\n");
        if trailing {
            text.push('\n');
        }
        let vocab = bigram::vocab::Vocab::letters();
        let never = bigram::cancel::Cancel::never();
        let (bytes, all) = (text.as_bytes(), (0, text.len() as u64));
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        let f = file.as_file();
        let whole = count_in_parts(f, all, &vocab, order, 1, 1 << 20, &never).unwrap();
        let cut = count_in_parts(f, all, &vocab, order, parts, chunk, &never).unwrap();
        prop_assert_eq!(&whole, &cut);
        // Whatever the fast path accepts, the line reader counts the same.
        if let Some(whole) = whole {
            let source = [Source::File(file.path().to_path_buf())];
            let keep = Keep { examples: false, names: true };
            match Corpus::load(&source, &ReadOptions::default(), order, keep) {
                Ok(slow) => {
                    prop_assert_eq!(whole.counts, slow.counts);
                    prop_assert_eq!(whole.names, slow.scan.names);
                    prop_assert_eq!(whole.longest, slow.scan.longest);
                }
                // Blank lines only: both have no names (the corpus says so as an error).
                Err(e) => prop_assert!(whole.names == 0 && e.to_string().contains("no names"), "{e}"),
            }
        }
    }

    #[test]
    fn pieces_cut_at_any_bytes_count_as_the_whole_file(
        lines in proptest::collection::vec("[a-z]{0,9}|[ a-zé\r]{0,7}", 1..50),
        trailing in any::<bool>(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        keep_names in any::<bool>(),
    ) {
        let mut text = lines.join("\n");
        if trailing {
            text.push('\n');
        }
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let source = [Source::File(file.path().to_path_buf())];
        // The whole file's vocabulary, given to every piece (`count --vocab-from`): pieces
        // with and without 'é' then count in the same table. Names forces the line reader.
        let keep = Keep { examples: false, names: keep_names };
        let auto = ReadOptions { vocab: VocabChoice::Auto, ..Default::default() };
        let Ok(whole) = Corpus::load(&source, &auto, 2, keep) else {
            return Ok(()); // blank lines only
        };
        let fixed = VocabChoice::Fixed(Box::new(whole.scan.vocab.clone()));
        let len = text.len() as u64;
        let mut at: Vec<u64> = cuts.iter().map(|i| i.index(text.len() + 1) as u64).collect();
        at.extend([0, len]);
        at.sort_unstable();
        let mut sum = bigram::data::Counts::new(whole.scan.vocab.len(), 2);
        let mut names = 0;
        for w in at.windows(2) {
            let range = bigram::data::ByteRange::Bytes { start: w[0], end: Some(w[1]) };
            let options = ReadOptions { vocab: fixed.clone(), range: Some(range), ..Default::default() };
            match Corpus::load(&source, &options, 2, keep) {
                Ok(piece) => {
                    sum.add(&piece.counts);
                    names += piece.scan.names;
                    prop_assert_eq!(piece.scan.files[0].range, Some([w[0], w[1]]));
                }
                // A piece where no line starts, or only blank ones.
                Err(e) => prop_assert!(e.to_string().contains("no names"), "{}", e),
            }
        }
        prop_assert_eq!(&sum, &whole.counts);
        prop_assert_eq!(names, whole.scan.names);
    }

    #[test]
    fn arbitrary_bytes_are_not_a_checkpoint(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        prop_assert!(Model::from_bytes(&bytes).is_err());
    }

    #[test]
    fn damaged_checkpoints_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut bytes = valid_checkpoint().to_vec();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = Model::from_bytes(&bytes);
        let _ = Model::from_bytes(&bytes[..cut.index(bytes.len())]);
    }
}

fn valid_checkpoint() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let mut counts = bigram::data::Counts::new(27, 2);
        counts.add_name(&[5, 13, 13, 1]);
        let model = Model::from_counts(&counts, &bigram::vocab::Vocab::letters(), 2, 1.0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        model.save(&path).unwrap();
        std::fs::read(path).unwrap()
    })
}
