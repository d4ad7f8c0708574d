//! The scalar type the crate computes with.
//!
//! Everything is generic over a [`Real`] scalar: `f32` for microcontrollers with a single-precision
//! FPU, `f64` for training on a desktop and for checking gradients. `Real` is nalgebra's
//! [`RealField`] (which brings `exp`, `ln`, `tanh`, comparisons and the
//! `approx` traits) plus `Copy`, so matrices of it live on the stack and move by `memcpy`.

use nalgebra::RealField;
use simba::scalar::SupersetOf;

/// A real scalar: nalgebra's [`RealField`] that is also `Copy` (in practice `f32` or `f64`).
///
/// It is implemented for every type that is also a [`num_traits::Float`], which gives it the one
/// constant `RealField` lacks: the smallest positive normal number.
///
/// ```
/// use static_rnn::Real;
/// fn halve<T: Real>(x: T) -> T {
///     x * static_rnn::scalar::constant(0.5)
/// }
/// assert_eq!(halve(3.0_f32), 1.5);
/// ```
pub trait Real: RealField + Copy + SupersetOf<f32> {
    /// The smallest positive normal number (`f32::MIN_POSITIVE`, `f64::MIN_POSITIVE`).
    fn min_positive() -> Self;
}

impl<T: RealField + Copy + SupersetOf<f32> + num_traits::Float> Real for T {
    #[inline]
    fn min_positive() -> Self {
        <T as num_traits::Float>::min_positive_value()
    }
}

/// The `f64` constant `x` as a `T` (rounded to nearest for `f32`).
///
/// ```
/// let third: f32 = static_rnn::scalar::constant(1.0 / 3.0);
/// assert_eq!(third, 1.0_f32 / 3.0);
/// ```
#[inline]
pub fn constant<T: Real>(x: f64) -> T {
    nalgebra::convert(x)
}

/// `x` as an `f64` (exact for `f32` and `f64`), for reports and comparisons.
///
/// ```
/// assert_eq!(static_rnn::scalar::to_f64(0.25_f32), 0.25);
/// ```
#[inline]
pub fn to_f64<T: Real>(x: T) -> f64 {
    // `RealField: SupersetOf<f64>`, and every real scalar we support is representable in f64;
    // `NaN` is returned for one that is not.
    x.to_subset().unwrap_or(f64::NAN)
}
