//! Activations: the hidden non-linearity `f` and the output non-linearity `g`.
//!
//! Each activation is a zero-sized type; the model names it as a type parameter, so swapping
//! `Tanh` for `Relu` is a change of type and costs nothing at run time. Each one's derivative is
//! written right beside its function.
//!
//! | type | hidden `f` | output `g` | derivative (Jacobian) |
//! |---|---|---|---|
//! | [`Tanh`] | `tanh z` | — | `f′(z) = 1 − h²`, from `h = tanh z` |
//! | [`FastTanh`] | `tanh z`, approximated (relative error ≤ 4.7e−7 in `f32`) | — | `f′(z) = 1 − h²` |
//! | [`Relu`] | `max(z, 0)` | — | `f′(z) = 1` if `z > 0`, else `0` (so `ReLU′(0) = 0`) |
//! | [`Sigmoid`] | `σ(z)` | `σ(a)` | `σ′ = h (1 − h)`, from `h = σ(z)`: [`Diagonal`] |
//! | [`Identity`] | `z` | `a` | `1`: [`Diagonal`] of ones |
//! | [`Softmax`] | — | `exp(a_k) / Σ_j exp(a_j)` | `diag(ŷ) − ŷ ŷᵀ`: [`SoftmaxJacobian`] |
//! | [`FastSoftmax`] | — | the same, each `exp` approximated (relative error ≤ 8.4e−8 in `f32`) | `diag(ŷ) − ŷ ŷᵀ`: [`SoftmaxJacobian`] |
//!
//! The hidden activation must act element-wise, because BPTT applies its derivative as a
//! Hadamard product. Softmax couples its components, so it is only an output activation, and using
//! it as the hidden one does not compile:
//!
//! ```compile_fail
//! use static_rnn::{Rnn, Softmax};
//! let _ = Rnn::<2, 3, 2, Softmax, Softmax, f64>::zeros(); // Softmax: HiddenActivation is not met
//! ```
//!
//! ```
//! use static_rnn::{Rnn, Tanh, Softmax};
//! let _ = Rnn::<2, 3, 2, Tanh, Softmax, f64>::zeros();
//! ```
//!
//! To add an activation, implement [`HiddenActivation`] (two scalar functions) or
//! [`OutputActivation`] (a vector function and its Jacobian) for a type of your own; a softmax
//! computed another way implements [`SoftmaxHead`] (the function alone), as [`Softmax`] and
//! [`FastSoftmax`] do, and gets its Jacobian and the fused cross-entropy from it.

use crate::jacobian::{Diagonal, SoftmaxJacobian, VectorJacobianProduct};
use crate::numerics;
use crate::scalar::Real;
use core::fmt::Debug;
use nalgebra::SVector;

/// A hidden activation `f`, applied element-wise: `h_t = f(z_t)`.
///
/// Its Jacobian is diagonal, `∂h_t/∂z_t = diag(f′(z_t))`, returned as a [`Diagonal`] that can only
/// be applied element-wise: `∂L/∂z_t = f′(z_t) ⊙ ∂L/∂h_t`.
///
/// Implementors give the scalar function and its derivative; the vector forms follow.
///
/// ```
/// use static_rnn::{HiddenActivation, SVector};
///
/// /// The "leaky" ReLU: `f(z) = max(z, z/100)`.
/// #[derive(Clone, Copy, Debug, Default)]
/// struct LeakyRelu;
///
/// impl HiddenActivation<f64> for LeakyRelu {
///     fn activate(z: f64) -> f64 {
///         if z > 0.0 { z } else { 0.01 * z }
///     }
///     fn derivative(z: f64, _h: f64) -> f64 {
///         if z > 0.0 { 1.0 } else { 0.01 }
///     }
/// }
///
/// let z = SVector::<f64, 2>::new(-2.0, 3.0);
/// assert_eq!(LeakyRelu::forward(&z), SVector::from([-0.02, 3.0]));
/// ```
pub trait HiddenActivation<T: Real>: Copy + Default + Debug + 'static {
    /// `f(z)` for one component.
    fn activate(z: T) -> T;

    /// `f′(z)` for one component, given both `z` and `h = f(z)`: tanh and sigmoid read it off `h`
    /// without a second transcendental call.
    fn derivative(z: T, h: T) -> T;

    /// `h = f(z)`, component by component.
    #[inline(always)]
    fn forward<const N: usize>(z: &SVector<T, N>) -> SVector<T, N> {
        z.map(Self::activate)
    }

    /// The Jacobian `∂h/∂z = diag(f′(z))` at `z`, where `h = f(z)`.
    #[inline(always)]
    fn jacobian<const N: usize>(z: &SVector<T, N>, h: &SVector<T, N>) -> Diagonal<T, N> {
        Diagonal::new(z.zip_map(h, Self::derivative))
    }
}

