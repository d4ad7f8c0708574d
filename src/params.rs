//! The parameters of an RNN, and anything shaped like them (gradients, optimizer state).
//!
//! | field | shape | role |
//! |---|---|---|
//! | `w_x` | `H × I` | input-to-hidden weights `W_x` |
//! | `w_h` | `H × H` | hidden-to-hidden (recurrent) weights `W_h` |
//! | `b_h` | `H` | hidden bias `b_h` |
//! | `w_y` | `O × H` | hidden-to-output weights `W_y` |
//! | `b_y` | `O` | output bias `b_y` |
//!
//! The same struct holds a model's weights and the gradient `∂L/∂θ` with respect to them, so that
//! gradients accumulate (`+=`) and optimizers update element-wise without conversions.

use crate::scalar::Real;
use crate::tensors::Tensors;
use approx::{AbsDiffEq, RelativeEq, UlpsEq};
use core::ops::{AddAssign, MulAssign};
use nalgebra::{ArrayStorage, SMatrix, SVector};
use num_traits::ConstZero;

/// The five parameter tensors of an Elman RNN with `I` inputs, `H` hidden units and `O` outputs;
/// also the shape of its gradient.
///
/// ```
/// use static_rnn::Params;
/// let mut grads = Params::<3, 4, 2, f64>::zeros();
/// grads.b_h[0] += 1.5;
/// grads += &Params::zeros();
/// assert_eq!(grads.b_h[0], 1.5);
/// assert_eq!(Params::<3, 4, 2, f64>::COUNT, 4 * 3 + 4 * 4 + 4 + 2 * 4 + 2);
/// ```
///
/// On x86-64 a parameter set is aligned to 64 bytes, a cache line and an AVX-512 register, so
/// the whole columns the kernels load do not straddle cache lines (its size is rounded up to a
/// multiple of 64 bytes there: [`Rnn::PARAMETER_BYTES`](crate::Rnn::PARAMETER_BYTES)).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct Params<const I: usize, const H: usize, const O: usize, T = f32> {
    /// Input-to-hidden weights `W_x` (`H × I`).
    pub w_x: SMatrix<T, H, I>,
    /// Hidden-to-hidden weights `W_h` (`H × H`).
    pub w_h: SMatrix<T, H, H>,
    /// Hidden bias `b_h` (`H`).
    pub b_h: SVector<T, H>,
    /// Hidden-to-output weights `W_y` (`O × H`).
    pub w_y: SMatrix<T, O, H>,
    /// Output bias `b_y` (`O`).
    pub b_y: SVector<T, O>,
}

impl<const I: usize, const H: usize, const O: usize, T: Real> Params<I, H, O, T> {
    /// The number of scalars: `H·I + H·H + H + O·H + O`.
    pub const COUNT: usize = H * I + H * H + H + O * H + O;

    /// All zeros: the starting point of a gradient accumulator.
    pub fn zeros() -> Self {
        Self {
            w_x: SMatrix::zeros(),
            w_h: SMatrix::zeros(),
            b_h: SVector::zeros(),
            w_y: SMatrix::zeros(),
            b_y: SVector::zeros(),
        }
    }

    /// Sets every scalar to zero, in place (to reuse a gradient accumulator).
    pub fn set_zero(&mut self) {
        for tensor in self.tensors_mut() {
            tensor.fill(T::zero());
        }
    }

    /// The Euclidean norm over all scalars, `√(Σ θ²)`, as gradient clipping measures it.
    pub fn norm(&self) -> T {
        self.tensors()
            .iter()
            .flat_map(|t| t.iter())
            .fold(T::zero(), |sum, &x| sum + x * x)
            .sqrt()
    }
}

impl<const I: usize, const H: usize, const O: usize, T: Real + ConstZero> Params<I, H, O, T> {
    /// All zeros, as a constant (for `f32` and `f64`, and any scalar with a constant zero).
    ///
    /// Unlike [`zeros`](Self::zeros), which builds each matrix at run time, the constant is
    /// evaluated by the compiler, so copying it needs no temporaries: what lets
    /// [`Params::boxed_zeros`] put a large model on the heap with at most one copy of it on the
    /// stack, even in a debug build.
    ///
    /// ```
    /// use static_rnn::Params;
    /// const GRADS: Params<3, 8, 2> = Params::ZERO;
    /// assert_eq!(GRADS, Params::zeros());
    /// ```
    pub const ZERO: Self = Self {
        w_x: SMatrix::from_array_storage(ArrayStorage([[T::ZERO; H]; I])),
        w_h: SMatrix::from_array_storage(ArrayStorage([[T::ZERO; H]; H])),
        b_h: SMatrix::from_array_storage(ArrayStorage([[T::ZERO; H]; 1])),
        w_y: SMatrix::from_array_storage(ArrayStorage([[T::ZERO; O]; H])),
        b_y: SMatrix::from_array_storage(ArrayStorage([[T::ZERO; O]; 1])),
    };
}

