//! The model's public API: `Params` and its `Tensors` view, arithmetic and `approx` comparisons;
//! the compile-time constants of `Rnn`; `Targets`; the forward trace; length checks; NaN inputs.
//!
//! Expected values are worked by hand in the comments (mostly on a one-unit linear "running sum"
//! network, whose every intermediate is a small integer, exact in `f32` and `f64`).

use approx::{
    abs_diff_eq, assert_abs_diff_eq, assert_relative_eq, assert_ulps_eq, relative_eq, ulps_eq,
};
use core::mem::size_of;
use static_rnn::scalar::{constant, to_f64};
use static_rnn::{
    BackwardStep, CrossEntropy, ForwardStep, Identity, LastStep, Mse, Params, Real, Relu, Rnn,
    SMatrix, SVector, Sigmoid, Softmax, Tanh, Targets, Tensors,
};

// ---------------------------------------------------------------------------------------------
// Compile-time constants, checked by the compiler.
// ---------------------------------------------------------------------------------------------

/// The defaults: tanh hidden layer, softmax output, `f32`.
type Model = Rnn<16, 32, 8>;

/// `bytes` as a parameter set or trace step takes them: on x86-64 those are aligned to 64 bytes
/// (a cache line), so their sizes are rounded up to a multiple of 64; elsewhere exact.
const fn padded(bytes: usize) -> usize {
    if cfg!(target_arch = "x86_64") {
        bytes.div_ceil(64) * 64
    } else {
        bytes
    }
}

// H·I + H·H + H + O·H + O = 512 + 1024 + 32 + 256 + 8.
const _: () = assert!(Model::PARAMETERS == 1832);
const _: () = assert!(Model::PARAMETER_BYTES == padded(1832 * 4));
// H·I + H·H + O·H = 512 + 1024 + 256.
const _: () = assert!(Model::MACS_PER_STEP == 1792);
const _: () = assert!(Model::STATE_BYTES == 32 * 4);
// z_t and h_t (H each), a_t and ŷ_t (O each).
const _: () = assert!(Model::TRACE_BYTES_PER_STEP == padded((2 * 32 + 2 * 8) * 4));
const _: () = assert!(Model::trace_bytes(0) == Model::STATE_BYTES);
const _: () = assert!(Model::trace_bytes(64) == 32 * 4 + 64 * 320);
const _: () = assert!(Model::PARAMETER_BYTES + Model::trace_bytes(64) <= 64 * 1024);

type Odd = Rnn<3, 5, 7, Relu, Sigmoid, f64>;
// 15 + 25 + 5 + 35 + 7 = 87 scalars of 8 bytes.
const _: () = assert!(Odd::PARAMETERS == 87);
const _: () = assert!(Odd::PARAMETER_BYTES == padded(87 * 8));
const _: () = assert!(Odd::MACS_PER_STEP == 15 + 25 + 35);
const _: () = assert!(Odd::STATE_BYTES == 5 * 8);
const _: () = assert!(Odd::TRACE_BYTES_PER_STEP == padded((2 * 5 + 2 * 7) * 8));

/// A budget computed at compile time from a `const fn`.
const ODD_TRACE_OF_10: usize = Odd::trace_bytes(10);

fn check_constants<const I: usize, const H: usize, const O: usize, T: Real>() {
    type M<const I: usize, const H: usize, const O: usize, T> = Rnn<I, H, O, Tanh, Softmax, T>;
    let t = size_of::<T>();
    let count = H * I + H * H + H + O * H + O;
    assert_eq!(M::<I, H, O, T>::PARAMETERS, count);
    assert_eq!(Params::<I, H, O, T>::COUNT, count);
    assert_eq!(M::<I, H, O, T>::PARAMETER_BYTES, padded(count * t));
    assert_eq!(M::<I, H, O, T>::MACS_PER_STEP, H * I + H * H + O * H);
    assert_eq!(M::<I, H, O, T>::STATE_BYTES, H * t);
    assert_eq!(
        M::<I, H, O, T>::TRACE_BYTES_PER_STEP,
        padded((2 * H + 2 * O) * t)
    );
    for steps in [0, 1, 7, 100] {
        assert_eq!(
            M::<I, H, O, T>::trace_bytes(steps),
            H * t + steps * padded((2 * H + 2 * O) * t)
        );
    }
    // The model is exactly its parameters (the activations are zero-sized), and a trace step is
    // exactly what TRACE_BYTES_PER_STEP says.
    assert_eq!(size_of::<M<I, H, O, T>>(), M::<I, H, O, T>::PARAMETER_BYTES);
    assert_eq!(
        size_of::<ForwardStep<H, O, T>>(),
        M::<I, H, O, T>::TRACE_BYTES_PER_STEP
    );
}

