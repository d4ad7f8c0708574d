//! Backpropagation through time: the loss and every row of the [gradient table](crate::gradient_table).
//!
//! [`Rnn::backward`] walks a recorded [`Trace`] from the last step to the first, accumulating
//! `∂L/∂θ` into a caller's [`Params`] and returning the loss and `∂L/∂h_0`.
//! [`Rnn::backward_with_intermediates`] also records, per step, the intermediate rows
//! `∂L/∂h_t`, `∂L/∂z_t`, `∂L_t/∂ŷ_t` and `∂L/∂a_t` ([`BackwardStep`]). [`Rnn::gradients`] and
//! [`Rnn::gradients_vec`] run forward and backward into fresh gradients.
//!
//! Nothing here allocates, and the model is never modified: a non-finite input gives non-finite
//! outputs (check them with [`Tensors::is_finite`](crate::Tensors::is_finite)) and nothing else.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::dispatch::{InstructionSet, Vectorized, widest};
use crate::gradient_table::{
    accumulate_bias, accumulate_outer_products_for, hidden_state_gradient,
    hidden_state_gradient_transposed_for, pre_activation_gradient, through_recurrence,
    through_recurrence_transposed_for,
};
use crate::kernels::gemm_add;
use crate::loss::LossFor;
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::Real;
use crate::targets::Targets;
use crate::trace::{ForwardStep, Trace};
use core::mem::size_of;
use nalgebra::{SMatrix, SVector};

/// The intermediate gradients of one step `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackwardStep<const H: usize, const O: usize, T = f32> {
    /// `∂L/∂h_t`, total: through `ŷ_t` and through every later step.
    pub dl_dh: SVector<T, H>,
    /// `δz_t = ∂L/∂z_t = f′(z_t) ⊙ ∂L/∂h_t`.
    pub dl_dz: SVector<T, H>,
    /// `∂L_t/∂ŷ_t` (zero at a step without a target).
    pub dl_dy_hat: SVector<T, O>,
    /// `δa_t = ∂L/∂a_t = J_g(a_t)ᵀ ∂L_t/∂ŷ_t` (zero at a step without a target).
    pub dl_da: SVector<T, O>,
}

impl<const H: usize, const O: usize, T: Real> BackwardStep<H, O, T> {
    /// All zeros: the initial content of a buffer.
    pub fn zeros() -> Self {
        Self {
            dl_dh: SVector::zeros(),
            dl_dz: SVector::zeros(),
            dl_dy_hat: SVector::zeros(),
            dl_da: SVector::zeros(),
        }
    }
}

impl<const H: usize, const O: usize, T: Real> Default for BackwardStep<H, O, T> {
    fn default() -> Self {
        Self::zeros()
    }
}

/// What one backward pass returns beside the gradients it accumulates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackwardSummary<const H: usize, T = f32> {
    /// The loss `L = Σ over scored steps of L_t`.
    pub loss: T,
    /// `∂L/∂h_0 = W_hᵀ δz_1`: to chain truncated windows, or to train the initial state.
    pub dl_dh0: SVector<T, H>,
}

