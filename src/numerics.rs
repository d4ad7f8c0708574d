//! Numerically stable building blocks: log-sum-exp, softmax, the logistic sigmoid and its logarithm.
//!
//! Each function here is finite for every finite input, however large. They are what the fused
//! output heads in [`loss`](crate::loss) compute their losses from, so that logits of ±1000 give a
//! finite loss and finite gradients.

use crate::scalar::Real;
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
pub fn log_sum_exp<T: Real, const N: usize>(a: &SVector<T, N>) -> T {
    if N == 0 {
        return -T::one() / T::zero();
    }
    let m = a.max();
    m + a.map(|ak| (ak - m).exp()).sum().ln()
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
pub fn softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
    let m = a.max();
    let e = a.map(|ak| (ak - m).exp());
    let total = e.sum();
    e / total
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{−x})`, evaluated without overflow for either sign.
///
/// ```
/// use static_rnn::numerics::sigmoid;
/// assert_eq!(sigmoid(0.0_f64), 0.5);
/// assert_eq!(sigmoid(-1000.0_f64), 0.0);
/// assert_eq!(sigmoid(1000.0_f64), 1.0);
/// ```
#[inline]
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
#[inline]
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// `ln σ(x) = −softplus(−x)`, finite for every finite `x` (`ln σ(−1000) = −1000`).
///
/// ```
/// use static_rnn::numerics::log_sigmoid;
/// assert_eq!(log_sigmoid(-1000.0_f64), -1000.0);
/// ```
#[inline]
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
#[inline]
pub fn floor_probability<T: Real>(p: T) -> T {
    let floor = T::min_positive();
    if p < floor { floor } else { p }
}
