//! Conformance with an independent autodiff system: every fixture in `tests/fixtures/` was written
//! by `tools/reference/generate.py`, a float64 JAX implementation whose gradients come from
//! `jax.grad`, not from hand-derived formulas. For each fixture this test runs the same model and
//! checks the loss, every `h_t` and `ŷ_t`, every parameter gradient, every `∂L/∂h_t` and
//! `∂L_t/∂ŷ_t`, and `∂L/∂h_0`:
//!
//! - in `f64`, to a relative error of `1e−9` per entry (`|got − want| ≤ 1e−9 · |want|`, with an
//!   absolute floor of `1e−9 · ‖want‖∞` of that quantity for entries that are ≈ 0 next to their
//!   neighbours), except in the fixture with saturated tanh units, where the problem itself is
//!   ill-conditioned (see `F64_TOLERANCE_SATURATED_TANH`);
//! - in `f32` (the same model rounded to single precision), to `F32_TOLERANCE` normwise
//!   (`‖got − want‖∞ ≤ tol · ‖want‖∞` per quantity), on the fixtures that are not saturated: in a
//!   saturated one the answer is more sensitive to the rounding of the weights than `f32` resolves.

use serde::Deserialize;
use static_rnn::{
    BackwardStep, BinaryCrossEntropy, CrossEntropy, ForwardStep, HiddenActivation, Identity,
    LossFor, Mse, OutputActivation, Params, Real, Relu, Rnn, SMatrix, SVector, Sigmoid, Softmax,
    Tanh, scalar::constant, scalar::to_f64,
};
use std::path::Path;

/// The per-entry relative tolerance in f64.
const F64_TOLERANCE: f64 = 1e-9;
/// The f64 tolerance for the fixture whose tanh units are saturated (`|z| ≈ 8–10`). There
/// `f′(z) = 1 − h²` is computed from `h` rounded to the nearest double, like JAX does, and a
/// difference of one ulp in `tanh z` between two libms becomes a relative difference of up to
/// `ulp(1) / (1 − |h|) ≈ 1e−16 / 3e−9 ≈ 4e−8` in `f′(z)`. The reference itself is off from the exact
/// derivatives (60-digit mpmath) by 3e−9 in this fixture (`tools/reference/check.py`).
const F64_TOLERANCE_SATURATED_TANH: f64 = 1e-7;
/// The normwise relative tolerance in f32: the unit roundoff is 6e−8; the worst seen over the 46
/// unsaturated fixtures (64 steps for the large ones) is 1.0e−6, so this leaves a margin of 10.
const F32_TOLERANCE: f64 = 1e-5;

#[derive(Deserialize)]
struct Fixture {
    name: String,
    hidden: String,
    output: String,
    loss: String,
    dims: Dims,
    params: Weights,
    h0: Vec<f64>,
    xs: Vec<Vec<f64>>,
    targets: Vec<Option<Vec<f64>>>,
    expected: Expected,
}

#[derive(Deserialize)]
struct Dims {
    input: usize,
    hidden: usize,
    output: usize,
    steps: usize,
}

#[derive(Deserialize)]
struct Weights {
    w_x: Vec<Vec<f64>>,
    w_h: Vec<Vec<f64>>,
    b_h: Vec<f64>,
    w_y: Vec<Vec<f64>>,
    b_y: Vec<f64>,
}

#[derive(Deserialize)]
struct Expected {
    loss: f64,
    h: Vec<Vec<f64>>,
    y_hat: Vec<Vec<f64>>,
    grads: Weights,
    dl_dh: Vec<Vec<f64>>,
    dl_dy_hat: Vec<Vec<f64>>,
    dl_dh0: Vec<f64>,
}

/// Worst errors seen over one fixture, per quantity, for the report.
#[derive(Default)]
struct Worst {
    rel: f64,
    quantity: String,
}

/// Compares `got` with `want` entry by entry; returns the worst relative error (with the floor).
fn compare(name: &str, quantity: &str, got: &[f64], want: &[f64], tol: f64, worst: &mut Worst) {
    assert_eq!(
        got.len(),
        want.len(),
        "{name}: {quantity} has the wrong length"
    );
    let scale = want.iter().fold(0.0_f64, |m, w| m.max(w.abs()));
    for (j, (&g, &w)) in got.iter().zip(want).enumerate() {
        let denominator = w.abs().max(scale * tol).max(f64::MIN_POSITIVE);
        let rel = (g - w).abs() / denominator;
        assert!(
            rel <= tol,
            "{name}: {quantity}[{j}] = {g:e}, JAX says {w:e} (relative error {rel:.2e} > {tol:e})"
        );
        if rel > worst.rel {
            worst.rel = rel;
            worst.quantity = quantity.to_string();
        }
    }
}

