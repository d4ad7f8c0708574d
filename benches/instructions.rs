//! Fixed work for instruction counting under callgrind: the hot paths of `benches/bptt.rs`, each
//! run a fixed number of times inside one `#[inline(never)]` function, so that
//! `valgrind --tool=callgrind --toggle-collect=...` counts exactly that work. Instruction counts
//! do not depend on what else the machine runs, which makes them the tool to decide whether a
//! change helps; `tools/bench/instructions.sh` runs every case and prints instructions per call.
//!
//! ```text
//! cargo bench --bench instructions --no-run
//! tools/bench/instructions.sh            # every case
//! ```
//!
//! Run without arguments it lists the cases; with a case name it runs that case.

mod support;

use static_rnn::{CrossEntropy, FastTanh, ForwardStep, HiddenActivation, Params, Real, Tanh};
use std::hint::black_box;

/// Calls per measured run.
pub const CALLS: usize = 100;

/// `CALLS` forward + backward passes.
#[inline(never)]
fn measured_forward_backward<const I: usize, const H: usize, const O: usize, F, T>(steps: usize)
where
    F: HiddenActivation<T>,
    T: Real,
{
    let rnn = support::model::<I, H, O, F, T>();
    let xs = support::inputs::<T, I>(steps);
    let ys = support::targets::<T, O>(steps);
    let h0 = nalgebra::SVector::<T, H>::zeros();
    let mut buffer = vec![ForwardStep::zeros(); steps];
    let mut grads = Params::zeros();
    for _ in 0..CALLS {
        let trace = rnn.forward_into(black_box(&h0), black_box(&xs), &mut buffer);
        black_box(rnn.backward(CrossEntropy, &xs, &trace, ys.as_slice(), &mut grads));
    }
}

/// `CALLS` streaming steps.
#[inline(never)]
fn measured_step<const I: usize, const H: usize, const O: usize, F, T>()
where
    F: HiddenActivation<T>,
    T: Real,
{
    let rnn = support::model::<I, H, O, F, T>();
    let x = support::inputs::<T, I>(1)[0];
    let mut h = nalgebra::SVector::<T, H>::zeros();
    for _ in 0..CALLS {
        let (next, y_hat) = rnn.step(black_box(&h), black_box(&x));
        black_box(y_hat);
        h = next;
    }
}

/// `CALLS` forward + backward passes of the DMatrix peer.
#[inline(never)]
fn measured_peer_forward_backward<const I: usize, const H: usize, const O: usize>(steps: usize) {
    let rnn = support::model::<I, H, O, Tanh, f32>();
    let peer = support::dmatrix_peer::from_static(&rnn);
    let xs: Vec<_> = support::inputs::<f32, I>(steps)
        .iter()
        .map(support::dmatrix_peer::dvector)
        .collect();
    let ys: Vec<_> = support::targets::<f32, O>(steps)
        .iter()
        .map(support::dmatrix_peer::dvector)
        .collect();
    let h0 = nalgebra::DVector::zeros(H);
    let mut grads = support::dmatrix_peer::DynParams::zeros(I, H, O);
    for _ in 0..CALLS {
        let trace = peer.forward(black_box(&h0), black_box(&xs));
        black_box(peer.backward(&xs, &trace, &ys, &mut grads));
    }
}

/// `CALLS` streaming steps of the DMatrix peer.
#[inline(never)]
fn measured_peer_step<const I: usize, const H: usize, const O: usize>() {
    let rnn = support::model::<I, H, O, Tanh, f32>();
    let peer = support::dmatrix_peer::from_static(&rnn);
    let x = support::dmatrix_peer::dvector(&support::inputs::<f32, I>(1)[0]);
    let mut h = nalgebra::DVector::zeros(H);
    for _ in 0..CALLS {
        let (next, y_hat) = peer.step(black_box(&h), black_box(&x));
        black_box(y_hat);
        h = next;
    }
}

type Case = (&'static str, fn());

const CASES: &[Case] = &[
    ("fb-4x8x2x16-f32", || {
        measured_forward_backward::<4, 8, 2, Tanh, f32>(16)
    }),
    ("fb-16x32x8x64-f32", || {
        measured_forward_backward::<16, 32, 8, Tanh, f32>(64)
    }),
    ("fb-64x128x32x128-f32", || {
        measured_forward_backward::<64, 128, 32, Tanh, f32>(128)
    }),
    ("fb-16x32x8x64-f64", || {
        measured_forward_backward::<16, 32, 8, Tanh, f64>(64)
    }),
    ("fb-16x32x8x64-f32-fasttanh", || {
        measured_forward_backward::<16, 32, 8, FastTanh, f32>(64)
    }),
    ("fb-16x32x8x64-f32-dmatrix", || {
        measured_peer_forward_backward::<16, 32, 8>(64)
    }),
    ("step-4x8x2-f32", || measured_step::<4, 8, 2, Tanh, f32>()),
    ("step-16x32x8-f32", || {
        measured_step::<16, 32, 8, Tanh, f32>()
    }),
    ("step-64x128x32-f32", || {
        measured_step::<64, 128, 32, Tanh, f32>()
    }),
    ("step-16x32x8-f32-fasttanh", || {
        measured_step::<16, 32, 8, FastTanh, f32>()
    }),
    ("step-16x32x8-f32-dmatrix", || {
        measured_peer_step::<16, 32, 8>()
    }),
    ("step-16x32x8-f64", || {
        measured_step::<16, 32, 8, Tanh, f64>()
    }),
];

fn main() {
    // `cargo bench` passes `--bench`; a case name is the first other argument.
    match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(name) => {
            let (_, run) = CASES
                .iter()
                .find(|(case, _)| *case == name)
                .unwrap_or_else(|| panic!("no case {name}"));
            run();
        }
        None => {
            for (case, _) in CASES {
                println!("{case}");
            }
        }
    }
}
