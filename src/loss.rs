//! Losses `L_t(ŷ_t, y_t)`, and how each pairs with an output activation to give `∂L/∂a_t`.
//!
//! A [`Loss`] knows its value and its gradient `∂L_t/∂ŷ_t` in probability (output) space. BPTT
//! needs the gradient with respect to the logits `a_t`, `δa_t = ∂L_t/∂a_t`; [`LossFor<G>`] gives
//! it for a loss scored on the outputs of the activation `G`:
//!
//! - **the general path**, for any pair: `δa_t = J_g(a_t)ᵀ ∂L_t/∂ŷ_t`, through the
//!   activation's [`VectorJacobianProduct`] ([`general_loss_and_delta`]; the wrapper [`General`]
//!   forces it for any loss);
//! - **the fused path**, for the three canonical pairs, chosen at compile time by the pair's
//!   `LossFor` impl. The Jacobian and the loss gradient cancel to a simple difference, and the loss
//!   is computed from the logits with log-sum-exp or log-sigmoid, finite for logits of ±1000:
//!
//! | output `g` | loss | `L_t` from the logits | `δa_t = ∂L_t/∂a_t` |
//! |---|---|---|---|
//! | [`Softmax`] (and [`FastSoftmax`]) | [`CrossEntropy`] | `(Σ_k y_k) lse(a) − Σ_k y_k a_k` | `(Σ_k y_k) ŷ − y` (`ŷ − y` for a distribution `y`) |
//! | [`Sigmoid`] | [`BinaryCrossEntropy`] | `Σ_k softplus(a_k) − y_k a_k` | `ŷ − y` |
//! | [`Identity`] | [`Mse`] | `Σ_k (a_k − y_k)²` | `2 (ŷ − y)` |
//!
//! Losses are summed over components (and, in BPTT, over scored steps), never averaged.
//!
//! ## Targets and saturated outputs
//!
//! [`CrossEntropy`] expects `y_k ≥ 0` (a distribution, usually one-hot); [`BinaryCrossEntropy`]
//! expects `y_k ∈ [0, 1]`; [`Mse`] takes any real target. Other targets are computed by the same
//! formulas, without checks, and the loss is then not a meaningful one.
//!
//! In probability space a probability below the smallest positive normal number is raised to it
//! ([`floor_probability`]) before `ln p` or `y / p`. So for targets in the loss's domain `L_t` and
//! `∂L_t/∂ŷ_t` stay finite when an output saturates or leaves `(0, 1)` — finite, not accurate: a
//! general pair computes `1 − ŷ` by subtraction and loses the digits a saturated output has, which
//! the fused pairs do not. Finite is all the floor promises: `∂L_t/∂ŷ_t` can then be as large as
//! `1/p_min ≈ 4.5e307` (`f64`), and the parameter gradients BPTT builds from it (scaled by weights,
//! summed over steps) can overflow to `±∞`. That happens only outside the loss's domain (an
//! `Identity` output scored by cross-entropy going negative, say); such a gradient is refused by
//! every optimizer ([`NonFiniteGradient`](crate::NonFiniteGradient)) rather than applied.
//!
//! A term with a zero target weight (`y_k = 0` in cross-entropy) contributes exactly zero, as
//! `0 ln 0 = 0`. `NaN` in the input propagates to the output, with one exception that follows from
//! that convention: a probability-space cross-entropy term whose target weight is zero is zero
//! whatever `ŷ_k` is, `NaN` included (the fused softmax path takes the log-sum-exp over all logits,
//! so there a `NaN` logit always propagates).

use crate::activation::{FastSoftmax, Identity, OutputActivation, Sigmoid, Softmax, SoftmaxHead};
use crate::jacobian::VectorJacobianProduct;
use crate::numerics::{
    floor_probability, largest, log_sigmoid, log_sum_exp_given_ln_largest, sigmoid, softplus,
};
use crate::scalar::{Real, constant};
use core::fmt::Debug;
use core::marker::PhantomData;
use nalgebra::SVector;

