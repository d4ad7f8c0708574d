//! Every row of the gradient table for a tiny network: the analytic value BPTT computes beside a
//! central finite difference, and their relative error. The page to hold next to the equations,
//! in the order of the table in `static_rnn::gradient_table`: `∂L_t/∂ŷ_t`, `δa_t`, `∂L/∂W_y`,
//! `∂L/∂b_y`, `∂L/∂h_t`, `δz_t`, `∂L/∂W_x`, `∂L/∂W_h`, `∂L/∂b_h`, `∂L/∂h_0`. It takes well under a
//! second, so it has no short mode.
//!
//! ```text
//! cargo run --release --example gradient_table
//! ```
//!
//! The network: I = 2 inputs, H = 3 tanh hidden units, O = 2 softmax outputs, cross-entropy
//! against a target at each of T = 4 steps, in f64.

use static_rnn::{
    CrossEntropy, HiddenActivation, Loss, OutputActivation, Rnn, SMatrix, SVector, Softmax, Tanh,
    Tensors,
};

const I: usize = 2;
const H: usize = 3;
const O: usize = 2;
const T: usize = 4;
const EPS: f64 = 1e-6;

type Model = Rnn<I, H, O, Tanh, Softmax, f64>;

fn main() {
    let rnn = Model::new(
        SMatrix::from_row_slice(&[0.5, -0.3, 0.8, 0.1, -0.6, 0.4]),
        SMatrix::from_row_slice(&[0.2, -0.4, 0.1, 0.3, 0.1, -0.2, -0.1, 0.5, 0.2]),
        SVector::from([0.05, -0.1, 0.02]),
        SMatrix::from_row_slice(&[0.7, -0.5, 0.3, -0.2, 0.6, 0.4]),
        SVector::from([0.1, -0.1]),
    );
    let h0 = SVector::from([0.1, -0.2, 0.05]);
    let xs: [SVector<f64, I>; T] =
        [[1.0, 0.0], [0.0, 1.0], [0.5, -0.5], [-1.0, 0.25]].map(SVector::from);
    let ys: [SVector<f64, O>; T] =
        [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]].map(SVector::from);

    let grads = rnn.gradients(CrossEntropy, &h0, &xs, &ys);
    let loss_of = |m: &Model, h0: &SVector<f64, H>| m.loss(CrossEntropy, h0, &xs, &ys);
    println!(
        "L = {:.12}   (tanh hidden, softmax output, cross-entropy, T = {T})",
        grads.loss
    );
    println!(
        "central differences with ε = {EPS:e}; rel = |analytic − numerical| / max(|analytic|, |numerical|)\n"
    );
    let mut worst = 0.0_f64;
    let mut row = |name: String, analytic: f64, numerical: f64| {
        let scale = analytic.abs().max(numerical.abs());
        let rel = if scale == 0.0 {
            0.0
        } else {
            (analytic - numerical).abs() / scale
        };
        worst = worst.max(rel);
        println!("  {name:<16} {analytic:>+16.10} {numerical:>+16.10} {rel:>10.1e}");
    };

    // The rows in the order of the table in `static_rnn::gradient_table`. Each numerical value
    // perturbs one quantity by ±ε and recomputes L; matrices are listed column-major.
    let names = ["W_x", "W_h", "b_h", "W_y", "b_y"];
    let formulas = [
        "Σ_t δz_t x_tᵀ",
        "Σ_t δz_t h_{t−1}ᵀ",
        "Σ_t δz_t",
        "Σ_t δa_t h_tᵀ",
        "Σ_t δa_t",
    ];
    let rows = [H, H, H, O, O];
    let parameter_rows = |k: usize, row: &mut dyn FnMut(String, f64, f64)| {
        header(&format!("∂L/∂{}", names[k]), formulas[k]);
        for (j, &analytic) in grads.params.tensors()[k].iter().enumerate() {
            let numerical = central_difference(|e| {
                let mut m = rnn;
                m.params.tensors_mut()[k][j] += e;
                loss_of(&m, &h0)
            });
            let entry = format!("∂L/∂{}[{},{}]", names[k], j % rows[k], j / rows[k]);
            row(entry, analytic, numerical);
        }
    };

    // ∂L_t/∂ŷ_t: the per-step loss as a function of the output.
    header("∂L_t/∂ŷ_t", "−y_t ⊘ ŷ_t   (cross-entropy)");
    let trace = rnn.forward(&h0, &xs);
    for (t, ((step, y), backward)) in trace.steps.iter().zip(&ys).zip(&grads.steps).enumerate() {
        for k in 0..O {
            let numerical = central_difference(|e| {
                let mut y_hat = step.y_hat;
                y_hat[k] += e;
                CrossEntropy::loss(&y_hat, y)
            });
            let entry = format!("∂L_{}/∂ŷ_{}[{k}]", t + 1, t + 1);
            row(entry, backward.dl_dy_hat[k], numerical);
        }
    }

    // δa_t and, below, ∂L/∂h_t and δz_t: nudge the quantity at step t as the forward pass
    // computes it; everything after it sees the change.
    header(
        "δa_t = ∂L/∂a_t",
        "J_g(a_t)ᵀ ∂L_t/∂ŷ_t = ŷ_t − y_t   (softmax + cross-entropy, fused)",
    );
    nudged_rows(&rnn, &h0, &xs, &ys, Nudge::Logits, &mut row, |t| {
        grads.steps[t].dl_da
    });
    parameter_rows(3, &mut row);
    parameter_rows(4, &mut row);
    header("∂L/∂h_t", "W_yᵀ δa_t + W_hᵀ δz_{t+1}   (δz_{T+1} = 0)");
    nudged_rows(&rnn, &h0, &xs, &ys, Nudge::State, &mut row, |t| {
        grads.steps[t].dl_dh
    });
    header(
        "δz_t = ∂L/∂z_t",
        "f′(z_t) ⊙ ∂L/∂h_t = (1 − h_t²) ⊙ ∂L/∂h_t   (tanh)",
    );
    nudged_rows(&rnn, &h0, &xs, &ys, Nudge::PreActivation, &mut row, |t| {
        grads.steps[t].dl_dz
    });
    parameter_rows(0, &mut row);
    parameter_rows(1, &mut row);
    parameter_rows(2, &mut row);

    header("∂L/∂h_0", "W_hᵀ δz_1");
    for i in 0..H {
        let numerical = central_difference(|e| {
            let mut nudged = h0;
            nudged[i] += e;
            loss_of(&rnn, &nudged)
        });
        row(format!("∂L/∂h_0[{i}]"), grads.dl_dh0[i], numerical);
    }

    println!("\nworst relative error over every row: {worst:.1e}");
    assert!(worst < 1e-6, "a row disagrees with its finite difference");
}