/// Fresh gradients of one sequence: the loss, `∂L/∂θ`, `∂L/∂h_0`, and the intermediates of every
/// step in `B` (an array or a `Vec` of [`BackwardStep`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gradients<const I: usize, const H: usize, const O: usize, T, B> {
    /// The loss `L`.
    pub loss: T,
    /// `∂L/∂W_x`, `∂L/∂W_h`, `∂L/∂b_h`, `∂L/∂W_y`, `∂L/∂b_y`.
    pub params: Params<I, H, O, T>,
    /// `∂L/∂h_0`.
    pub dl_dh0: SVector<T, H>,
    /// `∂L/∂h_t`, `∂L/∂z_t`, `∂L_t/∂ŷ_t`, `∂L/∂a_t` for every step.
    pub steps: B,
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// The loss of a sequence, `L = Σ over scored steps of L_t(ŷ_t, y_t)`, by streaming steps: no
    /// trace, no gradient, constant memory.
    ///
    /// # Panics
    ///
    /// If `targets` are for a different number of steps than `xs`.
    ///
    /// ```
    /// use static_rnn::{CrossEntropy, LastStep, Rnn, SVector};
    /// let rnn = Rnn::<1, 4, 2>::zeros(); // outputs (½, ½) whatever the input
    /// let xs = [SVector::from([1.0_f32]); 10];
    /// let l = rnn.loss(CrossEntropy, &SVector::zeros(), &xs, &LastStep(SVector::from([1.0, 0.0])));
    /// assert!((l - 2f32.ln()).abs() < 1e-6);
    /// ```
    pub fn loss<L, Y>(&self, _loss: L, h0: &SVector<T, H>, xs: &[SVector<T, I>], targets: &Y) -> T
    where
        L: LossFor<G, T>,
        Y: Targets<T, O> + ?Sized,
    {
        check_targets(targets, xs.len());
        let mut h = *h0;
        let mut total = T::zero();
        for (t, x) in xs.iter().enumerate() {
            let step = self.record_step(&h, x);
            if let Some(y) = targets.at(t, xs.len()) {
                total += L::loss_and_delta(&step.a, &step.y_hat, y).0;
            }
            h = step.h;
        }
        total
    }

    /// Backpropagation through time over a recorded trace: adds `∂L/∂θ` to `grads` and returns
    /// the loss and `∂L/∂h_0`. No allocation.
    ///
    /// `xs` are the inputs the trace was recorded from; `loss` names the loss (a zero-sized value
    /// such as `CrossEntropy`), which with the model's output activation picks the fused or the
    /// general path at compile time.
    ///
    /// # Panics
    ///
    /// If `xs` and the trace, or the targets and the trace, differ in length.
    ///
    /// ```
    /// use static_rnn::{CrossEntropy, Params, Rnn, SVector};
    /// let mut rnn = Rnn::<2, 3, 2, static_rnn::Tanh, static_rnn::Softmax, f64>::zeros();
    /// rnn.params.w_x[(0, 0)] = 0.5;
    /// rnn.params.w_y[(1, 0)] = 1.0;
    /// let xs = [SVector::from([1.0, 0.0]), SVector::from([0.0, 1.0])];
    /// let ys = [SVector::from([1.0, 0.0]), SVector::from([0.0, 1.0])];
    /// let h0 = SVector::zeros();
    /// let trace = rnn.forward(&h0, &xs);
    /// let mut grads = Params::zeros();
    /// let summary = rnn.backward(CrossEntropy, &xs, &trace, &ys, &mut grads);
    /// assert_eq!(summary.loss, rnn.loss(CrossEntropy, &h0, &xs, &ys));
    /// assert!(grads.w_x[(0, 0)] != 0.0);
    /// ```
    pub fn backward<L, B, Y>(
        &self,
        loss: L,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
    ) -> BackwardSummary<H, T>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
    {
        self.bptt(loss, xs, trace, targets, grads, None)
    }

    /// [`backward`](Self::backward), also recording every step's intermediate gradients
    /// ([`BackwardStep`]) into the first `trace.len()` entries of `intermediates`.
    ///
    /// # Panics
    ///
    /// As `backward`, and if `intermediates` is shorter than the trace.
    pub fn backward_with_intermediates<L, B, Y>(
        &self,
        loss: L,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        intermediates: &mut [BackwardStep<H, O, T>],
    ) -> BackwardSummary<H, T>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
    {
        assert!(
            intermediates.len() >= trace.len(),
            "intermediates buffer holds {} steps but the trace has {}",
            intermediates.len(),
            trace.len()
        );
        self.bptt(loss, xs, trace, targets, grads, Some(intermediates))
    }

    /// Forward and backward over a sequence of `S` steps into fresh gradients, with every step's
    /// intermediates. No allocation.
    ///
    /// ```
    /// use static_rnn::{Mse, Identity, Rnn, SVector, Tanh};
    /// let rnn = Rnn::<1, 2, 1, Tanh, Identity, f64>::zeros();
    /// let xs = [SVector::from([1.0]); 3];
    /// let ys = [SVector::from([0.5]); 3];
    /// let g = rnn.gradients(Mse, &SVector::zeros(), &xs, &ys);
    /// assert_eq!(g.loss, 3.0 * 0.25);
    /// assert_eq!(g.params.b_y[0], 3.0 * 2.0 * (0.0 - 0.5));
    /// assert_eq!(g.steps[2].dl_dy_hat[0], -1.0);
    /// ```
    pub fn gradients<L, Y, const S: usize>(
        &self,
        loss: L,
        h0: &SVector<T, H>,
        xs: &[SVector<T, I>; S],
        targets: &Y,
    ) -> Gradients<I, H, O, T, [BackwardStep<H, O, T>; S]>
    where
        L: LossFor<G, T>,
        Y: Targets<T, O> + ?Sized,
    {
        let trace = self.forward(h0, xs);
        self.fresh_gradients(loss, xs, &trace, targets, [BackwardStep::zeros(); S])
    }

    /// Forward and backward over a sequence of any length into fresh gradients, with every step's
    /// intermediates in a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn gradients_vec<L, Y>(
        &self,
        loss: L,
        h0: &SVector<T, H>,
        xs: &[SVector<T, I>],
        targets: &Y,
    ) -> Gradients<I, H, O, T, alloc::vec::Vec<BackwardStep<H, O, T>>>
    where
        L: LossFor<G, T>,
        Y: Targets<T, O> + ?Sized,
    {
        let trace = self.forward_vec(h0, xs);
        let steps = alloc::vec![BackwardStep::zeros(); xs.len()];
        self.fresh_gradients(loss, xs, &trace, targets, steps)
    }

    /// Backward over `trace` into fresh gradients, with every step's intermediates in `steps`.
    fn fresh_gradients<L, B, Y, S>(
        &self,
        loss: L,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        mut steps: S,
    ) -> Gradients<I, H, O, T, S>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
        S: AsMut<[BackwardStep<H, O, T>]>,
    {
        let mut params = Params::zeros();
        let summary = self.bptt(loss, xs, trace, targets, &mut params, Some(steps.as_mut()));
        Gradients {
            loss: summary.loss,
            params,
            dl_dh0: summary.dl_dh0,
            steps,
        }
    }

    /// BPTT with the back-products chosen by size: by `W_yᵀ` and `W_hᵀ` formed once, which
    /// vectorizes, while they take at most [`TRANSPOSED_WEIGHTS_MAX_BYTES`] of stack; past that
    /// (a large `H` on a thread's stack) by transposed products of the weights in place.
    fn bptt<L, B, Y>(
        &self,
        loss: L,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        intermediates: Option<&mut [BackwardStep<H, O, T>]>,
    ) -> BackwardSummary<H, T>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
    {
        if transposes_fit::<T, H, O>() {
            self.bptt_transposed(loss, xs, trace, targets, grads, intermediates)
        } else {
            let products = InPlace {
                w_y: &self.params.w_y,
                w_h: &self.params.w_h,
            };
            self.bptt_widest(loss, &products, xs, trace, targets, grads, intermediates)
        }
    }

    /// BPTT by `W_yᵀ` and `W_hᵀ` formed once, in this function's own frame (so a model that
    /// takes the other path never reserves their stack, even in an unoptimized build).
    #[inline(never)]
    fn bptt_transposed<L, B, Y>(
        &self,
        loss: L,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        intermediates: Option<&mut [BackwardStep<H, O, T>]>,
    ) -> BackwardSummary<H, T>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
    {
        // The backward products are by W_yᵀ and W_hᵀ: formed once, they are summed column by
        // column like the forward products, which vectorizes (a dot product per column does not).
        let products = Transposed::of(&self.params);
        self.bptt_widest(loss, &products, xs, trace, targets, grads, intermediates)
    }

    /// [`bptt_loop`](Self::bptt_loop) compiled for the widest vector instructions ([`widest`]).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn bptt_widest<L, B, Y, P>(
        &self,
        loss: L,
        products: &P,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        intermediates: Option<&mut [BackwardStep<H, O, T>]>,
    ) -> BackwardSummary<H, T>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
        P: BackProducts<T, H, O>,
    {
        /// The arguments of `bptt_loop`, as a [`Vectorized`] operation.
        struct Loop<'a, const I: usize, const H: usize, const O: usize, F, G, T, L, B, Y, P>
        where
            F: HiddenActivation<T>,
            G: OutputActivation<T>,
            T: Real,
            Y: ?Sized,
        {
            rnn: &'a Rnn<I, H, O, F, G, T>,
            loss: L,
            products: &'a P,
            xs: &'a [SVector<T, I>],
            trace: &'a Trace<H, O, T, B>,
            targets: &'a Y,
            grads: &'a mut Params<I, H, O, T>,
            intermediates: Option<&'a mut [BackwardStep<H, O, T>]>,
        }

        impl<const I: usize, const H: usize, const O: usize, F, G, T, L, B, Y, P> Vectorized
            for Loop<'_, I, H, O, F, G, T, L, B, Y, P>
        where
            F: HiddenActivation<T>,
            G: OutputActivation<T>,
            T: Real,
            L: LossFor<G, T>,
            B: AsRef<[ForwardStep<H, O, T>]>,
            Y: Targets<T, O> + ?Sized,
            P: BackProducts<T, H, O>,
        {
            type Output = BackwardSummary<H, T>;

            #[inline(always)]
            fn run<V: InstructionSet>(self) -> BackwardSummary<H, T> {
                self.rnn.bptt_loop::<V, L, B, Y, P>(
                    self.loss,
                    self.products,
                    self.xs,
                    self.trace,
                    self.targets,
                    self.grads,
                    self.intermediates,
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
            intermediates,
        })
    }

    /// The BPTT loop, `t = T … 1`, one row of the gradient table per line.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn bptt_loop<V: InstructionSet, L, B, Y, P>(
        &self,
        _loss: L,
        products: &P,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        targets: &Y,
        grads: &mut Params<I, H, O, T>,
        mut intermediates: Option<&mut [BackwardStep<H, O, T>]>,
    ) -> BackwardSummary<H, T>
    where
        L: LossFor<G, T>,
        B: AsRef<[ForwardStep<H, O, T>]>,
        Y: Targets<T, O> + ?Sized,
        P: BackProducts<T, H, O>,
    {
        let steps = trace.steps();
        assert_eq!(
            xs.len(),
            steps.len(),
            "the trace has {} steps but {} inputs were given",
            steps.len(),
            xs.len()
        );
        check_targets(targets, steps.len());
        let mut loss = T::zero();
        let mut pending = PendingOuterProducts::new();
        // W_hᵀ δz_{t+1}: what flows back into h_t from the future (zero after the last step).
        let mut from_future = SVector::<T, H>::zeros();
        // What the loss needs of each step that can be computed for `LOSS_COLUMNS` steps at
        // once (`FastSoftmax` + cross-entropy: `ln max_k ŷ_k`), for the group of steps `t` is in.
        let mut step_terms = [T::zero(); LOSS_COLUMNS];
        for (t, step) in steps.iter().enumerate().rev() {
            let slot = t % LOSS_COLUMNS;
            if L::STEP_TERMS_TOGETHER && (slot == LOSS_COLUMNS - 1 || t + 1 == steps.len()) {
                // The group's steps, its last repeated past the end of the sequence; only for a
                // group that holds a scored step (`LastStep` scores one step in `T`).
                let first = t - slot;
                if (first..=t)
                    .rev()
                    .any(|s| targets.at(s, steps.len()).is_some())
                {
                    let y_hats = core::array::from_fn(|k| &steps[(first + k).min(t)].y_hat);
                    step_terms = L::step_terms(y_hats);
                }
            }
            // Output layer, at a scored step: L_t, δa_t, ∂L/∂b_y (∂L/∂W_y with the group).
            // (Not `Option::map` with a closure: a closure is not inlined into the widest copy.)
            let target = targets.at(t, steps.len());
            let delta_a = if let Some(y) = target {
                let (l_t, delta_a) = if L::STEP_TERMS_TOGETHER {
                    L::loss_and_delta_given(&step.a, &step.y_hat, y, step_terms[slot])
                } else {
                    L::loss_and_delta(&step.a, &step.y_hat, y)
                };
                loss += l_t;
                accumulate_bias(&mut grads.b_y, &delta_a);
                Some(delta_a)
            } else {
                None
            };
            // Hidden layer: ∂L/∂h_t, δz_t, ∂L/∂b_h, and W_hᵀ δz_t for step t − 1 (∂L/∂W_x and
            // ∂L/∂W_h with the group).
            let dl_dh = products.hidden_state_gradient::<V>(delta_a.as_ref(), &from_future);
            let delta_z = pre_activation_gradient(&F::jacobian(&step.z, &step.h), &dl_dh);
            accumulate_bias(&mut grads.b_h, &delta_z);
            from_future = products.through_recurrence::<V>(&delta_z);
            pending.push::<V, I, B>(t, &delta_z, delta_a.as_ref(), xs, trace, grads);

            if let Some(records) = intermediates.as_deref_mut() {
                records[t] = BackwardStep {
                    dl_dh,
                    dl_dz: delta_z,
                    dl_dy_hat: target.map_or_else(SVector::zeros, |y| L::gradient(&step.y_hat, y)),
                    dl_da: delta_a.unwrap_or_else(SVector::zeros),
                };
            }
        }
        pending.finish::<V, I, B>(xs, trace, grads);
        BackwardSummary {
            loss,
            dl_dh0: from_future,
        }
    }
}

