//! Stateful inference against `Rnn::step`: the same operations, so bitwise the same states and
//! outputs, for random models and sequences, across resets.

mod common;

use common::{Rng, random_model};
use quickcheck::QuickCheck;
use static_rnn::{
    HiddenActivation, Identity, OutputActivation, Real, Relu, Rnn, SVector, Sigmoid, Softmax,
    Stateful, Tanh,
};

const I: usize = 3;
const H: usize = 6;
const O: usize = 4;
const CASES: u64 = 100;

/// Steps a `Stateful` through a random sequence, resetting it (to zero or to a random state) at
/// random steps, and compares every output and state with a chain of `Rnn::step` calls.
fn check<F, G, T>(seed: u64, len: u8) -> bool
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    let mut rng = Rng::new(seed);
    let rnn: Rnn<I, H, O, F, G, T> = random_model(&mut rng);
    let h0: SVector<T, H> = rng.matrix(1.0);
    let mut stateful = Stateful::starting_from(&rnn, h0);
    let mut h = h0;
    if stateful.state() != &h || !core::ptr::eq(stateful.model(), &rnn) {
        return false;
    }
    for _ in 0..len % 50 {
        let draw = rng.unit();
        if draw < 0.1 {
            stateful.reset();
            h = SVector::zeros();
        } else if draw < 0.2 {
            let to: SVector<T, H> = rng.matrix(1.0);
            stateful.reset_to(to);
            h = to;
        }
        let x: SVector<T, I> = rng.matrix(1.5);
        let y_hat = stateful.step(&x);
        let (h_next, want) = rnn.step(&h, &x);
        h = h_next;
        if y_hat != want || stateful.state() != &h {
            eprintln!(
                "seed {seed}: output equal {}, state equal {}",
                y_hat == want,
                stateful.state() == &h
            );
            return false;
        }
    }
    true
}

fn run(property: fn(u64, u8) -> bool) {
    QuickCheck::new()
        .tests(CASES)
        .max_tests(CASES)
        .quickcheck(property);
}

#[test]
fn tanh_softmax_matches_step() {
    run(check::<Tanh, Softmax, f64>);
}

#[test]
fn relu_identity_matches_step() {
    run(check::<Relu, Identity, f64>);
}

#[test]
fn sigmoid_sigmoid_matches_step_f32() {
    run(check::<Sigmoid, Sigmoid, f32>);
}

/// `new` starts from zero.
#[test]
fn new_starts_from_zero() {
    let mut rng = Rng::new(3);
    let rnn: Rnn<I, H, O, Tanh, Softmax, f64> = random_model(&mut rng);
    let x: SVector<f64, I> = rng.matrix(1.0);
    let mut stateful = Stateful::new(&rnn);
    assert_eq!(stateful.state(), &SVector::<f64, H>::zeros());
    assert_eq!(stateful.step(&x), rnn.step(&SVector::zeros(), &x).1);
}
