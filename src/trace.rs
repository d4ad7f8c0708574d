//! The forward pass over a sequence, recorded for backpropagation through time.
//!
//! BPTT needs, for every step, the pre-activation `z_t` (for `f′(z_t)`), the state `h_t`, the
//! logits `a_t` (for the fused, log-domain losses) and the output `ŷ_t`. A [`Trace`] holds them
//! with the initial state `h_0`, in storage the caller chooses:
//!
//! - an array `[ForwardStep; S]` for a sequence whose length `S` is a const generic
//!   ([`Rnn::forward`]): no heap, size known at compile time;
//! - a caller-provided `&mut [ForwardStep]` ([`Rnn::forward_into`]): no heap, any length up to
//!   the buffer's;
//! - a `Vec<ForwardStep>` under the `alloc` feature ([`Rnn::forward_vec`]).

use crate::activation::{HiddenActivation, OutputActivation};
use crate::dispatch::{InstructionSet, Vectorized, widest};
use crate::model::Rnn;
use crate::scalar::Real;
use nalgebra::SVector;

/// What the forward pass records of one step `t`.
///
/// Aligned to 64 bytes on x86-64, as [`Params`](crate::Params).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct ForwardStep<const H: usize, const O: usize, T = f32> {
    /// The pre-activation `z_t = W_h h_{t−1} + W_x x_t + b_h`.
    pub z: SVector<T, H>,
    /// The hidden state `h_t = f(z_t)`.
    pub h: SVector<T, H>,
    /// The logits `a_t = W_y h_t + b_y`.
    pub a: SVector<T, O>,
    /// The output `ŷ_t = g(a_t)`.
    pub y_hat: SVector<T, O>,
}

impl<const H: usize, const O: usize, T: Real> ForwardStep<H, O, T> {
    /// All zeros: the initial content of a trace buffer.
    pub fn zeros() -> Self {
        Self {
            z: SVector::zeros(),
            h: SVector::zeros(),
            a: SVector::zeros(),
            y_hat: SVector::zeros(),
        }
    }
}

impl<const H: usize, const O: usize, T: Real> Default for ForwardStep<H, O, T> {
    fn default() -> Self {
        Self::zeros()
    }
}

/// A recorded forward pass: the initial state `h_0` and one [`ForwardStep`] per input, in `B`
/// (an array, a mutable slice, or a `Vec`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trace<const H: usize, const O: usize, T, B> {
    /// The initial state `h_0`.
    pub h0: SVector<T, H>,
    /// Step `t` (0-based) records the `t+1`-th input's step.
    pub steps: B,
}

impl<const H: usize, const O: usize, T: Real, B: AsRef<[ForwardStep<H, O, T>]>> Trace<H, O, T, B> {
    /// The recorded steps as a slice.
    #[inline]
    pub fn steps(&self) -> &[ForwardStep<H, O, T>] {
        self.steps.as_ref()
    }

    /// The number of steps.
    #[inline]
    pub fn len(&self) -> usize {
        self.steps().len()
    }

    /// Whether no step was recorded.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.steps().is_empty()
    }

    /// The last hidden state `h_T` (`h_0` for an empty trace): where the next window starts.
    #[inline]
    pub fn last_state(&self) -> &SVector<T, H> {
        self.steps().last().map_or(&self.h0, |step| &step.h)
    }

    /// The state before step `t`, `h_{t−1}` in 1-based notation: `h_0` for `t = 0`.
    #[inline]
    pub fn state_before(&self, t: usize) -> &SVector<T, H> {
        if t == 0 {
            &self.h0
        } else {
            &self.steps()[t - 1].h
        }
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// Records one step: `z_t`, `h_t = f(z_t)`, `a_t`, `ŷ_t = g(a_t)` — the numbers
    /// [`forward_into`](Self::forward_into) records for it, bit for bit.
    #[inline]
    pub fn record_step(&self, h_prev: &SVector<T, H>, x: &SVector<T, I>) -> ForwardStep<H, O, T> {
        let mut step = ForwardStep::zeros();
        widest(Forward {
            rnn: self,
            h0: h_prev,
            xs: core::slice::from_ref(x),
            steps: core::slice::from_mut(&mut step),
        });
        step
    }

    /// The recurrence half of [`record_step`](Self::record_step), into `step`:
    /// `z_t = W_h h_{t−1} + W_x x_t + b_h`, `h_t = f(z_t)`.
    #[inline(always)]
    fn record_recurrence<V: InstructionSet>(
        &self,
        h_prev: &SVector<T, H>,
        x: &SVector<T, I>,
        step: &mut ForwardStep<H, O, T>,
    ) {
        step.z = self.pre_activation_for::<V>(h_prev, x);
        step.h = F::forward(&step.z);
    }

    /// The output half of [`record_step`](Self::record_step), from `step.h` into `step`:
    /// `a_t = W_y h_t + b_y`, `ŷ_t = g(a_t)`.
    #[inline(always)]
    fn record_output<V: InstructionSet>(&self, step: &mut ForwardStep<H, O, T>) {
        step.a = self.logits_for::<V>(&step.h);
        step.y_hat = G::forward(&step.a);
    }

    /// Runs the sequence `xs` from `h0`, recording every step into `buffer`, and returns the trace
    /// over the first `xs.len()` entries of it. No allocation.
    ///
    /// # Panics
    ///
    /// If `buffer` is shorter than `xs`.
    ///
    /// ```
    /// use static_rnn::{ForwardStep, Rnn, SVector};
    /// let rnn = Rnn::<2, 4, 3>::zeros();
    /// let xs = [SVector::<f32, 2>::zeros(); 5];
    /// let mut buffer = [ForwardStep::zeros(); 16];
    /// let trace = rnn.forward_into(&SVector::zeros(), &xs, &mut buffer);
    /// assert_eq!(trace.len(), 5);
    /// ```
    pub fn forward_into<'b>(
        &self,
        h0: &SVector<T, H>,
        xs: &[SVector<T, I>],
        buffer: &'b mut [ForwardStep<H, O, T>],
    ) -> Trace<H, O, T, &'b mut [ForwardStep<H, O, T>]> {
        assert!(
            buffer.len() >= xs.len(),
            "trace buffer holds {} steps but the sequence has {}",
            buffer.len(),
            xs.len()
        );
        let steps = &mut buffer[..xs.len()];
        widest(Forward {
            rnn: self,
            h0,
            xs,
            steps: &mut *steps,
        });
        Trace { h0: *h0, steps }
    }

    /// Runs a sequence of `S` inputs, `S` known at compile time, recording every step in an array.
    /// No allocation.
    ///
    /// ```
    /// use static_rnn::{Rnn, SVector};
    /// let rnn = Rnn::<2, 4, 3>::zeros();
    /// let trace = rnn.forward(&SVector::zeros(), &[SVector::<f32, 2>::zeros(); 8]);
    /// assert_eq!(trace.steps.len(), 8);
    /// assert_eq!(trace.steps[7].y_hat, SVector::<f32, 3>::repeat(1.0 / 3.0));
    /// ```
    pub fn forward<const S: usize>(
        &self,
        h0: &SVector<T, H>,
        xs: &[SVector<T, I>; S],
    ) -> Trace<H, O, T, [ForwardStep<H, O, T>; S]> {
        let mut steps = [ForwardStep::zeros(); S];
        self.forward_into(h0, xs, &mut steps);
        Trace { h0: *h0, steps }
    }

    /// Runs a sequence of any length, recording it in a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn forward_vec(
        &self,
        h0: &SVector<T, H>,
        xs: &[SVector<T, I>],
    ) -> Trace<H, O, T, alloc::vec::Vec<ForwardStep<H, O, T>>> {
        let mut steps = alloc::vec![ForwardStep::zeros(); xs.len()];
        self.forward_into(h0, xs, &mut steps);
        Trace { h0: *h0, steps }
    }
}

