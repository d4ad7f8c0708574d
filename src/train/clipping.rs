//! The clipping step of training, as a setting: by global norm or by value.

use crate::clip::{clip_grad_norm, clip_grad_value};
use crate::non_finite::NonFiniteGradient;
use crate::scalar::{Real, constant};
use crate::tensors::Tensors;

/// Gradient clipping, applied to the reduced minibatch gradient before the optimizer sees it
/// (see [`clip`](crate::clip)). The thresholds are `f64`, as the optimizers' hyperparameters are,
/// and rounded once to the model's scalar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Rescale so that the global L2 norm is at most `c`: [`clip_grad_norm`].
    Norm(f64),
    /// Clamp every scalar to `[−c, c]`: [`clip_grad_value`].
    Value(f64),
}

impl Clip {
    /// Clips `grads` in place.
    ///
    /// # Errors
    ///
    /// [`NonFiniteGradient`] if `grads` holds a `NaN` or `±∞`; then `grads` is unchanged.
    ///
    /// # Panics
    ///
    /// If the threshold is negative or `NaN`.
    ///
    /// ```
    /// use static_rnn::{Params, train::Clip};
    /// let mut grads = Params::<1, 1, 1, f32>::zeros();
    /// grads.w_h[0] = 30.0;
    /// Clip::Value(5.0).apply(&mut grads)?;
    /// assert_eq!(grads.w_h[0], 5.0);
    /// Clip::Norm(1.0).apply(&mut grads)?;
    /// assert!((grads.w_h[0] - 1.0).abs() < 1e-5);
    /// # Ok::<(), static_rnn::NonFiniteGradient>(())
    /// ```
    pub fn apply<T: Real, const N: usize, P: Tensors<T, N>>(
        &self,
        grads: &mut P,
    ) -> Result<(), NonFiniteGradient> {
        match *self {
            Self::Norm(c) => clip_grad_norm(grads, constant(c)).map(drop),
            Self::Value(c) => clip_grad_value(grads, constant(c)),
        }
    }
}