fn header(name: &str, formula: &str) {
    println!("{name} = {formula}");
    println!(
        "  {:<16} {:>16} {:>16} {:>10}",
        "entry", "analytic", "numerical", "rel"
    );
}

/// `(L(+ε) − L(−ε)) / 2ε`.
fn central_difference(mut loss: impl FnMut(f64) -> f64) -> f64 {
    (loss(EPS) - loss(-EPS)) / (2.0 * EPS)
}

/// Which quantity of a step [`loss_nudged`] perturbs.
#[derive(Clone, Copy, PartialEq)]
enum Nudge {
    /// The pre-activation `z_t`, before `h_t = tanh(z_t)`.
    PreActivation,
    /// The state `h_t`, after it is computed.
    State,
    /// The logits `a_t`, before `ŷ_t = softmax(a_t)`.
    Logits,
}

/// A row per component of the nudged quantity at every step: the analytic `analytic(t)` beside
/// the central difference of [`loss_nudged`].
fn nudged_rows<const N: usize>(
    rnn: &Model,
    h0: &SVector<f64, H>,
    xs: &[SVector<f64, I>],
    ys: &[SVector<f64, O>],
    nudge: Nudge,
    row: &mut dyn FnMut(String, f64, f64),
    analytic: impl Fn(usize) -> SVector<f64, N>,
) {
    let symbol = match nudge {
        Nudge::PreActivation => "δz",
        Nudge::State => "∂L/∂h",
        Nudge::Logits => "δa",
    };
    for t in 0..T {
        let values = analytic(t);
        for i in 0..N {
            let numerical = central_difference(|e| loss_nudged(rnn, h0, xs, ys, (nudge, t, i, e)));
            row(format!("{symbol}_{}[{i}]", t + 1), values[i], numerical);
        }
    }
}

/// The loss with `e` added to component `i` of the `nudge`d quantity of step `t` (0-based) as the
/// forward pass computes it, so that the rest of step `t` and every later step see the change.
fn loss_nudged(
    rnn: &Model,
    h0: &SVector<f64, H>,
    xs: &[SVector<f64, I>],
    ys: &[SVector<f64, O>],
    (nudge, t, i, e): (Nudge, usize, usize, f64),
) -> f64 {
    let here = |s: usize, n: Nudge| s == t && nudge == n;
    let mut h = *h0;
    let mut total = 0.0;
    for (s, (x, y)) in xs.iter().zip(ys).enumerate() {
        let mut z = rnn.pre_activation(&h, x);
        if here(s, Nudge::PreActivation) {
            z[i] += e;
        }
        h = <Tanh as HiddenActivation<f64>>::forward(&z);
        if here(s, Nudge::State) {
            h[i] += e;
        }
        let mut a = rnn.logits(&h);
        if here(s, Nudge::Logits) {
            a[i] += e;
        }
        let y_hat = <Softmax as OutputActivation<f64>>::forward(&a);
        total += CrossEntropy::loss(&y_hat, y);
    }
    total
}
