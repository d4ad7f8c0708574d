//! Stateful inference: a model and its current hidden state, stepped one input at a time.
//!
//! ```text
//! h_t = f(W_h h_{t−1} + W_x x_t + b_h)      ŷ_t = g(W_y h_t + b_y)
//! ```
//!
//! [`Stateful`] keeps `h_{t−1}` between calls, so a caller hands it inputs as they arrive
//! (a keystroke, a sensor sample) and reads `ŷ_t`; [`Stateful::reset`] starts a new sequence.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::model::Rnn;
use crate::scalar::Real;
use nalgebra::SVector;

/// A borrowed model and its current hidden state `h_t`, for streaming inference.
///
/// Each [`step`](Self::step) is [`Rnn::step`] from the stored state, which it then replaces.
///
/// ```
/// use static_rnn::{Identity, Rnn, SMatrix, SVector, Stateful};
/// // h_t = h_{t−1} + x_t, ŷ_t = h_t: a running sum.
/// let rnn = Rnn::<1, 1, 1, Identity, Identity, f64>::new(
///     SMatrix::identity(), SMatrix::identity(), SVector::zeros(),
///     SMatrix::identity(), SVector::zeros(),
/// );
/// let mut running = Stateful::new(&rnn);
/// running.step(&SVector::from([1.0]));
/// assert_eq!(running.step(&SVector::from([2.0]))[0], 3.0);
/// assert_eq!(running.state()[0], 3.0);
/// running.reset(); // a new sequence
/// assert_eq!(running.step(&SVector::from([5.0]))[0], 5.0);
/// running.reset_to(SVector::from([10.0]));
/// assert_eq!(running.step(&SVector::from([5.0]))[0], 15.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Stateful<'a, const I: usize, const H: usize, const O: usize, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    rnn: &'a Rnn<I, H, O, F, G, T>,
    state: SVector<T, H>,
}

impl<'a, const I: usize, const H: usize, const O: usize, F, G, T> Stateful<'a, I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// `rnn`, starting from the zero state `h_0 = 0`.
    pub fn new(rnn: &'a Rnn<I, H, O, F, G, T>) -> Self {
        Self::starting_from(rnn, SVector::zeros())
    }

    /// `rnn`, starting from the state `h0`.
    pub fn starting_from(rnn: &'a Rnn<I, H, O, F, G, T>, h0: SVector<T, H>) -> Self {
        Self { rnn, state: h0 }
    }

    /// The model.
    #[inline]
    pub fn model(&self) -> &'a Rnn<I, H, O, F, G, T> {
        self.rnn
    }

    /// The current state `h_t` (`h_0` before the first step).
    #[inline]
    pub fn state(&self) -> &SVector<T, H> {
        &self.state
    }

    /// One step, `(h_{t−1}, x_t) ↦ (h_t, ŷ_t)`: stores `h_t` and returns `ŷ_t`.
    #[inline]
    pub fn step(&mut self, x: &SVector<T, I>) -> SVector<T, O> {
        let (h, y_hat) = self.rnn.step(&self.state, x);
        self.state = h;
        y_hat
    }

    /// Starts a new sequence from `h_0 = 0`.
    pub fn reset(&mut self) {
        self.reset_to(SVector::zeros());
    }

    /// Starts a new sequence from the state `h0`.
    pub fn reset_to(&mut self, h0: SVector<T, H>) {
        self.state = h0;
    }
}
