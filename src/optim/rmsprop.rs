//! RMSprop: per-scalar learning rates from a moving average of squared gradients.

use super::{Optimizer, require, scalars, scalars_mut};
use crate::non_finite::{NonFiniteGradient, check_finite};
use crate::scalar::{Real, constant};
use crate::tensors::Tensors;

/// The hyperparameters of [`RmsProp`], with `torch.optim.RMSprop`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// The learning rate `γ` (default `1e−2`), `≥ 0`.
    pub lr: f64,
    /// The smoothing constant `α` of the moving averages (default `0.99`), in `[0, 1]`.
    pub alpha: f64,
    /// The term `ε` added to the denominator `√ṽ` (default `1e−8`), `> 0`.
    pub eps: f64,
    /// The L2 penalty `λ` added to the gradient, `g ← g + λ θ` (default `0`), `≥ 0`.
    pub weight_decay: f64,
    /// The momentum factor `μ` (default `0`), `≥ 0`.
    pub momentum: f64,
    /// Centered RMSprop (default `false`): normalise by an estimate of the gradient's variance,
    /// `v − ḡ²`, instead of its second moment `v`.
    pub centered: bool,
}

impl Default for RmsPropConfig {
    /// PyTorch's defaults: `lr = 1e−2`, `alpha = 0.99`, `eps = 1e−8`, `weight_decay = 0`,
    /// `momentum = 0`, `centered = false`.
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropConfig {
    /// Panics, with PyTorch's `ValueError` message, on a value `torch.optim.RMSprop` rejects, and
    /// on `eps = 0` or `alpha > 1`.
    fn validate(&self) {
        require(self.lr >= 0.0, "learning rate", self.lr);
        require(self.eps > 0.0, "epsilon value", self.eps);
        require(self.momentum >= 0.0, "momentum value", self.momentum);
        require(
            self.weight_decay >= 0.0,
            "weight_decay value",
            self.weight_decay,
        );
        require((0.0..=1.0).contains(&self.alpha), "alpha value", self.alpha);
    }
}

/// RMSprop, `torch.optim.RMSprop`.
///
/// At each step, with gradient `g = ∂L/∂θ`:
///
/// ```text
/// g ← g + λ θ                      if λ ≠ 0   (weight decay)
/// v ← α v + (1 − α) g²             v₀ = 0     (square average)
/// ṽ ← v
/// if centered:
///     ḡ ← α ḡ + (1 − α) g          ḡ₀ = 0     (gradient average)
///     ṽ ← max(v − ḡ², 0)
/// if μ > 0:
///     b ← μ b + g / (√ṽ + ε)       b₀ = 0     (momentum buffer)
///     θ ← θ − γ b
/// else:
///     θ ← θ − γ g / (√ṽ + ε)
/// ```
///
/// The state is three parameter-shaped buffers, `v`, `b` and `ḡ` (PyTorch's `square_avg`,
/// `momentum_buffer` and `grad_avg`); `b` is used only with momentum and `ḡ` only when centered.
/// The clamp `max(·, 0)` is not PyTorch's: `v − ḡ² ≥ 0` in exact arithmetic, and the clamp only
/// turns the `√(−1 ulp) = NaN` that rounding can produce into `0`.
///
/// ```
/// use static_rnn::{Optimizer, Params, RmsProp, RmsPropConfig};
/// let mut rmsprop = RmsProp::new(RmsPropConfig { alpha: 0.75, ..RmsPropConfig::default() });
/// let mut theta = Params::<1, 1, 1, f64>::zeros();
/// let mut grads = Params::zeros();
/// grads.b_y[0] = 2.0;
/// rmsprop.step(&mut theta, &grads)?; // v = 0.25 · 4 = 1, θ = −0.01 · 2 / (1 + 1e−8)
/// assert_eq!(rmsprop.square_avg().b_y[0], 1.0);
/// assert!((theta.b_y[0] - -0.02).abs() < 1e-9);
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp<P> {
    /// The hyperparameters; they may be changed between steps.
    pub config: RmsPropConfig,
    square_avg: P,
    momentum_buffer: P,
    grad_avg: P,
    steps: u64,
}

impl<P: Default> RmsProp<P> {
    /// An optimizer with these hyperparameters and zero state.
    ///
    /// # Panics
    ///
    /// Where PyTorch raises `ValueError` (a negative or `NaN` `lr`, `eps`, `momentum`,
    /// `weight_decay` or `alpha`), and on `eps = 0` or `alpha > 1`, which PyTorch accepts but
    /// which can give `NaN` from finite gradients.
    pub fn new(config: RmsPropConfig) -> Self {
        config.validate();
        Self {
            config,
            square_avg: P::default(),
            momentum_buffer: P::default(),
            grad_avg: P::default(),
            steps: 0,
        }
    }
}

impl<P: Default> Default for RmsProp<P> {
    /// `RmsProp::new(RmsPropConfig::default())`.
    fn default() -> Self {
        Self::new(RmsPropConfig::default())
    }
}

impl<P> RmsProp<P> {
    /// The moving average of squared gradients `v` (PyTorch's `state["square_avg"]`).
    pub fn square_avg(&self) -> &P {
        &self.square_avg
    }

    /// The momentum buffer `b` (PyTorch's `state["momentum_buffer"]`; zeros without momentum).
    pub fn momentum_buffer(&self) -> &P {
        &self.momentum_buffer
    }

    /// The moving average of gradients `ḡ` (PyTorch's `state["grad_avg"]`; zeros unless centered).
    pub fn grad_avg(&self) -> &P {
        &self.grad_avg
    }
}

impl<T: Real, const N: usize, P: Tensors<T, N>> Optimizer<T, N, P> for RmsProp<P> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), NonFiniteGradient> {
        self.config.validate();
        check_finite(grads)?;
        let c = self.config;
        let (lr, alpha, eps, weight_decay, momentum): (T, T, T, T, T) = (
            constant(c.lr),
            constant(c.alpha),
            constant(c.eps),
            constant(c.weight_decay),
            constant(c.momentum),
        );
        let one_minus_alpha: T = constant(1.0 - c.alpha);
        for ((((theta, &g), v), b), g_avg) in scalars_mut(params)
            .zip(scalars(grads))
            .zip(scalars_mut(&mut self.square_avg))
            .zip(scalars_mut(&mut self.momentum_buffer))
            .zip(scalars_mut(&mut self.grad_avg))
        {
            let mut d = g;
            if c.weight_decay != 0.0 {
                d += weight_decay * *theta;
            }
            *v = alpha * *v + one_minus_alpha * d * d;
            let variance = if c.centered {
                *g_avg = alpha * *g_avg + one_minus_alpha * d;
                (*v - *g_avg * *g_avg).max(T::zero())
            } else {
                *v
            };
            let denominator = variance.sqrt() + eps;
            if c.momentum > 0.0 {
                *b = momentum * *b + d / denominator;
                *theta -= lr * *b;
            } else {
                *theta -= lr * d / denominator;
            }
        }
        self.steps += 1;
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.steps
    }
}
