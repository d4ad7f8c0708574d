//! The f32 multiply–add peak of one core, for the build it is compiled in: the yardstick the
//! GFLOP/s of the other benches are held against.
//!
//! `CHAINS` independent accumulators are updated `acc ← acc · m + a` in a loop; there is no
//! memory traffic and no dependency between them, so the loop runs at the throughput of the
//! floating-point units. With the `fma` target feature each update is one fused multiply–add
//! (`f32::mul_add`, 2 FLOP); without it (the default x86-64 build: SSE2) a multiply and an add
//! (2 FLOP, two instructions). The number of chains covers latency × issue width of the widest
//! vectors the build has, so the compiler keeps them all in registers.
//!
//! ```text
//! cargo bench --bench fma_peak                                    # default target (SSE2)
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
    group.finish();
    assert!(acc.iter().all(|x| x.is_finite()));
    c.final_summary();
}
