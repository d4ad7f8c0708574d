//! Jacobians of activations, as types that can only be applied the right way.
//!
//! The classic BPTT mistake is to multiply by an activation's derivative as if it were a weight
//! matrix. Here an element-wise activation's derivative is a [`Diagonal`] Jacobian: it has no
//! matrix product at all, only [`Diagonal::hadamard`], the element-wise (Hadamard) product
//! `J v = f′(z) ⊙ v`. Weight matrices are nalgebra `SMatrix`es, which act only by matrix product.
//! A diagonal used where a matrix is expected does not compile:
//!
//! ```compile_fail
//! use static_rnn::{Diagonal, SMatrix, SVector};
//! let derivative = Diagonal::new(SVector::<f64, 3>::repeat(0.5));
//! let w_h = SMatrix::<f64, 3, 3>::identity();
//! let _ = w_h * derivative; // error: no `Mul<Diagonal>` for a matrix
//! ```
//!
//! while the element-wise product does:
//!
//! ```
//! use static_rnn::{Diagonal, SVector};
//! let derivative = Diagonal::new(SVector::<f64, 3>::repeat(0.5));
//! let upstream = SVector::<f64, 3>::new(2.0, 4.0, 6.0);
//! assert_eq!(derivative.hadamard(&upstream), SVector::<f64, 3>::new(1.0, 2.0, 3.0));
//! ```
//!
//! Backward passes only ever need the vector–Jacobian product `Jᵀ v`
//! ([`VectorJacobianProduct`]), so a Jacobian with structure — softmax's `diag(ŷ) − ŷ ŷᵀ`
//! ([`SoftmaxJacobian`]) — is applied in `O(N)` without forming the `N × N` matrix.

use crate::scalar::Real;
use nalgebra::SVector;

/// A Jacobian `J` (`N × N`) that can be applied to a vector from the left as `Jᵀ v`: the
/// vector–Jacobian product that carries a gradient `v = ∂L/∂(output)` back to `∂L/∂(input)`.
pub trait VectorJacobianProduct<T: Real, const N: usize> {
    /// `Jᵀ v`.
    fn vjp(&self, v: &SVector<T, N>) -> SVector<T, N>;
}

/// The Jacobian of an element-wise function: `diag(d)`, stored as its diagonal `d`.
///
/// It multiplies only element-wise: `diag(d) v = d ⊙ v` ([`hadamard`](Self::hadamard)). It has no
/// matrix product, so it cannot be mistaken for a weight matrix.
///
/// ```
/// use static_rnn::{Diagonal, VectorJacobianProduct, SVector};
/// let j = Diagonal::new(SVector::<f32, 2>::new(1.0, 0.0));
/// let v = SVector::<f32, 2>::new(3.0, 3.0);
/// assert_eq!(j.vjp(&v), SVector::<f32, 2>::new(3.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diagonal<T, const N: usize> {
    diagonal: SVector<T, N>,
}

impl<T: Real, const N: usize> Diagonal<T, N> {
    /// The Jacobian `diag(d)`.
    #[inline]
    pub fn new(d: SVector<T, N>) -> Self {
        Self { diagonal: d }
    }

    /// The diagonal `d`: for an activation, `f′(z)` component by component.
    #[inline]
    pub fn diagonal(&self) -> &SVector<T, N> {
        &self.diagonal
    }

    /// The element-wise product `d ⊙ v`, which is `diag(d) v` and, `diag(d)` being symmetric,
    /// also `diag(d)ᵀ v`.
    #[inline]
    pub fn hadamard(&self, v: &SVector<T, N>) -> SVector<T, N> {
        self.diagonal.component_mul(v)
    }
}

impl<T: Real, const N: usize> VectorJacobianProduct<T, N> for Diagonal<T, N> {
    #[inline]
    fn vjp(&self, v: &SVector<T, N>) -> SVector<T, N> {
        self.hadamard(v)
    }
}

/// The Jacobian of softmax at output `ŷ`: `J = diag(ŷ) − ŷ ŷᵀ`, kept as `ŷ` alone.
///
/// `J` is symmetric, and `Jᵀ v = ŷ ⊙ v − ŷ (ŷ · v) = ŷ ⊙ (v − (ŷ · v) 1)`: one dot product and one
/// element-wise product, `O(N)` work, never the `N × N` matrix.
///
/// ```
/// use static_rnn::{SoftmaxJacobian, VectorJacobianProduct, SVector};
/// let y_hat = SVector::<f64, 2>::new(0.25, 0.75);
/// let j = SoftmaxJacobian::new(y_hat);
/// // J = [[0.25 − 0.0625, −0.1875], [−0.1875, 0.75 − 0.5625]]
/// let jt_e0 = j.vjp(&SVector::from([1.0, 0.0]));
/// assert_eq!(jt_e0, SVector::from([0.1875, -0.1875]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxJacobian<T, const N: usize> {
    y_hat: SVector<T, N>,
}

impl<T: Real, const N: usize> SoftmaxJacobian<T, N> {
    /// The Jacobian of softmax at the point where its output is `y_hat`.
    #[inline]
    pub fn new(y_hat: SVector<T, N>) -> Self {
        Self { y_hat }
    }
}

impl<T: Real, const N: usize> VectorJacobianProduct<T, N> for SoftmaxJacobian<T, N> {
    #[inline]
    fn vjp(&self, v: &SVector<T, N>) -> SVector<T, N> {
        let projection = self.y_hat.dot(v);
        self.y_hat.component_mul(&v.add_scalar(-projection))
    }
}
