//! What the firmware computes, as plain `no_std` Rust over static-rnn: the model's type, the task,
//! streaming inference and training.
//!
//! Three programs compile this one file: the firmware (`src/main.rs`, on the Cortex-M4F), the host
//! reference (`tools/firmware-reference`, on x86-64, which writes `src/model.rs` and
//! `expected.txt`) and the library's test `tests/firmware.rs`. Everything the firmware reports
//! is an [`Event`], printed by its `Display`, so the same bits give the same text on every side.
//!
//! The task is next-step prediction of a sine wave, `x_t = A sin(2π t / period + φ)` with target
//! `y_t = x_{t+1}`: a sine obeys `x_{t+1} = 2 cos(2π / period) x_t − x_{t−1}`, so the model has to
//! remember the previous sample. The host pre-trains on one period ([`HOST_TASK`]); the device runs
//! that model, then re-trains it for another period ([`DEVICE_TASK`]), as a sensor's drift would
//! demand.

use core::fmt;
use static_rnn::nalgebra::ComplexField;
use static_rnn::{
    Adam, AdamConfig, Identity, Mse, NonFiniteGradient, Params, Rnn, SVector, Tanh, clip_grad_norm,
};

/// Inputs per step.
pub const INPUTS: usize = 1;
/// Hidden units.
pub const HIDDEN: usize = 16;
/// Outputs per step.
pub const OUTPUTS: usize = 1;

/// The firmware's model: tanh hidden layer, linear output, single precision.
pub type Model = Rnn<INPUTS, HIDDEN, OUTPUTS, Tanh, Identity, f32>;
/// Its gradient (and each of Adam's moments).
pub type Grads = Params<INPUTS, HIDDEN, OUTPUTS, f32>;
/// One input or target vector.
pub type Sample = SVector<f32, 1>;
/// The targets of a sequence: none during the [`WARM_UP`], then the next sample.
pub type SequenceTargets = [Option<Sample>; SEQUENCE];

/// The seed of the host's initialization (`Scheme::keras()` from `Pcg64Mcg`).
pub const SEED: u64 = 2026;
/// Training steps on the host before export.
pub const HOST_STEPS: usize = 1000;
/// Training steps on the device.
pub const DEVICE_STEPS: usize = 100;
/// Steps of each training sequence: the length BPTT runs through.
pub const SEQUENCE: usize = 24;
/// The first steps of a sequence are not scored: from `h_0 = 0` and one sample, the model cannot
/// tell a rising sine from a falling one.
pub const WARM_UP: usize = 2;
/// Steps of streaming inference the device reports.
pub const INFERENCE_STEPS: usize = 24;
/// Training steps between two evaluations.
pub const EVALUATE_EVERY: usize = 10;
/// The phase of the held-out evaluation sequence (no training sequence has it).
pub const EVALUATION_PHASE: f32 = 0.5;
/// Gradients are clipped to this global L2 norm (`clip_grad_norm`).
pub const MAX_GRAD_NORM: f32 = 1.0;
/// Adam, PyTorch's defaults but `lr = 0.01`.
pub const ADAM: AdamConfig = AdamConfig {
    lr: 0.01,
    betas: (0.9, 0.999),
    eps: 1e-8,
    weight_decay: 0.0,
    amsgrad: false,
};

/// The device's training must bring the held-out loss (`Mse`, summed over the scored steps)
/// below this, or the firmware fails.
pub const LOSS_THRESHOLD: f32 = 1e-3;

/// The provenance written into `src/model.rs`.
pub const PROVENANCE: &str = "\
The firmware's model (firmware/src/scenario.rs): an Rnn<1, 16, 1, Tanh, Identity, f32>,
`Scheme::keras()` from `Pcg64Mcg::seed_from_u64(SEED)`, trained on the host by `train` for
HOST_STEPS steps on HOST_TASK (next-step prediction of a sine of period 20), with libm's math.
Regenerate: cargo run --manifest-path tools/firmware-reference/Cargo.toml";

/// A sine wave sampled once per step: `x_t = A sin(2π t / period + φ)`, `A = 0.8`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sine {
    /// Steps per cycle.
    pub period: f32,
}

/// The host's task: period 20 steps.
pub const HOST_TASK: Sine = Sine { period: 20.0 };
/// The device's task: period 12 steps.
pub const DEVICE_TASK: Sine = Sine { period: 12.0 };

const AMPLITUDE: f32 = 0.8;
const TAU: f32 = 2.0 * core::f32::consts::PI;

impl Sine {
    /// `x_t` at phase `phase` (libm's `sinf` through nalgebra, on every side).
    pub fn sample(self, t: usize, phase: f32) -> f32 {
        AMPLITUDE * ComplexField::sin(TAU / self.period * t as f32 + phase)
    }

    /// One training sequence: inputs `x_0 … x_{S−1}`, targets `x_{t+1}` from `t = WARM_UP` on.
    pub fn sequence(self, phase: f32) -> ([Sample; SEQUENCE], SequenceTargets) {
        let xs = core::array::from_fn(|t| Sample::from([self.sample(t, phase)]));
        let ys = core::array::from_fn(|t| {
            (t >= WARM_UP).then(|| Sample::from([self.sample(t + 1, phase)]))
        });
        (xs, ys)
    }
}

