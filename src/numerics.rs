//! Numerically stable building blocks: log-sum-exp, softmax, the logistic sigmoid and its logarithm;
//! and [`fast_tanh`] and [`fast_exp`] (with [`fast_softmax`]), vectorizable approximations of
//! `tanh` and `exp` with stated maximum errors.
//!
//! Each function here is finite for every finite input, however large. They are what the fused
//! output heads in [`loss`](crate::loss) compute their losses from, so that logits of ±1000 give a
//! finite loss and finite gradients.

use crate::scalar::{Real, constant};
use nalgebra::SVector;

/// `log Σ_k exp(a_k)`, computed as `m + log Σ_k exp(a_k − m)` with `m = max_k a_k`.
///
/// Finite for every finite `a`; `−∞` for an empty vector.
///
/// ```
/// use static_rnn::{numerics::log_sum_exp, SVector};
/// let a = SVector::<f64, 2>::new(1000.0, 1000.0);
/// assert!((log_sum_exp(&a) - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
#[inline(always)]
pub fn log_sum_exp<T: Real, const N: usize>(a: &SVector<T, N>) -> T {
    if N == 0 {
        return -T::one() / T::zero();
    }
    let m = largest(a);
    m + a.map(|ak| (ak - m).exp()).sum().ln()
}

/// `log Σ_k exp(a_k)` read off `ŷ = softmax(a)` without another exponential:
/// `lse(a) = m − ln ŷ_max` with `m = max_k a_k` and `ŷ_max = max_k ŷ_k`, because [`softmax`]
/// computes `ŷ_{k*} = exp(0) / Σ_j exp(a_j − m)` at a largest component `k*` of `a`, and that is
/// the largest probability (the exponential and the rounding are monotone).
///
/// The same number as [`log_sum_exp`] up to the rounding of one division (`ŷ_max ≥ 1/N`, so
/// `ln ŷ_max` is well conditioned), finite for every finite `a`. `y_hat` must be
/// [`softmax`]`(a)` (or [`fast_softmax`]`(a)`). Two maxima and no index: both reductions
/// vectorize.
///
/// ```
/// use static_rnn::{numerics::{log_sum_exp, log_sum_exp_given_softmax, softmax}, SVector};
/// let a = SVector::<f64, 3>::new(0.5, -2.0, 1000.0);
/// let lse = log_sum_exp_given_softmax(&a, &softmax(&a));
/// assert!((lse - log_sum_exp(&a)).abs() <= 1e-12 * lse.abs());
/// ```
#[inline(always)]
pub fn log_sum_exp_given_softmax<T: Real, const N: usize>(
    a: &SVector<T, N>,
    y_hat: &SVector<T, N>,
) -> T {
    log_sum_exp_given_ln_largest(a, largest(y_hat).ln())
}

/// [`log_sum_exp_given_softmax`] given `ln max_k ŷ_k` (by whatever logarithm the softmax head
/// takes): `max_k a_k − ln max_k ŷ_k`, `−∞` for an empty `a`.
#[inline(always)]
pub(crate) fn log_sum_exp_given_ln_largest<T: Real, const N: usize>(
    a: &SVector<T, N>,
    ln_largest: T,
) -> T {
    if N == 0 {
        return -T::one() / T::zero();
    }
    largest(a) - ln_largest
}

/// Lanes of the partial maxima in [`largest`]: a vector register of `f32` with AVX2.
const MAX_LANES: usize = 8;

/// `max_k a_k`, `−∞` for an empty vector: the maximum of each of [`MAX_LANES`] lanes over the
/// blocks of `a`, then of the lanes and the components left. A maximum does not depend on the
/// order it is taken in (but for the sign of a zero), so this is nalgebra's `max` (whose one
/// running maximum over the components is a chain of dependent comparisons), vectorized; only
/// where `a` holds a `NaN` may the two differ (a `NaN` is never larger, so it stays only where it
/// starts a lane), and every caller's result is then `NaN` either way.
#[inline(always)]
pub(crate) fn largest<T: Real, const N: usize>(a: &SVector<T, N>) -> T {
    let (blocks, rest) = a.as_slice().as_chunks::<MAX_LANES>();
    let mut m = -T::one() / T::zero();
    if let Some((first, blocks)) = blocks.split_first() {
        let mut lanes = *first;
        for block in blocks {
            for (lane, &a_k) in lanes.iter_mut().zip(block) {
                if a_k > *lane {
                    *lane = a_k;
                }
            }
        }
        // The lanes in halves (8 → 4 → 2 → 1): three steps of dependent comparisons, not seven.
        let mut width = MAX_LANES / 2;
        while width > 0 {
            let (low, high) = lanes.split_at_mut(width);
            for (lane, &other) in low.iter_mut().zip(&*high) {
                if other > *lane {
                    *lane = other;
                }
            }
            width /= 2;
        }
        m = lanes[0];
    }
    for &a_k in rest {
        if a_k > m {
            m = a_k;
        }
    }
    m
}