#[test]
fn compile_time_constants() {
    check_constants::<16, 32, 8, f32>();
    check_constants::<16, 32, 8, f64>();
    check_constants::<3, 5, 7, f32>();
    check_constants::<3, 5, 7, f64>();
    check_constants::<1, 1, 1, f32>();
    check_constants::<1, 1, 1, f64>();
    assert_eq!(ODD_TRACE_OF_10, 5 * 8 + 10 * padded((2 * 5 + 2 * 7) * 8));
    assert_eq!(
        Model::PARAMETER_BYTES,
        padded(Model::PARAMETERS * size_of::<f32>())
    );
    assert_eq!(
        Odd::PARAMETER_BYTES,
        padded(Odd::PARAMETERS * size_of::<f64>())
    );
}

// ---------------------------------------------------------------------------------------------
// Params and its Tensors view.
// ---------------------------------------------------------------------------------------------

type P = Params<3, 4, 2, f64>;

/// The element of tensor `k` at flat index `j`, read from the named field (column-major).
fn field_element(p: &P, k: usize, j: usize) -> f64 {
    match k {
        0 => p.w_x[(j % 4, j / 4)], // 4 × 3
        1 => p.w_h[(j % 4, j / 4)], // 4 × 4
        2 => p.b_h[j],              // 4
        3 => p.w_y[(j % 2, j / 2)], // 2 × 4
        4 => p.b_y[j],              // 2
        _ => unreachable!(),
    }
}

/// `1, 2, …, COUNT` in tensor order.
fn counting<const I: usize, const H: usize, const O: usize, T: Real>() -> Params<I, H, O, T> {
    let mut p = Params::<I, H, O, T>::zeros();
    let mut next = 0.0;
    for tensor in p.tensors_mut() {
        for x in tensor.iter_mut() {
            next += 1.0;
            *x = constant(next);
        }
    }
    p
}

#[test]
fn tensors_names_lengths_and_order_match_the_fields() {
    assert_eq!(P::names(), ["w_x", "w_h", "b_h", "w_y", "b_y"]);
    assert_eq!(P::COUNT, 4 * 3 + 4 * 4 + 4 + 2 * 4 + 2);
    assert_eq!(P::COUNT, 42);
    let p = P::zeros();
    let lengths: Vec<usize> = p.tensors().iter().map(|t| t.len()).collect();
    assert_eq!(lengths, vec![12, 16, 4, 8, 2]);
    assert_eq!(lengths.iter().sum::<usize>(), P::COUNT);

    // Set one element through tensors_mut; it shows up in the right field at the right place,
    // and nowhere else.
    let lengths = [12, 16, 4, 8, 2];
    for (k, &len) in lengths.iter().enumerate() {
        for j in 0..len {
            let mut p = P::zeros();
            p.tensors_mut()[k][j] = 7.5;
            assert_eq!(field_element(&p, k, j), 7.5, "tensor {k} index {j}");
            assert_eq!(p.norm(), 7.5, "only one element set (tensor {k} index {j})");
            assert_eq!(p.tensors()[k][j], 7.5);
        }
    }

    // And the other way: set fields by (row, column), read through tensors().
    let mut p = P::zeros();
    p.w_x[(3, 2)] = 1.0; // column 2 of a 4-row matrix: index 2·4 + 3 = 11
    p.w_h[(1, 3)] = 2.0; // 3·4 + 1 = 13
    p.b_h[2] = 3.0;
    p.w_y[(1, 2)] = 4.0; // column 2 of a 2-row matrix: 2·2 + 1 = 5
    p.b_y[1] = 5.0;
    let t = p.tensors();
    assert_eq!(
        (t[0][11], t[1][13], t[2][2], t[3][5], t[4][1]),
        (1.0, 2.0, 3.0, 4.0, 5.0)
    );
    let total: f64 = t.iter().flat_map(|x| x.iter()).sum();
    assert_eq!(total, 15.0);
}

#[test]
fn params_arithmetic_norm_and_set_zero() {
    fn check<T: Real>() {
        // p = 1, 2, …, 42; q = ½ everywhere.
        let mut p = counting::<3, 4, 2, T>();
        let n = P::COUNT as f64;
        // √(Σ k²) = √(n(n + 1)(2n + 1)/6) = √25585 for n = 42.
        let want_norm = (n * (n + 1.0) * (2.0 * n + 1.0) / 6.0).sqrt();
        assert_eq!(n * (n + 1.0) * (2.0 * n + 1.0) / 6.0, 25585.0);
        let rel = 4.0 * to_f64(T::default_epsilon());
        assert!((to_f64(p.norm()) - want_norm).abs() <= rel * want_norm);

        let mut q = Params::<3, 4, 2, T>::zeros();
        q.tensors_mut()
            .into_iter()
            .for_each(|t| t.fill(constant(0.5)));
        assert!((to_f64(q.norm()) - 0.5 * n.sqrt()).abs() <= rel);
        p += &q; // k + ½
        p *= constant(2.0); // 2k + 1
        let mut k = 0.0;
        for tensor in p.tensors() {
            for &x in tensor {
                k += 1.0;
                assert_eq!(to_f64(x), 2.0 * k + 1.0);
            }
        }
        // += accumulates into every field, including the last.
        assert_eq!(to_f64(p.b_y[1]), 2.0 * 42.0 + 1.0);
        assert_eq!(to_f64(p.w_x[(0, 0)]), 3.0);

        p.set_zero();
        assert_eq!(p, Params::zeros());
        assert_eq!(p, Params::default());
        assert_eq!(to_f64(p.norm()), 0.0);
    }
    check::<f64>();
    check::<f32>();
}

