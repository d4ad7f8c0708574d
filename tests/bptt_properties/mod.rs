//! Property tests of backpropagation through time, over all 36 (hidden activation, output
//! activation, loss) combinations and several shapes: what the two test targets
//! `bptt_properties_tanh_relu` and `bptt_properties_sigmoid_identity` share. Each instantiates
//! `combination!` for the 18 combinations of two hidden activations; as two targets they
//! compile side by side on two cores (one target of 36 was the longest step of CI).
//!
//! Every property draws a random, bounded model and sequence from a [`Case`] (a seed and a
//! sequence length `T ∈ 1..=12`) and checks it at four shapes `(I, H, O)`: `(1, 1, 1)`,
//! `(3, 5, 4)`, `(8, 8, 8)` and `(2, 7, 3)`. quickcheck's own `f64` generator yields NaN and huge
//! values, so every float is drawn here from a seeded SplitMix64 generator, uniform on bounded
//! intervals; shrinking keeps the seed and shortens the sequence.
//!
//! | property | what it checks |
//! |---|---|
//! | 1 | BPTT = central finite differences for every parameter and `h_0` ([`Rnn::gradcheck`], and a stricter fourth-order check against an independent reference loss) |
//! | 2 | every total `∂L/∂h_t` = finite difference of `L` under a perturbation of `h_t` |
//! | 3 | `∂L_t/∂ŷ_t` and `∂L/∂a_t` = finite differences of `L_t` in `ŷ_t` and in `a_t` |
//! | 4 | many-to-one (`LastStep`) and `[Option<_>]` targets: gradcheck, loss over scored steps only, zero rows at unscored steps |
//! | 5 | streaming `step` = recorded `forward_vec` / `forward_into` / `forward` bitwise; `Rnn::loss` = backward's loss |
//! | 6 | `T = 1` = a one-hidden-layer feed-forward net with hand-written textbook gradients |
//! | 7 | fused (Softmax+CE, Sigmoid+BCE, Identity+MSE) = `General<_>` path, logits up to ±30 |
//! | 8 | gradients accumulate into the caller's `Params` (twice = 2×, non-zero start adds, minibatch sums) |
//! | f32 | single-precision gradients = double-precision gradients of the same model, within 1e-4 |
//!
//! Set `BPTT_PROPS_SCALE=k` to run `k` times as many cases. Run with `--nocapture` to see the
//! number of cases and the worst errors observed per test.
//!
//! The properties use the `Vec`-backed conveniences (`forward_vec`, `gradients_vec`), so they run
//! with the `alloc` feature (the default and `--all-features` CI runs); the `libm` backend is covered
//! there by the JAX conformance test and the unit tests.
use std::any::TypeId;
use std::cell::RefCell;
use std::fmt::Write as _;

pub(crate) use quickcheck::TestResult;
use quickcheck::{Arbitrary, Gen, QuickCheck};
use static_rnn::gradcheck::ParamsAndState;
use static_rnn::{
    BinaryCrossEntropy, CrossEntropy, ForwardStep, General, GradcheckOptions, HiddenActivation,
    Identity, LastStep, Loss, LossFor, Mse, OutputActivation, Params, Relu, Rnn, SMatrix, SVector,
    Sigmoid, Softmax, Tanh, Tensors,
};

/// Longest sequence drawn.
const MAX_LEN: usize = 12;

/// Pre-activations of a ReLU model are kept at least this far from the kink at 0, so that no
/// finite-difference step (at most ~1e-4 in any `z`) crosses it.
const RELU_MARGIN: f64 = 1e-3;

/// Quickcheck cases per test (each case checks all four shapes).
pub(crate) const CASES_GRADCHECK: u64 = 6;
pub(crate) const CASES_DL_DH: u64 = 6;
pub(crate) const CASES_OUTPUT_ROWS: u64 = 10;
pub(crate) const CASES_MANY_TO_ONE: u64 = 3;
pub(crate) const CASES_STREAMING: u64 = 10;
pub(crate) const CASES_FEED_FORWARD: u64 = 12;
pub(crate) const CASES_FUSED: u64 = 25;
pub(crate) const CASES_ACCUMULATE: u64 = 10;
pub(crate) const CASES_F32: u64 = 25;

// ---------------------------------------------------------------------------------------------
// Random numbers and cases
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a small, seedable generator for bounded floats.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on `[0, 1)`, 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn matrix<const R: usize, const C: usize>(&mut self, lo: f64, hi: f64) -> SMatrix<f64, R, C> {
        SMatrix::from_fn(|_, _| self.uniform(lo, hi))
    }
}

/// One quickcheck case: a seed for every float, and the sequence length `T ∈ 1..=12`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Case {
    seed: u64,
    len: usize,
}

impl Arbitrary for Case {
    fn arbitrary(g: &mut Gen) -> Self {
        // Two draws mixed, so that quickcheck's "problem values" (0, 1, MAX) rarely repeat a seed.
        let a = u64::arbitrary(g);
        let b = u64::arbitrary(g);
        Self {
            seed: a ^ b.rotate_left(29).wrapping_mul(0x2545_F491_4F6C_DD1D),
            len: 1 + usize::from(u8::arbitrary(g)) % MAX_LEN,
        }
    }

    /// The same seed with shorter sequences (the inputs drawn are a prefix of the longer ones').
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let Self { seed, len } = *self;
        let mut lens = Vec::new();
        if len > 1 {
            lens.push(1);
            if len / 2 > 1 {
                lens.push(len / 2);
            }
            if len - 1 > len / 2 {
                lens.push(len - 1);
            }
        }
        Box::new(lens.into_iter().map(move |len| Self { seed, len }))
    }
}

/// The generator of one shape of one case.
fn case_rng(case: Case, shape_tag: u64) -> Rng {
    Rng::new(case.seed ^ shape_tag.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

type Outcome = Result<(), String>;

/// Returns an error unless `$cond` holds. Comparisons are written `err <= tol`, so that a NaN
/// fails (hence the `bool` binding, which keeps clippy from asking for `err > tol`).
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            return Err(format!($($fmt)+));
        }
    };
}