/// [`largest`] of `K` vectors at once, given as rows (`rows[n][k]` is component `n` of vector
/// `k`, [`rows_of`]): each column's comparisons are the ones [`largest`] makes, in its order, so
/// each maximum is the same bits, `NaN` and the sign of a zero included (the test
/// `columns_are_the_single_vector_functions_bit_for_bit`). On rows, each comparison is one
/// across all `K` vectors. (One vector keeps [`largest`]'s own loops: as a column of one, the
/// streaming step took 185 ns instead of 128.)
#[inline(always)]
fn largest_of_columns<T: Real, const N: usize, const K: usize>(rows: &[[T; K]; N]) -> [T; K] {
    let (blocks, rest) = rows.as_chunks::<MAX_LANES>();
    let mut m = [-T::one() / T::zero(); K];
    if let Some((first, blocks)) = blocks.split_first() {
        let mut lanes = *first;
        for block in blocks {
            for (lane, row) in lanes.iter_mut().zip(block) {
                keep_larger(lane, row);
            }
        }
        // The lanes in halves (8 → 4 → 2 → 1): three steps of dependent comparisons, not seven.
        let mut width = MAX_LANES / 2;
        while width > 0 {
            let (low, high) = lanes.split_at_mut(width);
            for (lane, row) in low.iter_mut().zip(&*high) {
                keep_larger(lane, row);
            }
            width /= 2;
        }
        m = lanes[0];
    }
    for row in rest {
        keep_larger(&mut m, row);
    }
    m
}

/// `m_k ← a_k` where `a_k > m_k`, for each of `K` columns (a `NaN` is never larger).
#[inline(always)]
fn keep_larger<T: Real, const K: usize>(m: &mut [T; K], a: &[T; K]) {
    // A select, not a conditional store: the compiler vectorizes it (a compare and a blend).
    for (m_k, &a_k) in m.iter_mut().zip(a) {
        *m_k = if a_k > *m_k { a_k } else { *m_k };
    }
}

/// `K` vectors as `N` rows of `K`: `rows[n][k] = columns[k][n]`, so that one operation on a row
/// is one on component `n` of every vector, in vector registers across the vectors.
#[inline(always)]
fn rows_of<T: Real, const N: usize, const K: usize>(columns: &[SVector<T, N>; K]) -> [[T; K]; N] {
    let mut rows = [[T::zero(); K]; N];
    for (k, column) in columns.iter().enumerate() {
        for (row, &value) in rows.iter_mut().zip(column.as_slice()) {
            row[k] = value;
        }
    }
    rows
}

/// `softmax(a)_k = exp(a_k − m) / Σ_j exp(a_j − m)` with `m = max_j a_j`.
///
/// Finite and summing to one for every finite `a`.
///
/// ```
/// use static_rnn::{numerics::softmax, SVector};
/// let p = softmax(&SVector::<f64, 3>::new(-1000.0, 0.0, 1000.0));
/// assert_eq!(p, SVector::<f64, 3>::new(0.0, 0.0, 1.0));
/// ```
#[inline(always)]
pub fn softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
    let m = largest(a);
    let e = a.map(|ak| (ak - m).exp());
    let total = e.sum();
    e / total
}

