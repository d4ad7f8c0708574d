//! Optimizers and gradient clipping against PyTorch, and their refusal of non-finite gradients.
//!
//! `tests/fixtures/optim/` was written by `tools/reference/optim.py`: `torch.optim` itself (float64,
//! CPU) stepping a `Params<2, 3, 2>`-shaped parameter set through a fixed sequence of gradients that
//! the fixture also holds, for every optimizer and every option the crate supports, recording the
//! parameters and PyTorch's optimizer state after each step; `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_` on a few gradients; and the optimizers' default hyperparameters. Here:
//!
//! - in `f64`, every parameter and every state tensor after every step must match to `1e−12`
//!   relative per entry (`|got − want| ≤ 1e−12 · |want|`, with an absolute floor of
//!   `1e−12 · ‖want‖∞` of that tensor for entries that are ≈ 0 next to their neighbours);
//! - in `f32` (fixture values rounded to single precision), the parameters after every step must
//!   match to [`F32_TOLERANCE`] normwise per tensor.

use approx::assert_relative_eq;
use serde::Deserialize;
use static_rnn::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, CrossEntropy, NonFiniteGradient,
    Optimizer, Params, Real, RmsProp, RmsPropConfig, Rnn, SMatrix, SVector, Sgd, SgdConfig,
    Softmax, Tanh, Tensors, clip::total_norm, clip_grad_norm, clip_grad_value, scalar::constant,
    scalar::to_f64,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The fixtures' parameter shape: `Params<I = 2, H = 3, O = 2>`.
type P<T> = Params<2, 3, 2, T>;

/// The per-entry relative tolerance in f64.
const F64_TOLERANCE: f64 = 1e-12;

/// The normwise relative tolerance of the f32 replay: `1e−6 ≈ 17 u`, with `u = 6·10⁻⁸` the unit
/// roundoff. Rounding the starting parameters to f32 costs up to `u`; each step then adds an
/// update of at most `γ·(a few)` computed with a relative error of a few `u`, so after six steps the
/// error stays a small multiple of `u`. The hyperparameters are `f64` and `1 − β₂` is rounded once
/// from `f64`, so they add one rounding each, not the `1.3·10⁻⁵` relative of `1 − fl₃₂(0.999)`.
/// The worst seen over the 29 cases is `2.0·10⁻⁷ ≈ 3.4 u` (`adamw_defaults`, step 6), a margin of 5.
const F32_TOLERANCE: f64 = 1e-6;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optim")
}

fn read<D: for<'de> Deserialize<'de>>(file: &Path) -> D {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// A `Params<2, 3, 2>` as the fixtures write it: matrices as row-major lists of rows.
#[derive(Deserialize)]
struct Weights {
    w_x: Vec<Vec<f64>>,
    w_h: Vec<Vec<f64>>,
    b_h: Vec<f64>,
    w_y: Vec<Vec<f64>>,
    b_y: Vec<f64>,
}

impl Weights {
    fn to_params<T: Real>(&self) -> P<T> {
        fn matrix<T: Real, const R: usize, const C: usize>(rows: &[Vec<f64>]) -> SMatrix<T, R, C> {
            assert_eq!(rows.len(), R);
            assert!(rows.iter().all(|row| row.len() == C));
            SMatrix::from_fn(|i, j| constant(rows[i][j]))
        }
        fn vector<T: Real, const N: usize>(v: &[f64]) -> SVector<T, N> {
            assert_eq!(v.len(), N);
            SVector::from_fn(|i, _| constant(v[i]))
        }
        Params {
            w_x: matrix(&self.w_x),
            w_h: matrix(&self.w_h),
            b_h: vector(&self.b_h),
            w_y: matrix(&self.w_y),
            b_y: vector(&self.b_y),
        }
    }
}

/// The hyperparameters a fixture sets; the others are PyTorch's defaults, so a case that sets none
/// also checks the crate's defaults against PyTorch's.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    lr: Option<f64>,
    momentum: Option<f64>,
    dampening: Option<f64>,
    weight_decay: Option<f64>,
    nesterov: Option<bool>,
    lr_decay: Option<f64>,
    initial_accumulator_value: Option<f64>,
    eps: Option<f64>,
    alpha: Option<f64>,
    centered: Option<bool>,
    betas: Option<(f64, f64)>,
    amsgrad: Option<bool>,
}