/// A per-step loss `L_t(ŷ_t, y_t)` with its gradient `∂L_t/∂ŷ_t`, in output (probability) space.
pub trait Loss<T: Real>: Copy + Default + Debug + 'static {
    /// `L_t(ŷ, y)`.
    fn loss<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> T;

    /// `∂L_t/∂ŷ` at `ŷ`.
    fn gradient<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> SVector<T, N>;
}

/// A loss scored on the outputs of the activation `G`: the loss and `δa = ∂L_t/∂a` from the
/// logits `a` and outputs `ŷ = g(a)` of one step.
///
/// Every built-in (activation, loss) pair implements it: the canonical pairs by the fused path,
/// the others by [`general_loss_and_delta`]. For a pair of your own, implement it the same way,
/// or use [`General<L>`], which implements it for every output activation.
pub trait LossFor<G: OutputActivation<T>, T: Real>: Loss<T> {
    /// `(L_t, δa_t)` with `δa_t = ∂L_t/∂a_t`.
    fn loss_and_delta<const N: usize>(
        a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
    ) -> (T, SVector<T, N>);

    /// Whether [`step_terms`](Self::step_terms) gains from being asked for many steps at once.
    /// When `true`, BPTT asks for the terms of each group of 16 steps that holds a scored step and
    /// takes each step's loss by [`loss_and_delta_given`](Self::loss_and_delta_given); when
    /// `false` (the default), by [`loss_and_delta`](Self::loss_and_delta) at each scored step.
    /// Softmax + cross-entropy: the head's [`SoftmaxHead::LN_IN_COLUMNS`].
    const STEP_TERMS_TOGETHER: bool = false;

    /// A number per step that [`loss_and_delta_given`](Self::loss_and_delta_given) needs and
    /// that can be computed for `K` steps together, across them in vector registers, from their
    /// outputs `ŷ` alone: for softmax + cross-entropy `ln max_k ŷ_k`. By default nothing (zeros).
    #[inline(always)]
    fn step_terms<const N: usize, const K: usize>(y_hats: [&SVector<T, N>; K]) -> [T; K] {
        let _ = y_hats;
        [T::zero(); K]
    }

    /// [`loss_and_delta`](Self::loss_and_delta) given the step's term from
    /// [`step_terms`](Self::step_terms), the same numbers bit for bit; by default the term is
    /// not used.
    #[inline(always)]
    fn loss_and_delta_given<const N: usize>(
        a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
        term: T,
    ) -> (T, SVector<T, N>) {
        let _ = term;
        Self::loss_and_delta(a, y_hat, y)
    }
}

/// The general path: `L_t = L(ŷ, y)` and `δa = J_g(a)ᵀ ∂L_t/∂ŷ`.
///
/// ```
/// use static_rnn::{loss::general_loss_and_delta, Mse, Sigmoid, OutputActivation, SVector};
/// let a = SVector::<f64, 1>::new(0.0);
/// let y_hat = Sigmoid::forward(&a); // 0.5
/// let y = SVector::from([1.0]);
/// let (l, delta) = general_loss_and_delta::<Sigmoid, Mse, f64, 1>(&a, &y_hat, &y);
/// assert_eq!(l, 0.25);
/// assert_eq!(delta[0], 2.0 * (0.5 - 1.0) * 0.25); // ∂L/∂ŷ · σ′(0)
/// ```
#[inline]
pub fn general_loss_and_delta<G, L, T, const N: usize>(
    a: &SVector<T, N>,
    y_hat: &SVector<T, N>,
    y: &SVector<T, N>,
) -> (T, SVector<T, N>)
where
    G: OutputActivation<T>,
    L: Loss<T>,
    T: Real,
{
    let loss = L::loss(y_hat, y);
    let delta = G::jacobian(a, y_hat).vjp(&L::gradient(y_hat, y));
    (loss, delta)
}

