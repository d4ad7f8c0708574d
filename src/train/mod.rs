//! Training: the loop over epochs for `alloc` users, and the same steps as primitive calls for
//! `#![no_std]` firmware.
//!
//! One optimizer step on a minibatch of `n` sequences, each from `h_0 = 0`:
//!
//! ```text
//! g = (1/n) Σ_b ∂L⁽ᵇ⁾/∂θ      forward, backward per sequence, summed into one gradient (mean or sum)
//! g ← clip(g)                  optional: ‖g‖ ≤ c, or every |g_i| ≤ c
//! θ ← U(θ, g)                  any Optimizer; refused (nothing changes) if g holds NaN or ±∞
//! ```
//!
//! An epoch shuffles the training set (Fisher–Yates, [`shuffle`], with a generator you seed),
//! takes such a step per minibatch, then measures the loss of a validation set.
//!
//! # The loop (`alloc`)
//!
//! [`Trainer::fit`] runs the epochs over a slice of [`Example`]s — `(inputs, targets)` pairs of
//! any lengths, targets at every step or [`LastStep`](crate::LastStep) only — with any
//! [`Optimizer`](crate::Optimizer), optional clipping ([`Clip`]), early stopping
//! ([`EarlyStopping`]: patience, `min_delta`, restoring the best parameters), and a callback
//! after every epoch that can show progress or stop training. It returns a [`TrainReport`]: every
//! epoch's training and validation loss ([`LossSum`]: per sequence and per scored step), time
//! (with `std`), skipped batches, the best epoch and why training stopped.
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use core::ops::ControlFlow;
//! use rand_pcg::Pcg64Mcg;
//! use static_rnn::init::Scheme;
//! use static_rnn::rand_core::SeedableRng;
//! use static_rnn::train::{Clip, EarlyStopping, Stop, TrainConfig, Trainer};
//! use static_rnn::{Adam, AdamConfig, Identity, Mse, Rnn, SVector, Tanh};
//!
//! // Next-step prediction of sine waves of random phase: x_t = sin(0.5 t + φ), y_t = x_{t+1}.
//! let wave = |phase: f64| -> (Vec<SVector<f64, 1>>, Vec<SVector<f64, 1>>) {
//!     let x = |t: usize| SVector::from([(0.5 * t as f64 + phase).sin()]);
//!     ((0..12).map(x).collect(), (1..13).map(x).collect())
//! };
//! let train: Vec<_> = (0..32).map(|k| wave(0.2 * k as f64)).collect();
//! let validation: Vec<_> = (0..8).map(|k| wave(0.1 + 0.8 * k as f64)).collect();
//!
//! let mut rnn = Rnn::<1, 8, 1, Tanh, Identity, f64>::init(&mut Pcg64Mcg::seed_from_u64(1), Scheme::keras());
//! let mut trainer = Trainer::new(
//!     Mse,
//!     Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() }),
//!     Pcg64Mcg::seed_from_u64(2), // shuffles
//!     TrainConfig {
//!         epochs: 30,
//!         batch_size: 8,
//!         clip: Some(Clip::Norm(1.0)),
//!         early_stopping: Some(EarlyStopping { patience: 5, ..EarlyStopping::default() }),
//!         ..TrainConfig::default()
//!     },
//! );
//! let report = trainer.fit(&mut rnn, &train, &validation, |epoch| {
//!     // println!("{epoch}"); // "epoch 30: train 0.230938 (0.019245/step), validation 0.229737 (0.019145/step), 4 updates, 6.1ms *"
//!     match epoch.validation {
//!         Some(loss) if loss.per_step() < 0.01 => ControlFlow::Break(()), // good enough
//!         _ => ControlFlow::Continue(()),
//!     }
//! });
//!
//! let first = report.history[0].validation.unwrap().per_step();
//! let best = report.best().unwrap().validation.unwrap().per_step();
//! assert!(best < first / 2.0, "validation MSE {first} → {best}");
//! assert_eq!(report.skipped_batches, 0);
//! assert!(matches!(report.stop, Stop::Completed | Stop::EarlyStopping | Stop::Callback));
//! # }
//! ```
//!
//! ## Definitions
//!
//! - **Training loss** of an epoch: every training sequence's loss as computed by its own forward
//!   pass during the epoch, with the parameters before its batch's update (the running loss),
//!   summed in `f64` ([`LossSum`]); **validation loss**: every validation sequence's loss with
//!   the parameters at the end of the epoch. Each sequence's loss is the sum over its scored
//!   steps; [`LossSum::per_sequence`] and [`LossSum::per_step`] average it.
//! - **Minibatch gradient**: [`Reduction::Mean`] (the default) `(1/n) Σ_b ∂L⁽ᵇ⁾/∂θ`, or
//!   [`Reduction::Sum`]; `n` is the size of that batch, so the last, smaller batch of an epoch is
//!   averaged over its own sequences. Clipping applies to the reduced gradient.
//! - **Best epoch**, **early stopping**: judged by the validation loss per sequence (the training
//!   loss per sequence without a validation set); see [`EarlyStopping`]. With `restore_best` the
//!   model ends with the best epoch's parameters (the optimizer's state is not restored).
//! - **Non-finite gradient**: clipping and the optimizer refuse it and change nothing; the loop
//!   then skips the batch and counts it ([`OnNonFinite::Skip`], the default), or stops at once
//!   ([`OnNonFinite::Stop`], reported as [`Stop::NonFiniteGradient`]). A model whose parameters
//!   have grown so large that every gradient overflows makes no progress under `Skip`: the counts
//!   in the report, and a non-finite training loss, show it.
//! - **Determinism**: the order of the sequences is the only randomness; it comes from the
//!   trainer's generator, so a seed, the data and the settings fix the trained model bit for bit.
//!
//! Every sequence starts from `h_0 = 0` and is a separate forward and backward pass
//! (sequences of one batch may differ in length). For a batch of sequences of one length, the
//! [`batch`](crate::batch) functions compute the same summed gradient with matrix–matrix
//! products.
//!
//! # The same steps without a heap
//!
//! The loop is made of calls that are all `#![no_std]` and allocate nothing: [`shuffle`] an
//! array of indices, [`Rnn::forward`](crate::Rnn::forward) (or `forward_into` a buffer),
//! [`Rnn::backward`](crate::Rnn::backward) into one gradient, scale, clip,
//! [`Rnn::update`](crate::Rnn::update), and [`Rnn::loss`](crate::Rnn::loss) for validation.
//! Firmware that trains on the device writes the loop itself:
//!
//! ```
//! use rand_pcg::Pcg64Mcg;
//! use static_rnn::init::Scheme;
//! use static_rnn::rand_core::SeedableRng;
//! use static_rnn::train::shuffle;
//! use static_rnn::{Adam, AdamConfig, Identity, Mse, Params, Rnn, SVector, Tanh, clip_grad_norm};
//!
//! // The same task in fixed-length arrays: 32 sequences of 12 steps.
//! fn wave(phase: f64) -> ([SVector<f64, 1>; 12], [SVector<f64, 1>; 12]) {
//!     let x = |t: usize| SVector::from([(0.5 * t as f64 + phase).sin()]);
//!     (core::array::from_fn(x), core::array::from_fn(|t| x(t + 1)))
//! }
//! let train: [_; 32] = core::array::from_fn(|k| wave(0.2 * k as f64));
//! let validation: [_; 8] = core::array::from_fn(|k| wave(0.1 + 0.8 * k as f64));
//! let mean_loss = |rnn: &Rnn<1, 8, 1, Tanh, Identity, f64>| {
//!     validation.iter().map(|(xs, ys)| rnn.loss(Mse, &SVector::zeros(), xs, ys)).sum::<f64>() / 8.0
//! };
//!
//! let mut rnn = Rnn::<1, 8, 1, Tanh, Identity, f64>::init(&mut Pcg64Mcg::seed_from_u64(1), Scheme::keras());
//! let mut adam = Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() });
//! let mut rng = Pcg64Mcg::seed_from_u64(2);
//! let mut order: [usize; 32] = core::array::from_fn(|i| i);
//! let mut grads = Params::zeros();
//! let mut skipped = 0;
//! let before = mean_loss(&rnn);
//! for _epoch in 0..30 {
//!     shuffle(&mut rng, &mut order);
//!     for batch in order.chunks(8) {
//!         grads.set_zero();
//!         for &i in batch {
//!             let (xs, ys) = &train[i];
//!             let trace = rnn.forward(&SVector::zeros(), xs);   // forward
//!             rnn.backward(Mse, xs, &trace, ys, &mut grads);    // g += ∂L⁽ᵇ⁾/∂θ
//!         }
//!         grads *= 1.0 / batch.len() as f64;                    // mean over the batch
//!         match clip_grad_norm(&mut grads, 1.0) {               // ‖g‖ ≤ 1
//!             Ok(_norm) => rnn.update(&mut adam, &grads)?,      // θ ← Adam(θ, g)
//!             Err(_) => skipped += 1,                           // NaN or ±∞: skip the batch
//!         }
//!     }
//! }
//! assert_eq!(skipped, 0);
//! assert!(mean_loss(&rnn) < before / 2.0);
//! # Ok::<(), static_rnn::NonFiniteGradient>(())
//! ```

mod clipping;
#[cfg(feature = "alloc")]
mod config;
mod example;
#[cfg(feature = "alloc")]
mod report;
mod shuffle;
#[cfg(feature = "alloc")]
mod trainer;

pub use clipping::Clip;
#[cfg(feature = "alloc")]
pub use config::{EarlyStopping, OnNonFinite, Reduction, TrainConfig};
pub use example::Example;
#[cfg(feature = "alloc")]
pub use report::{EpochReport, LossSum, Stop, TrainReport};
pub use shuffle::{below, shuffle};
#[cfg(feature = "alloc")]
pub use trainer::Trainer;