#[derive(Deserialize)]
struct Step {
    grads: Weights,
    params: Weights,
    /// PyTorch's `state["step"]` (absent for SGD, which keeps none).
    step: Option<u64>,
    /// PyTorch's other state tensors, by their `optimizer.state[p]` key.
    state: BTreeMap<String, Weights>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    optimizer: String,
    config: Config,
    initial: Weights,
    steps: Vec<Step>,
}

/// Any of the crate's optimizers over `P<T>`, built from a fixture's configuration.
#[derive(Clone)]
enum AnyOptimizer<T: Real> {
    Sgd(Sgd<P<T>>),
    Adagrad(Adagrad<P<T>>),
    RmsProp(RmsProp<P<T>>),
    Adam(Adam<P<T>>),
    AdamW(AdamW<P<T>>),
}

impl<T: Real> AnyOptimizer<T> {
    fn new(optimizer: &str, c: &Config) -> Self {
        match optimizer {
            "sgd" => {
                let d = SgdConfig::default();
                Self::Sgd(Sgd::new(SgdConfig {
                    lr: c.lr.unwrap_or(d.lr),
                    momentum: c.momentum.unwrap_or(d.momentum),
                    dampening: c.dampening.unwrap_or(d.dampening),
                    weight_decay: c.weight_decay.unwrap_or(d.weight_decay),
                    nesterov: c.nesterov.unwrap_or(d.nesterov),
                }))
            }
            "adagrad" => {
                let d = AdagradConfig::default();
                Self::Adagrad(Adagrad::new(AdagradConfig {
                    lr: c.lr.unwrap_or(d.lr),
                    lr_decay: c.lr_decay.unwrap_or(d.lr_decay),
                    weight_decay: c.weight_decay.unwrap_or(d.weight_decay),
                    initial_accumulator_value: c
                        .initial_accumulator_value
                        .unwrap_or(d.initial_accumulator_value),
                    eps: c.eps.unwrap_or(d.eps),
                }))
            }
            "rmsprop" => {
                let d = RmsPropConfig::default();
                Self::RmsProp(RmsProp::new(RmsPropConfig {
                    lr: c.lr.unwrap_or(d.lr),
                    alpha: c.alpha.unwrap_or(d.alpha),
                    eps: c.eps.unwrap_or(d.eps),
                    weight_decay: c.weight_decay.unwrap_or(d.weight_decay),
                    momentum: c.momentum.unwrap_or(d.momentum),
                    centered: c.centered.unwrap_or(d.centered),
                }))
            }
            "adam" => {
                let d = AdamConfig::default();
                Self::Adam(Adam::new(AdamConfig {
                    lr: c.lr.unwrap_or(d.lr),
                    betas: c.betas.unwrap_or(d.betas),
                    eps: c.eps.unwrap_or(d.eps),
                    weight_decay: c.weight_decay.unwrap_or(d.weight_decay),
                    amsgrad: c.amsgrad.unwrap_or(d.amsgrad),
                }))
            }
            "adamw" => {
                let d = AdamWConfig::default();
                Self::AdamW(AdamW::new(AdamWConfig {
                    lr: c.lr.unwrap_or(d.lr),
                    betas: c.betas.unwrap_or(d.betas),
                    eps: c.eps.unwrap_or(d.eps),
                    weight_decay: c.weight_decay.unwrap_or(d.weight_decay),
                    amsgrad: c.amsgrad.unwrap_or(d.amsgrad),
                }))
            }
            other => panic!("unknown optimizer {other}"),
        }
    }

    fn optimizer(&mut self) -> &mut dyn Optimizer<T, 5, P<T>> {
        match self {
            Self::Sgd(o) => o,
            Self::Adagrad(o) => o,
            Self::RmsProp(o) => o,
            Self::Adam(o) => o,
            Self::AdamW(o) => o,
        }
    }

    fn steps(&self) -> u64 {
        match self {
            Self::Sgd(o) => o.steps(),
            Self::Adagrad(o) => o.steps(),
            Self::RmsProp(o) => o.steps(),
            Self::Adam(o) => o.steps(),
            Self::AdamW(o) => o.steps(),
        }
    }