thread_local! {
    /// Worst values of named error measures in the current test (each test runs on its own thread).
    static WORST: RefCell<Vec<(&'static str, f64)>> = const { RefCell::new(Vec::new()) };
}

/// Remembers the largest `value` seen for `measure` in this test.
fn record(measure: &'static str, value: f64) {
    WORST.with(|worst| {
        let mut worst = worst.borrow_mut();
        match worst.iter_mut().find(|(name, _)| *name == measure) {
            Some((_, v)) => *v = v.max(value),
            None => worst.push((measure, value)),
        }
    });
}

fn scale() -> u64 {
    std::env::var("BPTT_PROPS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Runs `prop` on `cases` quickcheck cases, panics with quickcheck's (shrunk) failure, and prints
/// how many cases passed and the worst errors observed.
pub(crate) fn run(name: &str, cases: u64, prop: fn(Case) -> TestResult) {
    let cases = cases * scale();
    WORST.with(|w| w.borrow_mut().clear());
    let passed = match QuickCheck::new()
        .tests(cases)
        .max_tests(cases * 10)
        .quicktest(prop)
    {
        Ok(passed) => passed,
        Err(failure) => panic!("{name}: property failed: {failure:?}"),
    };
    assert_eq!(passed, cases, "{name}: too many discarded cases");
    let mut line = format!("[bptt_properties] {name}: {passed} cases x 4 shapes passed");
    WORST.with(|w| {
        for (measure, value) in w.borrow().iter() {
            let _ = write!(line, "; {measure} {value:.2e}");
        }
    });
    eprintln!("{line}");
}

fn verdict(outcome: Outcome) -> TestResult {
    match outcome {
        Ok(()) => TestResult::passed(),
        Err(message) => TestResult::error(message),
    }
}

/// Runs a per-shape check at the four shapes, naming the shape in a failure.
macro_rules! each_shape {
    ($check:ident, $case:expr; $($ty:ty),*) => {
        (|| -> Outcome {
            $check::<1, 1, 1, $($ty),*>($case, 1).map_err(|e| format!("shape (1,1,1): {e}"))?;
            $check::<3, 5, 4, $($ty),*>($case, 2).map_err(|e| format!("shape (3,5,4): {e}"))?;
            $check::<8, 8, 8, $($ty),*>($case, 3).map_err(|e| format!("shape (8,8,8): {e}"))?;
            $check::<2, 7, 3, $($ty),*>($case, 4).map_err(|e| format!("shape (2,7,3): {e}"))?;
            Ok(())
        })()
    };
}

// ---------------------------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------------------------

/// `max_j |got_j − want_j| / (atol + rtol·|want_j|)`: at most 1 when every entry is within
/// tolerance (infinite for a NaN).
fn worst_ratio(got: &[f64], want: &[f64], atol: f64, rtol: f64) -> (f64, usize) {
    assert_eq!(got.len(), want.len());
    let mut worst = (0.0, 0);
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        let ratio = (g - w).abs() / (atol + rtol * w.abs());
        let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
        if ratio > worst.0 {
            worst = (ratio, j);
        }
    }
    worst
}

/// `max_j |got_j − want_j| / max(floor, max_k |want_k|)`: the error relative to the largest
/// magnitude (NaN-safe: a NaN gives infinity).
fn error_relative_to_max(got: &[f64], want: &[f64], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(floor, |m, w| m.max(w.abs()));
    got.iter().zip(want).fold(0.0, |m, (g, w)| {
        let e = (g - w).abs() / scale;
        if e.is_nan() { f64::INFINITY } else { m.max(e) }
    })
}

/// `|a − b| / max(|a|, |b|)` (0 when both are 0).
fn relative_difference(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// Every scalar of the five gradient tensors, then `∂L/∂h_0`.
fn flatten<const I: usize, const H: usize, const O: usize>(
    params: &Params<I, H, O, f64>,
    dl_dh0: &SVector<f64, H>,
) -> Vec<f64> {
    let mut out: Vec<f64> = params.tensors().concat();
    out.extend(dl_dh0.iter());
    out
}

/// The fourth-order central difference `(8(f(h) − f(−h)) − (f(2h) − f(−2h))) / 12h`.
fn five_point(mut f: impl FnMut(f64) -> f64, step: f64) -> f64 {
    let (p1, m1) = (f(step), f(-step));
    let (p2, m2) = (f(2.0 * step), f(-2.0 * step));
    (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * step)
}

/// An allowance for the rounding of a five-point difference of a loss of size `loss`: the
/// stencil weighs four evaluations, each rounded by ε|L|, by (8 + 8 + 1 + 1)/12h, so its
/// rounding error is at most ≈ 1.5 ε |L| / h; allow 5 times that.
fn fd_rounding(loss: f64, step: f64) -> f64 {
    5.0 * 1.5 * f64::EPSILON * loss.abs() / step
}

/// Fourth-order central differences of `loss` for every scalar of every tensor of `point`.
fn numerical_gradient<P: Tensors<f64, N> + Clone, const N: usize>(
    point: &P,
    mut loss: impl FnMut(&P) -> f64,
    step: f64,
) -> Vec<f64> {
    let mut probe = point.clone();
    let mut out = Vec::new();
    for k in 0..N {
        for j in 0..point.tensors()[k].len() {
            let original = point.tensors()[k][j];
            out.push(five_point(
                |d| {
                    probe.tensors_mut()[k][j] = original + d;
                    loss(&probe)
                },
                step,
            ));
            probe.tensors_mut()[k][j] = original;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// An independent reference: activations, losses and their textbook derivatives
// ---------------------------------------------------------------------------------------------

/// A hidden activation written again, independently of the crate: `f` and `f′` from `z`.
pub(crate) trait RefHidden: HiddenActivation<f64> + HiddenActivation<f32> {
    fn ref_f(z: f64) -> f64;
    fn ref_df(z: f64) -> f64;
}

impl RefHidden for Tanh {
    fn ref_f(z: f64) -> f64 {
        z.tanh()
    }
    fn ref_df(z: f64) -> f64 {
        1.0 / z.cosh().powi(2)
    }
}

impl RefHidden for Relu {
    fn ref_f(z: f64) -> f64 {
        z.max(0.0)
    }
    fn ref_df(z: f64) -> f64 {
        if z > 0.0 { 1.0 } else { 0.0 }
    }
}

impl RefHidden for Sigmoid {
    fn ref_f(z: f64) -> f64 {
        1.0 / (1.0 + (-z).exp())
    }
    fn ref_df(z: f64) -> f64 {
        let e = (-z).exp();
        e / (1.0 + e).powi(2)
    }
}

impl RefHidden for Identity {
    fn ref_f(z: f64) -> f64 {
        z
    }
    fn ref_df(_z: f64) -> f64 {
        1.0
    }
}

/// An output activation written again: `g` and its full Jacobian matrix `∂ŷ/∂a`.
pub(crate) trait RefOutput: OutputActivation<f64> + OutputActivation<f32> {
    /// Whether `g` is unbounded (then a probability loss needs the logits kept inside `(0, 1)`).
    const UNBOUNDED: bool;
    fn ref_g<const O: usize>(a: &SVector<f64, O>) -> SVector<f64, O>;
    fn ref_jacobian<const O: usize>(a: &SVector<f64, O>) -> SMatrix<f64, O, O>;
}

impl RefOutput for Softmax {
    const UNBOUNDED: bool = false;
    fn ref_g<const O: usize>(a: &SVector<f64, O>) -> SVector<f64, O> {
        let m = a.max();
        let e = a.map(|ak| (ak - m).exp());
        e / e.sum()
    }
    fn ref_jacobian<const O: usize>(a: &SVector<f64, O>) -> SMatrix<f64, O, O> {
        let s = Self::ref_g(a);
        SMatrix::from_diagonal(&s) - s * s.transpose()
    }
}

impl RefOutput for Sigmoid {
    const UNBOUNDED: bool = false;
    fn ref_g<const O: usize>(a: &SVector<f64, O>) -> SVector<f64, O> {
        a.map(<Self as RefHidden>::ref_f)
    }
    fn ref_jacobian<const O: usize>(a: &SVector<f64, O>) -> SMatrix<f64, O, O> {
        SMatrix::from_diagonal(&a.map(<Self as RefHidden>::ref_df))
    }
}

impl RefOutput for Identity {
    const UNBOUNDED: bool = true;
    fn ref_g<const O: usize>(a: &SVector<f64, O>) -> SVector<f64, O> {
        *a
    }
    fn ref_jacobian<const O: usize>(_a: &SVector<f64, O>) -> SMatrix<f64, O, O> {
        SMatrix::identity()
    }
}

/// A loss for the tests: valid random targets, and its value and gradient written again.
pub(crate) trait TestLoss: Loss<f64> + Loss<f32> {
    /// Whether the loss takes logarithms of the outputs (so they must stay inside `(0, 1)`).
    const PROBABILITY: bool;
    fn target<const O: usize>(rng: &mut Rng) -> SVector<f64, O>;
    fn ref_loss<const O: usize>(y_hat: &SVector<f64, O>, y: &SVector<f64, O>) -> f64;
    fn ref_gradient<const O: usize>(
        y_hat: &SVector<f64, O>,
        y: &SVector<f64, O>,
    ) -> SVector<f64, O>;
}

/// `ln p` with `p` raised to the smallest positive normal number, the crate's documented
/// convention for a probability that underflowed (here: the single output of a 1-way softmax is
/// exactly 1, so `1 − ŷ = 0`).
fn floored(p: f64) -> f64 {
    p.max(f64::MIN_POSITIVE)
}

impl TestLoss for CrossEntropy {
    const PROBABILITY: bool = true;
    /// A probability vector: one-hot half of the time, else a random distribution with some
    /// zero entries.
    fn target<const O: usize>(rng: &mut Rng) -> SVector<f64, O> {
        if rng.below(2) == 0 {
            let hot = rng.below(O);
            SVector::from_fn(|k, _| if k == hot { 1.0 } else { 0.0 })
        } else {
            let keep = rng.below(O);
            let w = SVector::<f64, O>::from_fn(|k, _| {
                let u = rng.uniform(0.05, 1.0);
                if k == keep || rng.below(4) != 0 {
                    u
                } else {
                    0.0
                }
            });
            w / w.sum()
        }
    }
    fn ref_loss<const O: usize>(y_hat: &SVector<f64, O>, y: &SVector<f64, O>) -> f64 {
        y.iter()
            .zip(y_hat.iter())
            .map(|(&yk, &pk)| if yk == 0.0 { 0.0 } else { -yk * pk.ln() })
            .sum()
    }
    fn ref_gradient<const O: usize>(
        y_hat: &SVector<f64, O>,
        y: &SVector<f64, O>,
    ) -> SVector<f64, O> {
        -y.component_div(y_hat)
    }
}

impl TestLoss for BinaryCrossEntropy {
    const PROBABILITY: bool = true;
    /// Each component in `[0, 1]`: exactly 0 or 1 a quarter of the time each.
    fn target<const O: usize>(rng: &mut Rng) -> SVector<f64, O> {
        SVector::from_fn(|_, _| match rng.below(4) {
            0 => 0.0,
            1 => 1.0,
            _ => rng.unit(),
        })
    }
    fn ref_loss<const O: usize>(y_hat: &SVector<f64, O>, y: &SVector<f64, O>) -> f64 {
        y.iter()
            .zip(y_hat.iter())
            .map(|(&yk, &pk)| {
                let positive = if yk == 0.0 {
                    0.0
                } else {
                    yk * floored(pk).ln()
                };
                let negative = if yk == 1.0 {
                    0.0
                } else {
                    (1.0 - yk) * floored(1.0 - pk).ln()
                };
                -(positive + negative)
            })
            .sum()
    }
    fn ref_gradient<const O: usize>(
        y_hat: &SVector<f64, O>,
        y: &SVector<f64, O>,
    ) -> SVector<f64, O> {
        y.zip_map(y_hat, |yk, pk| {
            let positive = if yk == 0.0 { 0.0 } else { yk / floored(pk) };
            let negative = if yk == 1.0 {
                0.0
            } else {
                (1.0 - yk) / floored(1.0 - pk)
            };
            negative - positive
        })
    }
}

impl TestLoss for Mse {
    const PROBABILITY: bool = false;
    fn target<const O: usize>(rng: &mut Rng) -> SVector<f64, O> {
        rng.matrix(-1.0, 1.0)
    }
    fn ref_loss<const O: usize>(y_hat: &SVector<f64, O>, y: &SVector<f64, O>) -> f64 {
        y_hat
            .iter()
            .zip(y.iter())
            .map(|(p, t)| (p - t) * (p - t))
            .sum()
    }
    fn ref_gradient<const O: usize>(
        y_hat: &SVector<f64, O>,
        y: &SVector<f64, O>,
    ) -> SVector<f64, O> {
        (y_hat - y) * 2.0
    }
}

impl<L: TestLoss> TestLoss for General<L> {
    const PROBABILITY: bool = L::PROBABILITY;
    fn target<const O: usize>(rng: &mut Rng) -> SVector<f64, O> {
        L::target(rng)
    }
    fn ref_loss<const O: usize>(y_hat: &SVector<f64, O>, y: &SVector<f64, O>) -> f64 {
        L::ref_loss(y_hat, y)
    }
    fn ref_gradient<const O: usize>(
        y_hat: &SVector<f64, O>,
        y: &SVector<f64, O>,
    ) -> SVector<f64, O> {
        L::ref_gradient(y_hat, y)
    }
}

/// `m v + b` by explicit loops over nalgebra's column-major storage (several times cheaper than
/// nalgebra's generic kernels in an unoptimized test build, where the finite differences of
/// property 1 spend their time).
fn affine<const R: usize, const C: usize>(
    m: &SMatrix<f64, R, C>,
    v: &SVector<f64, C>,
    b: &SVector<f64, R>,
) -> SVector<f64, R> {
    let mut out = *b;
    let acc = out.as_mut_slice();
    for (column, &vc) in m.as_slice().chunks_exact(R).zip(v.as_slice()) {
        for (o, &w) in acc.iter_mut().zip(column) {
            *o += w * vc;
        }
    }
    out
}

/// The loss of a sequence, computed with the reference functions only.
fn reference_loss<const I: usize, const H: usize, const O: usize, F, G, L>(
    p: &Params<I, H, O, f64>,
    h0: &SVector<f64, H>,
    xs: &[SVector<f64, I>],
    ys: &[Option<SVector<f64, O>>],
) -> f64
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss,
{
    let mut h = *h0;
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let z = affine(&p.w_h, &h, &affine(&p.w_x, x, &p.b_h));
        h = z.map(F::ref_f);
        if let Some(y) = y {
            let a = affine(&p.w_y, &h, &p.b_y);
            total += L::ref_loss(&G::ref_g(&a), y);
        }
    }
    total
}

// ---------------------------------------------------------------------------------------------
// Random models and sequences
// ---------------------------------------------------------------------------------------------

type Model<const I: usize, const H: usize, const O: usize, F, G> = Rnn<I, H, O, F, G, f64>;

/// A model, an initial state, inputs and a target at every step.
struct Sample<const I: usize, const H: usize, const O: usize, F, G>
where
    F: HiddenActivation<f64>,
    G: OutputActivation<f64>,
{
    rnn: Model<I, H, O, F, G>,
    h0: SVector<f64, H>,
    xs: Vec<SVector<f64, I>>,
    ys: Vec<SVector<f64, O>>,
}

/// Draws a model and a sequence of `len` steps:
///
/// - `W_x`, `W_y` ~ U(−0.8, 0.8); `W_h` ~ U(−0.8, 0.8)·0.5/√H (spectral radius below 1);
///   `b_h`, `b_y`, `h_0` ~ U(−0.5, 0.5); inputs ~ U(−1, 1); targets valid for the loss;
/// - `W_y` scaled down so that `|W_y h_t| ≤ 3` (outputs away from saturation, where the
///   probability-space losses lose their digits), or, for an `Identity` output scored by a
///   probability loss, `|W_y h_t| ≤ 0.3` with `b_y = 0.5`, so that `ŷ ∈ [0.2, 0.8]`;
/// - for `Relu`, redrawn until every pre-activation is at least [`RELU_MARGIN`] from 0.
///
/// Parameters are drawn first, then `(x_t, y_t)` step by step, so a shorter `len` with the same
/// generator gives a prefix of the sequence (up to the rescaling of `W_y`).
fn sample<const I: usize, const H: usize, const O: usize, F, G, L>(
    rng: &mut Rng,
    len: usize,
) -> Sample<I, H, O, F, G>
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss,
{
    for _attempt in 0..10_000 {
        let w_x = rng.matrix(-0.8, 0.8);
        let w_h = rng.matrix::<H, H>(-0.8, 0.8) * (0.5 / (H as f64).sqrt());
        let b_h = rng.matrix(-0.5, 0.5);
        let w_y = rng.matrix(-0.8, 0.8);
        let b_y = rng.matrix(-0.5, 0.5);
        let h0 = rng.matrix(-0.5, 0.5);
        let mut xs = Vec::with_capacity(len);
        let mut ys = Vec::with_capacity(len);
        for _ in 0..len {
            xs.push(rng.matrix(-1.0, 1.0));
            ys.push(L::target(rng));
        }
        let mut rnn = Model::<I, H, O, F, G>::new(w_x, w_h, b_h, w_y, b_y);
        let trace = rnn.forward_vec(&h0, &xs);
        let relu = TypeId::of::<F>() == TypeId::of::<Relu>();
        if relu && trace.steps().iter().any(|s| s.z.amin() < RELU_MARGIN) {
            continue;
        }
        let inside_unit_interval = G::UNBOUNDED && L::PROBABILITY;
        let cap = if inside_unit_interval { 0.3 } else { 3.0 };
        let reach = trace
            .steps()
            .iter()
            .map(|s| (rnn.params.w_y * s.h).amax())
            .fold(0.0, f64::max);
        if reach > cap {
            rnn.params.w_y *= cap / reach;
        }
        if inside_unit_interval {
            rnn.params.b_y.fill(0.5);
        }
        return Sample { rnn, h0, xs, ys };
    }
    panic!("could not draw a ReLU model with pre-activations away from 0");
}

/// The targets of a sample as `Option`s, every step scored.
fn all_scored<const O: usize>(ys: &[SVector<f64, O>]) -> Vec<Option<SVector<f64, O>>> {
    ys.iter().copied().map(Some).collect()
}

// ---------------------------------------------------------------------------------------------
// Property 1: BPTT = finite differences, for every parameter and h_0
// ---------------------------------------------------------------------------------------------

/// Step of the fourth-order differences of the stricter check (truncation ~1e-16, rounding
/// ~1e-16·|L|/step ≈ 1e-11·|L|).
const STRICT_STEP: f64 = 1e-5;
/// Stricter than PyTorch's (atol 1e-5, rtol 1e-3) by three orders of magnitude; the absolute
/// tolerance is widened by [`fd_rounding`] of the loss (≈ 3e-9 for |L| = 10).
const STRICT_ATOL: f64 = 1e-8;
const STRICT_RTOL: f64 = 1e-6;

pub(crate) fn prop_gradcheck<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(gradcheck_at, case; F, G, L))
}

fn gradcheck_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    let ys = s.ys.as_slice();

    // The library's check, PyTorch's defaults.
    let mut buffer = [ForwardStep::zeros(); MAX_LEN];
    let report = s.rnn.gradcheck(
        L::default(),
        &s.h0,
        &s.xs,
        ys,
        &mut buffer,
        GradcheckOptions::default(),
    );
    ensure!(report.passed(), "Rnn::gradcheck failed:\n{report}");
    let ratio = report
        .tensors
        .iter()
        .map(|t| t.worst_ratio)
        .fold(0.0, f64::max);
    record("gradcheck worst ratio (<=1 passes)", ratio);
    record("gradcheck max abs err", report.max_abs_error());

    // The stricter check: fourth-order differences of an independent reference loss.
    let g = s.rnn.gradients_vec(L::default(), &s.h0, &s.xs, ys);
    let targets = all_scored(ys);
    let point = ParamsAndState {
        params: s.rnn.params,
        h0: s.h0,
    };
    let reference = |p: &ParamsAndState<I, H, O, f64>| {
        reference_loss::<I, H, O, F, G, L>(&p.params, &p.h0, &s.xs, &targets)
    };
    let ref_l = reference(&point);
    let loss_err = relative_difference(ref_l, g.loss);
    record("loss vs reference rel err", loss_err);
    ensure!(
        loss_err <= 1e-12,
        "BPTT loss {} but reference loss {ref_l}",
        g.loss
    );
    let numerical = numerical_gradient(&point, reference, STRICT_STEP);
    let analytic = flatten(&g.params, &g.dl_dh0);
    let atol = STRICT_ATOL + fd_rounding(ref_l, STRICT_STEP);
    let (ratio, j) = worst_ratio(&analytic, &numerical, atol, STRICT_RTOL);
    record("strict FD worst ratio", ratio);
    ensure!(
        ratio <= 1.0,
        "entry {j} of (w_x, w_h, b_h, w_y, b_y, h0): BPTT {} vs 4th-order FD {} \
         (ratio {ratio:.3} to atol {atol:e} + rtol {STRICT_RTOL:e})",
        analytic[j],
        numerical[j]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 2: every total ∂L/∂h_t = FD of L under a perturbation of h_t
// ---------------------------------------------------------------------------------------------

/// Same stencil and tolerances as property 1's strict check.
const DH_STEP: f64 = 1e-5;
const DH_ATOL: f64 = 1e-8;
const DH_RTOL: f64 = 1e-6;

pub(crate) fn prop_dl_dh<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(dl_dh_at, case; F, G, L))
}

/// `Σ_{u ≥ t} L_u` when `h_t` is replaced by `h_t + d·e_i` right after it is computed: `ŷ_t` is
/// recomputed from the perturbed state and the recurrence continues from it. (The loss of the
/// steps before `t` does not depend on the perturbation.)
fn loss_with_perturbed_state<const I: usize, const H: usize, const O: usize, F, G, L>(
    s: &Sample<I, H, O, F, G>,
    h_before: &SVector<f64, H>,
    t: usize,
    i: usize,
    d: f64,
) -> f64
where
    F: HiddenActivation<f64>,
    G: OutputActivation<f64>,
    L: Loss<f64>,
{
    let mut h = *h_before;
    let mut total = 0.0;
    for u in t..s.xs.len() {
        let (mut h_u, mut y_hat) = s.rnn.step(&h, &s.xs[u]);
        if u == t {
            h_u[i] += d;
            y_hat = G::forward(&s.rnn.logits(&h_u));
        }
        total += L::loss(&y_hat, &s.ys[u]);
        h = h_u;
    }
    total
}

fn dl_dh_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    let g = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, s.ys.as_slice());
    let mut h_before = s.h0; // h_{t−1}, by streaming steps
    for t in 0..s.xs.len() {
        for i in 0..H {
            let numerical = five_point(
                |d| loss_with_perturbed_state::<I, H, O, F, G, L>(&s, &h_before, t, i, d),
                DH_STEP,
            );
            let analytic = g.steps[t].dl_dh[i];
            let suffix_loss =
                loss_with_perturbed_state::<I, H, O, F, G, L>(&s, &h_before, t, i, 0.0);
            let atol = DH_ATOL + fd_rounding(suffix_loss, DH_STEP);
            let (ratio, _) = worst_ratio(&[analytic], &[numerical], atol, DH_RTOL);
            record("dl_dh FD worst ratio", ratio);
            ensure!(
                ratio <= 1.0,
                "dl_dh[t={t}][{i}]: BPTT {analytic} vs FD {numerical} (T = {})",
                s.xs.len()
            );
        }
        h_before = s.rnn.step(&h_before, &s.xs[t]).0;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 3: ∂L_t/∂ŷ_t and ∂L/∂a_t = FD of L_t in ŷ_t and in a_t
// ---------------------------------------------------------------------------------------------

const OUT_ATOL: f64 = 1e-8;
const OUT_RTOL: f64 = 1e-7;

pub(crate) fn prop_output_rows<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(output_rows_at, case; F, G, L))
}

