//! Run-time choice of the widest vector instructions for the hot loops.
//!
//! A build for the baseline `x86_64` target may use only SSE2: 4 `f32` lanes and no FMA. With
//! the `simd-dispatch` feature (default, needs `std`), [`widest`] runs an operation inside a
//! function compiled for the best instruction set the CPU reports at run time — AVX-512 (x86-64-v4)
//! or AVX2 + FMA (x86-64-v3), else the baseline — chosen by `pulp::Arch`. Everything the operation
//! inlines (the `#[inline(always)]` loops of the forward and backward passes, and
//! [`kernels`](crate::kernels)) is compiled once per instruction set, and the auto-vectorizer uses
//! the wider registers. No `unsafe` here: `pulp` checks the CPU before it calls the wide copy.
//!
//! Which copy runs is a type, an [`InstructionSet`]: the register width the kernels size their
//! tiles for, and whether their multiply–adds are fused.
//!
//! - By default the result is the same, bit for bit, on every path: Rust never contracts
//!   `a·b + c` into a fused multiply–add by itself, and the kernels sum every entry in an order
//!   that does not depend on the register width.
//! - With the `fma` feature, the AVX2 and AVX-512 copies compute each `a·b + c` of the matrix
//!   kernels as one fused multiply–add (`vfmadd`, one rounding instead of two): faster (see
//!   `BENCHMARKS.md`), and as accurate or more, but a CPU without FMA runs the baseline copy and
//!   gets results that differ in the last bits.
//!
//! Without `simd-dispatch` (no_std, Cortex-M) [`widest`] is a plain call.

/// Bytes of one vector register of the build's target: 16 (SSE2, NEON, the default), 32 with
/// AVX, 64 with AVX-512 — the width of [`Baseline`].
const BUILD_VECTOR_BYTES: usize = if cfg!(target_feature = "avx512f") {
    64
} else if cfg!(target_feature = "avx") {
    32
} else {
    16
};

/// The instruction set a copy of the hot loops is compiled for, as the kernels see it.
pub(crate) trait InstructionSet {
    /// Bytes of one vector register (16, 32 or 64), for the kernels to size their register
    /// tiles; no result depends on it.
    const VECTOR_BYTES: usize;
    /// Whether the kernels compute `a·b + c` with one rounding (a fused multiply–add) instead
    /// of two. True only where the copy is compiled with FMA instructions.
    const FUSED_MULTIPLY_ADD: bool;
}

/// Multiply, then add: two roundings, the same bits at every register width.
pub(crate) struct Separate<const VECTOR_BYTES: usize>;

impl<const BYTES: usize> InstructionSet for Separate<BYTES> {
    const VECTOR_BYTES: usize = BYTES;
    const FUSED_MULTIPLY_ADD: bool = false;
}

/// Fused multiply–add: one rounding. Only for copies compiled with FMA (elsewhere `mul_add` is
/// a slow library call).
#[cfg(all(feature = "fma", target_arch = "x86_64"))]
pub(crate) struct Fused<const VECTOR_BYTES: usize>;

#[cfg(all(feature = "fma", target_arch = "x86_64"))]
impl<const BYTES: usize> InstructionSet for Fused<BYTES> {
    const VECTOR_BYTES: usize = BYTES;
    const FUSED_MULTIPLY_ADD: bool = true;
}

/// The build's own target, what [`widest`] runs when it chooses nothing at run time.
pub(crate) type Baseline = Separate<BUILD_VECTOR_BYTES>;

/// The AVX2 + FMA and AVX-512 copies: fused with the `fma` feature, separate without.
#[cfg(all(feature = "fma", target_arch = "x86_64"))]
type Wide<const VECTOR_BYTES: usize> = Fused<VECTOR_BYTES>;
#[cfg(all(
    not(feature = "fma"),
    feature = "simd-dispatch",
    target_arch = "x86_64"
))]
type Wide<const VECTOR_BYTES: usize> = Separate<VECTOR_BYTES>;

/// A loop to run through [`widest`]: `run` and everything it calls must be `#[inline(always)]`,
/// so that it is compiled into each instruction set's copy (a closure cannot be marked so, which
/// is why this is a trait). `V` is the instruction set of the copy that runs, for the kernels;
/// without the `fma` feature the results must not depend on it.
pub(crate) trait Vectorized {
    /// What the loop returns.
    type Output;

    /// Runs the loop.
    fn run<V: InstructionSet>(self) -> Self::Output;
}

