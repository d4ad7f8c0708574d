//! Next-value regression: a sine wave of unknown frequency and phase, one sample at a time; at each
//! step the network predicts the next sample. Identity output, mean squared error.
//!
//! ```text
//! cargo run --release --example sine            # about 10 s
//! cargo run --release --example sine -- --quick # a second
//! ```
//!
//! Every sequence is `x_t = sin(2π t / P + φ)` with a period `P` drawn from 12 to 40 steps and a
//! phase `φ` from `[0, 2π)`, so the network has to infer the frequency from what it has seen
//! before it can predict well. `Rnn<1, 32, 1, Tanh, Identity>` is trained on fresh minibatches
//! of 96-step waves with `Mse` (the canonical loss of the `Identity` output), Adam and
//! gradient-norm clipping; the training inputs carry Gaussian noise (`σ = 0.2`, the targets are
//! clean), so the network learns to correct small errors in its input.
//!
//! The example then reports, over 256 held-out waves, the one-step-ahead error against the naive
//! forecast `x̂_(t+1) = x_t`, and the error when the model runs free after 96 steps (its own
//! prediction fed back as the next input, so small phase errors accumulate); it prints one wave
//! step by step and plots it, truth, one-step predictions and free run, to
//! `target/examples/sine.svg`.

mod common;

use clap::Parser;
use common::{Series, line_chart, output_path, progress_bar};
use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::rand_core::SeedableRng;
use static_rnn::random::{standard_normal_pair, uniform01};
use static_rnn::{
    Adam, AdamConfig, Identity, Mse, Params, Rnn, SMatrix, SVector, Stateful, Tanh, clip_grad_norm,
};
use std::f64::consts::TAU;
use std::time::Instant;

/// Hidden units.
const H: usize = 32;
/// Steps per training sequence.
const STEPS: usize = 96;
/// Sequences per minibatch.
const B: usize = 32;
/// Free-running steps over which the early error is reported.
const EARLY: usize = 24;
/// The standard deviation of the noise added to the training inputs (not to the targets).
const INPUT_NOISE: f64 = 0.2;
/// Shortest and longest period, in steps.
const PERIODS: (f64, f64) = (12.0, 40.0);

type Model = Rnn<1, H, 1, Tanh, Identity>;

#[derive(Parser)]
#[command(about = "Next-value regression on sine waves: Identity output, Mse")]
struct Args {
    /// Training steps (one minibatch of 32 fresh waves each).
    #[arg(long, default_value_t = 3_000)]
    steps: usize,
    /// Seed of the weights, the training waves and the held-out wave.
    #[arg(long, default_value_t = 3)]
    seed: u64,
    /// A short run for CI: 100 steps.
    #[arg(long)]
    quick: bool,
}

/// A wave: `x_t = sin(2π t / P + φ)`.
#[derive(Clone, Copy)]
struct Wave {
    period: f64,
    phase: f64,
}

impl Wave {
    fn random(rng: &mut Pcg64Mcg) -> Self {
        Self {
            period: PERIODS.0 + (PERIODS.1 - PERIODS.0) * uniform01(rng),
            phase: TAU * uniform01(rng),
        }
    }

    fn at(self, t: usize) -> f64 {
        (TAU * t as f64 / self.period + self.phase).sin()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let steps = if args.quick { 100 } else { args.steps };
    let mut rng = Pcg64Mcg::seed_from_u64(args.seed);
    let mut rnn = Model::init(&mut rng, Scheme::keras());
    let mut adam = Adam::new(AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    });
    let mut grads = Params::zeros();
    let validation: Vec<Wave> = (0..256).map(|_| Wave::random(&mut rng)).collect();
    println!(
        "sine waves, periods {}–{} steps, random phase; predict x_(t+1) from x_1 … x_t; \
         H = {H}, {steps} steps of {B} waves of {STEPS} samples, seed {}",
        PERIODS.0, PERIODS.1, args.seed
    );