#[test]
fn params_is_finite() {
    fn check<T: Real>(bad: T) {
        let p = counting::<3, 4, 2, T>();
        assert!(p.is_finite());
        assert!(Params::<3, 4, 2, T>::zeros().is_finite());
        let lengths = [12, 16, 4, 8, 2];
        for (k, &len) in lengths.iter().enumerate() {
            for j in [0, len - 1] {
                let mut q = p;
                q.tensors_mut()[k][j] = bad;
                assert!(!q.is_finite(), "{bad:?} in tensor {k} index {j}");
            }
        }
    }
    check(f64::NAN);
    check(f64::INFINITY);
    check(f64::NEG_INFINITY);
    check(f32::NAN);
    check(f32::INFINITY);
}

#[test]
fn approx_comparisons_on_params() {
    let p = counting::<3, 4, 2, f64>();
    assert_relative_eq!(p, p);
    assert_abs_diff_eq!(p, p);
    assert_ulps_eq!(p, p);

    let lengths = [12, 16, 4, 8, 2];
    for (k, &len) in lengths.iter().enumerate() {
        let j = len - 1;
        let x = p.tensors()[k][j];

        // A relative change of 1e−12 passes max_relative = 1e−9; 1e−6 does not.
        let mut q = p;
        q.tensors_mut()[k][j] = x * (1.0 + 1e-12);
        assert_relative_eq!(p, q, max_relative = 1e-9);
        q.tensors_mut()[k][j] = x * (1.0 + 1e-6);
        assert!(!relative_eq!(p, q, max_relative = 1e-9), "tensor {k}");
        assert!(relative_eq!(p, q, max_relative = 1e-5), "tensor {k}");

        // An absolute change of 1e−10 passes epsilon = 1e−9; 1e−6 does not.
        let mut q = p;
        q.tensors_mut()[k][j] = x + 1e-10;
        assert_abs_diff_eq!(p, q, epsilon = 1e-9);
        q.tensors_mut()[k][j] = x + 1e-6;
        assert!(!abs_diff_eq!(p, q, epsilon = 1e-9), "tensor {k}");

        // Two ulps pass max_ulps = 4; ten do not (epsilon 0 so the absolute test cannot pass it).
        let mut q = p;
        q.tensors_mut()[k][j] = f64::from_bits(x.to_bits() + 2);
        assert_ulps_eq!(p, q, epsilon = 0.0, max_ulps = 4);
        q.tensors_mut()[k][j] = f64::from_bits(x.to_bits() + 10);
        assert!(!ulps_eq!(p, q, epsilon = 0.0, max_ulps = 4), "tensor {k}");

        // NaN equals nothing, not even itself.
        let mut q = p;
        q.tensors_mut()[k][j] = f64::NAN;
        assert!(!relative_eq!(q, q));
        assert!(!abs_diff_eq!(q, q, epsilon = 1.0));
        assert!(!ulps_eq!(q, q));
    }

    // f32 as well.
    let p = counting::<2, 3, 1, f32>();
    let mut q = p;
    q.b_y[0] *= 1.0 + 1e-3;
    assert!(!relative_eq!(p, q, max_relative = 1e-6));
    assert_relative_eq!(p, q, max_relative = 1e-2);
}

#[test]
#[should_panic(expected = "assert_relative_eq!")]
fn assert_relative_eq_fails_on_different_params() {
    let p = counting::<3, 4, 2, f64>();
    let mut q = p;
    q.w_h[(2, 2)] += 1.0;
    assert_relative_eq!(p, q, max_relative = 1e-9);
}

#[test]
#[should_panic(expected = "assert_abs_diff_eq!")]
fn assert_abs_diff_eq_fails_on_different_models() {
    let a = Rnn::<2, 3, 2, Tanh, Softmax, f64>::zeros();
    let mut b = a;
    b.params.b_h[1] = 1e-3;
    assert_abs_diff_eq!(a, b, epsilon = 1e-6);
}

