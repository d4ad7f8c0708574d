//! Many-to-one: read a whole noisy signal, then say what shape of wave it is. The target is at
//! the last step only (`LastStep`); accuracy is measured on held-out sequences.
//!
//! ```text
//! cargo run --release --example sequence_classification            # about 5 s
//! cargo run --release --example sequence_classification -- --quick # a second
//! ```
//!
//! Each sequence is `STEPS` samples of a sine, a square or a sawtooth wave with a random period
//! (8 to 24 steps), phase and amplitude (0.5 to 1.5), plus Gaussian noise (`σ = 0.3`). The model
//! `Rnn<1, 24, 3, Tanh, Softmax>` sees one sample per step and is scored, with cross-entropy,
//! only on its output after the last one: `L = −ln ŷ_T[class]`. Each minibatch sums
//! `Rnn::backward` over its sequences into one gradient, which is then averaged, clipped and
//! applied by Adam. The example prints the held-out accuracy, a confusion matrix, and writes the
//! loss curves to `target/examples/sequence_classification.svg`.

mod common;

use clap::Parser;
use common::{Series, line_chart, output_path, progress_bar};
use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::rand_core::SeedableRng;
use static_rnn::random::{standard_normal_pair, uniform01};
use static_rnn::{
    Adam, AdamConfig, CrossEntropy, LastStep, Params, Rnn, SVector, Softmax, Tanh, clip_grad_norm,
};
use std::f64::consts::TAU;
use std::time::Instant;

/// Hidden units.
const H: usize = 24;
/// Samples per sequence.
const STEPS: usize = 40;
/// Sequences per minibatch.
const BATCH: usize = 16;
/// The classes, in the order of the outputs.
const CLASSES: [&str; 3] = ["sine", "square", "sawtooth"];
/// The standard deviation of the noise on every sample.
const NOISE: f64 = 0.3;

type Model = Rnn<1, H, 3, Tanh, Softmax>;

#[derive(Parser)]
#[command(about = "Many-to-one classification of noisy waveforms, scored at the last step")]
struct Args {
    /// Passes over the training set.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Seed of the data and of the initial weights.
    #[arg(long, default_value_t = 5)]
    seed: u64,
    /// A short run for CI: 2 epochs.
    #[arg(long)]
    quick: bool,
}

/// A sequence and its class.
struct Example {
    xs: [SVector<f32, 1>; STEPS],
    class: usize,
}

impl Example {
    fn random(rng: &mut Pcg64Mcg) -> Self {
        let class = (uniform01(rng) * CLASSES.len() as f64) as usize;
        let period = 8.0 + 16.0 * uniform01(rng);
        let phase = uniform01(rng);
        let amplitude = 0.5 + uniform01(rng);
        let xs = core::array::from_fn(|t| {
            let cycle = (t as f64 / period + phase).fract(); // position in the period, [0, 1)
            let shape = match class {
                0 => (TAU * cycle).sin(),
                1 => {
                    if cycle < 0.5 {
                        1.0
                    } else {
                        -1.0
                    }
                }
                _ => 2.0 * cycle - 1.0,
            };
            let noise = NOISE * standard_normal_pair(rng).0;
            SVector::from([(amplitude * shape + noise) as f32])
        });
        Self { xs, class }
    }

