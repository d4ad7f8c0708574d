//! Initialization: drawing a model's parameters from a caller's random number generator.
//!
//! A [`Scheme`] says how to draw each of the five tensors; [`Rnn::init`] and [`Params::init`]
//! draw them. Each tensor has its own strategy type, so only what makes sense for its shape
//! compiles: [`Init`] for the rectangular `W_x` (`H × I`) and `W_y` (`O × H`),
//! [`RecurrentInit`] for the square `W_h` (which alone can be orthogonal or an identity), and
//! [`BiasInit`] for `b_h` and `b_y`.
//!
//! For a weight matrix `W` of `fan_out × fan_in` (it maps `fan_in` inputs to `fan_out` outputs,
//! `y = W x`):
//!
//! | strategy | distribution of each entry | variance |
//! |---|---|---|
//! | [`Init::GlorotUniform`] | `U(−a, a)`, `a = gain·√(6/(fan_in + fan_out))` | `gain²·2/(fan_in + fan_out)` |
//! | [`Init::GlorotNormal`] | `N(0, σ²)`, `σ = gain·√(2/(fan_in + fan_out))` | `gain²·2/(fan_in + fan_out)` |
//! | [`Init::Uniform`] | `U(−a, a)` | `a²/3` |
//! | [`Init::Normal`] | `N(0, σ²)` | `σ²` |
//! | [`Init::PyTorch`], [`BiasInit::PyTorch`] | `U(−k, k)`, `k = 1/√H` | `1/(3H)` |
//! | [`RecurrentInit::Orthogonal`] | `gain·Q`, `Q` Haar-distributed on the orthogonal group | `gain²/H` |
//! | [`RecurrentInit::Identity`] | `scale·I` (not random) | — |
//!
//! Glorot & Bengio (2010) chose the Glorot variance so that activations and gradients keep their
//! scale through a layer; the `gain` corrects for the activation (PyTorch's `calculate_gain`
//! gives `5/3` for tanh, `√2` for ReLU, `1` for the identity and sigmoid).
//!
//! **Orthogonal `W_h`** (Saxe et al., 2014): all singular values are `gain`, so with `gain = 1`
//! the linear part of the recurrence neither grows nor shrinks `h`. `Q` comes from the QR
//! decomposition `A = QR` of an `H × H` matrix `A` of independent `N(0, 1)` draws, computed by
//! Householder reflections on the stack (`2H²` scalars, no heap). QR is unique only up to the signs
//! of `R`'s diagonal; each column of `Q` is multiplied by the sign of `R_jj`, which makes `diag(R)`
//! positive and `Q` exactly Haar-distributed (Mezzadri, 2007: without the correction the
//! distribution depends on the QR routine's sign convention and is not Haar).
//!
//! **Scaled identity `W_h`** (Le, Jaitly & Hinton, 2015, "IRNN"): with [`Relu`](crate::Relu)
//! hidden units, `W_h = I` and `b_h = 0` make the recurrence copy `h` forward unchanged, which lets
//! gradients flow over long sequences; a scale below 1 makes the network forget, for tasks whose
//! dependencies are short.
//!
//! # Presets
//!
//! | preset | `W_x`, `W_y` | `W_h` | `b_h`, `b_y` |
//! |---|---|---|---|
//! | [`Scheme::keras`] | Glorot uniform (gain 1) | orthogonal (gain 1) | zeros |
//! | [`Scheme::pytorch`] | `U(−1/√H, 1/√H)` | `U(−1/√H, 1/√H)` | `U(−1/√H, 1/√H)` |
//! | [`Scheme::irnn`] | Glorot uniform (gain 1) | `scale·I` | zeros |
//!
//! `Scheme::keras` is Keras' `SimpleRNN` followed by a `Dense` layer, with their defaults.
//! `Scheme::pytorch` is PyTorch's `nn.RNN` followed by an `nn.Linear(H, O)`: `nn.RNN` draws every
//! parameter from `U(−1/√H, 1/√H)`, and `nn.Linear`'s default (`kaiming_uniform_` with `a = √5`
//! for the weight, `U(−1/√fan_in, 1/√fan_in)` for the bias) is the same distribution for
//! `fan_in = H`. (`nn.RNN` has two hidden biases, `b_ih + b_hh`; here the one `b_h` is a single
//! uniform draw.) To change one tensor, override a field:
//!
//! ```
//! use rand_pcg::Pcg64Mcg;
//! use static_rnn::init::{Init, Scheme};
//! use static_rnn::rand_core::SeedableRng;
//! use static_rnn::{Rnn, Tanh, Softmax};
//!
//! type Model = Rnn<4, 16, 3, Tanh, Softmax, f64>;
//! let scheme = Scheme {
//!     w_x: Init::GlorotNormal { gain: 5.0 / 3.0 }, // tanh's gain
//!     ..Scheme::keras()
//! };
//! let rnn = Model::init(&mut Pcg64Mcg::seed_from_u64(42), scheme);
//!
//! // Orthogonal W_h: W_hᵀ W_h = I.
//! let gram = rnn.params.w_h.transpose() * rnn.params.w_h;
//! assert!((gram - nalgebra::SMatrix::<f64, 16, 16>::identity()).amax() < 1e-12);
//! assert_eq!(rnn.params.b_h, nalgebra::SVector::<f64, 16>::zeros());
//!
//! // The same seed gives the same model, bit for bit.
//! assert_eq!(rnn, Model::init(&mut Pcg64Mcg::seed_from_u64(42), scheme));
//! ```
//!
//! # Determinism
//!
//! A model is a function of the generator's state and the scheme only. The tensors are drawn in
//! the order `W_x`, `W_h`, `b_h`, `W_y`, `b_y`, each in nalgebra's column-major order; `Zeros` and
//! `Identity` draw nothing. Every random scalar, with the bound or standard deviation that scales
//! it, is computed in `f64` and rounded once to `T` ([`random`]). So with the same
//! seed, and a scheme whose values are the same in both precisions (every preset), an `f32` model is
//! its `f64` twin rounded to nearest — except an orthogonal `W_h`, whose QR is computed in `T`.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::model::Rnn;
use crate::params::Params;
use crate::random;
use crate::scalar::{self, Real};
use nalgebra::{ComplexField, SMatrix, SVector};
use rand_core::Rng;

