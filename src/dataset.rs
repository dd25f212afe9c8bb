//! The data a model is fitted on: the whole data, or the train part of a split of it, with what
//! checkpoints record about where it came from.

use crate::data::{Corpus, Counts, Examples, Keep, ReadOptions, Source, SplitSpec, Splits};
use crate::error::Result;
use crate::eval::DataFile;
use crate::model::Model;

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

/// The data read for a fit.
#[derive(Debug)]
pub struct Dataset {
    /// Everything read.
    pub corpus: Corpus,
    /// The split, when asked for.
    pub splits: Option<Splits>,
    options: FitOptions,
    lowercase: bool,
}

/// The NLL of each part of a split under a model.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PartNll {
    /// "train", "dev" or "test".
    #[serde(skip)]
    pub part: &'static str,
    /// Names in the part.
    pub names: usize,
    /// Their NLL per bigram (`None` for an empty part).
    pub nll: Option<f64>,
}

impl Dataset {
    /// Read the sources once and split the names if asked.
    pub fn load(sources: &[Source], read: &ReadOptions, fit: FitOptions) -> Result<Self> {
        let keep = Keep {
            examples: fit.examples && fit.split.is_none(),
            names: fit.split.is_some(),
        };
        let mut corpus = Corpus::load(sources, read, fit.order, keep)?;
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
        Ok(Self {
            corpus,
            splits,
            options: fit,
            lowercase: read.lowercase,
        })
    }

    /// The examples fitted on, when kept.
    pub fn examples(&self) -> Option<&Examples> {
        match &self.splits {
            Some(s) => s.train.examples.as_ref(),
            None => self.corpus.examples.as_ref(),
        }
    }

    /// The counts fitted on.
    pub fn counts(&self) -> &Counts {
        match &self.splits {
            Some(s) => &s.train.counts,
            None => &self.corpus.counts,
        }
    }

    /// The dev part's counts, when there is a non-empty one.
    pub fn dev_counts(&self) -> Option<&Counts> {
        let s = self.splits.as_ref()?;
        (s.dev.counts.total() > 0).then_some(&s.dev.counts)
    }

    /// One line saying how the names were split (for stderr).
    pub fn split_summary(&self) -> Option<String> {
        let (spec, seed) = self.options.split?;
        let s = self.splits.as_ref()?;
        Some(format!(
            "split {spec} with seed {seed}: {} / {} / {} names",
            s.train.names.len(),
            s.dev.names.len(),
            s.test.names.len()
        ))
    }

    /// Metadata entries that say where the data came from: each file with its checksum
    /// (`data_files`, a JSON list; stdin with none), the case folding, and the split.
    pub fn provenance(&self) -> Vec<(String, String)> {
        let files: Vec<DataFile> = self
            .corpus
            .scan
            .files
            .iter()
            .map(|f| DataFile {
                path: f.path.as_ref().map(|p| p.display().to_string()),
                sha256: f.sha256.clone(),
            })
            .collect();
        let mut meta = vec![
            (
                "data_files".to_string(),
                serde_json::to_string(&files).unwrap_or_default(),
            ),
            ("lowercase".to_string(), self.lowercase.to_string()),
        ];
        if let Some((spec, seed)) = self.options.split {
            meta.push(("split".into(), spec.to_string()));
            meta.push(("split_seed".into(), seed.to_string()));
        }
        meta
    }

    /// The NLL of each part under a model, when the data was split.
    pub fn part_nlls(&self, model: &Model) -> Result<Option<Vec<PartNll>>> {
        let Some(splits) = &self.splits else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        for (part, data) in splits.parts() {
            let nll = match data.counts.total() {
                0 => None,
                _ => Some(model.nll(&data.counts)?),
            };
            parts.push(PartNll {
                part,
                names: data.names.len(),
                nll,
            });
        }
        Ok(Some(parts))
    }
}
