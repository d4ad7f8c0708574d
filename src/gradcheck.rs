//! Gradient checking by central finite differences, as PyTorch's `torch.autograd.gradcheck` does.
//!
//! For every scalar `θ_j` of every tensor, the numerical derivative
//! `n_j = (L(θ + ε e_j) − L(θ − ε e_j)) / 2ε` is compared with the analytic `a_j` that
//! backpropagation gives; an entry passes when `|a_j − n_j| ≤ atol + rtol · |n_j|`. The defaults
//! are PyTorch's: `ε = 1e−6`, `atol = 1e−5`, `rtol = 1e−3`, meant for `f64` (in `f32` the
//! rounding error of `L` swamps a step of `1e−6`; use `ε ≈ 1e−2` and looser tolerances there).
//!
//! [`check_tensors`] works for any [`Tensors`] (so a later GRU or LSTM reuses it);
//! [`Rnn::gradcheck`] checks an RNN's five parameter tensors and its initial state `h_0`. It runs
//! in `#![no_std]`, without a heap: `2 · (parameters + H)` loss evaluations, each a forward pass.

use crate::activation::{HiddenActivation, OutputActivation};
use crate::loss::LossFor;
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::{Real, constant, to_f64};
use crate::targets::Targets;
use crate::tensors::Tensors;
use crate::trace::ForwardStep;
use core::fmt;
use nalgebra::SVector;

/// Step and tolerances of a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradcheckOptions {
    /// The finite-difference step `ε`.
    pub eps: f64,
    /// The absolute tolerance.
    pub atol: f64,
    /// The relative tolerance, applied to `|numerical|`.
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    /// PyTorch's defaults: `eps = 1e−6`, `atol = 1e−5`, `rtol = 1e−3`.
    fn default() -> Self {
        Self {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The outcome for one tensor: its worst entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorCheck {
    /// The tensor's name (`"w_x"`, …, `"h0"`).
    pub name: &'static str,
    /// The number of scalars checked.
    pub len: usize,
    /// `max_j |a_j − n_j|`.
    pub max_abs_error: f64,
    /// `max_j |a_j − n_j| / max(|a_j|, |n_j|)` (an entry where both are zero counts as `0`).
    pub max_rel_error: f64,
    /// `max_j |a_j − n_j| / (atol + rtol·|n_j|)`: the tensor passes when it is at most `1`.
    pub worst_ratio: f64,
    /// The index (into the tensor's slice) of the entry with the worst ratio.
    pub worst_index: usize,
}

impl TensorCheck {
    /// Whether every entry is within `atol + rtol·|n_j|` (and finite).
    pub fn passed(&self) -> bool {
        self.worst_ratio <= 1.0
    }
}

/// The outcome for `N` tensors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradcheckReport<const N: usize> {
    /// One entry per tensor, in the order of [`Tensors::names`].
    pub tensors: [TensorCheck; N],
}

impl<const N: usize> GradcheckReport<N> {
    /// Whether every tensor passed.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(TensorCheck::passed)
    }

    /// The largest relative error over all tensors.
    pub fn max_rel_error(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.max_rel_error)
            .fold(0.0, f64::max)
    }

    /// The largest absolute error over all tensors.
    pub fn max_abs_error(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.max_abs_error)
            .fold(0.0, f64::max)
    }
}

/// One line per tensor: name, size, worst absolute and relative errors, and PASS or FAIL.
impl<const N: usize> fmt::Display for GradcheckReport<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tensors {
            writeln!(
                f,
                "{:<4} {:>6} entries  max abs error {:.3e}  max rel error {:.3e}  {}",
                t.name,
                t.len,
                t.max_abs_error,
                t.max_rel_error,
                if t.passed() { "PASS" } else { "FAIL" }
            )?;
        }
        Ok(())
    }
}

/// Checks `analytic` (the gradient at `point`) against central differences of `loss` around
/// `point`, tensor by tensor.
///
/// ```
/// use static_rnn::{gradcheck::check_tensors, GradcheckOptions, Params, Tensors};
/// // L(θ) = Σ θ², whose gradient is 2θ.
/// let mut point = Params::<1, 2, 1, f64>::zeros();
/// point.w_h[(0, 1)] = 0.75;
/// let mut analytic = point;
/// analytic *= 2.0;
/// let loss = |p: &Params<1, 2, 1, f64>| p.norm().powi(2);
/// let report = check_tensors(&point, &analytic, loss, GradcheckOptions::default());
/// assert!(report.passed());
/// ```
pub fn check_tensors<P, T, const N: usize>(
    point: &P,
    analytic: &P,
    mut loss: impl FnMut(&P) -> T,
    options: GradcheckOptions,
) -> GradcheckReport<N>
where
    P: Tensors<T, N> + Clone,
    T: Real,
{
    let eps: T = constant(options.eps);
    let two_eps = to_f64(eps + eps);
    let names = P::names();
    let mut probe = point.clone();
    let tensors = core::array::from_fn(|k| {
        let expected = analytic.tensors()[k];
        let mut check = TensorCheck {
            name: names[k],
            len: expected.len(),
            max_abs_error: 0.0,
            max_rel_error: 0.0,
            worst_ratio: 0.0,
            worst_index: 0,
        };
        for (j, &a) in expected.iter().enumerate() {
            let original = probe.tensors()[k][j];
            probe.tensors_mut()[k][j] = original + eps;
            let plus = loss(&probe);
            probe.tensors_mut()[k][j] = original - eps;
            let minus = loss(&probe);
            probe.tensors_mut()[k][j] = original;

            let numerical = (to_f64(plus) - to_f64(minus)) / two_eps;
            let a = to_f64(a);
            let error = (a - numerical).abs();
            let scale = a.abs().max(numerical.abs());
            let relative = if scale == 0.0 { 0.0 } else { error / scale };
            let ratio = error / (options.atol + options.rtol * numerical.abs());
            check.max_abs_error = check.max_abs_error.max(error);
            check.max_rel_error = check.max_rel_error.max(relative);
            // A NaN (from a non-finite loss or gradient) must fail the check.
            if ratio.is_nan() || ratio > check.worst_ratio {
                check.worst_ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
                check.worst_index = j;
            }
        }
        check
    });
    GradcheckReport { tensors }
}