/// Cross-entropy, `L_t = −Σ_k y_k ln ŷ_k`, with `∂L_t/∂ŷ_k = −y_k / ŷ_k`.
///
/// The canonical loss of a [`Softmax`] output, where it is computed from the logits
/// (`δa = ŷ − y` for a target distribution).
///
/// ```
/// use static_rnn::{CrossEntropy, Loss, SVector};
/// let y_hat = SVector::<f64, 2>::new(0.25, 0.75);
/// let y = SVector::from([0.0, 1.0]);
/// assert_eq!(CrossEntropy::loss(&y_hat, &y), -(0.75f64.ln()));
/// assert_eq!(CrossEntropy::gradient(&y_hat, &y), SVector::from([0.0, -1.0 / 0.75]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CrossEntropy;

impl<T: Real> Loss<T> for CrossEntropy {
    fn loss<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> T {
        y.zip_fold(y_hat, T::zero(), |sum, yk, pk| {
            if yk == T::zero() {
                sum
            } else {
                sum - yk * floor_probability(pk).ln()
            }
        })
    }

    fn gradient<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> SVector<T, N> {
        y.zip_map(y_hat, |yk, pk| {
            if yk == T::zero() {
                T::zero()
            } else {
                -yk / floor_probability(pk)
            }
        })
    }
}

/// Squared error summed over components, `L_t = Σ_k (ŷ_k − y_k)²`, with
/// `∂L_t/∂ŷ_t = 2 (ŷ_t − y_t)`.
///
/// The canonical loss of an [`Identity`] output (regression). It is a sum, not a mean.
///
/// ```
/// use static_rnn::{Loss, Mse, SVector};
/// let y_hat = SVector::<f64, 2>::new(1.0, 3.0);
/// let y = SVector::from([0.0, 1.0]);
/// assert_eq!(Mse::loss(&y_hat, &y), 5.0);
/// assert_eq!(Mse::gradient(&y_hat, &y), SVector::from([2.0, 4.0]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mse;

impl<T: Real> Loss<T> for Mse {
    fn loss<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> T {
        (y_hat - y).norm_squared()
    }

    fn gradient<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> SVector<T, N> {
        (y_hat - y) * constant::<T>(2.0)
    }
}

/// Binary cross-entropy, `L_t = −Σ_k [y_k ln ŷ_k + (1 − y_k) ln(1 − ŷ_k)]`, with
/// `∂L_t/∂ŷ_k = −y_k / ŷ_k + (1 − y_k) / (1 − ŷ_k)`.
///
/// The canonical loss of a [`Sigmoid`] output (independent yes/no outputs), where it is computed
/// from the logits with log-sigmoid (`δa = ŷ − y`).
///
/// ```
/// use static_rnn::{BinaryCrossEntropy, Loss, SVector};
/// let y_hat = SVector::<f64, 1>::new(0.8);
/// let y = SVector::from([1.0]);
/// assert_eq!(BinaryCrossEntropy::loss(&y_hat, &y), -(0.8f64.ln()));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BinaryCrossEntropy;

impl<T: Real> Loss<T> for BinaryCrossEntropy {
    fn loss<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> T {
        y.zip_fold(y_hat, T::zero(), |sum, yk, pk| {
            let not_yk = T::one() - yk;
            let mut term = T::zero();
            if yk != T::zero() {
                term += yk * floor_probability(pk).ln();
            }
            if not_yk != T::zero() {
                term += not_yk * floor_probability(T::one() - pk).ln();
            }
            sum - term
        })
    }

    fn gradient<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> SVector<T, N> {
        y.zip_map(y_hat, |yk, pk| {
            let not_yk = T::one() - yk;
            let mut g = T::zero();
            if yk != T::zero() {
                g -= yk / floor_probability(pk);
            }
            if not_yk != T::zero() {
                g += not_yk / floor_probability(T::one() - pk);
            }
            g
        })
    }
}

