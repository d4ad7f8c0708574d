//! Truncated backpropagation through time over a long stream, window by window.
//!
//! A stream too long to record whole (a book, a sensor that never stops) is cut into windows of at
//! most `K` steps. Each window runs forward from the state the previous window ended in, and
//! backward only within itself: the hidden state is carried across the boundary, the gradient is
//! not. For the window of steps `s+1 … s+K`, starting from the carried state `h_s`,
//!
//! ```text
//! h_s          carried: the last state of the previous window (h_0 at the start of the stream)
//! L_window   = Σ over scored steps t ∈ (s, s+K] of L_t
//! ∂L/∂θ     += ∂L_window/∂θ  with h_s held constant
//! ∂L/∂h_s      computed (W_hᵀ δz_{s+1}) and dropped: the gradient is cut here
//! ```
//!
//! so that memory is `K` recorded steps however long the stream, as in Karpathy's `min-char-rnn`.
//! The gradient of a window is exactly that of an independent [`Rnn::forward`] and
//! [`Rnn::backward`] started from the carried state, and the carried state is exactly the one
//! that [`Rnn::step`] reaches over the whole stream.
//!
//! [`TruncatedBptt`] holds the carried state and a trace buffer of `K` steps; nothing allocates.
//! It does not hold the model, so the model can be updated between windows.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::loss::LossFor;
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::Real;
use crate::targets::Targets;
use crate::trace::ForwardStep;
use nalgebra::SVector;

/// Truncated BPTT over a stream, in windows of at most `K` steps: the carried hidden state
/// (`H` units) and a trace buffer of `K` steps, for a model with `O` outputs in the scalar `T`.
///
/// ```
/// use static_rnn::{CrossEntropy, Params, Rnn, SMatrix, SVector, TruncatedBptt};
/// type Model = Rnn<2, 8, 2, static_rnn::Tanh, static_rnn::Softmax, f64>;
/// let mut rnn = Model::new(
///     SMatrix::from_fn(|i, j| 0.3 * ((i + 2 * j) as f64).sin()),
///     SMatrix::from_fn(|i, j| 0.2 * ((3 * i + j) as f64).cos()),
///     SVector::zeros(),
///     SMatrix::from_fn(|i, j| 0.5 * ((i + j) as f64).sin()),
///     SVector::zeros(),
/// );
/// // A stream of 100 steps, one-hot, the target of each step being the next input.
/// let one_hot = |t: usize| SVector::from([(t % 3 == 0) as u8 as f64, (t % 3 != 0) as u8 as f64]);
/// let xs: [SVector<f64, 2>; 100] = core::array::from_fn(one_hot);
/// let ys: [SVector<f64, 2>; 100] = core::array::from_fn(|t| one_hot(t + 1));
///
/// let mut tbptt = TruncatedBptt::<8, 2, 25, f64>::new(); // windows of 25 steps
/// let mut grads = Params::zeros();
/// let mut h = SVector::zeros();
/// for (window, targets) in xs.chunks(25).zip(ys.chunks(25)) {
///     grads.set_zero();
///     let loss = tbptt.next_window(&rnn, CrossEntropy, window, targets, &mut grads);
///     assert!(loss > 0.0);
///     // The carried state is where streaming inference with this model gets to.
///     for x in window {
///         h = rnn.step(&h, x).0;
///     }
///     assert_eq!(tbptt.state(), &h);
///     grads *= -0.05;
///     rnn.params += &grads; // update between windows, as min-char-rnn does
/// }
/// // The next pass over the stream starts from zero.
/// tbptt.reset();
/// assert_eq!(tbptt.state(), &SVector::<f64, 8>::zeros());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruncatedBptt<const H: usize, const O: usize, const K: usize, T = f32> {
    state: SVector<T, H>,
    buffer: [ForwardStep<H, O, T>; K],
}

impl<const H: usize, const O: usize, const K: usize, T: Real> TruncatedBptt<H, O, K, T> {
    /// Starting from the zero state `h_0 = 0`.
    pub fn new() -> Self {
        Self::starting_from(SVector::zeros())
    }

    /// Starting from the state `h0`.
    pub fn starting_from(h0: SVector<T, H>) -> Self {
        Self {
            state: h0,
            buffer: [ForwardStep::zeros(); K],
        }
    }

    /// The carried state: the last state of the previous window (the starting state before the
    /// first window, or after a reset).
    #[inline]
    pub fn state(&self) -> &SVector<T, H> {
        &self.state
    }

    /// Starts the next window from `h_0 = 0`, as at the beginning of a new stream.
    pub fn reset(&mut self) {
        self.reset_to(SVector::zeros());
    }

    /// Starts the next window from the state `h0`.
    pub fn reset_to(&mut self, h0: SVector<T, H>) {
        self.state = h0;
    }

    /// The next window of the stream: runs `xs` (at most `K` steps) forward from the carried
    /// state, backpropagates within the window, adds `∂L_window/∂θ` to `grads`, carries the
    /// window's last state to the next window, and returns the window's loss `L_window`.
    ///
    /// `∂L_window/∂h_s` of the carried state `h_s` is not propagated into earlier windows. An
    /// empty window returns `0` and changes nothing.
    ///
    /// # Panics
    ///
    /// If `xs` has more than `K` steps, or `targets` are for a different number of steps.
    pub fn next_window<const I: usize, F, G, L, Y>(
        &mut self,
        rnn: &Rnn<I, H, O, F, G, T>,
        loss: L,
        xs: &[SVector<T, I>],
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
    ) -> T
    where
        F: HiddenActivation<T>,
        G: OutputActivation<T>,
        L: LossFor<G, T>,
        Y: Targets<T, O> + ?Sized,
    {
        assert!(
            xs.len() <= K,
            "a window of {} steps does not fit a truncated-BPTT buffer of K = {K} steps",
            xs.len()
        );
        let trace = rnn.forward_into(&self.state, xs, &mut self.buffer);
        let summary = rnn.backward(loss, xs, &trace, targets, grads);
        self.state = *trace.last_state();
        summary.loss
    }
}

impl<const H: usize, const O: usize, const K: usize, T: Real> Default
    for TruncatedBptt<H, O, K, T>
{
    fn default() -> Self {
        Self::new()
    }
}