/// How to draw a rectangular weight matrix (`W_x` or `W_y`); see the [module table](self).
///
/// For a matrix of `fan_out × fan_in` (`ROWS × COLS`), the Glorot strategies use
/// `fan_in = COLS` and `fan_out = ROWS`: `fan_in = I`, `fan_out = H` for `W_x`, and
/// `fan_in = H`, `fan_out = O` for `W_y`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init<T> {
    /// Every entry `0`.
    Zeros,
    /// `U(−a, a)` with `a = bound`.
    Uniform {
        /// The half-width `a` of the interval.
        bound: T,
    },
    /// `N(0, σ²)` with `σ = std`.
    Normal {
        /// The standard deviation `σ`.
        std: T,
    },
    /// Glorot (Xavier) uniform: `U(−a, a)`, `a = gain·√(6/(fan_in + fan_out))`.
    GlorotUniform {
        /// The gain for the activation (`1` for identity and sigmoid, `5/3` for tanh, `√2` for ReLU).
        gain: T,
    },
    /// Glorot (Xavier) normal: `N(0, σ²)`, `σ = gain·√(2/(fan_in + fan_out))`.
    GlorotNormal {
        /// The gain for the activation (`1` for identity and sigmoid, `5/3` for tanh, `√2` for ReLU).
        gain: T,
    },
    /// PyTorch's `nn.RNN` default: `U(−k, k)`, `k = 1/√H` with `H` the model's hidden size
    /// (whatever the matrix's own fans).
    PyTorch,
}