/// `eˣ` by a vectorizable polynomial (the exponential of [`FastSoftmax`](crate::FastSoftmax)):
/// `eˣ = 2ⁿ · eʳ` with `n = ⌊x / ln 2⌉` and `|r| ≤ ln 2 / 2` (`r` reduced in two parts, Cody and
/// Waite), `eʳ` by the degree-7 polynomial of Cephes' `expf`, and `2ⁿ` put together from the bits
/// of two powers of two.
///
/// It has no branch and no call, so the compiler vectorizes it over a vector (the exact `exp`
/// is a call into the math library per component). Its error, measured over every `f32` (the
/// test `fast_exp_is_within_its_bound_for_every_f32_exhaustive`):
///
/// - `f32`, `−87 ≤ x ≤ 88.7`: `|fast_exp(x) − eˣ| ≤ 8.4e−8 · eˣ`, under 1 ulp (as accurate as the
///   math library's `expf` for practical purposes, but not correctly rounded);
/// - `x < −87`: `0` (`eˣ < 1.7e−38`: the smallest normal `f32` is `1.2e−38`); `x > 88.73`: `+∞`
///   (`eˣ` overflows `f32`), and `NaN` gives `NaN`;
/// - `f64`: the same approximation, so an `f32`-sized relative error (use it in `f64` only to
///   compare with `f32`).
///
/// ```
/// use static_rnn::numerics::fast_exp;
/// assert!((fast_exp(-1.5_f32) - (-1.5_f32).exp()).abs() <= 8.4e-8 * (-1.5_f32).exp());
/// assert_eq!(fast_exp(0.0_f32), 1.0);
/// assert_eq!(fast_exp(-1000.0_f32), 0.0);
/// assert!(fast_exp(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn fast_exp<T: Real>(x: T) -> T {
    let c = constant::<T>;
    let (low, high) = (c(-87.0), c(88.75));
    // Clamped as by `minps`/`maxps` (NaN goes to a limit; the last line returns it).
    let above = if x > low { x } else { low };
    let clamped = if above < high { above } else { high };
    let n = (clamped * c(core::f64::consts::LOG2_E) + c(0.5)).floor();
    let r = clamped - n * c(0.693_359_375) - n * c(-2.121_944_400_546_905_8e-4);
    let p = (((((c(1.987_569_150_0e-4) * r + c(1.398_199_950_7e-3)) * r + c(8.333_451_907_3e-3))
        * r
        + c(4.166_579_589_4e-2))
        * r
        + c(1.666_666_545_9e-1))
        * r
        + c(5.000_000_120_1e-1))
        * r
        * r
        + r
        + T::one();
    // 2ⁿ as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋), n ∈ [−126, 128]: both factors normal f32 powers of two, put
    // together from their exponent bits, and the products exact but where eˣ overflows to +∞.
    // n as an i32 from the bits of n + 1.5·2²³, whose mantissa then holds n: `as i32` would
    // saturate, a conversion the compiler does one element at a time. (No closure and no call
    // that is not always inlined either: either would be compiled outside the copy of the widest
    // vector instructions.)
    let n: f32 = n.to_subset_unchecked();
    let n = (n + 12_582_912.0).to_bits() as i32 - 0x4B40_0000;
    let scaled = p * power_of_two::<T>(n >> 1) * power_of_two::<T>(n - (n >> 1));
    if x >= low {
        scaled
    } else if x < low {
        T::zero()
    } else {
        x // NaN
    }
}

/// `ln x` by a vectorizable polynomial (the logarithm of [`FastSoftmax`](crate::FastSoftmax)'s
/// cross-entropy): `x = m · 2ᵉ` with `m ∈ [√½, √2)` read off the bits of `x`, and
/// `ln x = e ln 2 + ln m`, `ln m = ln(1 + f)` by the degree-8 polynomial of Cephes' `logf`
/// (`f − f²/2 + f³ P(f)`), `e ln 2` added in two parts (Cody and Waite).
///
/// It has no branch and no call, so the compiler vectorizes it (the exact `ln` is a call into the
/// math library, which also makes the compiler save every vector register around it). Its
/// error, measured over every positive normal `f32` (the test
/// `fast_ln_is_within_its_bound_for_every_f32_exhaustive`): `|fast_ln(x) − ln x| < 1 ulp` of
/// `ln x` (the worst 0.83 ulp) and `≤ 1.2e−7 · |ln x|`; `fast_ln(1) = 0` exactly.
///
/// - `0 ≤ x < 2⁻¹²⁶` (zero and the subnormals) gives `ln 2⁻¹²⁶ ≈ −87.34`, as if the input were
///   raised to the smallest normal `f32` (as [`floor_probability`] does); `x = +∞` gives `+∞`;
///   a negative `x` and `NaN` give `NaN`;
/// - `f64`: the same approximation of `x` raised or lowered into the normal `f32` range
///   `[2⁻¹²⁶, f32::MAX]`, so an `f32`-sized error inside that range and the range's ends'
///   logarithms outside it (`FastSoftmax` takes it of probabilities in `[1/N, 1]`).
///
/// ```
/// use static_rnn::numerics::fast_ln;
/// assert!((fast_ln(0.3_f32) - 0.3_f32.ln()).abs() <= 1.2e-7 * 0.3_f32.ln().abs());
/// assert_eq!(fast_ln(1.0_f32), 0.0);
/// assert_eq!(fast_ln(0.0_f32), fast_ln(f32::MIN_POSITIVE));
/// assert!(fast_ln(-1.0_f32).is_nan());
/// ```
#[inline(always)]
pub fn fast_ln<T: Real>(x: T) -> T {
    let c = constant::<T>;
    let smallest = c(f64::from(f32::MIN_POSITIVE));
    // Raised to the smallest normal f32 as by `maxps` (which maps NaN to it: the last line
    // returns the NaN input itself), and below +∞, which the last line returns too.
    let normal = if x > smallest { x } else { smallest };
    let finite = if normal < c(f64::from(f32::MAX)) {
        normal
    } else {
        c(f64::from(f32::MAX))
    };
    // The bits of an f32: the exponent e, and the mantissa as m ∈ [1, 2).
    let bits = {
        let as_f32: f32 = finite.to_subset_unchecked();
        as_f32.to_bits()
    };
    let mut e = ((bits >> 23) as i32 - 127) as f32;
    let m1: T = T::from_subset(&f32::from_bits((bits & 0x007F_FFFF) | 0x3F80_0000));
    // m ∈ [√½, √2): halved, with e one larger, where m ≥ √2.
    let above = m1 >= c(core::f64::consts::SQRT_2);
    let m = if above { m1 * c(0.5) } else { m1 };
    e += if above { 1.0 } else { 0.0 };
    let e = T::from_subset(&e);
    let f = m - T::one();
    let f2 = f * f;
    let p = ((((((((c(7.037_683_629_2e-2) * f + c(-1.151_461_031_0e-1)) * f
        + c(1.167_699_874_0e-1))
        * f
        + c(-1.242_014_084_6e-1))
        * f
        + c(1.424_932_278_7e-1))
        * f
        + c(-1.666_805_766_5e-1))
        * f
        + c(2.000_071_476_5e-1))
        * f
        + c(-2.499_999_399_3e-1))
        * f
        + c(3.333_333_117_4e-1))
        * f
        * f2;
    let ln_m = f + (p + e * c(-2.121_944_400_546_905_8e-4) - c(0.5) * f2);
    let ln_x = ln_m + e * c(0.693_359_375);
    if x >= T::zero() && x < c(f64::from(f32::INFINITY)) {
        ln_x
    } else if x >= T::zero() {
        x // +∞
    } else {
        T::zero() / T::zero() // negative or NaN
    }
}