/// An output activation `g`: `ŷ_t = g(a_t)`, with its Jacobian `J_g(a_t) = ∂ŷ_t/∂a_t`.
///
/// The Jacobian is an associated type, so each activation applies it in the cheapest correct way:
/// element-wise for [`Sigmoid`] and [`Identity`] ([`Diagonal`]), `O(N)` for [`Softmax`]
/// ([`SoftmaxJacobian`]).
pub trait OutputActivation<T: Real>: Copy + Default + Debug + 'static {
    /// The Jacobian `∂ŷ/∂a` at one point.
    type Jacobian<const N: usize>: VectorJacobianProduct<T, N>;

    /// `ŷ = g(a)`.
    fn forward<const N: usize>(a: &SVector<T, N>) -> SVector<T, N>;

    /// `ŷ_k = g(a_k)` for `K` vectors at once, each bit for bit what [`forward`](Self::forward)
    /// gives it (the forward pass relies on that: [`Rnn::record_step`](crate::Rnn::record_step)
    /// records what [`Rnn::forward_into`](crate::Rnn::forward_into) does). By default one
    /// [`forward`](Self::forward) after the other; an activation that runs faster across vectors
    /// than within one ([`FastSoftmax`]) computes them together.
    #[inline(always)]
    fn forward_columns<const N: usize, const K: usize>(
        a: &[SVector<T, N>; K],
    ) -> [SVector<T, N>; K] {
        // A loop, not a helper taking `Self::forward` as `impl Fn`: called through the `Fn`
        // trait it was not inlined into the widest copy of the forward pass.
        let mut y_hat = [SVector::zeros(); K];
        for (y_hat_k, a_k) in y_hat.iter_mut().zip(a) {
            *y_hat_k = Self::forward(a_k);
        }
        y_hat
    }

    /// `J_g(a) = ∂ŷ/∂a` at `a`, where `y_hat = g(a)`.
    fn jacobian<const N: usize>(a: &SVector<T, N>, y_hat: &SVector<T, N>) -> Self::Jacobian<N>;
}

/// The hyperbolic tangent, `f(z) = tanh z`, with `f′(z) = 1 − tanh² z = 1 − h²`.
///
/// ```
/// use static_rnn::{HiddenActivation, Tanh};
/// let h = Tanh::activate(0.5_f64);
/// assert_eq!(Tanh::derivative(0.5, h), 1.0 - h * h);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tanh;

impl<T: Real> HiddenActivation<T> for Tanh {
    #[inline(always)]
    fn activate(z: T) -> T {
        z.tanh()
    }

    #[inline(always)]
    fn derivative(_z: T, h: T) -> T {
        T::one() - h * h
    }
}

