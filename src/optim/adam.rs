//! Adam and AdamW: bias-corrected moving averages of the gradient and of its square.

use super::{Optimizer, require, scalars, scalars_mut};
use crate::non_finite::{NonFiniteGradient, check_finite};
use crate::scalar::{Real, constant};
use crate::tensors::Tensors;
use num_traits::Float;

/// The hyperparameters of [`Adam`], with `torch.optim.Adam`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// The learning rate `γ` (default `1e−3`), `≥ 0`.
    pub lr: f64,
    /// The decay rates `(β₁, β₂)` of the first and second moment estimates (default
    /// `(0.9, 0.999)`), each in `[0, 1)`.
    pub betas: (f64, f64),
    /// The term `ε` added to the denominator `√v̂` (default `1e−8`), `> 0`.
    pub eps: f64,
    /// The L2 penalty `λ` added to the gradient, `g ← g + λ θ` (default `0`), `≥ 0`.
    pub weight_decay: f64,
    /// AMSGrad (default `false`): normalise by the largest second moment seen so far.
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    /// PyTorch's defaults: `lr = 1e−3`, `betas = (0.9, 0.999)`, `eps = 1e−8`, `weight_decay = 0`,
    /// `amsgrad = false`.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

/// The hyperparameters of [`AdamW`], with `torch.optim.AdamW`'s names and defaults: those of
/// [`AdamConfig`], but the weight decay is decoupled and defaults to `1e−2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// The learning rate `γ` (default `1e−3`), `≥ 0`.
    pub lr: f64,
    /// The decay rates `(β₁, β₂)` of the first and second moment estimates (default
    /// `(0.9, 0.999)`), each in `[0, 1)`.
    pub betas: (f64, f64),
    /// The term `ε` added to the denominator `√v̂` (default `1e−8`), `> 0`.
    pub eps: f64,
    /// The decoupled weight decay `λ`: `θ ← θ − γ λ θ` before the Adam step (default `1e−2`),
    /// `≥ 0`.
    pub weight_decay: f64,
    /// AMSGrad (default `false`): normalise by the largest second moment seen so far.
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    /// PyTorch's defaults: `lr = 1e−3`, `betas = (0.9, 0.999)`, `eps = 1e−8`,
    /// `weight_decay = 1e−2`, `amsgrad = false`.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// Panics, with PyTorch's `ValueError` message, on a value `torch.optim.Adam` rejects, and on
    /// `eps = 0`.
    fn validate(&self) {
        require(self.lr >= 0.0, "learning rate", self.lr);
        require(self.eps > 0.0, "epsilon value", self.eps);
        let (beta1, beta2) = self.betas;
        require(
            (0.0..1.0).contains(&beta1),
            "beta parameter at index 0",
            beta1,
        );
        require(
            (0.0..1.0).contains(&beta2),
            "beta parameter at index 1",
            beta2,
        );
        require(
            self.weight_decay >= 0.0,
            "weight_decay value",
            self.weight_decay,
        );
    }
}

impl AdamWConfig {
    /// The same values as an [`AdamConfig`]: only how `weight_decay` is applied differs, and
    /// that is the caller's [`WeightDecay`].
    fn values(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
        }
    }
}

/// How the weight decay `λ` enters an Adam step.
#[derive(Clone, Copy, PartialEq)]
enum WeightDecay {
    /// `g ← g + λ θ` (Adam).
    L2Penalty,
    /// `θ ← θ − γ λ θ`, outside the moments (AdamW).
    Decoupled,
}

/// The state Adam and AdamW share.
#[derive(Clone, Debug, PartialEq)]
struct Moments<P> {
    /// `m`, the first moment estimate.
    exp_avg: P,
    /// `v`, the second moment estimate.
    exp_avg_sq: P,
    /// `v_max`, the largest `v` so far (AMSGrad only).
    max_exp_avg_sq: P,
    /// `t`, the number of steps taken.
    steps: u64,
}

impl<P: Default> Default for Moments<P> {
    fn default() -> Self {
        Self {
            exp_avg: P::default(),
            exp_avg_sq: P::default(),
            max_exp_avg_sq: P::default(),
            steps: 0,
        }
    }
}