/// How to draw the square recurrent matrix `W_h` (`H × H`); see the [module table](self).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RecurrentInit<T> {
    /// `gain·Q` with `Q` Haar-distributed on the orthogonal group: `W_hᵀ W_h = gain²·I`.
    Orthogonal {
        /// The common singular value `gain` (`1` keeps `‖W_h h‖ = ‖h‖`).
        gain: T,
    },
    /// `scale·I`, as the IRNN of Le et al. (2015) (`scale = 1`, or less to forget faster).
    Identity {
        /// The diagonal value.
        scale: T,
    },
    /// Any rectangular strategy, with `fan_in = fan_out = H`.
    Matrix(Init<T>),
}

/// How to draw a bias vector (`b_h` or `b_y`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BiasInit<T> {
    /// Every entry `0` (Keras' default, and the IRNN's).
    Zeros,
    /// `U(−a, a)` with `a = bound`.
    Uniform {
        /// The half-width `a` of the interval.
        bound: T,
    },
    /// PyTorch's default: `U(−k, k)`, `k = 1/√H` with `H` the model's hidden size.
    PyTorch,
}

/// How to draw every parameter of a model: one strategy per tensor.
///
/// Build one from a preset ([`keras`](Self::keras), [`pytorch`](Self::pytorch),
/// [`irnn`](Self::irnn)) and override fields with struct-update syntax; see the
/// [module documentation](self).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scheme<T> {
    /// For `W_x` (`H × I`).
    pub w_x: Init<T>,
    /// For `W_h` (`H × H`).
    pub w_h: RecurrentInit<T>,
    /// For `b_h` (`H`).
    pub b_h: BiasInit<T>,
    /// For `W_y` (`O × H`).
    pub w_y: Init<T>,
    /// For `b_y` (`O`).
    pub b_y: BiasInit<T>,
}

impl<T: Real> Scheme<T> {
    /// Keras' defaults (`SimpleRNN` + `Dense`): Glorot-uniform `W_x` and `W_y`, orthogonal
    /// `W_h`, zero biases; all gains `1`.
    pub fn keras() -> Self {
        Self {
            w_x: Init::GlorotUniform { gain: T::one() },
            w_h: RecurrentInit::Orthogonal { gain: T::one() },
            b_h: BiasInit::Zeros,
            w_y: Init::GlorotUniform { gain: T::one() },
            b_y: BiasInit::Zeros,
        }
    }

    /// PyTorch's defaults (`nn.RNN` + `nn.Linear(H, O)`): every parameter from
    /// `U(−1/√H, 1/√H)`.
    pub fn pytorch() -> Self {
        Self {
            w_x: Init::PyTorch,
            w_h: RecurrentInit::Matrix(Init::PyTorch),
            b_h: BiasInit::PyTorch,
            w_y: Init::PyTorch,
            b_y: BiasInit::PyTorch,
        }
    }

    /// The IRNN of Le, Jaitly & Hinton (2015), for [`Relu`](crate::Relu) hidden units:
    /// `W_h = scale·I`, zero biases, and Glorot-uniform `W_x` and `W_y` (gain `1`).
    ///
    /// The paper uses `scale = 1` for long-range tasks and a smaller scale for short ones.
    pub fn irnn(scale: T) -> Self {
        Self {
            w_x: Init::GlorotUniform { gain: T::one() },
            w_h: RecurrentInit::Identity { scale },
            b_h: BiasInit::Zeros,
            w_y: Init::GlorotUniform { gain: T::one() },
            b_y: BiasInit::Zeros,
        }
    }
}

/// `1/√H`, the half-width of PyTorch's default.
fn pytorch_bound(hidden: usize) -> f64 {
    1.0 / ComplexField::sqrt(hidden as f64)
}

/// The number of inputs plus outputs of a `fan_out × fan_in` matrix, as an `f64`.
fn fans(fan_in: usize, fan_out: usize) -> f64 {
    (fan_in + fan_out) as f64
}