/// `tanh` by a vectorizable rational approximation ([`numerics::fast_tanh`]: relative error
/// ≤ 4.7e−7, at most 8 ulp, in `f32`), with `f′(z) = 1 − h²`: the exact [`Tanh`]'s derivative at
/// the computed `h`.
///
/// [`Tanh`] calls the math library once per hidden unit and step; `FastTanh` computes all of
/// them with vector instructions (see `BENCHMARKS.md` for what that gains). It is for `f32`: the approximation carries an `f32`-sized
/// error into `f64` too (≤ 2.7e−7 absolute), so check gradients and compare with references
/// using [`Tanh`].
///
/// BPTT uses `1 − h²`, the derivative of the function being approximated; the derivative of the
/// approximation itself differs from it by at most 1e−6 away from the two switching points
/// (`|z| = 0.0004` and the clamp at `|z| ≈ 7.9`, beyond which it is 0), so gradients computed
/// with `FastTanh` are those of the model within that much.
///
/// ```
/// use static_rnn::{FastTanh, HiddenActivation, Rnn, SVector, Tanh};
/// let z = SVector::<f32, 4>::new(-3.0, -0.1, 0.2, 5.0);
/// let fast = FastTanh::forward(&z);
/// let exact = Tanh::forward(&z);
/// assert!((fast - exact).amax() <= 4.7e-7);
/// let _model = Rnn::<16, 32, 8, FastTanh>::zeros();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FastTanh;

impl<T: Real> HiddenActivation<T> for FastTanh {
    #[inline(always)]
    fn activate(z: T) -> T {
        numerics::fast_tanh(z)
    }

    #[inline(always)]
    fn derivative(_z: T, h: T) -> T {
        T::one() - h * h
    }
}

/// The rectified linear unit, `f(z) = max(z, 0)`, with `f′(z) = 1` for `z > 0` and `0` otherwise
/// (the convention `ReLU′(0) = 0`, as in PyTorch and JAX).
///
/// ```
/// use static_rnn::{HiddenActivation, Relu};
/// assert_eq!(Relu::activate(-2.0_f32), 0.0);
/// assert_eq!(Relu::derivative(0.0_f32, 0.0), 0.0);
/// assert_eq!(Relu::derivative(3.0_f32, 3.0), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relu;

impl<T: Real> HiddenActivation<T> for Relu {
    #[inline(always)]
    fn activate(z: T) -> T {
        if z > T::zero() { z } else { T::zero() }
    }

    #[inline(always)]
    fn derivative(z: T, _h: T) -> T {
        if z > T::zero() { T::one() } else { T::zero() }
    }
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{−x})`, with `σ′(x) = σ(x) (1 − σ(x))`.
///
/// As a hidden activation `h = σ(z)` and `f′(z) = h (1 − h)`; as an output activation
/// `ŷ = σ(a)` component by component, with the diagonal Jacobian `diag(ŷ ⊙ (1 − ŷ))`. It pairs
/// with [`BinaryCrossEntropy`](crate::BinaryCrossEntropy).
///
/// ```
/// use static_rnn::{HiddenActivation, Sigmoid};
/// let h = Sigmoid::activate(0.0_f64);
/// assert_eq!(h, 0.5);
/// assert_eq!(Sigmoid::derivative(0.0, h), 0.25);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sigmoid;

impl<T: Real> HiddenActivation<T> for Sigmoid {
    #[inline(always)]
    fn activate(z: T) -> T {
        numerics::sigmoid(z)
    }

    #[inline(always)]
    fn derivative(_z: T, h: T) -> T {
        h * (T::one() - h)
    }
}

impl<T: Real> OutputActivation<T> for Sigmoid {
    type Jacobian<const N: usize> = Diagonal<T, N>;

    #[inline(always)]
    fn forward<const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
        <Self as HiddenActivation<T>>::forward(a)
    }

    #[inline(always)]
    fn jacobian<const N: usize>(a: &SVector<T, N>, y_hat: &SVector<T, N>) -> Diagonal<T, N> {
        <Self as HiddenActivation<T>>::jacobian(a, y_hat)
    }
}

/// The identity, `f(z) = z`, with `f′(z) = 1`.
///
/// As a hidden activation it makes the network a linear recurrence; as an output activation it is
/// the regression head, paired with [`Mse`](crate::Mse).
///
/// ```
/// use static_rnn::{HiddenActivation, Identity};
/// assert_eq!(Identity::activate(-7.5_f64), -7.5);
/// assert_eq!(Identity::derivative(-7.5_f64, -7.5), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Identity;

impl<T: Real> HiddenActivation<T> for Identity {
    #[inline(always)]
    fn activate(z: T) -> T {
        z
    }

