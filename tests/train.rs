//! The training loop against the primitive calls it is made of.
//!
//! The reference is a loop written out here from the public primitives — `shuffle`,
//! `forward_vec`, `backward`, scaling, `clip_grad_norm`/`clip_grad_value`, `Optimizer::step`,
//! `Rnn::loss` — as the module documentation describes it. Both do the same operations in the
//! same order, so parameters and losses must agree bit for bit, not to a tolerance. Then the
//! loop's own decisions: early stopping and restoring the best epoch, the callback, non-finite
//! gradients, determinism, invalid settings.
#![cfg(feature = "alloc")]

use core::ops::ControlFlow;
use rand_pcg::Pcg64Mcg;
use static_rnn::init::Scheme;
use static_rnn::non_finite::check_finite;
use static_rnn::rand_core::{Rng, SeedableRng};
use static_rnn::scalar::{constant, to_f64};
use static_rnn::train::{
    Clip, EarlyStopping, EpochReport, Example, LossSum, OnNonFinite, Reduction, Stop, TrainConfig,
    Trainer, shuffle,
};
use static_rnn::{
    Adam, AdamConfig, CrossEntropy, LastStep, NonFiniteGradient, Optimizer, Params, Real, Rnn,
    SVector, Sgd, SgdConfig, Softmax, Tanh, clip_grad_norm, clip_grad_value,
};

type Model<T> = Rnn<2, 5, 3, Tanh, Softmax, T>;
type Sequence<T> = (Vec<SVector<T, 2>>, Vec<SVector<T, 3>>);

fn model<T: Real>(seed: u64) -> Model<T> {
    Model::init(&mut Pcg64Mcg::seed_from_u64(seed), Scheme::keras())
}

fn one_hot<T: Real>(k: usize) -> SVector<T, 3> {
    SVector::from_fn(|i, _| constant(if i == k % 3 { 1.0 } else { 0.0 }))
}

/// `n` many-to-many sequences of lengths 1 to 6, the target of each step a class derived from
/// the inputs.
fn data<T: Real>(n: usize, seed: u64) -> Vec<Sequence<T>> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = 1 + (rng.next_u64() % 6) as usize;
            let xs: Vec<SVector<T, 2>> = (0..len)
                .map(|_| {
                    SVector::from_fn(|_, _| constant(static_rnn::random::uniform(&mut rng, 1.0)))
                })
                .collect();
            let ys = xs
                .iter()
                .map(|x| one_hot(usize::from(x[0] > x[1]) + usize::from(x[0] > T::zero())))
                .collect();
            (xs, ys)
        })
        .collect()
}

/// The loop written out from the primitives: what `fit` must compute.
struct Reference<T: Real, U> {
    rnn: Model<T>,
    optimizer: U,
    rng: Pcg64Mcg,
    history: Vec<(LossSum, Option<LossSum>, usize)>,
}

