//! The fast paths: other training methods reach the one-hot loop's losses, and the fast
//! sampler draws each letter as often as the model says.

use crate::common::*;

use bigram::data::{Corpus, Keep, ReadOptions};
use bigram::model::Model;
use bigram::sample::{sample_names, SamplerKind};
use bigram::train::{train, Method, TrainConfig, TrainData};

fn losses(corpus: &Corpus, method: Method) -> Vec<f64> {
    let config = TrainConfig {
        epochs: 100,
        lr: 50.0,
        reg: 0.01,
        seed: 42,
        method,
        device: tch::Device::Cpu,
    };
    let data = TrainData {
        examples: corpus.examples.as_ref(),
        counts: &corpus.counts,
        dev: None,
    };
    train(data, &config, &mut |_| Ok(())).unwrap().losses
}

#[test]
fn index_and_counts_methods_track_the_onehot_losses() {
    let corpus = names_with_examples();
    tch::set_num_threads(THREADS);
    let onehot = losses(&corpus, Method::OneHot);
    let pytorch = reference(&["--threads", &threads_arg()]);
    let pytorch: Vec<f64> = pytorch["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(
        onehot, pytorch,
        "the one-hot loop is PyTorch's, epoch for epoch"
    );
    for method in [Method::Index, Method::Counts] {
        let other = losses(&corpus, method);
        assert_eq!(other.len(), 100);
        for (epoch, (a, b)) in onehot.iter().zip(&other).enumerate() {
            assert!(
                (a - b).abs() < 5e-5,
                "{method:?}, epoch {}: {b} vs one-hot {a}",
                epoch + 1
            );
        }
    }
}

#[test]
fn counting_without_examples_equals_counting_with_them() {
    let path = names_source();
    let streamed = Corpus::load(&path, &ReadOptions::default(), 2, Keep::default()).unwrap();
    let listed = Corpus::load(
        &path,
        &ReadOptions::default(),
        2,
        Keep {
            examples: true,
            names: true,
        },
    )
    .unwrap();
    assert_eq!(streamed.counts, listed.counts);
    assert_eq!(streamed.counts.total(), 228146);
    assert_eq!(streamed.scan.files, listed.scan.files);
}

/// Relative frequency of each vocabulary index over all names (end token included).
fn letter_frequencies(names: &[String], model: &Model) -> Vec<f64> {
    let mut counts = vec![0f64; model.vocab.len()];
    for name in names {
        for ix in model.vocab.encode(name).unwrap() {
            counts[ix] += 1.0;
        }
        counts[0] += 1.0;
    }
    let total: f64 = counts.iter().sum();
    counts.iter().map(|c| c / total).collect()
}

/// The share of each vocabulary index among the characters of the model's names (end token
/// included), worked out from its probabilities: a name is a walk from "." that ends on
/// returning there, so the expected visits to the letters are the sum over steps of the
/// start row times the letter-to-letter block, which shrinks geometrically.
fn expected_letter_frequencies(model: &Model) -> Vec<f64> {
    let p: Vec<f64> = model
        .log_probs()
        .unwrap()
        .cells()
        .iter()
        .map(|lp| lp.exp())
        .collect();
    let width = model.vocab.len();
    let mut visits = vec![0f64; width];
    visits[0] = 1.0; // one end per name
    let mut step: Vec<f64> = p[..width].to_vec(); // the first character, from "."
    step[0] = 0.0;
    while step.iter().sum::<f64>() > 1e-15 {
        let mut next = vec![0f64; width];
        for (from, &mass) in step.iter().enumerate().skip(1) {
            visits[from] += mass;
            for to in 1..width {
                next[to] += mass * p[from * width + to];
            }
        }
        step = next;
    }
    let total: f64 = visits.iter().sum();
    visits.iter().map(|v| v / total).collect()
}

/// The fast sampler draws each letter as often as the model says: its letter frequencies over
/// 100,000 names against the exact ones worked out from the probabilities (the exact sampler
/// is PyTorch's, tests/it/parity.rs).
#[test]
fn fast_sampler_has_the_models_letter_frequencies() {
    let corpus =
        Corpus::load(&names_source(), &ReadOptions::default(), 2, Keep::default()).unwrap();
    let model = Model::from_counts(&corpus.counts, &corpus.scan.vocab, 2, 1.0);
    // Names of at most 50 characters from the fast sampler seeded with `seed`.
    let fast_names = |seed, n| sample_names(&model, SamplerKind::Fast, seed, n, 50).unwrap();
    let n = 100_000;
    let fast = fast_names(1, n);
    let (p, q) = (
        expected_letter_frequencies(&model),
        letter_frequencies(&fast, &model),
    );
    // Each name has about 7.8 characters: ~780k letters. Five standard errors of a
    // proportion, per letter.
    let letters = 7.8 * n as f64;
    for (ix, (a, b)) in p.iter().zip(&q).enumerate() {
        let se = (a * (1.0 - a) / letters).sqrt();
        assert!(
            (a - b).abs() < 5.0 * se + 1e-6,
            "{:?}: exact {a:.5}, fast {b:.5}",
            model.vocab.char(ix)
        );
    }
    // And not by accident: the same seed gives the same names, another seed others.
    assert_eq!(fast_names(1, 1000)[..], fast[..1000]);
    assert_ne!(fast_names(2, 1000)[..], fast[..1000]);
}
