//! Criterion benchmarks of the hot paths: a streaming step, and forward + backward of a sequence.

use criterion::{Criterion, criterion_group, criterion_main};
use static_rnn::{CrossEntropy, Params, Rnn, SMatrix, SVector};
use std::hint::black_box;

fn model<const I: usize, const H: usize, const O: usize>() -> Rnn<I, H, O> {
    // Small deterministic weights: the cost does not depend on their values.
    let w = |i: usize, j: usize, scale: f32| {
        scale * ((i * 31 + j * 17) % 13) as f32 / 13.0 - scale / 2.0
    };
    Rnn::new(
        SMatrix::from_fn(|i, j| w(i, j, 0.5)),
        SMatrix::from_fn(|i, j| w(i, j, 0.5 / (H as f32).sqrt())),
        SVector::zeros(),
        SMatrix::from_fn(|i, j| w(i, j, 0.5)),
        SVector::zeros(),
    )
}

fn bench_size<const I: usize, const H: usize, const O: usize, const S: usize>(c: &mut Criterion) {
    let rnn = model::<I, H, O>();
    let xs: [SVector<f32, I>; S] =
        core::array::from_fn(|t| SVector::from_fn(|i, _| ((t + i) % 3) as f32 - 1.0));
    let ys: [SVector<f32, O>; S] =
        core::array::from_fn(|t| SVector::from_fn(|k, _| f32::from(k == t % O)));
    let h0 = SVector::zeros();
    let name = format!("I={I} H={H} O={O} T={S} f32");

    c.bench_function(&format!("streaming step, {name}"), |b| {
        b.iter(|| black_box(rnn.step(black_box(&h0), black_box(&xs[0]))))
    });
    c.bench_function(&format!("forward + backward, {name}"), |b| {
        let mut grads = Params::zeros();
        b.iter(|| {
            let trace = rnn.forward(black_box(&h0), black_box(&xs));
            black_box(rnn.backward(CrossEntropy, &xs, &trace, &ys, &mut grads))
        })
    });
}

fn benches(c: &mut Criterion) {
    bench_size::<4, 8, 2, 16>(c);
    bench_size::<16, 32, 8, 64>(c);
}

criterion_group!(bptt, benches);
criterion_main!(bptt);