fn output_rows_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    let trace = s.rnn.forward_vec(&s.h0, &s.xs);
    let g = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, s.ys.as_slice());
    for (t, (step, y)) in trace.steps().iter().zip(&s.ys).enumerate() {
        let rows = &g.steps[t];

        // ∂L_t/∂ŷ_t: the textbook formula, and finite differences of Loss::loss in ŷ.
        let textbook = L::ref_gradient(&step.y_hat, y);
        let (ratio, k) = worst_ratio(
            rows.dl_dy_hat.as_slice(),
            textbook.as_slice(),
            f64::MIN_POSITIVE,
            1e-12,
        );
        ensure!(
            ratio <= 1.0,
            "dl_dy_hat[t={t}][{k}] = {} but the textbook gradient is {}",
            rows.dl_dy_hat[k],
            textbook[k]
        );
        for k in 0..O {
            let p = step.y_hat[k];
            // A step relative to the distance to the ends of (0, 1) for the logarithmic losses.
            let room = if L::PROBABILITY { p.min(1.0 - p) } else { 1.0 };
            if room < 1e-9 {
                // At the edge of the loss's domain (the 1-way softmax, ŷ = 1): no two-sided
                // difference exists.
                record("dl_dy_hat entries skipped at domain edge", 1.0);
                continue;
            }
            let numerical = five_point(
                |d| {
                    let mut perturbed = step.y_hat;
                    perturbed[k] += d;
                    L::loss(&perturbed, y)
                },
                1e-3 * room,
            );
            let (ratio, _) = worst_ratio(&[rows.dl_dy_hat[k]], &[numerical], OUT_ATOL, OUT_RTOL);
            record("dl_dy_hat FD worst ratio", ratio);
            ensure!(
                ratio <= 1.0,
                "dl_dy_hat[t={t}][{k}]: BPTT {} vs FD {numerical} at y_hat {p}",
                rows.dl_dy_hat[k]
            );
        }

        // ∂L/∂a_t: finite differences of L_t(a) = L(g(a), y), as backward computes it.
        for k in 0..O {
            let numerical = five_point(
                |d| {
                    let mut a = step.a;
                    a[k] += d;
                    L::loss_and_delta(&a, &G::forward(&a), y).0
                },
                1e-4,
            );
            let (ratio, _) = worst_ratio(&[rows.dl_da[k]], &[numerical], OUT_ATOL, OUT_RTOL);
            record("dl_da FD worst ratio", ratio);
            ensure!(
                ratio <= 1.0,
                "dl_da[t={t}][{k}]: BPTT {} vs FD {numerical}",
                rows.dl_da[k]
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 4: many-to-one and partially scored sequences
// ---------------------------------------------------------------------------------------------

pub(crate) fn prop_many_to_one<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(many_to_one_at, case; F, G, L))
}

fn many_to_one_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    let len = s.xs.len();
    let trace = s.rnn.forward_vec(&s.h0, &s.xs);
    let mut buffer = [ForwardStep::zeros(); MAX_LEN];
    let options = GradcheckOptions::default();

    // LastStep(y): only the last step is scored.
    let y_last = s.ys[len - 1];
    let last = LastStep(y_last);
    let report = s
        .rnn
        .gradcheck(L::default(), &s.h0, &s.xs, &last, &mut buffer, options);
    ensure!(report.passed(), "gradcheck with LastStep failed:\n{report}");
    record("LastStep gradcheck max abs err", report.max_abs_error());
    let g = s.rnn.gradients_vec(L::default(), &s.h0, &s.xs, &last);
    let expected = L::loss(&trace.steps()[len - 1].y_hat, &y_last);
    let err = relative_difference(g.loss, expected);
    record("LastStep loss rel err", err);
    ensure!(
        err <= 1e-12,
        "LastStep loss {} but L_T = {expected}",
        g.loss
    );
    for (t, rows) in g.steps[..len - 1].iter().enumerate() {
        ensure!(
            rows.dl_dy_hat.iter().all(|v| *v == 0.0) && rows.dl_da.iter().all(|v| *v == 0.0),
            "LastStep: unscored step {t} has dl_dy_hat {:?}, dl_da {:?}",
            rows.dl_dy_hat,
            rows.dl_da
        );
    }
    // The same as an Option pattern scoring only the last step, bit for bit.
    let only_last: Vec<_> = (0..len).map(|t| (t + 1 == len).then_some(y_last)).collect();
    let g_pattern = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, only_last.as_slice());
    ensure!(
        g == g_pattern,
        "LastStep and [None, …, Some(y)] give different gradients"
    );

    // A random subset of scored steps (possibly none).
    let scored: Vec<bool> = (0..len).map(|_| rng.below(2) == 0).collect();
    let pattern: Vec<_> =
        s.ys.iter()
            .zip(&scored)
            .map(|(y, &keep)| keep.then_some(*y))
            .collect();
    let report = s.rnn.gradcheck(
        L::default(),
        &s.h0,
        &s.xs,
        pattern.as_slice(),
        &mut buffer,
        options,
    );
    ensure!(
        report.passed(),
        "gradcheck with scored steps {scored:?} failed:\n{report}"
    );
    record(
        "Option-pattern gradcheck max abs err",
        report.max_abs_error(),
    );
    let g = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, pattern.as_slice());
    let expected: f64 = trace
        .steps()
        .iter()
        .zip(&pattern)
        .filter_map(|(step, y)| y.map(|y| L::loss(&step.y_hat, &y)))
        .sum();
    let err = relative_difference(g.loss, expected);
    record("Option-pattern loss rel err", err);
    ensure!(
        err <= 1e-12,
        "loss {} but the sum over scored steps {scored:?} is {expected}",
        g.loss
    );
    for (t, rows) in g.steps.iter().enumerate() {
        if !scored[t] {
            ensure!(
                rows.dl_dy_hat.iter().all(|v| *v == 0.0) && rows.dl_da.iter().all(|v| *v == 0.0),
                "unscored step {t} has dl_dy_hat {:?}, dl_da {:?}",
                rows.dl_dy_hat,
                rows.dl_da
            );
        }
    }
    if !scored.contains(&true) {
        ensure!(
            g.loss == 0.0 && g.params == Params::zeros() && g.dl_dh0.iter().all(|v| *v == 0.0),
            "no step scored, yet loss {} and non-zero gradients",
            g.loss
        );
    }
    // The loss and the gradients are linear in the set of scored steps: a pattern and its
    // complement add up to every step scored.
    let complement: Vec<_> =
        s.ys.iter()
            .zip(&scored)
            .map(|(y, &keep)| (!keep).then_some(*y))
            .collect();
    let g_rest = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, complement.as_slice());
    let g_all = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, s.ys.as_slice());
    let mut sum = g.params;
    sum += &g_rest.params;
    let summed = flatten(&sum, &(g.dl_dh0 + g_rest.dl_dh0));
    let err = error_relative_to_max(&summed, &flatten(&g_all.params, &g_all.dl_dh0), 1.0);
    record("pattern + complement = all, rel err", err);
    ensure!(
        err <= 1e-12,
        "gradients of a pattern and its complement do not add up to all steps' (error {err:e})"
    );
    ensure!(
        relative_difference(g.loss + g_rest.loss, g_all.loss) <= 1e-12,
        "losses of a pattern and its complement do not add up"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 5: streaming steps = the recorded forward pass; Rnn::loss = backward's loss
// ---------------------------------------------------------------------------------------------

pub(crate) fn prop_streaming<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(streaming_at, case; F, G, L))
}