/// An RNN's parameters together with its initial state: the six tensors [`Rnn::gradcheck`] checks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamsAndState<const I: usize, const H: usize, const O: usize, T> {
    /// The five parameter tensors.
    pub params: Params<I, H, O, T>,
    /// The initial state `h_0`.
    pub h0: SVector<T, H>,
}

impl<const I: usize, const H: usize, const O: usize, T: Real> Tensors<T, 6>
    for ParamsAndState<I, H, O, T>
{
    fn names() -> [&'static str; 6] {
        let [w_x, w_h, b_h, w_y, b_y] = Params::<I, H, O, T>::names();
        [w_x, w_h, b_h, w_y, b_y, "h0"]
    }

    fn tensors(&self) -> [&[T]; 6] {
        let [w_x, w_h, b_h, w_y, b_y] = self.params.tensors();
        [w_x, w_h, b_h, w_y, b_y, self.h0.as_slice()]
    }

    fn tensors_mut(&mut self) -> [&mut [T]; 6] {
        let [w_x, w_h, b_h, w_y, b_y] = self.params.tensors_mut();
        [w_x, w_h, b_h, w_y, b_y, self.h0.as_mut_slice()]
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real,
{
    /// Checks BPTT's `∂L/∂W_x`, `∂L/∂W_h`, `∂L/∂b_h`, `∂L/∂W_y`, `∂L/∂b_y` and `∂L/∂h_0` against
    /// central finite differences of [`loss`](Self::loss). `buffer` holds the trace of the analytic
    /// pass (at least `xs.len()` steps). No allocation.
    ///
    /// ```
    /// use static_rnn::{CrossEntropy, ForwardStep, GradcheckOptions, Rnn, SMatrix, SVector};
    /// let rnn = Rnn::<2, 3, 2, static_rnn::Tanh, static_rnn::Softmax, f64>::new(
    ///     SMatrix::from_fn(|i, j| 0.3 * (i as f64) - 0.2 * (j as f64)),
    ///     SMatrix::from_fn(|i, j| 0.1 * ((i + 2 * j) as f64).sin()),
    ///     SVector::from_fn(|i, _| 0.05 * i as f64),
    ///     SMatrix::from_fn(|i, j| 0.4 * ((i * 3 + j) as f64).cos()),
    ///     SVector::zeros(),
    /// );
    /// let xs = [SVector::from([1.0, -0.5]), SVector::from([0.25, 2.0]), SVector::from([-1.0, 0.0])];
    /// let ys = [SVector::from([1.0, 0.0]), SVector::from([0.0, 1.0]), SVector::from([0.5, 0.5])];
    /// let mut buffer = [ForwardStep::zeros(); 3];
    /// let report = rnn.gradcheck(
    ///     CrossEntropy, &SVector::from([0.1, -0.2, 0.3]), &xs, &ys, &mut buffer,
    ///     GradcheckOptions::default(),
    /// );
    /// assert!(report.passed(), "{report}");
    /// ```
    pub fn gradcheck<L, Y>(
        &self,
        loss: L,
        h0: &SVector<T, H>,
        xs: &[SVector<T, I>],
        targets: &Y,
        buffer: &mut [ForwardStep<H, O, T>],
        options: GradcheckOptions,
    ) -> GradcheckReport<6>
    where
        L: LossFor<G, T>,
        Y: Targets<T, O> + ?Sized,
    {
        let trace = self.forward_into(h0, xs, buffer);
        let mut params = Params::zeros();
        let summary = self.backward(loss, xs, &trace, targets, &mut params);
        let analytic = ParamsAndState {
            params,
            h0: summary.dl_dh0,
        };
        let point = ParamsAndState {
            params: self.params,
            h0: *h0,
        };
        check_tensors(
            &point,
            &analytic,
            |probe| Self::from_params(probe.params).loss(loss, &probe.h0, xs, targets),
            options,
        )
    }
}