    /// The target: the one-hot distribution of the class, at the last step only.
    fn target(&self) -> LastStep<f32, 3> {
        LastStep(SVector::from_fn(|k, _| {
            f32::from(u8::from(k == self.class))
        }))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let epochs = if args.quick { 2 } else { args.epochs };
    let mut rng = Pcg64Mcg::seed_from_u64(args.seed);
    let train_set: Vec<Example> = (0..1600).map(|_| Example::random(&mut rng)).collect();
    let held_out: Vec<Example> = (0..800).map(|_| Example::random(&mut rng)).collect();
    println!(
        "{} vs {} vs {}: {STEPS} noisy samples (σ = {NOISE}), random period, phase and amplitude; \
         H = {H}, {} training and {} held-out sequences, {epochs} epochs, seed {}",
        CLASSES[0],
        CLASSES[1],
        CLASSES[2],
        train_set.len(),
        held_out.len(),
        args.seed
    );

    let mut rnn = Model::init(&mut rng, Scheme::keras());
    let mut adam = Adam::new(AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    });
    let mut grads = Params::zeros();
    let h0 = SVector::zeros();
    let mut curve = Vec::new();
    let bar = progress_bar(epochs as u64, "classify", "epochs");
    let start = Instant::now();
    for epoch in 1..=epochs {
        for batch in train_set.chunks(BATCH) {
            grads.set_zero();
            for example in batch {
                let trace = rnn.forward(&h0, &example.xs);
                // Many-to-one: only the last step is scored. `backward` adds to `grads`.
                rnn.backward(
                    CrossEntropy,
                    &example.xs,
                    &trace,
                    &example.target(),
                    &mut grads,
                );
            }
            grads *= 1.0 / batch.len() as f32; // the mean over the minibatch
            clip_grad_norm(&mut grads, 5.0)?;
            rnn.update(&mut adam, &grads)?;
        }
        let (train_loss, _) = evaluate(&rnn, &train_set);
        let (held_out_loss, accuracy) = evaluate(&rnn, &held_out);
        curve.push((epoch as f64, train_loss, held_out_loss));
        bar.set_message(format!("held-out accuracy {:.1} %", 100.0 * accuracy));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let (train_loss, train_accuracy) = evaluate(&rnn, &train_set);
    let (held_out_loss, accuracy) = evaluate(&rnn, &held_out);
    println!(
        "trained in {seconds:.1} s; cross-entropy per sequence: training {train_loss:.3}, \
         held-out {held_out_loss:.3} (chance ln 3 = {:.3})",
        3f64.ln()
    );
    println!(
        "accuracy: training {:.1} %, held-out {:.1} % (chance 33.3 %)",
        100.0 * train_accuracy,
        100.0 * accuracy
    );

    println!("\nheld-out confusion matrix (rows: true class, columns: predicted)");
    let mut confusion = [[0usize; 3]; 3];
    for example in &held_out {
        confusion[example.class][predict(&rnn, example)] += 1;
    }
    println!(
        "{:>10} {:>8} {:>8} {:>8}",
        "", CLASSES[0], CLASSES[1], CLASSES[2]
    );
    for (class, row) in CLASSES.iter().zip(confusion) {
        println!("{class:>10} {:>8} {:>8} {:>8}", row[0], row[1], row[2]);
    }

    let path = output_path("sequence_classification.svg");
    let series = |label: &str, pick: fn(&(f64, f64, f64)) -> f64, colour, dashed| Series {
        label: label.into(),
        points: curve.iter().map(|c| (c.0, pick(c))).collect(),
        colour,
        dashed,
    };
    line_chart(
        &path,
        "Waveform classification, scored at the last step",
        ("epoch", "cross-entropy per sequence (nats)"),
        &[
            series("training", |c| c.1, 0, false),
            series("held-out", |c| c.2, 1, true),
        ],
        true,
    )?;
    println!("loss curves: {}", path.display());
    Ok(())
}

/// The class with the highest probability after the last step.
fn predict(rnn: &Model, example: &Example) -> usize {
    let trace = rnn.forward(&SVector::zeros(), &example.xs);
    trace.steps[STEPS - 1].y_hat.imax()
}

/// The mean cross-entropy per sequence, and the fraction classified right.
fn evaluate(rnn: &Model, set: &[Example]) -> (f64, f64) {
    let (mut loss, mut right) = (0.0, 0);
    for example in set {
        loss += f64::from(rnn.loss(
            CrossEntropy,
            &SVector::zeros(),
            &example.xs,
            &example.target(),
        ));
        right += usize::from(predict(rnn, example) == example.class);
    }
    (loss / set.len() as f64, right as f64 / set.len() as f64)
}