impl<T: Real, U: Optimizer<T, 5, Params<2, 5, 3, T>>> Reference<T, U> {
    fn run<E: Example<T, 2, 3>>(&mut self, config: &TrainConfig, train: &[E], validation: &[E]) {
        let mut order: Vec<usize> = (0..train.len()).collect();
        for _ in 0..config.epochs {
            if config.shuffle {
                shuffle(&mut self.rng, &mut order);
            }
            let mut train_loss = LossSum::default();
            let mut skipped = 0;
            for batch in order.chunks(config.batch_size) {
                let mut grads = Params::zeros();
                for &i in batch {
                    let (xs, targets) = (train[i].inputs(), train[i].targets());
                    let trace = self.rnn.forward_vec(&SVector::zeros(), xs);
                    let loss = self
                        .rnn
                        .backward(CrossEntropy, xs, &trace, targets, &mut grads)
                        .loss;
                    let scored = (0..xs.len())
                        .filter(|&t| static_rnn::Targets::at(targets, t, xs.len()).is_some())
                        .count();
                    train_loss.add(to_f64(loss), scored);
                }
                if config.reduction == Reduction::Mean {
                    grads *= T::one() / constant::<T>(batch.len() as f64);
                }
                let clipped = match config.clip {
                    None => Ok(()),
                    Some(Clip::Norm(c)) => clip_grad_norm(&mut grads, constant(c)).map(drop),
                    Some(Clip::Value(c)) => clip_grad_value(&mut grads, constant(c)),
                };
                if clipped
                    .and_then(|()| self.optimizer.step(&mut self.rnn.params, &grads))
                    .is_err()
                {
                    skipped += 1;
                }
            }
            let validation_loss = (!validation.is_empty()).then(|| {
                let mut sum = LossSum::default();
                for e in validation {
                    let n = e.inputs().len();
                    let scored = (0..n)
                        .filter(|&t| static_rnn::Targets::at(e.targets(), t, n).is_some())
                        .count();
                    sum.add(
                        to_f64(self.rnn.loss(
                            CrossEntropy,
                            &SVector::zeros(),
                            e.inputs(),
                            e.targets(),
                        )),
                        scored,
                    );
                }
                sum
            });
            self.history.push((train_loss, validation_loss, skipped));
        }
    }
}

fn continue_always(_: &EpochReport) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn fit_matches_reference<T: Real>() {
    let train = data::<T>(11, 1);
    let validation = data::<T>(4, 2);
    let clips = [None, Some(Clip::Norm(0.5)), Some(Clip::Value(0.05))];
    for (reduction, clip, batch_size, shuffled) in [
        (Reduction::Mean, clips[0], 3, true),
        (Reduction::Sum, clips[0], 4, true),
        (Reduction::Mean, clips[1], 2, true),
        (Reduction::Sum, clips[2], 5, true),
        (Reduction::Mean, clips[1], 3, false),
        (Reduction::Mean, clips[0], 11, true),
        (Reduction::Mean, clips[0], 100, false),
    ] {
        let config = TrainConfig {
            epochs: 4,
            batch_size,
            reduction,
            clip,
            shuffle: shuffled,
            ..TrainConfig::default()
        };
        let adam = Adam::new(AdamConfig {
            lr: 0.05,
            ..AdamConfig::default()
        });
        let mut trainer = Trainer::new(
            CrossEntropy,
            adam.clone(),
            Pcg64Mcg::seed_from_u64(7),
            config,
        );
        let mut rnn = model::<T>(3);
        let report = trainer.fit(&mut rnn, &train, &validation, continue_always);

        let mut reference = Reference {
            rnn: model::<T>(3),
            optimizer: adam,
            rng: Pcg64Mcg::seed_from_u64(7),
            history: vec![],
        };
        reference.run(&config, &train, &validation);

        let case = format!("{reduction:?}, {clip:?}, batch {batch_size}, shuffle {shuffled}");
        assert_eq!(rnn, reference.rnn, "{case}");
        assert_ne!(rnn, model::<T>(3), "{case}: training changed nothing");
        assert_eq!(
            trainer.optimizer.steps(),
            reference.optimizer.steps(),
            "{case}"
        );
        assert_eq!(
            trainer.rng.next_u64(),
            reference.rng.next_u64(),
            "{case}: the generators diverged"
        );
        assert_eq!(report.history.len(), 4);
        assert_eq!(report.stop, Stop::Completed);
        assert!(!report.stopped_early());
        for (epoch, (got, (train_loss, validation_loss, skipped))) in
            report.history.iter().zip(&reference.history).enumerate()
        {
            assert_eq!(got.epoch, epoch + 1);
            assert_eq!(got.train, *train_loss, "{case}, epoch {}", epoch + 1);
            assert_eq!(
                got.validation,
                *validation_loss,
                "{case}, epoch {}",
                epoch + 1
            );
            assert_eq!(got.skipped_batches, *skipped);
            assert_eq!(got.updates, train.len().div_ceil(batch_size));
            assert_eq!(got.train.sequences, 11);
            assert_eq!(
                got.train.scored_steps,
                train.iter().map(|(xs, _)| xs.len()).sum::<usize>()
            );
            assert_eq!(got.elapsed.is_some(), cfg!(feature = "std"));
        }
        // The best epoch is the one with the lowest validation loss per sequence.
        let lowest = (1..=4).min_by(|&a, &b| {
            report.history[a - 1]
                .monitored()
                .total_cmp(&report.history[b - 1].monitored())
        });
        assert_eq!(report.best_epoch, lowest, "{case}");
        assert!(!report.restored_best);
    }
}

