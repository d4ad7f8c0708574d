//! Which steps of a batch are scored, and against what.

use crate::scalar::Real;
use nalgebra::SMatrix;

/// The targets of a batch of `B` sequences of `len` steps: `at(t, len)` is `Y_t` (`O × B`,
/// column `b` the target of sequence `b`), or `None` where step `t` (0-based) is not scored.
/// Every sequence of the batch is scored at the same steps.
///
/// The batch form of [`Targets`](crate::Targets), implemented for
/// - `[SMatrix<T, O, B>]` and `[SMatrix<T, O, B>; S]`: every step scored (many-to-many);
/// - `[Option<SMatrix<T, O, B>>]` and `[Option<SMatrix<T, O, B>>; S]`: the steps that hold `Some`;
/// - [`BatchLastStep`]: the last step only (many-to-one).
///
/// ```
/// use static_rnn::{batch::{BatchLastStep, BatchTargets}, SMatrix};
/// let y = SMatrix::<f64, 2, 4>::repeat(0.5);
/// assert_eq!(BatchLastStep(y).at(2, 3), Some(&y));
/// assert_eq!(BatchLastStep(y).at(1, 3), None);
/// assert_eq!([None, Some(y)].at(1, 2), Some(&y));
/// ```
pub trait BatchTargets<T: Real, const O: usize, const B: usize> {
    /// The targets `Y_t` of step `t` of a sequence of `len` steps, if that step is scored.
    fn at(&self, t: usize, len: usize) -> Option<&SMatrix<T, O, B>>;

    /// How many steps these targets are for, where that is fixed (`None` for
    /// [`BatchLastStep`]). BPTT checks it against the batch.
    fn steps(&self) -> Option<usize>;
}

impl<T: Real, const O: usize, const B: usize> BatchTargets<T, O, B> for [SMatrix<T, O, B>] {
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SMatrix<T, O, B>> {
        self.get(t)
    }

    fn steps(&self) -> Option<usize> {
        Some(<[_]>::len(self))
    }
}

impl<T: Real, const O: usize, const B: usize, const S: usize> BatchTargets<T, O, B>
    for [SMatrix<T, O, B>; S]
{
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SMatrix<T, O, B>> {
        self.get(t)
    }

    fn steps(&self) -> Option<usize> {
        Some(S)
    }
}

impl<T: Real, const O: usize, const B: usize> BatchTargets<T, O, B>
    for [Option<SMatrix<T, O, B>>]
{
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SMatrix<T, O, B>> {
        self.get(t).and_then(Option::as_ref)
    }

    fn steps(&self) -> Option<usize> {
        Some(<[_]>::len(self))
    }
}

impl<T: Real, const O: usize, const B: usize, const S: usize> BatchTargets<T, O, B>
    for [Option<SMatrix<T, O, B>>; S]
{
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SMatrix<T, O, B>> {
        self.get(t).and_then(Option::as_ref)
    }

    fn steps(&self) -> Option<usize> {
        Some(S)
    }
}

/// One target per sequence, for the last step of a batch of any length (many-to-one): column `b`
/// is the target of sequence `b`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchLastStep<T, const O: usize, const B: usize>(pub SMatrix<T, O, B>);

impl<T: Real, const O: usize, const B: usize> BatchTargets<T, O, B> for BatchLastStep<T, O, B> {
    #[inline]
    fn at(&self, t: usize, len: usize) -> Option<&SMatrix<T, O, B>> {
        (t + 1 == len).then_some(&self.0)
    }

    fn steps(&self) -> Option<usize> {
        None
    }
}

/// Panics with a clear message if `targets` are for a different number of steps than `len`.
pub(crate) fn check_batch_targets<T, Y, const O: usize, const B: usize>(targets: &Y, len: usize)
where
    T: Real,
    Y: BatchTargets<T, O, B> + ?Sized,
{
    if let Some(n) = targets.steps() {
        assert_eq!(
            n, len,
            "{n} batch targets were given for a batch of {len} steps"
        );
    }
}
