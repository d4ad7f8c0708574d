//! The forward pass over a batch, streamed or recorded for backpropagation through time.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::dispatch::{InstructionSet, Vectorized, widest};
use crate::kernels::{gemm_add_then, gemm_biased};
use crate::model::Rnn;
use crate::scalar::Real;
use crate::trace::{OUTPUT_COLUMNS, OUTPUT_COLUMNS_MAX_BYTES};
use core::mem::size_of;
use nalgebra::{SMatrix, SVector};

/// What the forward pass records of one step `t` of a batch; column `b` belongs to sequence `b`.
///
/// Aligned to 64 bytes on x86-64, as [`Params`](crate::Params).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct BatchStep<const H: usize, const O: usize, const B: usize, T = f32> {
    /// The pre-activations `Z_t = W_h H_{t−1} + W_x X_t + b_h 1ᵀ`.
    pub z: SMatrix<T, H, B>,
    /// The hidden states `H_t = f(Z_t)`.
    pub h: SMatrix<T, H, B>,
    /// The logits `A_t = W_y H_t + b_y 1ᵀ`.
    pub a: SMatrix<T, O, B>,
    /// The outputs `Ŷ_t = g(A_t)`, column by column.
    pub y_hat: SMatrix<T, O, B>,
}

impl<const H: usize, const O: usize, const B: usize, T: Real> BatchStep<H, O, B, T> {
    /// All zeros: the initial content of a trace buffer.
    pub fn zeros() -> Self {
        Self {
            z: SMatrix::zeros(),
            h: SMatrix::zeros(),
            a: SMatrix::zeros(),
            y_hat: SMatrix::zeros(),
        }
    }
}

impl<const H: usize, const O: usize, const B: usize, T: Real> Default for BatchStep<H, O, B, T> {
    fn default() -> Self {
        Self::zeros()
    }
}

/// A recorded forward pass over a batch: the initial states `H_0` and one [`BatchStep`] per
/// step, in `Steps` (an array, a mutable slice, or a `Vec`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchTrace<const H: usize, const O: usize, const B: usize, T, Steps> {
    /// The initial states `H_0`, one column per sequence.
    pub h0: SMatrix<T, H, B>,
    /// Step `t` (0-based) records the `t+1`-th inputs' step.
    pub steps: Steps,
}

