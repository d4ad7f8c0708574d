//! Large models on a thread's default stack: an `H = 256` model trains with Adam inside a thread
//! of 2 MiB (the standard library's default for spawned threads, and so for test threads), in a
//! debug build and in a release build (`cargo test --release --test large_model`, in CI). The
//! boxed constructors that make it possible (`src/boxed.rs`) build the same values as the
//! ordinary ones.
//!
//! A thread that overflows its stack aborts the whole test process (it is not a panic), which
//! fails the run just the same.

#![cfg(feature = "alloc")]

use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::rand_core::SeedableRng;
use static_rnn::{
    Adam, AdamConfig, AdamW, AdamWConfig, Identity, Mse, Optimizer, Params, Rnn, SVector, Tanh,
    clip_grad_norm,
};

/// The standard library's default stack for a spawned thread (`RUST_MIN_STACK` unset).
const DEFAULT_THREAD_STACK: usize = 2 * 1024 * 1024;

const I: usize = 32;
const H: usize = 256;
const O: usize = 32;
const S: usize = 16;
type Large = Rnn<I, H, O, Tanh, Identity, f32>;

/// Inputs in `[−0.5, 0.5)`, and as targets the previous input (zero at the first step): the model
/// has to carry one step of memory.
fn sequence() -> ([SVector<f32, I>; S], [SVector<f32, O>; S]) {
    let x = |t: usize| SVector::from_fn(|i, _| ((7 * t + 3 * i) % 11) as f32 / 11.0 - 0.5);
    let xs = core::array::from_fn(x);
    let ys = core::array::from_fn(|t| if t == 0 { SVector::zeros() } else { x(t - 1) });
    (xs, ys)
}

#[test]
fn an_h256_model_trains_with_adam_on_a_default_2_mib_thread() {
    let (before, after, steps) = std::thread::Builder::new()
        .stack_size(DEFAULT_THREAD_STACK)
        .spawn(|| {
            let mut rnn = Large::boxed_init(&mut Pcg64Mcg::seed_from_u64(256), Scheme::pytorch());
            let mut grads = Params::boxed_zeros();
            let mut adam = Adam::boxed(AdamConfig::default());
            let (xs, ys) = sequence();
            let h0 = SVector::zeros();
            let before = rnn.loss(Mse, &h0, &xs, &ys);
            for _ in 0..4 {
                let trace = rnn.forward(&h0, &xs); // 16 steps × 2.25 KiB, on this thread's stack
                grads.set_zero();
                rnn.backward(Mse, &xs, &trace, &ys, &mut grads);
                clip_grad_norm(&mut *grads, 10.0).expect("finite gradient");
                rnn.update(&mut *adam, &grads).expect("finite gradient");
            }
            (before, rnn.loss(Mse, &h0, &xs, &ys), adam.steps())
        })
        .expect("spawn")
        .join()
        .expect("training panicked");
    assert_eq!(steps, 4);
    assert!(
        after < before,
        "4 Adam steps did not lower the loss: {before} → {after}"
    );
}

#[test]
fn boxed_constructors_build_what_the_ordinary_ones_build() {
    type Small = Rnn<3, 5, 2, Tanh, Identity, f64>;
    assert_eq!(*Params::<3, 5, 2, f32>::boxed_zeros(), Params::zeros());
    assert_eq!(Params::<3, 5, 2, f64>::ZERO, Params::zeros());
    assert_eq!(*Small::boxed_zeros(), Small::zeros());
    for scheme in [Scheme::keras(), Scheme::pytorch(), Scheme::irnn(-0.5)] {
        let boxed = Small::boxed_init(&mut Pcg64Mcg::seed_from_u64(9), scheme);
        let stacked = Small::init(&mut Pcg64Mcg::seed_from_u64(9), scheme);
        // Bit for bit, `−0.0` included (the IRNN's `−0.5·I` has negative zeros off the diagonal).
        let bits = |rnn: &Small| {
            use static_rnn::Tensors;
            rnn.params
                .tensors()
                .concat()
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&boxed), bits(&stacked), "{scheme:?}");
    }
}

