//! What the property tests share: a small seeded generator of random models and sequences.

use static_rnn::{HiddenActivation, OutputActivation, Real, Rnn, SMatrix, scalar::constant};

/// SplitMix64: a seeded, portable stream of random numbers, so a quickcheck seed is a whole case.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[−1, 1)`.
    pub fn uniform(&mut self) -> f64 {
        2.0 * self.unit() - 1.0
    }

    /// An `R × C` matrix (a vector for `C = 1`) of entries uniform in `[−scale, scale)`.
    pub fn matrix<T: Real, const R: usize, const C: usize>(
        &mut self,
        scale: f64,
    ) -> SMatrix<T, R, C> {
        SMatrix::from_fn(|_, _| constant(scale * self.uniform()))
    }
}

/// A model with weights of the usual scale: `W_h` scaled by `1/√H` so the recurrence neither
/// explodes nor vanishes over a few dozen steps.
pub fn random_model<const I: usize, const H: usize, const O: usize, F, G, T>(
    rng: &mut Rng,
) -> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    Rnn::new(
        rng.matrix(1.0),
        rng.matrix(1.2 / (H as f64).sqrt()),
        rng.matrix(0.5),
        rng.matrix(1.0),
        rng.matrix(0.5),
    )
}
