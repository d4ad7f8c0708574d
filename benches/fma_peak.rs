//! The f32 multiply–add peak of one core, for the build it is compiled in and, with the
//! `simd-dispatch` feature (default), for the widest vector instructions the CPU has (what the
//! crate's dispatched loops run on): the yardsticks the GFLOP/s of the other benches are held
//! against.
//!
//! `CHAINS` independent accumulators are updated `acc ← acc · m + a` in a loop; there is no
//! memory traffic and no dependency between them, so the loop runs at the throughput of the
//! floating-point units. With the `fma` target feature each update is one fused multiply–add
//! (`f32::mul_add`, 2 FLOP); without it (the default x86-64 build: SSE2) a multiply and an add
//! (2 FLOP, two instructions). The number of chains covers latency × issue width of the widest
//! vectors the build has, so the compiler keeps them all in registers.
//!
//! The widest copy (`f32-widest-v4`: AVX-512, `-v3`: AVX2 + FMA) is chosen at run time through
//! `pulp`, as the crate does it, with 12 registers of 16 lanes of chains and `f32::mul_add`,
//! which is one `vfmadd` instruction in that copy.
//!
//! ```text
//! cargo bench --bench fma_peak                                    # default target (SSE2) + widest
//! RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR=target/native \
//!     cargo bench --bench fma_peak                                # this CPU's widest FMA
//! ```

mod support;

use criterion::Throughput;
use std::hint::black_box;

/// Independent accumulators: 12 vector registers' worth of the build's widest f32 vector.
const CHAINS: usize = if cfg!(target_feature = "avx512f") {
    12 * 16
} else if cfg!(target_feature = "avx") {
    12 * 8
} else {
    12 * 4
};
/// Updates of every chain per call.
const ROUNDS: usize = 4096;

#[inline(always)]
fn update(acc: f32, m: f32, a: f32) -> f32 {
    if cfg!(target_feature = "fma") {
        acc.mul_add(m, a)
    } else {
        acc * m + a
    }
}

/// `ROUNDS` updates of each of `CHAINS` accumulators: `2 · CHAINS · ROUNDS` FLOP.
#[inline(never)]
fn chains(acc: &mut [f32; CHAINS], m: f32, a: f32) {
    let mut local = *acc;
    for _ in 0..ROUNDS {
        for x in local.iter_mut() {
            *x = update(*x, m, a);
        }
    }
    *acc = local;
}

fn main() {
    let mut c = support::criterion(100);
    let flops = 2 * (CHAINS * ROUNDS) as u64;
    let mut group = c.benchmark_group("fma_peak");
    group.throughput(Throughput::Elements(flops));
    let features = [
        ("fma", cfg!(target_feature = "fma")),
        ("avx2", cfg!(target_feature = "avx2")),
        ("avx512f", cfg!(target_feature = "avx512f")),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| *name)
    .collect::<Vec<_>>()
    .join("+");
    let id = if features.is_empty() {
        "default".to_string()
    } else {
        features
    };
    let mut acc = [1.0_f32; CHAINS];
    // m < 1 and a > 0: every chain converges to a / (1 − m) = 1, no overflow, no subnormals.
    group.bench_function(format!("f32-{id}"), |b| {
        b.iter(|| chains(&mut acc, black_box(0.999), black_box(0.001)))
    });
    #[cfg(feature = "simd-dispatch")]
    widest::bench(&mut group, flops);
    group.finish();
    assert!(acc.iter().all(|x| x.is_finite()));
    c.final_summary();
}

/// The same chains in the copy `pulp` picks for this CPU, with fused multiply–adds.
#[cfg(feature = "simd-dispatch")]
mod widest {
    use super::{ROUNDS, black_box, support};
    use criterion::BenchmarkGroup;
    use pulp::{Arch, Simd, WithSimd};

    /// 12 AVX-512 registers of chains (twice what AVX2's 16 registers can hold; the compiler
    /// then keeps 12 of 8 lanes in registers per pass, which is as many as latency × issue needs).
    const CHAINS: usize = 12 * 16;

    struct Chains<'a> {
        acc: &'a mut [f32; CHAINS],
        m: f32,
        a: f32,
    }

    impl WithSimd for Chains<'_> {
        type Output = ();

        #[inline(always)]
        fn with_simd<S: Simd>(self, _simd: S) {
            let mut local = *self.acc;
            for _ in 0..ROUNDS {
                for x in local.iter_mut() {
                    *x = x.mul_add(self.m, self.a);
                }
            }
            *self.acc = local;
        }
    }

    pub fn bench(group: &mut BenchmarkGroup<'_, support::BenchClock>, build_flops: u64) {
        let arch = Arch::new();
        let name = match arch {
            Arch::V4(_) => "v4",
            Arch::V3(_) => "v3",
            _ => return, // no vector FMA: the build's own figure is the peak
        };
        let flops = 2 * (CHAINS * ROUNDS) as u64;
        group.throughput(criterion::Throughput::Elements(flops));
        let mut acc = [1.0_f32; CHAINS];
        group.bench_function(format!("f32-widest-{name}"), |b| {
            b.iter(|| {
                arch.dispatch(Chains {
                    acc: &mut acc,
                    m: black_box(0.999),
                    a: black_box(0.001),
                })
            })
        });
        group.throughput(criterion::Throughput::Elements(build_flops));
        assert!(acc.iter().all(|x| x.is_finite()));
    }
}