    let bar = progress_bar(steps as u64, "sine", "steps");
    let start = Instant::now();
    for step in 1..=steps {
        let waves: [Wave; B] = core::array::from_fn(|_| Wave::random(&mut rng));
        // Noisy inputs, clean targets: the network learns to correct small errors in what it
        // is fed, which its own predictions will have when it runs free.
        let xs: [SMatrix<f32, 1, B>; STEPS] = core::array::from_fn(|t| {
            SMatrix::from_fn(|_, b| {
                let noise = INPUT_NOISE * standard_normal_pair(&mut rng).0;
                (waves[b].at(t) + noise) as f32
            })
        });
        let ys: [SMatrix<f32, 1, B>; STEPS] =
            core::array::from_fn(|t| SMatrix::from_fn(|_, b| waves[b].at(t + 1) as f32));
        let trace = rnn.batch_forward(&SMatrix::zeros(), &xs);
        grads.set_zero();
        let summary = rnn.batch_backward_mean(Mse, &xs, &trace, &ys, &mut grads);
        clip_grad_norm(&mut grads, 1.0)?;
        rnn.update(&mut adam, &grads)?;
        if step % 50 == 0 {
            let mse = f64::from(summary.loss) / STEPS as f64;
            bar.set_message(format!("MSE {mse:.2e}"));
            bar.set_position(step as u64);
        }
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    // Held-out waves: one-step MSE against the naive forecast's, and the free-running error.
    let (mut model_se, mut naive_se, mut free_se_early, mut free_se) = (0.0, 0.0, 0.0, 0.0);
    for &wave in &validation {
        let (one_step, free) = run(&rnn, wave);
        for (t, prediction) in one_step.iter().enumerate() {
            model_se += (prediction - wave.at(t + 1)).powi(2);
            naive_se += (wave.at(t) - wave.at(t + 1)).powi(2);
        }
        for (k, prediction) in free.iter().enumerate() {
            let error = (prediction - wave.at(STEPS + 1 + k)).powi(2);
            free_se += error;
            if k < EARLY {
                free_se_early += error;
            }
        }
    }
    let waves = validation.len() as f64;
    let count = waves * STEPS as f64;
    println!(
        "trained in {seconds:.1} s; over {} held-out waves:\n  one step ahead: MSE per step \
         {:.2e} (the naive forecast x̂_(t+1) = x_t: {:.2e})\n  free-running after step {STEPS}: \
         RMS error {:.3} over the first {EARLY} steps, {:.3} over {STEPS} steps \
         (a wave itself has RMS {:.3})",
        validation.len(),
        model_se / count,
        naive_se / count,
        (free_se_early / (waves * EARLY as f64)).sqrt(),
        (free_se / count).sqrt(),
        0.5_f64.sqrt()
    );

    // One held-out wave, step by step.
    let wave = validation[0];
    let (one_step, free) = run(&rnn, wave);
    println!(
        "\none held-out wave, period {:.1} steps: prediction of x_(t+1) after seeing x_1 … x_t",
        wave.period
    );
    println!(
        "{:>4} {:>9} {:>11} {:>11} {:>10}",
        "t", "x_t", "x_(t+1)", "predicted", "error"
    );
    for (t, &prediction) in one_step.iter().enumerate() {
        if t < 8 || t % 8 == 7 {
            let truth = wave.at(t + 1);
            println!(
                "{t:>4} {:>+9.4} {truth:>+11.4} {prediction:>+11.4} {:>+10.4}",
                wave.at(t),
                prediction - truth
            );
        }
    }
    let one_step = (1..)
        .zip(one_step)
        .map(|(t, x)| (f64::from(t), x))
        .collect();
    let free = (STEPS as u32 + 1..)
        .zip(free)
        .map(|(t, x)| (f64::from(t), x))
        .collect();
    let truth = (0..=2 * STEPS).map(|t| (t as f64, wave.at(t))).collect();
    let path = output_path("sine.svg");
    line_chart(
        &path,
        &format!(
            "Held-out sine wave (period {:.1} steps): next-value predictions",
            wave.period
        ),
        ("step t", "x_t"),
        &[
            Series {
                label: "truth".into(),
                points: truth,
                colour: 3,
                dashed: false,
            },
            Series {
                label: "one step ahead, from the true x_1 … x_t".into(),
                points: one_step,
                colour: 0,
                dashed: true,
            },
            Series {
                label: "free-running, from its own predictions".into(),
                points: free,
                colour: 1,
                dashed: true,
            },
        ],
        false,
    )?;
    println!("plot: {}", path.display());
    Ok(())
}

/// The model on `wave`: its predictions of `x_(t+1)` from the true `x_1 … x_t` for the first
/// `STEPS` steps, then `STEPS` more predictions running free, each fed its own last prediction.
fn run(rnn: &Model, wave: Wave) -> (Vec<f64>, Vec<f64>) {
    let mut live = Stateful::new(rnn);
    let one_step: Vec<f64> = (0..STEPS)
        .map(|t| f64::from(live.step(&input(wave.at(t)))[0]))
        .collect();
    let mut last = *one_step.last().expect("at least one step");
    let free = (0..STEPS)
        .map(|_| {
            last = f64::from(live.step(&input(last))[0]);
            last
        })
        .collect();
    (one_step, free)
}

/// The one-input vector `(x)`.
fn input(x: f64) -> SVector<f32, 1> {
    SVector::from([x as f32])
}