impl<P> Moments<P> {
    /// One Adam step, as `torch.optim`'s single-tensor implementation computes it:
    /// `θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
    fn step<T: Real, const N: usize>(
        &mut self,
        params: &mut P,
        grads: &P,
        config: AdamConfig,
        decay: WeightDecay,
    ) -> Result<(), NonFiniteGradient>
    where
        P: Tensors<T, N>,
    {
        config.validate();
        check_finite(grads)?;
        let AdamConfig {
            lr,
            betas: (beta1, beta2),
            eps,
            weight_decay,
            amsgrad,
        } = config;
        let t = self.steps + 1;
        // The per-step scalars in f64, as PyTorch computes them in Python floats.
        let exponent = i32::try_from(t).unwrap_or(i32::MAX);
        let step_size: T = constant(lr / (1.0 - Float::powi(beta1, exponent)));
        let bias_correction2_sqrt: T = constant(Float::sqrt(1.0 - Float::powi(beta2, exponent)));
        let decoupled_factor: T = constant(1.0 - lr * weight_decay);
        let (one_minus_beta1, one_minus_beta2): (T, T) =
            (constant(1.0 - beta1), constant(1.0 - beta2));
        let (eps, weight_decay_t): (T, T) = (constant(eps), constant(weight_decay));
        let (beta1, beta2): (T, T) = (constant(beta1), constant(beta2));
        for ((((theta, &g), m), v), v_max) in scalars_mut(params)
            .zip(scalars(grads))
            .zip(scalars_mut(&mut self.exp_avg))
            .zip(scalars_mut(&mut self.exp_avg_sq))
            .zip(scalars_mut(&mut self.max_exp_avg_sq))
        {
            let mut d = g;
            if weight_decay != 0.0 {
                match decay {
                    WeightDecay::L2Penalty => d += weight_decay_t * *theta,
                    WeightDecay::Decoupled => *theta *= decoupled_factor,
                }
            }
            *m = beta1 * *m + one_minus_beta1 * d;
            *v = beta2 * *v + one_minus_beta2 * d * d;
            let second_moment = if amsgrad {
                *v_max = v_max.max(*v);
                *v_max
            } else {
                *v
            };
            *theta -= step_size * *m / (second_moment.sqrt() / bias_correction2_sqrt + eps);
        }
        self.steps = t;
        Ok(())
    }
}

/// Adam, `torch.optim.Adam`, with its weight decay as an L2 penalty on the gradient.
///
/// At step `t` (from 1), with gradient `g_t = ∂L/∂θ` at `θ_{t−1}`:
///
/// ```text
/// g_t ← g_t + λ θ_{t−1}                    if λ ≠ 0   (weight decay)
/// m_t ← β₁ m_{t−1} + (1 − β₁) g_t          m_0 = 0
/// v_t ← β₂ v_{t−1} + (1 − β₂) g_t²         v_0 = 0
/// m̂_t = m_t / (1 − β₁ᵗ)
/// v̂_t = v_t / (1 − β₂ᵗ),  or with AMSGrad:  v_tᵐᵃˣ ← max(v_{t−1}ᵐᵃˣ, v_t),  v̂_t = v_tᵐᵃˣ / (1 − β₂ᵗ)
/// θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)
/// ```
///
/// The state is three parameter-shaped buffers, `m`, `v` and `vᵐᵃˣ` (PyTorch's `exp_avg`,
/// `exp_avg_sq` and `max_exp_avg_sq`; the last is used only with AMSGrad), and the step count
/// `t`. The last line is evaluated as PyTorch does,
/// `θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
///
/// With weight decay, prefer [`AdamW`]: here `λ θ` is divided by `√v̂` like the gradient, so
/// parameters with large gradients are barely decayed.
///
/// ```
/// use static_rnn::{Adam, Optimizer, Params};
/// let mut adam = Adam::default(); // lr = 1e−3
/// let mut theta = Params::<1, 1, 1, f64>::zeros();
/// let mut grads = Params::zeros();
/// grads.w_x[0] = -0.25;
/// adam.step(&mut theta, &grads)?;
/// // The first step of Adam is ≈ γ · sign(g): m̂ = g, v̂ = g².
/// assert!((theta.w_x[0] - 1e-3).abs() < 1e-10);
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<P> {
    /// The hyperparameters; they may be changed between steps.
    pub config: AdamConfig,
    moments: Moments<P>,
}

