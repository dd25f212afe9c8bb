//! The data a model is fitted on: read from names (the whole data, or the train part of a
//! split of it), or taken from a count checkpoint's counts; with what checkpoints record
//! about where it came from. And the count model fitted on it ([`count`]), whose record says so.

use crate::checkpoint::Loaded;
use crate::data::VocabChoice;
use crate::data::{Corpus, Counts, Examples, Keep, ReadOptions, Source, SplitSpec, Splits};
use crate::error::Result;
use crate::model::Model;
use crate::provenance::{DataFile, Meta};
use crate::vocab::Vocab;
use std::path::Path;

/// What a fit needs from the data.
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    /// 2 for bigrams, 3 for trigrams.
    pub order: usize,
    /// Keep the list of examples (the `onehot` and `index` methods train on it).
    pub examples: bool,
    /// Split the names (a spec and the shuffle's seed) and fit on the train part.
    pub split: Option<(SplitSpec, u64)>,
}

/// The data read for a fit. What the counts are indexed by (vocabulary, order) and the record
/// of where they came from are read through methods, so that they cannot be changed apart.
#[derive(Debug)]
pub struct Dataset {
    vocab: Vocab,
    order: usize,
    /// All the counts read (the fit uses the train part's when split).
    counts: Counts,
    examples: Option<Examples>,
    /// The split, when asked for.
    pub splits: Option<Splits>,
    /// Names read (unknown for counts taken from a checkpoint).
    pub names: Option<usize>,
    /// One line saying what was read (for stderr).
    pub summary: String,
    provenance: Meta,
}

/// A count model to make (`bigram count`).
pub struct Count<'a> {
    /// The names files, read as one.
    pub sources: &'a [Source],
    /// How to read them (with the stop flag, checked between chunks).
    pub read: ReadOptions,
    /// A checkpoint whose vocabulary reads the names, instead of `read.vocab`'s.
    pub vocab_from: Option<&'a Path>,
    /// 2 for bigrams, 3 for trigrams.
    pub order: usize,
    /// Split the names (a spec and the shuffle's seed) and count the train part.
    pub split: Option<(SplitSpec, u64)>,
    /// Added to every count before normalising.
    pub smoothing: f64,
    /// libtorch's thread count, recorded with the model.
    pub threads: i32,
}

/// The count model of the names `count` asks for, with the data it was fitted on: `loaded` sees
/// the data once it is read, and a stop request is honoured until the model is made.
pub fn count(mut count: Count<'_>, loaded: &mut dyn FnMut(&Dataset)) -> Result<(Model, Dataset)> {
    if let Some(path) = count.vocab_from {
        let vocab = crate::checkpoint::read(path, &count.read.cancel)?
            .model
            .vocab;
        count.read.vocab = VocabChoice::Fixed(Box::new(vocab));
    }
    let (order, split) = (count.order, count.split);
    let fit = FitOptions {
        order,
        examples: false,
        split,
    };
    let data = Dataset::load(count.sources, &count.read, fit)?;
    loaded(&data);
    let (counts, meta) = (data.counts(), data.provenance().clone());
    let model = count_model(
        counts,
        data.vocab(),
        order,
        count.smoothing,
        count.threads,
        meta,
    )?;
    count.read.cancel.check(|| "after counting".into())?;
    Ok((model, data))
}

/// The count model of `counts`, P = (N + smoothing) / row sums, with its record: the data's
/// (`data`), the smoothing, its NLL on the counts and libtorch's thread count.
pub fn count_model(
    counts: &Counts,
    vocab: &Vocab,
    order: usize,
    smoothing: f64,
    threads: i32,
    data: Meta,
) -> Result<Model> {
    let mut model = Model::from_counts(counts, vocab, order, smoothing);
    model.meta = Meta {
        smoothing: Some(smoothing),
        nll: Some(model.nll(counts)?),
        threads: Some(threads),
        ..data
    };
    Ok(model)
}