#[test]
fn boxed_optimizers_step_as_the_ordinary_ones() {
    let config = AdamConfig {
        lr: 0.1,
        amsgrad: true,
        ..AdamConfig::default()
    };
    let configw = AdamWConfig {
        lr: 0.1,
        ..AdamWConfig::default()
    };
    let mut boxed = Adam::<Params<2, 3, 1, f64>>::boxed(config);
    let mut stacked = Adam::<Params<2, 3, 1, f64>>::new(config);
    let mut boxed_w = AdamW::<Params<2, 3, 1, f64>>::boxed(configw);
    let mut stacked_w = AdamW::<Params<2, 3, 1, f64>>::new(configw);
    assert_eq!(boxed.config, config);
    assert_eq!(boxed_w.config, configw);
    let mut theta = [Params::<2, 3, 1, f64>::zeros(); 4];
    for step in 0..3 {
        let mut grads = Params::zeros();
        grads.w_h[(step, 1)] = 1.0 + step as f64;
        grads.b_y[0] = -0.5;
        boxed.step(&mut theta[0], &grads).expect("finite");
        stacked.step(&mut theta[1], &grads).expect("finite");
        boxed_w.step(&mut theta[2], &grads).expect("finite");
        stacked_w.step(&mut theta[3], &grads).expect("finite");
    }
    assert_eq!(*boxed, stacked);
    assert_eq!(*boxed_w, stacked_w);
    assert_eq!(theta[0], theta[1]);
    assert_eq!(theta[2], theta[3]);
    assert!(theta[0].b_y[0] > 0.0); // it moved
}

#[test]
#[should_panic(expected = "Invalid learning rate")]
fn a_boxed_optimizer_checks_its_configuration() {
    let _ = Adam::<Params<1, 1, 1, f32>>::boxed(AdamConfig {
        lr: -1.0,
        ..AdamConfig::default()
    });
}

/// Past `backward::TRANSPOSED_WEIGHTS_MAX_BYTES` of transposed weights, BPTT multiplies by the
/// weights in place instead of forming `W_yᵀ` and `W_hᵀ`: that path gives what the independent
/// batch code (matrix–matrix products, `B = 1`) gives, to `1e−12` relative per tensor, in `f64`.
#[test]
fn large_models_take_the_in_place_back_products_and_they_agree_with_the_batch_path() {
    use static_rnn::backward::TRANSPOSED_WEIGHTS_MAX_BYTES;
    use static_rnn::{SMatrix, Tensors};
    const HL: usize = 192;
    type Big = Rnn<4, HL, 4, Tanh, Identity, f64>;
    const {
        assert!(
            HL * (HL + 4) * 8 > TRANSPOSED_WEIGHTS_MAX_BYTES,
            "the test must take the in-place path"
        )
    };
    std::thread::Builder::new()
        .stack_size(16 * DEFAULT_THREAD_STACK)
        .spawn(|| {
            let rnn = Big::boxed_init(&mut Pcg64Mcg::seed_from_u64(3), Scheme::pytorch());
            let xs: [SVector<f64, 4>; 6] = core::array::from_fn(|t| {
                SVector::from_fn(|i, _| ((t + 2 * i) % 5) as f64 / 5.0 - 0.4)
            });
            let ys: [SVector<f64, 4>; 6] = core::array::from_fn(|t| xs[(t + 5) % 6]);
            let h0 = SVector::from_fn(|i, _| (i % 7) as f64 / 70.0);
            let mut single = Params::boxed_zeros();
            let trace = rnn.forward(&h0, &xs);
            let summary = rnn.backward(Mse, &xs, &trace, &ys, &mut single);

            let bx: [SMatrix<f64, 4, 1>; 6] = core::array::from_fn(|t| xs[t]);
            let by: [SMatrix<f64, 4, 1>; 6] = core::array::from_fn(|t| ys[t]);
            let batch_trace = rnn.batch_forward(&h0, &bx);
            let mut batch = Params::boxed_zeros();
            let batch_summary = rnn.batch_backward(Mse, &bx, &batch_trace, &by, &mut batch);

            assert!((summary.loss - batch_summary.loss).abs() <= 1e-12 * summary.loss.abs());
            let normwise = |got: &[f64], want: &[f64]| {
                let scale = want.iter().fold(0.0_f64, |m, w| m.max(w.abs()));
                let error = got
                    .iter()
                    .zip(want)
                    .fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()));
                error / scale
            };
            for (name, (got, want)) in Params::<4, HL, 4, f64>::names()
                .iter()
                .zip(single.tensors().iter().zip(batch.tensors()))
            {
                let error = normwise(got, want);
                assert!(error <= 1e-12, "∂L/∂{name}: relative error {error:e}");
            }
            let error = normwise(summary.dl_dh0.as_slice(), batch_summary.dl_dh0.as_slice());
            assert!(error <= 1e-12, "∂L/∂h_0: relative error {error:e}");
        })
        .expect("spawn")
        .join()
        .expect("the in-place path agrees with the batch path");
}