    /// Every state tensor, under PyTorch's `optimizer.state[p]` key (`None`: not created yet).
    fn state(&self) -> Vec<(&'static str, Option<&P<T>>)> {
        match self {
            Self::Sgd(o) => vec![("momentum_buffer", o.momentum_buffer())],
            Self::Adagrad(o) => vec![("sum", Some(o.state_sum()))],
            Self::RmsProp(o) => vec![
                ("square_avg", Some(o.square_avg())),
                ("momentum_buffer", Some(o.momentum_buffer())),
                ("grad_avg", Some(o.grad_avg())),
            ],
            Self::Adam(o) => vec![
                ("exp_avg", Some(o.exp_avg())),
                ("exp_avg_sq", Some(o.exp_avg_sq())),
                ("max_exp_avg_sq", Some(o.max_exp_avg_sq())),
            ],
            Self::AdamW(o) => vec![
                ("exp_avg", Some(o.exp_avg())),
                ("exp_avg_sq", Some(o.exp_avg_sq())),
                ("max_exp_avg_sq", Some(o.max_exp_avg_sq())),
            ],
        }
    }
}

/// Compares entry by entry (relative, with the normwise floor); returns the worst error.
fn compare_f64(what: &str, got: &P<f64>, want: &P<f64>) -> f64 {
    let mut worst = 0.0_f64;
    for ((g, w), name) in got
        .tensors()
        .iter()
        .zip(want.tensors())
        .zip(P::<f64>::names())
    {
        let scale = w.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        for (j, (&g, &w)) in g.iter().zip(w).enumerate() {
            let denominator = w.abs().max(scale * F64_TOLERANCE).max(f64::MIN_POSITIVE);
            let rel = if g == w {
                0.0
            } else {
                (g - w).abs() / denominator
            };
            assert!(
                rel <= F64_TOLERANCE,
                "{what}: {name}[{j}] = {g:e}, PyTorch says {w:e} (relative error {rel:.2e})"
            );
            worst = worst.max(rel);
        }
    }
    worst
}

/// Compares normwise per tensor, `‖got − want‖∞ ≤ tol · ‖want‖∞`; returns the worst ratio.
fn compare_normwise<T: Real>(what: &str, got: &P<T>, want: &P<f64>, tol: f64) -> f64 {
    let mut worst = 0.0_f64;
    for ((g, w), name) in got
        .tensors()
        .iter()
        .zip(want.tensors())
        .zip(P::<f64>::names())
    {
        let scale = w.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        let error = g
            .iter()
            .zip(w)
            .fold(0.0_f64, |m, (&g, &w)| m.max((to_f64(g) - w).abs()));
        let rel = if scale == 0.0 { error } else { error / scale };
        assert!(
            rel <= tol,
            "{what}: {name} normwise relative error {rel:.2e} > {tol:e}"
        );
        worst = worst.max(rel);
    }
    worst
}

fn cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/optim")
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.ends_with(".json") && name != "clip.json" && name != "defaults.json"
        })
        .collect();
    files.sort();
    files.iter().map(|f| read(f)).collect()
}

#[test]
fn every_optimizer_matches_pytorch_in_f64() {
    let cases = cases();
    assert_eq!(cases.len(), 29, "one fixture per configuration");
    let mut seen = std::collections::BTreeSet::new();
    let mut worst = (0.0_f64, String::new());
    for case in &cases {
        seen.insert(case.optimizer.clone());
        assert!(case.steps.len() >= 5, "{}: too few steps", case.name);
        let mut optimizer = AnyOptimizer::<f64>::new(&case.optimizer, &case.config);
        let mut params = case.initial.to_params::<f64>();
        for (t, step) in case.steps.iter().enumerate() {
            let what = format!("{} step {}", case.name, t + 1);
            optimizer
                .optimizer()
                .step(&mut params, &step.grads.to_params())
                .unwrap();
            assert_eq!(optimizer.steps(), t as u64 + 1, "{what}: step count");
            if let Some(torch_step) = step.step {
                assert_eq!(
                    optimizer.steps(),
                    torch_step,
                    "{what}: PyTorch's step count"
                );
            }
            let err = compare_f64(&format!("{what} params"), &params, &step.params.to_params());
            if err > worst.0 {
                worst = (err, format!("{what} params"));
            }
            for (key, ours) in optimizer.state() {
                match step.state.get(key) {
                    Some(theirs) => {
                        let ours = ours.unwrap_or_else(|| panic!("{what}: no {key}"));
                        let err = compare_f64(&format!("{what} {key}"), ours, &theirs.to_params());
                        if err > worst.0 {
                            worst = (err, format!("{what} {key}"));
                        }
                    }
                    // PyTorch keeps no such tensor in this configuration; ours must be unused.
                    None => assert!(
                        ours.is_none_or(|p| *p == P::zeros()),
                        "{what}: {key} is used, PyTorch has none"
                    ),
                }
            }
            for key in step.state.keys() {
                assert!(
                    optimizer.state().iter().any(|(k, _)| k == key),
                    "{what}: PyTorch keeps {key}, we do not"
                );
            }
        }
    }
    assert_eq!(seen.len(), 5, "all five optimizers: {seen:?}");
    println!("f64: worst relative error {:.2e} ({})", worst.0, worst.1);
}

