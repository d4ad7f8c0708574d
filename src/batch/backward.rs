//! Backpropagation through time over a batch, with matrix–matrix products.

use super::jacobian::BatchDiagonal;
use super::targets::{BatchTargets, check_batch_targets};
use super::trace::{BatchStep, BatchTrace};
use crate::activation::{HiddenActivation, OutputActivation};
use crate::backward::{BackProducts, InPlace, LOSS_COLUMNS, Transposed, transposes_fit};
use crate::dispatch::{InstructionSet, Vectorized, widest};
use crate::kernels::{CacheAligned, gemm_nt_add};
use crate::loss::LossFor;
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::Real;
use nalgebra::{SMatrix, SVector};

/// What one backward pass over a batch returns beside the gradients it accumulates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchSummary<const H: usize, const B: usize, T = f32> {
    /// The loss of the batch: `L = Σ_b L⁽ᵇ⁾` for [`Rnn::batch_backward`], `L/B` for
    /// [`Rnn::batch_backward_mean`].
    pub loss: T,
    /// `∂L/∂H_0 = W_hᵀ ΔZ_1` (of `L/B` for the mean): column `b` is `∂L⁽ᵇ⁾/∂h_0⁽ᵇ⁾` of sequence `b`
    /// (divided by `B` for the mean).
    pub dl_dh0: SMatrix<T, H, B>,
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// The loss of a batch, `L = Σ_b Σ over scored steps t of L_t⁽ᵇ⁾`, by streaming steps: no
    /// trace, no gradient, constant memory. Divide by `B` for the mean over the sequences.
    ///
    /// # Panics
    ///
    /// If `targets` are for a different number of steps than `xs`.
    ///
    /// ```
    /// use static_rnn::{batch::BatchLastStep, CrossEntropy, Rnn, SMatrix};
    /// let rnn = Rnn::<1, 4, 2>::zeros(); // outputs (½, ½) whatever the input
    /// let xs = [SMatrix::<f32, 1, 3>::repeat(1.0); 10];
    /// let y = SMatrix::<f32, 2, 3>::from_fn(|k, _| if k == 0 { 1.0 } else { 0.0 });
    /// let l = rnn.batch_loss(CrossEntropy, &SMatrix::zeros(), &xs, &BatchLastStep(y));
    /// assert!((l - 3.0 * 2f32.ln()).abs() < 1e-5);
    /// ```
    pub fn batch_loss<L, Y, const B: usize>(
        &self,
        _loss: L,
        h0: &SMatrix<T, H, B>,
        xs: &[SMatrix<T, I, B>],
        targets: &Y,
    ) -> T
    where
        L: LossFor<G, T>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        check_batch_targets(targets, xs.len());
        let mut h = *h0;
        let mut total = T::zero();
        for (t, x) in xs.iter().enumerate() {
            let step = self.batch_record_step(&h, x);
            if let Some(y) = targets.at(t, xs.len()) {
                total += output_deltas::<L, G, T, O, B>(&step.a, &step.y_hat, y).0;
            }
            h = step.h;
        }
        total
    }

    /// Backpropagation through time over a recorded batch: adds the **sum** over the sequences
    /// of `∂L⁽ᵇ⁾/∂θ` to `grads`, and returns the summed loss and `∂L/∂H_0`. No allocation.
    ///
    /// The result is, up to the order of the additions, that of one [`backward`](Self::backward)
    /// per sequence into the same `grads`.
    ///
    /// # Panics
    ///
    /// If `xs` and the trace, or the targets and the trace, differ in length.
    ///
    /// ```
    /// use static_rnn::{Identity, Mse, Params, Rnn, SMatrix, SVector, Tanh};
    /// let rnn = Rnn::<1, 2, 1, Tanh, Identity, f64>::zeros();
    /// // Four sequences of three steps, every output 0, every target 0.5.
    /// let xs = [SMatrix::<f64, 1, 4>::repeat(1.0); 3];
    /// let ys = [SMatrix::<f64, 1, 4>::repeat(0.5); 3];
    /// let trace = rnn.batch_forward(&SMatrix::zeros(), &xs);
    /// let mut grads = Params::zeros();
    /// let summary = rnn.batch_backward(Mse, &xs, &trace, &ys, &mut grads);
    /// assert_eq!(summary.loss, 4.0 * 3.0 * 0.25);
    /// assert_eq!(grads.b_y[0], 4.0 * 3.0 * 2.0 * (0.0 - 0.5));
    /// ```
    pub fn batch_backward<L, Steps, Y, const B: usize>(
        &self,
        loss: L,
        xs: &[SMatrix<T, I, B>],
        trace: &BatchTrace<H, O, B, T, Steps>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
    ) -> BatchSummary<H, B, T>
    where
        L: LossFor<G, T>,
        Steps: AsRef<[BatchStep<H, O, B, T>]>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        self.batch_bptt(loss, xs, trace, targets, grads, T::one())
    }

    /// [`batch_backward`](Self::batch_backward) for the **mean** over the sequences,
    /// `L/B = (1/B) Σ_b L⁽ᵇ⁾`: adds `(1/B) Σ_b ∂L⁽ᵇ⁾/∂θ` to `grads` and returns `L/B` and
    /// `∂(L/B)/∂H_0`. With it, a learning rate means the same for every batch size.
    ///
    /// The backward pass is that of the sum; `1/B` scales what is added to `grads` (as the
    /// `α` of each matrix product), so the accumulator's earlier content is not scaled, and the
    /// returned `L/B` and `∂(L/B)/∂H_0` are exactly `fl(1/B)` times the sum's.
    ///
    /// # Panics
    ///
    /// As `batch_backward`.
    ///
    /// ```
    /// use static_rnn::{Identity, Mse, Params, Rnn, SMatrix, Tanh};
    /// let rnn = Rnn::<1, 2, 1, Tanh, Identity, f64>::zeros();
    /// let xs = [SMatrix::<f64, 1, 4>::repeat(1.0); 3];
    /// let ys = [SMatrix::<f64, 1, 4>::repeat(0.5); 3];
    /// let trace = rnn.batch_forward(&SMatrix::zeros(), &xs);
    /// let mut grads = Params::zeros();
    /// let summary = rnn.batch_backward_mean(Mse, &xs, &trace, &ys, &mut grads);
    /// assert_eq!(summary.loss, 3.0 * 0.25); // one sequence's loss
    /// assert_eq!(grads.b_y[0], 3.0 * 2.0 * (0.0 - 0.5));
    /// ```
    pub fn batch_backward_mean<L, Steps, Y, const B: usize>(
        &self,
        loss: L,
        xs: &[SMatrix<T, I, B>],
        trace: &BatchTrace<H, O, B, T, Steps>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
    ) -> BatchSummary<H, B, T>
    where
        L: LossFor<G, T>,
        Steps: AsRef<[BatchStep<H, O, B, T>]>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        let batch_size: T = nalgebra::convert(B as f64);
        self.batch_bptt(loss, xs, trace, targets, grads, T::one() / batch_size)
    }

    /// BPTT over a batch with the back-products chosen by size, as for one sequence: by `W_yᵀ`
    /// and `W_hᵀ` formed once while they fit [`TRANSPOSED_WEIGHTS_MAX_BYTES`], else by the
    /// weights in place. What it adds to `grads`, and the loss and `∂L/∂H_0` it returns, are
    /// scaled by `scale` (`1` for the sum, `1/B` for the mean).
    ///
    /// [`TRANSPOSED_WEIGHTS_MAX_BYTES`]: crate::backward::TRANSPOSED_WEIGHTS_MAX_BYTES
    fn batch_bptt<L, Steps, Y, const B: usize>(
        &self,
        loss: L,
        xs: &[SMatrix<T, I, B>],
        trace: &BatchTrace<H, O, B, T, Steps>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        scale: T,
    ) -> BatchSummary<H, B, T>
    where
        L: LossFor<G, T>,
        Steps: AsRef<[BatchStep<H, O, B, T>]>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        if transposes_fit::<T, H, O>() {
            self.batch_bptt_transposed(loss, xs, trace, targets, grads, scale)
        } else {
            let products = InPlace {
                w_y: &self.params.w_y,
                w_h: &self.params.w_h,
            };
            self.batch_bptt_widest(loss, &products, xs, trace, targets, grads, scale)
        }
    }

    /// [`batch_bptt`](Self::batch_bptt) by `W_yᵀ`, `W_hᵀ` formed in this function's own frame.
    #[inline(never)]
    fn batch_bptt_transposed<L, Steps, Y, const B: usize>(
        &self,
        loss: L,
        xs: &[SMatrix<T, I, B>],
        trace: &BatchTrace<H, O, B, T, Steps>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        scale: T,
    ) -> BatchSummary<H, B, T>
    where
        L: LossFor<G, T>,
        Steps: AsRef<[BatchStep<H, O, B, T>]>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        let products = Transposed::of(&self.params);
        self.batch_bptt_widest(loss, &products, xs, trace, targets, grads, scale)
    }

    /// [`batch_bptt_loop`](Self::batch_bptt_loop) compiled for the widest vector instructions
    /// ([`widest`]).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn batch_bptt_widest<L, P, Steps, Y, const B: usize>(
        &self,
        loss: L,
        products: &P,
        xs: &[SMatrix<T, I, B>],
        trace: &BatchTrace<H, O, B, T, Steps>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        scale: T,
    ) -> BatchSummary<H, B, T>
    where
        L: LossFor<G, T>,
        P: BackProducts<T, H, O>,
        Steps: AsRef<[BatchStep<H, O, B, T>]>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        /// The arguments of `batch_bptt_loop`, as a [`Vectorized`] operation.
        struct Loop<
            'a,
            const I: usize,
            const H: usize,
            const O: usize,
            const B: usize,
            F,
            G,
            T,
            L,
            P,
            Steps,
            Y: ?Sized,
        >
        where
            F: HiddenActivation<T>,
            G: OutputActivation<T>,
            T: Real,
        {
            rnn: &'a Rnn<I, H, O, F, G, T>,
            loss: L,
            products: &'a P,
            xs: &'a [SMatrix<T, I, B>],
            trace: &'a BatchTrace<H, O, B, T, Steps>,
            targets: &'a Y,
            grads: &'a mut Params<I, H, O, T>,
            scale: T,
        }

        impl<
            const I: usize,
            const H: usize,
            const O: usize,
            const B: usize,
            F,
            G,
            T,
            L,
            P,
            Steps,
            Y,
        > Vectorized for Loop<'_, I, H, O, B, F, G, T, L, P, Steps, Y>
        where
            F: HiddenActivation<T>,
            G: OutputActivation<T>,
            T: Real,
            L: LossFor<G, T>,
            P: BackProducts<T, H, O>,
            Steps: AsRef<[BatchStep<H, O, B, T>]>,
            Y: BatchTargets<T, O, B> + ?Sized,
        {
            type Output = BatchSummary<H, B, T>;

            #[inline(always)]
            fn run<V: InstructionSet>(self) -> BatchSummary<H, B, T> {
                self.rnn.batch_bptt_loop::<V, L, P, Steps, Y, B>(
                    self.loss,
                    self.products,
                    self.xs,
                    self.trace,
                    self.targets,
                    self.grads,
                    self.scale,
                )
            }
        }

        widest(Loop {
            rnn: self,
            loss,
            products,
            xs,
            trace,
            targets,
            grads,
            scale,
        })
    }

    /// The BPTT loop over a batch, `t = T … 1`, one row of the gradient table per line.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn batch_bptt_loop<V: InstructionSet, L, P, Steps, Y, const B: usize>(
        &self,
        _loss: L,
        products: &P,
        xs: &[SMatrix<T, I, B>],
        trace: &BatchTrace<H, O, B, T, Steps>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        scale: T,
    ) -> BatchSummary<H, B, T>
    where
        L: LossFor<G, T>,
        P: BackProducts<T, H, O>,
        Steps: AsRef<[BatchStep<H, O, B, T>]>,
        Y: BatchTargets<T, O, B> + ?Sized,
    {
        let steps = trace.steps();
        assert_eq!(
            xs.len(),
            steps.len(),
            "the batch trace has {} steps but {} inputs were given",
            steps.len(),
            xs.len()
        );
        check_batch_targets(targets, steps.len());
        let mut loss = T::zero();
        // ∂L/∂H_t, which starts as W_hᵀ ΔZ_{t+1}: what flows back into H_t from the future
        // (zero after the last step). It, ΔA_t and ΔZ_t are cache-aligned on the stack, as the
        // trace and the gradients are, for the kernels' whole-column loads and stores.
        let mut dl_dh = CacheAligned(SMatrix::<T, H, B>::zeros());
        let dl_dh = &mut dl_dh.0;
        for (t, (step, x)) in steps.iter().zip(xs).enumerate().rev() {
            if let Some(y) = targets.at(t, steps.len()) {
                // Output layer, at a scored step: L_t, ΔA_t column by column.
                let (l_t, delta_a) = output_deltas::<L, G, T, O, B>(&step.a, &step.y_hat, y);
                let delta_a = CacheAligned(delta_a);
                let delta_a = &delta_a.0;
                loss += l_t;
                // ∂L/∂W_y += ΔA_t H_tᵀ
                gemm_nt_add::<V, _, _, _, _>(&mut grads.w_y, scale, delta_a, &step.h);
                // ∂L/∂b_y += ΔA_t 1
                grads.b_y += delta_a.column_sum() * scale;
                // ∂L/∂H_t = W_yᵀ ΔA_t + W_hᵀ ΔZ_{t+1}
                products.batch_add_output_gradient::<V, B>(dl_dh, delta_a);
            }
            // ΔZ_t = f′(Z_t) ⊙ ∂L/∂H_t
            let delta_z =
                CacheAligned(BatchDiagonal::of_activation::<F>(&step.z, &step.h).hadamard(dl_dh));
            let delta_z = &delta_z.0;
            // ∂L/∂W_x += ΔZ_t X_tᵀ
            gemm_nt_add::<V, _, _, _, _>(&mut grads.w_x, scale, delta_z, x);
            // ∂L/∂W_h += ΔZ_t H_{t−1}ᵀ
            gemm_nt_add::<V, _, _, _, _>(&mut grads.w_h, scale, delta_z, trace.state_before(t));
            // ∂L/∂b_h += ΔZ_t 1
            grads.b_h += delta_z.column_sum() * scale;
            // W_hᵀ ΔZ_t, for step t − 1; after t = 1 it is ∂L/∂H_0.
            products.batch_through_recurrence::<V, B>(dl_dh, delta_z);
        }
        BatchSummary {
            loss: loss * scale,
            dl_dh0: *dl_dh * scale,
        }
    }
}

