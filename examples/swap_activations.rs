//! One task, three hidden activations. The same data, the same seed, the same initial weights and
//! the same budget, trained once with `Tanh`, once with `Relu` and once with `Sigmoid` hidden
//! units: the swap is the type parameter `F` of `train::<F>`.
//!
//! ```text
//! cargo run --release --example swap_activations            # about 5 s
//! cargo run --release --example swap_activations -- --quick # a few seconds
//! ```
//!
//! The task is delayed recall: a stream of random symbols from an alphabet of 4, one-hot, and at
//! every step from `DELAY` on the network must name the symbol it saw `DELAY` steps earlier. It
//! has to hold the last `DELAY` symbols in its state, which is what a recurrent layer is for.
//! The output head fits the task: a softmax over the 4 symbols with cross-entropy. Training is
//! minibatched (`B` sequences per step as matrix–matrix products), with Adam and gradient-norm
//! clipping. The example prints a table (loss per scored step, accuracy, time) and writes the
//! loss curves to `target/examples/swap_activations.svg`.

mod common;

use clap::Parser;
use common::{Series, line_chart, output_path, progress_bar};
use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::rand_core::{Rng, SeedableRng};
use static_rnn::{
    Adam, AdamConfig, CrossEntropy, HiddenActivation, Params, Relu, Rnn, SMatrix, Sigmoid, Softmax,
    Tanh, clip_grad_norm,
};
use std::time::{Duration, Instant};

/// The alphabet: 4 symbols, one-hot.
const K: usize = 4;
/// Hidden units.
const H: usize = 32;
/// Steps per sequence.
const STEPS: usize = 32;
/// The network names, at step `t`, the symbol of step `t − DELAY`.
const DELAY: usize = 10;
/// Sequences per minibatch: the columns of every matrix in a batch.
const B: usize = 32;

/// `B` sequences of `STEPS` one-hot inputs, and the targets: `None` for the first `DELAY` steps,
/// then the input of `DELAY` steps before.
struct Batch {
    xs: [SMatrix<f32, K, B>; STEPS],
    ys: [Option<SMatrix<f32, K, B>>; STEPS],
}

#[derive(Parser)]
#[command(about = "Delayed recall trained with Tanh, Relu and Sigmoid hidden units")]
struct Args {
    /// Passes over the training set.
    #[arg(long, default_value_t = 60)]
    epochs: usize,
    /// Seed of the data and of the initial weights (the same for every activation).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// A short run for CI: 3 epochs.
    #[arg(long)]
    quick: bool,
}

/// What one activation reached.
struct Report {
    name: &'static str,
    /// `(epoch, training loss, validation loss)` per scored step, after each epoch.
    curve: Vec<(f64, f64, f64)>,
    train_accuracy: f64,
    validation_accuracy: f64,
    time: Duration,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let epochs = if args.quick { 3 } else { args.epochs };
    let mut rng = Pcg64Mcg::seed_from_u64(args.seed);
    let train_set: Vec<Batch> = (0..16).map(|_| batch(&mut rng)).collect();
    let validation_set: Vec<Batch> = (0..8).map(|_| batch(&mut rng)).collect();
    println!(
        "delayed recall: {K} symbols, {STEPS} steps, name the symbol {DELAY} steps back; \
         H = {H}, {} training and {} validation sequences, {epochs} epochs, seed {}",
        train_set.len() * B,
        validation_set.len() * B,
        args.seed
    );
    println!(
        "chance: loss ln {K} = {:.3} per scored step, accuracy {:.0} %",
        (K as f64).ln(),
        100.0 / K as f64
    );

    // The swap: one type parameter.
    let reports = [
        train::<Tanh>(&train_set, &validation_set, epochs, args.seed),
        train::<Relu>(&train_set, &validation_set, epochs, args.seed),
        train::<Sigmoid>(&train_set, &validation_set, epochs, args.seed),
    ];

    println!(
        "\n{:<10} {:>11} {:>11} {:>10} {:>10} {:>8}",
        "hidden f", "train loss", "valid loss", "train acc", "valid acc", "time"
    );
    for r in &reports {
        let &(_, train_loss, validation_loss) = r.curve.last().expect("at least one epoch");
        println!(
            "{:<10} {:>11.4} {:>11.4} {:>9.1} % {:>8.1} % {:>6.1} s",
            r.name,
            train_loss,
            validation_loss,
            100.0 * r.train_accuracy,
            100.0 * r.validation_accuracy,
            r.time.as_secs_f64()
        );
    }
    println!(
        "(loss: mean cross-entropy per scored step, in nats; time: training, with both sets \
         evaluated after every epoch)"
    );