impl<T: Real> Init<T> {
    /// Draws a `ROWS × COLS` matrix (`fan_out = ROWS`, `fan_in = COLS`) in column-major order;
    /// `hidden` is the model's `H`, used only by [`Init::PyTorch`].
    ///
    /// ```
    /// use rand_pcg::Pcg64Mcg;
    /// use static_rnn::init::Init;
    /// use static_rnn::rand_core::SeedableRng;
    ///
    /// let w = Init::GlorotUniform { gain: 1.0 }.sample::<8, 4, _>(&mut Pcg64Mcg::seed_from_u64(0), 8);
    /// let a = (6.0_f64 / (4.0 + 8.0)).sqrt();
    /// assert!(w.iter().all(|x: &f64| x.abs() <= a));
    /// ```
    pub fn sample<const ROWS: usize, const COLS: usize, R: Rng + ?Sized>(
        self,
        rng: &mut R,
        hidden: usize,
    ) -> SMatrix<T, ROWS, COLS> {
        let mut w = SMatrix::<T, ROWS, COLS>::zeros();
        self.sample_into(rng, &mut w, hidden);
        w
    }

    /// Draws into `w` in place, as [`sample`](Self::sample) would return it (the same draws, the
    /// same bits), with no matrix-sized temporary: for a matrix too large to build on the stack.
    ///
    /// ```
    /// use rand_pcg::Pcg64Mcg;
    /// use static_rnn::init::Init;
    /// use static_rnn::rand_core::SeedableRng;
    ///
    /// let mut w = nalgebra::SMatrix::<f64, 8, 4>::zeros();
    /// Init::GlorotNormal { gain: 1.0 }.sample_into(&mut Pcg64Mcg::seed_from_u64(3), &mut w, 8);
    /// let drawn = Init::GlorotNormal { gain: 1.0 }.sample::<8, 4, _>(&mut Pcg64Mcg::seed_from_u64(3), 8);
    /// assert_eq!(w, drawn);
    /// ```
    pub fn sample_into<const ROWS: usize, const COLS: usize, R: Rng + ?Sized>(
        self,
        rng: &mut R,
        w: &mut SMatrix<T, ROWS, COLS>,
        hidden: usize,
    ) {
        let out = w.as_mut_slice();
        match self {
            Init::Zeros => out.fill(T::zero()),
            Init::Uniform { bound } => random::fill_uniform(rng, out, scalar::to_f64(bound)),
            Init::Normal { std } => random::fill_normal(rng, out, scalar::to_f64(std)),
            Init::GlorotUniform { gain } => {
                let bound = scalar::to_f64(gain) * ComplexField::sqrt(6.0 / fans(COLS, ROWS));
                random::fill_uniform(rng, out, bound);
            }
            Init::GlorotNormal { gain } => {
                let std = scalar::to_f64(gain) * ComplexField::sqrt(2.0 / fans(COLS, ROWS));
                random::fill_normal(rng, out, std);
            }
            Init::PyTorch => random::fill_uniform(rng, out, pytorch_bound(hidden)),
        }
    }
}

impl<T: Real> RecurrentInit<T> {
    /// Draws an `H × H` recurrent matrix.
    ///
    /// ```
    /// use rand_pcg::Pcg64Mcg;
    /// use static_rnn::init::RecurrentInit;
    /// use static_rnn::rand_core::SeedableRng;
    ///
    /// let q = RecurrentInit::Orthogonal { gain: 1.0 }.sample::<5, _>(&mut Pcg64Mcg::seed_from_u64(0));
    /// let gram: nalgebra::SMatrix<f64, 5, 5> = q.transpose() * q;
    /// assert!((gram - nalgebra::SMatrix::identity()).amax() < 1e-14);
    /// ```
    pub fn sample<const H: usize, R: Rng + ?Sized>(self, rng: &mut R) -> SMatrix<T, H, H> {
        let mut w = SMatrix::<T, H, H>::zeros();
        self.sample_into(rng, &mut w);
        w
    }

