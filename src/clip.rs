//! Gradient clipping, with PyTorch's semantics, over any [`Tensors`].
//!
//! | function | effect | PyTorch |
//! |---|---|---|
//! | [`clip_grad_value`] | `g ← min(max(g, −c), c)` element-wise | `torch.nn.utils.clip_grad_value_` |
//! | [`clip_grad_norm`] | `g ← g · c / (‖g‖ + 10⁻⁶)` when that factor is `< 1`; returns `‖g‖` before | `torch.nn.utils.clip_grad_norm_` (`norm_type = 2`) |
//! | [`total_norm`] | `‖g‖ = √(Σ g²)` over every scalar of every tensor | `torch.nn.utils.get_total_norm` |
//!
//! Recurrent networks need clipping: `∂L/∂h_t` is multiplied by `W_hᵀ diag(f′(z_t))` once per step
//! back in time, so an exploding gradient grows geometrically with the sequence length.
//! min-char-rnn clamps every gradient to `[−5, 5]`; clipping the global norm instead keeps the
//! direction of the gradient.
//!
//! Both clipping functions scan the gradient first: one `NaN` or `±∞` anywhere and they return
//! [`NonFiniteGradient`] with the gradient untouched. They run in `#![no_std]`, without a heap.

use crate::non_finite::{NonFiniteGradient, check_finite};
use crate::scalar::{Real, constant};
use crate::tensors::Tensors;

/// Clamps every scalar of `grads` to `[−c, c]`: `g ← min(max(g, −c), c)`.
///
/// # Errors
///
/// [`NonFiniteGradient`] if `grads` holds a `NaN` or `±∞`; then `grads` is left as it was.
///
/// # Panics
///
/// If `clip_value` is negative or `NaN`.
///
/// ```
/// use static_rnn::{Params, clip_grad_value};
/// let mut grads = Params::<1, 2, 1, f64>::zeros();
/// grads.w_h[(0, 1)] = 12.0;
/// grads.b_y[0] = -7.5;
/// grads.b_h[1] = 0.25;
/// clip_grad_value(&mut grads, 5.0)?; // min-char-rnn's `np.clip(dparam, -5, 5)`
/// assert_eq!((grads.w_h[(0, 1)], grads.b_y[0], grads.b_h[1]), (5.0, -5.0, 0.25));
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
pub fn clip_grad_value<T: Real, const N: usize, P: Tensors<T, N>>(
    grads: &mut P,
    clip_value: T,
) -> Result<(), NonFiniteGradient> {
    assert!(
        clip_value >= T::zero(),
        "clip_grad_value: the clip value must be ≥ 0, got {clip_value:?}"
    );
    check_finite(grads)?;
    for tensor in grads.tensors_mut() {
        for g in tensor {
            *g = g.clamp(-clip_value, clip_value);
        }
    }
    Ok(())
}

/// Rescales `grads` so that its global L2 norm is at most `max_norm`, and returns the norm
/// before clipping, as `torch.nn.utils.clip_grad_norm_` does:
///
/// ```text
/// ‖g‖ = √(Σ g²)  over every scalar of every tensor
/// κ = c / (‖g‖ + 10⁻⁶)
/// g ← κ g        if κ < 1 (otherwise g is unchanged)
/// ```
///
/// The `10⁻⁶` keeps the division finite and makes the clipped norm slightly below `c`. The norm is
/// [`total_norm`]'s, which neither overflows nor underflows for large or tiny gradients.
///
/// # Errors
///
/// [`NonFiniteGradient`] if `grads` holds a `NaN` or `±∞` (PyTorch's `error_if_nonfinite`); then
/// `grads` is left as it was.
///
/// # Panics
///
/// If `max_norm` is negative or `NaN`.
///
/// ```
/// use static_rnn::{Params, clip_grad_norm};
/// let mut grads = Params::<1, 1, 1, f64>::zeros();
/// grads.w_x[0] = 3.0;
/// grads.b_y[0] = 4.0; // ‖g‖ = 5
/// let norm = clip_grad_norm(&mut grads, 1.0)?;
/// assert_eq!(norm, 5.0);
/// assert!((grads.w_x[0] - 0.6).abs() < 1e-6 && (grads.b_y[0] - 0.8).abs() < 1e-6);
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
pub fn clip_grad_norm<T: Real, const N: usize, P: Tensors<T, N>>(
    grads: &mut P,
    max_norm: T,
) -> Result<T, NonFiniteGradient> {
    assert!(
        max_norm >= T::zero(),
        "clip_grad_norm: the maximum norm must be ≥ 0, got {max_norm:?}"
    );
    check_finite(grads)?;
    let norm = total_norm(grads);
    let factor = max_norm / (norm + constant(1e-6));
    if factor < T::one() {
        for tensor in grads.tensors_mut() {
            for g in tensor {
                *g *= factor;
            }
        }
    }
    Ok(norm)
}

/// The global L2 norm `‖g‖ = √(Σ g²)` over every scalar of every tensor.
///
/// It is computed as `m · √(Σ (g/m)²)` with `m = max |g|`, so it is finite whenever the true norm
/// is representable (a naive `Σ g²` overflows in `f32` once some `|g| > 1.8·10¹⁹`) and exact for
/// tiny gradients whose squares would underflow. It is non-finite if any scalar is.
///
/// ```
/// use static_rnn::{Params, clip::total_norm};
/// let mut g = Params::<1, 1, 1, f32>::zeros();
/// g.w_x[0] = 3e30;
/// g.b_y[0] = 4e30; // (3e30)² overflows f32
/// assert!((total_norm(&g) / 5e30 - 1.0).abs() < 1e-6);
/// ```
pub fn total_norm<T: Real, const N: usize, P: Tensors<T, N>>(grads: &P) -> T {
    let tensors = grads.tensors();
    let scalars = || tensors.iter().flat_map(|t| t.iter());
    // The largest magnitude; a non-finite scalar, once met, is kept (`NaN > m` is false).
    let largest = scalars().fold(T::zero(), |m, &g| {
        let a = g.abs();
        if a > m || !a.is_finite() { a } else { m }
    });
    if largest == T::zero() || !largest.is_finite() {
        return largest;
    }
    let scaled_sum = scalars().fold(T::zero(), |sum, &g| {
        let r = g / largest;
        sum + r * r
    });
    largest * scaled_sum.sqrt()
}