/// Calls `$f::<S, …>` for the run-time length `$len ∈ 1..=12` as a compile-time `S`.
macro_rules! with_const_len {
    ($len:expr, $f:ident::<$($g:tt),*>($($arg:expr),*)) => {
        with_const_len!(@ $len, $f, ($($g),*), ($($arg),*); 1 2 3 4 5 6 7 8 9 10 11 12)
    };
    (@ $len:expr, $f:ident, $gs:tt, $args:tt; $($n:literal)*) => {
        match $len {
            $($n => with_const_len!(@call $f, $n, $gs, $args),)*
            other => Err(format!("no array instantiation for length {other}")),
        }
    };
    (@call $f:ident, $n:literal, ($($g:tt),*), ($($arg:expr),*)) => {
        $f::<$n, $($g),*>($($arg),*)
    };
}

fn streaming_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    let len = s.xs.len();
    let recorded = s.rnn.forward_vec(&s.h0, &s.xs);
    ensure!(
        recorded.len() == len,
        "forward_vec recorded {} steps",
        recorded.len()
    );

    // Streaming: Rnn::step, and record_step, from h_0.
    let mut h = s.h0;
    for (t, (x, step)) in s.xs.iter().zip(recorded.steps()).enumerate() {
        ensure!(
            *recorded.state_before(t) == h,
            "state_before({t}) differs from the streamed state"
        );
        ensure!(
            s.rnn.record_step(&h, x) == *step,
            "record_step differs from forward_vec at step {t}"
        );
        let (h_next, y_hat) = s.rnn.step(&h, x);
        ensure!(
            h_next == step.h && y_hat == step.y_hat,
            "step {t}: streamed (h, y_hat) = ({h_next:?}, {y_hat:?}) but recorded ({:?}, {:?})",
            step.h,
            step.y_hat
        );
        h = h_next;
    }
    ensure!(
        *recorded.last_state() == h,
        "last_state differs from the streamed state"
    );

    // forward_into a longer buffer: the same steps, and nothing written past them.
    let sentinel = ForwardStep {
        z: SVector::repeat(7.0),
        h: SVector::repeat(7.0),
        a: SVector::repeat(7.0),
        y_hat: SVector::repeat(7.0),
    };
    let mut buffer = [sentinel; MAX_LEN + 3];
    let into_loss;
    {
        let trace = s.rnn.forward_into(&s.h0, &s.xs, &mut buffer);
        ensure!(
            trace.len() == len,
            "forward_into recorded {} steps",
            trace.len()
        );
        ensure!(
            trace.steps() == recorded.steps() && trace.h0 == s.h0,
            "forward_into differs from forward_vec"
        );
        let mut grads = Params::zeros();
        into_loss = s
            .rnn
            .backward(L::default(), &s.xs, &trace, s.ys.as_slice(), &mut grads)
            .loss;
    }
    ensure!(
        buffer[len..].iter().all(|step| *step == sentinel),
        "forward_into wrote past the sequence's {len} steps"
    );

    // Rnn::loss (streamed, forward order) = backward's loss (reverse order).
    let streamed = s.rnn.loss(L::default(), &s.h0, &s.xs, s.ys.as_slice());
    let g = s
        .rnn
        .gradients_vec(L::default(), &s.h0, &s.xs, s.ys.as_slice());
    let err = relative_difference(streamed, g.loss);
    record("Rnn::loss vs backward loss rel err", err);
    ensure!(
        err <= 1e-12,
        "Rnn::loss {streamed} but backward's loss {}",
        g.loss
    );
    ensure!(
        into_loss == g.loss,
        "backward over forward_into's trace gives loss {into_loss}, gradients_vec {}",
        g.loss
    );

    // Arrays: forward::<S> and gradients::<S>.
    with_const_len!(
        len,
        arrays_agree::<I, H, O, F, G, L>(&s, recorded.steps(), &g)
    )
}