/// Compares normwise: `‖got − want‖∞ ≤ tol · ‖want‖∞`; returns that ratio.
fn compare_normwise(
    name: &str,
    quantity: &str,
    got: &[f64],
    want: &[f64],
    tol: f64,
    worst: &mut Worst,
) {
    let scale = want.iter().fold(0.0_f64, |m, w| m.max(w.abs()));
    let error = got
        .iter()
        .zip(want)
        .fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()));
    let rel = if scale == 0.0 { error } else { error / scale };
    assert!(
        rel <= tol,
        "{name} (f32): {quantity} normwise relative error {rel:.2e} > {tol:e}"
    );
    if rel > worst.rel {
        worst.rel = rel;
        worst.quantity = quantity.to_string();
    }
}

fn matrix<T: Real, const R: usize, const C: usize>(rows: &[Vec<f64>]) -> SMatrix<T, R, C> {
    assert_eq!(rows.len(), R);
    SMatrix::from_fn(|i, j| constant(rows[i][j]))
}

fn vector<T: Real, const N: usize>(v: &[f64]) -> SVector<T, N> {
    assert_eq!(v.len(), N);
    SVector::from_fn(|i, _| constant(v[i]))
}

/// Row-major flattening of a fixture matrix, to compare with a matrix read row by row.
fn rows_of<T: Real, const R: usize, const C: usize>(m: &SMatrix<T, R, C>) -> Vec<f64> {
    (0..R)
        .flat_map(|i| (0..C).map(move |j| to_f64(m[(i, j)])))
        .collect()
}

fn flat(v: &[Vec<f64>]) -> Vec<f64> {
    v.iter().flatten().copied().collect()
}

fn to_vec<T: Real, const N: usize>(v: &SVector<T, N>) -> Vec<f64> {
    v.iter().map(|&x| to_f64(x)).collect()
}

/// Runs one fixture with the given types and checks every quantity; returns the worst error.
fn check<const I: usize, const H: usize, const O: usize, F, G, L, T>(
    fixture: &Fixture,
    loss: L,
    precision: Precision,
) -> Worst
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    L: LossFor<G, T>,
    T: Real,
{
    let d = &fixture.dims;
    assert_eq!(
        (d.input, d.hidden, d.output),
        (I, H, O),
        "{}: unexpected shape",
        fixture.name
    );
    let p = &fixture.params;
    let rnn = Rnn::<I, H, O, F, G, T>::new(
        matrix(&p.w_x),
        matrix(&p.w_h),
        vector(&p.b_h),
        matrix(&p.w_y),
        vector(&p.b_y),
    );
    let h0: SVector<T, H> = vector(&fixture.h0);
    let xs: Vec<SVector<T, I>> = fixture.xs.iter().map(|x| vector(x)).collect();
    let targets: Vec<Option<SVector<T, O>>> = fixture
        .targets
        .iter()
        .map(|y| y.as_deref().map(vector))
        .collect();
    assert_eq!(xs.len(), d.steps);

    let mut buffer = vec![ForwardStep::zeros(); d.steps];
    let mut intermediates = vec![BackwardStep::zeros(); d.steps];
    let trace = rnn.forward_into(&h0, &xs, &mut buffer);
    let mut grads = Params::zeros();
    let summary = rnn.backward_with_intermediates(
        loss,
        &xs,
        &trace,
        targets.as_slice(),
        &mut grads,
        &mut intermediates,
    );

    let e = &fixture.expected;
    let name = &fixture.name;
    let mut worst = Worst::default();
    let steps = trace.steps();
    let mut compare = |quantity: &str, got: Vec<f64>, want: Vec<f64>| match precision {
        Precision::F64 => compare(name, quantity, &got, &want, f64_tolerance(name), &mut worst),
        Precision::F32 => compare_normwise(name, quantity, &got, &want, F32_TOLERANCE, &mut worst),
    };
    compare("loss", vec![to_f64(summary.loss)], vec![e.loss]);
    compare(
        "h_t",
        steps.iter().flat_map(|s| to_vec(&s.h)).collect(),
        flat(&e.h),
    );
    compare(
        "ŷ_t",
        steps.iter().flat_map(|s| to_vec(&s.y_hat)).collect(),
        flat(&e.y_hat),
    );
    compare("∂L/∂W_x", rows_of(&grads.w_x), flat(&e.grads.w_x));
    compare("∂L/∂W_h", rows_of(&grads.w_h), flat(&e.grads.w_h));
    compare("∂L/∂b_h", to_vec(&grads.b_h), e.grads.b_h.clone());
    compare("∂L/∂W_y", rows_of(&grads.w_y), flat(&e.grads.w_y));
    compare("∂L/∂b_y", to_vec(&grads.b_y), e.grads.b_y.clone());
    compare(
        "∂L/∂h_t",
        intermediates
            .iter()
            .flat_map(|s| to_vec(&s.dl_dh))
            .collect(),
        flat(&e.dl_dh),
    );
    compare(
        "∂L_t/∂ŷ_t",
        intermediates
            .iter()
            .flat_map(|s| to_vec(&s.dl_dy_hat))
            .collect(),
        flat(&e.dl_dy_hat),
    );
    compare("∂L/∂h_0", to_vec(&summary.dl_dh0), e.dl_dh0.clone());
    worst
}