/// Steps (a minibatch: columns) whose [`LossFor::step_terms`] BPTT computes together: a 512-bit
/// register of `f32`.
pub(crate) const LOSS_COLUMNS: usize = 16;

/// The most stack the transposed weights `W_yᵀ`, `W_hᵀ` may take (`H·(H + O)` scalars) for BPTT
/// to form them: 256 KiB, every benchmarked size in `f32` but the largest of the `H` sweep.
/// Larger models (`H = 256` trained on a 2 MiB thread) multiply by the weights in place.
pub const TRANSPOSED_WEIGHTS_MAX_BYTES: usize = 256 * 1024;

/// Whether BPTT forms `W_yᵀ` and `W_hᵀ` (they take at most [`TRANSPOSED_WEIGHTS_MAX_BYTES`]).
pub(crate) const fn transposes_fit<T, const H: usize, const O: usize>() -> bool {
    H * (H + O) * size_of::<T>() <= TRANSPOSED_WEIGHTS_MAX_BYTES
}

/// The two products BPTT sends gradients back through: `W_yᵀ δa_t (+ W_hᵀ δz_{t+1})` and `W_hᵀ δz_t`,
/// for one sequence (vectors) and for a minibatch (`B` columns, [`crate::batch`]).
pub(crate) trait BackProducts<T: Real, const H: usize, const O: usize> {
    /// `∂L/∂h_t = W_yᵀ δa_t + from_future` ([`hidden_state_gradient`]).
    fn hidden_state_gradient<V: InstructionSet>(
        &self,
        delta_a: Option<&SVector<T, O>>,
        from_future: &SVector<T, H>,
    ) -> SVector<T, H>;

