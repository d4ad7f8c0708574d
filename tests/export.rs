//! Firmware export: the checked-in exported models compile as constants, rebuild the models they
//! were exported from bit for bit (parameters and outputs), and are what the exporter writes today.
//!
//! The fixtures in `tests/exported/` are produced by this file: after changing the exporter or the
//! models below, run `STATIC_RNN_REGENERATE=1 cargo test --test export`, then the tests again (the
//! `include!`s are compiled before the files are rewritten); the trained `f64` model has a second
//! file for fused multiply–adds, rewritten by the same command with `--features fma` on a CPU
//! with FMA.

use rand_pcg::Pcg64Mcg;
use static_rnn::init::{BiasInit, Init, RecurrentInit, Scheme};
use static_rnn::rand_core::SeedableRng;
use static_rnn::{Identity, Mse, Params, Relu, Rnn, SVector, Softmax, Tanh, Tensors};

/// `tests/exported/model_f32.rs`: `pub const MODEL`.
mod exported_f32 {
    include!("exported/model_f32.rs");
}

/// `tests/exported/model_f64.rs`: `pub const MODEL`, trained with separate multiplies and adds.
mod exported_f64 {
    include!("exported/model_f64.rs");
}

/// `tests/exported/model_f64_fused.rs`: the same model trained with fused multiply–adds (the
/// `fma` feature on a CPU with FMA), whose last bits differ.
mod exported_f64_fused {
    include!("exported/model_f64_fused.rs");
}

/// The exported `model_f64` of this build and CPU's arithmetic ([`static_rnn::fuses_multiply_adds`]).
fn exported_f64() -> ModelF64 {
    if static_rnn::fuses_multiply_adds() {
        exported_f64_fused::MODEL
    } else {
        exported_f64::MODEL
    }
}

type ModelF32 = Rnn<3, 8, 2, Tanh, Softmax, f32>;
type ModelF64 = Rnn<2, 4, 1, Relu, Identity, f64>;

/// An untrained classifier: PyTorch's initialization from seed 2024, with `b_y = [−0.0, 2⁻¹⁴⁹]`
/// (negative zero and the smallest subnormal, which a decimal literal could lose).
fn model_f32() -> ModelF32 {
    let mut rnn = ModelF32::init(&mut Pcg64Mcg::seed_from_u64(2024), Scheme::pytorch());
    rnn.params.b_y = SVector::from([-0.0, f32::from_bits(1)]);
    rnn
}

/// A trained regressor: 25 steps of gradient descent on `Mse`, teaching a ReLU IRNN to output the
/// running sum of its first input. Only arithmetic and ReLU are involved, so the result is the
/// same with `std` and `libm` math; whether multiply–adds are fused changes its last bits, so it
/// is checked in twice ([`exported_f64`]).
fn model_f64() -> ModelF64 {
    let scheme = Scheme {
        w_h: RecurrentInit::Identity { scale: 1.0 },
        b_h: BiasInit::Uniform { bound: 0.1 },
        w_y: Init::GlorotNormal { gain: 1.0 },
        ..Scheme::pytorch()
    };
    let mut rnn = ModelF64::init(&mut Pcg64Mcg::seed_from_u64(2015), scheme);
    let xs: [SVector<f64, 2>; 6] =
        core::array::from_fn(|t| SVector::from([0.25 * (t % 3) as f64, 1.0]));
    let mut sum = 0.0;
    let ys: [SVector<f64, 1>; 6] = core::array::from_fn(|t| {
        sum += xs[t][0];
        SVector::from([sum])
    });
    let h0 = SVector::zeros();
    for _ in 0..25 {
        let trace = rnn.forward(&h0, &xs);
        let mut grads = Params::zeros();
        rnn.backward(Mse, &xs, &trace, &ys, &mut grads);
        grads *= -0.01;
        rnn.params += &grads;
    }
    rnn
}