    /// Draws into `w` in place, as [`sample`](Self::sample) would return it (the same bits).
    /// `Identity` and `Matrix` need no temporary; `Orthogonal` computes its QR factorization on the
    /// stack (two `H × H` matrices of `T`) and copies `Q` in.
    pub fn sample_into<const H: usize, R: Rng + ?Sized>(
        self,
        rng: &mut R,
        w: &mut SMatrix<T, H, H>,
    ) {
        match self {
            RecurrentInit::Orthogonal { gain } => orthogonal_into(rng, w, gain),
            RecurrentInit::Identity { scale } => {
                // `I · scale`, entry by entry (so `scale < 0` gives `−0.0` off the diagonal, as
                // the product does).
                for (j, column) in w.column_iter_mut().enumerate() {
                    for (i, entry) in column.into_iter().enumerate() {
                        let identity = if i == j { T::one() } else { T::zero() };
                        *entry = identity * scale;
                    }
                }
            }
            RecurrentInit::Matrix(init) => init.sample_into(rng, w, H),
        }
    }
}

impl<T: Real> BiasInit<T> {
    /// Draws a bias of `N` entries; `hidden` is the model's `H`, used only by
    /// [`BiasInit::PyTorch`].
    pub fn sample<const N: usize, R: Rng + ?Sized>(
        self,
        rng: &mut R,
        hidden: usize,
    ) -> SVector<T, N> {
        let mut b = SVector::<T, N>::zeros();
        self.sample_into(rng, &mut b, hidden);
        b
    }

    /// Draws into `b` in place, as [`sample`](Self::sample) would return it (the same bits).
    pub fn sample_into<const N: usize, R: Rng + ?Sized>(
        self,
        rng: &mut R,
        b: &mut SVector<T, N>,
        hidden: usize,
    ) {
        match self {
            BiasInit::Zeros => b.fill(T::zero()),
            BiasInit::Uniform { bound } => {
                random::fill_uniform(rng, b.as_mut_slice(), scalar::to_f64(bound))
            }
            BiasInit::PyTorch => random::fill_uniform(rng, b.as_mut_slice(), pytorch_bound(hidden)),
        }
    }
}

/// `w ← gain·Q`, `Q` from [`orthogonal`]. Never inlined, so that the QR's two `H × H` matrices
/// are in this function's stack frame only, not in the frame of every caller of
/// [`RecurrentInit::sample_into`] whatever strategy it picks.
#[inline(never)]
fn orthogonal_into<T: Real, const H: usize, R: Rng + ?Sized>(
    rng: &mut R,
    w: &mut SMatrix<T, H, H>,
    gain: T,
) {
    *w = orthogonal(rng) * gain;
}

/// A Haar-distributed orthogonal `H × H` matrix: the `Q` factor of a matrix of `N(0, 1)` draws.
fn orthogonal<T: Real, const H: usize, R: Rng + ?Sized>(rng: &mut R) -> SMatrix<T, H, H> {
    let mut a = SMatrix::<T, H, H>::zeros();
    random::fill_normal(rng, a.as_mut_slice(), 1.0);
    positive_qr_factor(a)
}

