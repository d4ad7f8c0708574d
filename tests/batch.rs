//! Minibatches against per-sequence passes: for random models, batches and targets, the batch
//! forward, the batch BPTT and streaming batch inference must give, sequence by sequence, what
//! `Rnn::forward`, `Rnn::backward` and `Rnn::step` give for each sequence alone.
//!
//! The reference is independent of the code under test: `B` separate per-sequence passes (vector
//! code: `gemv`, rank-one updates), summed. The batch path computes the same sums with
//! matrix–matrix products, in another order, so the comparison is to a tolerance: in `f64`,
//! `1e−12` relative to the largest entry of each compared quantity (`max_i |got_i − want_i| ≤
//! 1e−12 · max_i |want_i|`, per parameter tensor, per column of each forward quantity, and for
//! the loss; a column of `∂L/∂H_0 = W_hᵀ ΔZ_1`, which can cancel, is measured against the size of
//! the terms BPTT summed into it, `|W_h|ᵀ s_1` with `s_t = f′(z_t) ⊙ (|W_y|ᵀ |δa_t| + |W_h|ᵀ s_{t+1})`). The sums have at most `12 · 8` terms, so reordering them changes
//! the result by a few units of `2⁻⁵³ ≈ 1.1e−16` of the terms' size, more relative to a sum that
//! cancels: over 30 000 cases per property the worst seen was `5.3e−14` (a linear recurrence,
//! `B = 8`), most are below `1e−14`.
//!
//! Each case checks three kinds of targets (every step, random optional steps, last step only),
//! the sum and the mean reduction, accumulation into a non-zero gradient, the streaming batch loss,
//! and streaming batch inference.

mod common;

use common::{Rng, random_model};
use quickcheck::QuickCheck;
use static_rnn::{
    BackwardStep, BatchLastStep, BatchStep, BatchTargets, BinaryCrossEntropy, CrossEntropy,
    FastSoftmax, ForwardStep, HiddenActivation, Identity, LastStep, LossFor, Mse, OutputActivation,
    Params, Real, Relu, Rnn, SMatrix, SVector, Sigmoid, Softmax, Tanh, Targets, Tensors,
    scalar::constant, scalar::to_f64,
};
use std::cell::RefCell;

const I: usize = 3;
const H: usize = 5;
const O: usize = 4;
/// Sequences have `0 ..= MAX_STEPS` steps.
const MAX_STEPS: u8 = 12;
/// quickcheck cases per (activations, loss, batch size).
const CASES: u64 = 100;
const F64_TOLERANCE: f64 = 1e-12;
/// In `f32` (unit roundoff 6e−8) the two orders of summation of up to `12 · 8` terms differ by a
/// few `1e−7` of the terms' size; the worst seen over 100 000 cases per `f32` property was
/// `4.3e−6` (a gradient sum that cancels), so this leaves a margin of two.
const F32_TOLERANCE: f64 = 1e-5;