/// Whether every scalar of `a` and `b` has the same bits.
fn same_bits<const I: usize, const H: usize, const O: usize, T: static_rnn::Real>(
    a: &Params<I, H, O, T>,
    b: &Params<I, H, O, T>,
    bits: impl Fn(T) -> u64,
) -> bool {
    a.tensors()
        .iter()
        .zip(b.tensors())
        .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(&x, &y)| bits(x) == bits(y)))
}

#[test]
fn exported_f32_model_rebuilds_the_original_bit_for_bit() {
    let original = model_f32();
    let exported = exported_f32::MODEL;
    assert!(same_bits(
        &exported.params,
        &original.params,
        |x| u64::from(x.to_bits())
    ));
    // Equal outputs, step by step, over a sequence.
    let (mut h, mut h_exported) = (SVector::zeros(), SVector::zeros());
    for t in 0..16 {
        let x = SVector::<f32, 3>::from_fn(|i, _| ((t * 3 + i) as f32 * 0.37).sin());
        let (h_next, y) = original.step(&h, &x);
        let (h_next_exported, y_exported) = exported.step(&h_exported, &x);
        assert_eq!(
            h_next.map(f32::to_bits),
            h_next_exported.map(f32::to_bits),
            "h at t = {t}"
        );
        assert_eq!(
            y.map(f32::to_bits),
            y_exported.map(f32::to_bits),
            "ŷ at t = {t}"
        );
        (h, h_exported) = (h_next, h_next_exported);
    }
}

#[test]
fn exported_f64_model_rebuilds_the_original_bit_for_bit() {
    let original = model_f64();
    let exported = exported_f64();
    assert!(same_bits(&exported.params, &original.params, f64::to_bits));
    let xs: [SVector<f64, 2>; 12] =
        core::array::from_fn(|t| SVector::from([0.25 * (t % 4) as f64, 1.0]));
    let h0 = SVector::zeros();
    let trace = original.forward(&h0, &xs);
    let trace_exported = exported.forward(&h0, &xs);
    for (t, (a, b)) in trace.steps.iter().zip(&trace_exported.steps).enumerate() {
        assert_eq!(a.h.map(f64::to_bits), b.h.map(f64::to_bits), "h at t = {t}");
        assert_eq!(
            a.y_hat.map(f64::to_bits),
            b.y_hat.map(f64::to_bits),
            "ŷ at t = {t}"
        );
    }
}

/// The model is a compile-time constant: it can initialize a `static` (flash on a microcontroller)
/// and be read in `const` context.
static MODEL_IN_FLASH: ModelF32 = exported_f32::MODEL;
const FIRST_WEIGHT: f32 = exported_f32::MODEL.params.w_x.data.0[0][0];
const NEGATIVE_ZERO: f32 = exported_f32::MODEL.params.b_y.data.0[0][0];

#[test]
fn the_exported_model_is_a_compile_time_constant() {
    let original = model_f32();
    assert_eq!(
        FIRST_WEIGHT.to_bits(),
        original.params.w_x[(0, 0)].to_bits()
    );
    assert_eq!(NEGATIVE_ZERO.to_bits(), (-0.0_f32).to_bits());
    assert!(same_bits(&MODEL_IN_FLASH.params, &original.params, |x| {
        u64::from(x.to_bits())
    }));
}

#[cfg(feature = "alloc")]
mod exporter {
    use super::*;
    use static_rnn::export::ExportScalar;
    use std::path::PathBuf;

    const PROVENANCE_F32: &str = "\
Fixture of tests/export.rs (`model_f32`): an untrained Rnn<3, 8, 2, Tanh, Softmax, f32>,
`Scheme::pytorch()` from `Pcg64Mcg::seed_from_u64(2024)`, then b_y = [-0.0, 2^-149].
Regenerate: STATIC_RNN_REGENERATE=1 cargo test --test export";

    const PROVENANCE_F64: &str = "\
Fixture of tests/export.rs (`model_f64`): an Rnn<2, 4, 1, Relu, Identity, f64> (IRNN) from
`Pcg64Mcg::seed_from_u64(2015)`, trained by 25 steps of gradient descent (learning rate 0.01)
on Mse to output the running sum of its first input.
Regenerate: STATIC_RNN_REGENERATE=1 cargo test --test export";

