//! `--sampler torch-2.0`, PyTorch 2.0 to 2.6 on x86: an exponential race whose exponentials
//! come from oneMKL's stream, repeated in Rust.

use super::rows::{refusal, Checked, Draw, Rows, Shaping};
use crate::error::Result;
use crate::model::Model;
use rand_mt::Mt;
use tch::Tensor;

/// oneMKL's `VSL_BRNG_MCG31` stream: x <- a x mod (2^31 - 1), each output x / (2^31 - 1).
struct Mcg31 {
    x: u64,
}

const MCG31_MODULUS: u64 = 0x7fff_ffff;
const MCG31_MULTIPLIER: u64 = 1_132_489_760;

impl Mcg31 {
    /// A stream seeded as oneMKL seeds it: the seed modulo 2^31 - 1, and 1 for a 0.
    fn new(seed: u32) -> Self {
        let x = u64::from(seed) % MCG31_MODULUS;
        Self { x: x.max(1) }
    }

    /// The next uniform in (0, 1] as a float: the quotient rounded to float32.
    fn next_uniform(&mut self) -> f32 {
        let u = (self.x as f64 / MCG31_MODULUS as f64) as f32;
        self.x = self.x * MCG31_MULTIPLIER % MCG31_MODULUS;
        u
    }
}

/// `exponential_()` of a float32 tensor of `len` elements in PyTorch 2.0 to 2.6 on x86 (built
/// with oneMKL), after the generator handed it `seed`: oneMKL's inverse-CDF exponentials of
/// an MCG31 stream, -ln(u) shifted by the smallest normal float (so none is 0). PyTorch
/// splits a long tensor among threads, each skipping ahead in the same stream, so the values
/// do not depend on the thread count. libtorch's float32 `log` is oneMKL's, whose kernel, and
/// so the last bit of a few values, depends on the CPU (docs/sampling.md).
fn mkl_exponentials(seed: u32, len: usize) -> Result<Vec<f32>> {
    let mut stream = Mcg31::new(seed);
    let u: Vec<f32> = (0..len).map(|_| stream.next_uniform()).collect();
    let ln_u = Vec::<f32>::try_from(Tensor::from_slice(&u).f_log()?)?;
    Ok(ln_u.iter().map(|&ln| f32::MIN_POSITIVE + -ln).collect())
}

/// The winner of the exponential race: the index of the largest p / q in float32, the first
/// of equals, as `argmax` picks it.
fn race_winner(p: &[f32], q: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, ratio) in p.iter().zip(q).map(|(p, q)| p / q).enumerate() {
        if ratio > best.1 {
            best = (i, ratio);
        }
    }
    best.0
}

/// `torch.multinomial(p, 1)` as PyTorch 2.0 to 2.6 drew it on x86: argmax(p / q) with q from
/// [`mkl_exponentials`], one 32-bit number of PyTorch's generator per character. The
/// generator is the sampler's own, seeded as `torch.manual_seed` seeds PyTorch's.
pub(super) fn exponential_race<'a>(model: &'a Model, shaping: Shaping, seed: i64) -> Draw<'a> {
    let mut rows: Rows<Checked> = Rows::new(model, shaping);
    // PyTorch's CPU generator: the 32-bit Mersenne Twister (MT19937) with the reference
    // initialisation from the seed's low 32 bits, all that `torch.manual_seed` keeps.
    let mut generator = Mt::new(seed as u32);
    Box::new(move |context| {
        let p = rows.checked(context, |p| refusal(&p).map_or(Ok(p), Err))?;
        let q = mkl_exponentials(generator.next_u32(), p.len())?;
        Ok(race_winner(p, &q))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mcg31_seed_is_taken_modulo_its_modulus_and_never_0() {
        assert_eq!(Mcg31::new(0).x, 1);
        assert_eq!(Mcg31::new(0x7fff_ffff).x, 1);
        assert_eq!(Mcg31::new(u32::MAX).x, 1);
        assert_eq!(Mcg31::new(0x8000_0000).x, 1);
        let mut stream = Mcg31::new(5);
        assert_eq!(stream.next_uniform(), (5.0 / 2147483647.0f64) as f32);
        assert_eq!(stream.x, 5 * 1_132_489_760 % 0x7fff_ffff);
    }

    /// `torch.empty(27).exponential_(generator=g)` with g seeded 2147483647, as PyTorch 2.6.0
    /// printed it (tests/fixtures/torch-2.6.0, made by scripts/research/torch26_names.py), to
    /// one unit in the last place: oneMKL picks its `log` kernel by CPU, and on an Intel Xeon
    /// with AVX-512 three of these differ by one from those of the AMD EPYC that made them.
    #[test]
    fn the_exponentials_are_pytorch_2_6s_to_the_last_bit() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/torch-2.6.0/names.json"))
                .unwrap();
        let want: Vec<f32> = fixture["exponentials"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let seed = fixture["exponentials"]["seed"].as_u64().unwrap() as u32;
        let got = mkl_exponentials(Mt::new(seed).next_u32(), want.len()).unwrap();
        assert_eq!(got.len(), want.len());
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            let ulps = (i64::from(got.to_bits()) - i64::from(want.to_bits())).abs();
            assert!(ulps <= 1, "q[{i}] is {got}, PyTorch 2.6's {want}");
        }
    }

    #[test]
    fn the_race_goes_to_the_largest_ratio_and_the_first_of_equals() {
        assert_eq!(race_winner(&[0.2, 0.3, 0.5], &[1.0, 0.5, 2.0]), 1);
        assert_eq!(race_winner(&[0.5, 0.0, 0.5], &[1.0, 1e-30, 1.0]), 0);
        assert_eq!(race_winner(&[0.0, 1.0], &[f32::MIN_POSITIVE, 3.0]), 1);
    }
}
