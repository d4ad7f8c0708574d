//! The hot paths beside their peer, in one run: a streaming step (inference), forward +
//! backward of one sequence, and forward + backward of a minibatch of `B` = 1 and 32 sequences
//! (tanh / softmax / cross-entropy, a target at every step), at `(I, H, O, T)` = (4, 8, 2, 16),
//! (16, 32, 8, 64), (64, 128, 32, 128), in f32 and f64, for this crate (`static-…`; in f32 also
//! with the `FastTanh` hidden activation, `static-fasttanh-f32`, and with `FastTanh` and the
//! `FastSoftmax` output, `static-fast-f32`) and for the same model on
//! nalgebra's `DMatrix` (`support/dmatrix_peer.rs`; for a minibatch, one sequence after the
//! other). The throughput criterion prints is in FLOP/s of the matrix products (see `support`).
//! After the run it prints the dynamic/static ratios of the medians.
//!
//! ```text
//! cargo bench --bench bptt                     # everything (≈ 8 min)
//! cargo bench --bench bptt -- 16x32x8          # one size
//! ```

mod support;

use criterion::{BenchmarkId, Criterion, Throughput};
use static_rnn::{
    BatchStep, CrossEntropy, FastSoftmax, FastTanh, ForwardStep, HiddenActivation, LossFor,
    OutputActivation, Params, Real, Rnn, Softmax, Tanh,
};
use std::hint::black_box;
use std::time::SystemTime;
use support::dmatrix_peer::{self, DynParams};

/// `"f32"` or `"f64"`.
trait Precision: Real {
    const NAME: &'static str;
}
impl Precision for f32 {
    const NAME: &'static str = "f32";
}
impl Precision for f64 {
    const NAME: &'static str = "f64";
}

/// Benchmarks of one model size, hidden activation `F` (named `label` in the ids), precision `T`.
fn bench_size<const I: usize, const H: usize, const O: usize, F, G, T>(
    c: &mut Criterion<support::BenchClock>,
    steps: usize,
    label: &str,
    with_peer: bool,
) where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    CrossEntropy: LossFor<G, T>,
    T: Precision,
{
    let softmax_model = support::model::<I, H, O, F, T>();
    let rnn = Rnn::<I, H, O, F, G, T>::from_params(softmax_model.params);
    let xs = support::inputs::<T, I>(steps);
    let ys = support::targets::<T, O>(steps);
    let h0 = nalgebra::SVector::<T, H>::zeros();
    let peer = dmatrix_peer::from_static(&softmax_model);
    let dyn_xs: Vec<_> = xs.iter().map(dmatrix_peer::dvector).collect();
    let dyn_ys: Vec<_> = ys.iter().map(dmatrix_peer::dvector).collect();
    let dyn_h0 = dmatrix_peer::dvector(&h0);
    let shape = format!("{I}x{H}x{O}");
    let precision = T::NAME;

    let mut group = c.benchmark_group("step");
    group.throughput(Throughput::Elements(support::step_flops(I, H, O)));
    group.bench_function(
        BenchmarkId::new(format!("{label}-{precision}"), &shape),
        |b| b.iter(|| rnn.step(black_box(&h0), black_box(&xs[0]))),
    );
    if with_peer {
        group.bench_function(
            BenchmarkId::new(format!("dmatrix-{precision}"), &shape),
            |b| b.iter(|| peer.step(black_box(&dyn_h0), black_box(&dyn_xs[0]))),
        );
    }
    group.finish();

    let shape = format!("{shape}x{steps}");
    let mut group = c.benchmark_group("forward_backward");
    group.throughput(Throughput::Elements(support::forward_backward_flops(
        I, H, O, steps,
    )));
    group.bench_function(
        BenchmarkId::new(format!("{label}-{precision}"), &shape),
        |b| {
            let mut buffer = vec![ForwardStep::zeros(); steps];
            let mut grads = Params::zeros();
            b.iter(|| {
                let trace = rnn.forward_into(black_box(&h0), black_box(&xs), &mut buffer);
                rnn.backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads)
            })
        },
    );
    if with_peer {
        group.bench_function(
            BenchmarkId::new(format!("dmatrix-{precision}"), &shape),
            |b| {
                let mut grads = DynParams::zeros(I, H, O);
                b.iter(|| {
                    let trace = peer.forward(black_box(&dyn_h0), black_box(&dyn_xs));
                    peer.backward(&dyn_xs, &trace, &dyn_ys, &mut grads)
                })
            },
        );
    }
    group.finish();
}

