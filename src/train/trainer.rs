//! The training loop: epochs of shuffled minibatches, validation, early stopping.

use super::config::{OnNonFinite, Reduction, TrainConfig};
use super::example::{Example, scored_steps};
use super::report::{EpochReport, LossSum, Stop, TrainReport};
use super::shuffle::shuffle;
use crate::activation::{HiddenActivation, OutputActivation};
use crate::loss::LossFor;
use crate::model::Rnn;
use crate::optim::Optimizer;
use crate::params::Params;
use crate::scalar::{Real, to_f64};
use crate::trace::ForwardStep;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::ControlFlow;
use core::time::Duration;
use nalgebra::SVector;
use rand_core::Rng;

/// A loss, an optimizer, a random number generator and the settings of a training run.
///
/// The fields are public: after [`fit`](Self::fit), `optimizer` holds its state (to go on
/// training) and `rng` has advanced past the shuffles (a second `fit` continues its stream).
#[derive(Clone, Debug)]
pub struct Trainer<L, U, R> {
    /// The loss, a zero-sized value such as [`CrossEntropy`](crate::CrossEntropy).
    pub loss: L,
    /// Any [`Optimizer`] over the model's [`Params`].
    pub optimizer: U,
    /// Draws the shuffles: any [`rand_core::Rng`], e.g. `rand_pcg::Pcg64Mcg::seed_from_u64(…)`.
    pub rng: R,
    /// Epochs, batch size, reduction, shuffling, clipping, early stopping, non-finite policy.
    pub config: TrainConfig,
}

impl<L, U, R: Rng> Trainer<L, U, R> {
    /// A trainer from its four parts.
    pub fn new(loss: L, optimizer: U, rng: R, config: TrainConfig) -> Self {
        Self {
            loss,
            optimizer,
            rng,
            config,
        }
    }

