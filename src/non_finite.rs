//! The one error of training: a gradient that holds `NaN` or `±∞`.
//!
//! Optimizers ([`optim`](crate::optim)) and gradient clipping ([`clip`](crate::clip)) scan the
//! whole gradient with [`check_finite`] before they write anything. A non-finite scalar anywhere
//! makes them return [`NonFiniteGradient`] and leave everything as it was: the parameters, the
//! optimizer's state (moments, step counter) and the gradient itself, bit for bit. A single `NaN`
//! applied to a parameter would otherwise spread to every output at the next forward pass, and one
//! in a moment estimate would never leave it.

use crate::scalar::Real;
use crate::tensors::Tensors;
use core::fmt;

/// A gradient held a `NaN` or `±∞`, so nothing was updated.
///
/// It names the first such scalar: the tensor (from [`Tensors::names`]) and the index into that
/// tensor's flat slice (column-major for a matrix, as nalgebra stores it). The gradient itself is
/// untouched, so the value is still there to inspect.
///
/// ```
/// use static_rnn::{NonFiniteGradient, Params, non_finite::check_finite};
/// let mut grads = Params::<2, 3, 1, f64>::zeros();
/// assert_eq!(check_finite(&grads), Ok(()));
/// grads.w_h[(1, 2)] = f64::NAN; // column-major: index 2·3 + 1
/// let error = check_finite(&grads).unwrap_err();
/// assert_eq!(error, NonFiniteGradient { tensor: "w_h", index: 7 });
/// assert_eq!(error.to_string(), "non-finite gradient (NaN or ±∞) at w_h[7]; nothing was updated");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NonFiniteGradient {
    /// The name of the tensor that holds the first non-finite scalar.
    pub tensor: &'static str,
    /// Its index in that tensor's flat (column-major) slice.
    pub index: usize,
}

impl fmt::Display for NonFiniteGradient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "non-finite gradient (NaN or ±∞) at {}[{}]; nothing was updated",
            self.tensor, self.index
        )
    }
}

impl core::error::Error for NonFiniteGradient {}

/// `Ok(())` if every scalar of `grads` is finite, otherwise the first one that is not (in the
/// order of [`Tensors::tensors`], then of each slice).
pub fn check_finite<T: Real, const N: usize, P: Tensors<T, N>>(
    grads: &P,
) -> Result<(), NonFiniteGradient> {
    for (tensor, name) in grads.tensors().into_iter().zip(P::names()) {
        if let Some(index) = tensor.iter().position(|x| !x.is_finite()) {
            return Err(NonFiniteGradient {
                tensor: name,
                index,
            });
        }
    }
    Ok(())
}
