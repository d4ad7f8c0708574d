//! The model: `Rnn<I, H, O, F, G, T>`, its parameters, its compile-time facts and one step of it.
//!
//! ```text
//! z_t = W_h h_{t−1} + W_x x_t + b_h      h_t = f(z_t)
//! a_t = W_y h_t + b_y                    ŷ_t = g(a_t)
//! ```

use crate::activation::{HiddenActivation, OutputActivation, Softmax, Tanh};
use crate::dispatch::{Baseline, InstructionSet, Vectorized, widest};
use crate::kernels::gemv_add;
use crate::params::Params;
use crate::scalar::Real;
use approx::{AbsDiffEq, RelativeEq, UlpsEq};
use core::fmt;
use core::marker::PhantomData;
use core::mem::size_of;
use nalgebra::{SMatrix, SVector};

/// A vanilla (Elman) recurrent network with `I` inputs, `H` hidden units and `O` outputs, hidden
/// activation `F`, output activation `G` and scalar `T`, every dimension fixed at compile time.
///
/// The parameters are nalgebra static matrices in [`params`](Self::params); the activations are
/// zero-sized types, so `Rnn<16, 32, 8>` is exactly its weights, and swapping `Tanh` for `Relu`
/// is a change of type.
///
/// # Type parameters
///
/// `Rnn<const I, const H, const O, F = Tanh, G = Softmax, T = f32>`: the dimensions come first
/// because every use names them, then what changes least often. With the defaults,
/// `Rnn<I, H, O>` is the classic character-level model of *Deep Learning* §10.2 (tanh hidden
/// layer, softmax output, to be trained with [`CrossEntropy`](crate::CrossEntropy)) in single
/// precision, the precision of a microcontroller's FPU. Training code that checks gradients names
/// `f64` explicitly.
///
/// Dimensions are checked by the compiler: an input of the wrong length does not compile.
///
/// ```compile_fail
/// use static_rnn::{Rnn, SVector};
/// let rnn = Rnn::<2, 3, 2>::zeros();
/// let x = SVector::<f32, 3>::zeros(); // the model takes 2 inputs
/// let _ = rnn.step(&SVector::zeros(), &x);
/// ```
///
/// ```
/// use static_rnn::{Rnn, SVector};
/// let rnn = Rnn::<2, 3, 2>::zeros();
/// let (h, y_hat) = rnn.step(&SVector::zeros(), &SVector::<f32, 2>::new(1.0, -1.0));
/// assert_eq!(h, SVector::<f32, 3>::zeros()); // tanh(0) = 0
/// assert_eq!(y_hat, SVector::<f32, 2>::repeat(0.5)); // softmax of equal logits
/// ```
///
/// # Compile-time facts
///
/// Associated constants let firmware check its RAM budget before it ever runs:
///
/// ```
/// use static_rnn::Rnn;
/// type Model = Rnn<16, 32, 8>;
/// assert_eq!(Model::PARAMETERS, 32 * 16 + 32 * 32 + 32 + 8 * 32 + 8);
/// const _: () = assert!(Model::PARAMETER_BYTES + Model::trace_bytes(64) <= 64 * 1024);
/// ```
pub struct Rnn<const I: usize, const H: usize, const O: usize, F = Tanh, G = Softmax, T = f32>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// The weights and biases.
    pub params: Params<I, H, O, T>,
    activations: PhantomData<fn() -> (F, G)>,
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// The number of trainable scalars: `H·I + H·H + H + O·H + O`.
    pub const PARAMETERS: usize = Params::<I, H, O, T>::COUNT;

    /// Bytes of the parameters (and equally of one gradient, or of one optimizer state slot):
    /// `PARAMETERS` scalars, rounded up to a multiple of 64 bytes on x86-64, where
    /// [`Params`] is aligned to a cache line.
    pub const PARAMETER_BYTES: usize = size_of::<Params<I, H, O, T>>();

    /// Multiply–accumulates of one forward step: `H·I + H·H` for `z_t`, `O·H` for `a_t`.
    pub const MACS_PER_STEP: usize = H * I + H * H + O * H;

    /// Bytes of the recurrent state `h_t` carried from one step to the next.
    pub const STATE_BYTES: usize = size_of::<SVector<T, H>>();

    /// Bytes one step adds to a recorded trace ([`ForwardStep`](crate::ForwardStep): `z_t`, `h_t`,
    /// `a_t`, `ŷ_t`; rounded up to a multiple of 64 bytes on x86-64, as `PARAMETER_BYTES`).
    pub const TRACE_BYTES_PER_STEP: usize = size_of::<crate::trace::ForwardStep<H, O, T>>();

    /// Bytes of a trace of `steps` steps, including its initial state `h_0`.
    pub const fn trace_bytes(steps: usize) -> usize {
        Self::STATE_BYTES + steps * Self::TRACE_BYTES_PER_STEP
    }

    /// The model with the given parameters. A `const fn`, so a model can be built at compile time.
    pub const fn from_params(params: Params<I, H, O, T>) -> Self {
        Self {
            params,
            activations: PhantomData,
        }
    }

    /// The model with the given weights and biases.
    ///
    /// ```
    /// use static_rnn::{Rnn, SMatrix, SVector};
    /// let rnn = Rnn::<1, 2, 1>::new(
    ///     SMatrix::from_column_slice(&[1.0, -1.0]), // W_x, 2 × 1
    ///     SMatrix::identity(),                      // W_h, 2 × 2
    ///     SVector::zeros(),                         // b_h
    ///     SMatrix::from_row_slice(&[0.5, 0.5]),     // W_y, 1 × 2
    ///     SVector::zeros(),                         // b_y
    /// );
    /// assert_eq!(rnn.params.w_x[(1, 0)], -1.0);
    /// ```
    pub fn new(
        w_x: SMatrix<T, H, I>,
        w_h: SMatrix<T, H, H>,
        b_h: SVector<T, H>,
        w_y: SMatrix<T, O, H>,
        b_y: SVector<T, O>,
    ) -> Self {
        Self::from_params(Params {
            w_x,
            w_h,
            b_h,
            w_y,
            b_y,
        })
    }

    /// The model whose every parameter is zero.
    pub fn zeros() -> Self {
        Self::from_params(Params::zeros())
    }

    /// The pre-activation `z_t = W_h h_{t−1} + W_x x_t + b_h`, summed as
    /// `(b_h + W_x x_t) + W_h h_{t−1}` (the input's term first, so that only the last product
    /// waits for the previous step), with the build's own instructions. [`step`](Self::step) and
    /// the forward passes compute it in the copy for the widest instructions the CPU has (feature
    /// `simd-dispatch`): the same numbers, but for the last bits where the `fma` feature fuses
    /// their multiply–adds.
    #[inline(always)]
    pub fn pre_activation(&self, h_prev: &SVector<T, H>, x: &SVector<T, I>) -> SVector<T, H> {
        self.pre_activation_for::<Baseline>(h_prev, x)
    }

    /// [`pre_activation`](Self::pre_activation) with the kernels of the instruction set `V`.
    #[inline(always)]
    pub(crate) fn pre_activation_for<V: InstructionSet>(
        &self,
        h_prev: &SVector<T, H>,
        x: &SVector<T, I>,
    ) -> SVector<T, H> {
        let p = &self.params;
        let mut z = p.b_h;
        gemv_add::<V, _, _, _>(&mut z, &p.w_x, x);
        gemv_add::<V, _, _, _>(&mut z, &p.w_h, h_prev);
        z
    }

    /// The logits `a_t = W_y h_t + b_y`, with the build's own instructions (as
    /// [`pre_activation`](Self::pre_activation)).
    #[inline(always)]
    pub fn logits(&self, h: &SVector<T, H>) -> SVector<T, O> {
        self.logits_for::<Baseline>(h)
    }

    /// [`logits`](Self::logits) with the kernels of the instruction set `V`.
    #[inline(always)]
    pub(crate) fn logits_for<V: InstructionSet>(&self, h: &SVector<T, H>) -> SVector<T, O> {
        let p = &self.params;
        let mut a = p.b_y;
        gemv_add::<V, _, _, _>(&mut a, &p.w_y, h);
        a
    }

    /// One step of streaming inference, `(h_{t−1}, x_t) ↦ (h_t, ŷ_t)`; no allocation, nothing
    /// recorded.
    ///
    /// ```
    /// use static_rnn::{Identity, Rnn, SMatrix, SVector};
    /// // h_t = h_{t−1} + x_t, ŷ_t = h_t: a running sum.
    /// let rnn = Rnn::<1, 1, 1, Identity, Identity, f64>::new(
    ///     SMatrix::identity(), SMatrix::identity(), SVector::zeros(),
    ///     SMatrix::identity(), SVector::zeros(),
    /// );
    /// let mut h = SVector::zeros();
    /// let mut y_hat = SVector::zeros();
    /// for x in [1.0, 2.0, 3.0] {
    ///     (h, y_hat) = rnn.step(&h, &SVector::from([x]));
    /// }
    /// assert_eq!(y_hat[0], 6.0);
    /// ```
    #[inline]
    pub fn step(
        &self,
        h_prev: &SVector<T, H>,
        x: &SVector<T, I>,
    ) -> (SVector<T, H>, SVector<T, O>) {
        widest(Step {
            rnn: self,
            h_prev,
            x,
        })
    }
}

