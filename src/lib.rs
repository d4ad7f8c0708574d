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
pub mod batch;
#[cfg(feature = "alloc")]
pub mod boxed;
pub mod clip;
mod dispatch;
#[cfg(feature = "alloc")]
pub mod export;
mod features;
pub mod gradcheck;
pub mod gradient_table;
pub mod init;
pub mod jacobian;
mod kernels;
pub mod loss;
pub mod model;
pub mod non_finite;
pub mod numerics;
pub mod optim;
pub mod params;
pub mod random;
pub mod scalar;
pub mod stateful;
pub mod targets;
pub mod tensors;
pub mod trace;
pub mod train;
pub mod truncated_bptt;

pub use activation::{
    FastSoftmax, FastTanh, HiddenActivation, Identity, OutputActivation, Relu, Sigmoid, Softmax,
    SoftmaxHead, Tanh,
};
pub use backward::{BackwardStep, BackwardSummary, Gradients};
pub use batch::{BatchDiagonal, BatchLastStep, BatchStep, BatchSummary, BatchTargets, BatchTrace};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use dispatch::fuses_multiply_adds;
pub use gradcheck::{GradcheckOptions, GradcheckReport, TensorCheck};
pub use jacobian::{Diagonal, SoftmaxJacobian, VectorJacobianProduct};
pub use loss::{BinaryCrossEntropy, CrossEntropy, General, Loss, LossFor, Mse};
pub use model::Rnn;
pub use non_finite::NonFiniteGradient;
pub use optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
pub use params::Params;
pub use scalar::Real;
pub use stateful::Stateful;
pub use targets::{LastStep, Targets};
pub use tensors::Tensors;
pub use trace::{ForwardStep, Trace};
pub use truncated_bptt::TruncatedBptt;

/// nalgebra, re-exported so that users name the same `SMatrix`/`SVector` types as the crate.
pub use nalgebra;
/// An `R × C` matrix on the stack: nalgebra's `SMatrix<T, R, C>`.
pub use nalgebra::SMatrix;
/// A column vector of `N` scalars on the stack: nalgebra's `SVector<T, N>`.
pub use nalgebra::SVector;
/// rand_core, re-exported so that users name the same `Rng` and `SeedableRng` traits as the crate.
pub use rand_core;