impl<const I: usize, const H: usize, const O: usize, T: Real> Default for Params<I, H, O, T> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<const I: usize, const H: usize, const O: usize, T: Real> Tensors<T, 5> for Params<I, H, O, T> {
    fn names() -> [&'static str; 5] {
        ["w_x", "w_h", "b_h", "w_y", "b_y"]
    }

    fn tensors(&self) -> [&[T]; 5] {
        [
            self.w_x.as_slice(),
            self.w_h.as_slice(),
            self.b_h.as_slice(),
            self.w_y.as_slice(),
            self.b_y.as_slice(),
        ]
    }

    fn tensors_mut(&mut self) -> [&mut [T]; 5] {
        [
            self.w_x.as_mut_slice(),
            self.w_h.as_mut_slice(),
            self.b_h.as_mut_slice(),
            self.w_y.as_mut_slice(),
            self.b_y.as_mut_slice(),
        ]
    }
}

/// `self += other`, tensor by tensor: how per-sequence gradients sum into a minibatch gradient.
impl<const I: usize, const H: usize, const O: usize, T: Real> AddAssign<&Params<I, H, O, T>>
    for Params<I, H, O, T>
{
    fn add_assign(&mut self, other: &Params<I, H, O, T>) {
        self.w_x += other.w_x;
        self.w_h += other.w_h;
        self.b_h += other.b_h;
        self.w_y += other.w_y;
        self.b_y += other.b_y;
    }
}

/// `self *= s`, every scalar (for example `1/B` to turn a summed minibatch gradient into a mean).
impl<const I: usize, const H: usize, const O: usize, T: Real> MulAssign<T> for Params<I, H, O, T> {
    fn mul_assign(&mut self, s: T) {
        self.w_x *= s;
        self.w_h *= s;
        self.b_h *= s;
        self.w_y *= s;
        self.b_y *= s;
    }
}

impl<const I: usize, const H: usize, const O: usize, T: Real> Params<I, H, O, T> {
    /// Whether `same` holds for every pair of corresponding scalars of `self` and `other`.
    fn all_scalars(&self, other: &Self, same: impl Fn(&T, &T) -> bool) -> bool {
        self.tensors()
            .iter()
            .zip(other.tensors())
            .all(|(mine, theirs)| mine.iter().zip(theirs).all(|(a, b)| same(a, b)))
    }
}

/// Element by element, as nalgebra compares matrices: `assert_abs_diff_eq!(p, q, epsilon = 1e-9)`.
impl<const I: usize, const H: usize, const O: usize, T: Real> AbsDiffEq for Params<I, H, O, T> {
    type Epsilon = T;

    fn default_epsilon() -> T {
        T::default_epsilon()
    }

    fn abs_diff_eq(&self, other: &Self, epsilon: T) -> bool {
        self.all_scalars(other, |a, b| a.abs_diff_eq(b, epsilon))
    }
}

/// Element by element: `assert_relative_eq!(p, q, max_relative = 1e-9)`.
impl<const I: usize, const H: usize, const O: usize, T: Real> RelativeEq for Params<I, H, O, T> {
    fn default_max_relative() -> T {
        T::default_max_relative()
    }

    fn relative_eq(&self, other: &Self, epsilon: T, max_relative: T) -> bool {
        self.all_scalars(other, |a, b| a.relative_eq(b, epsilon, max_relative))
    }
}

/// Element by element: `assert_ulps_eq!(p, q, max_ulps = 4)`.
impl<const I: usize, const H: usize, const O: usize, T: Real> UlpsEq for Params<I, H, O, T> {
    fn default_max_ulps() -> u32 {
        T::default_max_ulps()
    }

    fn ulps_eq(&self, other: &Self, epsilon: T, max_ulps: u32) -> bool {
        self.all_scalars(other, |a, b| a.ulps_eq(b, epsilon, max_ulps))
    }
}