#[test]
fn every_optimizer_matches_pytorch_in_f32() {
    let mut worst = (0.0_f64, String::new());
    for case in &cases() {
        let mut optimizer = AnyOptimizer::<f32>::new(&case.optimizer, &case.config);
        let mut params = case.initial.to_params::<f32>();
        for (t, step) in case.steps.iter().enumerate() {
            let what = format!("{} step {} (f32)", case.name, t + 1);
            optimizer
                .optimizer()
                .step(&mut params, &step.grads.to_params())
                .unwrap();
            let err = compare_normwise(&what, &params, &step.params.to_params(), F32_TOLERANCE);
            if err > worst.0 {
                worst = (err, what);
            }
        }
    }
    println!("f32: worst normwise error {:.2e} ({})", worst.0, worst.1);
}

#[derive(Deserialize)]
struct Defaults {
    torch: String,
    defaults: BTreeMap<String, Config>,
}

/// Each `…Config::default()` is PyTorch's, as read from the optimizers' signatures.
#[test]
fn defaults_are_pytorchs() {
    let d: Defaults = read(&fixture_dir().join("defaults.json"));
    assert!(!d.torch.is_empty());
    let sgd = &d.defaults["sgd"];
    assert_eq!(
        SgdConfig::default(),
        SgdConfig {
            lr: sgd.lr.unwrap(),
            momentum: sgd.momentum.unwrap(),
            dampening: sgd.dampening.unwrap(),
            weight_decay: sgd.weight_decay.unwrap(),
            nesterov: sgd.nesterov.unwrap(),
        }
    );
    let adagrad = &d.defaults["adagrad"];
    assert_eq!(
        AdagradConfig::default(),
        AdagradConfig {
            lr: adagrad.lr.unwrap(),
            lr_decay: adagrad.lr_decay.unwrap(),
            weight_decay: adagrad.weight_decay.unwrap(),
            initial_accumulator_value: adagrad.initial_accumulator_value.unwrap(),
            eps: adagrad.eps.unwrap(),
        }
    );
    let rmsprop = &d.defaults["rmsprop"];
    assert_eq!(
        RmsPropConfig::default(),
        RmsPropConfig {
            lr: rmsprop.lr.unwrap(),
            alpha: rmsprop.alpha.unwrap(),
            eps: rmsprop.eps.unwrap(),
            weight_decay: rmsprop.weight_decay.unwrap(),
            momentum: rmsprop.momentum.unwrap(),
            centered: rmsprop.centered.unwrap(),
        }
    );
    let adam = &d.defaults["adam"];
    assert_eq!(
        AdamConfig::default(),
        AdamConfig {
            lr: adam.lr.unwrap(),
            betas: adam.betas.unwrap(),
            eps: adam.eps.unwrap(),
            weight_decay: adam.weight_decay.unwrap(),
            amsgrad: adam.amsgrad.unwrap(),
        }
    );
    let adamw = &d.defaults["adamw"];
    assert_eq!(
        AdamWConfig::default(),
        AdamWConfig {
            lr: adamw.lr.unwrap(),
            betas: adamw.betas.unwrap(),
            eps: adamw.eps.unwrap(),
            weight_decay: adamw.weight_decay.unwrap(),
            amsgrad: adamw.amsgrad.unwrap(),
        }
    );
}

#[derive(Deserialize)]
struct ClipCase {
    name: String,
    kind: String,
    max_norm: Option<f64>,
    clip_value: Option<f64>,
    grads: Weights,
    total_norm: Option<f64>,
    clipped: Weights,
}

