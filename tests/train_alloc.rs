//! The training loop allocates up front and per epoch, never per batch or per sequence: a counting
//! global allocator shows that `Trainer::fit` makes the same number of heap events for 4 and for
//! 32 training sequences (with one optimizer step per sequence), and that each further epoch
//! costs exactly what pushing one more report onto a `Vec` costs.
//!
//! Only allocations made by the measuring thread while a measurement is open are counted, so the
//! test harness's own threads do not disturb the count.
#![cfg(feature = "alloc")]

use core::ops::ControlFlow;
use rand_pcg::Pcg64Mcg;
use static_rnn::rand_core::SeedableRng;
use static_rnn::train::{Clip, EarlyStopping, EpochReport, TrainConfig, Trainer};
use static_rnn::{Adam, AdamConfig, CrossEntropy, Rnn, SVector, init::Scheme};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::heap_events;

type Sequence = ([SVector<f32, 2>; 5], [SVector<f32, 3>; 5]);

/// `n` sequences of 5 steps in arrays, so that the data itself is not on the heap.
fn data(n: usize) -> Vec<Sequence> {
    (0..n)
        .map(|k| {
            let xs =
                core::array::from_fn(|t| SVector::from_fn(|i, _| ((k + t + i) % 5) as f32 / 5.0));
            let ys = core::array::from_fn(|t| {
                SVector::from_fn(|c, _| f32::from(u8::from(c == (k + t) % 3)))
            });
            (xs, ys)
        })
        .collect()
}

/// Heap events of a whole `fit` (building and dropping the report included) of `epochs` epochs
/// with batches of one sequence, clipping, early stopping and validation.
fn fit_events(train: &[Sequence], epochs: usize) -> usize {
    let mut rnn = Rnn::<2, 6, 3>::init(&mut Pcg64Mcg::seed_from_u64(0), Scheme::keras());
    let config = TrainConfig {
        epochs,
        batch_size: 1,
        clip: Some(Clip::Norm(1.0)),
        early_stopping: Some(EarlyStopping {
            patience: 1000,
            ..EarlyStopping::default()
        }),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(
        CrossEntropy,
        Adam::new(AdamConfig::default()),
        Pcg64Mcg::seed_from_u64(1),
        config,
    );
    let (events, updates) = heap_events(|| {
        let report = trainer.fit(&mut rnn, train, &train[..2], |_| ControlFlow::Continue(()));
        report.history.iter().map(|e| e.updates).sum::<usize>()
    });
    assert_eq!(updates, epochs * train.len());
    events
}

#[test]
fn fit_allocates_per_run_and_per_epoch_only() {
    let (small, large) = (data(4), data(32));
    assert_eq!(
        fit_events(&small, 1),
        fit_events(&large, 1),
        "4 and 32 steps per epoch"
    );
    assert_eq!(fit_events(&small, 6), fit_events(&large, 6));

    // Each further epoch costs what one more push onto the history costs (its growth).
    let pushes = |n: usize| {
        heap_events(|| {
            let mut history: Vec<EpochReport> = Vec::new();
            for _ in 0..n {
                history.push(std::hint::black_box(EpochReport {
                    epoch: 0,
                    train: Default::default(),
                    validation: None,
                    updates: 0,
                    skipped_batches: 0,
                    best_epoch: None,
                    elapsed: None,
                }));
            }
            history.len()
        })
        .0
    };
    for epochs in [2, 5, 9] {
        assert_eq!(
            fit_events(&small, epochs) - fit_events(&small, 1),
            pushes(epochs) - pushes(1),
            "{epochs} epochs"
        );
    }
}
