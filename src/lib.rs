#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "std", feature = "libm")))]
compile_error!(
    "static-rnn needs a math backend: enable the `std` feature (the default) \
     or, on targets without std, the `libm` feature"
);

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod activation;
pub mod backward;
pub mod gradcheck;
pub mod gradient_table;
pub mod jacobian;
mod kernels;
pub mod loss;
pub mod model;
pub mod numerics;
pub mod params;
pub mod scalar;
pub mod targets;
pub mod tensors;
pub mod trace;

pub use activation::{
    FastTanh, HiddenActivation, Identity, OutputActivation, Relu, Sigmoid, Softmax, Tanh,
};
pub use backward::{BackwardStep, BackwardSummary, Gradients};
pub use gradcheck::{GradcheckOptions, GradcheckReport, TensorCheck};
pub use jacobian::{Diagonal, SoftmaxJacobian, VectorJacobianProduct};
pub use loss::{BinaryCrossEntropy, CrossEntropy, General, Loss, LossFor, Mse};
pub use model::Rnn;
pub use params::Params;
pub use scalar::Real;
pub use targets::{LastStep, Targets};
pub use tensors::Tensors;
pub use trace::{ForwardStep, Trace};

/// nalgebra, re-exported so that users name the same `SMatrix`/`SVector` types as the crate.
pub use nalgebra;
/// An `R × C` matrix on the stack: nalgebra's `SMatrix<T, R, C>`.
pub use nalgebra::SMatrix;
/// A column vector of `N` scalars on the stack: nalgebra's `SVector<T, N>`.
pub use nalgebra::SVector;
