//! Truncated BPTT against independent per-window passes and against streaming inference.
//!
//! For random models and streams cut into windows of random lengths `≤ K`:
//! - each window's gradient and loss are bitwise those of an independent `Rnn::forward_into` +
//!   `Rnn::backward` started from the state that `Rnn::step` reaches over the stream so far (the
//!   same operations in the same order, so bitwise equality is expected, not a tolerance);
//! - the carried state is, after every window, bitwise that state.
//!
//! And the cut: a window's gradient depends on the earlier windows only through the carried state
//! (not through what is left in the trace buffer), and no gradient reaches an earlier window,
//! which full BPTT over the same steps does.

mod common;

use common::{Rng, random_model};
use quickcheck::QuickCheck;
use static_rnn::{
    BinaryCrossEntropy, CrossEntropy, ForwardStep, HiddenActivation, Identity, LossFor, Mse,
    OutputActivation, Params, Real, Relu, Rnn, SVector, Sigmoid, Softmax, Tanh, Trace,
    TruncatedBptt, scalar::constant,
};

const I: usize = 3;
const H: usize = 6;
const O: usize = 2;
/// The window length of the truncated-BPTT buffer.
const K: usize = 5;
/// Streams have `0 ..= MAX_STEPS` steps.
const MAX_STEPS: u8 = 40;
const CASES: u64 = 100;

fn one_hot<T: Real>(rng: &mut Rng) -> SVector<T, O> {
    let k = usize::from(rng.unit() < 0.5);
    SVector::from_fn(|i, _| constant(if i == k { 1.0 } else { 0.0 }))
}

fn probabilities<T: Real>(rng: &mut Rng) -> SVector<T, O> {
    SVector::from_fn(|_, _| constant(rng.unit()))
}

fn reals<T: Real>(rng: &mut Rng) -> SVector<T, O> {
    rng.matrix(2.0)
}

fn random_params<T: Real>(rng: &mut Rng) -> Params<I, H, O, T> {
    Params {
        w_x: rng.matrix(1.0),
        w_h: rng.matrix(1.0),
        b_h: rng.matrix(1.0),
        w_y: rng.matrix(1.0),
        b_y: rng.matrix(1.0),
    }
}

/// One case: a stream of `len % (MAX_STEPS + 1)` steps, windows of `1 ..= K` steps, targets at
/// random steps (or every step), gradients accumulated into a non-zero start.
fn check<F, G, L, T>(loss: L, target: fn(&mut Rng) -> SVector<T, O>, seed: u64, len: u8) -> bool
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    L: LossFor<G, T>,
    T: Real,
{
    let mut rng = Rng::new(seed);
    let steps = usize::from(len % (MAX_STEPS + 1));
    let rnn: Rnn<I, H, O, F, G, T> = random_model(&mut rng);
    let h0: SVector<T, H> = rng.matrix(1.0);
    let xs: Vec<SVector<T, I>> = (0..steps).map(|_| rng.matrix(1.5)).collect();
    let every_step = rng.unit() < 0.5;
    let ys: Vec<Option<SVector<T, O>>> = (0..steps)
        .map(|_| {
            let y = target(&mut rng);
            (every_step || rng.unit() < 0.5).then_some(y)
        })
        .collect();

    let mut tbptt = TruncatedBptt::<H, O, K, T>::starting_from(h0);
    let mut streamed = h0;
    let mut start = 0;
    while start < steps {
        let end = (start + 1 + (rng.unit() * K as f64) as usize).min(steps);
        let (window, targets) = (&xs[start..end], &ys[start..end]);
        let initial = random_params(&mut rng);

        // Truncated BPTT.
        let mut grads = initial;
        let window_loss = tbptt.next_window(&rnn, loss, window, targets, &mut grads);

        // An independent pass from the state streaming inference has reached.
        let mut buffer = vec![ForwardStep::zeros(); window.len()];
        let trace = rnn.forward_into(&streamed, window, &mut buffer);
        let mut want = initial;
        let summary = rnn.backward(loss, window, &trace, targets, &mut want);
        for x in window {
            streamed = rnn.step(&streamed, x).0;
        }

        if grads != want || window_loss != summary.loss || *tbptt.state() != streamed {
            eprintln!(
                "seed {seed}, window {start}..{end} of {steps}: gradient equal {}, loss equal {}, state equal {}",
                grads == want,
                window_loss == summary.loss,
                *tbptt.state() == streamed
            );
            return false;
        }
        start = end;
    }
    *tbptt.state() == streamed
}

