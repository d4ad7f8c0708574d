//! The gradient table: one function per row, each the formula it computes.
//!
//! For `z_t = W_h h_{t−1} + W_x x_t + b_h`, `h_t = f(z_t)`, `a_t = W_y h_t + b_y`,
//! `ŷ_t = g(a_t)` and `L = Σ_t L_t(ŷ_t, y_t)`, with `δa_t = ∂L/∂a_t` and `δz_t = ∂L/∂z_t`:
//!
//! | gradient | formula | computed by |
//! |---|---|---|
//! | `∂L_t/∂ŷ_t` | loss-specific: `−y_t ⊘ ŷ_t` (CE), `2(ŷ_t − y_t)` (MSE), `−y_t ⊘ ŷ_t + (1 − y_t) ⊘ (1 − ŷ_t)` (BCE) | [`Loss::gradient`](crate::Loss::gradient) |
//! | `δa_t = ∂L/∂a_t` | `J_g(a_t)ᵀ ∂L_t/∂ŷ_t` (fused: `ŷ_t − y_t`, `2(ŷ_t − y_t)`); `0` at an unscored step | [`LossFor::loss_and_delta`](crate::LossFor::loss_and_delta) |
//! | `∂L/∂W_y` | `Σ_t δa_t h_tᵀ` | [`accumulate_output_weights`] (BPTT: [`accumulate_outer_products`]) |
//! | `∂L/∂b_y` | `Σ_t δa_t` | [`accumulate_bias`] |
//! | `∂L/∂h_t` | `W_yᵀ δa_t + W_hᵀ δz_{t+1}` (recursive, through the future; `δz_{T+1} = 0`) | [`hidden_state_gradient`], [`through_recurrence`] (BPTT: their `_transposed` forms) |
//! | `δz_t = ∂L/∂z_t` | `f′(z_t) ⊙ ∂L/∂h_t` | [`pre_activation_gradient`] |
//! | `∂L/∂W_x` | `Σ_t δz_t x_tᵀ` | [`accumulate_input_weights`] (BPTT: [`accumulate_outer_products`]) |
//! | `∂L/∂W_h` | `Σ_t δz_t h_{t−1}ᵀ` | [`accumulate_recurrent_weights`] (BPTT: [`accumulate_outer_products`]) |
//! | `∂L/∂b_h` | `Σ_t δz_t` | [`accumulate_bias`] |
//! | `∂L/∂h_0` | `W_hᵀ δz_1` | [`through_recurrence`] (BPTT: [`through_recurrence_transposed`]) |
//!
//! [`Rnn::backward`](crate::Rnn::backward) runs the rows from `t = T` down to `t = 1`, in the
//! order of the table. Two kinds of product appear, and the types keep them apart: the
//! activation derivative `f′(z_t)` is a [`Diagonal`] and multiplies only element-wise (`⊙`); the
//! weights are matrices and multiply only by matrix product, transposed on the way back. The outer
//! products' shapes fix the order of their factors: `∂L/∂W_x` is `H × I`, so it can only be
//! `δz_t x_tᵀ`, never `x_t δz_tᵀ`.
//!
//! The sums accumulate (`+=`) into the caller's gradient, so several sequences (a minibatch) add up.
//!
//! The products by `W_yᵀ` and `W_hᵀ` come in two forms, equal up to rounding: given `W`
//! ([`hidden_state_gradient`], [`through_recurrence`]), one dot product per column of `W`; and
//! given `Wᵀ`, formed once per backward pass ([`hidden_state_gradient_transposed`],
//! [`through_recurrence_transposed`]), a sum of the columns of `Wᵀ`, which the compiler
//! vectorizes like the forward products. BPTT uses the second, in the copy for the widest
//! instructions the CPU has; the functions here run the build's own code, with the same results
//! but for the last bits where the `fma` feature fuses the copy's multiply–adds.
//!
//! The three weight gradients are sums of outer products over the steps. BPTT adds them a few
//! steps at a time ([`accumulate_outer_products`]), which reads and writes each gradient matrix
//! once per group of steps instead of once per step; it too runs in the widest copy, fused with
//! `fma` (the function here runs the build's own code).

use crate::dispatch::{Baseline, InstructionSet};
use crate::jacobian::Diagonal;
use crate::kernels::{gemv_add, ger_add, ger_k_add};
use crate::scalar::Real;
use nalgebra::{SMatrix, SVector};

