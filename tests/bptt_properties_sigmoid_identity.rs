//! Property tests of BPTT for the 18 combinations with a `Sigmoid` or `Identity` hidden activation;
//! `bptt_properties_tanh_relu.rs` has the other 18. What each property checks, and the code both
//! share: `bptt_properties/mod.rs`.

#![cfg(feature = "alloc")]

#[macro_use]
mod bptt_properties;

use bptt_properties::*;
use static_rnn::{BinaryCrossEntropy, CrossEntropy, Identity, Mse, Sigmoid, Softmax};

combination!(sigmoid_softmax_ce: Sigmoid, Softmax, CrossEntropy; fused);
combination!(sigmoid_softmax_mse: Sigmoid, Softmax, Mse);
combination!(sigmoid_softmax_bce: Sigmoid, Softmax, BinaryCrossEntropy);
combination!(sigmoid_sigmoid_ce: Sigmoid, Sigmoid, CrossEntropy);
combination!(sigmoid_sigmoid_mse: Sigmoid, Sigmoid, Mse);
combination!(sigmoid_sigmoid_bce: Sigmoid, Sigmoid, BinaryCrossEntropy; fused; single);
combination!(sigmoid_identity_ce: Sigmoid, Identity, CrossEntropy);
combination!(sigmoid_identity_mse: Sigmoid, Identity, Mse; fused);
combination!(sigmoid_identity_bce: Sigmoid, Identity, BinaryCrossEntropy);

combination!(identity_softmax_ce: Identity, Softmax, CrossEntropy; fused);
combination!(identity_softmax_mse: Identity, Softmax, Mse);
combination!(identity_softmax_bce: Identity, Softmax, BinaryCrossEntropy);
combination!(identity_sigmoid_ce: Identity, Sigmoid, CrossEntropy);
combination!(identity_sigmoid_mse: Identity, Sigmoid, Mse);
combination!(identity_sigmoid_bce: Identity, Sigmoid, BinaryCrossEntropy; fused);
combination!(identity_identity_ce: Identity, Identity, CrossEntropy);
combination!(identity_identity_mse: Identity, Identity, Mse; fused);
combination!(identity_identity_bce: Identity, Identity, BinaryCrossEntropy);