/// AdamW, `torch.optim.AdamW`: Adam with decoupled weight decay (Loshchilov & Hutter).
///
/// At step `t` (from 1), with gradient `g_t = ∂L/∂θ` at `θ_{t−1}`:
///
/// ```text
/// θ_t ← θ_{t−1} − γ λ θ_{t−1}              (decoupled weight decay)
/// m_t ← β₁ m_{t−1} + (1 − β₁) g_t          m_0 = 0
/// v_t ← β₂ v_{t−1} + (1 − β₂) g_t²         v_0 = 0
/// m̂_t = m_t / (1 − β₁ᵗ)
/// v̂_t = v_t / (1 − β₂ᵗ),  or with AMSGrad:  v_tᵐᵃˣ ← max(v_{t−1}ᵐᵃˣ, v_t),  v̂_t = v_tᵐᵃˣ / (1 − β₂ᵗ)
/// θ_t ← θ_t − γ m̂_t / (√v̂_t + ε)
/// ```
///
/// The decay does not pass through the moments, so every parameter shrinks by the same factor
/// `1 − γλ` per step. The state is [`Adam`]'s.
///
/// ```
/// use static_rnn::{AdamW, AdamWConfig, Optimizer, Params};
/// let mut adamw = AdamW::new(AdamWConfig { lr: 0.1, weight_decay: 0.5, ..AdamWConfig::default() });
/// let mut theta = Params::<1, 1, 1, f64>::zeros();
/// theta.b_h[0] = 2.0;
/// adamw.step(&mut theta, &Params::zeros())?; // a zero gradient: only the decay acts
/// assert_eq!(theta.b_h[0], 2.0 * (1.0 - 0.1 * 0.5));
/// # Ok::<(), static_rnn::NonFiniteGradient>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW<P> {
    /// The hyperparameters; they may be changed between steps.
    pub config: AdamWConfig,
    moments: Moments<P>,
}

impl<P: Default> Adam<P> {
    /// An optimizer with these hyperparameters and zero moments.
    ///
    /// # Panics
    ///
    /// Where PyTorch raises `ValueError` (a negative or `NaN` `lr`, `eps` or `weight_decay`, a
    /// beta outside `[0, 1)`), and on `eps = 0`, which PyTorch accepts but which makes `0/0` of a
    /// parameter whose gradient has always been `0`.
    pub fn new(config: AdamConfig) -> Self {
        config.validate();
        Self {
            config,
            moments: Moments::default(),
        }
    }
}

impl<P: Default> AdamW<P> {
    /// An optimizer with these hyperparameters and zero moments.
    ///
    /// # Panics
    ///
    /// As [`Adam::new`].
    pub fn new(config: AdamWConfig) -> Self {
        config.values().validate();
        Self {
            config,
            moments: Moments::default(),
        }
    }
}

impl<P: Default> Default for Adam<P> {
    /// `Adam::new(AdamConfig::default())`.
    fn default() -> Self {
        Self::new(AdamConfig::default())
    }
}

impl<P: Default> Default for AdamW<P> {
    /// `AdamW::new(AdamWConfig::default())`.
    fn default() -> Self {
        Self::new(AdamWConfig::default())
    }
}

impl<P> Adam<P> {
    /// The first moment estimate `m` (PyTorch's `state["exp_avg"]`).
    pub fn exp_avg(&self) -> &P {
        &self.moments.exp_avg
    }

    /// The second moment estimate `v` (PyTorch's `state["exp_avg_sq"]`).
    pub fn exp_avg_sq(&self) -> &P {
        &self.moments.exp_avg_sq
    }

    /// The largest `v` so far, `vᵐᵃˣ` (PyTorch's `state["max_exp_avg_sq"]`; zeros without AMSGrad).
    pub fn max_exp_avg_sq(&self) -> &P {
        &self.moments.max_exp_avg_sq
    }
}