/// `∂L/∂W_y += δa_t h_tᵀ` (an `O × H` rank-one update, in place).
#[inline(always)]
pub fn accumulate_output_weights<T: Real, const O: usize, const H: usize>(
    dl_dw_y: &mut SMatrix<T, O, H>,
    delta_a: &SVector<T, O>,
    h: &SVector<T, H>,
) {
    ger_add(dl_dw_y, delta_a, h);
}

/// `∂L/∂b += δ`: the bias rows, `∂L/∂b_y += δa_t` and `∂L/∂b_h += δz_t`.
#[inline(always)]
pub fn accumulate_bias<T: Real, const N: usize>(dl_db: &mut SVector<T, N>, delta: &SVector<T, N>) {
    *dl_db += delta;
}

/// `∂L/∂h_t = W_yᵀ δa_t + W_hᵀ δz_{t+1}`, where `from_future = W_hᵀ δz_{t+1}`
/// ([`through_recurrence`]) and `delta_a` is `None` at a step without a target (`δa_t = 0`).
#[inline(always)]
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

/// [`hidden_state_gradient`] given `W_yᵀ` (`H × O`) instead of `W_y`: the same
/// `∂L/∂h_t = W_yᵀ δa_t + W_hᵀ δz_{t+1}`, computed as a sum of the columns of `W_yᵀ`, which
/// vectorizes. [`Rnn::backward`](crate::Rnn::backward) forms `W_yᵀ` once per pass and calls this.
#[inline(always)]
pub fn hidden_state_gradient_transposed<T: Real, const O: usize, const H: usize>(
    w_y_t: &SMatrix<T, H, O>,
    delta_a: Option<&SVector<T, O>>,
    from_future: &SVector<T, H>,
) -> SVector<T, H> {
    hidden_state_gradient_transposed_for::<Baseline, _, O, H>(w_y_t, delta_a, from_future)
}

/// [`hidden_state_gradient_transposed`] with the kernels of the instruction set `V`.
#[inline(always)]
pub(crate) fn hidden_state_gradient_transposed_for<
    V: InstructionSet,
    T: Real,
    const O: usize,
    const H: usize,
>(
    w_y_t: &SMatrix<T, H, O>,
    delta_a: Option<&SVector<T, O>>,
    from_future: &SVector<T, H>,
) -> SVector<T, H> {
    let mut dl_dh = *from_future;
    if let Some(delta_a) = delta_a {
        gemv_add::<V, _, _, _>(&mut dl_dh, w_y_t, delta_a);
    }
    dl_dh
}

/// `W_hᵀ δz_t`: what step `t` passes back to `h_{t−1}`; at `t = 1` it is `∂L/∂h_0`.
#[inline(always)]
pub fn through_recurrence<T: Real, const H: usize>(
    w_h: &SMatrix<T, H, H>,
    delta_z: &SVector<T, H>,
) -> SVector<T, H> {
    w_h.tr_mul(delta_z)
}

/// [`through_recurrence`] given `W_hᵀ` instead of `W_h`: the same `W_hᵀ δz_t`, computed as a
/// sum of the columns of `W_hᵀ`, which vectorizes. [`Rnn::backward`](crate::Rnn::backward)
/// forms `W_hᵀ` once per pass and calls this.
#[inline(always)]
pub fn through_recurrence_transposed<T: Real, const H: usize>(
    w_h_t: &SMatrix<T, H, H>,
    delta_z: &SVector<T, H>,
) -> SVector<T, H> {
    through_recurrence_transposed_for::<Baseline, _, H>(w_h_t, delta_z)
}

/// [`through_recurrence_transposed`] with the kernels of the instruction set `V`.
#[inline(always)]
pub(crate) fn through_recurrence_transposed_for<V: InstructionSet, T: Real, const H: usize>(
    w_h_t: &SMatrix<T, H, H>,
    delta_z: &SVector<T, H>,
) -> SVector<T, H> {
    let mut from_future = SVector::zeros();
    gemv_add::<V, _, _, _>(&mut from_future, w_h_t, delta_z);
    from_future
}

/// `δz_t = f′(z_t) ⊙ ∂L/∂h_t`: the activation's diagonal Jacobian, applied element-wise.
#[inline(always)]
pub fn pre_activation_gradient<T: Real, const H: usize>(
    f_prime: &Diagonal<T, H>,
    dl_dh: &SVector<T, H>,
) -> SVector<T, H> {
    f_prime.hadamard(dl_dh)
}

/// `∂L/∂W_x += δz_t x_tᵀ` (an `H × I` rank-one update, in place).
#[inline(always)]
pub fn accumulate_input_weights<T: Real, const H: usize, const I: usize>(
    dl_dw_x: &mut SMatrix<T, H, I>,
    delta_z: &SVector<T, H>,
    x: &SVector<T, I>,
) {
    ger_add(dl_dw_x, delta_z, x);
}