#[test]
fn approx_comparisons_on_models() {
    let a = Rnn::<2, 3, 2, Tanh, Softmax, f64>::from_params(counting());
    let mut b = a;
    let x = b.params.w_y[(1, 2)];
    b.params.w_y[(1, 2)] = f64::from_bits(x.to_bits() + 3); // three ulps up
    assert_relative_eq!(a, b, max_relative = 1e-9);
    assert_abs_diff_eq!(a, b, epsilon = 1e-9);
    assert_ulps_eq!(a, b, epsilon = 0.0, max_ulps = 4);
    assert!(!ulps_eq!(a, b, epsilon = 0.0, max_ulps = 2));
    assert_ne!(a, b); // PartialEq is exact
    b.params.w_y[(1, 2)] += 0.5;
    assert!(!relative_eq!(a, b, max_relative = 1e-3));
    assert!(!abs_diff_eq!(a, b, epsilon = 1e-3));
    assert!(!ulps_eq!(a, b, max_ulps = 1000));

    let c = Rnn::<2, 3, 2>::zeros(); // f32
    let mut d = c;
    d.params.b_y[0] = 1e-9;
    assert_relative_eq!(c, d, epsilon = 1e-6);
    d.params.b_y[0] = 1e-3;
    assert!(!relative_eq!(c, d, epsilon = 1e-6));
    assert_eq!(c, Rnn::default());
}

// ---------------------------------------------------------------------------------------------
// Targets, and the loss and gradients they select, on a running-sum network.
// ---------------------------------------------------------------------------------------------

type Sum<T> = Rnn<1, 1, 1, Identity, Identity, T>;

fn s<T: Real>(x: f64) -> SVector<T, 1> {
    SVector::<T, 1>::new(constant(x))
}

/// `h_t = h_{t−1} + x_t`, `ŷ_t = h_t`: every weight 1, every bias 0.
fn running_sum<T: Real>() -> Sum<T> {
    Rnn::new(
        SMatrix::identity(),
        SMatrix::identity(),
        SVector::zeros(),
        SMatrix::identity(),
        SVector::zeros(),
    )
}

/// The gradient, as `(L, ∂L/∂W_x, ∂L/∂W_h, ∂L/∂b_h, ∂L/∂W_y, ∂L/∂b_y, ∂L/∂h_0)`.
type Expected = (f64, f64, f64, f64, f64, f64, f64);

fn flatten<T: Real>(loss: T, g: &Params<1, 1, 1, T>, dl_dh0: &SVector<T, 1>) -> Expected {
    (
        to_f64(loss),
        to_f64(g.w_x[(0, 0)]),
        to_f64(g.w_h[(0, 0)]),
        to_f64(g.b_h[0]),
        to_f64(g.w_y[(0, 0)]),
        to_f64(g.b_y[0]),
        to_f64(dl_dh0[0]),
    )
}

/// Loss and gradients of the running sum on `x = (1, 2, 3)` from `h_0 = 0` (so `ŷ = (1, 3, 6)`),
/// scored by `targets` with MSE, through every entry point.
fn run_targets<T: Real, Y: Targets<T, 1> + ?Sized>(targets: &Y, want: Expected, what: &str) {
    let rnn = running_sum::<T>();
    let xs = [s::<T>(1.0), s(2.0), s(3.0)];
    let h0 = SVector::zeros();
    let l = rnn.loss(Mse, &h0, &xs, targets);
    assert_eq!(to_f64(l), want.0, "{what}: Rnn::loss");

    let trace = rnn.forward(&h0, &xs);
    let mut grads = Params::zeros();
    let summary = rnn.backward(Mse, &xs, &trace, targets, &mut grads);
    assert_eq!(
        flatten(summary.loss, &grads, &summary.dl_dh0),
        want,
        "{what}: backward"
    );

    // backward accumulates: a second pass doubles every gradient.
    let again = rnn.backward(Mse, &xs, &trace, targets, &mut grads);
    let doubled = flatten(again.loss, &grads, &again.dl_dh0);
    assert_eq!(
        (doubled.1, doubled.2, doubled.3, doubled.4, doubled.5),
        (
            2.0 * want.1,
            2.0 * want.2,
            2.0 * want.3,
            2.0 * want.4,
            2.0 * want.5
        ),
        "{what}: accumulation"
    );
    assert_eq!((doubled.0, doubled.6), (want.0, want.6));

    #[cfg(feature = "alloc")]
    {
        let g = rnn.gradients_vec(Mse, &h0, &xs, targets);
        assert_eq!(
            flatten(g.loss, &g.params, &g.dl_dh0),
            want,
            "{what}: gradients_vec"
        );
    }
    let mut buffer = [ForwardStep::zeros(); 5];
    let trace = rnn.forward_into(&h0, &xs, &mut buffer);
    let mut grads = Params::zeros();
    let summary = rnn.backward(Mse, &xs, &trace, targets, &mut grads);
    assert_eq!(
        flatten(summary.loss, &grads, &summary.dl_dh0),
        want,
        "{what}: forward_into"
    );
}