/// [`Rnn::step`] as a [`Vectorized`] operation.
struct Step<'a, const I: usize, const H: usize, const O: usize, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    rnn: &'a Rnn<I, H, O, F, G, T>,
    h_prev: &'a SVector<T, H>,
    x: &'a SVector<T, I>,
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Vectorized
    for Step<'_, I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    type Output = (SVector<T, H>, SVector<T, O>);

    #[inline(always)]
    fn run<V: InstructionSet>(self) -> Self::Output {
        let h = F::forward(&self.rnn.pre_activation_for::<V>(self.h_prev, self.x));
        let y_hat = G::forward(&self.rnn.logits_for::<V>(&h));
        (h, y_hat)
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Clone for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Copy for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> PartialEq for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> fmt::Debug for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rnn")
            .field("hidden", &F::default())
            .field("output", &G::default())
            .field("params", &self.params)
            .finish()
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Default for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    fn default() -> Self {
        Self::zeros()
    }
}

/// Compares the parameters, element by element (the activations are equal by type).
///
/// ```
/// use approx::assert_relative_eq;
/// use static_rnn::Rnn;
/// let a = Rnn::<2, 3, 2>::zeros();
/// let mut b = a;
/// b.params.b_y[0] = 1e-9;
/// assert_relative_eq!(a, b, epsilon = 1e-6);
/// ```
impl<const I: usize, const H: usize, const O: usize, F, G, T> AbsDiffEq for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    type Epsilon = T;

    fn default_epsilon() -> T {
        T::default_epsilon()
    }

    fn abs_diff_eq(&self, other: &Self, epsilon: T) -> bool {
        self.params.abs_diff_eq(&other.params, epsilon)
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> RelativeEq for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    fn default_max_relative() -> T {
        T::default_max_relative()
    }

    fn relative_eq(&self, other: &Self, epsilon: T, max_relative: T) -> bool {
        self.params
            .relative_eq(&other.params, epsilon, max_relative)
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> UlpsEq for Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    fn default_max_ulps() -> u32 {
        T::default_max_ulps()
    }

    fn ulps_eq(&self, other: &Self, epsilon: T, max_ulps: u32) -> bool {
        self.params.ulps_eq(&other.params, epsilon, max_ulps)
    }
}
