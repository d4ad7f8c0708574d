//! Activations, their Jacobians, the losses and their pairings with output activations, and the
//! numerically stable building blocks in `numerics`.
//!
//! Every expected value here comes from an independent source: central finite differences of the
//! crate's forward functions, naive textbook formulas written out below, or closed forms worked by
//! hand in the comments. Nothing is copied from the crate's own output.

use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use static_rnn::numerics::{log_sigmoid, log_sum_exp, sigmoid, softmax, softplus};
use static_rnn::scalar::{constant, to_f64};
use static_rnn::{
    BinaryCrossEntropy, CrossEntropy, General, HiddenActivation, Identity, Loss, LossFor, Mse,
    OutputActivation, Real, Relu, SVector, Sigmoid, Softmax, SoftmaxJacobian, Tanh,
    VectorJacobianProduct,
};

type V<const N: usize> = SVector<f64, N>;

// ---------------------------------------------------------------------------------------------
// Helpers: a deterministic generator, finite differences, comparisons, naive reference formulas.
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a small deterministic generator, so every run draws the same points.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn vector<const N: usize>(&mut self, lo: f64, hi: f64) -> V<N> {
        V::<N>::from_fn(|_, _| self.uniform(lo, hi))
    }

    /// Non-negative weights in `[0, hi)`, about a third of them exactly zero.
    fn sparse_weights<const N: usize>(&mut self, hi: f64) -> V<N> {
        V::<N>::from_fn(|_, _| {
            if self.below(3) == 0 {
                0.0
            } else {
                self.uniform(0.0, hi)
            }
        })
    }

    /// Targets in `[0, 1]`, with the end points `0` and `1` drawn often.
    fn unit_targets<const N: usize>(&mut self) -> V<N> {
        V::<N>::from_fn(|_, _| match self.below(4) {
            0 => 0.0,
            1 => 1.0,
            _ => self.uniform(0.0, 1.0),
        })
    }

    fn one_hot<const N: usize>(&mut self) -> V<N> {
        let k = self.below(N as u64) as usize;
        V::<N>::from_fn(|i, _| if i == k { 1.0 } else { 0.0 })
    }
}

/// `|got − want| ≤ max(abs, rel · max(|got|, |want|))`.
fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    (got - want).abs() <= abs.max(rel * got.abs().max(want.abs()))
}

#[track_caller]
fn assert_close(got: f64, want: f64, rel: f64, abs: f64, what: &str) {
    assert!(
        close(got, want, rel, abs),
        "{what}: got {got:e}, want {want:e} (diff {:e}, rel {rel:e}, abs {abs:e})",
        (got - want).abs()
    );
}

#[track_caller]
fn assert_vec_close<const N: usize>(got: &V<N>, want: &V<N>, rel: f64, abs: f64, what: &str) {
    for k in 0..N {
        assert!(
            close(got[k], want[k], rel, abs),
            "{what}[{k}]: got {:e}, want {:e}\n  got  = {got:?}\n  want = {want:?}",
            got[k],
            want[k]
        );
    }
}