/// By hand, with targets 1 and residuals `ŷ − 1 = (0, 2, 5)`, `δa_t = 2(ŷ_t − 1)` at scored
/// steps, `δz_t = δa_t + δz_{t+1}` (all weights 1), `∂L/∂W_x = Σ δz_t x_t`,
/// `∂L/∂W_h = Σ δz_t h_{t−1}` with `h_{t−1} = (0, 1, 3)`, `∂L/∂W_y = Σ δa_t h_t`,
/// `∂L/∂h_0 = δz_1`:
///
/// - every step: `δa = (0, 4, 10)`, `δz = (14, 14, 10)`: `L = 29`, `W_x = 14 + 28 + 30 = 72`,
///   `W_h = 0 + 14 + 30 = 44`, `b_h = 38`, `W_y = 0 + 12 + 60 = 72`, `b_y = 14`, `h_0 = 14`;
/// - step 2 only: `δa = (0, 4, 0)`, `δz = (4, 4, 0)`: `L = 4`, `W_x = 12`, `W_h = 4`, `b_h = 8`,
///   `W_y = 12`, `b_y = 4`, `h_0 = 4`;
/// - last step only: `δa = (0, 0, 10)`, `δz = (10, 10, 10)`: `L = 25`, `W_x = 60`, `W_h = 40`,
///   `b_h = 30`, `W_y = 60`, `b_y = 10`, `h_0 = 10`.
const EVERY_STEP: Expected = (29.0, 72.0, 44.0, 38.0, 72.0, 14.0, 14.0);
const MIDDLE_STEP: Expected = (4.0, 12.0, 4.0, 8.0, 12.0, 4.0, 4.0);
const LAST_STEP: Expected = (25.0, 60.0, 40.0, 30.0, 60.0, 10.0, 10.0);

fn all_target_kinds<T: Real>() {
    let one = s::<T>(1.0);
    let every = [one; 3];
    run_targets::<T, _>(&every, EVERY_STEP, "array");
    run_targets::<T, [SVector<T, 1>]>(&every[..], EVERY_STEP, "slice");
    let all_some = [Some(one); 3];
    run_targets::<T, _>(&all_some, EVERY_STEP, "Option array, all Some");
    let middle = [None, Some(one), None];
    run_targets::<T, _>(&middle, MIDDLE_STEP, "Option array");
    run_targets::<T, [Option<SVector<T, 1>>]>(&middle[..], MIDDLE_STEP, "Option slice");
    run_targets::<T, _>(&LastStep(one), LAST_STEP, "LastStep");
    let last = vec![None, None, Some(one)];
    run_targets::<T, [Option<SVector<T, 1>>]>(&last, LAST_STEP, "Option Vec as slice");
    // No step scored: zero loss, zero gradients.
    let none: [Option<SVector<T, 1>>; 3] = [None; 3];
    run_targets::<T, _>(&none, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0), "no step scored");
}

#[test]
fn targets_select_the_scored_steps_f64() {
    all_target_kinds::<f64>();
}

#[test]
fn targets_select_the_scored_steps_f32() {
    all_target_kinds::<f32>();
}

#[test]
fn targets_at_and_steps() {
    let y = SVector::<f64, 2>::new(0.0, 1.0);
    let z = SVector::<f64, 2>::new(1.0, 0.0);
    let every = [y, z, y];
    assert_eq!(every.steps(), Some(3));
    assert_eq!(every.at(1, 3), Some(&z));
    assert_eq!(every.at(3, 3), None);
    let slice: &[SVector<f64, 2>] = &every[..2];
    assert_eq!(slice.steps(), Some(2));
    assert_eq!(slice.at(0, 2), Some(&y));
    let some = [None, Some(z)];
    assert_eq!(some.steps(), Some(2));
    assert_eq!(some.at(0, 2), None);
    assert_eq!(some.at(1, 2), Some(&z));
    let some_slice: &[Option<SVector<f64, 2>>] = &some;
    assert_eq!(some_slice.steps(), Some(2));
    assert_eq!(some_slice.at(1, 2), Some(&z));
    let last = LastStep(z);
    assert_eq!(last.steps(), None);
    for len in 1..6 {
        for t in 0..len {
            assert_eq!(
                last.at(t, len),
                (t + 1 == len).then_some(&z),
                "t={t} len={len}"
            );
        }
    }
}

#[test]
fn intermediates_by_hand() {
    // The running sum with every step scored against 1: ∂L_t/∂ŷ_t = δa_t = (0, 4, 10),
    // ∂L/∂h_t = δz_t = (14, 14, 10) (see EVERY_STEP). With only step 2 scored, the unscored
    // steps record zero ∂L_t/∂ŷ_t and δa_t.
    let rnn = running_sum::<f64>();
    let xs = [s(1.0), s(2.0), s(3.0)];
    let g = rnn.gradients(Mse, &SVector::zeros(), &xs, &[s(1.0); 3]);
    let col = |f: fn(&BackwardStep<1, 1, f64>) -> f64| g.steps.iter().map(f).collect::<Vec<_>>();
    assert_eq!(col(|b| b.dl_dy_hat[0]), vec![0.0, 4.0, 10.0]);
    assert_eq!(col(|b| b.dl_da[0]), vec![0.0, 4.0, 10.0]);
    assert_eq!(col(|b| b.dl_dh[0]), vec![14.0, 14.0, 10.0]);
    assert_eq!(col(|b| b.dl_dz[0]), vec![14.0, 14.0, 10.0]);

    let trace = rnn.forward(&SVector::zeros(), &xs);
    let mut grads = Params::zeros();
    let mut records = [BackwardStep::zeros(); 4];
    records[3].dl_dh[0] = 99.0; // beyond the trace: left alone
    let summary = rnn.backward_with_intermediates(
        Mse,
        &xs,
        &trace,
        &[None, Some(s(1.0)), None],
        &mut grads,
        &mut records,
    );
    assert_eq!(summary.loss, 4.0);
    let dy: Vec<f64> = records[..3].iter().map(|b| b.dl_dy_hat[0]).collect();
    let dz: Vec<f64> = records[..3].iter().map(|b| b.dl_dz[0]).collect();
    assert_eq!(dy, vec![0.0, 4.0, 0.0]);
    assert_eq!(dz, vec![4.0, 4.0, 0.0]);
    assert_eq!(records[3].dl_dh[0], 99.0);
}