fn run(property: fn(u64, u8) -> bool) {
    QuickCheck::new()
        .tests(CASES)
        .max_tests(CASES)
        .quickcheck(property);
}

#[test]
fn tanh_softmax_cross_entropy_windows_are_independent_passes() {
    fn property(seed: u64, len: u8) -> bool {
        check::<Tanh, Softmax, _, f64>(CrossEntropy, one_hot, seed, len)
    }
    run(property);
}

#[test]
fn relu_identity_mse_windows_are_independent_passes() {
    fn property(seed: u64, len: u8) -> bool {
        check::<Relu, Identity, _, f64>(Mse, reals, seed, len)
    }
    run(property);
}

#[test]
fn sigmoid_sigmoid_bce_windows_are_independent_passes_f32() {
    fn property(seed: u64, len: u8) -> bool {
        check::<Sigmoid, Sigmoid, _, f32>(BinaryCrossEntropy, probabilities, seed, len)
    }
    run(property);
}

type Model = Rnn<I, H, O, Tanh, Softmax, f64>;

/// Two windows of `K` steps whose first input component is on only in the first window.
fn two_windows(rng: &mut Rng) -> (Vec<SVector<f64, I>>, Vec<SVector<f64, O>>) {
    let xs = (0..2 * K)
        .map(|t| {
            let mut x: SVector<f64, I> = rng.matrix(1.0);
            if t >= K {
                x[0] = 0.0;
            }
            x
        })
        .collect();
    let ys = (0..2 * K).map(|_| one_hot(rng)).collect();
    (xs, ys)
}

/// Window 2's gradient depends on window 1 only through the carried state: with window 1's
/// inputs changed, window 2 gives a different gradient (the state differs), and exactly the
/// gradient that window 2 gives from that state after a different window 1 — whatever window 1
/// left in the trace buffer.
#[test]
fn window_depends_on_the_past_only_through_the_carried_state() {
    let mut rng = Rng::new(11);
    let rnn: Model = random_model(&mut rng);
    let (xs, ys) = two_windows(&mut rng);
    let mut perturbed = xs.clone();
    for x in &mut perturbed[..K] {
        *x += SVector::from_fn(|_, _| 0.5 * rng.uniform());
    }

    // Window 2 after the original window 1.
    let mut original = TruncatedBptt::<H, O, K, f64>::new();
    original.next_window(&rnn, CrossEntropy, &xs[..K], &ys[..K], &mut Params::zeros());
    let mut after_original = Params::zeros();
    original.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut after_original);

    // Window 2 after the perturbed window 1.
    let mut changed = TruncatedBptt::<H, O, K, f64>::new();
    changed.next_window(
        &rnn,
        CrossEntropy,
        &perturbed[..K],
        &ys[..K],
        &mut Params::zeros(),
    );
    let carried = *changed.state();
    let mut after_perturbed = Params::zeros();
    changed.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut after_perturbed);

    // The original window 1, then the state the perturbed window 1 carries.
    let mut reset = TruncatedBptt::<H, O, K, f64>::new();
    reset.next_window(&rnn, CrossEntropy, &xs[..K], &ys[..K], &mut Params::zeros());
    reset.reset_to(carried);
    let mut after_reset = Params::zeros();
    reset.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut after_reset);

    assert_ne!(
        after_original, after_perturbed,
        "the carried state should matter"
    );
    assert_eq!(after_reset, after_perturbed);
    assert_eq!(reset.state(), changed.state());
}