#[derive(Deserialize)]
struct ClipFixture {
    cases: Vec<ClipCase>,
}

#[test]
fn clipping_matches_pytorch() {
    let fixture: ClipFixture = read(&fixture_dir().join("clip.json"));
    assert!(fixture.cases.len() >= 5);
    for case in &fixture.cases {
        let mut grads = case.grads.to_params::<f64>();
        let want = case.clipped.to_params::<f64>();
        match case.kind.as_str() {
            "norm" => {
                let norm = clip_grad_norm(&mut grads, case.max_norm.unwrap()).unwrap();
                let torch_norm = case.total_norm.unwrap();
                assert_relative_eq!(
                    norm,
                    torch_norm,
                    epsilon = 0.0,
                    max_relative = F64_TOLERANCE
                );
                compare_f64(&case.name, &grads, &want);
            }
            "value" => {
                clip_grad_value(&mut grads, case.clip_value.unwrap()).unwrap();
                assert_eq!(grads, want, "{}: clamping is exact", case.name);
            }
            other => panic!("unknown clip kind {other}"),
        }
    }
}

/// A deterministic, varied gradient: entries of mixed signs and magnitudes up to `scale`.
fn gradient<T: Real>(seed: u32, scale: f64) -> P<T> {
    let mut g = P::<T>::zeros();
    let mut k = 0_u32;
    for tensor in g.tensors_mut() {
        for x in tensor {
            k += 1;
            let u = (f64::from(seed * 97 + k * 31)).sin();
            *x = constant(scale * u * (1.0 + 2.0 * (f64::from(k) * 0.37).cos()));
        }
    }
    g
}

/// `√(Σ g²)` in plain f64 arithmetic, independently of the crate.
fn naive_norm<T: Real>(g: &P<T>) -> f64 {
    g.tensors()
        .iter()
        .flat_map(|t| t.iter())
        .map(|&x| to_f64(x) * to_f64(x))
        .sum::<f64>()
        .sqrt()
}

fn bits(p: &P<f64>) -> Vec<u64> {
    p.tensors()
        .iter()
        .flat_map(|t| t.iter().map(|x| x.to_bits()))
        .collect()
}

#[test]
fn clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before() {
    for seed in 0..20 {
        let original = gradient::<f64>(seed, 3.0);
        let norm_before = naive_norm(&original);
        for max_norm in [0.0, 0.5, 1.0, norm_before * 0.999, norm_before * 2.0, 1e9] {
            let mut grads = original;
            let returned = clip_grad_norm(&mut grads, max_norm).unwrap();
            assert_relative_eq!(returned, norm_before, epsilon = 0.0, max_relative = 1e-14);
            let factor = max_norm / (norm_before + 1e-6);
            if factor < 1.0 {
                // Scaled, in the same direction, to just below max_norm.
                assert_relative_eq!(
                    naive_norm(&grads),
                    norm_before * factor,
                    epsilon = 0.0,
                    max_relative = 1e-14
                );
                assert!(naive_norm(&grads) <= max_norm * (1.0 + 1e-15));
                let mut expected = original;
                expected *= factor;
                assert_relative_eq!(grads, expected, epsilon = 0.0, max_relative = 1e-15);
            } else {
                assert_eq!(bits(&grads), bits(&original), "no clipping below max_norm");
            }
        }
    }
}

#[test]
fn clip_grad_norm_in_f32_neither_overflows_nor_underflows() {
    // Squares of 1e30 overflow f32 and squares of 1e-30 underflow; the norm must still be right.
    for scale in [1e30, 1.0, 1e-30] {
        let mut grads = gradient::<f32>(3, scale);
        let before = naive_norm(&grads); // in f64, where neither happens
        let norm = clip_grad_norm(&mut grads, f32::MAX).unwrap();
        assert_relative_eq!(f64::from(norm), before, epsilon = 0.0, max_relative = 1e-6);
    }
    // Clipping a huge gradient lands at max_norm (the 1e−6 is nothing next to 1e30).
    let mut grads = gradient::<f32>(3, 1e30);
    clip_grad_norm(&mut grads, 1e30).unwrap();
    assert_relative_eq!(naive_norm(&grads), 1e30, epsilon = 0.0, max_relative = 1e-5);
}