thread_local! {
    /// The worst error seen by the running test, per compared quantity.
    static WORST: RefCell<Vec<(&'static str, f64)>> = const { RefCell::new(Vec::new()) };
}

/// `max_i |got_i − want_i| / max_i |want_i|`; `0` when both are exactly zero.
fn normwise<T: Real>(got: &[T], want: &[T]) -> f64 {
    let scale = want.iter().fold(0.0_f64, |m, w| m.max(to_f64(*w).abs()));
    let error = got
        .iter()
        .zip(want)
        .fold(0.0_f64, |m, (g, w)| m.max((to_f64(*g) - to_f64(*w)).abs()));
    if error == 0.0 { 0.0 } else { error / scale }
}

/// `max_i |got_i − want_i| / max_i |scale_i|`: the error against the size of a sum's terms
/// (`scale`, at least `want` itself); `0` when `got` equals `want` exactly.
fn normwise_to<T: Real>(got: &[T], want: &[T], scale: &[T]) -> f64 {
    let size = scale
        .iter()
        .chain(want)
        .fold(0.0_f64, |m, x| m.max(to_f64(*x).abs()));
    let error = got
        .iter()
        .zip(want)
        .fold(0.0_f64, |m, (g, w)| m.max((to_f64(*g) - to_f64(*w)).abs()));
    if error == 0.0 { 0.0 } else { error / size }
}

/// The size of the terms of `z = W_h h_prev + W_x x + b_h`, entry by entry:
/// `|W_h| |h_prev| + |W_x| |x| + |b_h|`.
fn z_terms<F: HiddenActivation<T>, G: OutputActivation<T>, T: Real>(
    rnn: &Rnn<I, H, O, F, G, T>,
    h_prev: &SVector<T, H>,
    x: &SVector<T, I>,
) -> SVector<T, H> {
    let p = &rnn.params;
    p.w_h.abs() * h_prev.abs() + p.w_x.abs() * x.abs() + p.b_h.abs()
}

/// The size of the terms of `a = W_y h + b_y`, entry by entry: `|W_y| |h| + |b_y|`.
fn a_terms<F: HiddenActivation<T>, G: OutputActivation<T>, T: Real>(
    rnn: &Rnn<I, H, O, F, G, T>,
    h: &SVector<T, H>,
) -> SVector<T, O> {
    let p = &rnn.params;
    p.w_y.abs() * h.abs() + p.b_y.abs()
}

/// Records `error` for `what`; an error above `tolerance` (or `NaN`) fails the case.
struct Errors {
    tolerance: f64,
    failures: Vec<String>,
}

impl Errors {
    fn check(&mut self, what: &'static str, error: f64) {
        // Negated so that a NaN error fails.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(error <= self.tolerance) {
            self.failures.push(format!("{what}: {error:e}"));
        }
        WORST.with_borrow_mut(|worst| match worst.iter_mut().find(|(w, _)| *w == what) {
            Some((_, e)) => *e = e.max(error),
            None => worst.push((what, error)),
        });
    }

    /// A check that must hold bitwise.
    fn exact(&mut self, what: &'static str, holds: bool) {
        if !holds {
            self.failures.push(format!("{what}: not bitwise equal"));
        }
    }

    fn params<T: Real>(
        &mut self,
        what: &'static str,
        got: &Params<I, H, O, T>,
        want: &Params<I, H, O, T>,
    ) {
        for (g, w) in got.tensors().iter().zip(want.tensors()) {
            self.check(what, normwise(g, w));
        }
    }
}

/// Target generators, one per loss's domain.
fn distribution<T: Real>(rng: &mut Rng) -> SVector<T, O> {
    if rng.unit() < 0.5 {
        let k = (rng.unit() * O as f64) as usize;
        SVector::from_fn(|i, _| constant(if i == k { 1.0 } else { 0.0 }))
    } else {
        let w: SVector<f64, O> = SVector::from_fn(|_, _| rng.unit() + 0.01);
        (w / w.sum()).map(constant)
    }
}

fn probabilities<T: Real>(rng: &mut Rng) -> SVector<T, O> {
    SVector::from_fn(|_, _| constant(rng.unit()))
}

fn reals<T: Real>(rng: &mut Rng) -> SVector<T, O> {
    rng.matrix(2.0)
}