/// `2ᵏ` for `−126 ≤ k ≤ 127`, from the exponent bits of an `f32`.
#[inline(always)]
fn power_of_two<T: Real>(k: i32) -> T {
    T::from_subset(&f32::from_bits(((k + 127) as u32) << 23))
}

/// [`softmax`] with [`fast_exp`]: `softmax(a)_k ≈ fast_exp(a_k − m) / Σ_j fast_exp(a_j − m)`,
/// `m = max_j a_j`, every exponential computed with vector instructions (the output of
/// [`FastSoftmax`](crate::FastSoftmax)).
///
/// Each `fast_exp` is within `8.4e−8` of `exp`, relative (in `f32`), so each probability is within
/// a few ulp of [`softmax`]'s (two such errors, and the roundings of the sum and the division,
/// which [`softmax`] has too: at most `1.5e−7` relative for 8 outputs in the tests); a probability
/// below `1.7e−38 · ŷ_max` (an exponent under `−87`) is `0`. Finite and summing to one within
/// rounding for every finite `a`.
///
/// ```
/// use static_rnn::{numerics::{fast_softmax, softmax}, SVector};
/// let a = SVector::<f32, 3>::new(-2.0, 0.5, 3.0);
/// let (fast, exact) = (fast_softmax(&a), softmax(&a));
/// assert!(fast.iter().zip(exact.iter()).all(|(f, e)| (f - e).abs() <= 4e-7 * e));
/// assert_eq!(fast_softmax(&SVector::<f32, 3>::new(-1000.0, 0.0, 1000.0)), SVector::from([0.0, 0.0, 1.0]));
/// ```
#[inline(always)]
pub fn fast_softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
    let m = largest(a);
    let mut e = *a;
    // A loop over the contiguous storage, not `map` with a closure (not inlined into the copy of
    // the widest vector instructions) nor nalgebra's element iterator (which does not vectorize).
    for e_k in e.as_mut_slice() {
        *e_k = fast_exp(*e_k - m);
    }
    let total = e.sum();
    e / total
}