    #[inline(always)]
    fn derivative(_z: T, _h: T) -> T {
        T::one()
    }
}

impl<T: Real> OutputActivation<T> for Identity {
    type Jacobian<const N: usize> = Diagonal<T, N>;

    #[inline(always)]
    fn forward<const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
        *a
    }

    #[inline(always)]
    fn jacobian<const N: usize>(_a: &SVector<T, N>, _y_hat: &SVector<T, N>) -> Diagonal<T, N> {
        Diagonal::new(SVector::repeat(T::one()))
    }
}

/// Softmax, `ŷ_k = exp(a_k) / Σ_j exp(a_j)`, with the Jacobian `∂ŷ/∂a = diag(ŷ) − ŷ ŷᵀ`.
///
/// Computed as `exp(a_k − m) / Σ_j exp(a_j − m)` with `m = max_j a_j`, finite for every finite
/// `a`. Its Jacobian is a [`SoftmaxJacobian`], applied in `O(N)`. It is an output activation only
/// and pairs with [`CrossEntropy`](crate::CrossEntropy).
///
/// ```
/// use static_rnn::{OutputActivation, Softmax, SVector};
/// let y_hat = Softmax::forward(&SVector::<f64, 2>::new(0.0, 3f64.ln()));
/// assert!((y_hat - SVector::from([0.25, 0.75])).norm() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Softmax;

impl SoftmaxHead for Softmax {
    #[inline(always)]
    fn softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
        numerics::softmax(a)
    }
}

/// [`Softmax`] with every exponential computed by vector instructions
/// ([`numerics::fast_softmax`]: each probability within about `4e−7` of [`Softmax`]'s, relative,
/// in `f32`), and the same Jacobian `diag(ŷ) − ŷ ŷᵀ` at the computed `ŷ`.
///
/// [`Softmax`] calls the math library's `exp` once per output and step; `FastSoftmax` computes
/// them all with vector instructions ([`numerics::fast_exp`]), as [`FastTanh`] does `tanh` (see
/// `BENCHMARKS.md` for what that gains). It is for `f32`; in `f64` it carries an `f32`-sized
/// error, so check gradients and compare with references using [`Softmax`]. It pairs with
/// [`CrossEntropy`](crate::CrossEntropy) on the same fused path as [`Softmax`] (`δa = ŷ − y`,
/// the loss from `lse(a)` read off the computed `ŷ`, its logarithm by [`numerics::fast_ln`],
/// within 1 ulp), so the gradient BPTT computes is the exact gradient at the computed `ŷ`.
///
/// ```
/// use static_rnn::{FastSoftmax, FastTanh, OutputActivation, Rnn, Softmax, SVector};
/// let a = SVector::<f32, 3>::new(-1.0, 0.5, 2.0);
/// let (fast, exact) = (FastSoftmax::forward(&a), Softmax::forward(&a));
/// assert!(fast.iter().zip(exact.iter()).all(|(f, e)| (f - e).abs() <= 4e-7 * e));
/// let _model = Rnn::<16, 32, 8, FastTanh, FastSoftmax>::zeros();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FastSoftmax;

impl SoftmaxHead for FastSoftmax {
    #[inline(always)]
    fn softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
        numerics::fast_softmax(a)
    }

    #[inline(always)]
    fn softmax_columns<T: Real, const N: usize, const K: usize>(
        a: &[SVector<T, N>; K],
    ) -> [SVector<T, N>; K] {
        numerics::fast_softmax_columns(a)
    }

    const LN_IN_COLUMNS: bool = true;

    #[inline(always)]
    fn ln_columns<T: Real, const K: usize>(p: [T; K]) -> [T; K] {
        let mut ln = p;
        for x in &mut ln {
            *x = numerics::fast_ln(*x);
        }
        ln
    }
}