/// Central difference `(f(x + h) − f(x − h)) / 2h`.
fn fd_scalar(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// The gradient of a scalar function of a vector, by central differences.
fn fd_gradient<const N: usize>(f: impl Fn(&V<N>) -> f64, x: &V<N>, h: f64) -> V<N> {
    V::<N>::from_fn(|j, _| {
        let mut plus = *x;
        let mut minus = *x;
        plus[j] += h;
        minus[j] -= h;
        (f(&plus) - f(&minus)) / (2.0 * h)
    })
}

/// `Jᵀ v` for the Jacobian of a vector function, column `j` of `J` by central differences.
fn fd_jacobian_t_v<const N: usize>(f: impl Fn(&V<N>) -> V<N>, x: &V<N>, v: &V<N>, h: f64) -> V<N> {
    V::<N>::from_fn(|j, _| {
        let mut plus = *x;
        let mut minus = *x;
        plus[j] += h;
        minus[j] -= h;
        let column = (f(&plus) - f(&minus)) / (2.0 * h);
        column.dot(v)
    })
}

fn naive_softmax<const N: usize>(a: &V<N>) -> V<N> {
    let e = a.map(f64::exp);
    e / e.sum()
}

fn naive_sigmoid_scalar(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn naive_sigmoid<const N: usize>(a: &V<N>) -> V<N> {
    a.map(naive_sigmoid_scalar)
}

fn naive_identity<const N: usize>(a: &V<N>) -> V<N> {
    *a
}

/// `−Σ y ln ŷ`, with `0 ln 0 = 0`.
fn naive_ce<const N: usize>(y_hat: &V<N>, y: &V<N>) -> f64 {
    (0..N)
        .filter(|&k| y[k] != 0.0)
        .map(|k| -y[k] * y_hat[k].ln())
        .sum()
}

fn naive_mse<const N: usize>(y_hat: &V<N>, y: &V<N>) -> f64 {
    (0..N).map(|k| (y_hat[k] - y[k]) * (y_hat[k] - y[k])).sum()
}

/// `−Σ [y ln ŷ + (1 − y) ln(1 − ŷ)]`, with `0 ln 0 = 0` on either side.
fn naive_bce<const N: usize>(y_hat: &V<N>, y: &V<N>) -> f64 {
    (0..N)
        .map(|k| {
            let mut term = 0.0;
            if y[k] != 0.0 {
                term -= y[k] * y_hat[k].ln();
            }
            if y[k] != 1.0 {
                term -= (1.0 - y[k]) * (1.0 - y_hat[k]).ln();
            }
            term
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Hidden activations.
// ---------------------------------------------------------------------------------------------

/// `derivative(z, f(z))` against central differences of `activate`, and against an independent
/// closed form; and the vector `jacobian` against the same.
fn check_hidden<F: HiddenActivation<f64>>(
    name: &str,
    closed_form: fn(f64) -> f64,
    kink: Option<f64>,
) {
    const H: f64 = 1e-5;
    let mut rng = Rng::new(0x1234 ^ name.len() as u64);
    let grid = (-240..=240).map(|i| f64::from(i) * 0.025 + 0.0123);
    let random: Vec<f64> = (0..200).map(|_| rng.uniform(-10.0, 10.0)).collect();
    let mut checked = 0;
    for z in grid.chain(random) {
        if let Some(k) = kink
            && (z - k).abs() < 1e-3
        {
            continue; // a central difference straddling the kink measures neither side
        }
        let h = F::activate(z);
        let d = F::derivative(z, h);
        let fd = fd_scalar(F::activate, z, H);
        assert_close(
            d,
            fd,
            1e-7,
            1e-9,
            &format!("{name}′({z}) vs finite differences"),
        );
        assert_close(
            d,
            closed_form(z),
            1e-12,
            1e-14,
            &format!("{name}′({z}) closed form"),
        );
        checked += 1;
    }
    assert!(checked > 600);

    // The vector forms: `forward` maps `activate`, `jacobian` is `diag(f′)`, and its `vjp` is
    // `Jᵀ v` of the finite-difference Jacobian of `forward`.
    for _ in 0..50 {
        let mut z: V<8> = rng.vector(-5.0, 5.0);
        if let Some(k) = kink {
            z.iter_mut()
                .filter(|zk| (**zk - k).abs() < 1e-3)
                .for_each(|zk| *zk += 0.01);
        }
        let v: V<8> = rng.vector(-2.0, 2.0);
        let h = F::forward(&z);
        for k in 0..8 {
            assert_eq!(
                h[k],
                F::activate(z[k]),
                "{name}: forward is activate, component-wise"
            );
        }
        let jac = F::jacobian(&z, &h);
        for k in 0..8 {
            assert_close(
                jac.diagonal()[k],
                fd_scalar(F::activate, z[k], H),
                1e-7,
                1e-9,
                &format!("{name} jacobian diagonal at {}", z[k]),
            );
        }
        let fd = fd_jacobian_t_v(|z| F::forward(z), &z, &v, H);
        assert_vec_close(
            &jac.vjp(&v),
            &fd,
            1e-7,
            1e-9,
            &format!("{name} jacobian vjp"),
        );
        assert_vec_close(
            &jac.hadamard(&v),
            &fd,
            1e-7,
            1e-9,
            &format!("{name} hadamard"),
        );
    }
}

#[test]
fn tanh_derivative_matches_finite_differences() {
    check_hidden::<Tanh>("tanh", |z| 1.0 / (z.cosh() * z.cosh()), None);
}

#[test]
fn relu_derivative_matches_finite_differences() {
    check_hidden::<Relu>("relu", |z| if z > 0.0 { 1.0 } else { 0.0 }, Some(0.0));
}

#[test]
fn sigmoid_derivative_matches_finite_differences() {
    // σ′(z) = e^{−z} / (1 + e^{−z})², written without σ itself.
    check_hidden::<Sigmoid>(
        "sigmoid",
        |z| {
            let e = (-z.abs()).exp(); // σ′ is even; use the side that cannot overflow
            e / ((1.0 + e) * (1.0 + e))
        },
        None,
    );
}

#[test]
fn identity_derivative_matches_finite_differences() {
    check_hidden::<Identity>("identity", |_| 1.0, None);
}

#[test]
fn hidden_activation_values_match_reference() {
    for i in -100..=100 {
        let z = f64::from(i) * 0.17;
        assert_close(Tanh::activate(z), z.tanh(), 1e-15, 1e-300, "tanh");
        assert_eq!(Relu::activate(z), z.max(0.0));
        assert_close(
            <Sigmoid as HiddenActivation<f64>>::activate(z),
            naive_sigmoid_scalar(z),
            1e-14,
            1e-300,
            "sigmoid",
        );
        assert_eq!(<Identity as HiddenActivation<f64>>::activate(z), z);
    }
    // f32 agrees with f64 to single precision.
    for i in -50..=50 {
        let z = i as f32 * 0.23;
        let z64 = f64::from(z);
        assert_close(
            f64::from(Tanh::activate(z)),
            z64.tanh(),
            1e-6,
            1e-7,
            "tanh f32",
        );
        assert_close(
            f64::from(<Sigmoid as HiddenActivation<f32>>::activate(z)),
            naive_sigmoid_scalar(z64),
            1e-6,
            1e-7,
            "sigmoid f32",
        );
        let h = Tanh::activate(z);
        assert_close(
            f64::from(Tanh::derivative(z, h)),
            1.0 / (z64.cosh() * z64.cosh()),
            1e-5,
            1e-6,
            "tanh′ f32",
        );
    }
}

#[test]
fn relu_derivative_at_zero_is_exactly_zero() {
    assert_eq!(Relu::derivative(0.0_f64, 0.0), 0.0);
    assert_eq!(Relu::derivative(-0.0_f64, 0.0), 0.0);
    assert_eq!(Relu::derivative(0.0_f32, 0.0), 0.0);
    assert_eq!(Relu::derivative(-0.0_f32, 0.0), 0.0);
    assert_eq!(Relu::activate(0.0_f64), 0.0);
    // Any positive input, however small, is on the linear side.
    assert_eq!(Relu::derivative(f64::MIN_POSITIVE, f64::MIN_POSITIVE), 1.0);
    assert_eq!(Relu::derivative(5e-324_f64, 5e-324), 1.0);
    assert_eq!(Relu::derivative(-5e-324_f64, 0.0), 0.0);
    // The vector Jacobian follows the same convention.
    let z = V::<4>::new(0.0, 1.0, -1.0, -0.0);
    let h = Relu::forward(&z);
    assert_eq!(h, V::<4>::new(0.0, 1.0, 0.0, 0.0));
    let jac = <Relu as HiddenActivation<f64>>::jacobian(&z, &h);
    assert_eq!(*jac.diagonal(), V::<4>::new(0.0, 1.0, 0.0, 0.0));
    assert_eq!(
        jac.vjp(&V::<4>::repeat(7.0)),
        V::<4>::new(0.0, 7.0, 0.0, 0.0)
    );
}

// ---------------------------------------------------------------------------------------------
// Output activations and their Jacobians.
// ---------------------------------------------------------------------------------------------

/// `G::jacobian(a, g(a)).vjp(v)` against `Jᵀ v` built from finite-difference columns of
/// `G::forward`; and `G::forward` against a naive formula.
fn check_output_jacobian<G: OutputActivation<f64>, const N: usize>(
    name: &str,
    naive: fn(&V<N>) -> V<N>,
    rng: &mut Rng,
) {
    for _ in 0..40 {
        let a: V<N> = rng.vector(-4.0, 4.0);
        let v: V<N> = rng.vector(-3.0, 3.0);
        let y_hat = G::forward(&a);
        assert_vec_close(
            &y_hat,
            &naive(&a),
            1e-13,
            1e-16,
            &format!("{name} forward N={N}"),
        );
        let vjp = G::jacobian(&a, &y_hat).vjp(&v);
        let fd = fd_jacobian_t_v(|a| G::forward(a), &a, &v, 1e-5);
        assert_vec_close(&vjp, &fd, 1e-6, 1e-8, &format!("{name} Jᵀv N={N}"));
    }
}

#[test]
fn softmax_vjp_matches_finite_difference_jacobian() {
    let mut rng = Rng::new(11);
    check_output_jacobian::<Softmax, 1>("softmax", naive_softmax, &mut rng);
    check_output_jacobian::<Softmax, 2>("softmax", naive_softmax, &mut rng);
    check_output_jacobian::<Softmax, 5>("softmax", naive_softmax, &mut rng);
    check_output_jacobian::<Softmax, 8>("softmax", naive_softmax, &mut rng);
}

#[test]
fn sigmoid_output_jacobian_matches_finite_differences() {
    let mut rng = Rng::new(12);
    check_output_jacobian::<Sigmoid, 1>("sigmoid", naive_sigmoid, &mut rng);
    check_output_jacobian::<Sigmoid, 2>("sigmoid", naive_sigmoid, &mut rng);
    check_output_jacobian::<Sigmoid, 5>("sigmoid", naive_sigmoid, &mut rng);
    check_output_jacobian::<Sigmoid, 8>("sigmoid", naive_sigmoid, &mut rng);
}

#[test]
fn identity_output_jacobian_matches_finite_differences() {
    let mut rng = Rng::new(13);
    check_output_jacobian::<Identity, 1>("identity", naive_identity, &mut rng);
    check_output_jacobian::<Identity, 2>("identity", naive_identity, &mut rng);
    check_output_jacobian::<Identity, 5>("identity", naive_identity, &mut rng);
    check_output_jacobian::<Identity, 8>("identity", naive_identity, &mut rng);
}

#[test]
fn softmax_jacobian_is_diag_minus_outer_product() {
    // By hand: ŷ = (1/4, 3/4), J = diag(ŷ) − ŷŷᵀ = [[3/16, −3/16], [−3/16, 3/16]],
    // Jᵀ (1, 3) = (3/16 − 9/16, −3/16 + 9/16) = (−3/8, 3/8). Every number is a dyadic fraction.
    let j = SoftmaxJacobian::new(V::<2>::new(0.25, 0.75));
    assert_eq!(j.vjp(&V::<2>::new(1.0, 3.0)), V::<2>::new(-0.375, 0.375));

    // Materialize J from vjp on the basis vectors; compare with diag(ŷ) − ŷŷᵀ.
    let mut rng = Rng::new(14);
    let a: V<5> = rng.vector(-2.0, 2.0);
    let y_hat = <Softmax as OutputActivation<f64>>::forward(&a);
    let jac = <Softmax as OutputActivation<f64>>::jacobian(&a, &y_hat);
    for i in 0..5 {
        let row = jac.vjp(&V::<5>::from_fn(|k, _| if k == i { 1.0 } else { 0.0 }));
        for j in 0..5 {
            let want = if i == j { y_hat[i] } else { 0.0 } - y_hat[i] * y_hat[j];
            assert_close(row[j], want, 1e-14, 1e-16, "softmax J entry");
        }
        // The rows of the softmax Jacobian sum to zero (softmax is shift-invariant).
        assert!(row.sum().abs() < 1e-15, "row {i} sums to {}", row.sum());
    }
}

// ---------------------------------------------------------------------------------------------
// Losses in probability space.
// ---------------------------------------------------------------------------------------------

fn check_loss<L: Loss<f64>, const N: usize>(
    name: &str,
    naive: fn(&V<N>, &V<N>) -> f64,
    y_hat: V<N>,
    y: V<N>,
) {
    let l = L::loss(&y_hat, &y);
    assert_close(
        l,
        naive(&y_hat, &y),
        1e-13,
        1e-15,
        &format!("{name} loss N={N}"),
    );
    let g = L::gradient(&y_hat, &y);
    let fd = fd_gradient(|p| naive(p, &y), &y_hat, 1e-6);
    assert_vec_close(&g, &fd, 1e-6, 1e-7, &format!("{name} gradient N={N}"));
    // …and against the crate's own loss, differenced (the two must be consistent).
    let fd_self = fd_gradient(|p| L::loss(p, &y), &y_hat, 1e-6);
    assert_vec_close(
        &g,
        &fd_self,
        1e-6,
        1e-7,
        &format!("{name} gradient vs own loss"),
    );
}

fn check_losses<const N: usize>(rng: &mut Rng) {
    for _ in 0..40 {
        let y_hat: V<N> = rng.vector(0.05, 0.95);
        check_loss::<CrossEntropy, N>("ce", naive_ce, y_hat, rng.sparse_weights(2.0));
        check_loss::<CrossEntropy, N>("ce one-hot", naive_ce, y_hat, rng.one_hot());
        check_loss::<BinaryCrossEntropy, N>("bce", naive_bce, y_hat, rng.unit_targets());
        check_loss::<Mse, N>(
            "mse",
            naive_mse,
            rng.vector(-3.0, 3.0),
            rng.vector(-3.0, 3.0),
        );
    }
}

#[test]
fn loss_gradients_match_finite_differences() {
    let mut rng = Rng::new(21);
    check_losses::<1>(&mut rng);
    check_losses::<3>(&mut rng);
    check_losses::<6>(&mut rng);
}

#[test]
fn loss_values_by_hand() {
    // CE: −(0.5 ln 0.5 + 0.5 ln 0.25) = 0.5 ln 2 + ln 2 = 1.5 ln 2. Gradient −y/ŷ = (0, −1, −2).
    let y_hat = V::<3>::new(0.25, 0.5, 0.25);
    let y = V::<3>::new(0.0, 0.5, 0.5);
    assert_close(
        CrossEntropy::loss(&y_hat, &y),
        1.5 * 2f64.ln(),
        1e-15,
        0.0,
        "ce",
    );
    assert_eq!(
        CrossEntropy::gradient(&y_hat, &y),
        V::<3>::new(0.0, -1.0, -2.0)
    );
    // MSE is a sum over components, not a mean: (1 − 0)² + (−2 − 1)² = 10; gradient 2(ŷ − y).
    let y_hat = V::<2>::new(1.0, -2.0);
    let y = V::<2>::new(0.0, 1.0);
    assert_eq!(Mse::loss(&y_hat, &y), 10.0);
    assert_eq!(Mse::gradient(&y_hat, &y), V::<2>::new(2.0, -6.0));
    // BCE at ŷ = 0.5 is ln 2 per component whatever y ∈ [0, 1]; gradient (ŷ − y)/(ŷ(1 − ŷ)).
    let y_hat = V::<3>::repeat(0.5);
    let y = V::<3>::new(0.0, 1.0, 0.25);
    assert_close(
        BinaryCrossEntropy::loss(&y_hat, &y),
        3.0 * 2f64.ln(),
        1e-15,
        0.0,
        "bce",
    );
    assert_eq!(
        BinaryCrossEntropy::gradient(&y_hat, &y),
        V::<3>::new(2.0, -2.0, 1.0)
    );
}

// ---------------------------------------------------------------------------------------------
// Losses paired with output activations: all nine pairs.
// ---------------------------------------------------------------------------------------------

/// `LossFor<G>::loss_and_delta` against `L::loss(g(a), y)` and against finite differences of the
/// naive composite `a ↦ L(g(a), y)`.
fn check_pair<G, L, const N: usize>(
    name: &str,
    g_naive: fn(&V<N>) -> V<N>,
    l_naive: fn(&V<N>, &V<N>) -> f64,
    a: V<N>,
    y: V<N>,
) where
    G: OutputActivation<f64>,
    L: LossFor<G, f64>,
{
    let y_hat = G::forward(&a);
    let (loss, delta) = L::loss_and_delta(&a, &y_hat, &y);
    let what = format!("{name} N={N} a={a:?} y={y:?}");
    assert_close(
        loss,
        L::loss(&y_hat, &y),
        1e-12,
        1e-12,
        &format!("loss {what}"),
    );
    assert_close(
        loss,
        l_naive(&g_naive(&a), &y),
        1e-11,
        1e-12,
        &format!("naive {what}"),
    );
    let fd = fd_gradient(|a| l_naive(&g_naive(a), &y), &a, 1e-6);
    assert_vec_close(&delta, &fd, 1e-6, 1e-7, &format!("δa {what}"));
}

fn check_nine_pairs<const N: usize>(rng: &mut Rng) {
    for _ in 0..25 {
        // Softmax outputs: logits anywhere moderate.
        let a: V<N> = rng.vector(-3.0, 3.0);
        check_pair::<Softmax, CrossEntropy, N>(
            "softmax+ce one-hot",
            naive_softmax,
            naive_ce,
            a,
            rng.one_hot(),
        );
        // A target that is not a distribution: fused δa is (Σy) ŷ − y.
        check_pair::<Softmax, CrossEntropy, N>(
            "softmax+ce weights",
            naive_softmax,
            naive_ce,
            a,
            rng.sparse_weights(1.5),
        );
        check_pair::<Softmax, Mse, N>(
            "softmax+mse",
            naive_softmax,
            naive_mse,
            a,
            rng.vector(-1.0, 2.0),
        );
        // With one component softmax is the constant 1, a saturated output; only y = 1 keeps
        // 1 − ŷ out of the logarithm (saturation is tested separately).
        let y_bce = if N == 1 {
            V::<N>::repeat(1.0)
        } else {
            rng.unit_targets()
        };
        check_pair::<Softmax, BinaryCrossEntropy, N>(
            "softmax+bce",
            naive_softmax,
            naive_bce,
            a,
            y_bce,
        );

        // Sigmoid outputs.
        let a: V<N> = rng.vector(-4.0, 4.0);
        check_pair::<Sigmoid, BinaryCrossEntropy, N>(
            "sigmoid+bce",
            naive_sigmoid,
            naive_bce,
            a,
            rng.unit_targets(),
        );
        check_pair::<Sigmoid, CrossEntropy, N>(
            "sigmoid+ce",
            naive_sigmoid,
            naive_ce,
            a,
            rng.sparse_weights(1.5),
        );
        check_pair::<Sigmoid, Mse, N>(
            "sigmoid+mse",
            naive_sigmoid,
            naive_mse,
            a,
            rng.vector(-1.0, 2.0),
        );

        // Identity outputs: any logits for MSE; in (0, 1) where they are scored as probabilities.
        check_pair::<Identity, Mse, N>(
            "identity+mse",
            naive_identity,
            naive_mse,
            rng.vector(-3.0, 3.0),
            rng.vector(-3.0, 3.0),
        );
        let p: V<N> = rng.vector(0.1, 0.9);
        check_pair::<Identity, CrossEntropy, N>(
            "identity+ce",
            naive_identity,
            naive_ce,
            p,
            rng.sparse_weights(1.5),
        );
        check_pair::<Identity, BinaryCrossEntropy, N>(
            "identity+bce",
            naive_identity,
            naive_bce,
            p,
            rng.unit_targets(),
        );
    }
}

#[test]
fn loss_and_delta_for_all_nine_pairs() {
    let mut rng = Rng::new(31);
    check_nine_pairs::<1>(&mut rng);
    check_nine_pairs::<3>(&mut rng);
    check_nine_pairs::<6>(&mut rng);
}

#[test]
fn fused_deltas_by_hand() {
    // Softmax + CE with a = (0, ln 3): ŷ = (1/4, 3/4). y = (0, 1): L = −ln(3/4), δa = (1/4, −1/4).
    let a = V::<2>::new(0.0, 3f64.ln());
    let y_hat = <Softmax as OutputActivation<f64>>::forward(&a);
    let (l, d) =
        <CrossEntropy as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &V::<2>::new(0.0, 1.0));
    assert_close(l, (4.0f64 / 3.0).ln(), 1e-14, 0.0, "softmax+ce loss");
    assert_vec_close(&d, &V::<2>::new(0.25, -0.25), 1e-14, 1e-15, "softmax+ce δa");
    // Mass 2 target y = (1, 1): L = −ln(1/4) − ln(3/4) = ln(16/3), δa = 2ŷ − y = (−1/2, 1/2).
    let (l, d) =
        <CrossEntropy as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &V::<2>::new(1.0, 1.0));
    assert_close(
        l,
        (16.0f64 / 3.0).ln(),
        1e-14,
        0.0,
        "softmax+ce mass-2 loss",
    );
    assert_vec_close(
        &d,
        &V::<2>::new(-0.5, 0.5),
        1e-14,
        1e-15,
        "softmax+ce mass-2 δa",
    );
    // Sigmoid + BCE at a = 0: ŷ = 1/2, L = ln 2 whatever y, δa = 1/2 − y.
    let a = V::<3>::zeros();
    let y = V::<3>::new(0.0, 1.0, 0.25);
    let y_hat = <Sigmoid as OutputActivation<f64>>::forward(&a);
    let (l, d) = <BinaryCrossEntropy as LossFor<Sigmoid, f64>>::loss_and_delta(&a, &y_hat, &y);
    assert_close(l, 3.0 * 2f64.ln(), 1e-15, 0.0, "sigmoid+bce loss");
    assert_eq!(d, V::<3>::new(0.5, -0.5, 0.25));
    // Identity + MSE: L = Σ (a − y)², δa = 2 (a − y).
    let a = V::<2>::new(1.5, -1.0);
    let y = V::<2>::new(0.5, 1.0);
    let (l, d) = <Mse as LossFor<Identity, f64>>::loss_and_delta(&a, &a, &y);
    assert_eq!(l, 5.0);
    assert_eq!(d, V::<2>::new(2.0, -4.0));
}

// ---------------------------------------------------------------------------------------------
// Fused = general, as a property.
// ---------------------------------------------------------------------------------------------

/// A seed for the property tests. quickcheck's own `f64` includes NaN, infinities and huge
/// values; the properties draw bounded values from this seed with [`Rng`] instead.
#[derive(Clone, Debug)]
struct Seed(u64);

impl Arbitrary for Seed {
    fn arbitrary(g: &mut Gen) -> Self {
        Seed(u64::arbitrary(g))
    }
}

/// Relative `1e-12` with an absolute floor of `1e-12`.
fn agree(fused: f64, general: f64) -> bool {
    close(fused, general, 1e-12, 1e-12)
}

/// Compares `<L as LossFor<G>>` with `<General<L> as LossFor<G>>` at `(a, y)`.
fn fused_vs_general<G, L, const N: usize>(a: &V<N>, y: &V<N>) -> Result<(), String>
where
    G: OutputActivation<f64>,
    L: LossFor<G, f64>,
{
    let y_hat = G::forward(a);
    let (general_loss, general_delta) =
        <General<L> as LossFor<G, f64>>::loss_and_delta(a, &y_hat, y);
    if !general_loss.is_finite() || !general_delta.iter().all(|d| d.is_finite()) {
        return Err(format!("general path not finite at a={a:?} y={y:?}"));
    }
    let (fused_loss, fused_delta) = L::loss_and_delta(a, &y_hat, y);
    if !agree(fused_loss, general_loss) {
        return Err(format!(
            "N={N} loss: fused {fused_loss:e} vs general {general_loss:e} at a={a:?} y={y:?}"
        ));
    }
    for k in 0..N {
        if !agree(fused_delta[k], general_delta[k]) {
            return Err(format!(
                "N={N} δa[{k}]: fused {:e} vs general {:e} at a={a:?} y={y:?}",
                fused_delta[k], general_delta[k]
            ));
        }
    }
    Ok(())
}

/// Draws `(a, y)` of a given length.
type Draw = fn(&mut Rng, usize) -> (Vec<f64>, Vec<f64>);

/// Runs the comparison for `N = 1, 3, 8`, each drawing from its own stream of `rng`.
fn fused_vs_general_sizes<G, L>(rng: &mut Rng, draw: Draw) -> TestResult
where
    G: OutputActivation<f64>,
    L: LossFor<G, f64>,
{
    fn run<G, L, const N: usize>(rng: &mut Rng, draw: Draw) -> Result<(), String>
    where
        G: OutputActivation<f64>,
        L: LossFor<G, f64>,
    {
        let (a, y) = draw(rng, N);
        fused_vs_general::<G, L, N>(
            &V::<N>::from_column_slice(&a),
            &V::<N>::from_column_slice(&y),
        )
    }
    let result = run::<G, L, 1>(rng, draw)
        .and_then(|()| run::<G, L, 3>(rng, draw))
        .and_then(|()| run::<G, L, 8>(rng, draw));
    match result {
        Ok(()) => TestResult::passed(),
        Err(message) => TestResult::error(message),
    }
}

fn uniform_vec(rng: &mut Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.uniform(lo, hi)).collect()
}

/// Softmax + CE. Logits in `[−100, 100]` keep every softmax output a normal number, where the
/// general path is exact up to rounding. Targets: one-hot, a random distribution, non-negative
/// weights of any mass (some zero), and signed weights (not a loss, but the same formulas).
fn draw_softmax_ce(rng: &mut Rng, n: usize) -> (Vec<f64>, Vec<f64>) {
    let kind = rng.below(4);
    let range = if kind == 3 { 20.0 } else { 100.0 };
    let a = uniform_vec(rng, n, -range, range);
    let y = match kind {
        0 => {
            let k = rng.below(n as u64) as usize;
            (0..n).map(|i| if i == k { 1.0 } else { 0.0 }).collect()
        }
        1 => {
            let w = uniform_vec(rng, n, 0.0, 1.0);
            let total: f64 = w.iter().sum();
            w.iter().map(|x| x / total).collect()
        }
        2 => (0..n)
            .map(|_| {
                if rng.below(3) == 0 {
                    0.0
                } else {
                    rng.uniform(0.0, 5.0)
                }
            })
            .collect(),
        _ => uniform_vec(rng, n, -2.0, 3.0),
    };
    (a, y)
}

/// Sigmoid + BCE. The general path computes `1 − σ(a)` by subtraction, which for `a > 0` carries
/// a relative error of about `ε·eᵃ` into `ln(1 − ŷ)`, and for `a ≳ 36.7` rounds `σ(a)` to exactly
/// 1 (see `general_path_saturates_but_stays_finite`). That ill-conditioning is what the fused
/// path exists to avoid, so logits are drawn in `[−40, 8]`, where the general loss is accurate to
/// `1e−12` relative. Targets in `[0, 1]`, the end points often.
fn draw_sigmoid_bce(rng: &mut Rng, n: usize) -> (Vec<f64>, Vec<f64>) {
    let a = uniform_vec(rng, n, -40.0, 8.0);
    let y = (0..n)
        .map(|_| match rng.below(4) {
            0 => 0.0,
            1 => 1.0,
            _ => rng.uniform(0.0, 1.0),
        })
        .collect();
    (a, y)
}

/// Identity + MSE: any moderate logits and targets.
fn draw_identity_mse(rng: &mut Rng, n: usize) -> (Vec<f64>, Vec<f64>) {
    (
        uniform_vec(rng, n, -1e3, 1e3),
        uniform_vec(rng, n, -1e3, 1e3),
    )
}

#[test]
fn fused_equals_general_softmax_cross_entropy() {
    fn prop(seed: Seed) -> TestResult {
        fused_vs_general_sizes::<Softmax, CrossEntropy>(&mut Rng::new(seed.0), draw_softmax_ce)
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(Seed) -> TestResult);
}

#[test]
fn fused_equals_general_sigmoid_binary_cross_entropy() {
    fn prop(seed: Seed) -> TestResult {
        fused_vs_general_sizes::<Sigmoid, BinaryCrossEntropy>(
            &mut Rng::new(seed.0),
            draw_sigmoid_bce,
        )
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(Seed) -> TestResult);
}

#[test]
fn fused_equals_general_identity_mse() {
    fn prop(seed: Seed) -> TestResult {
        fused_vs_general_sizes::<Identity, Mse>(&mut Rng::new(seed.0), draw_identity_mse)
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(Seed) -> TestResult);
}

/// The BCE delta stays well conditioned on the general path even where its loss is not: the
/// `1 − ŷ` in the Jacobian and in the gradient is the same float and cancels. So the deltas agree
/// to `1e−12` over `[−40, 36]` (below the point where `σ(a)` rounds to 1), and the losses agree to
/// the general path's conditioning, `1e−12` relative plus `(1 − y)·4ε·eᵃ` per component.
#[test]
fn fused_sigmoid_bce_delta_agrees_on_wide_logits() {
    fn prop(seed: Seed) -> TestResult {
        let mut rng = Rng::new(seed.0);
        let a: V<4> = rng.vector(-40.0, 36.0);
        let y: V<4> = rng.unit_targets();
        let y_hat = <Sigmoid as OutputActivation<f64>>::forward(&a);
        let (fl, fd) =
            <BinaryCrossEntropy as LossFor<Sigmoid, f64>>::loss_and_delta(&a, &y_hat, &y);
        let (gl, gd) =
            <General<BinaryCrossEntropy> as LossFor<Sigmoid, f64>>::loss_and_delta(&a, &y_hat, &y);
        let slack: f64 = (0..4)
            .map(|k| (1.0 - y[k]) * 4.0 * f64::EPSILON * a[k].max(0.0).exp())
            .sum();
        let loss_ok = (fl - gl).abs() <= 1e-12 * fl.abs().max(gl.abs()).max(1.0) + slack;
        let delta_ok = (0..4).all(|k| agree(fd[k], gd[k]));
        if loss_ok && delta_ok {
            TestResult::passed()
        } else {
            TestResult::error(format!(
                "a={a:?} y={y:?}: loss {fl:e} vs {gl:e} (slack {slack:e}), δa {fd:?} vs {gd:?}"
            ))
        }
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(Seed) -> TestResult);
}

// ---------------------------------------------------------------------------------------------
// Extreme logits: the fused pairs stay finite and exact.
// ---------------------------------------------------------------------------------------------

fn vec_t<T: Real, const N: usize>(values: [f64; N]) -> SVector<T, N> {
    SVector::<T, N>::from_fn(|i, _| constant(values[i]))
}

/// `got` is finite and within `ulps · ε_T · max(|want|, scale, 1)` of `want`. `scale` is the size
/// of the numbers the result was computed from: a loss computed as `lse(a) − a_k` from logits of
/// size `big` carries an absolute rounding error of about `ε·big`, however small the loss.
#[track_caller]
fn assert_t_close<T: Real>(got: T, want: f64, ulps: f64, scale: f64, what: &str) {
    let eps = to_f64(T::default_epsilon());
    let got = to_f64(got);
    assert!(got.is_finite(), "{what}: {got} is not finite");
    assert!(
        (got - want).abs() <= ulps * eps * want.abs().max(scale).max(1.0),
        "{what}: got {got:e}, want {want:e}"
    );
}

#[track_caller]
fn assert_t_vec_close<T: Real, const N: usize>(
    got: &SVector<T, N>,
    want: [f64; N],
    ulps: f64,
    what: &str,
) {
    for k in 0..N {
        assert_t_close(got[k], want[k], ulps, 1.0, &format!("{what}[{k}]"));
    }
}

/// Softmax + CE, Sigmoid + BCE and Identity + MSE at logits `±big`, against closed forms.
fn extreme_logits<T: Real>(big: f64) {
    let tag = format!("{} big={big}", std::any::type_name::<T>());
    let pair = |a: [f64; 3], y: [f64; 3]| {
        let a = vec_t::<T, 3>(a);
        let y_hat = <Softmax as OutputActivation<T>>::forward(&a);
        <CrossEntropy as LossFor<Softmax, T>>::loss_and_delta(&a, &y_hat, &vec_t(y))
    };
    // a = (big, 0, −big), y on index 2: L = lse(a) − a_2 = big + ln(1 + e^{−big} + e^{−2big}) + big,
    // which is 2·big to within e^{−big}; δa = ŷ − y = (1, e^{−big}, e^{−2big}) − (0, 0, 1).
    let (l, d) = pair([big, 0.0, -big], [0.0, 0.0, 1.0]);
    assert_t_close(l, 2.0 * big, 2.0, big, &format!("softmax+ce L {tag}"));
    assert_t_vec_close(&d, [1.0, 0.0, -1.0], 2.0, &format!("softmax+ce δa {tag}"));
    // y on index 0: L = ln(1 + e^{−big} + …) ≈ 0 and δa ≈ 0.
    let (l, d) = pair([big, 0.0, -big], [1.0, 0.0, 0.0]);
    assert_t_close(
        l,
        0.0,
        2.0,
        big,
        &format!("softmax+ce L (right class) {tag}"),
    );
    assert_t_vec_close(
        &d,
        [0.0, 0.0, 0.0],
        2.0,
        &format!("softmax+ce δa (right) {tag}"),
    );
    // y = (½, ½, 0): L = ½·0 + ½·big; δa = (1 − ½, −½, 0).
    let (l, d) = pair([big, 0.0, -big], [0.5, 0.5, 0.0]);
    assert_t_close(
        l,
        0.5 * big,
        2.0,
        big,
        &format!("softmax+ce L (split) {tag}"),
    );
    assert_t_vec_close(
        &d,
        [0.5, -0.5, 0.0],
        2.0,
        &format!("softmax+ce δa (split) {tag}"),
    );
    // Two equal huge logits and one tiny: L = ln 2 for y on index 1; δa = (½, −½, 0).
    let (l, d) = pair([big, big, -big], [0.0, 1.0, 0.0]);
    assert_t_close(l, 2f64.ln(), 2.0, big, &format!("softmax+ce L (tie) {tag}"));
    assert_t_vec_close(
        &d,
        [0.5, -0.5, 0.0],
        2.0,
        &format!("softmax+ce δa (tie) {tag}"),
    );

    // Sigmoid + BCE, componentwise with softplus(±big) = big or 0 (to within e^{−big}):
    // a = −big, y = 1: −ln σ(−big) = big, δa = 0 − 1;
    // a = +big, y = 0: −ln(1 − σ(big)) = big, δa = 1 − 0;
    // a = +big, y = 1: ≈ 0, δa ≈ 0;
    // a = −big, y = ½: ½ big + ½·0, δa = 0 − ½;
    // a = +big, y = ¼: ¼·0 + ¾ big, δa = 1 − ¼.
    let a = vec_t::<T, 5>([-big, big, big, -big, big]);
    let y = vec_t::<T, 5>([1.0, 0.0, 1.0, 0.5, 0.25]);
    let y_hat = <Sigmoid as OutputActivation<T>>::forward(&a);
    let (l, d) = <BinaryCrossEntropy as LossFor<Sigmoid, T>>::loss_and_delta(&a, &y_hat, &y);
    assert_t_close(
        l,
        (1.0 + 1.0 + 0.0 + 0.5 + 0.75) * big,
        4.0,
        big,
        &format!("sigmoid+bce L {tag}"),
    );
    assert_t_vec_close(
        &d,
        [-1.0, 1.0, 0.0, -0.5, 0.75],
        2.0,
        &format!("sigmoid+bce δa {tag}"),
    );

    // Identity + MSE: a = (big, −big), y = (0, big): L = big² + (2big)² = 5 big²,
    // δa = 2(a − y) = (2 big, −4 big).
    let a = vec_t::<T, 2>([big, -big]);
    let y = vec_t::<T, 2>([0.0, big]);
    let (l, d) = <Mse as LossFor<Identity, T>>::loss_and_delta(&a, &a, &y);
    assert_t_close(
        l,
        5.0 * big * big,
        2.0,
        big,
        &format!("identity+mse L {tag}"),
    );
    assert_t_vec_close(
        &d,
        [2.0 * big, -4.0 * big],
        2.0,
        &format!("identity+mse δa {tag}"),
    );
}

#[test]
fn extreme_logits_f64() {
    // exp overflows f64 above ≈ 709.78.
    for big in [40.0, 88.0, 709.0, 710.0, 1000.0, 1e5] {
        extreme_logits::<f64>(big);
    }
}

#[test]
fn extreme_logits_f32() {
    // exp overflows f32 above ≈ 88.72.
    for big in [30.0, 88.0, 89.0, 100.0, 710.0, 1000.0] {
        extreme_logits::<f32>(big);
    }
}

#[test]
fn extreme_logits_named_cases() {
    // The cases as stated: CE with logits (1000, 0, −1000) and the target on index 2 is 2000;
    // BCE with a = −1000 and y = 1 is 1000.
    let a = V::<3>::new(1000.0, 0.0, -1000.0);
    let y_hat = <Softmax as OutputActivation<f64>>::forward(&a);
    let (l, d) = <CrossEntropy as LossFor<Softmax, f64>>::loss_and_delta(
        &a,
        &y_hat,
        &V::<3>::new(0.0, 0.0, 1.0),
    );
    assert_eq!(l, 2000.0);
    assert_eq!(d, V::<3>::new(1.0, 0.0, -1.0));

    let a = SVector::<f32, 1>::new(-1000.0);
    let y_hat = <Sigmoid as OutputActivation<f32>>::forward(&a);
    let (l, d) = <BinaryCrossEntropy as LossFor<Sigmoid, f32>>::loss_and_delta(
        &a,
        &y_hat,
        &SVector::from([1.0]),
    );
    assert_eq!(l, 1000.0);
    assert_eq!(d, SVector::<f32, 1>::new(-1.0));
}

// ---------------------------------------------------------------------------------------------
// Saturated outputs and NaN in probability space.
// ---------------------------------------------------------------------------------------------

/// `−ln(smallest positive normal)`: `126 ln 2` for f32, `1022 ln 2` for f64. Per `src/loss.rs`,
/// probabilities below that number are raised to it before `ln p` and `y / p`.
fn floor_nll<T: Real>() -> f64 {
    -to_f64(T::min_positive()).ln()
}

fn saturated<T: Real>() {
    let tag = std::any::type_name::<T>();
    let cap = floor_nll::<T>();
    let inv_floor = 1.0 / to_f64(T::min_positive()); // 2^126 or 2^1022, exact
    let all_finite = |v: &[T]| v.iter().all(|x| x.is_finite());

    // CE, ŷ = (0, 1) exactly: the target on the zero output costs the cap; on the one output, 0.
    let y_hat = vec_t::<T, 2>([0.0, 1.0]);
    let l = CrossEntropy::loss(&y_hat, &vec_t([1.0, 0.0]));
    assert_t_close(l, cap, 4.0, 1.0, &format!("ce on ŷ=0 {tag}"));
    let g = CrossEntropy::gradient(&y_hat, &vec_t([1.0, 0.0]));
    assert!(all_finite(g.as_slice()), "{tag}: {g:?}");
    assert_eq!(to_f64(g[0]), -inv_floor);
    assert_eq!(to_f64(g[1]), 0.0);
    assert_eq!(to_f64(CrossEntropy::loss(&y_hat, &vec_t([0.0, 1.0]))), 0.0);
    // A zero target weight on a zero output contributes exactly zero (0 ln 0 = 0).
    let g = CrossEntropy::gradient(&y_hat, &vec_t([0.0, 1.0]));
    assert_eq!((to_f64(g[0]), to_f64(g[1])), (0.0, -1.0));

    // BCE at ŷ ∈ {0, 1}: matching targets cost 0, opposite ones the cap.
    let y_hat = vec_t::<T, 4>([0.0, 1.0, 1.0, 0.0]);
    let y = vec_t::<T, 4>([0.0, 1.0, 0.0, 1.0]);
    assert_t_close(
        BinaryCrossEntropy::loss(&y_hat, &y),
        2.0 * cap,
        4.0,
        1.0,
        &format!("bce {tag}"),
    );
    let g = BinaryCrossEntropy::gradient(&y_hat, &y);
    assert!(all_finite(g.as_slice()), "{tag}: {g:?}");
    // ∂/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ): (1, −1, +1/floor, −1/floor).
    let g: Vec<f64> = g.iter().map(|&x| to_f64(x)).collect();
    assert_eq!(g, vec![1.0, -1.0, inv_floor, -inv_floor]);
    // A soft target on a saturated output: ½ cap + ½·0.
    let l = BinaryCrossEntropy::loss(&vec_t::<T, 1>([0.0]), &vec_t([0.5]));
    assert_t_close(l, 0.5 * cap, 4.0, 1.0, &format!("bce soft {tag}"));

    // Identity + CE/BCE with outputs outside [0, 1]: not probabilities, floored, finite.
    let a = vec_t::<T, 2>([-0.5, 1.5]);
    let (l, d) = <CrossEntropy as LossFor<Identity, T>>::loss_and_delta(&a, &a, &vec_t([1.0, 0.0]));
    assert_t_close(l, cap, 4.0, 1.0, &format!("identity+ce negative ŷ {tag}"));
    assert!(all_finite(d.as_slice()), "{tag}: {d:?}");
    assert_eq!((to_f64(d[0]), to_f64(d[1])), (-inv_floor, 0.0));
    let (l, d) =
        <BinaryCrossEntropy as LossFor<Identity, T>>::loss_and_delta(&a, &a, &vec_t([1.0, 0.0]));
    // ln floor(−0.5) for y = 1; ln floor(1 − 1.5) for y = 0.
    assert_t_close(
        l,
        2.0 * cap,
        4.0,
        1.0,
        &format!("identity+bce outside [0,1] {tag}"),
    );
    assert!(all_finite(d.as_slice()), "{tag}: {d:?}");

    // Sigmoid + CE / Softmax + BCE / Softmax + MSE with outputs saturated by huge logits.
    let a = vec_t::<T, 3>([1000.0, -1000.0, 0.0]);
    let y_hat = <Sigmoid as OutputActivation<T>>::forward(&a);
    let (l, d) =
        <CrossEntropy as LossFor<Sigmoid, T>>::loss_and_delta(&a, &y_hat, &vec_t([1.0, 1.0, 0.0]));
    assert_t_close(l, cap, 4.0, 1.0, &format!("sigmoid+ce σ(−1000) {tag}"));
    assert!(all_finite(d.as_slice()), "{tag}: {d:?}");
    let y_hat = <Softmax as OutputActivation<T>>::forward(&a);
    let (l, d) = <BinaryCrossEntropy as LossFor<Softmax, T>>::loss_and_delta(
        &a,
        &y_hat,
        &vec_t([0.0, 1.0, 0.0]),
    );
    // ŷ = (1, 0, e^{−1000} = 0): −ln floor(1 − 1) − ln floor(0) − ln(1 − 0) = 2 cap.
    assert_t_close(
        l,
        2.0 * cap,
        4.0,
        1.0,
        &format!("softmax+bce saturated {tag}"),
    );
    assert!(all_finite(d.as_slice()), "{tag}: {d:?}");
    let (l, d) = <Mse as LossFor<Softmax, T>>::loss_and_delta(&a, &y_hat, &vec_t([0.0, 1.0, 0.0]));
    assert_t_close(l, 2.0, 4.0, 1.0, &format!("softmax+mse saturated {tag}"));
    assert!(all_finite(d.as_slice()), "{tag}: {d:?}");
}

#[test]
fn saturated_outputs_stay_finite_f64() {
    saturated::<f64>();
}

#[test]
fn saturated_outputs_stay_finite_f32() {
    saturated::<f32>();
}

/// Where `ŷ` underflows to exactly 0 (or rounds to exactly 1), the general path cannot recover
/// the logits: its loss is capped at `−ln(floor)` and its delta loses the saturated component.
/// Both stay finite, as `src/loss.rs` promises; the fused path gives the right answer.
#[test]
fn general_path_saturates_but_stays_finite() {
    let a = V::<3>::new(1000.0, 0.0, -1000.0);
    let y = V::<3>::new(0.0, 0.0, 1.0);
    let y_hat = <Softmax as OutputActivation<f64>>::forward(&a);
    let (l, d) = <General<CrossEntropy> as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &y);
    assert_close(l, floor_nll::<f64>(), 1e-15, 0.0, "capped general CE");
    assert!(d.iter().all(|x| x.is_finite()), "{d:?}");
    let (fused, _) = <CrossEntropy as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &y);
    assert_eq!(fused, 2000.0);

    // σ(40) rounds to exactly 1 in f64.
    let a = V::<1>::new(40.0);
    let y = V::<1>::new(0.0);
    let y_hat = <Sigmoid as OutputActivation<f64>>::forward(&a);
    assert_eq!(y_hat[0], 1.0);
    let (l, d) =
        <General<BinaryCrossEntropy> as LossFor<Sigmoid, f64>>::loss_and_delta(&a, &y_hat, &y);
    assert!(l.is_finite() && d[0].is_finite(), "{l} {d:?}");
    let (fl, fd) = <BinaryCrossEntropy as LossFor<Sigmoid, f64>>::loss_and_delta(&a, &y_hat, &y);
    // softplus(40) = 40 + ln(1 + e^{−40}) = 40 to double precision; δa = σ(40) − 0 = 1.
    assert_close(fl, 40.0, 1e-15, 0.0, "fused BCE at 40");
    assert_eq!(fd[0], 1.0);
}

