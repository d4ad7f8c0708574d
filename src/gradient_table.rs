//! The gradient table: one function per row, each the formula it computes.
//!
//! For `z_t = W_h h_{t−1} + W_x x_t + b_h`, `h_t = f(z_t)`, `a_t = W_y h_t + b_y`,
//! `ŷ_t = g(a_t)` and `L = Σ_t L_t(ŷ_t, y_t)`, with `δa_t = ∂L/∂a_t` and `δz_t = ∂L/∂z_t`:
//!
//! | gradient | formula | computed by |
//! |---|---|---|
//! | `∂L_t/∂ŷ_t` | loss-specific: `−y_t ⊘ ŷ_t` (CE), `2(ŷ_t − y_t)` (MSE), `−y_t ⊘ ŷ_t + (1 − y_t) ⊘ (1 − ŷ_t)` (BCE) | [`Loss::gradient`](crate::Loss::gradient) |
//! | `δa_t = ∂L/∂a_t` | `J_g(a_t)ᵀ ∂L_t/∂ŷ_t` (fused: `ŷ_t − y_t`, `2(ŷ_t − y_t)`); `0` at an unscored step | [`LossFor::loss_and_delta`](crate::LossFor::loss_and_delta) |
//! | `∂L/∂W_y` | `Σ_t δa_t h_tᵀ` | [`accumulate_output_weights`] |
//! | `∂L/∂b_y` | `Σ_t δa_t` | [`accumulate_bias`] |
//! | `∂L/∂h_t` | `W_yᵀ δa_t + W_hᵀ δz_{t+1}` (recursive, through the future; `δz_{T+1} = 0`) | [`hidden_state_gradient`], [`through_recurrence`] |
//! | `δz_t = ∂L/∂z_t` | `f′(z_t) ⊙ ∂L/∂h_t` | [`pre_activation_gradient`] |
//! | `∂L/∂W_x` | `Σ_t δz_t x_tᵀ` | [`accumulate_input_weights`] |
//! | `∂L/∂W_h` | `Σ_t δz_t h_{t−1}ᵀ` | [`accumulate_recurrent_weights`] |
//! | `∂L/∂b_h` | `Σ_t δz_t` | [`accumulate_bias`] |
//! | `∂L/∂h_0` | `W_hᵀ δz_1` | [`through_recurrence`] |
//!
//! [`Rnn::backward`](crate::Rnn::backward) runs the rows from `t = T` down to `t = 1`, in the
//! order of the table. Two kinds of product appear, and the types keep them apart: the
//! activation derivative `f′(z_t)` is a [`Diagonal`] and multiplies only element-wise (`⊙`); the
//! weights are matrices and multiply only by matrix product, transposed on the way back. The outer
//! products' shapes fix the order of their factors: `∂L/∂W_x` is `H × I`, so it can only be
//! `δz_t x_tᵀ`, never `x_t δz_tᵀ`.
//!
//! The sums accumulate (`+=`) into the caller's gradient, so several sequences (a minibatch) add up.

use crate::jacobian::Diagonal;
use crate::scalar::Real;
use nalgebra::{SMatrix, SVector};

/// `∂L/∂W_y += δa_t h_tᵀ` (an `O × H` rank-one update, in place).
#[inline]
pub fn accumulate_output_weights<T: Real, const O: usize, const H: usize>(
    dl_dw_y: &mut SMatrix<T, O, H>,
    delta_a: &SVector<T, O>,
    h: &SVector<T, H>,
) {
    dl_dw_y.ger(T::one(), delta_a, h, T::one());
}

/// `∂L/∂b += δ`: the bias rows, `∂L/∂b_y += δa_t` and `∂L/∂b_h += δz_t`.
#[inline]
pub fn accumulate_bias<T: Real, const N: usize>(dl_db: &mut SVector<T, N>, delta: &SVector<T, N>) {
    *dl_db += delta;
}

/// `∂L/∂h_t = W_yᵀ δa_t + W_hᵀ δz_{t+1}`, where `from_future = W_hᵀ δz_{t+1}`
/// ([`through_recurrence`]) and `delta_a` is `None` at a step without a target (`δa_t = 0`).
#[inline]
pub fn hidden_state_gradient<T: Real, const O: usize, const H: usize>(
    w_y: &SMatrix<T, O, H>,
    delta_a: Option<&SVector<T, O>>,
    from_future: &SVector<T, H>,
) -> SVector<T, H> {
    let mut dl_dh = *from_future;
    if let Some(delta_a) = delta_a {
        dl_dh.gemv_tr(T::one(), w_y, delta_a, T::one());
    }
    dl_dh
}

/// `W_hᵀ δz_t`: what step `t` passes back to `h_{t−1}`; at `t = 1` it is `∂L/∂h_0`.
#[inline]
pub fn through_recurrence<T: Real, const H: usize>(
    w_h: &SMatrix<T, H, H>,
    delta_z: &SVector<T, H>,
) -> SVector<T, H> {
    w_h.tr_mul(delta_z)
}

/// `δz_t = f′(z_t) ⊙ ∂L/∂h_t`: the activation's diagonal Jacobian, applied element-wise.
#[inline]
pub fn pre_activation_gradient<T: Real, const H: usize>(
    f_prime: &Diagonal<T, H>,
    dl_dh: &SVector<T, H>,
) -> SVector<T, H> {
    f_prime.hadamard(dl_dh)
}

/// `∂L/∂W_x += δz_t x_tᵀ` (an `H × I` rank-one update, in place).
#[inline]
pub fn accumulate_input_weights<T: Real, const H: usize, const I: usize>(
    dl_dw_x: &mut SMatrix<T, H, I>,
    delta_z: &SVector<T, H>,
    x: &SVector<T, I>,
) {
    dl_dw_x.ger(T::one(), delta_z, x, T::one());
}

/// `∂L/∂W_h += δz_t h_{t−1}ᵀ` (an `H × H` rank-one update, in place).
#[inline]
pub fn accumulate_recurrent_weights<T: Real, const H: usize>(
    dl_dw_h: &mut SMatrix<T, H, H>,
    delta_z: &SVector<T, H>,
    h_prev: &SVector<T, H>,
) {
    dl_dw_h.ger(T::one(), delta_z, h_prev, T::one());
}
