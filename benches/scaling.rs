//! How the cost grows with the hidden size: forward + backward of one sequence and a streaming
//! step at `H ∈ {8, 16, 32, 64, 128, 256}` (`I = 16`, `O = 8`, `T = 64`, f32, tanh / softmax /
//! cross-entropy), for this crate and the DMatrix peer. Criterion's throughput is FLOP/s of the
//! matrix products (`support::forward_backward_flops`); after the run a table gives GFLOP/s per
//! size, to hold against the FMA peak measured by `benches/fma_peak.rs`.
//!
//! ```text
//! cargo bench --bench scaling
//! ```

mod support;

use criterion::{BenchmarkId, Criterion, Throughput};
use static_rnn::{CrossEntropy, ForwardStep, Params, Tanh};
use std::hint::black_box;
use std::time::SystemTime;
use support::dmatrix_peer::{self, DynParams};

const I: usize = 16;
const O: usize = 8;
const STEPS: usize = 64;
const SIZES: [usize; 6] = [8, 16, 32, 64, 128, 256];

fn bench_hidden<const H: usize>(c: &mut Criterion<support::BenchClock>) {
    let rnn = support::model::<I, H, O, Tanh, f32>();
    let xs = support::inputs::<f32, I>(STEPS);
    let ys = support::targets::<f32, O>(STEPS);
    let h0 = nalgebra::SVector::<f32, H>::zeros();
    let peer = dmatrix_peer::from_static(&rnn);
    let dyn_xs: Vec<_> = xs.iter().map(dmatrix_peer::dvector).collect();
    let dyn_ys: Vec<_> = ys.iter().map(dmatrix_peer::dvector).collect();
    let dyn_h0 = dmatrix_peer::dvector(&h0);
    let id = format!("H{H}");

    let mut group = c.benchmark_group("scaling_forward_backward");
    group.throughput(Throughput::Elements(support::forward_backward_flops(
        I, H, O, STEPS,
    )));
    group.bench_function(BenchmarkId::new("static-f32", &id), |b| {
        let mut buffer = vec![ForwardStep::zeros(); STEPS];
        let mut grads = Params::zeros();
        b.iter(|| {
            let trace = rnn.forward_into(black_box(&h0), black_box(&xs), &mut buffer);
            rnn.backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads)
        })
    });
    group.bench_function(BenchmarkId::new("dmatrix-f32", &id), |b| {
        let mut grads = DynParams::zeros(I, H, O);
        b.iter(|| {
            let trace = peer.forward(black_box(&dyn_h0), black_box(&dyn_xs));
            peer.backward(&dyn_xs, &trace, &dyn_ys, &mut grads)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("scaling_step");
    group.throughput(Throughput::Elements(support::step_flops(I, H, O)));
    group.bench_function(BenchmarkId::new("static-f32", &id), |b| {
        b.iter(|| rnn.step(black_box(&h0), black_box(&xs[0])))
    });
    group.bench_function(BenchmarkId::new("dmatrix-f32", &id), |b| {
        b.iter(|| peer.step(black_box(&dyn_h0), black_box(&dyn_xs[0])))
    });
    group.finish();
}

/// GFLOP/s per size from this run's medians.
fn print_gflops(since: SystemTime) {
    println!("\nGFLOP/s of the matrix products (medians; I = {I}, O = {O}, T = {STEPS}, f32)");
    println!(
        "{:>5} {:>14} {:>14} {:>14} {:>14}",
        "H", "fwd+bwd static", "fwd+bwd dmatrix", "step static", "step dmatrix"
    );
    for h in SIZES {
        let rate = |group: &str, function: &str, flops: u64| {
            support::median_ns(&format!("{group}/{function}/H{h}"), since).map_or_else(
                || "—".to_string(),
                |(ns, _, _)| format!("{:.2}", flops as f64 / ns),
            )
        };
        let fb = support::forward_backward_flops(I, h, O, STEPS);
        let st = support::step_flops(I, h, O);
        println!(
            "{h:>5} {:>14} {:>14} {:>14} {:>14}",
            rate("scaling_forward_backward", "static-f32", fb),
            rate("scaling_forward_backward", "dmatrix-f32", fb),
            rate("scaling_step", "static-f32", st),
            rate("scaling_step", "dmatrix-f32", st),
        );
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = support::criterion(60);
    bench_hidden::<8>(&mut c);
    bench_hidden::<16>(&mut c);
    bench_hidden::<32>(&mut c);
    bench_hidden::<64>(&mut c);
    bench_hidden::<128>(&mut c);
    bench_hidden::<256>(&mut c);
    c.final_summary();
    print_gflops(started);
}