/// NaN handling, per the `src/loss.rs` docs: "NaN in the input propagates to the output", and
/// "a term with a zero target weight (y_k = 0 in cross-entropy) contributes exactly zero".
/// These two rules meet in cross-entropy: a NaN output scored with a zero target weight is
/// skipped like any zero-weight term, so that loss stays finite. Everywhere else NaN propagates.
#[test]
fn nan_propagates() {
    let nan = f64::NAN;
    // MSE: NaN output or NaN target → NaN loss, NaN gradient at that component.
    let l = Mse::loss(&V::<2>::new(nan, 0.0), &V::<2>::new(0.0, 0.0));
    assert!(l.is_nan());
    let g = Mse::gradient(&V::<2>::new(nan, 0.0), &V::<2>::new(0.0, 0.0));
    assert!(g[0].is_nan() && g[1] == 0.0);
    assert!(Mse::loss(&V::<1>::new(0.5), &V::<1>::new(nan)).is_nan());

    // BCE: every target weight touches ŷ (through ln ŷ or ln(1 − ŷ)), so NaN always propagates.
    for y in [0.0, 1.0, 0.3] {
        assert!(BinaryCrossEntropy::loss(&V::<1>::new(nan), &V::<1>::new(y)).is_nan());
        assert!(BinaryCrossEntropy::gradient(&V::<1>::new(nan), &V::<1>::new(y))[0].is_nan());
    }
    assert!(BinaryCrossEntropy::loss(&V::<1>::new(0.5), &V::<1>::new(nan)).is_nan());

    // CE: NaN on a scored component propagates; NaN target propagates.
    let y_hat = V::<2>::new(nan, 0.5);
    assert!(CrossEntropy::loss(&y_hat, &V::<2>::new(1.0, 0.0)).is_nan());
    assert!(CrossEntropy::gradient(&y_hat, &V::<2>::new(1.0, 0.0))[0].is_nan());
    assert!(CrossEntropy::loss(&V::<1>::new(0.5), &V::<1>::new(nan)).is_nan());
    // …but a zero target weight skips the NaN output entirely (documented 0·ln 0 = 0 rule).
    assert_close(
        CrossEntropy::loss(&y_hat, &V::<2>::new(0.0, 1.0)),
        2f64.ln(),
        1e-15,
        0.0,
        "zero-weight NaN",
    );

    // Fused pairs: a NaN logit reaches every output of softmax, so the loss is NaN even where the
    // NaN component has zero target weight, and δa is NaN everywhere.
    let a = V::<2>::new(nan, 0.0);
    let y_hat = <Softmax as OutputActivation<f64>>::forward(&a);
    assert!(y_hat.iter().all(|x| x.is_nan()), "{y_hat:?}");
    let (l, d) =
        <CrossEntropy as LossFor<Softmax, f64>>::loss_and_delta(&a, &y_hat, &V::<2>::new(0.0, 1.0));
    assert!(l.is_nan() && d.iter().all(|x| x.is_nan()), "{l} {d:?}");
    // Sigmoid + BCE and Identity + MSE: NaN at that component.
    for y in [0.0, 1.0, 0.5] {
        let a = V::<1>::new(nan);
        let y_hat = <Sigmoid as OutputActivation<f64>>::forward(&a);
        let (l, d) = <BinaryCrossEntropy as LossFor<Sigmoid, f64>>::loss_and_delta(
            &a,
            &y_hat,
            &V::<1>::new(y),
        );
        assert!(l.is_nan() && d[0].is_nan(), "y={y}: {l} {d:?}");
        let (l, d) = <Mse as LossFor<Identity, f64>>::loss_and_delta(&a, &a, &V::<1>::new(y));
        assert!(l.is_nan() && d[0].is_nan(), "y={y}: {l} {d:?}");
    }
    // f32 too.
    let a = SVector::<f32, 2>::new(f32::NAN, 1.0);
    let y_hat = <Softmax as OutputActivation<f32>>::forward(&a);
    let (l, _) = <CrossEntropy as LossFor<Softmax, f32>>::loss_and_delta(
        &a,
        &y_hat,
        &SVector::from([0.0, 1.0]),
    );
    assert!(l.is_nan());
}

