//! Property tests of BPTT for the 18 combinations with a `Tanh` or `Relu` hidden activation;
//! `bptt_properties_sigmoid_identity.rs` has the other 18. What each property checks, and the
//! code both share: `bptt_properties/mod.rs`.

#![cfg(feature = "alloc")]

#[macro_use]
mod bptt_properties;

use bptt_properties::*;
use static_rnn::{BinaryCrossEntropy, CrossEntropy, Identity, Mse, Relu, Sigmoid, Softmax, Tanh};

combination!(tanh_softmax_ce: Tanh, Softmax, CrossEntropy; fused; single);
combination!(tanh_softmax_mse: Tanh, Softmax, Mse);
combination!(tanh_softmax_bce: Tanh, Softmax, BinaryCrossEntropy);
combination!(tanh_sigmoid_ce: Tanh, Sigmoid, CrossEntropy);
combination!(tanh_sigmoid_mse: Tanh, Sigmoid, Mse);
combination!(tanh_sigmoid_bce: Tanh, Sigmoid, BinaryCrossEntropy; fused);
combination!(tanh_identity_ce: Tanh, Identity, CrossEntropy);
combination!(tanh_identity_mse: Tanh, Identity, Mse; fused);
combination!(tanh_identity_bce: Tanh, Identity, BinaryCrossEntropy);

combination!(relu_softmax_ce: Relu, Softmax, CrossEntropy; fused);
combination!(relu_softmax_mse: Relu, Softmax, Mse);
combination!(relu_softmax_bce: Relu, Softmax, BinaryCrossEntropy);
combination!(relu_sigmoid_ce: Relu, Sigmoid, CrossEntropy);
combination!(relu_sigmoid_mse: Relu, Sigmoid, Mse);
combination!(relu_sigmoid_bce: Relu, Sigmoid, BinaryCrossEntropy; fused);
combination!(relu_identity_ce: Relu, Identity, CrossEntropy);
combination!(relu_identity_mse: Relu, Identity, Mse; fused; single);
combination!(relu_identity_bce: Relu, Identity, BinaryCrossEntropy);