/// Forward + backward of a minibatch of `B` sequences of `steps` steps (`batch_forward_into` +
/// `batch_backward`, matrix–matrix products), and, with `with_peer`, the DMatrix peer running the
/// same `B` sequences one after the other. Throughput: `B ×` the FLOPs of one sequence.
fn bench_batch<const I: usize, const H: usize, const O: usize, const B: usize, F, G, T>(
    c: &mut Criterion<support::BenchClock>,
    steps: usize,
    label: &str,
    with_peer: bool,
) where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    CrossEntropy: LossFor<G, T>,
    T: Precision,
{
    let softmax_model = support::model::<I, H, O, F, T>();
    let rnn = Rnn::<I, H, O, F, G, T>::from_params(softmax_model.params);
    let xs = support::batch_inputs::<T, I, B>(steps);
    let ys = support::batch_targets::<T, O, B>(steps);
    let h0 = nalgebra::SMatrix::<T, H, B>::zeros();
    let shape = format!("{I}x{H}x{O}x{steps}xB{B}");
    let precision = T::NAME;

    let mut group = c.benchmark_group("minibatch_forward_backward");
    group.throughput(Throughput::Elements(
        B as u64 * support::forward_backward_flops(I, H, O, steps),
    ));
    group.bench_function(
        BenchmarkId::new(format!("{label}-{precision}"), &shape),
        |b| {
            let mut buffer = vec![BatchStep::zeros(); steps];
            let mut grads = Params::zeros();
            b.iter(|| {
                let trace = rnn.batch_forward_into(black_box(&h0), black_box(&xs), &mut buffer);
                rnn.batch_backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads)
            })
        },
    );
    if with_peer {
        let peer = dmatrix_peer::from_static(&softmax_model);
        let column = |m: &nalgebra::SMatrix<T, I, B>, b: usize| {
            nalgebra::DVector::from_column_slice(m.column(b).as_slice())
        };
        let sequences: Vec<(Vec<_>, Vec<_>)> = (0..B)
            .map(|b| {
                let xs = xs.iter().map(|x| column(x, b)).collect();
                let ys = ys
                    .iter()
                    .map(|y| nalgebra::DVector::from_column_slice(y.column(b).as_slice()))
                    .collect();
                (xs, ys)
            })
            .collect();
        let dyn_h0 = nalgebra::DVector::<T>::zeros(H);
        group.bench_function(
            BenchmarkId::new(format!("dmatrix-{precision}"), &shape),
            |b| {
                let mut grads = DynParams::zeros(I, H, O);
                b.iter(|| {
                    for (xs, ys) in &sequences {
                        let trace = peer.forward(black_box(&dyn_h0), black_box(xs));
                        peer.backward(xs, &trace, ys, &mut grads);
                    }
                })
            },
        );
    }
    group.finish();
}

/// The ids of the (peer, crate) pairs whose ratios are printed.
fn ratio_pairs() -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (shape, steps) in [("4x8x2", 16), ("16x32x8", 64), ("64x128x32", 128)] {
        for precision in ["f32", "f64"] {
            pairs.push((
                format!("step/dmatrix-{precision}/{shape}"),
                format!("step/static-{precision}/{shape}"),
            ));
            pairs.push((
                format!("forward_backward/dmatrix-{precision}/{shape}x{steps}"),
                format!("forward_backward/static-{precision}/{shape}x{steps}"),
            ));
        }
        pairs.push((
            format!("step/dmatrix-f32/{shape}"),
            format!("step/static-fasttanh-f32/{shape}"),
        ));
        pairs.push((
            format!("forward_backward/dmatrix-f32/{shape}x{steps}"),
            format!("forward_backward/static-fasttanh-f32/{shape}x{steps}"),
        ));
        if shape == "16x32x8" {
            pairs.push((
                format!("step/dmatrix-f32/{shape}"),
                format!("step/static-fast-f32/{shape}"),
            ));
            pairs.push((
                format!("forward_backward/dmatrix-f32/{shape}x{steps}"),
                format!("forward_backward/static-fast-f32/{shape}x{steps}"),
            ));
        }
        for batch in [1, 32] {
            for precision in ["f32", "f64"] {
                pairs.push((
                    format!(
                        "minibatch_forward_backward/dmatrix-{precision}/{shape}x{steps}xB{batch}"
                    ),
                    format!(
                        "minibatch_forward_backward/static-{precision}/{shape}x{steps}xB{batch}"
                    ),
                ));
            }
        }
        pairs.push((
            format!("minibatch_forward_backward/dmatrix-f32/{shape}x{steps}xB32"),
            format!("minibatch_forward_backward/static-fasttanh-f32/{shape}x{steps}xB32"),
        ));
        pairs.push((
            format!("minibatch_forward_backward/dmatrix-f32/{shape}x{steps}xB32"),
            format!("minibatch_forward_backward/static-fast-f32/{shape}x{steps}xB32"),
        ));
    }
    pairs
}