// ---------------------------------------------------------------------------------------------
// numerics.
// ---------------------------------------------------------------------------------------------

fn check_lse_softmax<const N: usize>(rng: &mut Rng) {
    // Each of the N divisions rounds once, and so does each addition of the sum.
    let sum_tol = (N as f64 + 1.0) * f64::EPSILON;
    for _ in 0..200 {
        let a: V<N> = rng.vector(-30.0, 30.0);
        let naive_lse = a.iter().map(|x| x.exp()).sum::<f64>().ln();
        assert_close(log_sum_exp(&a), naive_lse, 1e-14, 1e-14, "log_sum_exp");
        assert_vec_close(&softmax(&a), &naive_softmax(&a), 1e-13, 1e-300, "softmax");
        assert!((softmax(&a).sum() - 1.0).abs() <= sum_tol);
        // lse is shift-equivariant, softmax shift-invariant: check at a shift of 1000, where the
        // naive formula overflows.
        let shifted = a.add_scalar(1000.0);
        assert!(naive_softmax(&shifted).iter().any(|x| x.is_nan()));
        assert_close(
            log_sum_exp(&shifted),
            naive_lse + 1000.0,
            1e-14,
            1e-12,
            "lse shift",
        );
        assert_vec_close(
            &softmax(&shifted),
            &naive_softmax(&a),
            1e-12,
            1e-300,
            "softmax shift",
        );
        let shifted = a.add_scalar(-1000.0);
        assert_close(
            log_sum_exp(&shifted),
            naive_lse - 1000.0,
            1e-14,
            1e-12,
            "lse shift down",
        );
        assert_vec_close(
            &softmax(&shifted),
            &naive_softmax(&a),
            1e-12,
            1e-300,
            "softmax down",
        );
    }
    // Softmax sums to one across the whole finite range.
    for _ in 0..200 {
        let a: V<N> = rng.vector(-1e4, 1e4);
        let p = softmax(&a);
        assert!(p.iter().all(|x| x.is_finite() && *x >= 0.0), "{p:?}");
        assert!((p.sum() - 1.0).abs() <= sum_tol, "Σ = {}", p.sum());
        assert!(log_sum_exp(&a).is_finite());
    }
}