impl<const H: usize, const O: usize, const B: usize, T, Steps> BatchTrace<H, O, B, T, Steps>
where
    T: Real,
    Steps: AsRef<[BatchStep<H, O, B, T>]>,
{
    /// The recorded steps as a slice.
    #[inline]
    pub fn steps(&self) -> &[BatchStep<H, O, B, T>] {
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

    /// The last hidden states `H_T` (`H_0` for an empty trace): where the next window starts.
    #[inline]
    pub fn last_state(&self) -> &SMatrix<T, H, B> {
        self.steps().last().map_or(&self.h0, |step| &step.h)
    }

    /// The states before step `t`, `H_{t−1}` in 1-based notation: `H_0` for `t = 0`.
    #[inline]
    pub fn state_before(&self, t: usize) -> &SMatrix<T, H, B> {
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
    /// One step of streaming inference for a batch, `(H_{t−1}, X_t) ↦ (H_t, Ŷ_t)`: column `b` is
    /// [`step`](Self::step) of sequence `b`. No allocation, nothing recorded.
    ///
    /// ```
    /// use static_rnn::{Rnn, SMatrix, SVector};
    /// let mut rnn = Rnn::<1, 2, 2>::zeros();
    /// rnn.params.w_x = SMatrix::from_column_slice(&[1.0, -1.0]);
    /// rnn.params.w_y = SMatrix::identity();
    /// // Three sequences at once; their first inputs are 0, 1 and 2.
    /// let x = SMatrix::<f32, 1, 3>::new(0.0, 1.0, 2.0);
    /// let (h, y_hat) = rnn.batch_step(&SMatrix::zeros(), &x);
    /// let (h2, y_hat2) = rnn.step(&SVector::zeros(), &SVector::from([2.0]));
    /// assert!((h.column(2) - h2).norm() < 1e-6);
    /// assert!((y_hat.column(2) - y_hat2).norm() < 1e-6);
    /// ```
    pub fn batch_step<const B: usize>(
        &self,
        h_prev: &SMatrix<T, H, B>,
        x: &SMatrix<T, I, B>,
    ) -> (SMatrix<T, H, B>, SMatrix<T, O, B>) {
        let step = self.batch_record_step(h_prev, x);
        (step.h, step.y_hat)
    }

    /// Runs a batch from `h0`, recording every step into `buffer`, and returns the trace over the
    /// first `xs.len()` entries of it. No allocation.
    ///
    /// # Panics
    ///
    /// If `buffer` is shorter than `xs`.
    ///
    /// ```
    /// use static_rnn::{batch::BatchStep, Rnn, SMatrix};
    /// let rnn = Rnn::<2, 4, 3>::zeros();
    /// let xs = [SMatrix::<f32, 2, 8>::zeros(); 5]; // 8 sequences of 5 steps
    /// let mut buffer = [BatchStep::zeros(); 16];
    /// let trace = rnn.batch_forward_into(&SMatrix::zeros(), &xs, &mut buffer);
    /// assert_eq!(trace.len(), 5);
    /// ```
    pub fn batch_forward_into<'s, const B: usize>(
        &self,
        h0: &SMatrix<T, H, B>,
        xs: &[SMatrix<T, I, B>],
        buffer: &'s mut [BatchStep<H, O, B, T>],
    ) -> BatchTrace<H, O, B, T, &'s mut [BatchStep<H, O, B, T>]> {
        assert!(
            buffer.len() >= xs.len(),
            "batch trace buffer holds {} steps but the batch has {}",
            buffer.len(),
            xs.len()
        );
        let steps = &mut buffer[..xs.len()];
        widest(BatchForward {
            rnn: self,
            h0,
            xs,
            steps: &mut *steps,
        });
        BatchTrace { h0: *h0, steps }
    }

    /// Runs a batch of `S` steps, `S` known at compile time, recording every step in an array.
    /// No allocation.
    ///
    /// ```
    /// use static_rnn::{Rnn, SMatrix};
    /// let rnn = Rnn::<2, 4, 3>::zeros();
    /// let trace = rnn.batch_forward(&SMatrix::zeros(), &[SMatrix::<f32, 2, 8>::zeros(); 6]);
    /// assert_eq!(trace.steps.len(), 6);
    /// assert_eq!(trace.steps[5].y_hat, SMatrix::<f32, 3, 8>::repeat(1.0 / 3.0));
    /// ```
    pub fn batch_forward<const B: usize, const S: usize>(
        &self,
        h0: &SMatrix<T, H, B>,
        xs: &[SMatrix<T, I, B>; S],
    ) -> BatchTrace<H, O, B, T, [BatchStep<H, O, B, T>; S]> {
        let mut steps = [BatchStep::zeros(); S];
        self.batch_forward_into(h0, xs, &mut steps);
        BatchTrace { h0: *h0, steps }
    }

    /// Runs a batch of any length, recording it in a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn batch_forward_vec<const B: usize>(
        &self,
        h0: &SMatrix<T, H, B>,
        xs: &[SMatrix<T, I, B>],
    ) -> BatchTrace<H, O, B, T, alloc::vec::Vec<BatchStep<H, O, B, T>>> {
        let mut steps = alloc::vec![BatchStep::zeros(); xs.len()];
        self.batch_forward_into(h0, xs, &mut steps);
        BatchTrace { h0: *h0, steps }
    }

    /// One step: `Z_t = W_h H_{t−1} + W_x X_t + b_h 1ᵀ`, `H_t = f(Z_t)`, `A_t = W_y H_t + b_y 1ᵀ`,
    /// `Ŷ_t = g(A_t)` column by column.
    pub(super) fn batch_record_step<const B: usize>(
        &self,
        h_prev: &SMatrix<T, H, B>,
        x: &SMatrix<T, I, B>,
    ) -> BatchStep<H, O, B, T> {
        let mut step = BatchStep::zeros();
        widest(BatchForward {
            rnn: self,
            h0: h_prev,
            xs: core::slice::from_ref(x),
            steps: core::slice::from_mut(&mut step),
        });
        step
    }

    /// [`batch_record_step`](Self::batch_record_step) into `step`.
    #[inline(always)]
    fn batch_record_step_into<V: InstructionSet, const B: usize>(
        &self,
        h_prev: &SMatrix<T, H, B>,
        x: &SMatrix<T, I, B>,
        step: &mut BatchStep<H, O, B, T>,
    ) {
        let p = &self.params;
        // Z_t = (b_h 1ᵀ + W_h H_{t−1}) + W_x X_t, and H_t = f(Z_t) from each tile of Z_t as the
        // second product stores it: Z_t is walked by the two products only, where a pass setting
        // it to b_h 1ᵀ and a pass computing f walked all of it twice more.
        gemm_biased::<V, _, _, _, _>(&mut step.z, &p.b_h, &p.w_h, h_prev);
        gemm_add_then::<V, _, _, _, _>(&mut step.z, &p.w_x, x, &mut step.h, F::activate);
        gemm_biased::<V, _, _, _, _>(&mut step.a, &p.b_y, &p.w_y, &step.h);
        // Ŷ_t = g(A_t) column by column, `OUTPUT_COLUMNS` columns at a time where their logits
        // fit (`forward_columns`, as one sequence's forward pass takes its steps), the rest one
        // at a time; each column's numbers are the same either way.
        let together = if O * size_of::<T>() <= OUTPUT_COLUMNS_MAX_BYTES {
            B - B % OUTPUT_COLUMNS
        } else {
            0
        };
        for first in (0..together).step_by(OUTPUT_COLUMNS) {
            let mut a = [SVector::zeros(); OUTPUT_COLUMNS];
            for (k, a_k) in a.iter_mut().enumerate() {
                *a_k = SVector::from(step.a.data.0[first + k]);
            }
            for (k, y_hat_k) in G::forward_columns(&a).iter().enumerate() {
                step.y_hat.data.0[first + k] = y_hat_k.data.0[0];
            }
        }
        for b in together..B {
            step.y_hat.data.0[b] = G::forward(&SVector::from(step.a.data.0[b])).data.0[0];
        }
    }
}

/// The forward loop over a batch, as a [`Vectorized`] operation: records `xs.len()` steps from
/// `h0` into `steps`, each reading `H_{t−1}` where the previous one recorded it.
struct BatchForward<'a, const I: usize, const H: usize, const O: usize, const B: usize, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    rnn: &'a Rnn<I, H, O, F, G, T>,
    h0: &'a SMatrix<T, H, B>,
    xs: &'a [SMatrix<T, I, B>],
    steps: &'a mut [BatchStep<H, O, B, T>],
}

impl<const I: usize, const H: usize, const O: usize, const B: usize, F, G, T> Vectorized
    for BatchForward<'_, I, H, O, B, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    type Output = ();

    #[inline(always)]
    fn run<V: InstructionSet>(self) {
        for (t, x) in self.xs.iter().enumerate() {
            let (done, rest) = self.steps.split_at_mut(t);
            let h_prev = done.last().map_or(self.h0, |previous| &previous.h);
            self.rnn
                .batch_record_step_into::<V, B>(h_prev, x, &mut rest[0]);
        }
    }
}