/// One case: a random model, `B` random sequences of `len % (MAX_STEPS + 1)` steps from random
/// initial states, random targets.
fn check<F, G, L, T, const B: usize>(
    loss: L,
    target: fn(&mut Rng) -> SVector<T, O>,
    tolerance: f64,
    seed: u64,
    len: u8,
) -> bool
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    L: LossFor<G, T>,
    T: Real,
{
    let mut rng = Rng::new(seed);
    let steps = usize::from(len % (MAX_STEPS + 1));
    let rnn: Rnn<I, H, O, F, G, T> = random_model(&mut rng);
    let h0s: [SVector<T, H>; B] = core::array::from_fn(|_| rng.matrix(1.0));
    let seqs: [Vec<SVector<T, I>>; B] =
        core::array::from_fn(|_| (0..steps).map(|_| rng.matrix(1.5)).collect());
    let ys: [Vec<SVector<T, O>>; B] =
        core::array::from_fn(|_| (0..steps).map(|_| target(&mut rng)).collect());
    let scored: Vec<bool> = (0..steps).map(|_| rng.unit() < 0.5).collect();
    let batch_of = |vectors: [&SVector<T, O>; B]| SMatrix::<T, O, B>::from_fn(|k, b| vectors[b][k]);

    let xs: Vec<SMatrix<T, I, B>> = (0..steps)
        .map(|t| SMatrix::from_fn(|i, b| seqs[b][t][i]))
        .collect();
    let mut errors = Errors {
        tolerance,
        failures: Vec::new(),
    };

    // Every step scored.
    let every: Vec<SMatrix<T, O, B>> = (0..steps)
        .map(|t| batch_of(core::array::from_fn(|b| &ys[b][t])))
        .collect();
    let every_seq: [&[SVector<T, O>]; B] = core::array::from_fn(|b| &ys[b][..]);
    compare(
        &rnn,
        loss,
        &h0s,
        &seqs,
        &xs,
        &every[..],
        every_seq,
        &mut rng,
        &mut errors,
    );

    // Random steps scored.
    let optional: Vec<Option<SMatrix<T, O, B>>> = every
        .iter()
        .zip(&scored)
        .map(|(y, &s)| s.then_some(*y))
        .collect();
    let optional_seq: [Vec<Option<SVector<T, O>>>; B] = core::array::from_fn(|b| {
        ys[b]
            .iter()
            .zip(&scored)
            .map(|(y, &s)| s.then_some(*y))
            .collect()
    });
    let optional_refs: [&[Option<SVector<T, O>>]; B] =
        core::array::from_fn(|b| &optional_seq[b][..]);
    compare(
        &rnn,
        loss,
        &h0s,
        &seqs,
        &xs,
        &optional[..],
        optional_refs,
        &mut rng,
        &mut errors,
    );

    // The last step only.
    let last_seq: [LastStep<T, O>; B] =
        core::array::from_fn(|b| LastStep(ys[b].last().copied().unwrap_or_else(SVector::zeros)));
    let last = BatchLastStep(batch_of(core::array::from_fn(|b| &last_seq[b].0)));
    let last_refs: [&LastStep<T, O>; B] = core::array::from_fn(|b| &last_seq[b]);
    compare(
        &rnn,
        loss,
        &h0s,
        &seqs,
        &xs,
        &last,
        last_refs,
        &mut rng,
        &mut errors,
    );

    // Streaming batch inference against `Rnn::step`, sequence by sequence.
    let mut h_batch = SMatrix::<T, H, B>::from_columns(&h0s);
    let mut h_seq = h0s;
    for (t, x) in xs.iter().enumerate() {
        let (h_next, y_hat) = rnn.batch_step(&h_batch, x);
        for b in 0..B {
            let (h_b, y_hat_b) = rnn.step(&h_seq[b], &seqs[b][t]);
            let z_scale = z_terms(&rnn, &h_seq[b], &seqs[b][t]);
            errors.check(
                "batch_step h",
                normwise_to(
                    h_next.column(b).as_slice(),
                    h_b.as_slice(),
                    z_scale.as_slice(),
                ),
            );
            errors.check(
                "batch_step ŷ",
                normwise_to(
                    y_hat.column(b).as_slice(),
                    y_hat_b.as_slice(),
                    a_terms(&rnn, &h_b).as_slice(),
                ),
            );
            h_seq[b] = h_b;
        }
        h_batch = h_next;
    }

    if !errors.failures.is_empty() {
        eprintln!("seed {seed}, {steps} steps, B = {B}: {:?}", errors.failures);
    }
    errors.failures.is_empty()
}