#[test]
fn log_sum_exp_and_softmax_match_naive_formulas() {
    let mut rng = Rng::new(41);
    check_lse_softmax::<1>(&mut rng);
    check_lse_softmax::<2>(&mut rng);
    check_lse_softmax::<5>(&mut rng);
    check_lse_softmax::<8>(&mut rng);
}

#[test]
fn log_sum_exp_and_softmax_extremes() {
    // lse(1000, 1000) = 1000 + ln 2; lse(−1000, −1000) = −1000 + ln 2; lse(1000, −1000) = 1000.
    assert_close(
        log_sum_exp(&V::<2>::new(1000.0, 1000.0)),
        1000.0 + 2f64.ln(),
        1e-15,
        0.0,
        "",
    );
    assert_close(
        log_sum_exp(&V::<2>::new(-1000.0, -1000.0)),
        2f64.ln() - 1000.0,
        1e-15,
        0.0,
        "",
    );
    assert_eq!(log_sum_exp(&V::<2>::new(1000.0, -1000.0)), 1000.0);
    assert_eq!(log_sum_exp(&V::<1>::new(-7.25)), -7.25);
    assert_eq!(log_sum_exp(&V::<0>::zeros()), f64::NEG_INFINITY);
    assert_eq!(
        log_sum_exp(&V::<2>::new(f64::MAX, f64::MAX - 1.0)),
        f64::MAX
    );
    assert_eq!(
        softmax(&V::<3>::new(1000.0, 0.0, -1000.0)),
        V::<3>::new(1.0, 0.0, 0.0)
    );
    assert_eq!(
        softmax(&V::<2>::new(-1000.0, -1000.0)),
        V::<2>::new(0.5, 0.5)
    );
    // f32 at its own overflow edge (exp(89) overflows f32).
    let a = SVector::<f32, 2>::new(89.0, 89.0);
    assert_close(
        f64::from(log_sum_exp(&a)),
        89.0 + 2f64.ln(),
        1e-7,
        0.0,
        "lse f32",
    );
    assert_eq!(softmax(&a), SVector::<f32, 2>::new(0.5, 0.5));
    let a = SVector::<f32, 3>::new(1000.0, 0.0, -1000.0);
    assert_eq!(log_sum_exp(&a), 1000.0);
    assert_eq!(softmax(&a), SVector::<f32, 3>::new(1.0, 0.0, 0.0));
    // NaN in, NaN out.
    assert!(log_sum_exp(&V::<2>::new(f64::NAN, 0.0)).is_nan());
    assert!(
        softmax(&V::<2>::new(0.0, f64::NAN))
            .iter()
            .all(|x| x.is_nan())
    );
}