/// `(Σ_b L_t⁽ᵇ⁾, ΔA_t)`, column `b` of `ΔA_t` being `δa_t` of sequence `b` from the
/// per-sequence [`LossFor::loss_and_delta`], bit for bit: through
/// [`LossFor::loss_and_delta_given`], with [`LossFor::step_terms`] asked for 16 columns at a
/// time (`FastSoftmax`'s logarithm across them in vector registers, as one sequence's BPTT does
/// across 16 steps).
#[inline(always)]
fn output_deltas<L, G, T, const O: usize, const B: usize>(
    a: &SMatrix<T, O, B>,
    y_hat: &SMatrix<T, O, B>,
    y: &SMatrix<T, O, B>,
) -> (T, SMatrix<T, O, B>)
where
    L: LossFor<G, T>,
    G: OutputActivation<T>,
    T: Real,
{
    let mut loss = T::zero();
    let mut delta_a = SMatrix::<T, O, B>::zeros();
    for first in (0..B).step_by(LOSS_COLUMNS) {
        let count = (B - first).min(LOSS_COLUMNS);
        // The group's columns, the last repeated past the end of the batch. Columns are read
        // and written as the arrays nalgebra stores them in, by loops: `array::from_fn` with a
        // closure, and nalgebra's column views, were calls out of the widest copy.
        let mut y_hats = [SVector::<T, O>::zeros(); LOSS_COLUMNS];
        for (k, y_hat_k) in y_hats.iter_mut().enumerate() {
            *y_hat_k = SVector::from(y_hat.data.0[first + k.min(count - 1)]);
        }
        let terms = L::step_terms(y_hats.each_ref());
        for (k, (y_hat_b, &term)) in y_hats.iter().zip(&terms).take(count).enumerate() {
            let b = first + k;
            let a_b = SVector::from(a.data.0[b]);
            let y_b = SVector::from(y.data.0[b]);
            let (l_b, delta_a_b) = L::loss_and_delta_given(&a_b, y_hat_b, &y_b, term);
            loss += l_b;
            delta_a.data.0[b] = delta_a_b.data.0[0];
        }
    }
    (loss, delta_a)
}
