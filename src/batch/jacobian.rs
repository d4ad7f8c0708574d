//! The Jacobians of an element-wise activation for a whole batch, applied only element-wise.

use crate::activation::HiddenActivation;
use crate::jacobian::Diagonal;
use crate::scalar::Real;
use nalgebra::SMatrix;

/// The `B` diagonal Jacobians `diag(f′(z⁽ᵇ⁾))` of an element-wise activation over a batch, side
/// by side: column `b` of [`diagonals`](Self::diagonals) is the diagonal of sequence `b`'s
/// Jacobian.
///
/// Like [`Diagonal`] for one sequence, it multiplies only element by element:
/// `ΔZ = f′(Z) ⊙ ∂L/∂H` ([`hadamard`](Self::hadamard)), column `b` being
/// `diag(f′(z⁽ᵇ⁾)) ∂L/∂h⁽ᵇ⁾`. It has no matrix product, so it cannot stand in for a weight matrix:
///
/// ```compile_fail
/// use static_rnn::{batch::BatchDiagonal, SMatrix};
/// let derivative = BatchDiagonal::new(SMatrix::<f64, 3, 2>::repeat(0.5));
/// let w_h = SMatrix::<f64, 3, 3>::identity();
/// let _ = w_h * derivative; // error: no `Mul<BatchDiagonal>` for a matrix
/// ```
///
/// ```
/// use static_rnn::{batch::BatchDiagonal, HiddenActivation, SMatrix, SVector, Tanh};
/// let z = SMatrix::<f64, 2, 3>::from_fn(|i, b| i as f64 - b as f64);
/// let h = z.map(Tanh::activate);
/// let jacobians = BatchDiagonal::of_activation::<Tanh>(&z, &h);
/// // Column b is the per-sequence Jacobian of column b.
/// let z1: SVector<f64, 2> = z.column(1).into_owned();
/// let h1: SVector<f64, 2> = h.column(1).into_owned();
/// assert_eq!(jacobians.column(1), Tanh::jacobian(&z1, &h1));
/// let upstream = SMatrix::<f64, 2, 3>::repeat(2.0);
/// assert_eq!(jacobians.hadamard(&upstream), jacobians.diagonals() * 2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchDiagonal<T, const N: usize, const B: usize> {
    diagonals: SMatrix<T, N, B>,
}

impl<T: Real, const N: usize, const B: usize> BatchDiagonal<T, N, B> {
    /// The Jacobians whose diagonals are the columns of `d`.
    #[inline(always)]
    pub fn new(d: SMatrix<T, N, B>) -> Self {
        Self { diagonals: d }
    }

    /// The Jacobians `∂H/∂Z` of the hidden activation `F` at `Z`, where `H = F(Z)`: the matrix
    /// `f′(Z)`, from the scalar [`HiddenActivation::derivative`] applied element by element.
    #[inline(always)]
    pub fn of_activation<F: HiddenActivation<T>>(
        z: &SMatrix<T, N, B>,
        h: &SMatrix<T, N, B>,
    ) -> Self {
        // Over the contiguous storage (nalgebra's `zip_map` walks a strided iterator, which does
        // not vectorize).
        let mut d = SMatrix::<T, N, B>::zeros();
        for ((d, &z), &h) in d
            .as_mut_slice()
            .iter_mut()
            .zip(z.as_slice())
            .zip(h.as_slice())
        {
            *d = F::derivative(z, h);
        }
        Self::new(d)
    }

    /// The diagonals, one column per sequence.
    #[inline]
    pub fn diagonals(&self) -> &SMatrix<T, N, B> {
        &self.diagonals
    }

    /// The Jacobian of sequence `b`, `diag(f′(z⁽ᵇ⁾))`.
    ///
    /// # Panics
    ///
    /// If `b ≥ B`.
    #[inline]
    pub fn column(&self, b: usize) -> Diagonal<T, N> {
        Diagonal::new(self.diagonals.column(b).into_owned())
    }

    /// The element-wise product `f′(Z) ⊙ V`: column `b` is `diag(f′(z⁽ᵇ⁾)) v⁽ᵇ⁾`.
    #[inline(always)]
    pub fn hadamard(&self, v: &SMatrix<T, N, B>) -> SMatrix<T, N, B> {
        let mut product = *v;
        for (p, &d) in product
            .as_mut_slice()
            .iter_mut()
            .zip(self.diagonals.as_slice())
        {
            *p *= d;
        }
        product
    }
}