#[test]
fn sigmoid_softplus_log_sigmoid_match_naive_formulas() {
    let mut rng = Rng::new(42);
    for _ in 0..2000 {
        let x = rng.uniform(-30.0, 30.0);
        let naive_sig = naive_sigmoid_scalar(x);
        assert_close(sigmoid(x), naive_sig, 1e-14, 1e-300, "sigmoid");
        // σ(x) + σ(−x) = 1.
        assert!((sigmoid(x) + sigmoid(-x) - 1.0).abs() <= 2.0 * f64::EPSILON);
        // softplus(x) = ln(1 + eˣ); the naive form loses relative precision for x ≪ 0 (1 + eˣ
        // rounds), so compare there with ln_1p(eˣ), which is still a direct formula.
        let naive_softplus = if x > -5.0 {
            (1.0 + x.exp()).ln()
        } else {
            x.exp().ln_1p()
        };
        assert_close(softplus(x), naive_softplus, 1e-13, 1e-300, "softplus");
        // softplus(x) − softplus(−x) = x.
        assert!((softplus(x) - softplus(-x) - x).abs() <= 1e-13 * x.abs().max(1.0));
        // ln σ(x) = ln(1 / (1 + e^{−x})) = −ln(1 + e^{−x}).
        let naive_log_sig = if x < 5.0 {
            naive_sig.ln()
        } else {
            -(-x).exp().ln_1p()
        };
        assert_close(log_sigmoid(x), naive_log_sig, 1e-13, 1e-300, "log_sigmoid");
    }
    // f32 within single precision of the f64 references.
    for i in -200..=200 {
        let x = i as f32 * 0.1;
        let x64 = f64::from(x);
        assert_close(
            f64::from(sigmoid(x)),
            naive_sigmoid_scalar(x64),
            1e-6,
            1e-30,
            "σ f32",
        );
        assert_close(
            f64::from(softplus(x)),
            x64.exp().ln_1p(),
            1e-6,
            1e-30,
            "softplus f32",
        );
    }
}