impl Dataset {
    /// Read the sources once and split the names if asked.
    pub fn load(sources: &[Source], read: &ReadOptions, fit: FitOptions) -> Result<Self> {
        let keep = Keep {
            examples: fit.examples && fit.split.is_none(),
            names: fit.split.is_some(),
        };
        let mut corpus = Corpus::load(sources, read, fit.order, keep)?;
        if let (true, Some(names)) = (fit.examples, &corpus.names) {
            // The train part's examples are listed from its names: at most every name's.
            let examples: u64 = names.iter().map(|n| n.chars().count() as u64 + 1).sum();
            let need = examples * crate::data::EXAMPLE_BYTES;
            crate::memory::check(need, "the list of examples", crate::data::USE_COUNTS)?;
        }
        let splits = fit.split.map(|(spec, seed)| {
            let names = corpus.names.take().unwrap_or_default();
            Splits::new(
                names,
                &corpus.scan.vocab,
                fit.order,
                spec,
                seed,
                fit.examples,
            )
        });
        let summary = corpus.summary();
        let provenance = Meta {
            data_files: Some(corpus.scan.files),
            lowercase: Some(read.lowercase),
            split: fit.split.map(|(spec, _)| spec),
            split_seed: fit.split.map(|(_, seed)| seed),
            ..Meta::default()
        };
        Ok(Self {
            summary,
            vocab: corpus.scan.vocab,
            order: fit.order,
            counts: corpus.counts,
            examples: corpus.examples,
            splits,
            names: Some(corpus.scan.names),
            provenance,
        })
    }

    /// The raw counts of a count checkpoint (from `bigram count` or `bigram merge`): no data is
    /// read, and there are no examples. Its record of the data is carried over.
    pub fn from_counts(loaded: &Loaded) -> Result<Self> {
        let (model, path) = (&loaded.model, &loaded.path);
        let counts = loaded.raw_counts()?.clone();
        if counts.total() == 0 {
            crate::bail_input!(
                "{}: its counts are all zero: there is nothing to train on",
                path.display()
            );
        }
        let provenance = Meta {
            counts_from: Some(DataFile {
                path: Some(crate::io::absolute(path).display().to_string()),
                sha256: Some(loaded.sha256.clone()),
                range: None,
            }),
            ..model.meta.of_data()
        };
        Ok(Self {
            summary: format!(
                "{}: counts of {}, vocabulary of {} ({}), order {}",
                path.display(),
                crate::plural(counts.total(), "example"),
                model.vocab.len(),
                model.vocab.as_string(),
                model.order
            ),
            vocab: model.vocab.clone(),
            order: model.order,
            counts,
            examples: None,
            splits: None,
            names: None,
            provenance,
        })
    }

    /// A checkpoint's weights to start training from, when it fits this data: the same
    /// vocabulary and order.
    pub fn initial_weights_from(&self, model: &Model) -> Result<tch::Tensor> {
        let kind = |order: usize, vocab: &Vocab, lowercase: bool| {
            let folded = if lowercase {
                ", folded to lower case"
            } else {
                ""
            };
            format!("order {order} over {:?}{folded}", vocab.as_string())
        };
        let (theirs, ours) = (
            kind(model.order, &model.vocab, model.lowercase()),
            kind(
                self.order,
                &self.vocab,
                self.provenance.lowercase == Some(true),
            ),
        );
        if theirs != ours {
            crate::bail_input!("the starting checkpoint is a model of {theirs}, and the data is read as {ours}; --init needs a checkpoint of the same vocabulary and order");
        }
        if !bool::try_from(model.w.isfinite().all())? {
            crate::bail_input!("the starting checkpoint's weights are not all finite; start from a network, or from a count model with --smoothing above 0");
        }
        Ok(model.w.shallow_clone())
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// 2 for bigrams, 3 for trigrams.
    pub fn order(&self) -> usize {
        self.order
    }

    /// The examples fitted on, when kept.
    pub fn examples(&self) -> Option<&Examples> {
        match &self.splits {
            Some(s) => s.train.examples.as_ref(),
            None => self.examples.as_ref(),
        }
    }

    /// The counts fitted on.
    pub fn counts(&self) -> &Counts {
        match &self.splits {
            Some(s) => &s.train.counts,
            None => &self.counts,
        }
    }

    /// The dev part's counts, when there is a non-empty one.
    pub fn dev_counts(&self) -> Option<&Counts> {
        let s = self.splits.as_ref()?;
        (s.dev.counts.total() > 0).then_some(&s.dev.counts)
    }

    /// One line saying how the names were split (for stderr).
    pub fn split_summary(&self) -> Option<String> {
        let s = self.splits.as_ref()?;
        let (spec, seed) = (self.provenance.split?, self.provenance.split_seed?);
        Some(format!(
            "split {spec} with seed {seed}: {} / {} / {} names",
            s.train.names.len(),
            s.dev.names.len(),
            s.test.names.len()
        ))
    }

    /// What a checkpoint records of where the data came from: each file with its checksum
    /// (stdin with none), the case folding, the split, and the count checkpoint the counts
    /// were taken from. The other fields are left for the fit to fill in.
    pub fn provenance(&self) -> &Meta {
        &self.provenance
    }
}