fn arrays_agree<const S: usize, const I: usize, const H: usize, const O: usize, F, G, L>(
    s: &Sample<I, H, O, F, G>,
    recorded: &[ForwardStep<H, O, f64>],
    g: &static_rnn::Gradients<I, H, O, f64, Vec<static_rnn::BackwardStep<H, O, f64>>>,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let xs: [SVector<f64, I>; S] = s.xs.as_slice().try_into().expect("length S");
    let ys: [SVector<f64, O>; S] = s.ys.as_slice().try_into().expect("length S");
    let trace = s.rnn.forward(&s.h0, &xs);
    ensure!(
        trace.steps.as_slice() == recorded,
        "forward::<{S}> differs from forward_vec"
    );
    let ga = s.rnn.gradients(L::default(), &s.h0, &xs, &ys);
    ensure!(
        ga.loss == g.loss
            && ga.params == g.params
            && ga.dl_dh0 == g.dl_dh0
            && ga.steps.as_slice() == g.steps.as_slice(),
        "gradients::<{S}> differs from gradients_vec"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 6: T = 1 is a one-hidden-layer feed-forward net
// ---------------------------------------------------------------------------------------------

pub(crate) fn prop_feed_forward<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(feed_forward_at, case; F, G, L))
}

/// `|got − want| ≤ 1e-12·max(1, |want|)` entry by entry.
fn same_to_1e12(what: &str, got: &[f64], want: &[f64]) -> Outcome {
    let (ratio, j) = worst_ratio(got, want, 1e-12, 1e-12);
    record("T=1 vs feed-forward (ratio to 1e-12)", ratio);
    ensure!(
        ratio <= 1.0,
        "{what}[{j}]: crate {} vs feed-forward {}",
        got[j],
        want[j]
    );
    Ok(())
}