fn f64_tolerance(fixture: &str) -> f64 {
    if fixture.starts_with("saturated_tanh") {
        F64_TOLERANCE_SATURATED_TANH
    } else {
        F64_TOLERANCE
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Precision {
    F64,
    F32,
}

/// Dispatches a fixture to the types its `hidden`, `output` and `loss` fields name.
macro_rules! dispatch {
    ($fixture:expr, $precision:expr, $t:ty, $i:literal, $h:literal, $o:literal) => {{
        let f = $fixture;
        macro_rules! with_loss {
            ($hidden:ty, $output:ty) => {
                match f.loss.as_str() {
                    "cross_entropy" => {
                        check::<$i, $h, $o, $hidden, $output, _, $t>(f, CrossEntropy, $precision)
                    }
                    "mse" => check::<$i, $h, $o, $hidden, $output, _, $t>(f, Mse, $precision),
                    "binary_cross_entropy" => check::<$i, $h, $o, $hidden, $output, _, $t>(
                        f,
                        BinaryCrossEntropy,
                        $precision,
                    ),
                    other => panic!("{}: unknown loss {other}", f.name),
                }
            };
        }
        macro_rules! with_output {
            ($hidden:ty) => {
                match f.output.as_str() {
                    "softmax" => with_loss!($hidden, Softmax),
                    "sigmoid" => with_loss!($hidden, Sigmoid),
                    "identity" => with_loss!($hidden, Identity),
                    other => panic!("{}: unknown output activation {other}", f.name),
                }
            };
        }
        match f.hidden.as_str() {
            "tanh" => with_output!(Tanh),
            "relu" => with_output!(Relu),
            "sigmoid" => with_output!(Sigmoid),
            "identity" => with_output!(Identity),
            other => panic!("{}: unknown hidden activation {other}", f.name),
        }
    }};
}

fn run(f: &Fixture, precision: Precision) -> Worst {
    let shape = (f.dims.input, f.dims.hidden, f.dims.output);
    match (shape, precision) {
        ((3, 5, 4), Precision::F64) => dispatch!(f, Precision::F64, f64, 3, 5, 4),
        ((16, 32, 8), Precision::F64) => dispatch!(f, Precision::F64, f64, 16, 32, 8),
        ((3, 5, 4), Precision::F32) => dispatch!(f, Precision::F32, f32, 3, 5, 4),
        ((16, 32, 8), Precision::F32) => dispatch!(f, Precision::F32, f32, 16, 32, 8),
        _ => panic!("{}: no instantiation for shape {shape:?}", f.name),
    }
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("readable fixture");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

#[test]
fn every_fixture_matches_jax_in_f64() {
    let fixtures = fixtures();
    // 36 (hidden, output, loss) combinations + 6 many-to-one + 4 large + 5 hard.
    assert_eq!(
        fixtures.len(),
        51,
        "the fixture set changed: update this count and the README"
    );
    let mut overall = (0.0_f64, String::new());
    for f in &fixtures {
        let worst = run(f, Precision::F64);
        println!(
            "{:<52} worst relative error {:.2e} ({})",
            f.name, worst.rel, worst.quantity
        );
        if worst.rel > overall.0 {
            overall = (worst.rel, format!("{} {}", f.name, worst.quantity));
        }
    }
    println!(
        "f64: {} fixtures, worst relative error {:.2e} in {}",
        fixtures.len(),
        overall.0,
        overall.1
    );
}

#[test]
fn unsaturated_fixtures_match_jax_in_f32() {
    let fixtures: Vec<_> = fixtures()
        .into_iter()
        .filter(|f| !f.name.ends_with("_hard"))
        .collect();
    let mut overall = (0.0_f64, String::new());
    for f in &fixtures {
        let worst = run(f, Precision::F32);
        if worst.rel > overall.0 {
            overall = (worst.rel, format!("{} {}", f.name, worst.quantity));
        }
    }
    println!(
        "f32: {} fixtures, worst normwise relative error {:.2e} in {}",
        fixtures.len(),
        overall.0,
        overall.1
    );
}
