//! Which steps of a sequence are scored, and against what.
//!
//! `L = Σ over scored steps t of L_t(ŷ_t, y_t)`. A target at every step is the many-to-many case
//! (next-character prediction); a target at the last step only is the many-to-one case (sequence
//! classification). Any pattern in between is a slice of `Option`s.

use crate::scalar::Real;
use nalgebra::SVector;

/// The targets of a sequence of `len` steps: `at(t, len)` is `y_t`, or `None` where step `t`
/// (0-based) is not scored.
///
/// Implemented for
/// - `[SVector<T, O>]` and `[SVector<T, O>; S]`: every step scored;
/// - `[Option<SVector<T, O>>]` and `[Option<SVector<T, O>>; S]`: the steps that hold `Some`;
/// - [`LastStep`]: the last step only.
///
/// ```
/// use static_rnn::{LastStep, SVector, Targets};
/// let y = SVector::<f64, 2>::new(0.0, 1.0);
/// assert_eq!(LastStep(y).at(4, 5), Some(&y));
/// assert_eq!(LastStep(y).at(3, 5), None);
/// let some_steps = [None, Some(y), None];
/// assert_eq!(some_steps.at(1, 3), Some(&y));
/// ```
pub trait Targets<T: Real, const O: usize> {
    /// The target of step `t` of a sequence of `len` steps, if that step is scored.
    fn at(&self, t: usize, len: usize) -> Option<&SVector<T, O>>;

    /// How many steps these targets are for, where that is fixed (`None` for [`LastStep`]).
    /// BPTT checks it against the sequence.
    fn steps(&self) -> Option<usize>;
}

impl<T: Real, const O: usize> Targets<T, O> for [SVector<T, O>] {
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SVector<T, O>> {
        self.get(t)
    }

    fn steps(&self) -> Option<usize> {
        Some(<[_]>::len(self))
    }
}

impl<T: Real, const O: usize, const S: usize> Targets<T, O> for [SVector<T, O>; S] {
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SVector<T, O>> {
        self.get(t)
    }

    fn steps(&self) -> Option<usize> {
        Some(S)
    }
}

impl<T: Real, const O: usize> Targets<T, O> for [Option<SVector<T, O>>] {
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SVector<T, O>> {
        self.get(t).and_then(Option::as_ref)
    }

    fn steps(&self) -> Option<usize> {
        Some(<[_]>::len(self))
    }
}

impl<T: Real, const O: usize, const S: usize> Targets<T, O> for [Option<SVector<T, O>>; S] {
    #[inline]
    fn at(&self, t: usize, _len: usize) -> Option<&SVector<T, O>> {
        self.get(t).and_then(Option::as_ref)
    }

    fn steps(&self) -> Option<usize> {
        Some(S)
    }
}

/// One target, for the last step of a sequence of any length (many-to-one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastStep<T, const O: usize>(pub SVector<T, O>);

impl<T: Real, const O: usize> Targets<T, O> for LastStep<T, O> {
    #[inline]
    fn at(&self, t: usize, len: usize) -> Option<&SVector<T, O>> {
        (t + 1 == len).then_some(&self.0)
    }

    fn steps(&self) -> Option<usize> {
        None
    }
}