// ---------------------------------------------------------------------------------------------
// Length checks: clear panics.
// ---------------------------------------------------------------------------------------------

fn three_inputs() -> [SVector<f64, 1>; 3] {
    [s(1.0), s(2.0), s(3.0)]
}

#[test]
#[should_panic(expected = "2 targets were given for a sequence of 3 steps")]
fn loss_panics_on_too_few_targets() {
    let _ = running_sum::<f64>().loss(Mse, &SVector::zeros(), &three_inputs(), &[s(0.0); 2]);
}

#[test]
#[should_panic(expected = "4 targets were given for a sequence of 3 steps")]
fn loss_panics_on_too_many_option_targets() {
    let targets = [None, Some(s::<f64>(0.0)), None, None];
    let _ = running_sum::<f64>().loss(Mse, &SVector::zeros(), &three_inputs(), &targets[..]);
}

#[test]
#[should_panic(expected = "4 targets were given for a sequence of 3 steps")]
fn backward_panics_on_target_count() {
    let rnn = running_sum::<f64>();
    let xs = three_inputs();
    let trace = rnn.forward(&SVector::zeros(), &xs);
    let _ = rnn.backward(Mse, &xs, &trace, &[s(0.0); 4], &mut Params::zeros());
}

#[test]
#[should_panic(expected = "the trace has 3 steps but 2 inputs were given")]
fn backward_panics_when_inputs_and_trace_differ() {
    let rnn = running_sum::<f64>();
    let xs = three_inputs();
    let trace = rnn.forward(&SVector::zeros(), &xs);
    let _ = rnn.backward(
        Mse,
        &xs[..2],
        &trace,
        &LastStep(s(0.0)),
        &mut Params::zeros(),
    );
}

#[test]
#[should_panic(expected = "the trace has 2 steps but 3 inputs were given")]
fn backward_panics_when_trace_is_shorter() {
    let rnn = running_sum::<f64>();
    let xs = three_inputs();
    let trace = rnn.forward(&SVector::zeros(), &[xs[0], xs[1]]);
    let _ = rnn.backward(Mse, &xs, &trace, &LastStep(s(0.0)), &mut Params::zeros());
}

#[test]
#[should_panic(expected = "trace buffer holds 2 steps but the sequence has 3")]
fn forward_into_panics_on_short_buffer() {
    let mut buffer = [ForwardStep::zeros(); 2];
    let _ = running_sum::<f64>().forward_into(&SVector::zeros(), &three_inputs(), &mut buffer);
}

#[test]
#[should_panic(expected = "intermediates buffer holds 2 steps but the trace has 3")]
fn backward_with_intermediates_panics_on_short_buffer() {
    let rnn = running_sum::<f64>();
    let xs = three_inputs();
    let trace = rnn.forward(&SVector::zeros(), &xs);
    let mut records = [BackwardStep::zeros(); 2];
    let _ = rnn.backward_with_intermediates(
        Mse,
        &xs,
        &trace,
        &[s(0.0); 3],
        &mut Params::zeros(),
        &mut records,
    );
}

#[test]
fn last_step_fits_any_length_including_empty() {
    let rnn = running_sum::<f64>();
    let target = LastStep(s(0.0));
    // ŷ_T = Σ x = T for T ones, L = T².
    for len in 1..6 {
        let xs = vec![s(1.0); len];
        let l = rnn.loss(Mse, &SVector::zeros(), &xs, &target);
        assert_eq!(l, (len * len) as f64);
    }
    // An empty sequence: nothing scored, nothing to propagate.
    let l = rnn.loss(Mse, &s(5.0), &[], &target);
    assert_eq!(l, 0.0);
    let mut buffer = [ForwardStep::zeros(); 1];
    let trace = rnn.forward_into(&s(5.0), &[], &mut buffer);
    assert!(trace.is_empty());
    let mut grads = Params::zeros();
    let summary = rnn.backward(Mse, &[], &trace, &target, &mut grads);
    assert_eq!(summary.loss, 0.0);
    assert_eq!(summary.dl_dh0, s(0.0));
    assert_eq!(grads, Params::zeros());
}