/// The `Q` of the QR decomposition `A = QR` whose `R` has a non-negative diagonal, by Householder
/// reflections on the stack.
///
/// Step `k` reflects `x = A[k.., k]` onto `α e₁`, `α = −sign(x₁)‖x‖` (the sign that avoids
/// cancellation in `v = x − α e₁`), applying `P_k = I − 2 v vᵀ / (vᵀv)` to the trailing columns of
/// `A` and accumulating `Q ← Q P_k`; then `R_kk = α`. Flipping column `k` of `Q` when `α < 0`
/// turns `A = QR` into `A = (QD)(DR)` with `D = diag(sign R_kk)`, the unique factorization with a
/// positive diagonal when `A` is invertible. (nalgebra's `qr()` needs `Const<H>: DimMin<Const<H>>`,
/// which nalgebra provides for `H ≤ 127` only; the unit tests check this one against it.)
fn positive_qr_factor<T: Real, const H: usize>(mut a: SMatrix<T, H, H>) -> SMatrix<T, H, H> {
    let two = T::one() + T::one();
    let mut q = SMatrix::<T, H, H>::identity();
    let mut v = SVector::<T, H>::zeros();
    let mut qv = SVector::<T, H>::zeros();
    for k in 0..H {
        let norm = a.view_range(k.., k).norm();
        if norm == T::zero() {
            continue; // the column is already reduced and R_kk = 0: no reflection
        }
        let alpha = if a[(k, k)] > T::zero() { -norm } else { norm };
        let mut v_k = v.rows_range_mut(k..);
        v_k.copy_from(&a.view_range(k.., k));
        v_k[0] -= alpha;
        let scale = two / v_k.norm_squared();
        let v_k = v.rows_range(k..);
        // A[k.., k..] ← P_k A[k.., k..], one column at a time: a_j ← a_j − (2 vᵀa_j / vᵀv) v.
        for j in k..H {
            let mut a_j = a.view_range_mut(k.., j);
            let projection = scale * v_k.dot(&a_j);
            a_j.axpy(-projection, &v_k, T::one());
        }
        // Q[.., k..] ← Q[.., k..] P_k = Q[.., k..] − (2 / vᵀv) (Q[.., k..] v) vᵀ.
        qv.gemv(T::one(), &q.columns_range(k..), &v_k, T::zero());
        q.columns_range_mut(k..).ger(-scale, &qv, &v_k, T::one());
        if alpha < T::zero() {
            q.column_mut(k).neg_mut();
        }
    }
    q
}

impl<const I: usize, const H: usize, const O: usize, T: Real> Params<I, H, O, T> {
    /// Parameters drawn from `rng` by `scheme`, in the order `W_x`, `W_h`, `b_h`, `W_y`, `b_y`
    /// (see the [`init`](crate::init) module).
    ///
    /// ```
    /// use rand_pcg::Pcg64Mcg;
    /// use static_rnn::init::Scheme;
    /// use static_rnn::rand_core::SeedableRng;
    /// use static_rnn::Params;
    ///
    /// let p = Params::<2, 4, 1, f32>::init(&mut Pcg64Mcg::seed_from_u64(1), Scheme::pytorch());
    /// assert!(p.w_h.iter().all(|w| w.abs() <= 0.5)); // 1/√4
    /// ```
    pub fn init<R: Rng + ?Sized>(rng: &mut R, scheme: Scheme<T>) -> Self {
        let mut params = Self::zeros();
        params.init_in_place(rng, scheme);
        params
    }

    /// Draws every parameter from `rng` by `scheme`, overwriting `self`: [`init`](Self::init)
    /// without building the parameters on the stack, for a model that lives on the heap (see
    /// [`Rnn::boxed_init`](crate::Rnn::boxed_init)). The same draws as `init`, bit for bit.
    ///
    /// ```
    /// use rand_pcg::Pcg64Mcg;
    /// use static_rnn::init::Scheme;
    /// use static_rnn::rand_core::SeedableRng;
    /// use static_rnn::Params;
    ///
    /// let mut p = Params::<2, 4, 1, f32>::zeros();
    /// p.init_in_place(&mut Pcg64Mcg::seed_from_u64(1), Scheme::keras());
    /// assert_eq!(p, Params::init(&mut Pcg64Mcg::seed_from_u64(1), Scheme::keras()));
    /// ```
    pub fn init_in_place<R: Rng + ?Sized>(&mut self, rng: &mut R, scheme: Scheme<T>) {
        scheme.w_x.sample_into(rng, &mut self.w_x, H);
        scheme.w_h.sample_into(rng, &mut self.w_h);
        scheme.b_h.sample_into(rng, &mut self.b_h, H);
        scheme.w_y.sample_into(rng, &mut self.w_y, H);
        scheme.b_y.sample_into(rng, &mut self.b_y, H);
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// A model whose parameters are drawn from `rng` by `scheme` ([`Params::init`]).
    ///
    /// ```
    /// use rand_pcg::Pcg64Mcg;
    /// use static_rnn::init::Scheme;
    /// use static_rnn::rand_core::SeedableRng;
    /// use static_rnn::{Relu, Identity, Rnn};
    ///
    /// let mut rng = Pcg64Mcg::seed_from_u64(2015);
    /// let irnn = Rnn::<2, 8, 1, Relu, Identity, f32>::init(&mut rng, Scheme::irnn(1.0));
    /// assert_eq!(irnn.params.w_h, nalgebra::SMatrix::<f32, 8, 8>::identity());
    /// ```
    pub fn init<R: Rng + ?Sized>(rng: &mut R, scheme: Scheme<T>) -> Self {
        Self::from_params(Params::init(rng, scheme))
    }
}

#[cfg(test)]
mod tests {
    //! The Householder factorization against its definition and against nalgebra's `qr()`.