#[test]
fn total_norm_is_zero_for_zero_and_non_finite_for_non_finite() {
    assert_eq!(total_norm(&P::<f64>::zeros()), 0.0);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut g = P::<f64>::zeros();
        g.w_y[(1, 2)] = bad;
        assert!(!total_norm(&g).is_finite());
        let mut g = gradient::<f64>(1, 1.0);
        g.b_h[0] = bad;
        assert!(!total_norm(&g).is_finite());
    }
}

#[test]
fn clip_grad_value_bounds_every_entry_and_keeps_the_rest() {
    for seed in 0..20 {
        let original = gradient::<f64>(seed, 8.0);
        for c in [0.0, 0.5, 5.0, 100.0] {
            let mut grads = original;
            clip_grad_value(&mut grads, c).unwrap();
            for (before, after) in original
                .tensors()
                .iter()
                .flat_map(|t| t.iter())
                .zip(grads.tensors().iter().flat_map(|t| t.iter()))
            {
                assert!(after.abs() <= c);
                if before.abs() <= c {
                    assert_eq!(after.to_bits(), before.to_bits());
                } else {
                    assert_eq!(*after, c.copysign(*before));
                }
            }
        }
    }
}

/// A gradient with `bad` at every position in turn: (the gradient, the expected error).
fn poisoned(bad: f64) -> Vec<(P<f64>, NonFiniteGradient)> {
    let mut out = Vec::new();
    let base = gradient::<f64>(7, 2.0);
    for (t, name) in P::<f64>::names().into_iter().enumerate() {
        let len = base.tensors()[t].len();
        for index in [0, len / 2, len - 1] {
            let mut g = base;
            g.tensors_mut()[t][index] = bad;
            out.push((
                g,
                NonFiniteGradient {
                    tensor: name,
                    index,
                },
            ));
        }
    }
    out
}

#[test]
fn clipping_refuses_non_finite_gradients_and_leaves_them_untouched() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for (original, expected) in poisoned(bad) {
            let mut grads = original;
            assert_eq!(clip_grad_norm(&mut grads, 1.0), Err(expected));
            assert_eq!(bits(&grads), bits(&original));
            assert_eq!(clip_grad_value(&mut grads, 1.0), Err(expected));
            assert_eq!(bits(&grads), bits(&original));
        }
    }
}