// ---------------------------------------------------------------------------------------------
// The forward trace.
// ---------------------------------------------------------------------------------------------

#[test]
fn forward_into_uses_only_the_prefix_of_a_longer_buffer() {
    let rnn = running_sum::<f64>();
    let xs = three_inputs();
    let h0 = s(10.0);
    let sentinel = ForwardStep {
        z: s(-42.0),
        h: s(-42.0),
        a: s(-42.0),
        y_hat: s(-42.0),
    };
    let mut buffer = [sentinel; 8];
    {
        let trace = rnn.forward_into(&h0, &xs, &mut buffer);
        assert_eq!(trace.len(), 3);
        assert!(!trace.is_empty());
        assert_eq!(trace.h0, h0);
        // h = 10 + 1, + 2, + 3 = (11, 13, 16); z = h, a = ŷ = h for the identity network.
        let hs: Vec<f64> = trace.steps().iter().map(|st| st.h[0]).collect();
        assert_eq!(hs, vec![11.0, 13.0, 16.0]);
        for st in trace.steps() {
            assert_eq!((st.z, st.a, st.y_hat), (st.h, st.h, st.h));
        }
        assert_eq!(*trace.last_state(), s(16.0));
        assert_eq!(*trace.state_before(0), s(10.0));
        assert_eq!(*trace.state_before(1), s(11.0));
        assert_eq!(*trace.state_before(2), s(13.0));
        assert_eq!(*trace.state_before(3), s(16.0));
    }
    assert!(buffer[3..].iter().all(|st| *st == sentinel));
    // The array and Vec forms record the same steps.
    let array = rnn.forward(&h0, &xs);
    assert_eq!(&buffer[..3], &array.steps[..]);
    #[cfg(feature = "alloc")]
    assert_eq!(array.steps[..], rnn.forward_vec(&h0, &xs).steps[..]);
    assert_eq!(*array.last_state(), s(16.0));

    // Reusing the buffer for a shorter sequence rewrites only its prefix.
    {
        let trace = rnn.forward_into(&s(0.0), &[s(5.0)], &mut buffer);
        assert_eq!(trace.len(), 1);
        assert_eq!(*trace.last_state(), s(5.0));
    }
    assert_eq!(buffer[0].h, s(5.0));
    assert_eq!(buffer[1].h, s(13.0)); // left from the first run
    assert!(buffer[3..].iter().all(|st| *st == sentinel));

    // An empty trace's last state is its initial state.
    let trace = rnn.forward_into(&s(-3.0), &[], &mut buffer);
    assert_eq!(*trace.last_state(), s(-3.0));
    assert_eq!(*trace.state_before(0), s(-3.0));
}

#[test]
fn step_matches_the_recorded_trace_f32() {
    // A small tanh/softmax model in f32: streaming `step` and the recorded trace agree exactly,
    // and the recurrence is h_t = tanh(W_h h_{t−1} + W_x x_t + b_h).
    let mut rnn = Rnn::<2, 3, 2>::zeros();
    rnn.params.w_x[(0, 0)] = 0.5;
    rnn.params.w_x[(2, 1)] = -1.0;
    rnn.params.w_h[(1, 0)] = 2.0;
    rnn.params.b_h[2] = 0.25;
    rnn.params.w_y[(1, 1)] = 1.0;
    let xs = [
        SVector::<f32, 2>::new(1.0, 0.0),
        SVector::<f32, 2>::new(0.0, 1.0),
        SVector::<f32, 2>::new(-1.0, 2.0),
    ];
    let trace = rnn.forward(&SVector::zeros(), &xs);
    let mut h = SVector::zeros();
    for (t, x) in xs.iter().enumerate() {
        let (h_next, y_hat) = rnn.step(&h, x);
        assert_eq!(h_next, trace.steps[t].h);
        assert_eq!(y_hat, trace.steps[t].y_hat);
        assert_eq!(*trace.state_before(t), h);
        h = h_next;
    }
    // Step 0 by hand: z = (0.5, 0, 0.25), h = tanh z; step 1: z = (0, 2 tanh 0.5, −1 + 0.25).
    let h_1 = trace.steps[0].h;
    assert!((h_1[0] - 0.5f32.tanh()).abs() < 1e-7 && h_1[1] == 0.0);
    let z1 = trace.steps[1].z;
    assert!((z1[1] - 2.0 * 0.5f32.tanh()).abs() < 1e-6 && (z1[2] + 0.75).abs() < 1e-7);
    // ŷ_1 = softmax(0, h_1[1]): (1, e^{h}) / (1 + e^{h}).
    let e = trace.steps[1].h[1].exp();
    assert!((trace.steps[1].y_hat[1] - e / (1.0 + e)).abs() < 1e-6);
}

// ---------------------------------------------------------------------------------------------
// NaN in an input.
// ---------------------------------------------------------------------------------------------

fn is_nan<T: Real>(x: T) -> bool {
    to_f64(x).is_nan()
}