/// [`fast_softmax`] of `K` vectors at once: `fast_softmax_columns(a)[k] = fast_softmax(a[k])`, bit
/// for bit (the same operations on each vector, in the same order: the maximum as
/// [`fast_softmax`] takes it, the sum `((0 + e₁) + e₂) + …` as nalgebra's `sum`, and a division
/// per component).
///
/// The vectors are transposed into rows first, so every step — the maximum, the exponentials,
/// the sum, the division — runs in vector registers across the `K` vectors, with no reduction
/// within a register. One softmax of 8 outputs is a chain of dependent steps (a maximum across
/// the lanes, the exponential's polynomial, a sum across the lanes, a division); `K` of them side
/// by side fill the vector units instead. The forward pass computes the output layer of its
/// steps this way, `K` steps at a time (`BENCHMARKS.md`, lever 33).
///
/// ```
/// use static_rnn::{numerics::{fast_softmax, fast_softmax_columns}, SVector};
/// let a = [SVector::<f32, 3>::new(-2.0, 0.5, 3.0), SVector::<f32, 3>::new(1.0, 1.0, -1000.0)];
/// let y_hat = fast_softmax_columns(&a);
/// assert_eq!(y_hat, [fast_softmax(&a[0]), fast_softmax(&a[1])]);
/// ```
#[inline(always)]
pub fn fast_softmax_columns<T: Real, const N: usize, const K: usize>(
    a: &[SVector<T, N>; K],
) -> [SVector<T, N>; K] {
    let mut e = rows_of(a);
    let m = largest_of_columns(&e);
    let mut total = [T::zero(); K];
    // Loops over arrays, not `map` with a closure (not inlined into the copy of the widest
    // vector instructions) nor nalgebra's element iterator (which does not vectorize).
    for row in &mut e {
        for ((e_k, &m_k), total_k) in row.iter_mut().zip(&m).zip(&mut total) {
            *e_k = fast_exp(*e_k - m_k);
            *total_k += *e_k;
        }
    }
    let mut y_hat = [SVector::zeros(); K];
    for (n, row) in e.iter().enumerate() {
        for (y_hat_k, (&e_k, &total_k)) in y_hat.iter_mut().zip(row.iter().zip(&total)) {
            y_hat_k[n] = e_k / total_k;
        }
    }
    y_hat
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{−x})`, evaluated without overflow for either sign.
///
/// ```
/// use static_rnn::numerics::sigmoid;
/// assert_eq!(sigmoid(0.0_f64), 0.5);
/// assert_eq!(sigmoid(-1000.0_f64), 0.0);
/// assert_eq!(sigmoid(1000.0_f64), 1.0);
/// ```
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|})`, finite for every finite `x`.
///
/// ```
/// use static_rnn::numerics::softplus;
/// assert_eq!(softplus(1000.0_f64), 1000.0);
/// assert!((softplus(0.0_f64) - 2f64.ln()).abs() < 1e-15);
/// ```
#[inline(always)]
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// `ln σ(x) = −softplus(−x)`, finite for every finite `x` (`ln σ(−1000) = −1000`).
///
/// ```
/// use static_rnn::numerics::log_sigmoid;
/// assert_eq!(log_sigmoid(-1000.0_f64), -1000.0);
/// ```
#[inline(always)]
pub fn log_sigmoid<T: Real>(x: T) -> T {
    -softplus(-x)
}

/// Raises a probability below the smallest positive normal number of `T`
/// ([`Real::min_positive`]: `≈ 1.2e−38` for `f32`, `≈ 2.2e−308` for `f64`) to that number;
/// above it nothing changes, and `NaN` stays `NaN`.
///
/// The probability-space losses take `ln p` and divide by `p`. A probability under the floor is an
/// underflow in a saturated output, or not a probability at all (a negative output of an
/// `Identity` head scored by cross-entropy); raised to the floor, `ln p ≥ −87.4` (`f32`) and `y / p`
/// stays finite for targets `y ≤ 1` — though as large as `1/p_min`, so what is computed from it
/// downstream can still overflow (see [`loss`](crate::loss)).
///
/// ```
/// use static_rnn::numerics::floor_probability;
/// assert_eq!(floor_probability(0.5_f64), 0.5);
/// assert_eq!(floor_probability(0.0_f64), f64::MIN_POSITIVE);
/// assert_eq!(floor_probability(-3.0_f32), f32::MIN_POSITIVE);
/// assert!(floor_probability(f64::NAN).is_nan());
/// ```
#[inline(always)]
pub fn floor_probability<T: Real>(p: T) -> T {
    let floor = T::min_positive();
    if p < floor { floor } else { p }
}

