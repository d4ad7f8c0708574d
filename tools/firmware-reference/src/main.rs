//! The firmware's host reference: trains the firmware's model on x86-64, exports it to
//! `firmware/src/model.rs` with `Rnn::to_rust_source`, and writes `firmware/expected.txt`, the
//! lines the firmware must print, by running the firmware's own code (`firmware/src/scenario.rs`,
//! included below) on the exported model.
//!
//! ```sh
//! cargo run --manifest-path tools/firmware-reference/Cargo.toml             # (re)write both files
//! cargo run --manifest-path tools/firmware-reference/Cargo.toml -- --check  # fail if either is stale
//! ```
//!
//! # Why the host's numbers are the firmware's, bit for bit
//!
//! This crate is its own workspace with static-rnn's `libm` and `alloc` features and no `std`, so
//! nalgebra's `tanh`, `sin` and `exp` are the `libm` crate's `tanhf`, `sinf` and `expf`, the same
//! Rust source the firmware runs. (The library's own tests cannot do this: their
//! dev-dependencies switch on `num-traits/std`, and then the math comes from the C library.)
//! Everything else is IEEE 754 arithmetic — `+ − × ÷ √` in single precision, and the few `f64`
//! scalars of Adam — correctly rounded on both machines, in the same order, because:
//!
//! - Rust never contracts `a·b + c` into a fused multiply–add unless asked (`mul_add`), so the
//!   Cortex-M4F's `VFMA` and x86-64's FMA are not used behind our back; nor does it reassociate.
//! - x86-64 computes `f32` and `f64` in SSE registers at their own precision (no x87 extended
//!   precision), with MXCSR in its default state: round to nearest, no flush-to-zero.
//! - The Cortex-M4F's FPU computes single precision in hardware; at reset FPSCR selects round to
//!   nearest with flush-to-zero and default-NaN off, and cortex-m-rt only enables the FPU.
//!   `f64` is done in software (compiler-builtins), correctly rounded.
//! - nalgebra without `std` uses its own loops for `gemv`, not `matrixmultiply`, so the order of
//!   each dot product is the source's on both targets (vectorized loops keep each lane's order).

#[path = "../../../firmware/src/scenario.rs"]
mod scenario;

use rand_pcg::Pcg64Mcg;
use scenario::{Event, Grads, HOST_STEPS, HOST_TASK, Model, SEED};
use static_rnn::Adam;
use static_rnn::init::Scheme;
use static_rnn::rand_core::SeedableRng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The host's part: initialize, train on the host task, and return the model to export.
fn pretrained() -> Model {
    let mut model = Model::init(&mut Pcg64Mcg::seed_from_u64(SEED), Scheme::keras());
    let mut adam = Adam::new(scenario::ADAM);
    let mut grads = Grads::zeros();
    scenario::train(
        &mut model,
        &mut adam,
        &mut grads,
        HOST_TASK,
        HOST_STEPS,
        &mut |_| {},
    )
    .expect("host training stays finite");
    model
}

/// The lines the firmware prints from its events, one per line.
fn expected_output(model: &Model) -> String {
    let mut out = String::new();
    let (before, after) = scenario::run(model, &mut |event: Event| {
        writeln!(out, "{event}").expect("writing to a String");
    })
    .expect("device training stays finite");
    eprintln!(
        "held-out loss on the device task: {before:?} before training, {after:?} after (threshold {:?})",
        scenario::LOSS_THRESHOLD
    );
    out
}

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("usage: firmware-reference [--check]   (unknown argument {other:?})");
            return ExitCode::FAILURE;
        }
    };
    let firmware = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware");
    let model = pretrained();
    let files: [(PathBuf, String); 2] = [
        (
            firmware.join("src/model.rs"),
            model.to_rust_source("MODEL", scenario::PROVENANCE),
        ),
        (firmware.join("expected.txt"), expected_output(&model)),
    ];
    let mut stale = false;
    for (path, text) in &files {
        if check {
            let current = std::fs::read_to_string(path).unwrap_or_default();
            if current != *text {
                eprintln!(
                    "{} is stale: regenerate it (see tools/firmware-reference/src/main.rs)",
                    path.display()
                );
                stale = true;
            } else {
                eprintln!("{} is current", path.display());
            }
        } else {
            std::fs::write(path, text).expect("write the file");
            eprintln!("wrote {}", path.display());
        }
    }
    if stale {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
