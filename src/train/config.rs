//! The settings of a training run: epochs, minibatches, clipping, early stopping, and what to do
//! with a non-finite gradient.

use super::clipping::Clip;

/// How the per-sequence gradients of a minibatch of `n` sequences become one gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// `g = (1/n) Σ_b ∂L⁽ᵇ⁾/∂θ`: the gradient of the mean loss per sequence, so a learning rate
    /// means the same for every batch size (and for the last, smaller batch of an epoch). The
    /// default, as PyTorch's and Keras' losses.
    #[default]
    Mean,
    /// `g = Σ_b ∂L⁽ᵇ⁾/∂θ`: the gradient of the summed loss.
    Sum,
}

/// Stop when the monitored loss has not improved for `patience` epochs (Keras' `EarlyStopping`).
///
/// The monitored loss is the validation loss per sequence after each epoch
/// ([`LossSum::per_sequence`](super::LossSum::per_sequence)), or the training loss per sequence
/// when there is no validation set. An epoch improves on the best so far when its loss is
/// `< best − min_delta`; training stops at the end of the `patience`-th epoch in a row without
/// one (Keras' and Lightning's meaning of patience).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs in a row without improvement after which training stops (`≥ 1`).
    pub patience: usize,
    /// How much lower than the best a loss must be to count as an improvement (`≥ 0`).
    pub min_delta: f64,
    /// Whether to put the parameters of the best epoch back into the model when training ends
    /// (for any reason: early stopping, the epoch limit, the callback, a non-finite gradient).
    /// The optimizer's state is not restored: it stays that of the last update.
    pub restore_best: bool,
}

impl Default for EarlyStopping {
    /// `patience = 10`, `min_delta = 0`, `restore_best = true`.
    fn default() -> Self {
        Self {
            patience: 10,
            min_delta: 0.0,
            restore_best: true,
        }
    }
}

/// What the training loop does when a minibatch's gradient holds a `NaN` or `±∞` (and clipping
/// or the optimizer refuses it, changing nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OnNonFinite {
    /// Skip the batch (no update) and count it in
    /// [`EpochReport::skipped_batches`](super::EpochReport::skipped_batches); go on with the next
    /// batch. The default: one bad sequence does not end a long run, and the count shows it.
    #[default]
    Skip,
    /// End training at once, with [`Stop::NonFiniteGradient`](super::Stop::NonFiniteGradient)
    /// naming the epoch and batch; the unfinished epoch gets no report.
    Stop,
}

/// The settings of [`Trainer::fit`](super::Trainer::fit).
///
/// Build it with struct-update syntax from the default:
///
/// ```
/// use static_rnn::train::{Clip, EarlyStopping, TrainConfig};
/// let config = TrainConfig {
///     epochs: 200,
///     batch_size: 16,
///     clip: Some(Clip::Norm(1.0)),
///     early_stopping: Some(EarlyStopping { patience: 5, ..EarlyStopping::default() }),
///     ..TrainConfig::default()
/// };
/// assert!(config.shuffle);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// The most passes over the training set (fewer if training stops early).
    pub epochs: usize,
    /// Sequences per minibatch, one optimizer step each (`≥ 1`); the last batch of an epoch
    /// holds the remainder.
    pub batch_size: usize,
    /// Sum or mean of the per-sequence gradients of a batch.
    pub reduction: Reduction,
    /// Whether to shuffle the training set at the start of every epoch (Fisher–Yates with the
    /// trainer's generator). Without it, batches follow the order of the slice.
    pub shuffle: bool,
    /// Gradient clipping, if any.
    pub clip: Option<Clip>,
    /// Early stopping, if any.
    pub early_stopping: Option<EarlyStopping>,
    /// What to do with a non-finite gradient.
    pub on_non_finite: OnNonFinite,
}

impl Default for TrainConfig {
    /// `epochs = 10`, `batch_size = 32` (Keras' default), mean reduction, shuffled, no clipping,
    /// no early stopping, non-finite batches skipped.
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 32,
            reduction: Reduction::Mean,
            shuffle: true,
            clip: None,
            early_stopping: None,
            on_non_finite: OnNonFinite::Skip,
        }
    }
}

impl TrainConfig {
    /// Panics with a message naming the first invalid setting.
    pub(crate) fn check(&self) {
        assert!(self.batch_size > 0, "TrainConfig: batch_size must be ≥ 1");
        if let Some(Clip::Norm(c) | Clip::Value(c)) = self.clip {
            assert!(
                c >= 0.0,
                "TrainConfig: the clipping threshold must be ≥ 0, got {c}"
            );
        }
        if let Some(early) = self.early_stopping {
            assert!(
                early.patience > 0,
                "TrainConfig: early stopping's patience must be ≥ 1"
            );
            assert!(
                early.min_delta >= 0.0,
                "TrainConfig: early stopping's min_delta must be ≥ 0, got {}",
                early.min_delta
            );
        }
    }
}