    /// The file [`exported_f64`] comes from.
    fn exported_f64_file() -> &'static str {
        if static_rnn::fuses_multiply_adds() {
            "model_f64_fused.rs"
        } else {
            "model_f64.rs"
        }
    }

    /// What `PROVENANCE_F64` adds for the file of each arithmetic.
    fn arithmetic() -> &'static str {
        if static_rnn::fuses_multiply_adds() {
            "Trained with fused multiply-adds (`fuses_multiply_adds()`: the `fma` feature, x86-64 with FMA);
regenerate with --features fma on such a CPU. model_f64.rs is the same model unfused."
        } else {
            "Trained with separate multiplies and adds (`fuses_multiply_adds()` false: every build without
`fma`). model_f64_fused.rs is the same model trained with `fma`."
        }
    }

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/exported")
            .join(name)
    }

    /// The exporter's output today equals the checked-in files that the tests above compile (for
    /// `model_f64`, the file of this build's arithmetic), so the two cannot drift apart. With
    /// `STATIC_RNN_REGENERATE` set, rewrites them first.
    #[test]
    fn exporter_output_matches_the_checked_in_files() {
        let sources = [
            (
                "model_f32.rs",
                model_f32().to_rust_source("MODEL", PROVENANCE_F32),
            ),
            (
                exported_f64_file(),
                model_f64().to_rust_source("MODEL", &format!("{PROVENANCE_F64}\n{}", arithmetic())),
            ),
        ];
        for (name, source) in sources {
            let path = fixture(name);
            if std::env::var_os("STATIC_RNN_REGENERATE").is_some() {
                std::fs::write(&path, &source).expect("write the fixture");
            }
            let checked_in = std::fs::read_to_string(&path).expect("read the fixture");
            assert!(
                source == checked_in,
                "{name} is stale: regenerate it with STATIC_RNN_REGENERATE=1 cargo test --test export"
            );
        }
    }

    #[test]
    fn the_header_states_provenance_and_types_by_full_path() {
        let source = model_f64().to_rust_source("TRAINED", "line one\n\nline three");
        let version = env!("CARGO_PKG_VERSION");
        assert!(source.starts_with(&format!("// Generated by static-rnn {version} ")));
        assert!(source.contains("\n// line one\n//\n// line three\n"));
        assert!(source.contains(
            "pub const TRAINED: static_rnn::Rnn<2, 4, 1, static_rnn::Relu, static_rnn::Identity, f64> ="
        ));
        assert!(source.contains(&format!("{} parameters", ModelF64::PARAMETERS)));
        // One bit-pattern literal per parameter.
        assert_eq!(
            source.matches("f64::from_bits(0x").count(),
            ModelF64::PARAMETERS
        );
    }

    #[test]
    fn scalars_are_written_as_their_ieee_754_bit_patterns() {
        // The IEEE 754 encodings, by hand: sign | exponent | fraction.
        assert_eq!(1.0_f32.bits_expression(), "f32::from_bits(0x3f800000)");
        assert_eq!((-0.0_f32).bits_expression(), "f32::from_bits(0x80000000)");
        assert_eq!(
            f32::INFINITY.bits_expression(),
            "f32::from_bits(0x7f800000)"
        );
        assert_eq!(
            f32::from_bits(1).bits_expression(),
            "f32::from_bits(0x00000001)"
        );
        assert_eq!(
            (-2.0_f64).bits_expression(),
            "f64::from_bits(0xc000000000000000)"
        );
        assert_eq!(
            f64::NEG_INFINITY.bits_expression(),
            "f64::from_bits(0xfff0000000000000)"
        );
    }

    #[test]
    #[should_panic(expected = "must be a Rust identifier")]
    fn a_name_that_is_not_an_identifier_is_refused() {
        let _ = model_f64().to_rust_source("1MODEL", "");
    }

    #[test]
    #[should_panic(expected = "must be a Rust identifier")]
    fn a_name_with_spaces_is_refused() {
        let _ = model_f64().to_rust_source("MY MODEL", "");
    }
}