fn feed_forward_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, 1);
    let p = &s.rnn.params;
    let (x, y, h0) = (s.xs[0], s.ys[0], s.h0);

    // Forward: ŷ = g(W_y f(W_x x + W_h h0 + b_h) + b_y).
    let z = p.w_x * x + p.w_h * h0 + p.b_h;
    let h = z.map(F::ref_f);
    let a = p.w_y * h + p.b_y;
    let y_hat = G::ref_g(&a);
    let loss = L::ref_loss(&y_hat, &y);
    // Backward, by the textbook formulas.
    let dl_dy_hat = L::ref_gradient(&y_hat, &y);
    let dl_da = G::ref_jacobian(&a).transpose() * dl_dy_hat;
    let dl_dw_y = dl_da * h.transpose();
    let dl_db_y = dl_da;
    let dl_dh = p.w_y.transpose() * dl_da;
    let dl_dz = dl_dh.component_mul(&z.map(F::ref_df));
    let dl_dw_x = dl_dz * x.transpose();
    let dl_dw_h = dl_dz * h0.transpose();
    let dl_db_h = dl_dz;
    let dl_dh0 = p.w_h.transpose() * dl_dz;

    let g = s.rnn.gradients(L::default(), &h0, &[x], &[y]);
    let gv = s
        .rnn
        .gradients_vec(L::default(), &h0, &s.xs, s.ys.as_slice());
    ensure!(
        g.loss == gv.loss && g.params == gv.params && g.steps[0] == gv.steps[0],
        "gradients::<1> and gradients_vec disagree"
    );
    let trace = s.rnn.forward(&h0, &[x]);
    let step = &trace.steps[0];
    same_to_1e12("y_hat", step.y_hat.as_slice(), y_hat.as_slice())?;
    same_to_1e12("h", step.h.as_slice(), h.as_slice())?;
    same_to_1e12("loss", &[g.loss], &[loss])?;
    same_to_1e12(
        "dl_dy_hat",
        g.steps[0].dl_dy_hat.as_slice(),
        dl_dy_hat.as_slice(),
    )?;
    same_to_1e12("dl_da", g.steps[0].dl_da.as_slice(), dl_da.as_slice())?;
    same_to_1e12("dl_dh", g.steps[0].dl_dh.as_slice(), dl_dh.as_slice())?;
    same_to_1e12("dl_dz", g.steps[0].dl_dz.as_slice(), dl_dz.as_slice())?;
    same_to_1e12("dW_x", g.params.w_x.as_slice(), dl_dw_x.as_slice())?;
    same_to_1e12("dW_h", g.params.w_h.as_slice(), dl_dw_h.as_slice())?;
    same_to_1e12("db_h", g.params.b_h.as_slice(), dl_db_h.as_slice())?;
    same_to_1e12("dW_y", g.params.w_y.as_slice(), dl_dw_y.as_slice())?;
    same_to_1e12("db_y", g.params.b_y.as_slice(), dl_db_y.as_slice())?;
    same_to_1e12("dh0", g.dl_dh0.as_slice(), dl_dh0.as_slice())?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 7: the fused output heads = the general path