/// A softmax output activation, `ŷ_k = exp(a_k) / Σ_j exp(a_j)`, whatever computes its
/// exponentials: [`Softmax`] (the math library's `exp`), [`FastSoftmax`] ([`numerics::fast_exp`]).
///
/// A softmax head is an [`OutputActivation`] whose Jacobian is `diag(ŷ) − ŷ ŷᵀ` at the computed
/// `ŷ` ([`SoftmaxJacobian`]), and [`CrossEntropy`](crate::CrossEntropy) is its fused loss
/// (`δa = (Σ_k y_k) ŷ − y`, the loss from `lse(a) = max_k a_k − ln max_k ŷ_k`): both follow
/// from this trait, so each softmax states only how it computes `ŷ`. The contract is that
/// [`softmax`](Self::softmax) is a softmax, to within rounding: the fused loss reads `lse(a)`
/// off its largest probability.
///
/// ```
/// use static_rnn::{CrossEntropy, LossFor, OutputActivation, SoftmaxHead, SVector};
///
/// /// A softmax of one's own (this one calls the exact softmax).
/// #[derive(Clone, Copy, Debug, Default)]
/// struct MySoftmax;
///
/// impl SoftmaxHead for MySoftmax {
///     fn softmax<T: static_rnn::Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
///         static_rnn::numerics::softmax(a)
///     }
/// }
///
/// let a = SVector::<f64, 2>::new(0.0, 3f64.ln());
/// let y_hat = MySoftmax::forward(&a); // an OutputActivation
/// let y = SVector::from([0.0, 1.0]);
/// let (loss, delta_a) = <CrossEntropy as LossFor<MySoftmax, f64>>::loss_and_delta(&a, &y_hat, &y);
/// assert!((loss + 0.75f64.ln()).abs() < 1e-15); // −ln ŷ₂
/// assert_eq!(delta_a, y_hat - y);
/// ```
pub trait SoftmaxHead: Copy + Default + Debug + 'static {
    /// `ŷ = softmax(a)`.
    fn softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N>;

    /// [`softmax`](Self::softmax) of `K` vectors, each bit for bit
    /// ([`OutputActivation::forward_columns`]); by default one after the other.
    #[inline(always)]
    fn softmax_columns<T: Real, const N: usize, const K: usize>(
        a: &[SVector<T, N>; K],
    ) -> [SVector<T, N>; K] {
        // A loop, as `OutputActivation::forward_columns`'s.
        let mut y_hat = [SVector::zeros(); K];
        for (y_hat_k, a_k) in y_hat.iter_mut().zip(a) {
            *y_hat_k = Self::softmax(a_k);
        }
        y_hat
    }

    /// Whether [`ln_columns`](Self::ln_columns) computes its `K` logarithms together, so that
    /// BPTT gains by asking for those of 16 steps at once (`true` for [`FastSoftmax`]); when
    /// `false` (the default), it asks for each scored step's alone.
    const LN_IN_COLUMNS: bool = false;

    /// `ln p_k` of `K` probabilities, as the fused cross-entropy takes it of each step's largest
    /// probability (`lse(a) = max_k a_k − ln max_k ŷ_k`; BPTT asks for 16 steps at a time when
    /// [`LN_IN_COLUMNS`](Self::LN_IN_COLUMNS), the loss of one step for one): by default the
    /// math library's `ln`, one after the other; [`FastSoftmax`] takes [`numerics::fast_ln`],
    /// across the `K` in vector registers. A column's result must not depend on `K`.
    #[inline(always)]
    fn ln_columns<T: Real, const K: usize>(p: [T; K]) -> [T; K] {
        let mut ln = p;
        for x in &mut ln {
            *x = x.ln();
        }
        ln
    }
}

impl<T: Real, S: SoftmaxHead> OutputActivation<T> for S {
    type Jacobian<const N: usize> = SoftmaxJacobian<T, N>;

    #[inline(always)]
    fn forward<const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
        S::softmax(a)
    }

    #[inline(always)]
    fn forward_columns<const N: usize, const K: usize>(
        a: &[SVector<T, N>; K],
    ) -> [SVector<T, N>; K] {
        S::softmax_columns(a)
    }

    #[inline(always)]
    fn jacobian<const N: usize>(
        _a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
    ) -> SoftmaxJacobian<T, N> {
        SoftmaxJacobian::new(*y_hat)
    }
}