    /// `W_hᵀ δz_t` ([`through_recurrence`]).
    fn through_recurrence<V: InstructionSet>(&self, delta_z: &SVector<T, H>) -> SVector<T, H>;

    /// `∂L/∂H_t ← ∂L/∂H_t + W_yᵀ ΔA_t` for a batch, with the kernels of
    /// the instruction set `V` (see [`InstructionSet`]).
    fn batch_add_output_gradient<V: InstructionSet, const B: usize>(
        &self,
        dl_dh: &mut SMatrix<T, H, B>,
        delta_a: &SMatrix<T, O, B>,
    );

    /// `product ← W_hᵀ ΔZ_t` for a batch (overwritten).
    fn batch_through_recurrence<V: InstructionSet, const B: usize>(
        &self,
        product: &mut SMatrix<T, H, B>,
        delta_z: &SMatrix<T, H, B>,
    );
}

/// By `W_yᵀ` and `W_hᵀ`, formed once per pass (aligned as [`Params`]).
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub(crate) struct Transposed<T, const H: usize, const O: usize> {
    w_y_t: SMatrix<T, H, O>,
    w_h_t: SMatrix<T, H, H>,
}

impl<T: Real, const H: usize, const O: usize> Transposed<T, H, O> {
    /// `W_yᵀ` and `W_hᵀ` of `params`.
    pub(crate) fn of<const I: usize>(params: &Params<I, H, O, T>) -> Self {
        Self {
            w_y_t: params.w_y.transpose(),
            w_h_t: params.w_h.transpose(),
        }
    }
}

