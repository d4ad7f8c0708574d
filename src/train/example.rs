//! A training example: one sequence of inputs with its targets.

use crate::scalar::Real;
use crate::targets::{LastStep, Targets};
use nalgebra::SVector;

/// One training sequence: the inputs `x_1 … x_T` and the targets of its scored steps.
///
/// A data set is a slice of examples, `&[E]`; sequences may differ in length. Implemented for
/// pairs:
///
/// | example | scored steps | task |
/// |---|---|---|
/// | `(inputs, targets)`, both `AsRef<[SVector]>` (arrays, `Vec`s, slices) | every step | many-to-many (next-step prediction, tagging) |
/// | `(inputs, LastStep(y))` | the last step | many-to-one (classifying a sequence) |
///
/// For another pattern (targets at chosen steps, `[Option<SVector>]`), implement the trait for a
/// type of your own; `Targets` can be any [`Targets`] implementation.
///
/// ```
/// use static_rnn::train::Example;
/// use static_rnn::{LastStep, SVector};
///
/// // Many-to-many, sequences of different lengths in `Vec`s.
/// let data: Vec<(Vec<SVector<f64, 1>>, Vec<SVector<f64, 1>>)> = vec![
///     (vec![SVector::from([0.0]), SVector::from([1.0])], vec![SVector::from([1.0]), SVector::from([2.0])]),
///     (vec![SVector::from([5.0])], vec![SVector::from([6.0])]),
/// ];
/// assert_eq!(data[1].inputs().len(), 1);
///
/// // Many-to-one, fixed-length arrays: one label per sequence.
/// let labelled = [([SVector::<f64, 2>::zeros(); 6], LastStep(SVector::<f64, 1>::from([1.0])))];
/// assert_eq!(labelled[0].targets().0[0], 1.0);
///
/// // Targets at chosen steps: a type of your own.
/// struct Sparse {
///     xs: Vec<SVector<f64, 1>>,
///     ys: Vec<Option<SVector<f64, 1>>>,
/// }
/// impl Example<f64, 1, 1> for Sparse {
///     type Targets = [Option<SVector<f64, 1>>];
///     fn inputs(&self) -> &[SVector<f64, 1>] {
///         &self.xs
///     }
///     fn targets(&self) -> &Self::Targets {
///         &self.ys
///     }
/// }
/// ```
pub trait Example<T: Real, const I: usize, const O: usize> {
    /// What the targets are: `[SVector<T, O>]`, [`LastStep`], `[Option<SVector<T, O>>]`, …
    type Targets: Targets<T, O> + ?Sized;

    /// The inputs `x_1 … x_T`.
    fn inputs(&self) -> &[SVector<T, I>];

    /// The targets, for a sequence of `inputs().len()` steps.
    fn targets(&self) -> &Self::Targets;
}

/// Many-to-many: a target at every step.
impl<T: Real, const I: usize, const O: usize, X, Y> Example<T, I, O> for (X, Y)
where
    X: AsRef<[SVector<T, I>]>,
    Y: AsRef<[SVector<T, O>]>,
{
    type Targets = [SVector<T, O>];

    #[inline]
    fn inputs(&self) -> &[SVector<T, I>] {
        self.0.as_ref()
    }

    #[inline]
    fn targets(&self) -> &[SVector<T, O>] {
        self.1.as_ref()
    }
}

/// Many-to-one: a target at the last step.
impl<T: Real, const I: usize, const O: usize, X> Example<T, I, O> for (X, LastStep<T, O>)
where
    X: AsRef<[SVector<T, I>]>,
{
    type Targets = LastStep<T, O>;

    #[inline]
    fn inputs(&self) -> &[SVector<T, I>] {
        self.0.as_ref()
    }

    #[inline]
    fn targets(&self) -> &LastStep<T, O> {
        &self.1
    }
}

/// How many of the `len` steps `targets` score.
#[cfg(feature = "alloc")]
pub(crate) fn scored_steps<T: Real, const O: usize, Y: Targets<T, O> + ?Sized>(
    targets: &Y,
    len: usize,
) -> usize {
    (0..len).filter(|&t| targets.at(t, len).is_some()).count()
}
