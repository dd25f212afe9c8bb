//! Train, dev and test parts: the names shuffled with a seed and cut by percentages.

use super::examples::{Counts, Examples};
use crate::vocab::Vocab;

/// How to split names into train, dev and test parts: three whole percentages summing to 100,
/// written `80/10/10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitSpec {
    /// Percent of the names in each part: train, dev, test.
    pub percents: [u32; 3],
}

impl std::str::FromStr for SplitSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let percents: Option<Vec<u32>> = (s.split('/'))
            .map(|p| p.trim().parse::<u8>().ok().map(u32::from))
            .collect();
        let Some([train, dev, test]) = percents.as_deref() else {
            return Err(format!(
                "{s:?} is not TRAIN/DEV/TEST percentages like 80/10/10"
            ));
        };
        if train + dev + test != 100 || *train == 0 {
            return Err(format!(
                "{s:?}: the three parts must add up to 100, with some for training"
            ));
        }
        Ok(Self {
            percents: [*train, *dev, *test],
        })
    }
}

impl std::fmt::Display for SplitSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.percents;
        write!(f, "{a}/{b}/{c}")
    }
}

/// One part of a split: its names, their counts, and their examples when asked for.
#[derive(Clone, Debug)]
pub struct Part {
    /// The names, in shuffled order.
    pub names: Vec<String>,
    /// Counts of the part's examples.
    pub counts: Counts,
    /// The part's examples (the one-hot and index methods train on them).
    pub examples: Option<Examples>,
}

impl Part {
    fn of(names: Vec<String>, vocab: &Vocab, order: usize, keep_examples: bool) -> Self {
        let mut counts = Counts::new(vocab.len(), order);
        let mut examples = keep_examples.then(Examples::default);
        for name in &names {
            // The names were checked against this vocabulary when read.
            let Ok(indices) = vocab.encode(name) else {
                continue;
            };
            counts.add_name(&indices);
            if let Some(ex) = examples.as_mut() {
                ex.add_name(&indices, counts.rows, counts.width);
            }
        }
        Self {
            names,
            counts,
            examples,
        }
    }
}

/// Train, dev and test parts of a data set.
#[derive(Clone, Debug)]
pub struct Splits {
    /// What the model is fitted on.
    pub train: Part,
    /// For choosing settings.
    pub dev: Part,
    /// For the final figure.
    pub test: Part,
}

impl Splits {
    /// Shuffle the names with `seed` (the same seed, the same parts) and cut them by `spec`.
    /// Parts are whole names; train and dev sizes are rounded down, test takes the rest. Only
    /// the train part keeps its examples, and only when `train_examples`.
    pub fn new(
        mut names: Vec<String>,
        vocab: &Vocab,
        order: usize,
        spec: SplitSpec,
        seed: u64,
        train_examples: bool,
    ) -> Self {
        fastrand::Rng::with_seed(seed).shuffle(&mut names);
        let n = names.len();
        let n_train = (n * spec.percents[0] as usize / 100).max(1);
        let n_dev = (n * spec.percents[1] as usize / 100).min(n - n_train);
        let test = names.split_off(n_train + n_dev);
        let dev = names.split_off(n_train);
        Self {
            train: Part::of(names, vocab, order, train_examples),
            dev: Part::of(dev, vocab, order, false),
            test: Part::of(test, vocab, order, false),
        }
    }

    /// The parts with their names.
    pub fn parts(&self) -> [(&'static str, &Part); 3] {
        [
            ("train", &self.train),
            ("dev", &self.dev),
            ("test", &self.test),
        ]
    }
}
