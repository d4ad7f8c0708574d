//! Optimizers: PyTorch's `torch.optim` update rules over any parameter set, without a heap.
//!
//! An optimizer turns a gradient `g = ∂L/∂θ` into an update of the parameters `θ`, keeping its
//! state (momentum, moment estimates) in structs shaped like the parameters. Every optimizer here
//! is generic over the parameter set `P: Tensors<T, N> + Default` — an RNN's
//! [`Params`] today, the weights of a GRU or LSTM cell tomorrow — and over the scalar
//! `T` (`f32` or `f64`) of `P`; its memory is a compile-time constant
//! (`size_of::<Adam<Params<16, 32, 8>>>()` is three parameter sets and a step counter), and it runs
//! in `#![no_std]` without a heap.
//!
//! Hyperparameters are `f64`, as PyTorch's are Python floats, whatever `T` is. The few scalars of a
//! step (`1 − β₂`, the bias corrections `1 − βᵗ`, `γ / (1 + (t − 1) η)`, …) are computed in `f64`
//! and rounded to `T` once, as PyTorch does for an `f32` model; only the element-wise work is in
//! `T`. (Rounding `β₂ = 0.999` to `f32` first would change `1 − β₂` by `1.3·10⁻⁵` relative.)
//!
//! | optimizer | rule (`γ` = `lr`) | PyTorch defaults | state |
//! |---|---|---|---|
//! | [`Sgd`] | `b ← μ b + (1 − τ) g`, `θ ← θ − γ b` | `lr = 1e−3`, `momentum = 0`, `dampening = 0`, `weight_decay = 0`, `nesterov = false` | `momentum_buffer` |
//! | [`Adagrad`] | `G ← G + g²`, `θ ← θ − γ̃ g / (√G + ε)` | `lr = 1e−2`, `lr_decay = 0`, `weight_decay = 0`, `initial_accumulator_value = 0`, `eps = 1e−10` | `sum` |
//! | [`RmsProp`] | `v ← α v + (1 − α) g²`, `θ ← θ − γ g / (√v + ε)` | `lr = 1e−2`, `alpha = 0.99`, `eps = 1e−8`, `weight_decay = 0`, `momentum = 0`, `centered = false` | `square_avg`, `momentum_buffer`, `grad_avg` |
//! | [`Adam`] | `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`, `θ ← θ − γ m̂ / (√v̂ + ε)` | `lr = 1e−3`, `betas = (0.9, 0.999)`, `eps = 1e−8`, `weight_decay = 0` (L2), `amsgrad = false` | `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` |
//! | [`AdamW`] | Adam with decoupled decay `θ ← θ − γ λ θ` | as Adam, but `weight_decay = 1e−2` | as Adam |
//!
//! Each type's documentation gives its full rule, which is PyTorch's documented algorithm; the
//! crate's tests replay PyTorch itself (`tests/fixtures/optim/`, written by
//! `tools/reference/optim.py`) and agree to `1e−12` relative in `f64`. Each optimizer also counts
//! its steps, as PyTorch's `state["step"]`.
//!
//! # A non-finite gradient is never applied
//!
//! [`Optimizer::step`] first scans the whole gradient; if any scalar is `NaN` or `±∞` it returns
//! [`NonFiniteGradient`] and changes nothing: not the parameters, not a moment, not the step
//! counter (PyTorch would write `NaN`s into all three). Skip the batch, lower the learning rate or
//! clip (see [`clip`](crate::clip)), and go on.
//!
//! # Where this differs from PyTorch
//!
//! - Hyperparameters are checked as PyTorch checks them (a panic where PyTorch raises
//!   `ValueError`), and a little more strictly where PyTorch's accepted values lead to `NaN` from
//!   finite input: `eps` must be `> 0` (PyTorch allows `0`, and then a parameter whose gradient has
//!   always been `0` gets `0/0`), and RMSprop's `alpha` must be `≤ 1` (above, `v` can turn negative).
//! - Centered RMSprop clamps `ṽ = v − ḡ²` at `0`: it is `≥ 0` in exact arithmetic, but rounding can
//!   make it `−1 ulp` when the gradient has been constant for long, and PyTorch's `√ṽ` is then `NaN`.
//! - The options `maximize`, `foreach`, `fused`, `capturable` and `differentiable` do not exist:
//!   negate the gradient to maximize; the others are about PyTorch's devices and autograd.
//!
//! A gradient so large that its square overflows (`|g| > 1.8·10¹⁹` in `f32`) makes Adagrad's,
//! RMSprop's and Adam's second moment `+∞` here as in PyTorch, which freezes that parameter; clip
//! gradients to prevent it.
//!
//! ```
//! use static_rnn::{Adam, AdamConfig, Optimizer, Params};
//! // Minimise ½‖θ − 1‖² (gradient θ − 1) with Adam.
//! let mut theta = Params::<2, 3, 1, f64>::zeros();
//! let mut adam = Adam::new(AdamConfig { lr: 0.1, ..AdamConfig::default() });
//! for _ in 0..200 {
//!     let mut grads = theta;
//!     for g in grads.w_x.iter_mut().chain(grads.w_h.iter_mut()).chain(grads.b_h.iter_mut()) {
//!         *g -= 1.0;
//!     }
//!     grads.w_y.add_scalar_mut(-1.0);
//!     grads.b_y.add_scalar_mut(-1.0);
//!     adam.step(&mut theta, &grads)?;
//! }
//! assert_eq!(adam.steps(), 200);
//! assert!((theta.w_h[(2, 1)] - 1.0).abs() < 1e-2);
//! # Ok::<(), static_rnn::NonFiniteGradient>(())
//! ```

