//! The hot paths never touch the heap: a counting global allocator shows that a streaming step, a
//! sequence forward over a const-length array, backward, every optimizer's step and clipping each
//! perform 0 allocations (and 0 deallocations); so does everything the firmware (`firmware/`) does,
//! with its model type, its targets (`[Option<SVector>]`, warm-up steps unscored) and its
//! optimizer constructed inside the measurement, and `Rnn::init`.
//!
//! Only allocations made by the measuring thread while a measurement is open are counted, so the
//! test harness's own threads do not disturb the count.

use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::rand_core::SeedableRng;
use static_rnn::{
    Adagrad, Adam, AdamConfig, AdamW, CrossEntropy, Identity, Mse, Optimizer, Params, RmsProp,
    RmsPropConfig, Rnn, SMatrix, SVector, Sgd, SgdConfig, Tanh, clip_grad_norm, clip_grad_value,
};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::heap_events;

const I: usize = 4;
const H: usize = 16;
const O: usize = 3;
const S: usize = 12;
type Model = Rnn<I, H, O>;

fn model() -> Model {
    Model::new(
        SMatrix::from_fn(|i, j| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5),
        SMatrix::from_fn(|i, j| ((i * 5 + j) % 13) as f32 / 26.0 - 0.25),
        SVector::from_fn(|i, _| 0.01 * i as f32),
        SMatrix::from_fn(|i, j| ((i + j * 2) % 7) as f32 / 7.0 - 0.5),
        SVector::zeros(),
    )
}

fn sequence() -> ([SVector<f32, I>; S], [SVector<f32, O>; S]) {
    let xs = core::array::from_fn(|t| SVector::from_fn(|i, _| ((t + i) % 5) as f32 / 5.0));
    let ys = core::array::from_fn(|t| SVector::from_fn(|k, _| f32::from(k == t % O)));
    (xs, ys)
}

#[test]
fn hot_paths_perform_no_heap_allocation() {
    let mut rnn = model();
    let (xs, ys) = sequence();
    let h0 = SVector::zeros();

    // The counter itself works: a Vec allocates.
    let (events, _) = heap_events(|| vec![1u8; 64]);
    assert!(events >= 1, "the counting allocator does not count");

    let (events, _) = heap_events(|| rnn.step(&h0, &xs[0]));
    assert_eq!(events, 0, "streaming step allocated");

    let (events, trace) = heap_events(|| rnn.forward(&h0, &xs));
    assert_eq!(events, 0, "forward over an array allocated");

    let mut grads = Params::zeros();
    let (events, summary) =
        heap_events(|| rnn.backward(CrossEntropy, &xs, &trace, &ys, &mut grads));
    assert_eq!(events, 0, "backward allocated");
    assert!(summary.loss > 0.0);

    let (events, _) = heap_events(|| rnn.gradients(CrossEntropy, &h0, &xs, &ys));
    assert_eq!(events, 0, "gradients over an array allocated");

    let (events, _) = heap_events(|| rnn.loss(CrossEntropy, &h0, &xs, &ys));
    assert_eq!(events, 0, "streaming loss allocated");

    let mut clipped = grads;
    let (events, norm) = heap_events(|| clip_grad_norm(&mut clipped, 0.5));
    assert_eq!(events, 0, "clip_grad_norm allocated");
    assert!(norm.expect("finite gradient") > 0.0);
    let (events, result) = heap_events(|| clip_grad_value(&mut clipped, 0.01));
    assert_eq!(events, 0, "clip_grad_value allocated");
    assert!(result.is_ok());

    // Each optimizer: construct outside the measurement, step twice inside it (the first step
    // initialises state lazily for some of them).
    fn two_steps<U: Optimizer<f32, 5, Params<I, H, O, f32>>>(
        name: &str,
        mut optimizer: U,
        params: &mut Params<I, H, O, f32>,
        grads: &Params<I, H, O, f32>,
    ) {
        let (events, result) = heap_events(|| {
            optimizer
                .step(params, grads)
                .and_then(|()| optimizer.step(params, grads))
        });
        assert_eq!(events, 0, "{name} step allocated");
        assert!(result.is_ok());
        assert_eq!(optimizer.steps(), 2);
    }
    let momentum = SgdConfig {
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::default()
    };
    two_steps("SGD", Sgd::new(momentum), &mut rnn.params, &grads);
    two_steps("Adagrad", Adagrad::default(), &mut rnn.params, &grads);
    let centered = RmsPropConfig {
        centered: true,
        momentum: 0.5,
        ..RmsPropConfig::default()
    };
    two_steps("RMSprop", RmsProp::new(centered), &mut rnn.params, &grads);
    two_steps("Adam", Adam::default(), &mut rnn.params, &grads);
    two_steps("AdamW", AdamW::default(), &mut rnn.params, &grads);
}

#[test]
fn the_firmware_path_performs_no_heap_allocation() {
    // The firmware's model (firmware/src/scenario.rs), its sequences and its targets: none for the
    // first two steps, then the next sample.
    type Firmware = Rnn<1, 16, 1, Tanh, Identity, f32>;
    const STEPS: usize = 24;
    let xs: [SVector<f32, 1>; STEPS] =
        core::array::from_fn(|t| SVector::from([(t % 7) as f32 / 7.0 - 0.5]));
    let ys: [Option<SVector<f32, 1>>; STEPS] = core::array::from_fn(|t| {
        (t >= 2).then(|| SVector::from([((t + 1) % 7) as f32 / 7.0 - 0.5]))
    });
    let mut rng = Pcg64Mcg::seed_from_u64(7);

    let (events, result) = heap_events(|| {
        let mut rnn = Firmware::init(&mut rng, Scheme::keras());
        let mut adam = Adam::new(AdamConfig {
            lr: 0.01,
            ..AdamConfig::default()
        });
        let mut grads = Params::zeros();
        let h0 = SVector::zeros();
        let before = rnn.loss(Mse, &h0, &xs, &ys);
        for _ in 0..3 {
            let trace = rnn.forward(&h0, &xs);
            grads.set_zero();
            rnn.backward(Mse, &xs, &trace, &ys, &mut grads);
            clip_grad_norm(&mut grads, 1.0)?;
            rnn.update(&mut adam, &grads)?;
        }
        let mut h = SVector::zeros();
        for x in &xs {
            (h, _) = rnn.step(&h, x);
        }
        Ok::<_, static_rnn::NonFiniteGradient>((before, rnn.loss(Mse, &h0, &xs, &ys), h))
    });
    assert_eq!(events, 0, "the firmware's path allocated");
    let (before, after, h) = result.expect("finite gradients");
    assert!(after < before, "three Adam steps did not lower the loss");
    assert!(h.iter().all(|v| v.is_finite()));
}