fn main() {
    let started = SystemTime::now();
    let mut c = support::criterion(100);

    bench_size::<4, 8, 2, Tanh, Softmax, f32>(&mut c, 16, "static", true);
    bench_size::<4, 8, 2, Tanh, Softmax, f64>(&mut c, 16, "static", true);
    bench_size::<16, 32, 8, Tanh, Softmax, f32>(&mut c, 64, "static", true);
    bench_size::<16, 32, 8, Tanh, Softmax, f64>(&mut c, 64, "static", true);
    bench_size::<64, 128, 32, Tanh, Softmax, f32>(&mut c, 128, "static", true);
    bench_size::<64, 128, 32, Tanh, Softmax, f64>(&mut c, 128, "static", true);
    // The same f32 models with the vectorized tanh approximation (`FastTanh`).
    bench_size::<4, 8, 2, FastTanh, Softmax, f32>(&mut c, 16, "static-fasttanh", false);
    bench_size::<16, 32, 8, FastTanh, Softmax, f32>(&mut c, 64, "static-fasttanh", false);
    bench_size::<64, 128, 32, FastTanh, Softmax, f32>(&mut c, 128, "static-fasttanh", false);
    // … and with the vectorized softmax too (`FastTanh` + `FastSoftmax`).
    bench_size::<16, 32, 8, FastTanh, FastSoftmax, f32>(&mut c, 64, "static-fast", false);
    // Minibatches, B = 1 and 32.
    bench_batch::<4, 8, 2, 1, Tanh, Softmax, f32>(&mut c, 16, "static", true);
    bench_batch::<4, 8, 2, 32, Tanh, Softmax, f32>(&mut c, 16, "static", true);
    bench_batch::<4, 8, 2, 1, Tanh, Softmax, f64>(&mut c, 16, "static", true);
    bench_batch::<4, 8, 2, 32, Tanh, Softmax, f64>(&mut c, 16, "static", true);
    bench_batch::<16, 32, 8, 1, Tanh, Softmax, f32>(&mut c, 64, "static", true);
    bench_batch::<16, 32, 8, 32, Tanh, Softmax, f32>(&mut c, 64, "static", true);
    bench_batch::<16, 32, 8, 1, Tanh, Softmax, f64>(&mut c, 64, "static", true);
    bench_batch::<16, 32, 8, 32, Tanh, Softmax, f64>(&mut c, 64, "static", true);
    bench_batch::<64, 128, 32, 1, Tanh, Softmax, f32>(&mut c, 128, "static", true);
    bench_batch::<64, 128, 32, 32, Tanh, Softmax, f32>(&mut c, 128, "static", true);
    bench_batch::<64, 128, 32, 1, Tanh, Softmax, f64>(&mut c, 128, "static", true);
    bench_batch::<64, 128, 32, 32, Tanh, Softmax, f64>(&mut c, 128, "static", true);
    bench_batch::<16, 32, 8, 32, FastTanh, Softmax, f32>(&mut c, 64, "static-fasttanh", false);
    bench_batch::<64, 128, 32, 32, FastTanh, Softmax, f32>(&mut c, 128, "static-fasttanh", false);
    bench_batch::<16, 32, 8, 32, FastTanh, FastSoftmax, f32>(&mut c, 64, "static-fast", false);
    bench_batch::<64, 128, 32, 32, FastTanh, FastSoftmax, f32>(&mut c, 128, "static-fast", false);

    c.final_summary();
    support::print_ratios("dmatrix / static-rnn", &ratio_pairs(), started);
}
