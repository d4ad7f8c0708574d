//! Minibatches: `B` sequences run forward and backward together, as matrix–matrix products.
//!
//! Column `b` of every matrix belongs to sequence `b` of the batch: the inputs of step `t` are
//! `X_t` (`I × B`), the hidden states `H_t` (`H × B`), the logits and outputs `A_t`, `Ŷ_t`
//! (`O × B`). With `1` the all-ones vector of length `B`,
//!
//! ```text
//! Z_t = W_h H_{t−1} + W_x X_t + b_h 1ᵀ      H_t = f(Z_t)   (element by element)
//! A_t = W_y H_t + b_y 1ᵀ                    Ŷ_t = g(A_t)   (column by column: softmax per column)
//! L   = Σ_b Σ over scored steps t of L_t(Ŷ_t[:, b], Y_t[:, b])
//! ```
//!
//! Backpropagation through time runs from `t = T` down to `1`, with `ΔA_t = ∂L/∂A_t` (column `b`
//! is `δa_t` of sequence `b`, zero at an unscored step) and `ΔZ_t = ∂L/∂Z_t`:
//!
//! | gradient | formula |
//! |---|---|
//! | `ΔA_t` | column by column, `LossFor::loss_and_delta` of that column |
//! | `∂L/∂W_y` | `Σ_t ΔA_t H_tᵀ` |
//! | `∂L/∂b_y` | `Σ_t ΔA_t 1` |
//! | `∂L/∂H_t` | `W_yᵀ ΔA_t + W_hᵀ ΔZ_{t+1}` (`ΔZ_{T+1} = 0`) |
//! | `ΔZ_t` | `f′(Z_t) ⊙ ∂L/∂H_t` ([`BatchDiagonal::hadamard`], element by element) |
//! | `∂L/∂W_x` | `Σ_t ΔZ_t X_tᵀ` |
//! | `∂L/∂W_h` | `Σ_t ΔZ_t H_{t−1}ᵀ` |
//! | `∂L/∂b_h` | `Σ_t ΔZ_t 1` |
//! | `∂L/∂H_0` | `W_hᵀ ΔZ_1` (column `b` is `∂L/∂h_0` of sequence `b`) |
//!
//! A product over the batch dimension sums over the sequences, `ΔZ_t X_tᵀ = Σ_b δz_t⁽ᵇ⁾ x_t⁽ᵇ⁾ᵀ`,
//! so [`Rnn::batch_backward`](crate::Rnn::batch_backward) adds the **sum** of the `B`
//! per-sequence gradients to the caller's [`Params`](crate::Params) (the same numbers as `B`
//! calls of [`Rnn::backward`](crate::Rnn::backward), up to the order of the additions), and
//! [`Rnn::batch_backward_mean`](crate::Rnn::batch_backward_mean) adds their **mean**, `1/B` of it,
//! for a learning rate that does not depend on `B`. Both accumulate (`+=`).
//!
//! The weights multiply only by matrix products; the activation derivative `f′(Z_t)` is a
//! [`BatchDiagonal`] — `B` diagonal Jacobians side by side — that multiplies only element by
//! element, as [`Diagonal`](crate::Diagonal) does for one sequence. The output activation and the
//! loss are applied column by column with the per-sequence
//! [`OutputActivation::forward`](crate::OutputActivation::forward) and
//! [`LossFor::loss_and_delta`](crate::LossFor::loss_and_delta): `O × B` work, small next to the
//! matrix products.
//!
//! Every sequence of a batch has the same length and is scored at the same steps
//! ([`BatchTargets`]). Traces live where the per-sequence ones do: in an array
//! ([`Rnn::batch_forward`](crate::Rnn::batch_forward)), in a caller's buffer
//! ([`Rnn::batch_forward_into`](crate::Rnn::batch_forward_into)), or, with `alloc`, in a `Vec`
//! ([`Rnn::batch_forward_vec`](crate::Rnn::batch_forward_vec)). Nothing here allocates otherwise.
//!
//! Build a batch from `B` sequences with nalgebra's `SMatrix::from_columns`:
//!
//! ```
//! use static_rnn::{CrossEntropy, Params, Rnn, SMatrix, SVector};
//! let rnn = Rnn::<2, 4, 3, static_rnn::Tanh, static_rnn::Softmax, f64>::new(
//!     SMatrix::from_fn(|i, j| 0.1 * (i + j) as f64),
//!     SMatrix::from_fn(|i, j| 0.1 * (i as f64 - j as f64)),
//!     SVector::zeros(),
//!     SMatrix::from_fn(|i, j| 0.2 * (i * j) as f64),
//!     SVector::zeros(),
//! );
//! // Two sequences of three steps: step t of the batch holds step t of each sequence.
//! let first = [SVector::from([1.0, 0.0]), SVector::from([0.0, 1.0]), SVector::from([1.0, 1.0])];
//! let second = [SVector::from([0.5, 0.5]), SVector::from([1.0, 0.0]), SVector::from([0.0, 0.0])];
//! let xs: [SMatrix<f64, 2, 2>; 3] = core::array::from_fn(|t| SMatrix::from_columns(&[first[t], second[t]]));
//! let ys = [SMatrix::from_columns(&[SVector::from([1.0, 0.0, 0.0]), SVector::from([0.0, 0.0, 1.0])]); 3];
//!
//! let h0 = SMatrix::zeros();
//! let trace = rnn.batch_forward(&h0, &xs);
//! let mut grads = Params::zeros();
//! let summary = rnn.batch_backward(CrossEntropy, &xs, &trace, &ys, &mut grads);
//!
//! // The same as two per-sequence passes, summed.
//! let mut reference = Params::zeros();
//! let mut loss = 0.0;
//! for (b, inputs) in [first, second].iter().enumerate() {
//!     let targets = ys.map(|y| y.column(b).into_owned());
//!     let trace = rnn.forward(&SVector::zeros(), inputs);
//!     loss += rnn.backward(CrossEntropy, inputs, &trace, &targets, &mut reference).loss;
//! }
//! assert!((summary.loss - loss).abs() < 1e-12);
//! approx::assert_relative_eq!(grads, reference, max_relative = 1e-12);
//! ```

mod backward;
mod jacobian;
mod targets;
mod trace;

pub use backward::BatchSummary;
pub use jacobian::BatchDiagonal;
pub use targets::{BatchLastStep, BatchTargets};
pub use trace::{BatchStep, BatchTrace};