/// The batch pass against `B` per-sequence passes for one kind of targets.
#[allow(clippy::too_many_arguments)]
fn compare<F, G, L, T, Yb, Ys, const B: usize>(
    rnn: &Rnn<I, H, O, F, G, T>,
    loss: L,
    h0s: &[SVector<T, H>; B],
    seqs: &[Vec<SVector<T, I>>; B],
    xs: &[SMatrix<T, I, B>],
    batch_targets: &Yb,
    seq_targets: [&Ys; B],
    rng: &mut Rng,
    errors: &mut Errors,
) where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    L: LossFor<G, T>,
    T: Real,
    Yb: BatchTargets<T, O, B> + ?Sized,
    Ys: Targets<T, O> + ?Sized,
{
    let steps = xs.len();
    // Reference: one forward and backward per sequence, summed into one accumulator.
    let mut want = Params::zeros();
    let mut want_loss = T::zero();
    let mut want_dh0 = [SVector::<T, H>::zeros(); B];
    // The size of the terms of ∂L/∂h_0 = W_hᵀ δz_1, entry by entry: (|W_h|ᵀ |δz_1|)_i.
    let mut dh0_terms = [SVector::<T, H>::zeros(); B];
    let mut want_steps = Vec::new();
    for b in 0..B {
        let mut buffer = vec![ForwardStep::zeros(); steps];
        let mut intermediates = vec![BackwardStep::zeros(); steps];
        let trace = rnn.forward_into(&h0s[b], &seqs[b], &mut buffer);
        let summary = rnn.backward_with_intermediates(
            loss,
            &seqs[b],
            &trace,
            seq_targets[b],
            &mut want,
            &mut intermediates,
        );
        want_loss += summary.loss;
        want_dh0[b] = summary.dl_dh0;
        // The running bound of BPTT's sums, t = T … 1: s_t = f′(z_t) ⊙ (|W_y|ᵀ |δa_t| + |W_h|ᵀ s_{t+1}),
        // and the terms of ∂L/∂h_0 are bounded by |W_h|ᵀ s_1.
        let (w_y, w_h) = (rnn.params.w_y.abs(), rnn.params.w_h.abs());
        let mut from_future = SVector::<T, H>::zeros();
        for (step, record) in buffer.iter().zip(&intermediates).rev() {
            let f_prime = F::jacobian(&step.z, &step.h);
            let s_t = f_prime.hadamard(&(w_y.tr_mul(&record.dl_da.abs()) + from_future));
            from_future = w_h.tr_mul(&s_t);
        }
        dh0_terms[b] = from_future;
        want_steps.push(buffer);
    }

    let h0 = SMatrix::<T, H, B>::from_columns(h0s);
    let mut buffer = vec![BatchStep::zeros(); steps];
    let trace = rnn.batch_forward_into(&h0, xs, &mut buffer);
    // Z_t and A_t are sums whose terms can cancel, and the batch kernels add them in another
    // order than the per-sequence ones: their errors, and those of H_t = f(Z_t) and Ŷ_t = g(A_t)
    // (f and g change by at most as much as their argument), are measured against the size of
    // the terms (`z_terms`, `a_terms`).
    for (t, step) in trace.steps().iter().enumerate() {
        for (b, want_b) in want_steps.iter().enumerate() {
            let want_step = &want_b[t];
            let h_prev = if t == 0 { h0s[b] } else { want_b[t - 1].h };
            let z_scale = z_terms(rnn, &h_prev, &seqs[b][t]);
            let a_scale = a_terms(rnn, &want_step.h);
            errors.check(
                "forward z",
                normwise_to(
                    step.z.column(b).as_slice(),
                    want_step.z.as_slice(),
                    z_scale.as_slice(),
                ),
            );
            errors.check(
                "forward h",
                normwise_to(
                    step.h.column(b).as_slice(),
                    want_step.h.as_slice(),
                    z_scale.as_slice(),
                ),
            );
            errors.check(
                "forward a",
                normwise_to(
                    step.a.column(b).as_slice(),
                    want_step.a.as_slice(),
                    a_scale.as_slice(),
                ),
            );
            errors.check(
                "forward ŷ",
                normwise_to(
                    step.y_hat.column(b).as_slice(),
                    want_step.y_hat.as_slice(),
                    a_scale.as_slice(),
                ),
            );
        }
    }

    // The sum.
    let mut got = Params::zeros();
    let summary = rnn.batch_backward(loss, xs, &trace, batch_targets, &mut got);
    errors.check("loss", normwise(&[summary.loss], &[want_loss]));
    errors.params("∂L/∂θ", &got, &want);
    // ∂L/∂h_0 = W_hᵀ δz_1 can cancel, at every step of the recursion: its error is measured
    // against the size of all the terms BPTT summed into it (the running bound above), the scale
    // a reordered sum is accurate to.
    for (b, want_b) in want_dh0.iter().enumerate() {
        errors.check(
            "∂L/∂H_0",
            normwise_to(
                summary.dl_dh0.column(b).as_slice(),
                want_b.as_slice(),
                dh0_terms[b].as_slice(),
            ),
        );
    }
    let streamed = rnn.batch_loss(loss, &h0, xs, batch_targets);
    errors.check("batch_loss", normwise(&[streamed], &[want_loss]));

    // The mean: every quantity of the sum times 1/B. The loss and ∂L/∂H_0 are scaled once, at the
    // end, so they are exactly the sum's times fl(1/B); the gradients are scaled term by term.
    let inverse_b: T = constant(1.0 / B as f64);
    let mut mean = Params::zeros();
    let mean_summary = rnn.batch_backward_mean(loss, xs, &trace, batch_targets, &mut mean);
    let mut sum_over_b = got;
    sum_over_b *= inverse_b;
    errors.params("mean ∂L/∂θ", &mean, &sum_over_b);
    errors.exact("mean loss", mean_summary.loss == summary.loss * inverse_b);
    errors.exact(
        "mean ∂L/∂H_0",
        mean_summary.dl_dh0 == summary.dl_dh0 * inverse_b,
    );

    // Accumulation: into a gradient that already holds something, the same sum is added.
    let start = Params {
        w_x: rng.matrix(1.0),
        w_h: rng.matrix(1.0),
        b_h: rng.matrix(1.0),
        w_y: rng.matrix(1.0),
        b_y: rng.matrix(1.0),
    };
    let mut accumulated = start;
    rnn.batch_backward(loss, xs, &trace, batch_targets, &mut accumulated);
    let mut want_accumulated = start;
    want_accumulated += &got;
    errors.params("accumulated ∂L/∂θ", &accumulated, &want_accumulated);
}