/// Forces the general path for the loss `L`: `δa = J_g(a)ᵀ ∂L/∂ŷ` for every output activation.
///
/// Use it for an output activation or loss of your own, or to compare a fused pair with its
/// general form:
///
/// ```
/// use static_rnn::{CrossEntropy, General, LossFor, OutputActivation, Softmax, SVector};
/// let a = SVector::<f64, 3>::new(0.5, -1.0, 2.0);
/// let y_hat = Softmax::forward(&a);
/// let y = SVector::from([0.0, 0.0, 1.0]);
/// let (fused_loss, fused) = <CrossEntropy as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &y);
/// let (general_loss, general) =
///     <General<CrossEntropy> as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &y);
/// assert!((fused_loss - general_loss).abs() < 1e-14);
/// assert!((fused - general).norm() < 1e-14);
/// ```
#[derive(Debug)]
pub struct General<L>(PhantomData<L>);

impl<L> Clone for General<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for General<L> {}

impl<L> Default for General<L> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T: Real, L: Loss<T>> Loss<T> for General<L> {
    #[inline]
    fn loss<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> T {
        L::loss(y_hat, y)
    }

    #[inline]
    fn gradient<const N: usize>(y_hat: &SVector<T, N>, y: &SVector<T, N>) -> SVector<T, N> {
        L::gradient(y_hat, y)
    }
}

impl<T: Real, G: OutputActivation<T>, L: Loss<T>> LossFor<G, T> for General<L> {
    #[inline(always)]
    fn loss_and_delta<const N: usize>(
        a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
    ) -> (T, SVector<T, N>) {
        general_loss_and_delta::<G, L, T, N>(a, y_hat, y)
    }
}

/// Softmax + cross-entropy, fused, for every [`SoftmaxHead`] ([`Softmax`], [`FastSoftmax`]):
/// `L_t = (Σ_k y_k) lse(a) − Σ_k y_k a_k` and `δa = (Σ_k y_k) ŷ − y`, which is `ŷ − y` when `y` is
/// a distribution; `lse(a)` is read off the computed `ŷ` (one `ln`, no second round of
/// exponentials), and `δa` is the exact gradient at the computed `ŷ`.
impl<T: Real, S: SoftmaxHead> LossFor<S, T> for CrossEntropy {
    #[inline(always)]
    fn loss_and_delta<const N: usize>(
        a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
    ) -> (T, SVector<T, N>) {
        let [ln_largest] = <Self as LossFor<S, T>>::step_terms([y_hat]);
        softmax_cross_entropy(a, y, y_hat, ln_largest)
    }

    const STEP_TERMS_TOGETHER: bool = S::LN_IN_COLUMNS;

    /// `ln max_k ŷ_k` of each step, by the head's logarithm ([`SoftmaxHead::ln_columns`]:
    /// [`FastSoftmax`]'s is vectorized across the steps).
    #[inline(always)]
    fn step_terms<const N: usize, const K: usize>(y_hats: [&SVector<T, N>; K]) -> [T; K] {
        let mut largest_probabilities = [T::zero(); K];
        for (p, y_hat) in largest_probabilities.iter_mut().zip(y_hats) {
            *p = largest(y_hat);
        }
        S::ln_columns(largest_probabilities)
    }

    #[inline(always)]
    fn loss_and_delta_given<const N: usize>(
        a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
        ln_largest: T,
    ) -> (T, SVector<T, N>) {
        softmax_cross_entropy(a, y, y_hat, ln_largest)
    }
}

