//! The benchmarks' DMatrix peer (`benches/support/dmatrix_peer.rs`) computes what the crate
//! computes: the same loss, states and gradients, so its timings compare like with like.
#![cfg(feature = "std")]

#[path = "../benches/support/dmatrix_peer.rs"]
mod dmatrix_peer;

use static_rnn::{CrossEntropy, Params, Rnn, SMatrix, SVector, Softmax, Tanh, Tensors};

#[test]
fn dmatrix_peer_matches_the_crate_in_f64() {
    const I: usize = 3;
    const H: usize = 5;
    const O: usize = 4;
    let rnn = Rnn::<I, H, O, Tanh, Softmax, f64>::new(
        SMatrix::from_fn(|i, j| 0.4 * ((i + 2 * j) as f64).sin()),
        SMatrix::from_fn(|i, j| 0.3 * ((3 * i + j) as f64).cos()),
        SVector::from_fn(|i, _| 0.1 * i as f64),
        SMatrix::from_fn(|i, j| 0.5 * ((i * j) as f64 + 1.0).sin()),
        SVector::from_fn(|i, _| -0.2 * i as f64),
    );
    let xs: Vec<SVector<f64, I>> = (0..7)
        .map(|t| SVector::from_fn(|i, _| ((t * 3 + i) as f64).cos()))
        .collect();
    let ys: Vec<SVector<f64, O>> = (0..7)
        .map(|t| SVector::from_fn(|k, _| f64::from(k == t % O)))
        .collect();
    let h0 = SVector::from_fn(|i, _| 0.1 - 0.05 * i as f64);

    let trace = rnn.forward_vec(&h0, &xs);
    let mut grads = Params::zeros();
    let summary = rnn.backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads);

    let peer = dmatrix_peer::from_static(&rnn);
    let dyn_xs: Vec<_> = xs.iter().map(dmatrix_peer::dvector).collect();
    let dyn_ys: Vec<_> = ys.iter().map(dmatrix_peer::dvector).collect();
    let dyn_trace = peer.forward(&dmatrix_peer::dvector(&h0), &dyn_xs);
    let mut dyn_grads = dmatrix_peer::DynParams::zeros(I, H, O);
    let (loss, dl_dh0) = peer.backward(&dyn_xs, &dyn_trace, &dyn_ys, &mut dyn_grads);

    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300);
    assert!(close(loss, summary.loss), "{loss} vs {}", summary.loss);
    for (t, step) in trace.steps.iter().enumerate() {
        assert!(
            step.h
                .iter()
                .zip(dyn_trace.hs[t + 1].iter())
                .all(|(a, b)| close(*a, *b))
        );
        assert!(
            step.y_hat
                .iter()
                .zip(dyn_trace.y_hats[t].iter())
                .all(|(a, b)| close(*a, *b))
        );
    }
    let (h, y_hat) = peer.step(&dmatrix_peer::dvector(&h0), &dyn_xs[0]);
    assert!(
        h.iter()
            .zip(trace.steps[0].h.iter())
            .all(|(a, b)| close(*a, *b))
    );
    assert!(
        y_hat
            .iter()
            .zip(trace.steps[0].y_hat.iter())
            .all(|(a, b)| close(*a, *b))
    );
    let dynamic = [
        dyn_grads.w_x.as_slice(),
        dyn_grads.w_h.as_slice(),
        dyn_grads.b_h.as_slice(),
        dyn_grads.w_y.as_slice(),
        dyn_grads.b_y.as_slice(),
    ];
    for (name, (ours, theirs)) in Params::<I, H, O, f64>::names()
        .iter()
        .zip(grads.tensors().iter().zip(dynamic))
    {
        assert_eq!(ours.len(), theirs.len(), "{name}");
        for (a, b) in ours.iter().zip(theirs) {
            assert!(close(*a, *b), "{name}: {a} vs {b}");
        }
    }
    assert!(
        dl_dh0
            .iter()
            .zip(summary.dl_dh0.iter())
            .all(|(a, b)| close(*a, *b))
    );
}