/// Runs `property` on `CASES` quickcheck cases and reports the worst error seen.
fn run(name: &str, cases: u64, property: fn(u64, u8) -> bool) {
    WORST.with_borrow_mut(Vec::clear);
    QuickCheck::new()
        .tests(cases)
        .max_tests(cases)
        .quickcheck(property);
    let report = WORST.with_borrow(|worst| {
        worst
            .iter()
            .map(|(what, error)| format!("{what} {error:.1e}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    eprintln!("{name}: {cases} cases; worst relative errors: {report}");
}

macro_rules! properties {
    ($($name:ident: $f:ty, $g:ty, $loss:expr, $target:ident, $t:ty, $tolerance:expr, $b:literal;)*) => {$(
        #[test]
        fn $name() {
            fn property(seed: u64, len: u8) -> bool {
                check::<$f, $g, _, $t, $b>($loss, $target::<$t>, $tolerance, seed, len)
            }
            run(stringify!($name), CASES, property);
        }
    )*};
}

properties! {
    relu_softmax_cross_entropy_b1: Relu, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 1;
    relu_softmax_cross_entropy_b3: Relu, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 3;
    relu_softmax_cross_entropy_b8: Relu, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 8;
    sigmoid_sigmoid_bce_b1: Sigmoid, Sigmoid, BinaryCrossEntropy, probabilities, f64, F64_TOLERANCE, 1;
    sigmoid_sigmoid_bce_b3: Sigmoid, Sigmoid, BinaryCrossEntropy, probabilities, f64, F64_TOLERANCE, 3;
    sigmoid_sigmoid_bce_b8: Sigmoid, Sigmoid, BinaryCrossEntropy, probabilities, f64, F64_TOLERANCE, 8;
    identity_identity_mse_b1: Identity, Identity, Mse, reals, f64, F64_TOLERANCE, 1;
    identity_identity_mse_b3: Identity, Identity, Mse, reals, f64, F64_TOLERANCE, 3;
    identity_identity_mse_b8: Identity, Identity, Mse, reals, f64, F64_TOLERANCE, 8;
    tanh_softmax_cross_entropy_b1: Tanh, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 1;
    tanh_softmax_cross_entropy_b3: Tanh, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 3;
    tanh_softmax_cross_entropy_b8: Tanh, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 8;
    // A general (non-fused) pair: δa = J_g(a)ᵀ ∂L/∂ŷ column by column.
    tanh_sigmoid_mse_b1: Tanh, Sigmoid, Mse, reals, f64, F64_TOLERANCE, 1;
    tanh_sigmoid_mse_b3: Tanh, Sigmoid, Mse, reals, f64, F64_TOLERANCE, 3;
    tanh_sigmoid_mse_b8: Tanh, Sigmoid, Mse, reals, f64, F64_TOLERANCE, 8;
    // 20 columns: the loss's `step_terms` are taken 16 columns at a time, then 4.
    tanh_softmax_cross_entropy_b20: Tanh, Softmax, CrossEntropy, distribution, f64, F64_TOLERANCE, 20;
    tanh_softmax_cross_entropy_f32_b3: Tanh, Softmax, CrossEntropy, distribution, f32, F32_TOLERANCE, 3;
    tanh_fast_softmax_cross_entropy_f32_b20: Tanh, FastSoftmax, CrossEntropy, distribution, f32, F32_TOLERANCE, 20;
    relu_identity_mse_f32_b8: Relu, Identity, Mse, reals, f32, F32_TOLERANCE, 8;
}

/// `batch_forward` (an array) records the same trace as `batch_forward_into` (a buffer).
#[test]
fn array_trace_equals_buffer_trace() {
    let mut rng = Rng::new(7);
    let rnn: Rnn<I, H, O, Tanh, Softmax, f64> = random_model(&mut rng);
    let h0: SMatrix<f64, H, 3> = rng.matrix(1.0);
    let xs: [SMatrix<f64, I, 3>; 6] = core::array::from_fn(|_| rng.matrix(1.0));
    let array = rnn.batch_forward(&h0, &xs);
    let mut buffer = [BatchStep::zeros(); 10];
    let borrowed = rnn.batch_forward_into(&h0, &xs, &mut buffer);
    assert_eq!(&array.steps[..], borrowed.steps());
    assert_eq!(array.last_state(), &array.steps[5].h);
    assert_eq!(array.state_before(0), &h0);
}

/// With `alloc`, `batch_forward_vec` records the same trace.
#[cfg(feature = "alloc")]
#[test]
fn vec_trace_equals_array_trace() {
    let mut rng = Rng::new(8);
    let rnn: Rnn<I, H, O, Relu, Identity, f64> = random_model(&mut rng);
    let h0: SMatrix<f64, H, 2> = rng.matrix(1.0);
    let xs: [SMatrix<f64, I, 2>; 4] = core::array::from_fn(|_| rng.matrix(1.0));
    assert_eq!(
        rnn.batch_forward_vec(&h0, &xs).steps,
        rnn.batch_forward(&h0, &xs).steps
    );
}

#[test]
#[should_panic(expected = "batch trace buffer holds 2 steps but the batch has 3")]
fn short_buffer_panics() {
    let rnn = Rnn::<I, H, O>::zeros();
    let mut buffer = [BatchStep::<H, O, 2, f32>::zeros(); 2];
    rnn.batch_forward_into(&SMatrix::zeros(), &[SMatrix::zeros(); 3], &mut buffer);
}

#[test]
#[should_panic(expected = "2 batch targets were given for a batch of 3 steps")]
fn mismatched_targets_panic() {
    let rnn = Rnn::<I, H, O>::zeros();
    let xs = [SMatrix::<f32, I, 2>::zeros(); 3];
    let trace = rnn.batch_forward(&SMatrix::zeros(), &xs);
    let targets = [SMatrix::<f32, O, 2>::zeros(); 2];
    rnn.batch_backward(CrossEntropy, &xs, &trace, &targets, &mut Params::zeros());
}