impl<T: Real, const H: usize, const O: usize> BackProducts<T, H, O> for Transposed<T, H, O> {
    #[inline(always)]
    fn hidden_state_gradient<V: InstructionSet>(
        &self,
        delta_a: Option<&SVector<T, O>>,
        from_future: &SVector<T, H>,
    ) -> SVector<T, H> {
        hidden_state_gradient_transposed_for::<V, _, O, H>(&self.w_y_t, delta_a, from_future)
    }

    #[inline(always)]
    fn through_recurrence<V: InstructionSet>(&self, delta_z: &SVector<T, H>) -> SVector<T, H> {
        through_recurrence_transposed_for::<V, _, H>(&self.w_h_t, delta_z)
    }

    #[inline(always)]
    fn batch_add_output_gradient<V: InstructionSet, const B: usize>(
        &self,
        dl_dh: &mut SMatrix<T, H, B>,
        delta_a: &SMatrix<T, O, B>,
    ) {
        gemm_add::<V, _, _, _, _>(dl_dh, &self.w_y_t, delta_a);
    }

    #[inline(always)]
    fn batch_through_recurrence<V: InstructionSet, const B: usize>(
        &self,
        product: &mut SMatrix<T, H, B>,
        delta_z: &SMatrix<T, H, B>,
    ) {
        // Over the contiguous storage: nalgebra's `fill` walks a strided iterator, one element at
        // a time.
        product.as_mut_slice().fill(T::zero());
        gemm_add::<V, _, _, _, _>(product, &self.w_h_t, delta_z);
    }
}

