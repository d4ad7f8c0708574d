//! Large models on the heap (feature `alloc`): constructors that build [`Params`], [`Rnn`] and
//! (in [`optim`](crate::optim)) `Adam`/`AdamW` directly in a `Box`.
//!
//! Everything in this crate is a value of known size, which is what lets a microcontroller
//! budget its RAM at compile time; on a desktop the same values get large. An `Rnn<32, 256, 32>`
//! in `f32` is `P = 321 KiB` of parameters, Adam holds three more parameter sets, and a thread's
//! stack is 2 MiB by default. `Box::new(Params::zeros())` still builds its argument on the
//! stack first, and in a debug build nalgebra's generic constructors copy each matrix several
//! times on the way: measured for that model (`I = O = 32`, `H = 256`, rustc 1.95), the stack it
//! takes is
//!
//! | construction | debug | release |
//! |---|---|---|
//! | `Box::new(Params::zeros())`, `Box::<Params>::default()` | 2.4 MiB (`7.6 P`) | 327 KiB (`1 P`) |
//! | `Box::new(Rnn::init(&mut rng, Scheme::pytorch()))` | 3.5 MiB | 1.6 MiB |
//! | `Box::new(Adam::<Params>::new(config))` | 4.9 MiB | 975 KiB |
//! | [`Params::boxed_zeros`], [`Rnn::boxed_zeros`] | 1 `P` | none |
//! | [`Rnn::boxed_init`] with `Scheme::pytorch()` | 1 `P` | none |
//! | `Adam::boxed(config)`, `AdamW::boxed(config)` | 3 `P` | none |
//!
//! so in a debug build the first three overflow a 2 MiB stack before training starts. The boxed
//! constructors copy a compile-time constant ([`Params::ZERO`]) into the box, which in a debug
//! build goes through one stack temporary of the boxed value's size and in a release build
//! through none, and [`Rnn::boxed_init`] then draws the parameters in place
//! ([`Params::init_in_place`]). The library has no `unsafe` code, so it cannot write into an
//! uninitialized box itself; one temporary is what safe Rust's `Box::new` costs without
//! optimization. (`tests/large_model.rs` trains an `H = 256` model with Adam on a 2 MiB thread,
//! in debug and in release.)
//!
//! Forward and backward need no such care: they take the model and the gradient by reference,
//! and their own stack is the trace (`Rnn::trace_bytes`) and a few vectors of `H`.
//!
//! ```
//! use rand_pcg::Pcg64Mcg;
//! use static_rnn::init::Scheme;
//! use static_rnn::rand_core::SeedableRng;
//! use static_rnn::{Adam, AdamConfig, Params, Rnn};
//!
//! type Large = Rnn<32, 256, 32>;
//! let rnn: Box<Large> = Large::boxed_init(&mut Pcg64Mcg::seed_from_u64(1), Scheme::pytorch());
//! let grads: Box<Params<32, 256, 32>> = Params::boxed_zeros();
//! let adam = Adam::boxed(AdamConfig::default());
//! assert_eq!(grads.w_h.len(), 256 * 256);
//! assert!(rnn.params.w_h.amax() <= 1.0 / 16.0); // U(−1/√H, 1/√H)
//! assert_eq!(adam.exp_avg(), &*grads); // zero moments
//! ```

use crate::activation::{HiddenActivation, OutputActivation};
use crate::init::Scheme;
use crate::model::Rnn;
use crate::params::Params;
use crate::scalar::Real;
use alloc::boxed::Box;
use num_traits::ConstZero;
use rand_core::Rng;

impl<const I: usize, const H: usize, const O: usize, T: Real + ConstZero> Params<I, H, O, T> {
    /// All zeros, in a `Box`, without building the parameters on the stack first (in a debug
    /// build, one copy of [`Params::ZERO`] goes through the stack; in a release build none).
    pub fn boxed_zeros() -> Box<Self> {
        Box::new(Self::ZERO)
    }
}

impl<const I: usize, const H: usize, const O: usize, F, G, T> Rnn<I, H, O, F, G, T>
where
    F: HiddenActivation<T>,
    G: OutputActivation<T>,
    T: Real + ConstZero,
{
    /// The model whose every parameter is zero, in a `Box` (see [`Params::boxed_zeros`]).
    pub fn boxed_zeros() -> Box<Self> {
        Box::new(const { Self::from_params(Params::ZERO) })
    }

    /// [`Rnn::init`] in a `Box`: the zero model boxed, then every parameter drawn in place
    /// ([`Params::init_in_place`]); the same model as `init`, bit for bit.
    ///
    /// An orthogonal `W_h` (`Scheme::keras()`) computes its QR factorization on the stack: two
    /// `H × H` matrices of `T` (512 KiB for `H = 256` in `f32`), and several times that in a
    /// debug build. The other strategies draw straight into the box.
    pub fn boxed_init<R: Rng + ?Sized>(rng: &mut R, scheme: Scheme<T>) -> Box<Self> {
        let mut rnn = Self::boxed_zeros();
        rnn.params.init_in_place(rng, scheme);
        rnn
    }
}