#[test]
fn sigmoid_softplus_log_sigmoid_extremes() {
    for big in [40.0_f64, 710.0, 1000.0, 1e300, f64::MAX] {
        assert_eq!(sigmoid(big), 1.0);
        // σ(−x) = e^{−x} / (1 + e^{−x}) and softplus(−x) = ln(1 + e^{−x}) are e^{−x} to within a
        // relative e^{−x}: below double precision for these x (and 0 once e^{−x} underflows).
        assert_close(sigmoid(-big), (-big).exp(), 1e-15, 0.0, "σ(−big)");
        assert_eq!(softplus(big), big);
        assert_close(softplus(-big), (-big).exp(), 1e-15, 0.0, "softplus(−big)");
        assert_eq!(log_sigmoid(-big), -big);
        assert!(log_sigmoid(big) <= 0.0 && log_sigmoid(big) > -1e-15);
    }
    assert_eq!(sigmoid(-1000.0_f64), 0.0);
    assert_eq!(sigmoid(0.0_f64), 0.5);
    assert_close(softplus(0.0_f64), 2f64.ln(), 1e-16, 0.0, "softplus(0)");
    assert_close(log_sigmoid(0.0_f64), -(2f64.ln()), 1e-16, 0.0, "log σ(0)");
    // Near the underflow edge σ stays positive (e^{−740} ≈ 4.2e−322 is subnormal).
    assert!(sigmoid(-740.0_f64) > 0.0);
    assert!((softplus(-700.0_f64) - (-700.0_f64).exp()).abs() <= 1e-15 * (-700.0_f64).exp());
    // f32.
    for big in [88.0_f32, 89.0, 100.0, 1000.0, f32::MAX] {
        assert_eq!(sigmoid(big), 1.0);
        assert_eq!(softplus(big), big);
        assert_eq!(log_sigmoid(-big), -big);
        assert!(sigmoid(-big).is_finite() && sigmoid(-big) >= 0.0);
        assert!(softplus(-big).is_finite() && log_sigmoid(big).is_finite());
    }
    // NaN in, NaN out.
    assert!(sigmoid(f64::NAN).is_nan());
    assert!(softplus(f64::NAN).is_nan());
    assert!(log_sigmoid(f64::NAN).is_nan());
}

/// A value of a fixed pattern in `[−scale, scale]`: the weights and inputs of the `f32` model
/// tests below.
fn patterned(i: usize, j: usize, scale: f32) -> f32 {
    ((i * 7 + j * 3) as f32 * 0.37).sin() * scale
}

/// `Rnn<3, 6, O>` in `f32` with patterned weights, `W_y`'s of size `w_y_scale`.
fn patterned_model<F, G, const O: usize>(w_y_scale: f32) -> static_rnn::Rnn<3, 6, O, F, G, f32>
where
    F: HiddenActivation<f32>,
    G: OutputActivation<f32>,
{
    use static_rnn::SMatrix;
    static_rnn::Rnn::new(
        SMatrix::from_fn(|i, j| patterned(i, j, 0.6)),
        SMatrix::from_fn(|i, j| patterned(i + 11, j, 0.5)),
        SVector::from_fn(|i, _| patterned(i, 5, 0.1)),
        SMatrix::from_fn(|i, j| patterned(i + 3, j, w_y_scale)),
        SVector::from_fn(|i, _| patterned(i, 2, 0.1)),
    )
}

