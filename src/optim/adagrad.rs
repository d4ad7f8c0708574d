//! Adagrad: per-scalar learning rates from the sum of squared gradients.

use super::{Optimizer, require, scalars, scalars_mut};
use crate::non_finite::{NonFiniteGradient, check_finite};
use crate::scalar::{Real, constant};
use crate::tensors::Tensors;

/// The hyperparameters of [`Adagrad`], with `torch.optim.Adagrad`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// The learning rate `γ` (default `1e−2`), `≥ 0`.
    pub lr: f64,
    /// The learning-rate decay `η`: step `t` uses `γ̃ = γ / (1 + (t − 1) η)` (default `0`), `≥ 0`.
    pub lr_decay: f64,
    /// The L2 penalty `λ` added to the gradient, `g ← g + λ θ` (default `0`), `≥ 0`.
    pub weight_decay: f64,
    /// The starting value `G₀` of every sum of squares (default `0`), `≥ 0`.
    pub initial_accumulator_value: f64,
    /// The term `ε` added to the denominator `√G` (default `1e−10`), `> 0`.
    pub eps: f64,
}

impl Default for AdagradConfig {
    /// PyTorch's defaults: `lr = 1e−2`, `lr_decay = 0`, `weight_decay = 0`,
    /// `initial_accumulator_value = 0`, `eps = 1e−10`.
    fn default() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

impl AdagradConfig {
    /// Panics, with PyTorch's `ValueError` message, on a value `torch.optim.Adagrad` rejects, and
    /// on `eps = 0`.
    fn validate(&self) {
        require(self.lr >= 0.0, "learning rate", self.lr);
        require(self.lr_decay >= 0.0, "lr_decay value", self.lr_decay);
        require(
            self.weight_decay >= 0.0,
            "weight_decay value",
            self.weight_decay,
        );
        require(
            self.initial_accumulator_value >= 0.0,
            "initial_accumulator_value value",
            self.initial_accumulator_value,
        );
        require(self.eps > 0.0, "epsilon value", self.eps);
    }
}

/// Adagrad, `torch.optim.Adagrad`.
///
/// At step `t` (from 1), with gradient `g_t = ∂L/∂θ` at `θ_{t−1}`:
///
/// ```text
/// γ̃ = γ / (1 + (t − 1) η)
/// g_t ← g_t + λ θ_{t−1}                  if λ ≠ 0   (weight decay)
/// G_t ← G_{t−1} + g_t²                   G_0 = initial_accumulator_value
/// θ_t ← θ_{t−1} − γ̃ g_t / (√G_t + ε)
/// ```
///
/// The state is one parameter-shaped sum of squares `G` (PyTorch's `state["sum"]`).
///
/// # min-char-rnn's Adagrad is not quite this one
///
/// Karpathy's min-char-rnn updates `θ ← θ − η g / √(G + 10⁻⁸)`, with `ε` *inside* the square root
/// and `G₀ = 0`; PyTorch, and this type, use `θ ← θ − γ g / (√G + ε)` with `ε = 10⁻¹⁰` outside.
/// The two agree once `G ≫ 10⁻⁸`; they differ while `G` is tiny: on a parameter's first nonzero
/// gradient `g`, min-char-rnn's step is `η g / √(g² + 10⁻⁸)`, which is small for `|g| ≪ 10⁻⁴`,
/// while PyTorch's is `γ g / (|g| + 10⁻¹⁰) ≈ γ · sign(g)`, a full step whatever `|g|`.
///
/// ```
/// use static_rnn::{Adagrad, AdagradConfig, Optimizer, Params};
/// let mut adagrad = Adagrad::new(AdagradConfig { lr: 0.1, ..AdagradConfig::default() });
/// let mut theta = Params::<1, 1, 1, f64>::zeros();
/// let mut grads = Params::zeros();
/// grads.w_y[0] = 3.0;
/// adagrad.step(&mut theta, &grads)?; // G = 9, θ = −0.1 · 3 / (3 + 1e−10)
/// grads.w_y[0] = 4.0;
/// adagrad.step(&mut theta, &grads)?; // G = 25, θ −= 0.1 · 4 / (5 + 1e−10)
/// assert!((theta.w_y[0] - -(0.1 + 0.08)).abs() < 1e-10);
/// assert_eq!(adagrad.state_sum().w_y[0], 25.0);
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad<P> {
    /// The hyperparameters; they may be changed between steps.
    pub config: AdagradConfig,
    state_sum: P,
    steps: u64,
}

impl<P: Default> Adagrad<P> {
    /// An optimizer with these hyperparameters and no step taken yet.
    ///
    /// # Panics
    ///
    /// Where PyTorch raises `ValueError` (a negative or `NaN` `lr`, `lr_decay`, `weight_decay`,
    /// `initial_accumulator_value` or `eps`), and on `eps = 0`, which PyTorch accepts but which
    /// makes `0/0` of a parameter whose gradient has always been `0`.
    pub fn new(config: AdagradConfig) -> Self {
        config.validate();
        Self {
            config,
            state_sum: P::default(),
            steps: 0,
        }
    }
}

impl<P: Default> Default for Adagrad<P> {
    /// `Adagrad::new(AdagradConfig::default())`.
    fn default() -> Self {
        Self::new(AdagradConfig::default())
    }
}

impl<P> Adagrad<P> {
    /// The sum of squared gradients `G` (PyTorch's `state["sum"]`). It is filled with
    /// `initial_accumulator_value` at the first step, and reads as all zeros before it.
    pub fn state_sum(&self) -> &P {
        &self.state_sum
    }
}

impl<T: Real, const N: usize, P: Tensors<T, N>> Optimizer<T, N, P> for Adagrad<P> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), NonFiniteGradient> {
        self.config.validate();
        check_finite(grads)?;
        let c = self.config;
        let t = self.steps + 1;
        let decayed_lr: T = constant(c.lr / (1.0 + (t - 1) as f64 * c.lr_decay));
        let (weight_decay, initial_accumulator_value, eps): (T, T, T) = (
            constant(c.weight_decay),
            constant(c.initial_accumulator_value),
            constant(c.eps),
        );
        for ((theta, &g), sum) in scalars_mut(params)
            .zip(scalars(grads))
            .zip(scalars_mut(&mut self.state_sum))
        {
            let mut d = g;
            if c.weight_decay != 0.0 {
                d += weight_decay * *theta;
            }
            if t == 1 {
                *sum = initial_accumulator_value;
            }
            *sum += d * d;
            *theta -= decayed_lr * d / (sum.sqrt() + eps);
        }
        self.steps = t;
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.steps
    }
}