// ---------------------------------------------------------------------------------------------

pub(crate) fn prop_fused_equals_general<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(fused_at, case; F, G, L))
}

fn fused_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    let mut s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    // Logits up to ±30: scale W_y so that max_t |W_y h_t| is a random value in [1, 30]
    // (30 exactly a quarter of the time).
    let trace = s.rnn.forward_vec(&s.h0, &s.xs);
    let reach = trace
        .steps()
        .iter()
        .map(|st| (s.rnn.params.w_y * st.h).amax())
        .fold(0.0, f64::max);
    let wanted = if rng.below(4) == 0 {
        30.0
    } else {
        rng.uniform(1.0, 30.0)
    };
    if reach > 0.0 {
        s.rnn.params.w_y *= wanted / reach;
    }
    let trace = s.rnn.forward_vec(&s.h0, &s.xs);
    let max_logit = trace
        .steps()
        .iter()
        .map(|st| st.a.amax())
        .fold(0.0, f64::max);
    record("max |logit|", max_logit);

    let ys = s.ys.as_slice();
    let fused = s.rnn.gradients_vec(L::default(), &s.h0, &s.xs, ys);
    let general = s
        .rnn
        .gradients_vec(General::<L>::default(), &s.h0, &s.xs, ys);
    ensure!(
        fused.params.is_finite() && fused.loss.is_finite(),
        "fused path not finite at logits up to {max_logit}"
    );
    if !(general.params.is_finite() && general.dl_dh0.iter().all(|v| v.is_finite())) {
        record("cases where the general path is not finite", 1.0);
        return Ok(());
    }
    // Both paths compute δa_t = ŷ_t − y_t (or 2(ŷ_t − y_t)) with an absolute rounding error of a
    // few ε times the size of the terms, max(|ŷ|, |y|) ≈ 1, not of the difference: for a
    // confidently right step (ŷ_k = 1 − 1e−13) the difference is pure cancellation in either path.
    // So δa is compared relative to max(|δa|, |ŷ|, |y|); and ∂L/∂h_t = W_yᵀ δa_t + …, and through
    // it every weight gradient, relative to max(max |gradient|, floor) with
    // floor = 1e−3 · O · max |W_y|: the magnitude a single step with |δa| ≈ 1 would give, times
    // 1e−3. (A gradient made only of confidently right steps is ~1e−13 and its relative error
    // meaningless; W_y, scaled up to reach ±30, amplifies δa's rounding by |W_y|.)
    let fused_floor = 1e-3 * (O as f64) * s.rnn.params.w_y.amax().max(1.0);
    let f = flatten(&fused.params, &fused.dl_dh0);
    let gen_ = flatten(&general.params, &general.dl_dh0);
    let err = error_relative_to_max(&gen_, &f, fused_floor);
    record("fused vs general grads rel err", err);
    ensure!(
        err <= 1e-10,
        "fused and general gradients differ by {err:e} of their magnitude (logits up to {max_logit})"
    );
    for (t, ((fs, gs), (st, y))) in fused
        .steps
        .iter()
        .zip(&general.steps)
        .zip(trace.steps().iter().zip(ys))
        .enumerate()
    {
        ensure!(
            fs.dl_dy_hat == gs.dl_dy_hat,
            "step {t}: dl_dy_hat differs between the paths"
        );
        let terms = st.y_hat.amax().max(y.amax());
        let err = error_relative_to_max(gs.dl_da.as_slice(), fs.dl_da.as_slice(), terms);
        record("fused vs general dl_da rel err", err);
        ensure!(
            err <= 1e-10,
            "step {t}: fused dl_da {:?} vs general {:?} (y_hat {:?}, y {:?})",
            fs.dl_da,
            gs.dl_da,
            st.y_hat,
            y
        );
        let err = error_relative_to_max(gs.dl_dh.as_slice(), fs.dl_dh.as_slice(), fused_floor);
        record("fused vs general dl_dh rel err", err);
        ensure!(
            err <= 1e-10,
            "step {t}: fused dl_dh {:?} vs general {:?}",
            fs.dl_dh,
            gs.dl_dh
        );
    }
    // Losses: 1e-10 relative, plus the absolute rounding each path may commit: a few ε per unit
    // of |a_k| and per term (the fused `lse(a) − a_k` of a confident step is a cancellation too),
    // and, for the general BCE, ln(1 − ŷ) whose error grows like ε/(1 − ŷ) as σ saturates.
    let eps = f64::EPSILON;
    let bce = TypeId::of::<L>() == TypeId::of::<BinaryCrossEntropy>();
    let rounding: f64 = trace
        .steps()
        .iter()
        .zip(ys)
        .map(|(st, y)| {
            st.a.iter()
                .zip(st.y_hat.iter())
                .zip(y.iter())
                .map(|((&a, &p), &yk)| {
                    let terms = 8.0 * eps * (1.0 + a.abs()) * (1.0 + yk.abs());
                    let saturation = if bce {
                        4.0 * eps * (yk / p + (1.0 - yk) / (1.0 - p)).min(1e300)
                    } else {
                        0.0
                    };
                    terms + saturation
                })
                .sum::<f64>()
        })
        .sum();
    let allowed = 1e-10 * fused.loss.abs() + rounding;
    let diff = (fused.loss - general.loss).abs();
    record("fused vs general loss |diff| / allowed", diff / allowed);
    ensure!(
        diff <= allowed,
        "fused loss {} vs general loss {} (allowed {allowed:e})",
        fused.loss,
        general.loss
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Property 8: gradients accumulate
// ---------------------------------------------------------------------------------------------

pub(crate) fn prop_accumulate<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    verdict(each_shape!(accumulate_at, case; F, G, L))
}

/// Summation in a different order: a few ulps of the largest partial sum.
const ACCUMULATE_TOL: f64 = 1e-13;