/// One optimizer of every kind, in configurations that use every state buffer.
fn every_optimizer() -> Vec<(&'static str, AnyOptimizer<f64>)> {
    let c = |json: &str| serde_json::from_str::<Config>(json).unwrap();
    vec![
        ("sgd", AnyOptimizer::new("sgd", &c(r#"{"lr":0.1}"#))),
        (
            "sgd nesterov",
            AnyOptimizer::new(
                "sgd",
                &c(r#"{"lr":0.1,"momentum":0.9,"nesterov":true,"weight_decay":0.1}"#),
            ),
        ),
        (
            "sgd dampening",
            AnyOptimizer::new("sgd", &c(r#"{"lr":0.1,"momentum":0.9,"dampening":0.5}"#)),
        ),
        (
            "adagrad",
            AnyOptimizer::new(
                "adagrad",
                &c(r#"{"lr_decay":0.1,"weight_decay":0.1,"initial_accumulator_value":0.2}"#),
            ),
        ),
        (
            "rmsprop",
            AnyOptimizer::new("rmsprop", &c(r#"{"momentum":0.9,"centered":true}"#)),
        ),
        ("adam", AnyOptimizer::new("adam", &c(r#"{"amsgrad":true}"#))),
        (
            "adamw",
            AnyOptimizer::new("adamw", &c(r#"{"amsgrad":true,"weight_decay":0.1}"#)),
        ),
    ]
}

fn state_bits(o: &AnyOptimizer<f64>) -> Vec<(&'static str, Option<Vec<u64>>)> {
    o.state()
        .into_iter()
        .map(|(key, p)| (key, p.map(bits)))
        .collect()
}

#[test]
fn no_optimizer_applies_a_non_finite_gradient() {
    for (label, mut optimizer) in every_optimizer() {
        let mut params = gradient::<f64>(11, 1.0);
        for seed in 0..3 {
            optimizer
                .optimizer()
                .step(&mut params, &gradient(seed, 1.0))
                .unwrap();
        }
        let state_in_use = state_bits(&optimizer)
            .iter()
            .any(|(_, b)| b.as_ref().is_some_and(|b| b.iter().any(|&x| x != 0)));
        assert_eq!(
            state_in_use,
            label != "sgd",
            "{label}: plain SGD alone keeps no state"
        );
        let untouched = optimizer.clone();
        let params_before = params;
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for (grads, expected) in poisoned(bad) {
                let result = optimizer.optimizer().step(&mut params, &grads);
                assert_eq!(result, Err(expected), "{label}");
                assert_eq!(bits(&params), bits(&params_before), "{label}: parameters");
                assert_eq!(optimizer.steps(), 3, "{label}: step count");
                assert_eq!(
                    state_bits(&optimizer),
                    state_bits(&untouched),
                    "{label}: optimizer state"
                );
            }
        }
        // Nothing hidden changed either: the next finite step is the one it would have been.
        let mut reference = untouched;
        let mut reference_params = params_before;
        let next = gradient::<f64>(5, 1.0);
        reference
            .optimizer()
            .step(&mut reference_params, &next)
            .unwrap();
        optimizer.optimizer().step(&mut params, &next).unwrap();
        assert_eq!(bits(&params), bits(&reference_params), "{label}");
        assert_eq!(state_bits(&optimizer), state_bits(&reference), "{label}");
    }
}

/// Any `Tensors` works: the same 26 scalars split into two tensors instead of five get bit-for-bit
/// the same updates, since every rule is element-wise.
#[test]
fn optimizers_are_generic_over_the_parameter_set() {
    #[derive(Clone, Default, Debug, PartialEq)]
    struct TwoTensors {
        first: [f64; 20],
        second: [f64; 6],
    }
    impl Tensors<f64, 2> for TwoTensors {
        fn names() -> [&'static str; 2] {
            ["first", "second"]
        }
        fn tensors(&self) -> [&[f64]; 2] {
            [&self.first, &self.second]
        }
        fn tensors_mut(&mut self) -> [&mut [f64]; 2] {
            [&mut self.first, &mut self.second]
        }
    }
    let flat = |p: &P<f64>| -> Vec<f64> { p.tensors().iter().flat_map(|t| t.to_vec()).collect() };
    let split = |p: &P<f64>| {
        let v = flat(p);
        TwoTensors {
            first: v[..20].try_into().unwrap(),
            second: v[20..].try_into().unwrap(),
        }
    };
    let config = AdamWConfig {
        lr: 0.05,
        amsgrad: true,
        ..AdamWConfig::default()
    };
    let mut on_params = AdamW::new(config);
    let mut on_two = AdamW::new(config);
    let mut params = gradient::<f64>(2, 1.0);
    let mut two = split(&params);
    for seed in 0..5 {
        let g = gradient(seed + 20, 1.0);
        on_params.step(&mut params, &g).unwrap();
        on_two.step(&mut two, &split(&g)).unwrap();
    }
    assert_eq!(two, split(&params));
    assert_eq!(on_two.exp_avg_sq(), &split(on_params.exp_avg_sq()));
    let mut bad = split(&params);
    bad.second[4] = f64::NAN;
    assert_eq!(
        on_two.step(&mut two, &bad),
        Err(NonFiniteGradient {
            tensor: "second",
            index: 4
        })
    );
}

/// With a gradient that never changes, `v` and `ḡ²` converge to the same `g²`, and rounding leaves
/// `v − ḡ²` at `0` or a few ulps either side: centered RMSprop must not take `√` of a negative.
#[test]
fn centered_rmsprop_survives_a_constant_gradient() {
    let mut rmsprop = RmsProp::new(RmsPropConfig {
        alpha: 0.5,
        centered: true,
        ..RmsPropConfig::default()
    });
    let mut params = P::<f64>::zeros();
    let grads = gradient::<f64>(4, 1.0);
    let mut went_negative = false;
    for _ in 0..100 {
        rmsprop.step(&mut params, &grads).unwrap();
        let v = rmsprop.square_avg().tensors().concat();
        let g = rmsprop.grad_avg().tensors().concat();
        went_negative |= v.iter().zip(&g).any(|(v, g)| v - g * g < 0.0);
        assert!(params.is_finite());
    }
    assert!(
        went_negative,
        "the test should reach v − ḡ² < 0 in rounding"
    );
}

/// A few Adam steps on a real RNN lower its loss.
#[test]
fn adam_lowers_the_loss_of_a_small_rnn() {
    fn run<T: Real>() -> (f64, f64) {
        type Model<T> = Rnn<2, 4, 2, Tanh, Softmax, T>;
        let mut rnn = Model::<T>::new(
            SMatrix::from_fn(|i, j| constant(0.4 * ((i + 3 * j) as f64).sin())),
            SMatrix::from_fn(|i, j| constant(0.3 * ((2 * i + j) as f64).cos())),
            SVector::zeros(),
            SMatrix::from_fn(|i, j| constant(0.5 * ((i + j) as f64 + 1.0).sin())),
            SVector::zeros(),
        );
        // Predict which input was larger, at every step.
        let xs: [SVector<T, 2>; 6] = core::array::from_fn(|t| {
            SVector::from([constant((t as f64).sin()), constant((t as f64 * 1.7).cos())])
        });
        let ys: [SVector<T, 2>; 6] = core::array::from_fn(|t| {
            let first = xs[t][0] > xs[t][1];
            SVector::from([
                constant(if first { 1.0 } else { 0.0 }),
                constant(if first { 0.0 } else { 1.0 }),
            ])
        });
        let h0 = SVector::zeros();
        let initial = rnn.loss(CrossEntropy, &h0, &xs, &ys);
        let mut adam = Adam::new(AdamConfig {
            lr: 0.05,
            ..AdamConfig::default()
        });
        let mut grads = Params::zeros();
        for _ in 0..10 {
            let trace = rnn.forward(&h0, &xs);
            grads.set_zero();
            rnn.backward(CrossEntropy, &xs, &trace, &ys, &mut grads);
            clip_grad_norm(&mut grads, constant(5.0)).unwrap();
            rnn.update(&mut adam, &grads).unwrap();
        }
        let last = rnn.loss(CrossEntropy, &h0, &xs, &ys);
        (to_f64(initial), to_f64(last))
    }
    for (initial, last) in [run::<f64>(), run::<f32>()] {
        assert!(initial.is_finite() && last.is_finite());
        assert!(
            last < 0.5 * initial,
            "10 Adam steps should at least halve the loss: {initial} → {last}"
        );
    }
}

#[test]
#[should_panic(expected = "Invalid learning rate: -0.1")]
fn a_negative_learning_rate_is_refused() {
    let _ = Sgd::<P<f64>>::new(SgdConfig {
        lr: -0.1,
        ..SgdConfig::default()
    });
}

#[test]
#[should_panic(expected = "Nesterov momentum requires a momentum and zero dampening")]
fn nesterov_needs_momentum_and_no_dampening() {
    let _ = Sgd::<P<f64>>::new(SgdConfig {
        momentum: 0.9,
        dampening: 0.1,
        nesterov: true,
        ..SgdConfig::default()
    });
}

#[test]
#[should_panic(expected = "Invalid beta parameter at index 1: 1")]
fn a_beta_of_one_is_refused() {
    let _ = Adam::<P<f64>>::new(AdamConfig {
        betas: (0.9, 1.0),
        ..AdamConfig::default()
    });
}

#[test]
#[should_panic(expected = "Invalid epsilon value: 0")]
fn a_zero_epsilon_is_refused() {
    let _ = Adagrad::<P<f64>>::new(AdagradConfig {
        eps: 0.0,
        ..AdagradConfig::default()
    });
}

#[test]
#[should_panic(expected = "Invalid alpha value: 1.5")]
fn an_alpha_above_one_is_refused() {
    let _ = RmsProp::<P<f64>>::new(RmsPropConfig {
        alpha: 1.5,
        ..RmsPropConfig::default()
    });
}

#[test]
#[should_panic(expected = "Invalid learning rate")]
fn a_learning_rate_made_negative_later_is_refused_at_the_next_step() {
    let mut adam = AdamW::<P<f64>>::default();
    adam.config.lr = -1.0;
    let _ = adam.step(&mut P::zeros(), &P::zeros());
}

#[test]
#[should_panic(expected = "the maximum norm must be ≥ 0")]
fn a_negative_max_norm_is_refused() {
    let _ = clip_grad_norm(&mut P::<f64>::zeros(), -1.0);
}
