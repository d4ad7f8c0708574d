//! Forward + backward of one sequence at (16, 32, 8, 64), `f32`, `FastTanh` + `FastSoftmax` (the
//! bench `forward_backward/static-fast-f32/16x32x8x64`, same model and data), or with the
//! argument `batch` of a minibatch of 32 sequences at (64, 128, 32, 128) (the bench
//! `minibatch_forward_backward/static-fast-f32/64x128x32x128xB32`), timed as the fastest of many
//! rounds: a yardstick for changes of a few percent, which criterion's medians on a shared
//! machine cannot separate.
//!
//! Each round times 100 calls (2 for the minibatch); the bench prints the per-call time of the
//! fastest round, of the 10th and 25th percentile and the median round. The fastest round is
//! what the code costs when nothing else runs; the median, what criterion reports, moves with
//! the machine's load.
//!
//! Between processes the operating system places the stack at a random offset, and that alone
//! moved the fastest round between 12.2 and 13.0 µs on the Xeon of `BENCHMARKS.md` (levers
//! 35–38), so compare two builds with address-space randomization off, alternating:
//!
//! ```text
//! cargo bench --features fma --bench min_of_rounds --no-run   # prints the binary's path
//! setarch -R taskset -c 1 target/release/deps/min_of_rounds-<hash> [batch] [ROUNDS]  # default 300
//! ```

mod support;

use static_rnn::{
    BatchStep, CrossEntropy, FastSoftmax, FastTanh, ForwardStep, Params, Rnn, SMatrix, SVector,
};
use std::hint::black_box;
use std::time::Instant;

/// Calls per timed round of one sequence, and of a minibatch.
const CALLS: usize = 100;
const BATCH_CALLS: usize = 2;

fn main() {
    // `cargo bench` passes `--bench`; a number among the arguments is the count of rounds.
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let rounds = arguments
        .iter()
        .find_map(|argument| argument.parse::<usize>().ok())
        .unwrap_or(300);
    let (label, per_call) = if arguments.iter().any(|argument| argument == "batch") {
        (
            "minibatch_forward_backward/static-fast-f32/64x128x32x128xB32",
            minibatch_rounds(rounds),
        )
    } else {
        (
            "forward_backward/static-fast-f32/16x32x8x64",
            sequence_rounds(rounds),
        )
    };
    report(label, rounds, per_call);
}

/// The per-call times of `rounds` rounds of [`CALLS`] forward + backward passes of one sequence,
/// in µs.
fn sequence_rounds(rounds: usize) -> Vec<f64> {
    let model = support::model::<16, 32, 8, FastTanh, f32>();
    let rnn = Rnn::<16, 32, 8, FastTanh, FastSoftmax, f32>::from_params(model.params);
    let xs = support::inputs::<f32, 16>(64);
    let ys = support::targets::<f32, 8>(64);
    let h0 = SVector::<f32, 32>::zeros();
    let mut buffer = vec![ForwardStep::zeros(); xs.len()];
    let mut grads = Params::zeros();
    let mut per_call = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..CALLS {
            let trace = rnn.forward_into(black_box(&h0), black_box(&xs), &mut buffer);
            black_box(rnn.backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads));
        }
        per_call.push(start.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
    }
    per_call
}

/// The per-call times of `rounds` rounds of [`BATCH_CALLS`] forward + backward passes of a
/// minibatch of 32 sequences of 128 steps at (64, 128, 32), in µs.
fn minibatch_rounds(rounds: usize) -> Vec<f64> {
    let model = support::model::<64, 128, 32, FastTanh, f32>();
    let rnn = Rnn::<64, 128, 32, FastTanh, FastSoftmax, f32>::from_params(model.params);
    let xs = support::batch_inputs::<f32, 64, 32>(128);
    let ys = support::batch_targets::<f32, 32, 32>(128);
    let h0 = SMatrix::<f32, 128, 32>::zeros();
    let mut buffer = vec![BatchStep::zeros(); xs.len()];
    let mut grads = Params::zeros();
    let mut per_call = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..BATCH_CALLS {
            let trace = rnn.batch_forward_into(black_box(&h0), black_box(&xs), &mut buffer);
            black_box(rnn.batch_backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads));
        }
        per_call.push(start.elapsed().as_secs_f64() * 1e6 / BATCH_CALLS as f64);
    }
    per_call
}

/// Prints the fastest, 10th and 25th percentile and median of the per-call times.
fn report(label: &str, rounds: usize, mut per_call: Vec<f64>) {
    per_call.sort_by(f64::total_cmp);
    let at = |fraction: f64| per_call[((per_call.len() - 1) as f64 * fraction) as usize];
    println!(
        "{label}, {rounds} rounds, µs per call: fastest {:.3}, p10 {:.3}, p25 {:.3}, median {:.3}",
        at(0.0),
        at(0.1),
        at(0.25),
        at(0.5)
    );
}
