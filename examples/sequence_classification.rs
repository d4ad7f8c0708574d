//! Many-to-one: read a whole noisy signal, then say what shape of wave it is. The target is at
//! the last step only (`LastStep`); accuracy is measured on held-out sequences.
//!
//! ```text
//! cargo run --release --example sequence_classification            # a few seconds
//! cargo run --release --example sequence_classification -- --quick # a second
//! ```
//!
//! Each sequence is `STEPS` samples of a sine, a square or a sawtooth wave with a random period
//! (8 to 24 steps), phase and amplitude (0.5 to 1.5), plus Gaussian noise (`σ = 0.3`). The model
//! `Rnn<1, 24, 3, Tanh, Softmax>` sees one sample per step and is scored, with cross-entropy,
//! only on its output after the last one: `L = −ln ŷ_T[class]`, the target `LastStep(e_class)`.
//!
//! Training is the library's loop, `train::Trainer::fit`: shuffled minibatches of 16, the mean
//! gradient clipped to norm 5, Adam, the validation loss after every epoch, early stopping that
//! puts the best epoch's parameters back, and a callback that drives the progress bar. The test
//! sequences are used for nothing else: the example reports their accuracy and confusion matrix,
//! and writes the loss curves to `target/examples/sequence_classification.svg`.

mod common;

use clap::Parser;
use common::{Series, line_chart, output_path, progress_bar};
use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::rand_core::SeedableRng;
use static_rnn::random::{standard_normal_pair, uniform01};
use static_rnn::train::{Clip, EarlyStopping, Stop, TrainConfig, Trainer};
use static_rnn::{Adam, AdamConfig, CrossEntropy, LastStep, Rnn, SVector, Softmax, Tanh};
use std::f64::consts::TAU;
use std::ops::ControlFlow;
use std::time::Instant;

/// Hidden units.
const H: usize = 24;
/// Samples per sequence.
const STEPS: usize = 40;
/// The classes, in the order of the outputs.
const CLASSES: [&str; 3] = ["sine", "square", "sawtooth"];
/// The standard deviation of the noise on every sample.
const NOISE: f64 = 0.3;

type Model = Rnn<1, H, 3, Tanh, Softmax>;

#[derive(Parser)]
#[command(about = "Many-to-one classification of noisy waveforms, scored at the last step")]
struct Args {
    /// At most this many passes over the training set (early stopping may end sooner).
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Seed of the data and of the initial weights.
    #[arg(long, default_value_t = 5)]
    seed: u64,
    /// A short run for CI: 2 epochs.
    #[arg(long)]
    quick: bool,
}

/// A sequence and its target, the one-hot class at the last step: what `Trainer::fit` takes.
type Example = ([SVector<f32, 1>; STEPS], LastStep<f32, 3>);

/// A random wave of a random class.
fn random_example(rng: &mut Pcg64Mcg) -> Example {
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
    let target = SVector::from_fn(|k, _| f32::from(u8::from(k == class)));
    (xs, LastStep(target))
}

/// The class of an example: where its one-hot target is 1.
fn class(example: &Example) -> usize {
    example.1.0.imax()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let epochs = if args.quick { 2 } else { args.epochs };
    let mut rng = Pcg64Mcg::seed_from_u64(args.seed);
    let train_set: Vec<Example> = (0..1600).map(|_| random_example(&mut rng)).collect();
    let validation_set: Vec<Example> = (0..400).map(|_| random_example(&mut rng)).collect();
    let test_set: Vec<Example> = (0..800).map(|_| random_example(&mut rng)).collect();
    println!(
        "{} vs {} vs {}: {STEPS} noisy samples (σ = {NOISE}), random period, phase and amplitude; \
         H = {H}; {} training, {} validation (early stopping) and {} test sequences; at most \
         {epochs} epochs, seed {}",
        CLASSES[0],
        CLASSES[1],
        CLASSES[2],
        train_set.len(),
        validation_set.len(),
        test_set.len(),
        args.seed
    );

    let mut rnn = Model::init(&mut rng, Scheme::keras());
    let mut trainer = Trainer::new(
        CrossEntropy,
        Adam::new(AdamConfig {
            lr: 3e-3,
            ..AdamConfig::default()
        }),
        rng, // the shuffles, continuing the stream that drew the data and the weights
        TrainConfig {
            epochs,
            batch_size: 16,
            clip: Some(Clip::Norm(5.0)),
            early_stopping: Some(EarlyStopping {
                patience: 8,
                ..EarlyStopping::default()
            }),
            ..TrainConfig::default()
        },
    );
    let bar = progress_bar(epochs as u64, "classify", "epochs");
    let mut curve = Vec::new();
    let start = Instant::now();
    let report = trainer.fit(&mut rnn, &train_set, &validation_set, |epoch| {
        let validation = epoch.validation.expect("a validation set").per_sequence();
        curve.push((epoch.epoch as f64, epoch.train.per_sequence(), validation));
        bar.set_message(format!("validation loss {validation:.3}"));
        bar.inc(1);
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let best = report.best().expect("a finite validation loss");
    let why = match report.stop {
        Stop::Completed => "the epoch limit".to_string(),
        Stop::EarlyStopping => "early stopping".to_string(),
        other => format!("{other:?}"),
    };
    println!(
        "{} epochs in {seconds:.1} s, ended by {why}; the best, epoch {}, is the model kept: \
         validation loss {:.3} per sequence (chance ln 3 = {:.3})",
        report.history.len(),
        best.epoch,
        best.validation.expect("a validation set").per_sequence(),
        3f64.ln()
    );

    let mut confusion = [[0usize; 3]; 3];
    for example in &test_set {
        confusion[class(example)][predict(&rnn, example)] += 1;
    }
    let right: usize = (0..3).map(|k| confusion[k][k]).sum();
    println!(
        "test accuracy {:.1} % ({right} of {}; chance 33.3 %), training accuracy {:.1} %",
        100.0 * right as f64 / test_set.len() as f64,
        test_set.len(),
        100.0 * accuracy(&rnn, &train_set)
    );
    println!("\ntest confusion matrix (rows: true class, columns: predicted)");
    println!(
        "{:>10} {:>8} {:>8} {:>8}",
        "", CLASSES[0], CLASSES[1], CLASSES[2]
    );
    for (name, row) in CLASSES.iter().zip(confusion) {
        println!("{name:>10} {:>8} {:>8} {:>8}", row[0], row[1], row[2]);
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
            series("training (running, during each epoch)", |c| c.1, 0, false),
            series("validation (after each epoch)", |c| c.2, 1, true),
        ],
        true,
    )?;
    println!("loss curves: {}", path.display());
    Ok(())
}

/// The class with the highest probability after the last step.
fn predict(rnn: &Model, example: &Example) -> usize {
    let trace = rnn.forward(&SVector::zeros(), &example.0);
    trace.steps[STEPS - 1].y_hat.imax()
}

/// The fraction of `set` classified right.
fn accuracy(rnn: &Model, set: &[Example]) -> f64 {
    let right = set.iter().filter(|e| predict(rnn, e) == class(e)).count();
    right as f64 / set.len() as f64
}