mod adagrad;
mod adam;
mod rmsprop;
mod sgd;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::activation::{HiddenActivation, OutputActivation};
use crate::model::Rnn;
use crate::non_finite::NonFiniteGradient;
use crate::params::Params;
use crate::scalar::Real;
use crate::tensors::Tensors;

/// An update rule `θ ← U(θ, g)` for a parameter set `P` of `N` tensors of scalars `T`, with state
/// of its own.
///
/// `N` is the number of tensors in `P` (5 for an RNN's [`Params`]); it is inferred from `P`.
pub trait Optimizer<T: Real, const N: usize, P: Tensors<T, N>> {
    /// Updates `params` with the gradient `grads = ∂L/∂θ` (the same shape), and the optimizer's
    /// own state.
    ///
    /// # Errors
    ///
    /// [`NonFiniteGradient`] if `grads` holds a `NaN` or `±∞`. Then nothing is written: `params`
    /// and the optimizer's state (moments, step counter) stay exactly as they were.
    ///
    /// Only the gradient is checked, not the result: a finite gradient so large that the update
    /// itself overflows (`|γ g| > T::MAX`, or `g²` in a second moment) still writes `±∞`. Clip
    /// the gradient ([`clip_grad_norm`](crate::clip_grad_norm)) where that can happen.
    ///
    /// # Panics
    ///
    /// If the optimizer's public `config` has been changed to a value its `new` rejects (a
    /// negative learning rate, say).
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), NonFiniteGradient>;

    /// The number of steps applied so far (PyTorch's `state["step"]`); a refused step does not
    /// count.
    fn steps(&self) -> u64;
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// One step of `optimizer` on this model's parameters: `θ ← U(θ, ∂L/∂θ)`, the same as
    /// `optimizer.step(&mut self.params, grads)`.
    ///
    /// # Errors
    ///
    /// [`NonFiniteGradient`] if `grads` holds a `NaN` or `±∞`; then neither the model nor the
    /// optimizer changes.
    ///
    /// ```
    /// use static_rnn::{Params, Rnn, Sgd, SgdConfig};
    /// let mut rnn = Rnn::<2, 3, 2, static_rnn::Tanh, static_rnn::Softmax, f64>::zeros();
    /// let mut sgd = Sgd::new(SgdConfig { lr: 0.5, ..SgdConfig::default() });
    /// let mut grads = Params::zeros();
    /// grads.b_y[0] = 2.0;
    /// rnn.update(&mut sgd, &grads)?;
    /// assert_eq!(rnn.params.b_y[0], -1.0); // θ ← θ − γ g
    /// grads.b_y[1] = f64::NAN;
    /// assert!(rnn.update(&mut sgd, &grads).is_err());
    /// assert_eq!(rnn.params.b_y[0], -1.0); // untouched
    /// # Ok::<(), static_rnn::NonFiniteGradient>(())
    /// ```
    pub fn update<U>(
        &mut self,
        optimizer: &mut U,
        grads: &Params<I, H, O, T>,
    ) -> Result<(), NonFiniteGradient>
    where
        U: Optimizer<T, 5, Params<I, H, O, T>>,
    {
        optimizer.step(&mut self.params, grads)
    }
}

/// Every scalar of `p`, tensor after tensor: parameter sets of one type line up scalar by scalar.
fn scalars<T: Real, const N: usize, P: Tensors<T, N>>(p: &P) -> impl Iterator<Item = &T> {
    p.tensors().into_iter().flatten()
}

/// Every scalar of `p`, mutably, in the order of [`scalars`].
fn scalars_mut<T: Real, const N: usize, P: Tensors<T, N>>(
    p: &mut P,
) -> impl Iterator<Item = &mut T> {
    p.tensors_mut().into_iter().flatten()
}

/// Panics with PyTorch's message (`Invalid learning rate: -1`) unless `ok`.
fn require(ok: bool, what: &str, value: f64) {
    assert!(ok, "Invalid {what}: {value}");
}