/// What the crate does with a NaN input (per `src/backward.rs`: "a non-finite input gives
/// non-finite outputs … and nothing else"): no check, no panic, no sanitizing. The NaN flows
/// through `W_x` into every hidden unit at its step (IEEE `0 · NaN = NaN`, so even zero weights
/// pass it on), on through `W_h` into every later step, and back through BPTT into the gradient.
/// Earlier steps' outputs stay finite; the model itself is never modified.
fn nan_input<T: Real>() {
    let mut rnn = Rnn::<2, 3, 2, Tanh, Softmax, T>::zeros();
    for (k, x) in rnn.params.tensors_mut().into_iter().flatten().enumerate() {
        *x = constant(0.1 * (k % 5) as f64 - 0.2);
    }
    let before = rnn;
    let nan = T::zero() / T::zero();
    let xs = [
        SVector::<T, 2>::new(constant(1.0), constant(-1.0)),
        SVector::<T, 2>::new(nan, constant(0.5)),
        SVector::<T, 2>::new(constant(0.5), constant(0.5)),
        SVector::<T, 2>::new(constant(-1.0), constant(1.0)),
    ];
    let ys = [SVector::<T, 2>::new(constant(1.0), constant(0.0)); 4];
    let h0 = SVector::zeros();

    let trace = rnn.forward(&h0, &xs);
    assert!(trace.steps[0].y_hat.iter().all(|x| x.is_finite()));
    for t in 1..4 {
        let st = &trace.steps[t];
        assert!(st.h.iter().all(|&x| is_nan(x)), "h at step {t}: {:?}", st.h);
        assert!(
            st.y_hat.iter().all(|&x| is_nan(x)),
            "ŷ at step {t}: {:?}",
            st.y_hat
        );
    }
    // Streaming inference agrees.
    let (h1, _) = rnn.step(&h0, &xs[0]);
    let (_, y2) = rnn.step(&h1, &xs[1]);
    assert!(y2.iter().all(|&x| is_nan(x)));

    assert!(is_nan(rnn.loss(CrossEntropy, &h0, &xs, &ys)));
    let g = rnn.gradients(CrossEntropy, &h0, &xs, &ys);
    assert!(is_nan(g.loss));
    assert!(!g.params.is_finite());
    assert!(g.dl_dh0.iter().any(|&x| is_nan(x)));
    // The NaN reaches every tensor of the gradient.
    for (name, tensor) in ["w_x", "w_h", "b_h", "w_y", "b_y"]
        .iter()
        .zip(g.params.tensors())
    {
        assert!(tensor.iter().any(|&x| is_nan(x)), "{name}");
    }
    // Scoring only the step before the NaN: its loss is finite, and mathematically so is its
    // gradient (later steps do not affect it). The crate still walks every step from the last:
    // at an unscored NaN step δz_t = f′(z_t) ⊙ 0 with f′(z_t) = NaN, and NaN · 0 = NaN, so the
    // gradient comes out non-finite. Documented here as the behaviour, not a promise.
    let first = [Some(ys[0]), None, None, None];
    assert!(rnn.loss(CrossEntropy, &h0, &xs, &first).is_finite());
    let g = rnn.gradients(CrossEntropy, &h0, &xs, &first);
    assert!(g.loss.is_finite());
    assert!(!g.params.is_finite());

    // The model is unchanged, bit for bit.
    assert_eq!(rnn, before);
    assert!(rnn.params.is_finite());

    // Even the all-zero model passes a NaN input to its output: 0 · NaN = NaN.
    let zero = Rnn::<2, 3, 2, Tanh, Softmax, T>::zeros();
    let (_, y) = zero.step(&SVector::zeros(), &xs[1]);
    assert!(y.iter().all(|&x| is_nan(x)), "{y:?}");
}

#[test]
fn nan_input_f64() {
    nan_input::<f64>();
}

#[test]
fn nan_input_f32() {
    nan_input::<f32>();
}

/// On x86-64 parameter sets and trace steps are aligned to a cache line (64 bytes), so that the
/// kernels' whole-register loads of their columns do not straddle two lines; elsewhere they keep
/// the alignment of their scalars (no padding on a microcontroller).
#[test]
fn parameters_and_trace_steps_are_cache_aligned_on_x86_64() {
    use core::mem::align_of;
    use static_rnn::BatchStep;
    let expected = if cfg!(target_arch = "x86_64") {
        64
    } else {
        align_of::<f64>()
    };
    assert_eq!(align_of::<Params<3, 5, 7, f64>>(), expected);
    assert_eq!(align_of::<ForwardStep<5, 7, f64>>(), expected);
    assert_eq!(align_of::<BatchStep<5, 7, 3, f64>>(), expected);
    assert_eq!(align_of::<Model>(), align_of::<Params<16, 32, 8, f32>>());
    let grads = Params::<16, 32, 8, f32>::zeros();
    assert_eq!((&grads as *const _ as usize) % expected, 0);
}