/// By the weights themselves, transposed in the product.
pub(crate) struct InPlace<'a, T, const H: usize, const O: usize> {
    pub(crate) w_y: &'a SMatrix<T, O, H>,
    pub(crate) w_h: &'a SMatrix<T, H, H>,
}

impl<T: Real, const H: usize, const O: usize> BackProducts<T, H, O> for InPlace<'_, T, H, O> {
    #[inline(always)]
    fn hidden_state_gradient<V: InstructionSet>(
        &self,
        delta_a: Option<&SVector<T, O>>,
        from_future: &SVector<T, H>,
    ) -> SVector<T, H> {
        hidden_state_gradient(self.w_y, delta_a, from_future)
    }

    #[inline(always)]
    fn through_recurrence<V: InstructionSet>(&self, delta_z: &SVector<T, H>) -> SVector<T, H> {
        through_recurrence(self.w_h, delta_z)
    }

    #[inline(always)]
    fn batch_add_output_gradient<V: InstructionSet, const B: usize>(
        &self,
        dl_dh: &mut SMatrix<T, H, B>,
        delta_a: &SMatrix<T, O, B>,
    ) {
        dl_dh.gemm_tr(T::one(), self.w_y, delta_a, T::one());
    }

    #[inline(always)]
    fn batch_through_recurrence<V: InstructionSet, const B: usize>(
        &self,
        product: &mut SMatrix<T, H, B>,
        delta_z: &SMatrix<T, H, B>,
    ) {
        product.gemm_tr(T::one(), self.w_h, delta_z, T::zero());
    }
}

/// Steps whose outer products BPTT adds to the weight gradients in one pass.
const GROUP: usize = 4;