fn accumulate_at<const I: usize, const H: usize, const O: usize, F, G, L>(
    case: Case,
    tag: u64,
) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64>,
{
    let mut rng = case_rng(case, tag);
    // A sequence of len + len2 steps, cut into two windows (the second starts from the first's
    // last state, as in truncated BPTT): the first for the single-sequence checks, both for the
    // minibatch. Drawn as one sequence so that the output constraints of `sample` hold for both.
    let len2 = 1 + (case.seed % MAX_LEN as u64) as usize;
    let whole = sample::<I, H, O, F, G, L>(&mut rng, case.len + len2);
    let s = Sample {
        rnn: whole.rnn,
        h0: whole.h0,
        xs: whole.xs[..case.len].to_vec(),
        ys: whole.ys[..case.len].to_vec(),
    };
    let (xs2, ys2) = (&whole.xs[case.len..], &whole.ys[case.len..]);
    let ys = s.ys.as_slice();
    let trace = s.rnn.forward_vec(&s.h0, &s.xs);
    let zero_h = SVector::<f64, H>::zeros();
    let mut once = Params::zeros();
    let first = s.rnn.backward(L::default(), &s.xs, &trace, ys, &mut once);
    let fresh = s.rnn.gradients_vec(L::default(), &s.h0, &s.xs, ys);
    ensure!(
        once == fresh.params && first.loss == fresh.loss && first.dl_dh0 == fresh.dl_dh0,
        "backward into zeros differs from gradients_vec"
    );

    // Twice into the same accumulator = 2 × once; the summaries do not depend on it.
    let mut twice = Params::zeros();
    let a = s.rnn.backward(L::default(), &s.xs, &trace, ys, &mut twice);
    let b = s.rnn.backward(L::default(), &s.xs, &trace, ys, &mut twice);
    ensure!(
        a == first && b == first,
        "the loss or dl_dh0 depend on the accumulator"
    );
    let mut doubled = once;
    doubled *= 2.0;
    let err = error_relative_to_max(&flatten(&twice, &zero_h), &flatten(&doubled, &zero_h), 1.0);
    record("twice vs 2x once rel err", err);
    ensure!(
        err <= ACCUMULATE_TOL,
        "backward twice differs from 2 × once by {err:e}"
    );

    // Into a non-zero accumulator: adds, and the intermediates are unchanged.
    let start = Params {
        w_x: rng.matrix(-2.0, 2.0),
        w_h: rng.matrix(-2.0, 2.0),
        b_h: rng.matrix(-2.0, 2.0),
        w_y: rng.matrix(-2.0, 2.0),
        b_y: rng.matrix(-2.0, 2.0),
    };
    let mut acc = start;
    let mut rows = vec![static_rnn::BackwardStep::zeros(); s.xs.len()];
    let summary =
        s.rnn
            .backward_with_intermediates(L::default(), &s.xs, &trace, ys, &mut acc, &mut rows);
    ensure!(summary == first, "summary depends on the accumulator");
    ensure!(
        rows == fresh.steps,
        "intermediates depend on the accumulator"
    );
    let mut expected = start;
    expected += &once;
    let err = error_relative_to_max(&flatten(&acc, &zero_h), &flatten(&expected, &zero_h), 1.0);
    record("start + backward vs start + once rel err", err);
    ensure!(
        err <= ACCUMULATE_TOL,
        "backward into a non-zero accumulator does not add (error {err:e})"
    );

    // A minibatch of two windows (of different lengths) sums.
    let h0_2 = *trace.last_state();
    let trace2 = s.rnn.forward_vec(&h0_2, xs2);
    let mut batch = Params::zeros();
    s.rnn.backward(L::default(), &s.xs, &trace, ys, &mut batch);
    s.rnn.backward(L::default(), xs2, &trace2, ys2, &mut batch);
    let g2 = s.rnn.gradients_vec(L::default(), &h0_2, xs2, ys2);
    let mut expected = once;
    expected += &g2.params;
    let err = error_relative_to_max(&flatten(&batch, &zero_h), &flatten(&expected, &zero_h), 1.0);
    record("minibatch vs sum rel err", err);
    ensure!(
        err <= ACCUMULATE_TOL,
        "a minibatch of two sequences does not sum their gradients (error {err:e})"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// f32 against f64
// ---------------------------------------------------------------------------------------------

/// f32 gradients must match the f64 gradients of the same (f32-representable) model within
/// `1e-4 × max |gradient|`: f32 rounds at ε ≈ 6e-8, and a 12-step BPTT over ≤ 8 units compounds
/// it by at most a few hundred; the loss within 1e-5 relative.
const F32_TOL: f64 = 1e-4;

pub(crate) fn prop_f32_matches_f64<F, G, L>(case: Case) -> TestResult
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64> + LossFor<G, f32>,
{
    verdict(each_shape!(f32_at, case; F, G, L))
}

fn to_f32<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> SMatrix<f32, R, C> {
    m.map(|v| v as f32)
}

fn to_f64<const R: usize, const C: usize>(m: &SMatrix<f32, R, C>) -> SMatrix<f64, R, C> {
    m.map(f64::from)
}

fn f32_at<const I: usize, const H: usize, const O: usize, F, G, L>(case: Case, tag: u64) -> Outcome
where
    F: RefHidden,
    G: RefOutput,
    L: TestLoss + LossFor<G, f64> + LossFor<G, f32>,
{
    let mut rng = case_rng(case, tag);
    let s = sample::<I, H, O, F, G, L>(&mut rng, case.len);
    let p = &s.rnn.params;
    let single = Rnn::<I, H, O, F, G, f32>::new(
        to_f32(&p.w_x),
        to_f32(&p.w_h),
        to_f32(&p.b_h),
        to_f32(&p.w_y),
        to_f32(&p.b_y),
    );
    let q = &single.params;
    let double = Model::<I, H, O, F, G>::new(
        to_f64(&q.w_x),
        to_f64(&q.w_h),
        to_f64(&q.b_h),
        to_f64(&q.w_y),
        to_f64(&q.b_y),
    );
    let h0_32 = to_f32(&s.h0);
    let xs32: Vec<_> = s.xs.iter().map(to_f32).collect();
    let ys32: Vec<_> = s.ys.iter().map(to_f32).collect();
    let xs64: Vec<_> = xs32.iter().map(to_f64).collect();
    let ys64: Vec<_> = ys32.iter().map(to_f64).collect();

    let g32 = single.gradients_vec(L::default(), &h0_32, &xs32, ys32.as_slice());
    let g64 = double.gradients_vec(L::default(), &to_f64(&h0_32), &xs64, ys64.as_slice());
    let widened = flatten(
        &Params {
            w_x: to_f64(&g32.params.w_x),
            w_h: to_f64(&g32.params.w_h),
            b_h: to_f64(&g32.params.b_h),
            w_y: to_f64(&g32.params.w_y),
            b_y: to_f64(&g32.params.b_y),
        },
        &to_f64(&g32.dl_dh0),
    );
    let reference = flatten(&g64.params, &g64.dl_dh0);
    let err = error_relative_to_max(&widened, &reference, f64::MIN_POSITIVE);
    record("f32 vs f64 grads rel err (to max)", err);
    ensure!(
        err <= F32_TOL,
        "f32 gradients differ from f64 by {err:e} of their magnitude"
    );
    let loss_err = relative_difference(f64::from(g32.loss), g64.loss);
    record("f32 vs f64 loss rel err", loss_err);
    ensure!(
        loss_err <= 1e-5,
        "f32 loss {} vs f64 loss {}",
        g32.loss,
        g64.loss
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The 36 combinations
// ---------------------------------------------------------------------------------------------

macro_rules! combination {
    ($module:ident: $f:ty, $g:ty, $l:ty $(; $extra:ident)*) => {
        mod $module {
            use super::*;

            fn name(property: &str) -> String {
                format!("{}::{property}", stringify!($module))
            }

            #[test]
            fn p1_bptt_equals_finite_differences() {
                run(&name("p1"), CASES_GRADCHECK, prop_gradcheck::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            #[test]
            fn p2_dl_dh_equals_state_perturbation() {
                run(&name("p2"), CASES_DL_DH, prop_dl_dh::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            #[test]
            fn p3_output_rows_equal_finite_differences() {
                run(&name("p3"), CASES_OUTPUT_ROWS, prop_output_rows::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            #[test]
            fn p4_many_to_one_and_partial_targets() {
                run(&name("p4"), CASES_MANY_TO_ONE, prop_many_to_one::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            #[test]
            fn p5_streaming_equals_recorded() {
                run(&name("p5"), CASES_STREAMING, prop_streaming::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            #[test]
            fn p6_one_step_is_feed_forward() {
                run(&name("p6"), CASES_FEED_FORWARD, prop_feed_forward::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            #[test]
            fn p8_gradients_accumulate() {
                run(&name("p8"), CASES_ACCUMULATE, prop_accumulate::<$f, $g, $l> as fn(Case) -> TestResult);
            }

            $(combination!(@ $extra, $f, $g, $l);)*
        }
    };
    (@ fused, $f:ty, $g:ty, $l:ty) => {
        #[test]
        fn p7_fused_equals_general() {
            run(&name("p7"), CASES_FUSED, prop_fused_equals_general::<$f, $g, $l> as fn(Case) -> TestResult);
        }
    };
    (@ single, $f:ty, $g:ty, $l:ty) => {
        #[test]
        fn f32_matches_f64() {
            run(&name("f32"), CASES_F32, prop_f32_matches_f64::<$f, $g, $l> as fn(Case) -> TestResult);
        }
    };
}