/// The forward loop of [`Rnn::forward_into`] as a [`Vectorized`] operation: records `xs.len()`
/// steps from `h0` into `steps`, in two passes: the recurrence (`z_t`, `h_t`) of every step, then
/// the output layer (`a_t`, `ŷ_t`) of every step, [`OUTPUT_COLUMNS`] steps at a time — the two
/// halves of [`Rnn::record_step`], so each step's numbers are its own, bit for bit; only the
/// order differs. The first pass is all that waits on the previous step, and the second reads
/// each `h_t` back from the trace, so that its `W_y h_t` broadcasts `h_t`'s components from
/// memory instead of shuffling them out of a register, and its steps are independent of each
/// other (10 % faster forward + backward at (16, 32, 8, 64) with `FastTanh`; `BENCHMARKS.md`,
/// lever 23), so `g` can run across them ([`OutputActivation::forward_columns`]: with
/// `FastSoftmax`, 8 % faster; lever 33).
struct Forward<'a, const I: usize, const H: usize, const O: usize, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    rnn: &'a Rnn<I, H, O, F, G, T>,
    h0: &'a SVector<T, H>,
    xs: &'a [SVector<T, I>],
    steps: &'a mut [ForwardStep<H, O, T>],
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Vectorized
    for Forward<'_, I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    type Output = ();

    #[inline(always)]
    fn run<V: InstructionSet>(self) {
        let mut h = *self.h0;
        for (step, x) in self.steps.iter_mut().zip(self.xs) {
            self.rnn.record_recurrence::<V>(&h, x, step);
            h = step.h;
        }
        // The output layer `OUTPUT_COLUMNS` steps at a time where their logits fit in
        // `OUTPUT_COLUMNS_MAX_BYTES` (`g` of them together: `forward_columns`), the rest one at
        // a time; each step's numbers are the same either way.
        let (groups, rest) = if O * size_of::<T>() <= OUTPUT_COLUMNS_MAX_BYTES {
            self.steps.as_chunks_mut::<OUTPUT_COLUMNS>()
        } else {
            (&mut [][..], &mut *self.steps)
        };
        for group in groups {
            let mut a = [SVector::zeros(); OUTPUT_COLUMNS];
            for (a_t, step) in a.iter_mut().zip(group.iter_mut()) {
                step.a = self.rnn.logits_for::<V>(&step.h);
                *a_t = step.a;
            }
            for (step, y_hat) in group.iter_mut().zip(G::forward_columns(&a)) {
                step.y_hat = y_hat;
            }
        }
        for step in rest {
            self.rnn.record_output::<V>(step);
        }
    }
}

/// Steps whose output activations the forward pass computes together
/// ([`OutputActivation::forward_columns`]): a 512-bit register of `f32` per output.
pub(crate) const OUTPUT_COLUMNS: usize = 16;

/// The most bytes one step's logits may take for the forward pass to compute its output layer
/// [`OUTPUT_COLUMNS`] steps at a time: 32 outputs in `f32`. Three copies of that many steps'
/// logits are on the stack, 6 KiB at most (a microcontroller's stack is a few tens of KiB).
pub(crate) const OUTPUT_COLUMNS_MAX_BYTES: usize = 128;