/// The fused softmax + cross-entropy of a [`SoftmaxHead`], given `ŷ = softmax(a)` as the
/// forward pass computed it and `ln max_k ŷ_k` by the head's logarithm.
#[inline(always)]
fn softmax_cross_entropy<T: Real, const N: usize>(
    a: &SVector<T, N>,
    y: &SVector<T, N>,
    y_hat: &SVector<T, N>,
    ln_largest: T,
) -> (T, SVector<T, N>) {
    let mass = y.sum();
    // lse(a) = max_k a_k − ln max_k ŷ_k, from the softmax the forward pass computed: no second
    // round of exponentials (`numerics::log_sum_exp_given_softmax`, with the head's `ln`).
    let lse = log_sum_exp_given_ln_largest(a, ln_largest);
    // −Σ y_k ln ŷ_k with ln ŷ_k = a_k − lse(a); zero-weight terms contribute exactly zero.
    let loss = y.zip_fold(a, T::zero(), |sum, yk, ak| {
        if yk == T::zero() {
            sum
        } else {
            sum + yk * (lse - ak)
        }
    });
    (loss, y_hat * mass - y)
}

/// Sigmoid + binary cross-entropy, fused: `L_t = Σ_k softplus(a_k) − y_k a_k` (that is,
/// `−y_k ln σ(a_k) − (1 − y_k) ln σ(−a_k)`) and `δa = ŷ − y`.
///
/// `δa_k` is evaluated as `(1 − y_k) σ(a_k) − y_k σ(−a_k)`, the same number without the
/// cancellation of `σ(a_k) − 1` when `σ(a_k)` rounds close to `1`: at `a_k = 30`, `ŷ_k − 1` keeps
/// about three correct digits, `−σ(−a_k)` all of them.
impl<T: Real> LossFor<Sigmoid, T> for BinaryCrossEntropy {
    #[inline(always)]
    fn loss_and_delta<const N: usize>(
        a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
    ) -> (T, SVector<T, N>) {
        let loss = y.zip_fold(a, T::zero(), |sum, yk, ak| {
            let not_yk = T::one() - yk;
            let mut term = T::zero();
            if yk != T::zero() {
                term -= yk * log_sigmoid(ak);
            }
            if not_yk != T::zero() {
                term += not_yk * softplus(ak);
            }
            sum + term
        });
        let delta = y.zip_zip_map(a, y_hat, |yk, ak, pk| {
            (T::one() - yk) * pk - yk * sigmoid(-ak)
        });
        (loss, delta)
    }
}

/// Identity + squared error, fused: `L_t = Σ_k (a_k − y_k)²` and `δa = 2 (ŷ − y)`.
impl<T: Real> LossFor<Identity, T> for Mse {
    #[inline(always)]
    fn loss_and_delta<const N: usize>(
        _a: &SVector<T, N>,
        y_hat: &SVector<T, N>,
        y: &SVector<T, N>,
    ) -> (T, SVector<T, N>) {
        let residual = y_hat - y;
        (residual.norm_squared(), residual * constant::<T>(2.0))
    }
}

/// The eight non-canonical built-in pairs take the general path.
macro_rules! general_pairs {
    ($(($activation:ty, $loss:ty)),* $(,)?) => {$(
        #[doc = concat!(
            "`", stringify!($activation), "` + `", stringify!($loss),
            "` by the general path, `δa = J_g(a)ᵀ ∂L_t/∂ŷ`."
        )]
        impl<T: Real> LossFor<$activation, T> for $loss {
            #[inline(always)]
            fn loss_and_delta<const N: usize>(
                a: &SVector<T, N>,
                y_hat: &SVector<T, N>,
                y: &SVector<T, N>,
            ) -> (T, SVector<T, N>) {
                general_loss_and_delta::<$activation, $loss, T, N>(a, y_hat, y)
            }
        }
    )*};
}

general_pairs!(
    (Softmax, Mse),
    (Softmax, BinaryCrossEntropy),
    (FastSoftmax, Mse),
    (FastSoftmax, BinaryCrossEntropy),
    (Sigmoid, CrossEntropy),
    (Sigmoid, Mse),
    (Identity, CrossEntropy),
    (Identity, BinaryCrossEntropy),
);