/// `∂L/∂W_h += δz_t h_{t−1}ᵀ` (an `H × H` rank-one update, in place).
#[inline(always)]
pub fn accumulate_recurrent_weights<T: Real, const H: usize>(
    dl_dw_h: &mut SMatrix<T, H, H>,
    delta_z: &SVector<T, H>,
    h_prev: &SVector<T, H>,
) {
    ger_add(dl_dw_h, delta_z, h_prev);
}

/// `∂L/∂W += Σ_k δ_k v_kᵀ`: `K` steps' outer products added to a weight gradient in one pass
/// (`∂L/∂W_x` with `δz_t`, `x_t`; `∂L/∂W_h` with `δz_t`, `h_{t−1}`; `∂L/∂W_y` with `δa_t`, `h_t`).
/// The same sum as `K` calls of the rank-one rows, each entry added in the order given.
///
/// ```
/// use static_rnn::{gradient_table::accumulate_outer_products, SMatrix, SVector};
/// let mut dl_dw = SMatrix::<f64, 2, 3>::zeros();
/// let (d1, d2) = (SVector::from([1.0, 2.0]), SVector::from([0.0, -1.0]));
/// let (v1, v2) = (SVector::from([1.0, 0.0, 3.0]), SVector::from([2.0, 1.0, 0.0]));
/// accumulate_outer_products(&mut dl_dw, [&d1, &d2], [&v1, &v2]);
/// assert_eq!(dl_dw, d1 * v1.transpose() + d2 * v2.transpose());
/// ```
#[inline(always)]
pub fn accumulate_outer_products<T: Real, const R: usize, const C: usize, const K: usize>(
    dl_dw: &mut SMatrix<T, R, C>,
    deltas: [&SVector<T, R>; K],
    inputs: [&SVector<T, C>; K],
) {
    accumulate_outer_products_for::<Baseline, T, R, C, K>(dl_dw, deltas, inputs);
}

/// [`accumulate_outer_products`] with the kernels of the instruction set `V`.
#[inline(always)]
pub(crate) fn accumulate_outer_products_for<
    V: InstructionSet,
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
>(
    dl_dw: &mut SMatrix<T, R, C>,
    deltas: [&SVector<T, R>; K],
    inputs: [&SVector<T, C>; K],
) {
    ger_k_add::<V, T, R, C, K>(dl_dw, deltas, inputs);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix<const R: usize, const C: usize>(seed: f64) -> SMatrix<f64, R, C> {
        SMatrix::from_fn(|i, j| ((i * 7 + j * 3) as f64 + seed).sin())
    }

    #[test]
    fn transposed_rows_equal_the_rows_given_w() {
        // Shapes off the kernels' block sizes (16 f64 rows), to reach the tails.
        let w_y = matrix::<5, 37>(0.3);
        let w_h = matrix::<37, 37>(1.1);
        let delta_a = SVector::<f64, 5>::from_fn(|i, _| (i as f64).cos());
        let delta_z = SVector::<f64, 37>::from_fn(|i, _| (i as f64 * 0.7).cos());
        let from_future = SVector::<f64, 37>::from_fn(|i, _| 0.01 * i as f64);
        let close = |a: &SVector<f64, 37>, b: &SVector<f64, 37>| (a - b).amax() <= 1e-13 * b.amax();

        let plain = hidden_state_gradient(&w_y, Some(&delta_a), &from_future);
        let transposed =
            hidden_state_gradient_transposed(&w_y.transpose(), Some(&delta_a), &from_future);
        assert!(close(&transposed, &plain));
        assert_eq!(
            hidden_state_gradient_transposed(&w_y.transpose(), None, &from_future),
            from_future
        );
        let plain = through_recurrence(&w_h, &delta_z);
        let transposed = through_recurrence_transposed(&w_h.transpose(), &delta_z);
        assert!(close(&transposed, &plain));
        assert!(close(&plain, &(w_h.transpose() * delta_z)));
    }

    #[test]
    fn rank_one_updates_add_the_outer_product() {
        let mut g = matrix::<37, 5>(2.0);
        let before = g;
        let u = SVector::<f64, 37>::from_fn(|i, _| (i as f64).sin());
        let v = SVector::<f64, 5>::from_fn(|i, _| 1.0 + i as f64);
        accumulate_input_weights(&mut g, &u, &v);
        let expected = before + u * v.transpose();
        assert!((g - expected).amax() <= 1e-14 * expected.amax());
    }
}
