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
//! The result is the same, bit for bit, on every path: Rust never contracts `a·b + c` into a
//! fused multiply–add, and vectorizing does not reorder the additions (the kernels fix their
//! summation order by `cfg!(target_feature)`, a compile-time property of the build, not by the
//! path chosen here). Without the feature (no_std, Cortex-M) [`widest`] is a plain call.

/// Bytes of one vector register of the build's target: 16 (SSE2, NEON, the default), 32 with
/// AVX, 64 with AVX-512 — what [`widest`] passes when it chooses nothing at run time.
pub(crate) const BUILD_VECTOR_BYTES: usize = if cfg!(target_feature = "avx512f") {
    64
} else if cfg!(target_feature = "avx") {
    32
} else {
    16
};

/// A loop to run through [`widest`]: `run` and everything it calls must be `#[inline(always)]`,
/// so that it is compiled into each instruction set's copy (a closure cannot be marked so, which
/// is why this is a trait). `VECTOR_BYTES` is the width of a vector register of the copy that
/// runs (16, 32 or 64), for the kernels to size their register tiles; the results must not
/// depend on it.
pub(crate) trait Vectorized {
    /// What the loop returns.
    type Output;

    /// Runs the loop.
    fn run<const VECTOR_BYTES: usize>(self) -> Self::Output;
}

/// Runs `operation`, compiled for the widest vector instructions this CPU has: AVX-512
/// (x86-64-v4), else AVX2 + FMA (x86-64-v3), else the build's target.
#[cfg(all(feature = "simd-dispatch", target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn widest<V: Vectorized>(operation: V) -> V::Output {
    use pulp::{Arch, Simd, WithSimd};

    /// `V` with the register width of the copy pulp runs it in.
    struct Inlined<V, const VECTOR_BYTES: usize>(V);

    impl<V: Vectorized, const VECTOR_BYTES: usize> WithSimd for Inlined<V, VECTOR_BYTES> {
        type Output = V::Output;

        #[inline(always)]
        fn with_simd<S: Simd>(self, _simd: S) -> V::Output {
            self.0.run::<VECTOR_BYTES>()
        }
    }

    match Arch::new() {
        Arch::V4(simd) => Simd::vectorize(simd, Inlined::<V, 64>(operation)),
        Arch::V3(simd) => Simd::vectorize(simd, Inlined::<V, 32>(operation)),
        _ => operation.run::<BUILD_VECTOR_BYTES>(), // Arch::Scalar (the enum is non-exhaustive)
    }
}

/// Runs `operation` as compiled for the build's target (no run-time choice: the
/// `simd-dispatch` feature is off, or the target is not x86-64).
#[cfg(not(all(feature = "simd-dispatch", target_arch = "x86_64")))]
#[inline(always)]
pub(crate) fn widest<V: Vectorized>(operation: V) -> V::Output {
    operation.run::<BUILD_VECTOR_BYTES>()
}

#[cfg(test)]
mod tests {
    use super::*;
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
        fn run<const VECTOR_BYTES: usize>(mut self) -> Self::Output {
            let mut z = SMatrix::<f32, 37, 32>::from_fn(|i, _| i as f32 * 0.01);
            gemm_add::<VECTOR_BYTES, _, _, _, _>(&mut z, self.w, self.x);
            for v in z.as_mut_slice() {
                *v = fast_tanh(*v);
            }
            gemm_nt_add::<VECTOR_BYTES, _, _, _, _>(&mut self.g, 0.25, &z, self.x);
            (z, self.g)
        }
    }

    /// Whatever copy [`widest`] picks on this machine computes the bits of the build's own.
    #[test]
    fn the_widest_copy_computes_the_same_bits() {
        let w = SMatrix::from_fn(|i, j| ((i * 7 + j * 3) as f32).sin());
        let x = SMatrix::from_fn(|i, j| ((i * 5 + j) as f32).cos());
        let g = SMatrix::from_fn(|i, j| (i + j) as f32 * 0.001);
        let operation = || Products { w: &w, x: &x, g };
        let (z, g) = widest(operation());
        let (z_build, g_build) = operation().run::<BUILD_VECTOR_BYTES>();
        let same_bits = |a: &[f32], b: &[f32]| {
            a.iter()
                .map(|v| v.to_bits())
                .eq(b.iter().map(|v| v.to_bits()))
        };
        assert!(same_bits(z.as_slice(), z_build.as_slice()));
        assert!(same_bits(g.as_slice(), g_build.as_slice()));
    }
}