    let chance = Series {
        label: format!("chance, ln {K}"),
        points: vec![(1.0, (K as f64).ln()), (epochs as f64, (K as f64).ln())],
        colour: 3,
        dashed: true,
    };
    let series: Vec<Series> = std::iter::once(chance)
        .chain(reports.iter().enumerate().flat_map(|(i, r)| {
            let curve = |pick: fn(&(f64, f64, f64)) -> f64| {
                r.curve.iter().map(|c| (c.0, pick(c))).collect::<Vec<_>>()
            };
            [
                Series {
                    label: format!("{} train", r.name),
                    points: curve(|c| c.1),
                    colour: i,
                    dashed: false,
                },
                Series {
                    label: format!("{} validation", r.name),
                    points: curve(|c| c.2),
                    colour: i,
                    dashed: true,
                },
            ]
        }))
        .collect();
    let path = output_path("swap_activations.svg");
    line_chart(
        &path,
        "Delayed recall: the same network with three hidden activations",
        ("epoch", "cross-entropy per scored step (nats)"),
        &series,
        true,
    )?;
    println!("loss curves: {}", path.display());
    Ok(())
}

/// Trains `Rnn<K, H, K, F, Softmax>` from the weights that `seed` draws, for `epochs` passes over
/// `train_set`, and reports its losses and accuracies.
fn train<F: HiddenActivation<f32>>(
    train_set: &[Batch],
    validation_set: &[Batch],
    epochs: usize,
    seed: u64,
) -> Report {
    let name = short_name::<F>();
    let mut rnn =
        Rnn::<K, H, K, F, Softmax>::init(&mut Pcg64Mcg::seed_from_u64(seed), Scheme::keras());
    let mut adam = Adam::new(AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    });
    let mut grads = Params::zeros();
    let bar = progress_bar(epochs as u64, name, "epochs");
    let start = Instant::now();
    let mut curve = Vec::with_capacity(epochs);
    for epoch in 1..=epochs {
        for batch in train_set {
            let trace = rnn.batch_forward(&SMatrix::zeros(), &batch.xs);
            grads.set_zero();
            rnn.batch_backward_mean(CrossEntropy, &batch.xs, &trace, &batch.ys, &mut grads);
            clip_grad_norm(&mut grads, 5.0).expect("a finite gradient");
            rnn.update(&mut adam, &grads).expect("a finite gradient");
        }
        let (train_loss, _) = evaluate(&rnn, train_set);
        let (validation_loss, _) = evaluate(&rnn, validation_set);
        curve.push((epoch as f64, train_loss, validation_loss));
        bar.set_message(format!("train {train_loss:.4}, valid {validation_loss:.4}"));
        bar.inc(1);
    }
    let time = start.elapsed();
    bar.finish();
    let (_, train_accuracy) = evaluate(&rnn, train_set);
    let (_, validation_accuracy) = evaluate(&rnn, validation_set);
    Report {
        name,
        curve,
        train_accuracy,
        validation_accuracy,
        time,
    }
}

/// The mean cross-entropy per scored step, and the fraction of scored steps whose most likely
/// symbol is the target.
fn evaluate<F: HiddenActivation<f32>>(rnn: &Rnn<K, H, K, F, Softmax>, set: &[Batch]) -> (f64, f64) {
    let (mut loss, mut right, mut scored) = (0.0, 0, 0);
    for batch in set {
        loss += f64::from(rnn.batch_loss(CrossEntropy, &SMatrix::zeros(), &batch.xs, &batch.ys));
        let trace = rnn.batch_forward(&SMatrix::zeros(), &batch.xs);
        for (step, y) in trace.steps.iter().zip(&batch.ys) {
            let Some(y) = y else { continue };
            for b in 0..B {
                right += usize::from(step.y_hat.column(b).imax() == y.column(b).imax());
                scored += 1;
            }
        }
    }
    (loss / scored as f64, right as f64 / scored as f64)
}

/// `B` random sequences and their delayed-recall targets.
fn batch(rng: &mut impl Rng) -> Batch {
    let symbols: [[usize; B]; STEPS] =
        core::array::from_fn(|_| core::array::from_fn(|_| (rng.next_u32() % K as u32) as usize));
    let one_hot = |t: usize| SMatrix::from_fn(|k, b| f32::from(u8::from(symbols[t][b] == k)));
    Batch {
        xs: core::array::from_fn(one_hot),
        ys: core::array::from_fn(|t| (t >= DELAY).then(|| one_hot(t - DELAY))),
    }
}

/// `Tanh` for `static_rnn::activation::Tanh`.
fn short_name<F>() -> &'static str {
    let full = core::any::type_name::<F>();
    full.rsplit("::").next().unwrap_or(full)
}
