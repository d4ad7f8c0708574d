//! Uniform and Gaussian draws from a caller's random number generator.
//!
//! The crate owns no generator and no global state: every function takes `&mut R` for any
//! [`rand_core::Rng`] — a seeded PRNG such as `rand_pcg::Pcg64Mcg` or `rand_chacha::ChaCha8Rng`
//! on a host, a hardware RNG on a microcontroller — so a given seed gives the same model on every
//! platform, with or without `std`, and nothing allocates.
//!
//! | draw | how | consumes |
//! |---|---|---|
//! | [`uniform01`] | `u = ⌊b / 2¹¹⌋ · 2⁻⁵³` from one 64-bit word `b`: one of the 2⁵³ multiples of `2⁻⁵³` in `[0, 1)`, each equally likely | one `next_u64` |
//! | [`uniform`] | `a (2u − 1)`, uniform over `[−a, a)` | one `next_u64` |
//! | [`standard_normal_pair`] | Marsaglia's polar method (below): two independent `N(0, 1)` | `8/π ≈ 2.55` words on average |
//!
//! **Marsaglia's polar method** (Marsaglia & Bray, 1964): draw `u, v` uniform on `[−1, 1)` until
//! the point falls strictly inside the unit disc, `0 < s = u² + v² < 1` (probability `π/4`); then
//! `u·√(−2 ln s / s)` and `v·√(−2 ln s / s)` are independent standard normals. It is the
//! Box–Muller transform with the angle taken from the accepted point instead of a `sin`/`cos`
//! call: `s` is uniform on `(0, 1)` and `(u, v)/√s` is a uniform direction. Every number is finite:
//! `s > 0` is required, so `ln s` is finite; `u` and `v` are multiples of `2⁻⁵²`, so `s ≥ 2⁻¹⁰⁴`
//! and a draw is bounded, `|u|·√(−2 ln s / s) ≤ √(−2 ln s) ≤ √(208 ln 2) ≈ 12.0`.
//!
//! Every draw, and the bound or standard deviation that scales it, is computed in `f64` and rounded
//! once to the model's scalar `T` ([`fill_uniform`], [`fill_normal`]): the same seed gives an `f32`
//! tensor that is the `f64` one rounded to nearest, and the draws do not depend on `T`'s precision.
//!
//! ```
//! use rand_pcg::Pcg64Mcg;
//! use static_rnn::rand_core::SeedableRng;
//! use static_rnn::random;
//!
//! let mut rng = Pcg64Mcg::seed_from_u64(7);
//! let mut w = [0.0_f32; 6];
//! random::fill_normal(&mut rng, &mut w, 0.1);
//! assert!(w.iter().all(|x| x.is_finite() && *x != 0.0));
//!
//! // The same seed gives the same draws.
//! let mut again = [0.0_f32; 6];
//! random::fill_normal(&mut Pcg64Mcg::seed_from_u64(7), &mut again, 0.1);
//! assert_eq!(w, again);
//! ```

use crate::scalar::{self, Real};
use nalgebra::ComplexField;
use rand_core::Rng;

/// `2⁻⁵³`, the spacing of the grid [`uniform01`] draws from.
const GRID: f64 = 1.0 / (1_u64 << 53) as f64;

/// A uniform draw from `[0, 1)`: `u = ⌊b / 2¹¹⌋ · 2⁻⁵³` for one random 64-bit word `b`.
///
/// The top 53 bits of `b` select one of the `2⁵³` multiples of `2⁻⁵³` in `[0, 1)`, each with
/// probability `2⁻⁵³`; every one is exactly representable in `f64`, so the result is exact, `0` is
/// possible and `1` is not.
///
/// ```
/// use rand_pcg::Pcg64Mcg;
/// use static_rnn::rand_core::SeedableRng;
/// let u = static_rnn::random::uniform01(&mut Pcg64Mcg::seed_from_u64(1));
/// assert!((0.0..1.0).contains(&u));
/// ```
#[inline]
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * GRID
}

/// A uniform draw from `[−a, a)`: `a (2u − 1)` with `u` from [`uniform01`].
///
/// `2u − 1` is exact (a multiple of `2⁻⁵²` in `[−1, 1)`), so the only rounding is the product.
///
/// ```
/// use rand_pcg::Pcg64Mcg;
/// use static_rnn::rand_core::SeedableRng;
/// let x = static_rnn::random::uniform(&mut Pcg64Mcg::seed_from_u64(1), 0.5);
/// assert!((-0.5..0.5).contains(&x));
/// ```
#[inline]
pub fn uniform<R: Rng + ?Sized>(rng: &mut R, bound: f64) -> f64 {
    bound * (2.0 * uniform01(rng) - 1.0)
}

/// Two independent standard normal draws, `N(0, 1)`, by Marsaglia's polar method.
///
/// Draws `u = 2·uniform01 − 1`, `v = 2·uniform01 − 1` until `0 < s = u² + v² < 1`, then returns
/// `(u·√(−2 ln s / s), v·√(−2 ln s / s))`. See the [module documentation](self) for why this is
/// Gaussian and finite.
///
/// ```
/// use rand_pcg::Pcg64Mcg;
/// use static_rnn::rand_core::SeedableRng;
/// let (z1, z2) = static_rnn::random::standard_normal_pair(&mut Pcg64Mcg::seed_from_u64(3));
/// assert!(z1.is_finite() && z2.is_finite() && z1 != z2);
/// ```
pub fn standard_normal_pair<R: Rng + ?Sized>(rng: &mut R) -> (f64, f64) {
    loop {
        let u = 2.0 * uniform01(rng) - 1.0;
        let v = 2.0 * uniform01(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            let factor = ComplexField::sqrt(-2.0 * ComplexField::ln(s) / s);
            return (u * factor, v * factor);
        }
    }
}

/// Fills `out` with independent draws from `U(−a, a)`, `a = bound`, in order.
///
/// Each element is [`uniform`]`(rng, a)`, computed in `f64` and rounded to `T`, so it lies in the
/// closed interval `[−a, a]` rounded to `T` (rounding to `f32` may reach the end points).
/// Consumes one `next_u64` per element.
///
/// ```
/// use rand_pcg::Pcg64Mcg;
/// use static_rnn::rand_core::SeedableRng;
/// let mut w = [0.0_f32; 100];
/// static_rnn::random::fill_uniform(&mut Pcg64Mcg::seed_from_u64(5), &mut w, 0.25);
/// assert!(w.iter().all(|x| x.abs() <= 0.25));
/// ```
pub fn fill_uniform<T: Real, R: Rng + ?Sized>(rng: &mut R, out: &mut [T], bound: f64) {
    for x in out {
        *x = scalar::constant(uniform(rng, bound));
    }
}

/// Fills `out` with independent draws from `N(0, σ²)`, `σ = std`, in order.
///
/// Elements are filled in pairs from [`standard_normal_pair`], each `σ·z` computed in `f64` and
/// rounded to `T`; for an odd length the second draw of the last pair is discarded.
pub fn fill_normal<T: Real, R: Rng + ?Sized>(rng: &mut R, out: &mut [T], std: f64) {
    for pair in out.chunks_mut(2) {
        let (z1, z2) = standard_normal_pair(rng);
        pair[0] = scalar::constant(std * z1);
        if let Some(second) = pair.get_mut(1) {
            *second = scalar::constant(std * z2);
        }
    }
}