    use super::positive_qr_factor;
    use crate::random;
    use nalgebra::SMatrix;
    use rand_core::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn gaussian<const H: usize>(seed: u64) -> SMatrix<f64, H, H> {
        let mut a = SMatrix::<f64, H, H>::zeros();
        random::fill_normal(&mut Pcg64Mcg::seed_from_u64(seed), a.as_mut_slice(), 1.0);
        a
    }

    /// `Q` is orthogonal and `R = QᵀA` is upper triangular with a positive diagonal: the
    /// definition of the factor, checked to the backward-error bound of Householder QR,
    /// `c·H·ε·‖A‖` with `c = 10`.
    fn check_definition<const H: usize>(seed: u64) {
        let a = gaussian::<H>(seed);
        let q = positive_qr_factor(a);
        let eps = f64::EPSILON;
        let orthogonality = (q.transpose() * q - SMatrix::<f64, H, H>::identity()).amax();
        assert!(
            orthogonality <= 10.0 * H as f64 * eps,
            "H = {H}: ‖QᵀQ − I‖ = {orthogonality:e}"
        );
        let r = q.transpose() * a;
        let tolerance = 10.0 * H as f64 * eps * a.norm();
        for j in 0..H {
            assert!(r[(j, j)] > 0.0, "H = {H}: R[{j}, {j}] = {}", r[(j, j)]);
            for i in j + 1..H {
                assert!(
                    r[(i, j)].abs() <= tolerance,
                    "H = {H}: R[{i}, {j}] = {:e}",
                    r[(i, j)]
                );
            }
        }
    }

    #[test]
    fn factor_is_orthogonal_with_triangular_positive_r() {
        check_definition::<1>(1);
        check_definition::<2>(2);
        check_definition::<7>(3);
        check_definition::<32>(4);
        check_definition::<64>(5);
    }

    /// The QR with a positive diagonal is unique for an invertible `A`, so nalgebra's `Q`, its
    /// columns flipped to make `diag(R)` positive, is the same matrix up to rounding; a
    /// perturbation of `A` of `ε‖A‖` moves `Q` by at most about `κ(A)·ε`, hence the tolerance
    /// `10·H·κ(A)·ε`. (A macro: nalgebra's `qr()` and SVD need a concrete `H`.)
    macro_rules! check_against_nalgebra {
        ($h:literal, $seed:literal) => {{
            let a = gaussian::<$h>($seed);
            let mut expected = a.qr().q();
            for j in 0..$h {
                if expected.column(j).dot(&a.column(j)) < 0.0 {
                    expected.column_mut(j).neg_mut();
                }
            }
            let singular_values = a.singular_values();
            let condition = singular_values.max() / singular_values.min();
            let difference = (positive_qr_factor(a) - expected).amax();
            let tolerance = 10.0 * $h as f64 * condition * f64::EPSILON;
            assert!(
                difference <= tolerance,
                "H = {}: {difference:e} > {tolerance:e}",
                $h
            );
        }};
    }

    #[test]
    fn factor_equals_nalgebras_qr_with_signs_corrected() {
        check_against_nalgebra!(1, 10);
        check_against_nalgebra!(3, 11);
        check_against_nalgebra!(16, 12);
        check_against_nalgebra!(48, 13);
    }
}