impl<P> AdamW<P> {
    /// The first moment estimate `m` (PyTorch's `state["exp_avg"]`).
    pub fn exp_avg(&self) -> &P {
        &self.moments.exp_avg
    }

    /// The second moment estimate `v` (PyTorch's `state["exp_avg_sq"]`).
    pub fn exp_avg_sq(&self) -> &P {
        &self.moments.exp_avg_sq
    }

    /// The largest `v` so far, `vᵐᵃˣ` (PyTorch's `state["max_exp_avg_sq"]`; zeros without AMSGrad).
    pub fn max_exp_avg_sq(&self) -> &P {
        &self.moments.max_exp_avg_sq
    }
}

impl<T: Real, const N: usize, P: Tensors<T, N>> Optimizer<T, N, P> for Adam<P> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), NonFiniteGradient> {
        self.moments
            .step(params, grads, self.config, WeightDecay::L2Penalty)
    }

    fn steps(&self) -> u64 {
        self.moments.steps
    }
}

impl<T: Real, const N: usize, P: Tensors<T, N>> Optimizer<T, N, P> for AdamW<P> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), NonFiniteGradient> {
        self.moments
            .step(params, grads, self.config.values(), WeightDecay::Decoupled)
    }

    fn steps(&self) -> u64 {
        self.moments.steps
    }
}

#[cfg(feature = "alloc")]
mod boxed {
    //! `Adam::boxed` and `AdamW::boxed`: the optimizer built in a `Box` (see [`crate::boxed`]).

    use super::{Adam, AdamConfig, AdamW, AdamWConfig, Moments};
    use crate::params::Params;
    use crate::scalar::Real;
    use alloc::boxed::Box;
    use num_traits::ConstZero;

    impl<const I: usize, const H: usize, const O: usize, T: Real + ConstZero>
        Moments<Params<I, H, O, T>>
    {
        /// Zero moments, no step taken, as a constant.
        const ZERO: Self = Self {
            exp_avg: Params::ZERO,
            exp_avg_sq: Params::ZERO,
            max_exp_avg_sq: Params::ZERO,
            steps: 0,
        };
    }

    /// A configuration for the constants below, replaced by the caller's before the optimizer is
    /// returned: the boxed value must be a constant as a whole, or a release build assembles it on
    /// the stack before copying it into the box.
    const PLACEHOLDER: AdamConfig = AdamConfig {
        lr: 0.0,
        betas: (0.0, 0.0),
        eps: 1.0,
        weight_decay: 0.0,
        amsgrad: false,
    };

    /// As [`PLACEHOLDER`], for AdamW.
    const PLACEHOLDER_W: AdamWConfig = AdamWConfig {
        lr: 0.0,
        betas: (0.0, 0.0),
        eps: 1.0,
        weight_decay: 0.0,
        amsgrad: false,
    };

    impl<const I: usize, const H: usize, const O: usize, T: Real + ConstZero> Adam<Params<I, H, O, T>> {
        /// [`Adam::new`] in a `Box`, for a model too large to hold Adam's three parameter sets on
        /// the stack: built from a compile-time constant, with one stack copy of it in a debug
        /// build and none in a release build (see [`crate::boxed`]).
        ///
        /// # Panics
        ///
        /// As [`Adam::new`].
        pub fn boxed(config: AdamConfig) -> Box<Self> {
            config.validate();
            let mut adam = Box::new(
                const {
                    Self {
                        config: PLACEHOLDER,
                        moments: Moments::ZERO,
                    }
                },
            );
            adam.config = config;
            adam
        }
    }

    impl<const I: usize, const H: usize, const O: usize, T: Real + ConstZero>
        AdamW<Params<I, H, O, T>>
    {
        /// [`AdamW::new`] in a `Box` (see [`Adam::boxed`]).
        ///
        /// # Panics
        ///
        /// As [`AdamW::new`].
        pub fn boxed(config: AdamWConfig) -> Box<Self> {
            config.values().validate();
            let mut adamw = Box::new(
                const {
                    AdamW {
                        config: PLACEHOLDER_W,
                        moments: Moments::ZERO,
                    }
                },
            );
            adamw.config = config;
            adamw
        }
    }
}
