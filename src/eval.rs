//! Measuring a model: the NLL of a data set's bigrams, the log-probability of single names and
//! their rank among the data's names, and which names a model's training data holds.

use crate::cancel::Cancel;
use crate::data::{read_names, Corpus, Keep, ReadOptions, Source, VocabChoice};
use crate::error::Result;
use crate::model::{LogProbs, Model};
use crate::sample::encode_word;
use std::collections::HashSet;
use std::path::PathBuf;

/// How a data set did under a model.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Evaluation {
    /// Mean NLL per bigram.
    pub nll: f64,
    /// Bigrams (examples) read.
    pub examples: u64,
    /// Names read.
    pub names: usize,
}

/// The read options that read data the way `model` was trained: its vocabulary, and folded to
/// lower case when its training data was.
pub fn read_options_for(model: &Model, cancel: crate::cancel::Cancel) -> ReadOptions {
    ReadOptions {
        lowercase: model.lowercase(),
        vocab: VocabChoice::Fixed(Box::new(model.vocab.clone())),
        cancel,
        ..ReadOptions::default()
    }
}

/// The NLL of `data`'s bigrams under `model`, the data read with `options`.
pub fn evaluate(model: &Model, data: &[Source], options: &ReadOptions) -> Result<Evaluation> {
    let corpus = Corpus::load(data, options, model.order, Keep::default())?;
    Ok(Evaluation {
        nll: model.nll(&corpus.counts)?,
        examples: corpus.counts.total(),
        names: corpus.scan.names,
    })
}

/// The files a checkpoint was trained on, when every one is still where it was with the same
/// bytes (its metadata lists them with their checksums; data from stdin cannot be found).
/// Checksumming stops once `cancel` is raised.
pub fn training_data_of(model: &Model, cancel: &Cancel) -> Result<Option<Vec<Source>>> {
    let files = model.meta.data_files().into_iter();
    let recorded: Option<Vec<(PathBuf, String)>> = files
        .map(|f| Some((PathBuf::from(f.path?), f.sha256?)))
        .collect();
    let Some(files) = recorded.filter(|files| !files.is_empty()) else {
        return Ok(None);
    };
    let mut sources = Vec::with_capacity(files.len());
    for (path, want) in files {
        if !path.is_file() {
            return Ok(None);
        }
        match crate::data::sha256_of(&path, cancel) {
            Ok(sha256) if sha256 == want => sources.push(Source::File(path)),
            Err(e @ crate::Error::Interrupted { .. }) => return Err(e),
            _ => return Ok(None),
        }
    }
    Ok(Some(sources))
}

/// The distinct names `data` holds, read the way `model` was trained, to tell known names from
/// new ones; with no `data`, the checkpoint's own training data when it is still there
/// unchanged (checksummed here, so only when asked), else `None`.
pub fn known_names_of(
    model: &Model,
    data: &[Source],
    cancel: &Cancel,
) -> Result<Option<HashSet<String>>> {
    let recorded = match data.is_empty() {
        true => training_data_of(model, cancel)?,
        false => Some(data.to_vec()),
    };
    let Some(data) = recorded else {
        return Ok(None);
    };
    let names = read_names(&data, &read_options_for(model, cancel.clone()))?;
    // The set beside the list: an entry (a String moved in, and the table's slack) a name.
    let (need, what) = (names.len() as u64 * 64, "the names kept in memory");
    crate::memory::check(need, what, crate::data::FEWER_NAMES)?;
    Ok(Some(names.into_iter().collect()))
}

/// A name's score.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Score {
    pub name: String,
    /// Its log-probability (the sum over its bigrams, the end included).
    pub log_prob: f64,
    pub nll_per_bigram: f64,
    /// Its rank among the data's distinct names, most likely first (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
}

/// Scores names under a model, ranking them among known names when given some.
pub struct Scorer<'a> {
    model: &'a Model,
    log_probs: LogProbs,
    /// Log-probabilities of the known names, most likely first.
    ranked: Option<Vec<f64>>,
}

impl<'a> Scorer<'a> {
    /// A scorer; `known` are the names to rank against.
    pub fn new(model: &'a Model, known: Option<&HashSet<String>>) -> Result<Self> {
        let log_probs = model.log_probs()?;
        let ranked = known.map(|names| {
            let mut lps: Vec<f64> = names
                .iter()
                .filter_map(|n| model.vocab.encode(n).ok())
                .map(|ix| log_probs.of_name(&ix))
                .collect();
            lps.sort_by(|a, b| b.total_cmp(a));
            lps
        });
        Ok(Self {
            model,
            log_probs,
            ranked,
        })
    }

    /// How many names the ranks are among.
    pub fn ranked_among(&self) -> Option<usize> {
        self.ranked.as_ref().map(Vec::len)
    }

    pub fn score(&self, name: &str) -> Result<Score> {
        let indices = encode_word(self.model, name, "name")?;
        let log_prob = self.log_probs.of_name(&indices);
        let rank = self
            .ranked
            .as_ref()
            .map(|r| r.partition_point(|&x| x > log_prob) + 1);
        Ok(Score {
            name: name.to_string(),
            log_prob,
            nll_per_bigram: -log_prob / (indices.len() + 1) as f64,
            rank,
        })
    }
}