/// The phase of training sequence `k`: `2π · ((37 k) mod 100) / 100`, a walk around the circle
/// that visits 100 phases, none of them [`EVALUATION_PHASE`].
pub fn training_phase(k: usize) -> f32 {
    TAU * ((37 * k) % 100) as f32 / 100.0
}

/// One thing the firmware reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// Streaming inference: input and output of step `t`.
    Inference {
        /// The step.
        t: usize,
        /// `x_t`.
        x: f32,
        /// `ŷ_t`, the predicted `x_{t+1}`.
        y_hat: f32,
    },
    /// The loss of the held-out sequence after `step` training steps.
    Evaluation {
        /// Training steps so far.
        step: usize,
        /// `Σ_t (ŷ_t − y_t)²` over the scored steps.
        loss: f32,
    },
    /// One training step: the loss of its sequence and the gradient's norm before clipping.
    Training {
        /// The step, from 0.
        step: usize,
        /// The training sequence's loss before the update.
        loss: f32,
        /// `‖∂L/∂θ‖` before clipping.
        grad_norm: f32,
    },
}

/// `0x3f800000 (1.0)`: the bits, then the shortest decimal that reads back to them.
struct Exact(f32);

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x} ({:?})", self.0.to_bits(), self.0)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Event::Inference { t, x, y_hat } => {
                write!(f, "infer t={t:2} x={} y_hat={}", Exact(x), Exact(y_hat))
            }
            Event::Evaluation { step, loss } => {
                write!(f, "eval  step={step:2} loss={}", Exact(loss))
            }
            Event::Training {
                step,
                loss,
                grad_norm,
            } => write!(
                f,
                "train step={step:2} loss={} grad_norm={}",
                Exact(loss),
                Exact(grad_norm)
            ),
        }
    }
}

/// Streaming inference on [`HOST_TASK`] from `h_0 = 0`: `(h_t, ŷ_t) = step(h_{t−1}, x_t)`,
/// one [`Event::Inference`] per step. Nothing is recorded.
pub fn infer(model: &Model, emit: &mut impl FnMut(Event)) {
    let mut h = SVector::zeros();
    for t in 0..INFERENCE_STEPS {
        let x = Sample::from([HOST_TASK.sample(t, 0.0)]);
        let (h_next, y_hat) = model.step(&h, &x);
        h = h_next;
        emit(Event::Inference {
            t,
            x: x[0],
            y_hat: y_hat[0],
        });
    }
}

/// `steps` steps of training on `task`: forward into an array trace, BPTT, `clip_grad_norm`,
/// Adam. Emits the held-out loss every [`EVALUATE_EVERY`] steps (and before the first) and each
/// step's loss; returns the last held-out loss.
///
/// # Errors
///
/// A non-finite gradient, which neither clipping nor Adam applies.
pub fn train(
    model: &mut Model,
    adam: &mut Adam<Grads>,
    grads: &mut Grads,
    task: Sine,
    steps: usize,
    emit: &mut impl FnMut(Event),
) -> Result<f32, NonFiniteGradient> {
    let h0 = SVector::zeros();
    let (eval_xs, eval_ys) = task.sequence(EVALUATION_PHASE);
    let mut loss = model.loss(Mse, &h0, &eval_xs, &eval_ys);
    emit(Event::Evaluation { step: 0, loss });
    for step in 0..steps {
        let (xs, ys) = task.sequence(training_phase(step));
        let trace = model.forward(&h0, &xs); // SEQUENCE ForwardSteps, on the stack
        grads.set_zero();
        let summary = model.backward(Mse, &xs, &trace, &ys, grads);
        let grad_norm = clip_grad_norm(grads, MAX_GRAD_NORM)?;
        model.update(adam, grads)?;
        emit(Event::Training {
            step,
            loss: summary.loss,
            grad_norm,
        });
        if (step + 1) % EVALUATE_EVERY == 0 {
            loss = model.loss(Mse, &h0, &eval_xs, &eval_ys);
            emit(Event::Evaluation {
                step: step + 1,
                loss,
            });
        }
    }
    Ok(loss)
}

/// The firmware's work on the exported `model`: [`infer`], then [`DEVICE_STEPS`] steps of
/// [`train`] on [`DEVICE_TASK`] with a fresh Adam. Returns the held-out loss before and after.
///
/// # Errors
///
/// As [`train`].
pub fn run(model: &Model, emit: &mut impl FnMut(Event)) -> Result<(f32, f32), NonFiniteGradient> {
    infer(model, emit);
    let mut tuned = *model;
    let mut adam = Adam::new(ADAM);
    let mut grads = Grads::zeros();
    let h0 = SVector::zeros();
    let (eval_xs, eval_ys) = DEVICE_TASK.sequence(EVALUATION_PHASE);
    let before = model.loss(Mse, &h0, &eval_xs, &eval_ys);
    let after = train(
        &mut tuned,
        &mut adam,
        &mut grads,
        DEVICE_TASK,
        DEVICE_STEPS,
        emit,
    )?;
    Ok((before, after))
}