/// `FastSoftmax` + cross-entropy takes the fused path of `Softmax`: its loss and `δa = ŷ − y` are
/// those of `Softmax` within the error of its probabilities, and the gradients BPTT computes for a
/// model with it are those of the same model with `Softmax` within that error carried through
/// the sums (the exact gradient at the computed `ŷ`).
#[test]
fn fast_softmax_cross_entropy_follows_softmax() {
    use static_rnn::{FastSoftmax, Rnn};
    let a = V::<4>::new(-3.0, 0.25, 2.0, 40.0).map(|v| v as f32);
    let y = V::<4>::new(0.0, 1.0, 0.0, 0.0).map(|v| v as f32);
    let (exact_loss, exact_delta) =
        <CrossEntropy as LossFor<Softmax, f32>>::loss_and_delta(&a, &Softmax::forward(&a), &y);
    let (fast_loss, fast_delta) = <CrossEntropy as LossFor<FastSoftmax, f32>>::loss_and_delta(
        &a,
        &FastSoftmax::forward(&a),
        &y,
    );
    assert!(
        (fast_loss - exact_loss).abs() <= 1e-6 * exact_loss,
        "{fast_loss} vs {exact_loss}"
    );
    assert!(
        (fast_delta - exact_delta).amax() <= 1e-6,
        "{fast_delta} vs {exact_delta}"
    );

    let exact = patterned_model::<Tanh, Softmax, 4>(1.5);
    let fast = Rnn::<3, 6, 4, Tanh, FastSoftmax, f32>::from_params(exact.params);
    let xs: [SVector<f32, 3>; 9] =
        core::array::from_fn(|t| SVector::from_fn(|i, _| patterned(t, i, 1.0)));
    let ys: [SVector<f32, 4>; 9] =
        core::array::from_fn(|t| SVector::from_fn(|k, _| f32::from(k == t % 4)));
    let h0 = SVector::zeros();
    let g_exact = exact.gradients(CrossEntropy, &h0, &xs, &ys);
    let g_fast = fast.gradients(CrossEntropy, &h0, &xs, &ys);
    assert!((g_fast.loss - g_exact.loss).abs() <= 1e-6 * g_exact.loss);
    let (p, q) = (&g_fast.params, &g_exact.params);
    for (name, difference, size) in [
        ("W_y", (p.w_y - q.w_y).amax(), q.w_y.amax()),
        ("b_y", (p.b_y - q.b_y).amax(), q.b_y.amax()),
        ("W_h", (p.w_h - q.w_h).amax(), q.w_h.amax()),
        ("W_x", (p.w_x - q.w_x).amax(), q.w_x.amax()),
        ("b_h", (p.b_h - q.b_h).amax(), q.b_h.amax()),
    ] {
        assert!(
            difference <= 1e-5 * size,
            "∂L/∂{name}: {difference:e} of {size:e}"
        );
    }
}

/// The forward pass computes the output layer of 16 steps at a time (`forward_columns`:
/// `FastSoftmax` transposes their logits and runs across them); each step's `ŷ_t` is still the
/// one `record_step` (one step, its own `FastSoftmax::forward`) gives, bit for bit — over two
/// groups of 16 and the 5 steps after them, with logits beyond ±40.
#[test]
fn forward_pass_in_groups_of_steps_records_each_step_bit_for_bit() {
    use static_rnn::{FastSoftmax, FastTanh, ForwardStep};
    let rnn = patterned_model::<FastTanh, FastSoftmax, 5>(40.0);
    let xs: [SVector<f32, 3>; 37] =
        core::array::from_fn(|t| SVector::from_fn(|i, _| patterned(t, i, 2.0)));
    let mut buffer = [ForwardStep::zeros(); 37];
    let trace = rnn.forward_into(&SVector::zeros(), &xs, &mut buffer);
    let mut largest_logit = 0.0_f32;
    for (t, (x, step)) in xs.iter().zip(trace.steps()).enumerate() {
        let alone = rnn.record_step(trace.state_before(t), x);
        assert_eq!(
            alone.y_hat.map(f32::to_bits),
            step.y_hat.map(f32::to_bits),
            "ŷ at t = {t}"
        );
        assert_eq!(alone, *step, "step {t}");
        largest_logit = largest_logit.max(step.a.amax());
    }
    assert!(largest_logit > 40.0, "logits up to {largest_logit}");
}

/// BPTT takes `ln max_k ŷ_k` of 16 steps at a time (`LossFor::step_terms`: `FastSoftmax`'s
/// `fast_ln` across the steps, in vector registers); each step's `L_t` is still the one
/// `loss_and_delta` gives for that step alone, bit for bit — over two groups of 16 and the 5
/// steps after them, each step scored alone (so the loss BPTT returns is that step's `L_t`), with
/// logits beyond ±40 and a soft target.
#[test]
fn bptt_takes_the_loss_of_groups_of_steps_bit_for_bit() {
    use static_rnn::{FastSoftmax, FastTanh};
    let rnn = patterned_model::<FastTanh, FastSoftmax, 5>(40.0);
    let xs: [SVector<f32, 3>; 37] =
        core::array::from_fn(|t| SVector::from_fn(|i, _| patterned(t, i, 2.0)));
    let h0 = SVector::zeros();
    let trace = rnn.forward(&h0, &xs);
    let mut distinct = std::collections::BTreeSet::new();
    for t in 0..37 {
        let y = if t % 3 == 0 {
            SVector::<f32, 5>::new(0.1, 0.2, 0.3, 0.4, 0.0)
        } else {
            SVector::from_fn(|k, _| f32::from(k == t % 5))
        };
        let mut ys = [None; 37];
        ys[t] = Some(y);
        let step = &trace.steps[t];
        let (alone, _) =
            <CrossEntropy as LossFor<FastSoftmax, f32>>::loss_and_delta(&step.a, &step.y_hat, &y);
        let g = rnn.gradients(CrossEntropy, &h0, &xs, &ys);
        assert_eq!(g.loss.to_bits(), alone.to_bits(), "L_t at t = {t}");
        assert_eq!(
            rnn.loss(CrossEntropy, &h0, &xs, &ys).to_bits(),
            alone.to_bits()
        );
        distinct.insert(alone.to_bits());
    }
    assert!(distinct.len() > 30, "the steps' losses differ");
}

std::thread_local! {
    /// How many logarithms [`CountingSoftmax`] was asked for on this thread.
    static LOGARITHMS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// `Softmax`, counting the logarithms the fused cross-entropy asks of it; `TOGETHER` is its
/// `LN_IN_COLUMNS`.
#[derive(Clone, Copy, Debug, Default)]
struct CountingSoftmax<const TOGETHER: bool>;

impl<const TOGETHER: bool> static_rnn::SoftmaxHead for CountingSoftmax<TOGETHER> {
    const LN_IN_COLUMNS: bool = TOGETHER;

    fn softmax<T: Real, const N: usize>(a: &SVector<T, N>) -> SVector<T, N> {
        softmax(a)
    }

    fn ln_columns<T: Real, const K: usize>(p: [T; K]) -> [T; K] {
        LOGARITHMS.with(|n| n.set(n.get() + K));
        p.map(|p| p.ln())
    }
}

/// BPTT asks a softmax head for the logarithms of 16 steps at once only when the head computes
/// them together (`LN_IN_COLUMNS`), and only for the groups of 16 steps that hold a scored step;
/// otherwise one per scored step. Over 64 steps: the last step scored (`LastStep`), steps 3 and
/// 40 scored, every step scored. Either way the loss is `Softmax`'s, bit for bit.
#[test]
fn bptt_asks_for_the_logarithms_of_scored_steps_only() {
    use static_rnn::{LastStep, Targets};
    /// How many logarithms BPTT asks the counting head for on a 64-step sequence, after checking
    /// that its loss equals the exact `Softmax`'s bit for bit.
    fn logarithms<const TOGETHER: bool>(ys: &dyn Targets<f32, 5>) -> usize {
        let rnn = patterned_model::<Tanh, CountingSoftmax<TOGETHER>, 5>(3.0);
        let exact = patterned_model::<Tanh, Softmax, 5>(3.0);
        let xs: [SVector<f32, 3>; 64] =
            core::array::from_fn(|t| SVector::from_fn(|i, _| patterned(t, i, 2.0)));
        let h0 = SVector::zeros();
        LOGARITHMS.with(|n| n.set(0));
        let loss = rnn.gradients(CrossEntropy, &h0, &xs, ys).loss;
        let asked = LOGARITHMS.with(core::cell::Cell::get);
        let want = exact.gradients(CrossEntropy, &h0, &xs, ys).loss;
        assert_eq!(loss.to_bits(), want.to_bits());
        assert!(loss > 0.0);
        asked
    }
    let y = |t: usize| SVector::<f32, 5>::from_fn(|k, _| f32::from(k == t % 5));
    let scored = |steps: &[usize]| -> [Option<SVector<f32, 5>>; 64] {
        core::array::from_fn(|t| steps.contains(&t).then(|| y(t)))
    };
    let last = scored(&[63]);
    let two = scored(&[3, 40]);
    let every: [SVector<f32, 5>; 64] = core::array::from_fn(y);
    assert_eq!(logarithms::<true>(&last), 16);
    assert_eq!(logarithms::<true>(&two), 32);
    assert_eq!(logarithms::<true>(&every), 64);
    // `LastStep` itself, with the head that computes the logarithms together: one group.
    assert_eq!(logarithms::<true>(&LastStep(y(63))), 16);
    assert_eq!(logarithms::<false>(&last), 1);
    assert_eq!(logarithms::<false>(&two), 2);
    assert_eq!(logarithms::<false>(&every), 64);
    assert_eq!(logarithms::<false>(&LastStep(y(63))), 1);
}