#[test]
fn fit_is_the_primitive_loop_f64() {
    fit_matches_reference::<f64>();
}

#[test]
fn fit_is_the_primitive_loop_f32() {
    fit_matches_reference::<f32>();
}

#[test]
fn many_to_one_and_chosen_steps() {
    // Many-to-one: arrays with `LastStep`; the loss counts one scored step per sequence.
    let labelled: Vec<([SVector<f64, 2>; 4], LastStep<f64, 3>)> = data::<f64>(6, 5)
        .into_iter()
        .map(|(xs, ys)| (core::array::from_fn(|t| xs[t % xs.len()]), LastStep(ys[0])))
        .collect();
    let config = TrainConfig {
        epochs: 2,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let sgd = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut trainer = Trainer::new(
        CrossEntropy,
        sgd.clone(),
        Pcg64Mcg::seed_from_u64(1),
        config,
    );
    let mut rnn = model::<f64>(4);
    let report = trainer.fit(&mut rnn, &labelled, &labelled, continue_always);
    let mut reference = Reference {
        rnn: model::<f64>(4),
        optimizer: sgd,
        rng: Pcg64Mcg::seed_from_u64(1),
        history: vec![],
    };
    reference.run(&config, &labelled, &labelled);
    assert_eq!(rnn, reference.rnn);
    let epoch = report.last().unwrap();
    assert_eq!((epoch.train.sequences, epoch.train.scored_steps), (6, 6));
    assert_eq!(epoch.validation, reference.history[1].1);
    assert_eq!(epoch.train.per_sequence(), epoch.train.per_step());

    // Targets at chosen steps, through an `Example` of our own: only the `Some` steps count.
    struct EveryOther(Vec<SVector<f64, 2>>, Vec<Option<SVector<f64, 3>>>);
    impl Example<f64, 2, 3> for EveryOther {
        type Targets = [Option<SVector<f64, 3>>];
        fn inputs(&self) -> &[SVector<f64, 2>] {
            &self.0
        }
        fn targets(&self) -> &Self::Targets {
            &self.1
        }
    }
    let sparse: Vec<EveryOther> = data::<f64>(6, 6)
        .into_iter()
        .map(|(xs, ys)| {
            EveryOther(
                xs,
                ys.into_iter()
                    .enumerate()
                    .map(|(t, y)| (t % 2 == 1).then_some(y))
                    .collect(),
            )
        })
        .collect();
    let mut trainer = Trainer::new(
        CrossEntropy,
        Sgd::new(SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        }),
        Pcg64Mcg::seed_from_u64(1),
        config,
    );
    let report = trainer.fit(&mut model::<f64>(4), &sparse, &sparse[..0], continue_always);
    let scored: usize = sparse.iter().map(|e| e.0.len() / 2).sum();
    assert_eq!(report.history[0].train.scored_steps, scored);
    assert_eq!(report.history[0].validation, None);
    assert_eq!(
        report.history[0].train.per_step(),
        report.history[0].train.total / scored as f64
    );
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let train = data::<f64>(12, 1);
    let run = |seed: u64| {
        let config = TrainConfig {
            epochs: 3,
            batch_size: 4,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(
            CrossEntropy,
            Adam::new(AdamConfig::default()),
            Pcg64Mcg::seed_from_u64(seed),
            config,
        );
        let mut rnn = model::<f64>(0);
        let report = trainer.fit(&mut rnn, &train, &train, continue_always);
        (
            rnn,
            report
                .history
                .iter()
                .map(|e| (e.train, e.validation))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(run(5), run(5));
    assert_ne!(
        run(5).0,
        run(6).0,
        "a different seed should give a different order"
    );
}

/// Sequences of one constant input whose every target is class `k`.
fn constant_class(k: usize, n: usize) -> Vec<Sequence<f64>> {
    (0..n)
        .map(|i| {
            (
                vec![SVector::from([1.0, 0.1 * i as f64]); 3],
                vec![one_hot(k); 3],
            )
        })
        .collect()
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Training on class 0 and validating on class 1: the validation loss rises from the first
    // epoch on, so epoch 1 is the best, and with patience 3 training stops after epoch 4.
    let train = constant_class(0, 8);
    let validation = constant_class(1, 4);
    let trainer_for = |epochs, early_stopping| {
        let config = TrainConfig {
            epochs,
            batch_size: 4,
            early_stopping,
            ..TrainConfig::default()
        };
        Trainer::new(
            CrossEntropy,
            Sgd::new(SgdConfig {
                lr: 0.1,
                ..SgdConfig::default()
            }),
            Pcg64Mcg::seed_from_u64(3),
            config,
        )
    };
    let after = |epochs| {
        let mut rnn = model::<f64>(1);
        let _ = trainer_for(epochs, None).fit(&mut rnn, &train, &validation, continue_always);
        rnn
    };

    let early = EarlyStopping {
        patience: 3,
        min_delta: 0.0,
        restore_best: true,
    };
    let mut rnn = model::<f64>(1);
    let report = trainer_for(20, Some(early)).fit(&mut rnn, &train, &validation, continue_always);
    let validation_losses: Vec<f64> = report.history.iter().map(EpochReport::monitored).collect();
    assert!(
        validation_losses.windows(2).all(|w| w[1] > w[0]),
        "premise: {validation_losses:?} should rise"
    );
    assert_eq!(report.stop, Stop::EarlyStopping);
    assert!(report.stopped_early());
    assert_eq!(report.history.len(), 4);
    assert_eq!(report.best_epoch, Some(1));
    assert_eq!(report.best().unwrap().epoch, 1);
    assert!(report.history[0].improved() && !report.history[3].improved());
    assert!(report.history.iter().all(|e| e.best_epoch == Some(1)));
    assert!(report.restored_best);
    assert_eq!(rnn, after(1), "the parameters of epoch 1");

    // Without restoring, the model is that of the last epoch run.
    let mut rnn = model::<f64>(1);
    let report = trainer_for(
        20,
        Some(EarlyStopping {
            restore_best: false,
            ..early
        }),
    )
    .fit(&mut rnn, &train, &validation, continue_always);
    assert_eq!(report.history.len(), 4);
    assert!(!report.restored_best);
    assert_eq!(rnn, after(4));

    // Without a validation set the training loss is monitored; it falls every epoch, so nothing
    // stops training, and the best epoch is the last.
    let report =
        trainer_for(6, Some(early)).fit(&mut model::<f64>(1), &train, &train[..0], continue_always);
    assert_eq!(report.stop, Stop::Completed);
    assert_eq!(report.best_epoch, Some(6));
    // … unless an improvement must be larger than any loss: then only the first epoch counts
    // (`∞ − min_delta` is `∞`).
    let huge = EarlyStopping {
        min_delta: 1e9,
        ..early
    };
    let mut rnn = model::<f64>(1);
    let report = trainer_for(6, Some(huge)).fit(&mut rnn, &train, &train[..0], continue_always);
    assert_eq!(
        (report.stop, report.best_epoch, report.history.len()),
        (Stop::EarlyStopping, Some(1), 4)
    );
    assert_eq!(rnn, after(1));

    // A plateau is no improvement: with a learning rate of 0 every epoch has the same loss.
    let config = TrainConfig {
        epochs: 20,
        batch_size: 4,
        early_stopping: Some(early),
        ..TrainConfig::default()
    };
    let frozen = Sgd::new(SgdConfig {
        lr: 0.0,
        ..SgdConfig::default()
    });
    let report = Trainer::new(CrossEntropy, frozen, Pcg64Mcg::seed_from_u64(3), config).fit(
        &mut model::<f64>(1),
        &train,
        &validation,
        continue_always,
    );
    assert_eq!(
        (report.stop, report.best_epoch, report.history.len()),
        (Stop::EarlyStopping, Some(1), 4)
    );
}

#[test]
fn the_callback_sees_every_epoch_and_can_stop() {
    let train = data::<f64>(9, 1);
    let config = TrainConfig {
        epochs: 10,
        batch_size: 3,
        ..TrainConfig::default()
    };
    let new_trainer = |epochs| {
        Trainer::new(
            CrossEntropy,
            Adam::new(AdamConfig::default()),
            Pcg64Mcg::seed_from_u64(2),
            TrainConfig { epochs, ..config },
        )
    };
    let mut seen = vec![];
    let mut rnn = model::<f64>(2);
    let report = new_trainer(10).fit(&mut rnn, &train, &train, |epoch| {
        seen.push(*epoch);
        if epoch.epoch == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(report.stop, Stop::Callback);
    assert_eq!(seen, report.history);
    assert_eq!(report.history.len(), 3);
    let mut three = model::<f64>(2);
    let _ = new_trainer(3).fit(&mut three, &train, &train, continue_always);
    assert_eq!(rnn, three);

    // The report prints as one line per epoch.
    let line = seen[0].to_string();
    assert!(line.starts_with("epoch 1: train "), "{line}");
    assert!(
        line.contains("validation ") && line.contains("3 updates") && line.ends_with(" *"),
        "{line}"
    );
}

#[test]
fn a_non_finite_gradient_is_skipped_or_stops_training() {
    // The fourth sequence has a NaN input, so the second batch of 3 (in slice order) has a NaN
    // gradient in every epoch.
    let mut train = data::<f64>(9, 1);
    train[3].0[0][1] = f64::NAN;
    let validation = data::<f64>(3, 2);
    let sgd = Sgd::new(SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    });
    let config = TrainConfig {
        epochs: 3,
        batch_size: 3,
        shuffle: false,
        ..TrainConfig::default()
    };

    let mut rnn = model::<f64>(5);
    let mut trainer = Trainer::new(
        CrossEntropy,
        sgd.clone(),
        Pcg64Mcg::seed_from_u64(1),
        config,
    );
    let report = trainer.fit(&mut rnn, &train, &validation, continue_always);
    let mut reference = Reference {
        rnn: model::<f64>(5),
        optimizer: sgd.clone(),
        rng: Pcg64Mcg::seed_from_u64(1),
        history: vec![],
    };
    reference.run(&config, &train, &validation);
    assert_eq!(rnn, reference.rnn);
    assert!(rnn.params.w_x.iter().all(|w| w.is_finite()));
    assert_eq!(report.stop, Stop::Completed);
    assert_eq!(report.skipped_batches, 3);
    for epoch in &report.history {
        assert_eq!((epoch.updates, epoch.skipped_batches), (2, 1));
        assert!(
            epoch.train.total.is_nan(),
            "the NaN sequence's loss is part of the training loss"
        );
        assert!(epoch.validation.unwrap().total.is_finite());
    }
    assert_eq!(trainer.optimizer.steps(), 6);

    // Stopping: at the second batch of the first epoch, after one update, with the error the
    // optimizer gives for that batch's gradient.
    let mut grads = Params::zeros();
    let first_update = {
        let mut rnn = model::<f64>(5);
        let mut sgd = sgd.clone();
        let mut g = Params::zeros();
        for (xs, ys) in &train[..3] {
            rnn.backward(
                CrossEntropy,
                xs,
                &rnn.forward_vec(&SVector::zeros(), xs),
                ys.as_slice(),
                &mut g,
            );
        }
        g *= 1.0 / 3.0;
        sgd.step(&mut rnn.params, &g).unwrap();
        for (xs, ys) in &train[3..6] {
            rnn.backward(
                CrossEntropy,
                xs,
                &rnn.forward_vec(&SVector::zeros(), xs),
                ys.as_slice(),
                &mut grads,
            );
        }
        rnn
    };
    let error: NonFiniteGradient = check_finite(&grads).unwrap_err();
    let mut rnn = model::<f64>(5);
    let stop = TrainConfig {
        on_non_finite: OnNonFinite::Stop,
        ..config
    };
    let report = Trainer::new(CrossEntropy, sgd, Pcg64Mcg::seed_from_u64(1), stop).fit(
        &mut rnn,
        &train,
        &validation,
        continue_always,
    );
    assert_eq!(
        report.stop,
        Stop::NonFiniteGradient {
            epoch: 1,
            batch: 2,
            error
        }
    );
    assert!(report.stopped_early());
    assert!(report.history.is_empty());
    assert_eq!(report.best_epoch, None);
    assert_eq!(rnn, first_update);
}

#[test]
fn loss_sums_average_per_sequence_and_per_step() {
    let mut sum = LossSum::default();
    sum.add(3.0, 2);
    sum.add(5.0, 6);
    assert_eq!((sum.total, sum.sequences, sum.scored_steps), (8.0, 2, 8));
    assert_eq!(sum.per_sequence(), 4.0);
    assert_eq!(sum.per_step(), 1.0);
    assert!(LossSum::default().per_sequence().is_nan());
}

fn fit_with(config: TrainConfig, train: &[Sequence<f64>]) {
    let mut trainer = Trainer::new(
        CrossEntropy,
        Sgd::new(SgdConfig::default()),
        Pcg64Mcg::seed_from_u64(0),
        config,
    );
    let _ = trainer.fit(&mut model::<f64>(0), train, train, continue_always);
}

#[test]
#[should_panic(expected = "the training set is empty")]
fn an_empty_training_set_panics() {
    fit_with(TrainConfig::default(), &[]);
}

#[test]
#[should_panic(expected = "batch_size must be ≥ 1")]
fn a_zero_batch_size_panics() {
    fit_with(
        TrainConfig {
            batch_size: 0,
            ..TrainConfig::default()
        },
        &data(2, 0),
    );
}

#[test]
#[should_panic(expected = "patience must be ≥ 1")]
fn zero_patience_panics() {
    let early_stopping = Some(EarlyStopping {
        patience: 0,
        ..EarlyStopping::default()
    });
    fit_with(
        TrainConfig {
            early_stopping,
            ..TrainConfig::default()
        },
        &data(2, 0),
    );
}

#[test]
#[should_panic(expected = "clipping threshold must be ≥ 0")]
fn a_negative_clipping_threshold_panics() {
    fit_with(
        TrainConfig {
            clip: Some(Clip::Norm(-1.0)),
            ..TrainConfig::default()
        },
        &data(2, 0),
    );
}

#[test]
#[should_panic(expected = "min_delta must be ≥ 0")]
fn a_nan_min_delta_panics() {
    let early_stopping = Some(EarlyStopping {
        min_delta: f64::NAN,
        ..EarlyStopping::default()
    });
    fit_with(
        TrainConfig {
            early_stopping,
            ..TrainConfig::default()
        },
        &data(2, 0),
    );
}

#[test]
fn zero_epochs_train_nothing() {
    let train = data::<f64>(3, 0);
    let mut rnn = model::<f64>(0);
    let config = TrainConfig {
        epochs: 0,
        ..TrainConfig::default()
    };
    let report = Trainer::new(
        CrossEntropy,
        Sgd::new(SgdConfig::default()),
        Pcg64Mcg::seed_from_u64(0),
        config,
    )
    .fit(&mut rnn, &train, &train, continue_always);
    assert_eq!(rnn, model::<f64>(0));
    assert!(
        report.history.is_empty() && report.best_epoch.is_none() && report.stop == Stop::Completed
    );
}