/// A fast `tanh`: the rational approximation `x P(x²) / Q(x²)` of Eigen and XLA (the one JAX
/// computes `f32` tanh with on a CPU), with `x` clamped to `±7.975979` (the first `f32` where it
/// rounds to `±1` in `f32`), and `tanh x = x` for `|x| < 0.0004`.
///
/// `P`, of degree 6 in `x²`, is evaluated as `E(x⁴) + x² D(x⁴)`, its even and odd powers of `x²`
/// as two polynomials of degree 3 and 2 in `x⁴` (Horner's scheme for each), where Eigen takes
/// Horner's scheme in `x²` throughout: the same coefficients, but two chains of 3 multiply–adds
/// side by side instead of one of 6, so a recurrence that waits on `tanh` waits less (the
/// forward recurrence at (16, 32, 8) 3.75 → 3.56 µs for 64 steps, `BENCHMARKS.md`, lever 35).
/// In `f32` it rounds differently (Eigen's order reaches `±1` at `±7.9053111` instead, so the
/// clamp moved with it); the bound below holds for both orders.
///
/// It has no branch and no call, so the compiler vectorizes it over a vector of pre-activations
/// (the exact `tanh` is a call into the math library per component). Its error, measured over
/// every `f32` (the test `fast_tanh_is_within_its_bound_for_every_f32_exhaustive`):
///
/// - `f32`: `|fast_tanh(x) − tanh x| ≤ 4.7e−7 · |tanh x|`, at most 8 ulp (measured: the worst
///   3.7e−7, 6.2 ulp, at `|x| ≈ 5.79`, where `tanh x` is close to 1); 97 % of inputs are within
///   1 ulp;
/// - `f64`: the same approximation, so `|fast_tanh(x) − tanh x| ≤ 2.7e−7` (absolute): use it in
///   `f64` only to compare with `f32`.
///
/// It is odd, `fast_tanh(−x) = −fast_tanh(x)` exactly, lies in `[−1, 1]`, and `NaN` gives `NaN`.
///
/// ```
/// use static_rnn::numerics::fast_tanh;
/// assert!((fast_tanh(0.5_f32) - 0.5_f32.tanh()).abs() <= 4.7e-7 * 0.5_f32.tanh());
/// assert_eq!(fast_tanh(100.0_f32), 1.0);
/// assert!(fast_tanh(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn fast_tanh<T: Real>(x: T) -> T {
    let limit = constant::<T>(7.975_978_851_318_359);
    // `min` and `max` as the comparisons of x86's `minps`/`maxps`, one instruction each; they
    // map `NaN` to a limit, and the last line returns the `NaN` input itself.
    let below = if x < limit { x } else { limit };
    let clamped = if below > -limit { below } else { -limit };
    // `clamped²`, bit for bit (squaring rounds monotonically in `|x|`), without waiting on the
    // clamp: the polynomials start one `min` after `x·x` instead of after a `min`, a `max` and
    // the product; `clamped` is needed only at the end.
    let square = x * x;
    let limit_squared = limit * limit;
    let x2 = if square < limit_squared {
        square
    } else {
        limit_squared
    };
    let c = constant::<T>;
    // P(x²) = E(x⁴) + x² D(x⁴): two short chains instead of one long one.
    let x4 = x2 * x2;
    let even = ((c(-2.760_768_477_423_55e-16) * x4 + c(-8.604_671_522_137_35e-11)) * x4
        + c(1.485_722_357_179_79e-5))
        * x4
        + c(4.893_524_558_917_86e-3);
    let odd = (c(2.000_187_904_824_77e-13) * x4 + c(5.122_297_090_371_14e-8)) * x4
        + c(6.372_619_288_754_36e-4);
    let p = even + x2 * odd;
    let q = ((c(1.198_258_394_667_02e-6) * x2 + c(1.185_347_056_866_54e-4)) * x2
        + c(2.268_434_632_439_00e-3))
        * x2
        + c(4.893_525_185_543_85e-3);
    let approximation = clamped * p / q;
    // `tanh x = x` for |x| < 0.0004, and for `NaN` (the comparison is false).
    if x.abs() >= c(0.0004) {
        approximation
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `largest` is nalgebra's `max` on vectors without `NaN`: on, off and below the lane count,
    /// with the largest component at every position, ties, signed zeros and infinities; `−∞` for
    /// an empty vector (nalgebra: `0`).
    #[test]
    fn largest_is_the_maximum() {
        fn check<const N: usize>() {
            for k in 0..N {
                let a =
                    SVector::<f64, N>::from_fn(|j, _| if j == k { 2.0 } else { (j as f64).sin() });
                assert_eq!(largest(&a), 2.0, "N = {N}, k = {k}");
                assert_eq!(largest(&a), a.max());
                let b = -a;
                assert_eq!(largest(&b), b.max(), "N = {N}, k = {k}");
            }
        }
        check::<1>();
        check::<7>();
        check::<8>();
        check::<9>();
        check::<32>();
        check::<37>();
        let cases: [[f32; 9]; 3] = [
            [5.0; 9],
            [-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0],
            [
                f32::NEG_INFINITY,
                -f32::MAX,
                f32::INFINITY,
                0.0,
                1.0,
                2.0,
                3.0,
                4.0,
                5.0,
            ],
        ];
        for case in cases {
            let a = SVector::<f32, 9>::from(case);
            assert_eq!(largest(&a), a.max(), "{case:?}");
        }
        assert_eq!(largest(&SVector::<f32, 0>::zeros()), f32::NEG_INFINITY);
    }

    /// `fast_softmax_columns` and `largest_of_columns` give each column what `fast_softmax` and
    /// `largest` give it alone, bit for bit: random logits of every scale, ties, signed zeros,
    /// infinities and `NaN`, in 16 columns of 1, 3, 8, 9 and 17 components.
    #[test]
    fn columns_are_the_single_vector_functions_bit_for_bit() {
        fn check<const N: usize>(seed: u32) {
            let special = [
                0.0,
                -0.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                1e30,
                -1e30,
            ];
            let a: [SVector<f32, N>; 16] = core::array::from_fn(|k| {
                SVector::from_fn(|n, _| {
                    let i = seed as usize * 1000 + k * 37 + n;
                    let u = (i as f32 * 0.618_034).fract();
                    match (i * 7919) % 23 {
                        0 => special[i % special.len()],
                        1 => 3.0, // ties
                        _ => (u - 0.5) * [1.0, 40.0, 400.0][i % 3],
                    }
                })
            });
            let columns = fast_softmax_columns(&a);
            let maxima = largest_of_columns(&rows_of(&a));
            for k in 0..16 {
                let alone = fast_softmax(&a[k]);
                assert_eq!(
                    columns[k].map(f32::to_bits),
                    alone.map(f32::to_bits),
                    "N = {N}, column {k}: {:?}",
                    a[k]
                );
                assert_eq!(maxima[k].to_bits(), largest(&a[k]).to_bits(), "N = {N}");
            }
        }
        for seed in 0..50 {
            check::<1>(seed);
            check::<3>(seed);
            check::<8>(seed);
            check::<9>(seed);
            check::<17>(seed);
        }
    }

    /// Checks `fast_ln` at every `stride`-th positive normal f32 against the `ln` of f64: under
    /// 1 ulp of the `f32` nearest to `ln x` and within `1.2e−7 · |ln x|`; returns the largest
    /// error in ulp.
    fn check_ln_f32(stride: usize) -> f64 {
        let mut worst = 0.0_f64;
        for bits in (f32::MIN_POSITIVE.to_bits()..=f32::MAX.to_bits()).step_by(stride) {
            let x = f32::from_bits(bits);
            let want = f64::from(x).ln();
            let error = (f64::from(fast_ln(x)) - want).abs();
            if want == 0.0 {
                assert_eq!(error, 0.0, "x = 1");
                continue;
            }
            let ulps = error / ulp_f32(want);
            assert!(ulps < 1.0, "x = {x:e}: {ulps} ulp");
            assert!(error <= 1.2e-7 * want.abs(), "x = {x:e}: error {error:e}");
            worst = worst.max(ulps);
        }
        worst
    }

    #[test]
    fn fast_ln_is_within_its_bound_on_dense_samples() {
        assert!(check_ln_f32(1021) < 1.0);
        assert_eq!(fast_ln(1.0_f32), 0.0);
        assert_eq!(fast_ln(f32::INFINITY), f32::INFINITY);
        assert_eq!(fast_ln(0.0_f32), fast_ln(f32::MIN_POSITIVE));
        assert_eq!(fast_ln(1e-40_f32), fast_ln(f32::MIN_POSITIVE));
        assert!(fast_ln(-1.0_f32).is_nan() && fast_ln(f32::NAN).is_nan());
        assert!(fast_ln(f32::NEG_INFINITY).is_nan());
    }

    /// Every positive normal f32 (2.1 billion inputs): `cargo test --release -- --ignored exhaustive`.
    #[test]
    #[ignore = "exhaustive: ~1 min in release"]
    fn fast_ln_is_within_its_bound_for_every_f32_exhaustive() {
        assert!(check_ln_f32(1) < 1.0);
    }

    /// The unit in the last place of the `f32` nearest to `y`.
    fn ulp_f32(y: f64) -> f64 {
        let exponent = ((y.abs() as f32).to_bits() >> 23).max(1);
        2f64.powi(exponent as i32 - 127 - 23)
    }

    /// Relative error and ulps of `fast_tanh` at `x` against `tanh` in f64 (accurate to
    /// ~1e−16, far below an f32 ulp).
    fn error_at(x: f32) -> (f64, f64) {
        let want = f64::from(x).tanh();
        let error = (f64::from(fast_tanh(x)) - want).abs();
        let relative = if want == 0.0 {
            error
        } else {
            error / want.abs()
        };
        (relative, error / ulp_f32(want))
    }

    /// Checks `fast_tanh` at every `stride`-th f32 from 0 to +∞, and its oddness; returns the
    /// fraction of inputs within 1 ulp.
    fn check_f32(stride: usize) -> f64 {
        let (mut inputs, mut within_one_ulp) = (0_u64, 0_u64);
        for bits in (0..f32::INFINITY.to_bits()).step_by(stride) {
            let x = f32::from_bits(bits);
            let (relative, ulps) = error_at(x);
            assert!(relative <= 4.7e-7, "x = {x:e}: relative error {relative:e}");
            assert!(ulps <= 8.0, "x = {x:e}: {ulps} ulp");
            assert_eq!(fast_tanh(-x), -fast_tanh(x), "not odd at {x:e}");
            inputs += 1;
            within_one_ulp += u64::from(ulps <= 1.0);
        }
        within_one_ulp as f64 / inputs as f64
    }

    #[test]
    fn fast_tanh_is_within_its_bound_on_dense_samples() {
        // Every 1021st f32 (a prime stride, so every exponent and many mantissas), ~2M inputs.
        assert!(check_f32(1021) >= 0.97);
        assert_eq!(fast_tanh(f32::INFINITY), 1.0);
        assert_eq!(fast_tanh(f32::NEG_INFINITY), -1.0);
        assert!(fast_tanh(f32::NAN).is_nan());
    }

    /// Every f32 (2.1 billion inputs): `cargo test --release -- --ignored exhaustive`.
    #[test]
    #[ignore = "exhaustive: ~2 min in release"]
    fn fast_tanh_is_within_its_bound_for_every_f32_exhaustive() {
        assert!(check_f32(1) >= 0.97);
    }

    /// Relative error and ulps of `fast_exp` at `x` against `exp` in f64.
    fn exp_error_at(x: f32) -> (f64, f64) {
        let want = f64::from(x).exp();
        let error = (f64::from(fast_exp(x)) - want).abs();
        (error / want, error / ulp_f32(want))
    }

    /// Checks `fast_exp` at every `stride`-th f32 of `[−87, 88.7]` against its bound, and that
    /// it is `0` below and `+∞` above.
    fn check_exp_f32(stride: usize) {
        // Stride over the bit patterns, then map: `step_by` of a mapped range visits every
        // element (40 s in a debug build at stride 1021, instead of 0.4 s).
        let negative = (0.0_f32.to_bits()..=87.0_f32.to_bits()).step_by(stride);
        let positive = (0.0_f32.to_bits()..=88.7_f32.to_bits()).step_by(stride);
        let negative = negative.map(|b| -f32::from_bits(b));
        for x in negative.chain(positive.map(f32::from_bits)) {
            let (relative, ulps) = exp_error_at(x);
            assert!(relative <= 8.4e-8, "x = {x:e}: relative error {relative:e}");
            assert!(ulps < 1.0, "x = {x:e}: {ulps} ulp");
        }
        for x in [-87.001_f32, -100.0, -1e30, f32::NEG_INFINITY] {
            assert_eq!(fast_exp(x), 0.0, "{x}");
        }
        for x in [88.73_f32, 100.0, 1e30, f32::INFINITY] {
            assert_eq!(fast_exp(x), f32::INFINITY, "{x}");
        }
        assert!(fast_exp(f32::NAN).is_nan());
    }

    #[test]
    fn fast_exp_is_within_its_bound_on_dense_samples() {
        check_exp_f32(1021);
        assert_eq!(fast_exp(0.0_f32), 1.0);
    }

    /// Every f32 of the range: `cargo test --release -- --ignored exhaustive`.
    #[test]
    #[ignore = "exhaustive: ~2 min in release"]
    fn fast_exp_is_within_its_bound_for_every_f32_exhaustive() {
        check_exp_f32(1);
    }

    #[test]
    fn fast_softmax_is_within_its_bound_of_softmax() {
        for seed in 0..2000_u32 {
            let a = SVector::<f32, 8>::from_fn(|k, _| {
                let u = ((seed * 8 + k as u32) as f32 * 0.618_034).fract();
                (u - 0.5) * 40.0
            });
            let (fast, exact) = (fast_softmax(&a), softmax(&a));
            for (f, e) in fast.iter().zip(exact.iter()) {
                let error = f64::from((f - e).abs());
                assert!(error <= 4e-7 * f64::from(*e) + 1e-45, "{a:?}: {f} vs {e}");
            }
            assert!((fast.sum() - 1.0).abs() <= 4.0 * f32::EPSILON);
        }
    }

    #[test]
    fn log_sum_exp_given_softmax_equals_log_sum_exp() {
        for i in 0..2000_u32 {
            let s = f64::from(i);
            let scale = [0.1, 1.0, 30.0, 1000.0][i as usize % 4];
            let a = SVector::<f64, 5>::from_fn(|k, _| scale * (s * 0.37 + k as f64 * 1.3).sin());
            let want = log_sum_exp(&a);
            let got = log_sum_exp_given_softmax(&a, &softmax(&a));
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0),
                "{a:?}"
            );
        }
    }

    #[test]
    fn fast_tanh_derivative_is_one_minus_h_squared_to_1e_6() {
        // Central differences in f64 (error ~1e−10 at this step), away from the switch at
        // |x| = 0.0004 and the clamp at |x| ≈ 7.976.
        let step = 1e-5;
        for i in 0..=160_000 {
            let x = f64::from(i) * 1e-4 - 8.0;
            let near_switch = (x.abs() - 0.0004).abs() < 2.0 * step;
            let near_clamp = (x.abs() - 7.975_978_851_318_359).abs() < 2.0 * step;
            if near_switch || near_clamp {
                continue;
            }
            let slope = (fast_tanh(x + step) - fast_tanh(x - step)) / (2.0 * step);
            let h = fast_tanh(x);
            let mismatch = (slope - (1.0 - h * h)).abs();
            assert!(mismatch <= 1e-6, "x = {x}: {mismatch:e}");
        }
    }

    #[test]
    fn fast_tanh_in_f64_is_within_its_absolute_bound() {
        for i in 0..=400_000 {
            let x = f64::from(i) * 5e-5 - 10.0; // [−10, 10]
            let error = (fast_tanh(x) - x.tanh()).abs();
            assert!(error <= 2.7e-7, "x = {x}: {error:e}");
        }
    }
}