/// The rows `∂L/∂W_x += δz_t x_tᵀ`, `∂L/∂W_h += δz_t h_{t−1}ᵀ` and `∂L/∂W_y += δa_t h_tᵀ` of
/// up to [`GROUP`] steps, waiting to be added to the gradients together
/// ([`accumulate_outer_products`](crate::gradient_table::accumulate_outer_products)): each
/// gradient matrix is then read and written once per group instead of once per step. Aligned as
/// [`Params`].
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
struct PendingOuterProducts<const H: usize, const O: usize, T> {
    steps: [usize; GROUP],
    delta_z: [SVector<T, H>; GROUP],
    /// `δa_t`, zero at a step without a target.
    delta_a: [SVector<T, O>; GROUP],
    scored: [bool; GROUP],
    len: usize,
}

impl<const H: usize, const O: usize, T: Real> PendingOuterProducts<H, O, T> {
    #[inline(always)]
    fn new() -> Self {
        Self {
            steps: [0; GROUP],
            delta_z: [SVector::zeros(); GROUP],
            delta_a: [SVector::zeros(); GROUP],
            scored: [false; GROUP],
            len: 0,
        }
    }

    /// Adds step `t`'s `δz_t` and `δa_t` to the group, and the group to `grads` once it is full.
    #[inline(always)]
    fn push<V: InstructionSet, const I: usize, B: AsRef<[ForwardStep<H, O, T>]>>(
        &mut self,
        t: usize,
        delta_z: &SVector<T, H>,
        delta_a: Option<&SVector<T, O>>,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        grads: &mut Params<I, H, O, T>,
    ) {
        let k = self.len;
        self.steps[k] = t;
        self.delta_z[k] = *delta_z;
        self.delta_a[k] = delta_a.copied().unwrap_or_else(SVector::zeros);
        self.scored[k] = delta_a.is_some();
        self.len += 1;
        if self.len == GROUP {
            let steps = trace.steps();
            let delta_z = self.delta_z.each_ref();
            let inputs = self.steps.map(|t| &xs[t]);
            accumulate_outer_products_for::<V, T, H, I, GROUP>(&mut grads.w_x, delta_z, inputs);
            // A loop, not `self.steps.map(…)`: with `state_before`'s branch in its closure, that
            // `array::map` was not inlined into the widest copy (the two beside it are) but
            // called, every vector register saved around the call.
            let mut h_prev = [&trace.h0; GROUP];
            for (h, &t) in h_prev.iter_mut().zip(&self.steps) {
                *h = trace.state_before(t);
            }
            accumulate_outer_products_for::<V, T, H, H, GROUP>(&mut grads.w_h, delta_z, h_prev);
            if self.scored.contains(&true) {
                accumulate_outer_products_for::<V, T, O, H, GROUP>(
                    &mut grads.w_y,
                    self.delta_a.each_ref(),
                    self.steps.map(|t| &steps[t].h),
                );
            }
            self.len = 0;
        }
    }

    /// Adds the steps left in an incomplete group, one at a time (groups of one).
    #[inline(always)]
    fn finish<V: InstructionSet, const I: usize, B: AsRef<[ForwardStep<H, O, T>]>>(
        &mut self,
        xs: &[SVector<T, I>],
        trace: &Trace<H, O, T, B>,
        grads: &mut Params<I, H, O, T>,
    ) {
        for k in 0..self.len {
            let t = self.steps[k];
            let delta_z = [&self.delta_z[k]];
            accumulate_outer_products_for::<V, T, H, I, 1>(&mut grads.w_x, delta_z, [&xs[t]]);
            let h_prev = [trace.state_before(t)];
            accumulate_outer_products_for::<V, T, H, H, 1>(&mut grads.w_h, delta_z, h_prev);
            if self.scored[k] {
                let (delta_a, h) = ([&self.delta_a[k]], [&trace.steps()[t].h]);
                accumulate_outer_products_for::<V, T, O, H, 1>(&mut grads.w_y, delta_a, h);
            }
        }
        self.len = 0;
    }
}

/// Panics with a clear message if `targets` are for a different number of steps than `len`.
fn check_targets<T: Real, const O: usize, Y: Targets<T, O> + ?Sized>(targets: &Y, len: usize) {
    if let Some(n) = targets.steps() {
        assert_eq!(
            n, len,
            "{n} targets were given for a sequence of {len} steps"
        );
    }
}
