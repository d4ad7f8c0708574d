//! A fixed set of named tensors, seen as flat slices of scalars.
//!
//! Gradient checking, and every element-wise update over parameters (optimizers, clipping), needs
//! to walk all the scalars of a model without knowing its architecture. [`Tensors`] is that view:
//! `N` named tensors, each a contiguous slice. The RNN's [`Params`](crate::Params) are five tensors;
//! a later GRU or LSTM cell implements the same trait with its own count and reuses the machinery.

use crate::scalar::Real;

/// `N` named tensors, each exposed as one contiguous slice of scalars (column-major for matrices,
/// as nalgebra stores them).
///
/// ```
/// use static_rnn::{Params, Tensors};
/// let mut p = Params::<2, 3, 1, f64>::zeros();
/// for tensor in p.tensors_mut() {
///     tensor.fill(1.0);
/// }
/// let total: f64 = p.tensors().iter().map(|t| t.iter().sum::<f64>()).sum();
/// assert_eq!(total as usize, Params::<2, 3, 1, f64>::COUNT);
/// assert_eq!(Params::<2, 3, 1, f64>::names(), ["w_x", "w_h", "b_h", "w_y", "b_y"]);
/// ```
pub trait Tensors<T: Real, const N: usize> {
    /// The tensors' names, in the order of [`tensors`](Self::tensors).
    fn names() -> [&'static str; N];

    /// Each tensor as a slice.
    fn tensors(&self) -> [&[T]; N];

    /// Each tensor as a mutable slice.
    fn tensors_mut(&mut self) -> [&mut [T]; N];

    /// Whether every scalar is finite (no `NaN`, no `±∞`).
    fn is_finite(&self) -> bool {
        self.tensors()
            .iter()
            .all(|t| t.iter().all(|x| x.is_finite()))
    }
}
