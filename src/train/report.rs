//! What a training run reports: the loss of every epoch, why it stopped, its best epoch.

use crate::non_finite::NonFiniteGradient;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

/// The loss summed over a set of sequences, with the counts that average it.
///
/// `total = Σ over sequences of L`, each sequence's `L` being the sum over its scored steps
/// (the crate's convention), accumulated in `f64` whatever the model's scalar.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossSum {
    /// `Σ L` over the sequences.
    pub total: f64,
    /// How many sequences were summed.
    pub sequences: usize,
    /// How many scored steps they have in all (`= sequences` for many-to-one targets).
    pub scored_steps: usize,
}

impl LossSum {
    /// Adds one sequence's loss and its number of scored steps.
    pub fn add(&mut self, loss: f64, scored_steps: usize) {
        self.total += loss;
        self.sequences += 1;
        self.scored_steps += scored_steps;
    }

    /// The mean loss per sequence, `total / sequences`: the objective of [`Reduction::Mean`]
    /// (and what early stopping monitors). `NaN` for no sequence.
    ///
    /// [`Reduction::Mean`]: super::Reduction::Mean
    pub fn per_sequence(&self) -> f64 {
        self.total / self.sequences as f64
    }

    /// The mean loss per scored step, `total / scored_steps`: for [`Mse`](crate::Mse) with one
    /// output, the mean squared error of a prediction. `NaN` for no scored step.
    pub fn per_step(&self) -> f64 {
        self.total / self.scored_steps as f64
    }
}

/// One epoch of [`Trainer::fit`](super::Trainer::fit), as the per-epoch callback sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// The training loss: every training sequence's loss as its forward pass computed it during
    /// the epoch, i.e. with the parameters before its batch's update (the running loss Keras
    /// and most training loops print). It includes the sequences of skipped batches, so a
    /// non-finite gradient usually shows here as a non-finite loss.
    pub train: LossSum,
    /// The validation loss after the epoch, with the parameters at its end; `None` without a
    /// validation set.
    pub validation: Option<LossSum>,
    /// Optimizer steps taken in this epoch.
    pub updates: usize,
    /// Batches whose gradient was non-finite and was not applied ([`OnNonFinite::Skip`]).
    ///
    /// [`OnNonFinite::Skip`]: super::OnNonFinite::Skip
    pub skipped_batches: usize,
    /// The best epoch so far (this one included) by the monitored loss
    /// ([`monitored`](Self::monitored)); `None` while no epoch has a finite one.
    pub best_epoch: Option<usize>,
    /// Wall-clock time of the epoch, validation included; `Some` with the `std` feature.
    pub elapsed: Option<Duration>,
}

impl EpochReport {
    /// The loss early stopping and the best epoch are judged by: the validation loss per
    /// sequence, or the training loss per sequence without a validation set.
    pub fn monitored(&self) -> f64 {
        self.validation.unwrap_or(self.train).per_sequence()
    }

    /// Whether this epoch is the best so far.
    pub fn improved(&self) -> bool {
        self.best_epoch == Some(self.epoch)
    }
}

/// `epoch 3: train 0.412 (0.0206/step), validation 0.398 (0.0199/step), 8 updates, 1.2ms`, with
/// `, 2 skipped` when batches were skipped and ` *` for the best epoch so far.
impl fmt::Display for EpochReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}: train {:.6} ({:.6}/step)",
            self.epoch,
            self.train.per_sequence(),
            self.train.per_step()
        )?;
        if let Some(validation) = self.validation {
            write!(
                f,
                ", validation {:.6} ({:.6}/step)",
                validation.per_sequence(),
                validation.per_step()
            )?;
        }
        write!(f, ", {} updates", self.updates)?;
        if self.skipped_batches > 0 {
            write!(f, ", {} skipped", self.skipped_batches)?;
        }
        if let Some(elapsed) = self.elapsed {
            write!(f, ", {elapsed:.1?}")?;
        }
        if self.improved() {
            write!(f, " *")?;
        }
        Ok(())
    }
}

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// Every epoch of [`TrainConfig::epochs`](super::TrainConfig::epochs) ran.
    Completed,
    /// The monitored loss did not improve for `patience` epochs.
    EarlyStopping,
    /// The per-epoch callback returned `ControlFlow::Break`.
    Callback,
    /// A batch's gradient was non-finite under [`OnNonFinite::Stop`](super::OnNonFinite::Stop).
    NonFiniteGradient {
        /// The epoch, from 1 (it has no [`EpochReport`]).
        epoch: usize,
        /// The batch within the epoch, from 1.
        batch: usize,
        /// Where the first non-finite scalar was.
        error: NonFiniteGradient,
    },
}

/// The result of [`Trainer::fit`](super::Trainer::fit).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "the report says whether training completed, stopped early or met a non-finite gradient"]
pub struct TrainReport {
    /// One report per completed epoch.
    pub history: Vec<EpochReport>,
    /// Why training ended.
    pub stop: Stop,
    /// The epoch with the lowest monitored loss (improvements counting only beyond early
    /// stopping's `min_delta`); `None` if no epoch completed with a finite one.
    pub best_epoch: Option<usize>,
    /// Whether the model now holds the parameters of `best_epoch` (early stopping with
    /// `restore_best` and a best epoch), rather than those of the last update.
    pub restored_best: bool,
    /// Batches skipped for a non-finite gradient, over all epochs.
    pub skipped_batches: usize,
    /// Wall-clock time of the whole run; `Some` with the `std` feature.
    pub elapsed: Option<Duration>,
}

impl TrainReport {
    /// Whether training ended before its last epoch (early stopping, the callback, or a
    /// non-finite gradient).
    pub fn stopped_early(&self) -> bool {
        self.stop != Stop::Completed
    }

    /// The report of the best epoch.
    pub fn best(&self) -> Option<&EpochReport> {
        self.best_epoch.map(|epoch| &self.history[epoch - 1])
    }

    /// The report of the last completed epoch.
    pub fn last(&self) -> Option<&EpochReport> {
        self.history.last()
    }
}