    /// Trains `rnn` on `train`, epoch after epoch, and reports every epoch to `on_epoch`.
    ///
    /// Each epoch:
    ///
    /// 1. shuffles the order of the training sequences (if `config.shuffle`), with
    ///    [`shuffle`](super::shuffle) and `self.rng`;
    /// 2. for each minibatch of `config.batch_size` sequences in that order (the last one holds
    ///    the remainder): for each sequence, from `h_0 = 0`, [`Rnn::forward_into`] then
    ///    [`Rnn::backward`] adding `∂L⁽ᵇ⁾/∂θ` into one gradient; that gradient reduced
    ///    (`g = (1/n) Σ_b ∂L⁽ᵇ⁾/∂θ` or `Σ_b`, [`Reduction`]), clipped (`config.clip`), and
    ///    applied, `θ ← U(θ, g)` ([`Rnn::update`]). A non-finite gradient is refused by clipping
    ///    or the optimizer, which change nothing; the batch is then skipped and counted, or
    ///    training stops ([`OnNonFinite`](super::OnNonFinite));
    /// 3. computes the validation loss with the parameters at the end of the epoch
    ///    ([`Rnn::loss`], by streaming, from `h_0 = 0`);
    /// 4. judges the monitored loss ([`EpochReport::monitored`]) against the best so far, and
    ///    decides on early stopping;
    /// 5. calls `on_epoch` with the [`EpochReport`]; `ControlFlow::Break(())` ends training.
    ///
    /// When training ends, with early stopping's `restore_best`, the model gets the parameters
    /// of the best epoch back. The same trainer state (seed), data, model and settings give
    /// the same model, bit for bit.
    ///
    /// It allocates a trace buffer for the longest training sequence and the index order once, up
    /// front, and grows the history by one report per epoch; nothing else (no allocation per
    /// batch or sequence).
    ///
    /// # Panics
    ///
    /// If `train` is empty, if the settings are invalid (`batch_size = 0`, a negative or `NaN`
    /// clipping threshold or `min_delta`, `patience = 0`), or if an example's targets do not fit
    /// its inputs.
    pub fn fit<const I: usize, const H: usize, const O: usize, F, G, T, E, V, C>(
        &mut self,
        rnn: &mut Rnn<I, H, O, F, G, T>,
        train: &[E],
        validation: &[V],
        mut on_epoch: C,
    ) -> TrainReport
    where
        F: HiddenActivation<T>,
        G: OutputActivation<T>,
        T: Real,
        L: LossFor<G, T>,
        U: Optimizer<T, 5, Params<I, H, O, T>>,
        E: Example<T, I, O>,
        V: Example<T, I, O>,
        C: FnMut(&EpochReport) -> ControlFlow<()>,
    {
        let config = self.config;
        config.check();
        assert!(!train.is_empty(), "Trainer::fit: the training set is empty");
        let run = Stopwatch::start();

        let longest = train.iter().map(|e| e.inputs().len()).max().unwrap_or(0);
        let mut buffer = vec![ForwardStep::zeros(); longest];
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut history = Vec::new();
        let mut grads = Params::zeros();
        let h0 = SVector::zeros();

        let mut best_epoch = None;
        let mut best_loss = f64::INFINITY;
        let mut best_params = rnn.params;
        let mut epochs_without_improvement = 0;
        let mut skipped_total = 0;
        let mut stop = Stop::Completed;

        'epochs: for epoch in 1..=config.epochs {
            let clock = Stopwatch::start();
            if config.shuffle {
                shuffle(&mut self.rng, &mut order);
            }
            let mut train_loss = LossSum::default();
            let (mut updates, mut skipped_batches) = (0, 0);

            for (batch_index, batch) in order.chunks(config.batch_size).enumerate() {
                grads.set_zero();
                for &i in batch {
                    let (xs, targets) = (train[i].inputs(), train[i].targets());
                    let trace = rnn.forward_into(&h0, xs, &mut buffer);
                    let summary = rnn.backward(self.loss, xs, &trace, targets, &mut grads);
                    train_loss.add(to_f64(summary.loss), scored_steps(targets, xs.len()));
                }
                if config.reduction == Reduction::Mean {
                    grads *= T::one() / nalgebra::convert::<f64, T>(batch.len() as f64);
                }
                let clipped = config.clip.map_or(Ok(()), |clip| clip.apply(&mut grads));
                match clipped.and_then(|()| rnn.update(&mut self.optimizer, &grads)) {
                    Ok(()) => updates += 1,
                    Err(error) => match config.on_non_finite {
                        OnNonFinite::Skip => skipped_batches += 1,
                        OnNonFinite::Stop => {
                            stop = Stop::NonFiniteGradient {
                                epoch,
                                batch: batch_index + 1,
                                error,
                            };
                            break 'epochs;
                        }
                    },
                }
            }
            skipped_total += skipped_batches;

            let validation_loss = (!validation.is_empty()).then(|| {
                let mut sum = LossSum::default();
                for example in validation {
                    let (xs, targets) = (example.inputs(), example.targets());
                    let loss = rnn.loss(self.loss, &h0, xs, targets);
                    sum.add(to_f64(loss), scored_steps(targets, xs.len()));
                }
                sum
            });

            let monitored = validation_loss.unwrap_or(train_loss).per_sequence();
            let min_delta = config.early_stopping.map_or(0.0, |early| early.min_delta);
            if monitored < best_loss - min_delta {
                best_loss = monitored;
                best_epoch = Some(epoch);
                best_params = rnn.params;
                epochs_without_improvement = 0;
            } else {
                epochs_without_improvement += 1;
            }

            let report = EpochReport {
                epoch,
                train: train_loss,
                validation: validation_loss,
                updates,
                skipped_batches,
                best_epoch,
                elapsed: clock.elapsed(),
            };
            history.push(report);
            let flow = on_epoch(&report);
            if config
                .early_stopping
                .is_some_and(|early| epochs_without_improvement >= early.patience)
            {
                stop = Stop::EarlyStopping;
                break;
            }
            if flow.is_break() {
                stop = Stop::Callback;
                break;
            }
        }

        let restored_best = config
            .early_stopping
            .is_some_and(|early| early.restore_best)
            && best_epoch.is_some();
        if restored_best {
            rnn.params = best_params;
        }
        TrainReport {
            history,
            stop,
            best_epoch,
            restored_best,
            skipped_batches: skipped_total,
            elapsed: run.elapsed(),
        }
    }
}

/// Wall-clock time with `std`; nothing without it.
struct Stopwatch {
    #[cfg(feature = "std")]
    start: std::time::Instant,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            #[cfg(feature = "std")]
            start: std::time::Instant::now(),
        }
    }

    fn elapsed(&self) -> Option<Duration> {
        #[cfg(feature = "std")]
        return Some(self.start.elapsed());
        #[cfg(not(feature = "std"))]
        None
    }
}