/// Runs `operation`, compiled for the widest vector instructions this CPU has: AVX-512
/// (x86-64-v4), else AVX2 + FMA (x86-64-v3), else the build's target.
#[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn widest<Op: Vectorized>(operation: Op) -> Op::Output {
    use core::marker::PhantomData;
    use pulp::{Arch, Simd, WithSimd};

    /// `Op` with the instruction set of the copy pulp runs it in.
    struct Inlined<Op, V>(Op, PhantomData<V>);

    impl<Op: Vectorized, V: InstructionSet> WithSimd for Inlined<Op, V> {
        type Output = Op::Output;

        #[inline(always)]
        fn with_simd<S: Simd>(self, _simd: S) -> Op::Output {
            self.0.run::<V>()
        }
    }

    #[cfg(test)]
    if tests::REFERENCE_ONLY.get() {
        return tests::reference(operation);
    }
    match Arch::new() {
        Arch::V4(simd) => Simd::vectorize(simd, Inlined::<Op, Wide<64>>(operation, PhantomData)),
        Arch::V3(simd) => Simd::vectorize(simd, Inlined::<Op, Wide<32>>(operation, PhantomData)),
        _ => operation.run::<Baseline>(), // Arch::Scalar (the enum is non-exhaustive)
    }
}

/// Runs `operation` as compiled for the build's target (no run-time choice: the
/// `simd-dispatch` feature is off, or the target is not x86-64).
#[cfg(not(all(feature = "simd-dispatch", target_arch = "x86_64")))]
#[inline(always)]
pub(crate) fn widest<Op: Vectorized>(operation: Op) -> Op::Output {
    operation.run::<Baseline>()
}

