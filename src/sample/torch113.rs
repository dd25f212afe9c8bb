//! `--sampler torch-1.13`, PyTorch before 2.0: one uniform number searched in the cumulative
//! sums of p.

use super::rows::{refusal, Checked, Draw, Rows, Shaping};
use crate::device::CpuGenerator;
use crate::error::Result;
use crate::model::Model;
use tch::{Device, Kind, Tensor};

/// The kernel's table for probabilities `p`: a running sum in float32, each entry divided by
/// the total in float32, the last bucket set to 1. The error is the kernel's reason to refuse.
fn cumulative_table(p: &[f32]) -> Checked {
    if let Some(why) = refusal(p) {
        return Err(why);
    }
    let mut sum = 0.0f32;
    let mut table: Vec<f32> = p
        .iter()
        .map(|&v| {
            sum += v;
            sum
        })
        .collect();
    table.iter_mut().for_each(|c| *c /= sum);
    if let Some(last) = table.last_mut() {
        *last = 1.0;
    }
    Ok(table)
}

/// A uniform double in [0, 1) from libtorch's CPU generator: 53 bits of one 64-bit number,
/// as the kernel's `uniform_real_distribution<double>` takes them (and `torch.rand` of a
/// float64).
fn uniform_double() -> Result<f64> {
    Ok(Tensor::f_rand([1], (Kind::Double, Device::Cpu))?.f_double_value(&[0])?)
}

/// The bucket a uniform `u` in [0, 1) falls in: the kernel's binary search for the first
/// entry that is not below `u`, each entry compared as a double.
fn cumulative_pick(table: &[f32], u: f64) -> usize {
    table.partition_point(|&c| f64::from(c) < u)
}

/// The cumulative sampler of PyTorch before 2.0 (`torch.multinomial` with more than one
/// sample still runs it on the CPU), over each context's cumulative table, drawing from the
/// CPU generator, which it holds.
pub(super) fn cumulative<'a>(model: &'a Model, shaping: Shaping, seed: i64) -> Draw<'a> {
    let generator = CpuGenerator::manual_seed(seed);
    let mut rows: Rows<Checked> = Rows::new(model, shaping);
    Box::new(move |context| {
        // Names the generator so the closure owns it, held as long as the sampler: the
        // uniforms come from it.
        let _held = &generator;
        let table = rows.checked(context, |p| cumulative_table(&p))?;
        Ok(cumulative_pick(table, uniform_double()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cumulative_table_sums_in_f32_and_the_search_takes_the_first_bucket_not_below() {
        // 0.1 + 0.2 in f32 is 0.3 rounded up; the normalised buckets and the last one, 1.
        let table = cumulative_table(&[0.1, 0.2, 0.0, 0.7]).unwrap();
        let sum = 0.1f32 + 0.2 + 0.0 + 0.7;
        assert_eq!(
            table,
            [0.1 / sum, (0.1 + 0.2) / sum, (0.1 + 0.2) / sum, 1.0]
        );
        // A uniform equal to a bucket's value stays in it; an empty bucket is never chosen.
        assert_eq!(cumulative_pick(&table, 0.0), 0);
        assert_eq!(cumulative_pick(&table, f64::from(table[0])), 0);
        assert_eq!(cumulative_pick(&table, f64::from(table[0]) + 1e-12), 1);
        assert_eq!(cumulative_pick(&table, f64::from(table[1]) + 1e-12), 3);
        assert_eq!(cumulative_pick(&table, 1.0 - f64::EPSILON), 3);
        // Weights that do not add up to 1 are normalised; the kernel's refusals.
        assert_eq!(cumulative_table(&[2.0, 2.0]).unwrap(), [0.5, 1.0]);
        assert!(cumulative_table(&[0.0, 0.0]).is_err());
        assert!(cumulative_table(&[f32::NAN, 1.0]).is_err());
        assert!(cumulative_table(&[-0.5, 1.0]).is_err());
    }

    /// The lecture's first example, as PyTorch prints it (the figures):
    /// `p = torch.rand(3, generator=g)`, normalised, then `torch.multinomial(p, 20, True, g)`
    /// with g seeded 2147483647.
    #[test]
    fn twenty_cumulative_draws_from_three_random_weights_are_the_lectures() {
        let _generator = CpuGenerator::manual_seed(2147483647);
        let p = Tensor::rand([3], (Kind::Float, Device::Cpu));
        let p = Vec::<f32>::try_from(&p / p.sum(None::<Kind>)).unwrap();
        let table = cumulative_table(&p).unwrap();
        let drawn: Vec<usize> = (0..20)
            .map(|_| cumulative_pick(&table, uniform_double().unwrap()))
            .collect();
        assert_eq!(
            drawn,
            [1, 1, 2, 0, 0, 2, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]
        );
    }
}
