//! Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay.

use super::{Optimizer, require, scalars, scalars_mut};
use crate::non_finite::{NonFiniteGradient, check_finite};
use crate::scalar::{Real, constant};
use crate::tensors::Tensors;

/// The hyperparameters of [`Sgd`], with `torch.optim.SGD`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// The learning rate `γ` (default `1e−3`), `≥ 0`.
    pub lr: f64,
    /// The momentum factor `μ` (default `0`: no momentum buffer), `≥ 0`.
    pub momentum: f64,
    /// The dampening `τ` of the gradient's contribution to the momentum (default `0`).
    pub dampening: f64,
    /// The L2 penalty `λ` added to the gradient, `g ← g + λ θ` (default `0`), `≥ 0`.
    pub weight_decay: f64,
    /// Nesterov momentum (default `false`); needs `μ > 0` and `τ = 0`.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    /// PyTorch's defaults: `lr = 1e−3`, `momentum = 0`, `dampening = 0`, `weight_decay = 0`,
    /// `nesterov = false`.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdConfig {
    /// Panics, with PyTorch's `ValueError` message, on a value `torch.optim.SGD` rejects.
    fn validate(&self) {
        require(self.lr >= 0.0, "learning rate", self.lr);
        require(self.momentum >= 0.0, "momentum value", self.momentum);
        require(
            self.weight_decay >= 0.0,
            "weight_decay value",
            self.weight_decay,
        );
        assert!(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "Nesterov momentum requires a momentum and zero dampening"
        );
    }
}

/// Stochastic gradient descent, `torch.optim.SGD`.
///
/// At step `t`, with gradient `g_t = ∂L/∂θ` at `θ_{t−1}`:
///
/// ```text
/// g_t ← g_t + λ θ_{t−1}                       if λ ≠ 0   (weight decay)
/// if μ ≠ 0:
///     b_t ← g_t                               at the first step
///     b_t ← μ b_{t−1} + (1 − τ) g_t           after it   (momentum μ, dampening τ)
///     g_t ← g_t + μ b_t   if Nesterov,   else  g_t ← b_t
/// θ_t ← θ_{t−1} − γ g_t
/// ```
///
/// The state is one parameter-shaped momentum buffer `b`. Defaults are PyTorch's
/// ([`SgdConfig::default`]); min-char-rnn's plain `θ ← θ − η g` is `Sgd` with only `lr` set.
///
/// ```
/// use static_rnn::{Optimizer, Params, Sgd, SgdConfig};
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() });
/// let mut theta = Params::<1, 1, 1, f64>::zeros();
/// let mut grads = Params::zeros();
/// grads.b_h[0] = 1.0;
/// sgd.step(&mut theta, &grads)?; // b = 1
/// sgd.step(&mut theta, &grads)?; // b = 0.9·1 + 1 = 1.9
/// assert!((theta.b_h[0] - -(0.1 + 0.19)).abs() < 1e-15);
/// assert_eq!(sgd.momentum_buffer().unwrap().b_h[0], 1.9);
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd<P> {
    /// The hyperparameters; they may be changed between steps (a learning-rate schedule).
    pub config: SgdConfig,
    momentum_buffer: P,
    has_momentum_buffer: bool,
    steps: u64,
}

impl<P: Default> Sgd<P> {
    /// An optimizer with these hyperparameters and no state yet.
    ///
    /// # Panics
    ///
    /// Where PyTorch raises `ValueError`: `lr`, `momentum` or `weight_decay` negative (or `NaN`),
    /// Nesterov without `momentum > 0` and `dampening = 0`.
    pub fn new(config: SgdConfig) -> Self {
        config.validate();
        Self {
            config,
            momentum_buffer: P::default(),
            has_momentum_buffer: false,
            steps: 0,
        }
    }
}

impl<P: Default> Default for Sgd<P> {
    /// `Sgd::new(SgdConfig::default())`.
    fn default() -> Self {
        Self::new(SgdConfig::default())
    }
}

impl<P> Sgd<P> {
    /// The momentum buffer `b` (PyTorch's `state["momentum_buffer"]`): `None` until a step with
    /// `μ ≠ 0` has created it.
    pub fn momentum_buffer(&self) -> Option<&P> {
        self.has_momentum_buffer.then_some(&self.momentum_buffer)
    }
}

impl<T: Real, const N: usize, P: Tensors<T, N>> Optimizer<T, N, P> for Sgd<P> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), NonFiniteGradient> {
        self.config.validate();
        check_finite(grads)?;
        let c = self.config;
        let use_momentum = c.momentum != 0.0;
        let (lr, momentum, weight_decay): (T, T, T) = (
            constant(c.lr),
            constant(c.momentum),
            constant(c.weight_decay),
        );
        let one_minus_dampening: T = constant(1.0 - c.dampening);
        let first = !self.has_momentum_buffer;
        for ((theta, &g), b) in scalars_mut(params)
            .zip(scalars(grads))
            .zip(scalars_mut(&mut self.momentum_buffer))
        {
            let mut d = g;
            if c.weight_decay != 0.0 {
                d += weight_decay * *theta;
            }
            if use_momentum {
                *b = if first {
                    d
                } else {
                    momentum * *b + one_minus_dampening * d
                };
                d = if c.nesterov { d + momentum * *b } else { *b };
            }
            *theta -= lr * d;
        }
        self.has_momentum_buffer |= use_momentum;
        self.steps += 1;
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.steps
    }
}