/// No gradient reaches an earlier window. Window 2 has its first input component off, so its own
/// steps contribute nothing to column 0 of `∂L/∂W_x`: truncated BPTT gives exactly zero there,
/// while full BPTT of the same loss (window 2's targets) over both windows does not, because its
/// gradient flows back into window 1, where that component is on.
#[test]
fn gradient_is_cut_at_the_window_boundary() {
    let mut rng = Rng::new(12);
    let rnn: Model = random_model(&mut rng);
    let (xs, ys) = two_windows(&mut rng);

    let mut tbptt = TruncatedBptt::<H, O, K, f64>::new();
    tbptt.next_window(&rnn, CrossEntropy, &xs[..K], &ys[..K], &mut Params::zeros());
    let mut truncated = Params::zeros();
    let window_loss = tbptt.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut truncated);

    let window_2_targets: Vec<Option<SVector<f64, O>>> =
        (0..2 * K).map(|t| (t >= K).then_some(ys[t])).collect();
    let trace = full_trace(&rnn, &xs);
    let mut full = Params::zeros();
    let summary = rnn.backward(CrossEntropy, &xs, &trace, &window_2_targets[..], &mut full);

    assert_eq!(
        summary.loss, window_loss,
        "the same loss, only the gradient differs"
    );
    assert!(truncated.w_x.column(0).iter().all(|&g| g == 0.0));
    assert!(full.w_x.column(0).norm() > 1e-3 * full.w_x.norm());
    // The output layer sees only window 2's steps in both: no recurrence in ∂L/∂W_y.
    approx::assert_relative_eq!(truncated.w_y, full.w_y, max_relative = 1e-12);
}

/// The trace of a whole stream from `h_0 = 0`, in a `Vec` (without the `alloc` feature's
/// `forward_vec`).
fn full_trace(
    rnn: &Model,
    xs: &[SVector<f64, I>],
) -> Trace<H, O, f64, Vec<ForwardStep<H, O, f64>>> {
    let mut steps = vec![ForwardStep::zeros(); xs.len()];
    let h0 = SVector::zeros();
    rnn.forward_into(&h0, xs, &mut steps);
    Trace { h0, steps }
}

/// `reset` starts from zero, `reset_to` from the given state, and an empty window changes nothing.
#[test]
fn reset_and_empty_windows() {
    let mut rng = Rng::new(13);
    let rnn: Model = random_model(&mut rng);
    let (xs, ys) = two_windows(&mut rng);
    let mut tbptt = TruncatedBptt::<H, O, K, f64>::default();
    tbptt.next_window(&rnn, CrossEntropy, &xs[..K], &ys[..K], &mut Params::zeros());
    let carried = *tbptt.state();
    assert_ne!(carried, SVector::<f64, H>::zeros());

    let mut grads = Params::zeros();
    let empty: [SVector<f64, O>; 0] = [];
    assert_eq!(
        tbptt.next_window(&rnn, CrossEntropy, &[], &empty, &mut grads),
        0.0
    );
    assert_eq!(grads, Params::zeros());
    assert_eq!(tbptt.state(), &carried);

    tbptt.reset();
    assert_eq!(tbptt.state(), &SVector::<f64, H>::zeros());
    let mut from_reset = Params::zeros();
    tbptt.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut from_reset);
    let mut fresh = TruncatedBptt::<H, O, K, f64>::new();
    let mut from_new = Params::zeros();
    fresh.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut from_new);
    assert_eq!(from_reset, from_new);

    let h: SVector<f64, H> = rng.matrix(1.0);
    tbptt.reset_to(h);
    assert_eq!(tbptt.state(), &h);
    let mut from_h = Params::zeros();
    tbptt.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut from_h);
    let mut started = TruncatedBptt::<H, O, K, f64>::starting_from(h);
    let mut from_start = Params::zeros();
    started.next_window(&rnn, CrossEntropy, &xs[K..], &ys[K..], &mut from_start);
    assert_eq!(from_h, from_start);
}

#[test]
#[should_panic(
    expected = "a window of 6 steps does not fit a truncated-BPTT buffer of K = 5 steps"
)]
fn window_longer_than_k_panics() {
    let rnn = Rnn::<I, H, O>::zeros();
    let xs = [SVector::<f32, I>::zeros(); K + 1];
    let ys = [SVector::<f32, O>::zeros(); K + 1];
    TruncatedBptt::<H, O, K>::new().next_window(&rnn, CrossEntropy, &xs, &ys, &mut Params::zeros());
}