/// Whether this CPU runs the crate's hot loops with fused multiply–adds: only with the `fma`
/// feature, on an x86-64 with AVX2 + FMA or AVX-512 (the copy chosen there at run time fuses).
///
/// Where it is `true`, the forward pass, BPTT and the minibatch kernels round each `a·b + c` once
/// instead of twice, so trained parameters and outputs differ in their last bits from those of a
/// build or a CPU where it is `false`; where it is `false`, every CPU computes the same bits.
/// Compare it before comparing results bit for bit across machines.
///
/// ```
/// let fused = static_rnn::fuses_multiply_adds();
/// if !cfg!(feature = "fma") {
///     assert!(!fused);
/// }
/// ```
pub fn fuses_multiply_adds() -> bool {
    /// Reports the instruction set of the copy [`widest`] runs.
    struct Probe;

    impl Vectorized for Probe {
        type Output = bool;

        #[inline(always)]
        fn run<V: InstructionSet>(self) -> bool {
            V::FUSED_MULTIPLY_ADD
        }
    }

    widest(Probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
    use {
        crate::batch::BatchStep,
        crate::{CrossEntropy, FastTanh, ForwardStep, Params, Rnn, Softmax, Tanh},
        core::cell::Cell,
        nalgebra::SVector,
    };

    #[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
    std::thread_local! {
        /// Makes [`widest`] run [`reference`], for the tests that compare the two.
        pub(super) static REFERENCE_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    /// `operation` run as the build's own copy must compute what the widest copy does: with
    /// separate multiply–adds, or — with the `fma` feature, on a CPU whose wide copies fuse —
    /// with fused ones (`mul_add`, here a call into the math library: slow, the same bits).
    pub(super) fn reference<Op: Vectorized>(operation: Op) -> Op::Output {
        #[cfg(all(feature = "fma", target_arch = "x86_64"))]
        if matches!(pulp::Arch::new(), pulp::Arch::V3(_) | pulp::Arch::V4(_)) {
            return operation.run::<Fused<BUILD_VECTOR_BYTES>>();
        }
        operation.run::<Baseline>()
    }

    /// `f()` computed by the widest copy and by [`reference`], as (widest, reference).
    #[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
    fn both<R>(f: impl Fn() -> R) -> (R, R) {
        let widest = f();
        REFERENCE_ONLY.set(true);
        let reference = f();
        REFERENCE_ONLY.set(false);
        (widest, reference)
    }
    use crate::kernels::{gemm_add, gemm_nt_add};
    use crate::numerics::fast_tanh;
    use nalgebra::SMatrix;

    /// A forward-like product and activation, and a gradient-like product, as one operation.
    struct Products<'a> {
        w: &'a SMatrix<f32, 37, 29>,
        x: &'a SMatrix<f32, 29, 32>,
        g: SMatrix<f32, 37, 29>,
    }

    impl Vectorized for Products<'_> {
        type Output = (SMatrix<f32, 37, 32>, SMatrix<f32, 37, 29>);

        #[inline(always)]
        fn run<V: InstructionSet>(mut self) -> Self::Output {
            let mut z = SMatrix::<f32, 37, 32>::from_fn(|i, _| i as f32 * 0.01);
            gemm_add::<V, _, _, _, _>(&mut z, self.w, self.x);
            for v in z.as_mut_slice() {
                *v = fast_tanh(*v);
            }
            gemm_nt_add::<V, _, _, _, _>(&mut self.g, 0.25, &z, self.x);
            (z, self.g)
        }
    }

    /// Whatever copy [`widest`] picks on this machine computes the bits of [`reference`]: the
    /// build's own copy, with fused multiply–adds where the wide copies fuse them.
    #[test]
    fn the_widest_copy_computes_the_same_bits() {
        let w = SMatrix::from_fn(|i, j| ((i * 7 + j * 3) as f32).sin());
        let x = SMatrix::from_fn(|i, j| ((i * 5 + j) as f32).cos());
        let g = SMatrix::from_fn(|i, j| (i + j) as f32 * 0.001);
        let operation = || Products { w: &w, x: &x, g };
        let (z, g) = widest(operation());
        let (z_build, g_build) = reference(operation());
        let same_bits = |a: &[f32], b: &[f32]| {
            a.iter()
                .map(|v| v.to_bits())
                .eq(b.iter().map(|v| v.to_bits()))
        };
        assert!(same_bits(z.as_slice(), z_build.as_slice()));
        assert!(same_bits(g.as_slice(), g_build.as_slice()));
    }

    /// The model's own paths — a streaming step, forward + backward of one sequence, and of a
    /// minibatch — give the same bits in the widest copy as in [`reference`] (on a CPU without
    /// AVX2 the two are the same copy, and this holds trivially).
    #[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
    fn model_paths_agree<F: crate::HiddenActivation<T>, T: crate::Real>() {
        let c = crate::scalar::constant::<T>;
        let rnn = Rnn::<16, 32, 8, F, Softmax, T>::new(
            SMatrix::from_fn(|i, j| c(((i * 7 + j * 3) as f64).sin() * 0.3)),
            SMatrix::from_fn(|i, j| c(((i * 5 + j * 11) as f64).cos() * 0.2)),
            SVector::from_fn(|i, _| c((i as f64).sin() * 0.1)),
            SMatrix::from_fn(|i, j| c(((i * 3 + j) as f64).sin() * 0.4)),
            SVector::from_fn(|i, _| c((i as f64).cos() * 0.1)),
        );
        let xs: [SVector<T, 16>; 20] =
            core::array::from_fn(|t| SVector::from_fn(|i, _| c(((t * 16 + i) as f64).sin())));
        let ys: [SVector<T, 8>; 20] =
            core::array::from_fn(|t| SVector::from_fn(|k, _| c(f64::from(k == t % 8))));
        let h0 = SVector::from_fn(|i, _| c(i as f64 * 0.01));
        let (widest, build) = both(|| rnn.step(&h0, &xs[0]));
        assert_eq!(widest, build, "step");
        let (widest, build) = both(|| {
            let mut buffer = [ForwardStep::zeros(); 20];
            let trace = rnn.forward_into(&h0, &xs, &mut buffer);
            let mut grads = Params::zeros();
            let summary = rnn.backward(CrossEntropy, &xs, &trace, &ys, &mut grads);
            (buffer, grads, summary)
        });
        assert_eq!(widest, build, "forward + backward");
        let batch_xs: [SMatrix<T, 16, 5>; 20] =
            core::array::from_fn(|t| SMatrix::from_fn(|i, b| c(((t * 16 + i + b) as f64).cos())));
        let batch_ys: [SMatrix<T, 8, 5>; 20] =
            core::array::from_fn(|t| SMatrix::from_fn(|k, b| c(f64::from(k == (t + b) % 8))));
        let (widest, build) = both(|| {
            let mut buffer = [BatchStep::zeros(); 20];
            let trace = rnn.batch_forward_into(&SMatrix::zeros(), &batch_xs, &mut buffer);
            let mut grads = Params::zeros();
            let summary =
                rnn.batch_backward(CrossEntropy, &batch_xs, &trace, &batch_ys, &mut grads);
            (buffer, grads, summary)
        });
        assert_eq!(widest, build, "minibatch forward + backward");
    }

    #[test]
    #[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
    fn model_paths_compute_the_same_bits_in_every_copy() {
        model_paths_agree::<FastTanh, f32>();
        model_paths_agree::<Tanh, f32>();
        model_paths_agree::<Tanh, f64>();
    }
}
